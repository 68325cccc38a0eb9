"""Seeded generator of the SYNTHETIC sample: survey waves, a policy audit and a codebook.

The same seed and arguments give byte-identical files. Nothing here is real: names, e-mail
addresses, IP addresses (RFC 5737 documentation ranges) and locations are invented.

The model behind the answers (so that the pipeline's statistics have something to find):
    answer = base + domain effect + organisation effect + wave improvement
             + respondent general factor + respondent x domain factor + item noise
rounded to the 1-5 agreement scale; reverse-coded items are stored flipped. Items of one domain
share the respondent factors, which gives Cronbach's alpha of roughly 0.7-0.9 per domain.
"""

from __future__ import annotations

import csv
import io
import json
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from tipipeline.files import file_sha256
from tipipeline.ingest.codebook import Codebook, load_codebook
from tipipeline.reference import Reference, load_reference
from tipipeline.sample.workbooks import write_xlsx

CODEBOOK_TEMPLATE = Path(__file__).with_name("codebook.yaml")
DEFAULT_SEED = 20240304
DEFAULT_RESPONSES = 3000

# Wave ids and the survey tool each wave was run in; waves past the list continue the pattern.
WAVE_YEARS = (2024, 2025, 2026, 2027, 2028, 2029, 2030, 2031)
QUALTRICS, FORMS = "qualtrics_modern_csv", "microsoft_forms_xlsx"

# Organisations that get fewer than 10 respondents whatever the wave size (disclosure control
# needs small cells to act on). org_id -> respondents per wave.
# Wave 1 has three small councils, so each suppressed cell has suppressed siblings; wave 2 only
# one, so disclosure control must suppress a second council to protect it (secondary suppression).
SMALL_ORGANISATIONS = {"E09000001": (6, 7), "E09000021": (8, None), "E09000029": (9, None)}
# A small Basic Command Unit: MPS respondents in it, per wave (its boroughs: Camden, Islington).
SMALL_BCU = ("CN", 7)


def small_organisations(wave_index: int) -> dict[str, int]:
    """org_id -> respondents for the organisations kept small in this wave."""
    return {
        org: sizes[min(wave_index, len(sizes) - 1)]
        for org, sizes in SMALL_ORGANISATIONS.items()
        if sizes[min(wave_index, len(sizes) - 1)] is not None
    }


# Mean shift of each domain on the 1-5 scale: some domains are further along than others.
DOMAIN_EFFECTS = {
    "governance_leadership": 0.15,
    "policy": 0.05,
    "environment": 0.10,
    "engagement_lived_experience": -0.35,
    "cross_sector_collaboration": 0.20,
    "screening_assessment": 0.30,
    "training_workforce": 0.25,
    "staff_wellbeing": -0.10,
    "monitoring_quality": -0.25,
    "funding_commissioning": -0.45,
    "evaluation": -0.40,
}
SECTOR_EFFECTS = {"council": 0.0, "police": -0.15, "health": 0.10}

ROLES = [
    ("Frontline practitioner", 0.46),
    ("Team leader or supervisor", 0.18),
    ("Manager", 0.14),
    ("Senior leader", 0.06),
    ("Support or administrative", 0.12),
    ("Other", 0.04),
]
SERVICE_AREAS = {
    "council": [
        "Children's social care",
        "Adult social care",
        "Youth services",
        "Housing",
        "Community safety",
        "Education",
        "Public health",
    ],
    "police": ["Response", "Neighbourhood policing", "Safeguarding", "Investigation", "Custody"],
    "health": ["Commissioning", "Mental health", "Primary care", "Urgent and emergency care", "Safeguarding"],
}
PRACTICE_EXAMPLES = [
    "We redesigned our reception area with young people who use the service.",
    "Reflective practice groups every month for all frontline staff.",
    "A single assessment shared with partners so people tell their story once.",
    "Lived-experience advisers sit on our commissioning panel.",
    "Trauma-informed letters: we rewrote our standard letters in plain, non-threatening language.",
    "Custody staff offer a choice of female or male officer for searches where possible.",
    "Debriefs after critical incidents with access to clinical supervision.",
    "Joint training with the local police and health partners on adverse childhood experiences.",
]
FIRST_NAMES = [
    "Alex",
    "Sam",
    "Jordan",
    "Priya",
    "Kwame",
    "Aisha",
    "Tom",
    "Chloe",
    "Mohammed",
    "Grace",
    "Oluwaseun",
    "Zofia",
    "Daniel",
    "Fatima",
    "Liam",
    "Mei",
    "Hannah",
    "Tariq",
    "Ella",
    "Ravi",
]
LAST_NAMES = [
    "Smith",
    "Okafor",
    "Patel",
    "Jones",
    "Nowak",
    "Ahmed",
    "Williams",
    "Chen",
    "Brown",
    "Mensah",
    "Khan",
    "Taylor",
    "Murphy",
    "Singh",
    "Evans",
    "Ali",
    "Walker",
    "Hughes",
    "Kowalski",
    "Adeyemi",
]

AUDIT_COLUMNS = ["Organisation", "Document title", "Document type", "Year", "URL", "Coder"]
PRINCIPLE_HEADERS = {
    "safety": "Safety",
    "trustworthiness": "Trustworthiness",
    "choice": "Choice",
    "collaboration": "Collaboration",
    "empowerment": "Empowerment",
    "cultural_consideration": "Cultural consideration",
}
DOCUMENT_TYPES = ["Strategy", "Policy", "Procedure", "Plan", "Guidance", "Framework"]
DOCUMENT_TOPICS = [
    "Safeguarding adults",
    "Safeguarding children",
    "Workforce wellbeing",
    "Violence reduction",
    "Domestic abuse",
    "Mental health crisis",
    "Complaints",
    "Equality and inclusion",
    "Commissioning",
    "Youth justice",
    "Victim care",
    "Supervision",
]
CODERS = ["Coder A", "Coder B", "Coder C"]

# A fixed instant for file metadata (XLSX properties, zip entries) so bytes never depend on "now".


@dataclass(frozen=True)
class WavePlan:
    wave_id: str
    tool: str
    start: pd.Timestamp
    index: int


def wave_plans(waves: int) -> list[WavePlan]:
    """Wave ids and survey tools: 2024-w1 in Qualtrics, 2025-w2 in Microsoft Forms, alternating."""
    if not 1 <= waves <= len(WAVE_YEARS):
        raise ValueError(f"waves must be between 1 and {len(WAVE_YEARS)}")
    return [
        WavePlan(
            wave_id=f"{WAVE_YEARS[i]}-w{i + 1}",
            tool=QUALTRICS if i % 2 == 0 else FORMS,
            start=pd.Timestamp(f"{WAVE_YEARS[i]}-03-04 08:00:00"),
            index=i,
        )
        for i in range(waves)
    ]


def generate_sample(
    out_dir: str | Path,
    seed: int = DEFAULT_SEED,
    responses: int = DEFAULT_RESPONSES,
    waves: int = 2,
) -> dict:
    """Write the synthetic sample under `out_dir` (the `raw/` folder) and return its manifest."""
    out = Path(out_dir)
    if responses < 200:
        raise ValueError("responses must be at least 200 per wave (the dirty rows and small organisations need room)")
    reference = load_reference()
    codebook = load_codebook(CODEBOOK_TEMPLATE)
    rng = np.random.default_rng(seed)
    organisations = reference.organisations.reset_index(drop=True)
    org_effect = dict(zip(organisations["org_id"], rng.normal(0.0, 0.35, len(organisations))))
    org_improvement = dict(zip(organisations["org_id"], rng.normal(0.12, 0.08, len(organisations))))

    surveys = out / "surveys"
    surveys.mkdir(parents=True, exist_ok=True)
    (surveys / "codebook.yaml").write_bytes(CODEBOOK_TEMPLATE.read_bytes())
    manifest: dict = {
        "synthetic": True,
        "generator": "tipipeline sample",
        "seed": seed,
        "responses_per_wave": responses,
        "waves": [],
        "dirty_rows": [],
        "files": {},
    }
    for plan in wave_plans(waves):
        frame = _simulate_wave(rng, plan, reference, codebook, responses, org_effect, org_improvement)
        frame, dirty = _add_dirty_rows(rng, frame, plan, codebook)
        frame = frame.sort_values(["_submitted", "_order"], kind="stable").reset_index(drop=True)
        folder = surveys / plan.wave_id
        folder.mkdir(parents=True, exist_ok=True)
        if plan.tool == QUALTRICS:
            path = folder / f"staff_survey_{plan.wave_id}_qualtrics.csv"
            first_data_row = 4  # three header rows
            _write_qualtrics_modern(frame, path, codebook)
        else:
            path = folder / f"staff_survey_{plan.wave_id}_forms.xlsx"
            first_data_row = 2  # one header row
            _write_forms_xlsx(frame, path, codebook, plan.wave_id)
        rows = {rid: i + first_data_row for i, rid in enumerate(frame["_response_id"])}
        for entry in dirty:
            entry["file"] = str(path.relative_to(out))
            entry["row"] = rows[entry.pop("_key")]
        manifest["dirty_rows"].extend(sorted(dirty, key=lambda e: e["row"]))
        manifest["waves"].append(
            {"wave": plan.wave_id, "tool": plan.tool, "file": str(path.relative_to(out)), "rows": len(frame)}
        )

    audit_dir = out / "policy_audit"
    audit_dir.mkdir(parents=True, exist_ok=True)
    audit, audit_dirty = _simulate_policy_audit(rng, reference, org_effect)
    audit_path = audit_dir / "policy_audit_2024.xlsx"
    write_xlsx({"Audit": audit}, audit_path)
    for entry in audit_dirty:
        entry["file"] = str(audit_path.relative_to(out))
    manifest["dirty_rows"].extend(audit_dirty)
    manifest["policy_audit"] = _audit_summary(audit)

    # Outcome files (issue 13), from their own stream so the files above do not depend on them.
    from tipipeline.sample.outcomes import OUTCOMES_STREAM, sample_timing, write_outcome_sample

    months, mid_year = sample_timing([plan.start for plan in wave_plans(waves)])
    outcome_rng = np.random.default_rng([seed, OUTCOMES_STREAM])
    manifest["outcomes"] = write_outcome_sample(out / "outcomes", outcome_rng, reference, months, mid_year, org_effect)

    # The definition panel (issue 15), from its own stream.
    from tipipeline.sample.consensus import write_definition_sample

    manifest["definition"] = write_definition_sample(out, seed)

    # The practice library (issue 16): written out entry by entry, no random stream.
    from tipipeline.sample.practice import write_practice_sample

    manifest["practice"] = write_practice_sample(out)

    # Workforce figures (issue 30), from their own stream.
    from tipipeline.sample.workforce import write_workforce_sample

    manifest["workforce"] = write_workforce_sample(out, seed)
    manifest["dirty_rows"].extend(manifest["workforce"]["dirty_rows"])

    for path in sorted(
        p for p in out.rglob("*") if p.is_file() and p.name not in ("README.md", "sample_manifest.json")
    ):
        manifest["files"][str(path.relative_to(out))] = file_sha256(path)
    (out / "sample_manifest.json").write_text(
        json.dumps(manifest, indent=2, ensure_ascii=False) + "\n", encoding="utf-8"
    )
    (out / "README.md").write_text(_readme(manifest), encoding="utf-8")
    return manifest


# --- survey simulation ---------------------------------------------------------------------


def _allocate(rng: np.random.Generator, organisations: pd.DataFrame, n: int, wave_index: int) -> list[str]:
    """Respondents' organisations: small organisations fixed, the rest by sector weights."""
    small = small_organisations(wave_index)
    weights = []
    for row in organisations.itertuples():
        base = {"council": 0.70 / 33, "police": 0.15, "health": 0.03}[row.sector]
        weights.append(0.0 if row.org_id in small else base * float(rng.lognormal(0.0, 0.25)))
    weights = np.asarray(weights) / np.sum(weights)
    counts = rng.multinomial(n - sum(small.values()), weights)
    allocation: list[str] = []
    for org_id, count in zip(organisations["org_id"], counts):
        allocation.extend([org_id] * int(small.get(org_id, count)))
    return allocation


def _simulate_wave(rng, plan, reference: Reference, codebook: Codebook, n, org_effect, org_improvement) -> pd.DataFrame:
    organisations = reference.organisations.set_index("org_id")
    boroughs = reference.boroughs_at()
    bcu_names = dict(zip(reference.bcus["bcu_code"], reference.bcus["name"]))
    borough_names = dict(zip(boroughs["gss_code"], boroughs["name"]))
    policed = boroughs[boroughs["bcu_code"].notna()]
    by_icb = {icb: list(group["gss_code"]) for icb, group in boroughs.groupby("icb_code")}
    agreement = codebook.scales["agreement"]
    label_for = {int(v): k for k, v in agreement.values.items()}
    items = codebook.items

    orgs = _allocate(rng, reference.organisations, n, plan.index)
    small_bcu_left = SMALL_BCU[1]
    large_policed = policed[policed["bcu_code"] != SMALL_BCU[0]]
    small_policed = policed[policed["bcu_code"] == SMALL_BCU[0]]
    records = []
    for k, org_id in enumerate(orgs):
        org = organisations.loc[org_id]
        sector = org["sector"]
        rec: dict = {"_org_id": org_id, "organisation": org["name"], "bcu": ""}
        if sector == "council":
            rec["borough"] = borough_names[org_id]
        elif sector == "police":
            if small_bcu_left > 0:
                pick = small_policed.iloc[int(rng.integers(len(small_policed)))]
                small_bcu_left -= 1
            else:
                pick = large_policed.iloc[int(rng.integers(len(large_policed)))]
            rec["bcu"] = bcu_names[pick["bcu_code"]]
            # Officers often leave the borough blank and answer the BCU only.
            rec["borough"] = "" if rng.random() < 0.25 else pick["name"]
        else:
            members = by_icb[org_id]
            rec["borough"] = borough_names[members[int(rng.integers(len(members)))]]
        rec["role"] = _choice(rng, [r for r, _ in ROLES], [w for _, w in ROLES])
        rec["service_area"] = SERVICE_AREAS[sector][int(rng.integers(len(SERVICE_AREAS[sector])))]
        level = 3.05 + SECTOR_EFFECTS[sector] + org_effect[org_id] + plan.index * org_improvement[org_id]
        general = rng.normal(0.0, 0.45)
        domain_factor = {d: rng.normal(0.0, 0.45) for d in DOMAIN_EFFECTS}
        for item in items:
            latent = level + DOMAIN_EFFECTS[item.domain] + general + domain_factor[item.domain]
            noise_sd = 0.75 if item.reverse else 0.6
            value = int(np.clip(np.rint(latent + rng.normal(0.0, noise_sd)), 1, 5))
            if item.reverse:
                value = 6 - value
            u = rng.random()
            if u < 0.025:
                rec[item.id] = "Don't know"
            elif u < 0.033:
                rec[item.id] = "Prefer not to say"
            elif u < 0.040:
                rec[item.id] = ""
            else:
                rec[item.id] = label_for[value]
        p_training = 1 / (1 + np.exp(-(-0.4 + 1.2 * org_effect[org_id] + 0.35 * plan.index)))
        rec["ti_training_12m"] = "Yes" if rng.random() < p_training else "No"
        willing = rng.random() < 0.28
        rec["willing_to_share"] = "Yes" if willing else "No"
        has_example = willing and rng.random() < 0.4
        rec["practice_example"] = PRACTICE_EXAMPLES[int(rng.integers(len(PRACTICE_EXAMPLES)))] if has_example else ""
        rec["consent"] = "Yes"
        rec["_status"] = "IP Address"
        rec["_progress"] = 100
        rec["_finished"] = True
        start = plan.start + pd.Timedelta(seconds=int(rng.integers(0, 52 * 24 * 3600)))
        rec["_started"] = start
        rec["_submitted"] = start + pd.Timedelta(seconds=int(rng.integers(240, 1800)))
        rec["_order"] = k
        rec["_response_id"] = _response_id(rng)
        first, last = FIRST_NAMES[int(rng.integers(20))], LAST_NAMES[int(rng.integers(20))]
        rec["_first"], rec["_last"] = first, last
        rec["_email"] = f"{first.lower()}.{last.lower()}.{k:05d}@example.org"
        rec["_ip"] = _documentation_ip(rng)
        rec["_lat"] = round(float(rng.uniform(51.30, 51.68)), 6)
        rec["_lon"] = round(float(rng.uniform(-0.50, 0.30)), 6)
        records.append(rec)
    return pd.DataFrame(records)


def _choice(rng, options, weights):
    weights = np.asarray(weights, dtype=float)
    return options[int(rng.choice(len(options), p=weights / weights.sum()))]


def _response_id(rng) -> str:
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
    return "R_" + "".join(alphabet[i] for i in rng.integers(0, len(alphabet), 15))


def _documentation_ip(rng) -> str:
    prefix = ["192.0.2", "198.51.100", "203.0.113"][int(rng.integers(3))]
    return f"{prefix}.{int(rng.integers(1, 255))}"


def _add_dirty_rows(rng, frame: pd.DataFrame, plan: WavePlan, codebook: Codebook):
    """Append the deliberate dirty rows; return the frame and their manifest entries."""
    dirty: list[dict] = []
    extra: list[dict] = []
    items = [item.id for item in codebook.items]
    wave_columns = codebook.columns_for_wave(plan.wave_id)
    order = len(frame)

    def clone(source, keep_person: bool = False, **changes) -> dict:
        nonlocal order
        rec = source.to_dict()
        rec.update(changes)
        rec["_order"] = order
        order += 1
        if "_response_id" not in changes:
            rec["_response_id"] = _response_id(rng)
        if not keep_person:
            # A different (invented) person, so only the deliberate duplicate shares an e-mail.
            rec["_email"] = f"{rec['_first'].lower()}.{rec['_last'].lower()}.x{order:05d}@example.org"
        return rec

    def note(rec: dict, kind: str, expected: str, detail: str, column: str | None = None) -> None:
        # Name the column as it appears in this wave's export.
        column = wave_columns.get(column, column)
        dirty.append(
            {
                "wave": plan.wave_id,
                "kind": kind,
                "expected": expected,
                "detail": detail,
                "column": column,
                "_key": rec["_response_id"],
            }
        )

    donors = frame.sample(n=20, random_state=np.random.RandomState(int(rng.integers(2**31)))).reset_index(drop=True)
    if plan.tool == QUALTRICS:
        for i, (status, kind) in enumerate(
            [
                ("Survey Preview", "survey_preview"),
                ("Survey Preview", "survey_preview"),
                ("Survey Test", "survey_test"),
                ("Survey Test", "survey_test"),
                ("Spam", "spam"),
            ]
        ):
            rec = clone(donors.iloc[i], _status=status)
            extra.append(rec)
            note(rec, kind, "excluded", f"Status = {status}", "Status")
        for i, progress in enumerate([35, 60, 85]):
            rec = clone(donors.iloc[5 + i], _progress=progress, _finished=False)
            cut = int(len(items) * progress / 100)
            for item_id in items[cut:]:
                rec[item_id] = ""
            rec["ti_training_12m"] = rec["willing_to_share"] = rec["practice_example"] = ""
            extra.append(rec)
            note(rec, "partial_response", "excluded", f"Finished = False, Progress = {progress}", "Progress")

    # A duplicate submission: the same person (same e-mail) submits again a day later.
    original = donors.iloc[8]
    frame_index = frame.index[frame["_response_id"] == original["_response_id"]][0]
    later = clone(
        original,
        keep_person=True,
        _submitted=original["_submitted"] + pd.Timedelta(days=1),
        _started=original["_started"] + pd.Timedelta(days=1),
    )
    extra.append(later)
    note(
        frame.loc[frame_index].to_dict(),
        "duplicate_submission",
        "excluded",
        "earlier of two submissions with the same e-mail address; the later one is kept",
        "duplicate_key",
    )
    note(later, "duplicate_submission_kept", "accepted", "later of two submissions with the same e-mail address")

    aliases = [
        ("E09000012", "LB Hackney"),
        ("E09000020", "Kensington & Chelsea"),
        ("E23000001", "Met Police"),
        ("E54000029", "NHS North East London"),
        ("E09000027", "Richmond"),
    ]
    for i, (org_id, alias) in enumerate(aliases):
        rec = clone(donors.iloc[9 + i], organisation=alias, _org_id=org_id)
        if org_id == "E23000001":
            rec["bcu"], rec["borough"] = "Central East", "Hackney"
        elif org_id.startswith("E09"):
            rec["bcu"] = ""
            rec["borough"] = {"E09000012": "Hackney", "E09000020": "Kensington & Chelsea", "E09000027": "Richmond"}[
                org_id
            ]
        else:
            rec["bcu"], rec["borough"] = "", "Newham"
        extra.append(rec)
        note(
            rec,
            "alias_organisation",
            "accepted",
            f"organisation typed as {alias!r}, resolves through the alias table",
            "organisation",
        )
    for i, misspelt in enumerate(["Hackny Council", "Lamberth"]):
        rec = clone(donors.iloc[14 + i], organisation=misspelt)
        extra.append(rec)
        note(rec, "misspelt_organisation", "quarantined", f"organisation {misspelt!r} does not resolve", "organisation")
    rec = clone(donors.iloc[16], organisation="Transport for London")
    extra.append(rec)
    note(
        rec,
        "unknown_organisation",
        "quarantined",
        "organisation 'Transport for London' is not a Serious Violence Duty partner in scope",
        "organisation",
    )
    item = codebook.items[int(rng.integers(len(codebook.items)))]
    rec = clone(donors.iloc[17], **{item.id: "7"})
    extra.append(rec)
    note(rec, "out_of_range_value", "quarantined", f"item {item.id} answered 7 on the 1-5 agreement scale", item.id)
    rec = clone(donors.iloc[18], consent="No")
    for item_id in items:
        rec[item_id] = ""
    extra.append(rec)
    note(rec, "refused_consent", "excluded", "consent answered 'No'", "consent")
    return pd.concat([frame, pd.DataFrame(extra)], ignore_index=True), dirty


# --- writers -------------------------------------------------------------------------------

QUALTRICS_META = [
    ("StartDate", "Start Date", '{"ImportId":"startDate","timeZone":"Europe/London"}'),
    ("EndDate", "End Date", '{"ImportId":"endDate","timeZone":"Europe/London"}'),
    ("Status", "Response Type", '{"ImportId":"status"}'),
    ("IPAddress", "IP Address", '{"ImportId":"ipAddress"}'),
    ("Progress", "Progress", '{"ImportId":"progress"}'),
    ("Duration (in seconds)", "Duration (in seconds)", '{"ImportId":"duration"}'),
    ("Finished", "Finished", '{"ImportId":"finished"}'),
    ("RecordedDate", "Recorded Date", '{"ImportId":"recordedDate","timeZone":"Europe/London"}'),
    ("ResponseId", "Response ID", '{"ImportId":"_recordId"}'),
    ("RecipientLastName", "Recipient Last Name", '{"ImportId":"recipientLastName"}'),
    ("RecipientFirstName", "Recipient First Name", '{"ImportId":"recipientFirstName"}'),
    ("RecipientEmail", "Recipient Email", '{"ImportId":"recipientEmail"}'),
    ("ExternalReference", "External Data Reference", '{"ImportId":"externalDataReference"}'),
    ("LocationLatitude", "Location Latitude", '{"ImportId":"locationLatitude"}'),
    ("LocationLongitude", "Location Longitude", '{"ImportId":"locationLongitude"}'),
    ("DistributionChannel", "Distribution Channel", '{"ImportId":"distributionChannel"}'),
    ("UserLanguage", "User Language", '{"ImportId":"userLanguage"}'),
]
SURVEY_FIELDS = [
    "consent",
    "organisation",
    "borough",
    "bcu",
    "role",
    "service_area",
    "ti_training_12m",
    "willing_to_share",
    "practice_example",
]


def _qid(column: str, free_text: bool) -> str:
    match = re.fullmatch(r"Q(\d+)(?:_(\d+))?", column)
    qid = f"QID{match.group(1)}" + (f"_{match.group(2)}" if match.group(2) else "") if match else column
    return json.dumps({"ImportId": qid + ("_TEXT" if free_text else "")}, separators=(",", ":"))


def _write_qualtrics_modern(frame: pd.DataFrame, path: Path, codebook: Codebook) -> None:
    """A Qualtrics "modern" CSV export with choice text: UTF-8 with BOM, CRLF, 3 header rows."""
    tags = [m[0] for m in QUALTRICS_META]
    texts = [m[1] for m in QUALTRICS_META]
    imports = [m[2] for m in QUALTRICS_META]
    for name in SURVEY_FIELDS:
        spec = codebook.fields[name]
        tags.append(spec.column)
        texts.append(spec.text or spec.column)
        imports.append(_qid(spec.column, spec.free_text))
    for item in codebook.items:
        tags.append(item.column)
        texts.append(f"To what extent do you agree with the following statements? - {item.text}")
        imports.append(_qid(item.column, False))
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerows([tags, texts, imports])
    for rec in frame.to_dict("records"):
        started, submitted = rec["_started"], rec["_submitted"]
        row = [
            started.strftime("%Y-%m-%d %H:%M:%S"),
            submitted.strftime("%Y-%m-%d %H:%M:%S"),
            rec["_status"],
            rec["_ip"],
            str(rec["_progress"]),
            str(int((submitted - started).total_seconds())),
            "True" if rec["_finished"] else "False",
            submitted.strftime("%Y-%m-%d %H:%M:%S"),
            rec["_response_id"],
            rec["_last"],
            rec["_first"],
            rec["_email"],
            f"EXT-{rec['_order']:06d}",
            f"{rec['_lat']:.6f}",
            f"{rec['_lon']:.6f}",
            "email",
            "EN-GB",
        ]
        row += [rec[name] for name in SURVEY_FIELDS]
        row += [rec[item.id] for item in codebook.items]
        writer.writerow(row)
    path.write_bytes(b"\xef\xbb\xbf" + buffer.getvalue().encode("utf-8"))


def _write_forms_xlsx(frame: pd.DataFrame, path: Path, codebook: Codebook, wave_id: str) -> None:
    """A Microsoft Forms-style XLSX: ID, times, Email, Name, then one column per question text."""
    columns = codebook.columns_for_wave(wave_id)
    out = pd.DataFrame(
        {
            "ID": range(1, len(frame) + 1),
            "Start time": frame["_started"].to_numpy(),
            columns["submitted"]: frame["_submitted"].to_numpy(),
            columns["duplicate_key"]: frame["_email"],
            "Name": frame["_first"] + " " + frame["_last"],
            "Last modified time": None,
        }
    )
    for name in SURVEY_FIELDS:
        out[columns[name]] = frame[name].replace("", None)
    for item in codebook.items:
        values = frame[item.id].replace("", None)
        # An out-of-range answer typed into Forms arrives as a number, not as a label.
        out[columns[item.id]] = [int(v) if isinstance(v, str) and v.isdigit() else v for v in values]
    write_xlsx({"Sheet1": out}, path)


# --- policy audit --------------------------------------------------------------------------


def _simulate_policy_audit(rng, reference: Reference, org_effect) -> tuple[pd.DataFrame, list[dict]]:
    """One row per document x coder; ~20% double-coded, some disagreements settled by consensus."""
    principles = list(PRINCIPLE_HEADERS)
    rows: list[dict] = []
    for org in reference.organisations.itertuples():
        n_docs = int(rng.integers(6, 11))
        strength = 0.9 + 1.6 * org_effect[org.org_id]
        topics = rng.permutation(len(DOCUMENT_TOPICS))[:n_docs]
        slug = re.sub(r"[^a-z0-9]+", "-", org.short_name.lower()).strip("-")
        for t in topics:
            topic = DOCUMENT_TOPICS[int(t)]
            doc_type = DOCUMENT_TYPES[int(rng.integers(len(DOCUMENT_TYPES)))]
            year = int(rng.integers(2019, 2025))
            title = f"{topic} {doc_type.lower()} {year}"
            doc = {
                "Organisation": org.name,
                "Document title": title,
                "Document type": doc_type,
                "Year": year,
                "URL": f"https://example.org/{slug}/{re.sub(r'[^a-z0-9]+', '-', title.lower())}.pdf",
            }
            scores = {}
            for p in principles:
                latent = strength + rng.normal(0.0, 0.8)
                scores[p] = int(np.clip(np.rint(latent), 0, 2))
            first, second = rng.choice(len(CODERS), size=2, replace=False)
            rows.append({**doc, "Coder": CODERS[int(first)], **{PRINCIPLE_HEADERS[p]: scores[p] for p in principles}})
            if rng.random() < 0.2:
                other = {
                    p: (scores[p] if rng.random() > 0.15 else int(np.clip(scores[p] + rng.choice([-1, 1]), 0, 2)))
                    for p in principles
                }
                rows.append(
                    {**doc, "Coder": CODERS[int(second)], **{PRINCIPLE_HEADERS[p]: other[p] for p in principles}}
                )
                if other != scores and rng.random() < 0.6:
                    settled = {p: (scores[p] if rng.random() < 0.5 else other[p]) for p in principles}
                    rows.append({**doc, "Coder": "consensus", **{PRINCIPLE_HEADERS[p]: settled[p] for p in principles}})
    audit = pd.DataFrame(rows, columns=AUDIT_COLUMNS + list(PRINCIPLE_HEADERS.values()))
    dirty = []
    # Deliberate dirty rows, appended so their row numbers are easy to find.
    bad_score = audit.iloc[3].to_dict() | {"Coder": "Coder C", "Choice": 3}
    unknown = audit.iloc[10].to_dict() | {
        "Organisation": "Transport for London",
        "Document title": "Customer safety policy 2023",
    }
    repeated = audit.iloc[20].to_dict()
    alias = audit[audit["Organisation"] == "Metropolitan Police Service"].iloc[0].to_dict() | {
        "Organisation": "Met Police",
        "Document title": "Stop and search community engagement plan 2023",
        "Year": 2023,
    }
    audit = pd.concat([audit, pd.DataFrame([bad_score, unknown, repeated, alias])], ignore_index=True)
    last = len(audit) + 1  # spreadsheet row of the last data row (row 1 is the header)
    dirty += [
        {
            "wave": None,
            "kind": "audit_score_out_of_range",
            "expected": "quarantined",
            "row": last - 3,
            "column": "Choice",
            "detail": "score 3 where only 0, 1 or 2 are allowed",
        },
        {
            "wave": None,
            "kind": "audit_unknown_organisation",
            "expected": "quarantined",
            "row": last - 2,
            "column": "Organisation",
            "detail": "organisation 'Transport for London' does not resolve",
        },
        {
            "wave": None,
            "kind": "audit_repeated_coder_row",
            "expected": "quarantined",
            "row": last - 1,
            "column": "Coder",
            "detail": f"second row for the same document and coder as row {20 + 2}",
        },
        {
            "wave": None,
            "kind": "audit_alias_organisation",
            "expected": "accepted",
            "row": last,
            "column": "Organisation",
            "detail": "organisation typed as 'Met Police', resolves through the alias table",
        },
    ]
    return audit, dirty


def _audit_summary(audit: pd.DataFrame) -> dict:
    keys = ["Organisation", "Document title"]
    coded = audit[audit["Coder"] != "consensus"].groupby(keys)["Coder"].nunique()
    return {
        "rows": int(len(audit)),
        "documents": int(audit.groupby(keys).ngroups),
        "double_coded_documents": int((coded >= 2).sum()),
        "consensus_rows": int((audit["Coder"] == "consensus").sum()),
    }


# --- README --------------------------------------------------------------------------------


def _readme(manifest: dict) -> str:
    from tipipeline.sample.consensus import readme_dirty_rows
    from tipipeline.sample.consensus import readme_lines as definition_readme_lines
    from tipipeline.sample.outcomes import readme_lines, readme_notes
    from tipipeline.sample.practice import readme_dirty_rows as practice_dirty_rows
    from tipipeline.sample.practice import readme_lines as practice_readme_lines
    from tipipeline.sample.workforce import readme_lines as workforce_readme_lines

    lines = [
        "# SYNTHETIC sample data: not real survey responses",
        "",
        "Every file under this folder was written by the project's own seeded generator:",
        "",
        "```",
        f"tipipeline sample --out data/raw --seed {manifest['seed']} --responses {manifest['responses_per_wave']} "
        f"--waves {len(manifest['waves'])}",
        "```",
        "",
        "The same command gives byte-identical files (a test regenerates them and compares bytes).",
        "People, e-mail addresses (`example.org`), IP addresses (RFC 5737 documentation ranges),",
        "locations, organisations' answers and policy documents are all invented. Use this folder to",
        "try the pipeline; keep real data outside the repository (set `TIPIPELINE_DATA_DIR`).",
        "",
        "## Files",
        "",
        "| file | what it is | data rows |",
        "|---|---|---|",
    ]
    for wave in manifest["waves"]:
        kind = (
            "Qualtrics modern CSV export, choice text, UTF-8 with BOM, CRLF"
            if wave["tool"] == QUALTRICS
            else "Microsoft Forms-style XLSX export, one column per question"
        )
        lines.append(f"| `{wave['file']}` | wave {wave['wave']}: {kind} | {wave['rows']} |")
    audit = manifest["policy_audit"]
    lines.append(
        f"| `policy_audit/policy_audit_2024.xlsx` | policy-document audit, one row per document x coder: "
        f"{audit['documents']} documents, {audit['double_coded_documents']} double-coded, "
        f"{audit['consensus_rows']} consensus rows | {audit['rows']} |"
    )
    lines.append("| `surveys/codebook.yaml` | the instrument: columns to fields and items, scales, exclusion rules | |")
    lines += readme_lines(manifest["outcomes"])
    lines += definition_readme_lines(manifest["definition"])
    lines += practice_readme_lines(manifest["practice"])
    lines += workforce_readme_lines(manifest["workforce"])
    lines.append("| `sample_manifest.json` | machine-readable list of the files (sha256) and the dirty rows below | |")
    lines += [
        "",
        "## Deliberately dirty rows",
        "",
        "Row numbers are the rows a spreadsheet shows, header rows included: in the Qualtrics CSV the",
        "responses start at row 4 (after three header rows), in the XLSX files at row 2.",
        "",
        "| file | row | kind | column | what is wrong | expected fate |",
        "|---|---|---|---|---|---|",
    ]
    for entry in manifest["dirty_rows"]:
        lines.append(
            f"| `{entry['file']}` | {entry['row']} | {entry['kind']} | {entry['column'] or ''} | "
            f"{entry['detail']} | {entry['expected']} |"
        )
    lines += [
        "",
        "Small cells, to exercise disclosure control: in wave 1 three councils have fewer than 10",
        "respondents (" + ", ".join(sorted(SMALL_ORGANISATIONS)) + "); in wave 2 only the first, so that secondary",
        f"suppression must protect it; in every wave the MPS Basic Command Unit {SMALL_BCU[0]} has {SMALL_BCU[1]} respondents.",
        "",
        *readme_notes(manifest["outcomes"]),
        *readme_dirty_rows(manifest["definition"]),
        *practice_dirty_rows(manifest["practice"]),
    ]
    return "\n".join(lines)
