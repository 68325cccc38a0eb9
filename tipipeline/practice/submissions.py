"""Practice-library submissions and their reviews -> screened staging rows. Every raw row is
accounted for: accepted, quarantined with a reason, or excluded by a documented rule.

Inputs (`data/raw/practice/`): `submissions/` holds the form's exports in any format the survey
readers take (Qualtrics CSV in every layout, Microsoft Forms XLSX, one-header CSV); `reviews.csv`
(or `.xlsx`) holds the reviewers' decisions, one row per decision. Only the form's fields
(library.yaml) are read: a respondent's e-mail, name or IP address in an export is never selected.

Submission rows, in order: `blank_row`, `non_genuine_status` and `partial_response` (Qualtrics' own
columns, as for the staff survey) are excluded; then a row is quarantined when its response id is
missing or repeated, a required answer is missing, its organisation, a principle, a domain or a
borough does not resolve, or its consent answer is neither yes nor no. Free text is screened for
personal data (tipipeline.practice.screen) before it is stored: a field with an uncleared finding is
stored as a notice saying what kind of data was found, never the text.

Review rows are quarantined when the submission is unknown, the state or evidence level is not in
library.yaml, the date is not a date, or a `published` decision has no evidence level or reason.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from tipipeline import registry
from tipipeline.errors import InputError
from tipipeline.files import EXPORT_SUFFIXES, file_sha256
from tipipeline.framework import Framework
from tipipeline.ingest.exports import read_export
from tipipeline.ingest.ledger import RowLedger
from tipipeline.ingest.raw_export import RawExport, csv_delimiter, csv_records
from tipipeline.ingest.surveys import apply_format_rules, local_times, normalise_label, reader_findings
from tipipeline.practice.config import LibraryConfig
from tipipeline.practice.screen import PiiScreen, describe, held_back, screen_for
from tipipeline.reference import AliasResolver, Reference

SUBMISSIONS_FOLDER = "submissions"
REVIEW_STEMS = ("reviews",)
POLICE_ORG = "E23000001"
HELD_BACK = "[held back for review: it may contain personal data ({kinds})]"
REDACTED = "[not stored: it may identify a person]"
SUBMISSION_COLUMNS = registry.table("stg_practice_submissions").names
REVIEW_COLUMNS = registry.table("practice_reviews").names
ISSUE_COLUMNS = registry.table("practice_quarantine").names
EXCLUSION_COLUMNS = registry.table("practice_exclusions").names
QUALITY_COLUMNS = registry.table("practice_data_quality").names


@dataclass
class PracticeInputs:
    """Everything read from the practice folder, ready for the warehouse."""

    submissions: pd.DataFrame
    reviews: pd.DataFrame
    quarantine: pd.DataFrame
    exclusions: pd.DataFrame
    data_quality: pd.DataFrame
    files: list[Path] = field(default_factory=list)


@dataclass
class _Context:
    config: LibraryConfig
    framework: Framework
    reference: Reference
    resolver: AliasResolver
    screen: PiiScreen


def submission_files(folder: Path) -> list[Path]:
    """The form exports in `submissions/`, in name order (temporary and hidden files skipped)."""
    folder = folder / SUBMISSIONS_FOLDER
    if not folder.is_dir():
        return []
    return sorted(
        p
        for p in folder.iterdir()
        if p.is_file() and p.suffix.lower() in EXPORT_SUFFIXES and not p.name.startswith(("~$", "."))
    )


def find_reviews_file(folder: Path) -> Path | None:
    """The one reviews file (None when there is none yet: every submission is then `submitted`)."""
    found = sorted(
        p for p in folder.iterdir() if p.stem.casefold() in REVIEW_STEMS and p.suffix.lower() in EXPORT_SUFFIXES
    )
    if len(found) > 1:
        raise InputError(folder, f"{len(found)} reviews files ({', '.join(p.name for p in found)}): expected one")
    return found[0] if found else None


def form_columns(raw: RawExport, config: LibraryConfig, path: Path) -> dict[str, str]:
    """Form field -> the export's column (InputError naming the file when a required one is missing)."""
    by_label: dict[str, str] = {}
    for column in raw.columns:
        by_label.setdefault(normalise_label(column), column)
        question = raw.question_text.get(column)
        if question:
            by_label.setdefault(normalise_label(question), column)
    found: dict[str, str] = {}
    for name, spec in config.form.items():
        column = next((by_label[normalise_label(c)] for c in spec.columns if normalise_label(c) in by_label), None)
        if column is not None:
            found[name] = column
        elif spec.required:
            raise InputError(
                path, f"no column for the form's {name!r} field (looked for: {', '.join(spec.columns)})", column=None
            )
    return found


def _choices(text: str, separators: list[str]) -> list[str]:
    for separator in separators[1:]:
        text = text.replace(separator, separators[0])
    return [part.strip() for part in text.split(separators[0]) if part.strip()]


def _resolve_choices(text: str, known: dict[str, str], separators: list[str]) -> tuple[list[str], list[str]]:
    """(resolved ids in the framework's order, choices that do not resolve); matched by id or name."""
    wanted, unknown = set(), []
    for choice in _choices(text, separators):
        key = normalise_label(choice)
        if key in known:
            wanted.add(known[key])
        else:
            unknown.append(choice)
    order = list(dict.fromkeys(known.values()))
    return [i for i in order if i in wanted], unknown


def _framework_choices(items) -> dict[str, str]:
    choices: dict[str, str] = {}
    for item in items:
        choices[normalise_label(item.id)] = item.id
        choices[normalise_label(item.id.replace("_", " "))] = item.id
        choices[normalise_label(item.name)] = item.id
    return choices


def _organisation(ctx: _Context, text: str) -> tuple[str, str | None] | None:
    """(org_id, bcu_code) for an organisation's name, an MPS BCU's name, or None."""
    org = ctx.resolver.resolve("organisation", text)
    if org is not None:
        return org, None
    bcu = ctx.resolver.resolve("bcu", text)
    return (POLICE_ORG, bcu) if bcu is not None else None


def organisation_area(reference: Reference, org_id: str, bcu_code: str | None) -> tuple[str, list[str]]:
    """Where an organisation works, in words, and the boroughs it covers: a council its borough,
    an ICB its boroughs, a BCU its boroughs, the Metropolitan Police the 32 boroughs it polices."""
    boroughs = reference.boroughs_at()
    org = reference.organisations.set_index("org_id").loc[org_id]
    if bcu_code is not None:
        name = reference.bcus.set_index("bcu_code").loc[bcu_code, "name"]
        return f"{name} BCU", sorted(boroughs.loc[boroughs["bcu_code"] == bcu_code, "gss_code"])
    if org["sector"] == "council":
        return org["short_name"], [org["area_code"]]
    if org["sector"] == "health":
        return f"{org['short_name']} area", sorted(boroughs.loc[boroughs["icb_code"] == org_id, "gss_code"])
    return "London-wide", sorted(boroughs.loc[boroughs["bcu_code"].notna(), "gss_code"])


def _text(raw: RawExport, columns: dict[str, str], name: str) -> pd.Series:
    if name not in columns:
        return pd.Series("", index=raw.data.index, dtype=object)
    return raw.data[columns[name]].astype(object).fillna("").astype(str).str.strip()


def _redact_quarantine(frame: pd.DataFrame, screen: PiiScreen) -> pd.DataFrame:
    """Neither a quarantined value nor a reason that quotes one is stored when the screen finds
    personal data in it."""
    return frame.assign(
        value=frame["value"].map(lambda v: REDACTED if screen.findings(str(v)) else v),
        reason=frame["reason"].map(lambda r: r.split(":")[0] + ": " + REDACTED if screen.findings(str(r)) else r),
    )


def read_submission_file(path: Path, ctx: _Context, cleared: dict[str, set[str]]) -> tuple[pd.DataFrame, ...]:
    """(accepted rows, quarantine, exclusions, data-quality row) of one form export. `cleared`:
    submission id -> words reviewers confirmed are not personal data."""
    raw = read_export(path)
    columns = form_columns(raw, ctx.config, path)
    ledger = RowLedger(raw, "submissions")
    apply_format_rules(raw, ledger, None)
    values = {name: _text(raw, columns, name) for name in ctx.config.form}

    def quarantine(mask, name: str, reason, show_value: bool = True) -> None:
        ledger.quarantine(mask, columns.get(name), values[name] if show_value else None, reason)

    ids = values["response_id"]
    if not raw.format.startswith("qualtrics"):
        # Forms and most tools number responses 1, 2, ... in each form: the file names the form.
        ids = ids.where(ids == "", path.stem + ":" + ids)
        values["response_id"] = ids
    quarantine((ids == "").to_numpy(), "response_id", "response id missing", show_value=False)
    for name, spec in ctx.config.form.items():
        if spec.required and name not in ("response_id", "consent"):
            quarantine((values[name] == "").to_numpy(), name, f"{name.replace('_', ' ')} missing", show_value=False)

    organisations = values["organisation"].map(lambda v: _organisation(ctx, v) if v else None)
    unresolved = organisations.isna() & (values["organisation"] != "")

    def unresolved_reason(text: str) -> str:
        suggestions = ctx.resolver.suggest("organisation", text)
        hint = f" (did you mean {', '.join(suggestions)}?)" if suggestions else ""
        return "organisation does not resolve to a Serious Violence Duty partner or an MPS BCU" + hint

    reasons = values["organisation"].map(unresolved_reason)
    quarantine(unresolved.to_numpy(), "organisation", reasons)

    separators = ctx.config.list_separators
    resolved: dict[str, pd.Series] = {}
    for name, items in (("principles", ctx.framework.principles), ("domains", ctx.framework.domains)):
        parsed = values[name].map(lambda v, items=items: _resolve_choices(v, _framework_choices(items), separators))
        resolved[name] = parsed.map(lambda p: p[0])
        bad = parsed.map(lambda p: bool(p[1])) & (values[name] != "")
        quarantine(bad.to_numpy(), name, parsed.map(lambda p: "not in the framework: " + "; ".join(p[1])))

    borough_lists = values["boroughs"].map(
        lambda v: [ctx.resolver.resolve("borough", b) for b in _choices(v, separators)]
    )
    quarantine(
        borough_lists.map(lambda codes: None in codes).to_numpy(),
        "boroughs",
        "a borough does not resolve to a London borough",
    )

    consent = values["consent"].str.casefold()
    yes = consent.isin([v.casefold() for v in ctx.config.consent_yes])
    no = consent.isin([v.casefold() for v in ctx.config.consent_no])
    quarantine((~yes & ~no).to_numpy(), "consent", "consent to publish is not answered yes or no")

    repeated = ids.duplicated(keep=False) & (ids != "")
    quarantine(repeated.to_numpy(), "response_id", "the same response id appears on more than one row")

    accepted = ledger.open
    rows = []
    for i in map(int, accepted.nonzero()[0]):
        org_id, bcu_code = organisations.iloc[i]
        area, area_boroughs = organisation_area(ctx.reference, org_id, bcu_code)
        named_boroughs = sorted(set(borough_lists.iloc[i]))
        submission_id = ids.iloc[i]
        texts, findings = {}, []
        for name in ctx.config.free_text:
            # The contact role is a job title by design ("Contact Centre Manager"): no cue words there.
            text = values[name].iloc[i]
            found = held_back(ctx.screen.findings(text, cues=name != "contact_role"), cleared.get(submission_id, set()))
            findings += found
            texts[name] = HELD_BACK.format(kinds=describe(found)) if found else values[name].iloc[i]
        org = ctx.reference.organisations.set_index("org_id").loc[org_id]
        rows.append(
            {
                "submission_id": submission_id,
                "source_file": path.name,
                "source_row": int(ledger.rows[i]),
                "title": texts["title"],
                "org_id": org_id,
                "organisation": org["name"],
                "sector": org["sector"],
                "bcu_code": bcu_code,
                "area": ", ".join(_borough_names(ctx.reference, named_boroughs)) if named_boroughs else area,
                "borough_codes": json.dumps(named_boroughs or area_boroughs),
                "service_area": texts["service_area"],
                "principles": json.dumps(resolved["principles"].iloc[i]),
                "domains": json.dumps(resolved["domains"].iloc[i]),
                "what_it_does": texts["what_it_does"],
                "who_it_is_for": texts["who_it_is_for"],
                "evidence_of_effect": texts["evidence_of_effect"],
                "contact_role": texts["contact_role"],
                "consent": bool(yes.iloc[i]),
                "pii_findings": describe(findings),
                "review_quarantined": False,
            }
        )
    submitted = local_times(values["submitted_at"]) if "submitted_at" in columns else None
    frame = pd.DataFrame(rows, columns=[c for c in SUBMISSION_COLUMNS if c != "submitted_at"])
    frame.insert(3, "submitted_at", submitted[accepted].to_numpy() if submitted is not None else pd.NaT)
    malformed, blank = reader_findings(raw, "submissions", path)
    issues = _redact_quarantine(ledger.quarantine_frame(malformed)[ISSUE_COLUMNS], ctx.screen)
    exclusions = ledger.exclusions_frame(blank)[EXCLUSION_COLUMNS]
    return frame, issues, exclusions, _quality("submissions", path, raw, len(frame), issues, exclusions)


def _borough_names(reference: Reference, codes: list[str]) -> list[str]:
    names = reference.boroughs.set_index("gss_code")["name"]
    return [names[c] for c in codes]


def _quality(kind: str, path: Path, raw: RawExport, accepted: int, issues, exclusions) -> pd.DataFrame:
    by_rule = exclusions["rule"].value_counts().sort_index()
    row = {
        "input": kind,
        "source_file": path.name,
        "sha256": raw.sha256,
        "rows_read": raw.rows_read,
        "rows_accepted": accepted,
        "rows_quarantined": issues["source_row"].nunique(),
        "rows_excluded": len(exclusions),
        "excluded_by_rule": json.dumps({str(k): int(v) for k, v in by_rule.items()}, sort_keys=True),
    }
    return pd.DataFrame([row], columns=QUALITY_COLUMNS)


def _cleared_words(reviews: pd.DataFrame) -> dict[str, set[str]]:
    """Submission id -> words reviewers confirmed are not personal data (accepted decisions only)."""
    cleared: dict[str, set[str]] = {}
    for submission, text in zip(reviews["submission_id"], reviews["not_personal_data"].fillna("")):
        cleared.setdefault(submission, set()).update(w.strip() for w in str(text).split(";") if w.strip())
    return cleared


def _find(raw: RawExport, name: str) -> str | None:
    wanted = normalise_label(name.replace("_", " "))
    return next((c for c in raw.columns if normalise_label(c.replace("_", " ")) == wanted), None)


REVIEW_FIELDS = ("submission_id", "state", "reviewer", "reviewed_on", "evidence_level", "evidence_reason")


def read_reviews(
    path: Path, ctx: _Context, known: set[str] | None, cleared: dict[str, set[str]] | None = None
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame, pd.DataFrame, set[str]]:
    """(accepted decisions, quarantine, exclusions, data-quality row, submissions with a decision
    in quarantine) of the reviews file. `known`: the accepted submissions' ids (None: not checked,
    for the first reading, which only collects the words reviewers cleared). The evidence reason
    is published, so it is screened like the submission's own text."""
    try:
        raw = read_export(path)
    except InputError as exc:
        if "no responses" not in exc.message:
            raise
        return _no_reviews(path)
    columns = {name: _find(raw, name) for name in REVIEW_FIELDS}
    if missing := [name for name in REVIEW_FIELDS if columns[name] is None]:
        raise InputError(path, f"no {', '.join(missing)} column (found: {', '.join(raw.columns)})")
    ledger = RowLedger(raw, "reviews")
    text = {
        name: raw.data[column].astype(object).fillna("").astype(str).str.strip() for name, column in columns.items()
    }
    ids, states, levels = text["submission_id"], text["state"].map(normalise_label), text["evidence_level"]
    states = states.str.replace(" ", "_")
    ledger.quarantine((ids == "").to_numpy(), columns["submission_id"], None, "submission id missing")
    ledger.quarantine(
        (~ids.isin(known if known is not None else set(ids)) & (ids != "")).to_numpy(),
        columns["submission_id"],
        ids,
        "no accepted submission has this id (it may be quarantined: see practice_quarantine)",
    )
    ledger.quarantine(
        (~states.isin(ctx.config.review_states)).to_numpy(),
        columns["state"],
        text["state"],
        "state is not one of " + ", ".join(ctx.config.review_states),
    )
    dates = pd.to_datetime(text["reviewed_on"], format="%Y-%m-%d", errors="coerce")
    ledger.quarantine(dates.isna().to_numpy(), columns["reviewed_on"], text["reviewed_on"], "date is not YYYY-MM-DD")
    ledger.quarantine(
        (~levels.isin(ctx.config.level_names) & (levels != "")).to_numpy(),
        columns["evidence_level"],
        levels,
        "evidence level is not one of " + ", ".join(ctx.config.level_names),
    )
    publishing = (states == ctx.config.published_state).to_numpy()
    ledger.quarantine(
        publishing & ((levels == "") | (text["evidence_reason"] == "")).to_numpy(),
        columns["evidence_level"],
        None,
        "a published entry needs its evidence level and the reason for it",
    )
    ledger.quarantine((text["reviewer"] == "").to_numpy(), columns["reviewer"], None, "reviewer missing")
    accepted = ledger.open
    words_column = _find(raw, "not_personal_data")
    words = (
        raw.data[words_column].astype(object).fillna("").astype(str).str.strip()
        if words_column
        else pd.Series("", index=raw.data.index, dtype=object)
    )
    reasons, findings = [], []
    for submission, reason in zip(ids[accepted], text["evidence_reason"][accepted], strict=True):
        found = held_back(ctx.screen.findings(reason), (cleared or {}).get(submission, set()))
        reasons.append(HELD_BACK.format(kinds=describe(found)) if found else reason)
        findings.append(describe(found))
    reviews = pd.DataFrame(
        {
            "submission_id": ids[accepted].to_numpy(),
            "state": states[accepted].to_numpy(),
            "reviewer": text["reviewer"][accepted].to_numpy(),
            "reviewed_on": dates[accepted].to_numpy(),
            "evidence_level": levels[accepted].replace("", None).to_numpy(),
            "evidence_reason": pd.Series(reasons, dtype=object).replace("", None).to_numpy(),
            "not_personal_data": words[accepted].to_numpy(),
            "pii_findings": findings,
            "source_file": path.name,
            "source_row": ledger.rows[accepted],
        },
        columns=REVIEW_COLUMNS,
    )
    # A decision that cannot be read (a withdrawal with a mistyped date) must not leave the
    # decision before it in force: the submission is held until the row is corrected.
    held = set(ids[ledger.quarantined & ids.isin(known or set()).to_numpy()]) | _malformed_ids(raw, known or set())
    malformed, blank = reader_findings(raw, "reviews", path)
    issues = _redact_quarantine(ledger.quarantine_frame(malformed)[ISSUE_COLUMNS], ctx.screen)
    exclusions = ledger.exclusions_frame(blank)[EXCLUSION_COLUMNS]
    return reviews, issues, exclusions, _quality("reviews", path, raw, len(reviews), issues, exclusions), held


def _malformed_ids(raw: RawExport, known: set[str]) -> set[str]:
    """The submissions a malformed review row (one the reader could not split into the header's
    columns) is about, by its first field; every submission when that cannot be told. Such a row
    may be a withdrawal: until it is corrected, nothing it might concern is shown."""
    if not raw.malformed:
        return set()
    if raw.format == "microsoft_forms_xlsx" or raw.path.suffix.lower() not in (".csv", ".tsv", ".txt"):
        return set(known)
    data = raw.path.read_bytes()
    encoding = raw.encoding or "utf-8-sig"
    first_fields = {
        number: (fields[0].strip() if fields else "")
        for number, fields in csv_records(data, encoding, csv_delimiter(data, encoding))
        if number in raw.malformed
    }
    found = {first_fields.get(number, "") for number in raw.malformed}
    return found if found <= known else set(known)


def _no_reviews(path: Path) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame, pd.DataFrame, set[str]]:
    """A reviews file with its header and no decision yet: every submission is `submitted`."""
    quality = pd.DataFrame(
        [["reviews", path.name, file_sha256(path), 0, 0, 0, 0, "{}"]],
        columns=QUALITY_COLUMNS,
    )
    empty = [pd.DataFrame(columns=c) for c in (REVIEW_COLUMNS, ISSUE_COLUMNS, EXCLUSION_COLUMNS)]
    return empty[0], empty[1], empty[2], quality, set()


def read_practice_inputs(
    folder: Path, config: LibraryConfig, framework: Framework, reference: Reference
) -> PracticeInputs | None:
    """Read the practice folder (None when it does not exist: the library is then empty)."""
    if not folder.is_dir():
        return None
    ctx = _Context(config, framework, reference, AliasResolver(reference), screen_for(config))
    reviews_path = find_reviews_file(folder)
    # A first reading of the reviews collects the words reviewers cleared, from decisions that stand.
    cleared = _cleared_words(read_reviews(reviews_path, ctx, None)[0]) if reviews_path else {}
    parts = [read_submission_file(path, ctx, cleared) for path in submission_files(folder)]
    submissions = _concat([p[0] for p in parts], SUBMISSION_COLUMNS)
    # A response id in two files: neither can be told apart by a reviewer, so both are quarantined.
    twice = submissions["submission_id"].duplicated(keep=False)
    extra_issues = submissions.loc[twice, ["source_file", "source_row"]].assign(
        column="response_id", value=submissions.loc[twice, "submission_id"], reason="response id in more than one file"
    )
    submissions = submissions[~twice].reset_index(drop=True)
    quality = [p[3] for p in parts]
    for part in quality:
        moved = int((extra_issues["source_file"] == part["source_file"].iloc[0]).sum())
        part["rows_accepted"] -= moved
        part["rows_quarantined"] += moved
    issues, exclusions = [p[1] for p in parts] + [extra_issues], [p[2] for p in parts]
    reviews = pd.DataFrame(columns=REVIEW_COLUMNS)
    files = [p for p in submission_files(folder)]
    if reviews_path is not None:
        reviews, review_issues, review_exclusions, review_quality, held = read_reviews(
            reviews_path, ctx, set(submissions["submission_id"]), cleared
        )
        submissions["review_quarantined"] = submissions["submission_id"].isin(held)
        issues.append(review_issues)
        exclusions.append(review_exclusions)
        quality.append(review_quality)
        files.append(reviews_path)
    return PracticeInputs(
        submissions=submissions,
        reviews=reviews,
        quarantine=_concat(issues, ISSUE_COLUMNS),
        exclusions=_concat(exclusions, EXCLUSION_COLUMNS),
        data_quality=_concat(quality, QUALITY_COLUMNS),
        files=files,
    )


def _concat(frames: list[pd.DataFrame], columns: list[str]) -> pd.DataFrame:
    frames = [f for f in frames if not f.empty]
    if not frames:
        return pd.DataFrame(columns=columns)
    return pd.concat(frames, ignore_index=True)[columns]
