"""Journey reports: one page per partner (each council, the MPS, each ICB, and each BCU where
disclosure allows), an index linking them, all made from the published baseline only.

A report shows its organisation's stage per domain with the evidence, its scores beside London and
its sector with confidence intervals and the comparison with London, its change since the baseline
wave, its policy audit, the roadmap's next steps for its weakest domains and practice near it from
the library. A withheld value is shown as [c] with the reason and never read: `_value_cell` returns
before it looks at a suppressed row's numbers, and `check_withheld` refuses a baseline whose
withheld rows carry numbers at all.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from functools import cache, cached_property
from pathlib import Path

import pandas as pd
import yaml

from tipipeline.errors import ConfigError
from tipipeline.framework import Framework
from tipipeline.reference import LONDON_CODE
from tipipeline.report.data import survey_waves
from tipipeline.report.tables import format_value, label, plain_note, plain_reason, suppressed_symbol

ROADMAP = Path(__file__).resolve().parents[1] / "framework" / "roadmap.yaml"
INDEX_ID = "ti_index_mean"
WEAKEST = 3  # domains the roadmap section covers
NEAR_PRACTICE = 6  # library entries listed per report
POLICE = "E23000001"
LIBRARY_PAGE = "practice-library.html"
INDEX_PAGE = "index.html"


class DisclosureError(ValueError):
    """A published row marked as withheld still carries a number: the report refuses to build."""


@cache
def load_roadmap(path: Path = ROADMAP) -> dict[str, dict[str, str]]:
    """Domain id -> {building, embedding}: the roadmap's actions per domain (roadmap.yaml)."""
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    domains = data.get("domains") if isinstance(data, dict) else None
    if not isinstance(domains, dict):
        raise ConfigError(path, "domains", "must map each domain id to its building and embedding actions")
    for domain, actions in domains.items():
        if not isinstance(actions, dict) or set(actions) != {"building", "embedding"}:
            raise ConfigError(path, f"domains.{domain}", "needs exactly `building` and `embedding`")
    return domains


def check_roadmap(framework: Framework, path: Path = ROADMAP) -> None:
    """Every framework domain has roadmap actions, and every roadmap domain is in the framework."""
    roadmap = load_roadmap(path)
    ids = [d.id for d in framework.domains]
    if missing := [d for d in ids if d not in roadmap]:
        raise ConfigError(path, "domains", f"no actions for {', '.join(missing)}")
    if unknown := [d for d in roadmap if d not in ids]:
        raise ConfigError(path, "domains", f"{', '.join(unknown)} are not framework domains")


@dataclass
class JourneyData:
    """The published tables the journey reports read (a read-only snapshot of the baseline)."""

    organisations: pd.DataFrame
    boroughs: pd.DataFrame
    indicators: pd.DataFrame  # survey rows
    policy_indicators: pd.DataFrame
    catalogue: dict[str, str]
    journey: pd.DataFrame
    changes: pd.DataFrame
    policy_organisations: pd.DataFrame
    policy_documents: pd.DataFrame
    policy_principles: pd.DataFrame
    partnership: pd.DataFrame
    library: pd.DataFrame
    waves: list[str]
    provenance: str = ""
    bcus: dict[str, str] = field(default_factory=dict)

    @property
    def baseline_wave(self) -> str:
        return self.waves[0]

    @property
    def latest_wave(self) -> str:
        return self.waves[-1]

    @cached_property
    def _cell_positions(self) -> dict[tuple, int]:
        """(indicator, level, code, wave) -> the position of its first row, found in one pass: a
        page looks up hundreds of cells, and a scan per lookup cost 24 s a build."""
        keys = zip(*(self.indicators[c] for c in ("indicator_id", "geography_level", "geography_code", "wave")))
        first: dict[tuple, int] = {}
        for position, key in enumerate(keys):
            first.setdefault(key, position)
        return first

    def cell(self, indicator: str, level: str, code: str, wave: str) -> pd.Series | None:
        """The survey row of one indicator, geography and wave (the first, as published), or None."""
        position = self._cell_positions.get((indicator, level, code, wave))
        return None if position is None else self.indicators.iloc[position]


def _tables(conn) -> set[str]:
    return {t for (t,) in conn.execute("SELECT table_name FROM duckdb_tables()").fetchall()}


def _frame(conn, sql: str, parameters: list | None = None) -> pd.DataFrame:
    return conn.execute(sql, parameters or []).df()


def load_journey_data(conn) -> JourneyData:
    """Everything the journey reports show, from a connection to the published baseline."""
    tables = _tables(conn)
    indicators = _frame(conn, "SELECT * FROM indicators WHERE source = 'survey'")
    waves = survey_waves(indicators)
    if not waves:
        raise ValueError("the published baseline holds no survey wave: no journey reports")
    optional = {
        "policy_principles": "SELECT * FROM policy_principles ORDER BY org_id, principle",
        "practice_library": "SELECT * FROM practice_library ORDER BY organisation, title, entry_id",
    }
    frames = {name: (_frame(conn, sql) if name in tables else pd.DataFrame()) for name, sql in optional.items()}
    provenance = conn.execute(
        "SELECT git_commit, package_version FROM provenance ORDER BY published_at DESC, git_commit LIMIT 1"
    ).fetchall()
    data = JourneyData(
        organisations=_frame(conn, "SELECT * FROM organisations ORDER BY org_id"),
        boroughs=_frame(conn, "SELECT * FROM boroughs ORDER BY gss_code"),
        indicators=indicators,
        policy_indicators=_frame(conn, "SELECT * FROM indicators WHERE source = 'policy_audit'"),
        catalogue=dict(conn.execute("SELECT indicator_id, name FROM indicator_catalogue").fetchall()),
        journey=_frame(conn, "SELECT * FROM journey ORDER BY org_id, domain, wave"),
        changes=_frame(conn, "SELECT * FROM indicator_changes"),
        policy_organisations=_frame(conn, "SELECT * FROM policy_organisations ORDER BY org_id"),
        policy_documents=_frame(conn, "SELECT * FROM policy_audit ORDER BY org_id, year, document_title"),
        policy_principles=frames["policy_principles"],
        partnership=_frame(conn, "SELECT * FROM borough_partnership WHERE wave = ?", [waves[-1]]),
        library=frames["practice_library"],
        waves=waves,
        provenance=(f"Built by tipipeline {provenance[0][1]} (commit {provenance[0][0][:12]})." if provenance else ""),
    )
    bcu_rows = indicators.loc[indicators["geography_level"] == "bcu", ["geography_code", "geography_name"]]
    data.bcus = dict(sorted(set(map(tuple, bcu_rows.to_numpy()))))
    check_withheld(data.indicators, data.changes, data.partnership)
    check_journey_withheld(data.journey, data.indicators)
    return data


def check_withheld(indicators: pd.DataFrame, changes: pd.DataFrame, partnership: pd.DataFrame) -> None:
    """Refuse to build from a baseline whose withheld rows carry numbers (disclosure control
    failed upstream, or a table was edited): DisclosureError naming the first such row."""
    checks = [
        (indicators, "suppressed", ["value", "lower_ci", "upper_ci", "n", "numerator"], "indicators"),
        (changes, "suppressed", ["change", "lower_ci", "upper_ci"], "indicator_changes"),
    ]
    checks += [
        (partnership, f"{side}_suppressed", [f"{side}_value", f"{side}_n"], "borough_partnership")
        for side in ("council", "police", "health")
    ]
    for frame, flag, columns, table in checks:
        withheld = frame[frame[flag].astype("boolean").fillna(False).astype(bool)]
        leaking = withheld[withheld[columns].notna().any(axis=1)]
        if not leaking.empty:
            row = leaking.iloc[0]
            raise DisclosureError(
                f"{table}: a withheld row carries a number ({', '.join(c for c in columns if pd.notna(row[c]))}): "
                + ", ".join(f"{k}={row[k]}" for k in frame.columns[:4])
            )


def check_journey_withheld(journey: pd.DataFrame, indicators: pd.DataFrame) -> None:
    """Refuse a journey row that carries the survey figures its organisation's withheld cells hide:
    where the domain's mean score or % agreeing is withheld, the row's score, % agreeing and n must
    be empty and its evidence must not state them."""
    cells = indicators[indicators["geography_level"] == "organisation"]
    domain = cells["indicator_id"].str.extract(r"^domain_(?:mean|agree)_(.+)$")[0]
    withheld = cells.assign(domain=domain).loc[cells["suppressed"].astype(bool) & domain.notna()]
    keys = set(zip(withheld["geography_code"], withheld["domain"], withheld["wave"]))
    rows = journey[[(o, d, w) in keys for o, d, w in zip(journey["org_id"], journey["domain"], journey["wave"])]]
    states_figures = rows["evidence"].fillna("").str.contains(r"mean score \d|\d+% agreeing|n=\d", regex=True)
    leaking = rows[rows[["score", "percent_agree", "n"]].notna().any(axis=1) | states_figures]
    if not leaking.empty:
        row = leaking.iloc[0]
        raise DisclosureError(
            f"journey: {row['org_id']} {row['domain']} {row['wave']} carries survey figures its withheld cell hides"
        )


# --- who gets a report -------------------------------------------------------------------------


@dataclass(frozen=True)
class Subject:
    """One report: an organisation (council, MPS, ICB) or an MPS BCU."""

    kind: str  # organisation or bcu
    code: str
    name: str
    short_name: str
    sector: str
    slug: str  # the report's file name without .html

    @property
    def filename(self) -> str:
        return f"{self.slug}.html"

    @property
    def level(self) -> str:
        return "bcu" if self.kind == "bcu" else "organisation"


def slugify(text: str) -> str:
    """A file name from a name: lower case, runs of other characters as one hyphen."""
    return re.sub(r"[^a-z0-9]+", "-", text.casefold()).strip("-")


def _headline_cells(data: JourneyData, level: str, code: str) -> pd.DataFrame:
    rows = data.indicators
    return rows[
        (rows["geography_level"] == level) & (rows["geography_code"] == code) & (rows["wave"] == data.latest_wave)
    ]


def report_subjects(data: JourneyData) -> list[Subject]:
    """Every organisation, then each BCU with at least one value disclosure control lets through
    in the latest wave (a BCU whose every cell is withheld would be a page of [c])."""
    subjects = [
        Subject("organisation", row.org_id, row.name, row.short_name, row.sector, slugify(row.short_name))
        for row in data.organisations.itertuples()
    ]
    for code, name in data.bcus.items():
        cells = _headline_cells(data, "bcu", code)
        if (~cells["suppressed"].astype(bool)).any():
            subjects.append(
                Subject(
                    "bcu", code, f"{name} BCU (Metropolitan Police)", f"{name} BCU", "police", "bcu-" + slugify(name)
                )
            )
    return subjects


# --- the report's parts ------------------------------------------------------------------------


def _value_cell(row: pd.Series | None, kind: str = "score") -> dict:
    """A published cell for the template: value and interval as text, or [c] and why. A withheld
    row's numbers are never read."""
    if row is None:
        return {"value": "[x]", "interval": "", "note": "no value published", "suppressed": False, "n": ""}
    if bool(row["suppressed"]):
        return {
            "value": suppressed_symbol(),
            "interval": "",
            "note": plain_reason(row["suppression_reason"]),
            "suppressed": True,
            "n": "",
        }
    interval = ""
    if pd.notna(row.get("lower_ci")) and pd.notna(row.get("upper_ci")):
        interval = f"{format_value(row['lower_ci'], kind)} to {format_value(row['upper_ci'], kind)}"
    return {
        "value": format_value(row["value"], kind),
        "interval": interval,
        "note": plain_note(row.get("comparison")),
        "suppressed": False,
        "n": format_value(row["n"], "count") if pd.notna(row.get("n")) else "",
    }


def _cell(data: JourneyData, indicator: str, level: str, code: str, wave: str) -> pd.Series | None:
    return data.cell(indicator, level, code, wave)


def _score_indicators(framework: Framework) -> list[tuple[str, str]]:
    """(indicator id, label): the index, then each domain's mean score, in the framework's order."""
    return [(INDEX_ID, "Trauma-informed index (all domains)")] + [
        (f"domain_mean_{d.id}", d.name) for d in framework.domains
    ]


def scores_rows(data: JourneyData, subject: Subject, framework: Framework) -> list[dict]:
    """The subject's mean scores in the latest wave beside its sector's and London's."""
    wave = data.latest_wave
    rows = []
    for indicator, name in _score_indicators(framework):
        own = _cell(data, indicator, subject.level, subject.code, wave)
        rows.append(
            {
                "indicator": indicator,
                "label": name,
                "own": _value_cell(own),
                "sector": _value_cell(_cell(data, indicator, "sector", subject.sector, wave)),
                "london": _value_cell(_cell(data, indicator, "london", LONDON_CODE, wave)),
                "own_row": own,
                "sector_row": _cell(data, indicator, "sector", subject.sector, wave),
                "london_row": _cell(data, indicator, "london", LONDON_CODE, wave),
            }
        )
    return rows


def change_rows(data: JourneyData, subject: Subject, framework: Framework) -> list[dict]:
    """Change in each mean score from the baseline wave to the latest (empty with one wave)."""
    if len(data.waves) < 2:
        return []
    changes = data.changes
    mine = changes[
        (changes["geography_level"] == subject.level)
        & (changes["geography_code"] == subject.code)
        & (changes["from_wave"] == data.baseline_wave)
        & (changes["to_wave"] == data.latest_wave)
    ].set_index("indicator_id")
    rows = []
    for indicator, name in _score_indicators(framework):
        if indicator not in mine.index:
            continue
        row = mine.loc[indicator]
        if bool(row["suppressed"]):
            cell = {"value": suppressed_symbol(), "interval": "", "note": plain_reason(row["suppression_reason"])}
        else:
            interval = ""
            if pd.notna(row["lower_ci"]) and pd.notna(row["upper_ci"]):
                interval = f"{format_value(row['lower_ci'], 'change')} to {format_value(row['upper_ci'], 'change')}"
            cell = {
                "value": format_value(row["change"], "change"),
                "interval": interval,
                "note": label("significance", row["significance"]),
            }
        rows.append({"indicator": indicator, "label": name, "suppressed": bool(row["suppressed"]), **cell})
    return rows


def stage_rows(data: JourneyData, subject: Subject, framework: Framework) -> list[dict]:
    """Per domain: the stage in the latest wave and at the baseline, with the evidence in words."""
    journey = data.journey[data.journey["org_id"] == subject.code]
    rows = []
    for domain in framework.domains:
        latest = journey[(journey["domain"] == domain.id) & (journey["wave"] == data.latest_wave)]
        first = journey[(journey["domain"] == domain.id) & (journey["wave"] == data.baseline_wave)]
        if latest.empty:
            continue
        row = latest.iloc[0]
        level = None if pd.isna(row["stage_level"]) else int(row["stage_level"])
        rows.append(
            {
                "domain": domain.id,
                "label": domain.name,
                "stage": row["stage"],
                "level": level,
                "baseline_stage": first.iloc[0]["stage"] if not first.empty and len(data.waves) > 1 else "",
                "evidence": row["evidence"],
                "next_step": row["next_step"],
                "score": None if pd.isna(row["score"]) else float(row["score"]),
            }
        )
    return rows


def weakest_domains(stages: list[dict], count: int = WEAKEST) -> list[dict]:
    """The domains furthest behind: lowest stage, then lowest published score, then framework
    order. Domains with insufficient evidence are left to their own note, not ranked."""
    known = [s for s in stages if s["level"] is not None]
    ranked = sorted(known, key=lambda s: (s["level"], s["score"] if s["score"] is not None else 99.0))
    return ranked[:count]


def roadmap_rows(weakest: list[dict]) -> list[dict]:
    """The roadmap for the weakest domains: the stage's next step and the domain's own action."""
    roadmap = load_roadmap()
    return [
        {
            **stage,
            "action": roadmap[stage["domain"]]["building" if stage["level"] <= 2 else "embedding"],
        }
        for stage in weakest
    ]


def subject_boroughs(data: JourneyData, subject: Subject) -> list[str]:
    """The boroughs a subject serves: a council its own, an ICB its boroughs, a BCU its boroughs,
    the MPS the boroughs it polices."""
    boroughs = data.boroughs
    if subject.kind == "bcu":
        return sorted(boroughs.loc[boroughs["bcu_code"] == subject.code, "gss_code"])
    org = data.organisations.set_index("org_id").loc[subject.code]
    if subject.sector == "council":
        return [org["area_code"]]
    if subject.sector == "health":
        return sorted(boroughs.loc[boroughs["icb_code"] == subject.code, "gss_code"])
    return sorted(boroughs.loc[boroughs["bcu_code"].notna(), "gss_code"])


def near_practice(data: JourneyData, subject: Subject, domains: list[str], limit: int = NEAR_PRACTICE) -> list[dict]:
    """Library entries that show one of `domains`, nearest first: in the subject's own boroughs,
    then in the same ICB area (London's five health sub-regions), then elsewhere in London. An
    organisation's own entries are left out (it knows them)."""
    library = data.library
    if library.empty or not domains:
        return []
    own = set(subject_boroughs(data, subject))
    icb_of = dict(zip(data.boroughs["gss_code"], data.boroughs["icb_code"]))
    region = {b for b, icb in icb_of.items() if icb in {icb_of[o] for o in own if o in icb_of}}
    found = []
    for entry in library.itertuples(index=False):
        shown = [d for d in json.loads(entry.domains) if d in domains]
        if not shown or entry.org_id == subject.code:
            continue
        covers = set(json.loads(entry.borough_codes))
        distance = 0 if covers & own else 1 if covers & region else 2
        found.append(
            {
                "entry_id": entry.entry_id,
                "title": entry.title,
                "organisation": entry.organisation,
                "area": entry.area,
                "evidence": entry.evidence_level_name,
                "domains": [d for d in domains if d in shown],
                "where": ["in your area", "in your part of London", "elsewhere in London"][distance],
                "distance": distance,
            }
        )
    found.sort(key=lambda e: (e["distance"], [domains.index(d) for d in e["domains"]][0], e["title"]))
    return found[:limit]


def policy_summary(data: JourneyData, subject: Subject) -> dict | None:
    """The organisation's policy audit: its measures, its documents and the principles missing."""
    if subject.kind != "organisation":
        return None
    org = data.policy_organisations[data.policy_organisations["org_id"] == subject.code]
    if org.empty:
        return {"audited": False}
    row = org.iloc[0]
    documents = data.policy_documents[data.policy_documents["org_id"] == subject.code]
    principles = (
        data.policy_principles[data.policy_principles["org_id"] == subject.code]
        if not data.policy_principles.empty
        else pd.DataFrame()
    )
    london = data.policy_indicators[data.policy_indicators["geography_level"] == "london"].set_index("indicator_id")
    return {
        "audited": True,
        "documents": int(row["documents"]),
        "comprehensiveness": format_value(row["mean_document_comprehensiveness"], "whole percent"),
        "strength": format_value(row["mean_document_strength"], "whole percent"),
        "best_comprehensiveness": format_value(row["comprehensiveness"], "whole percent"),
        "best_strength": format_value(row["strength"], "whole percent"),
        "london_comprehensiveness": format_value(london["value"].get("policy_comprehensiveness"), "whole percent"),
        "london_strength": format_value(london["value"].get("policy_strength"), "whole percent"),
        "document_rows": [
            {
                "title": d.document_title,
                "type": d.document_type,
                "year": "" if pd.isna(d.year) else str(int(d.year)),
                "comprehensiveness": format_value(d.comprehensiveness, "whole percent"),
                "strength": format_value(d.strength, "whole percent"),
            }
            for d in documents.itertuples(index=False)
        ],
        "principles": [
            {"name": p.principle_name, "status": p.status, "documents": int(p.documents_addressing)}
            for p in principles.itertuples(index=False)
        ],
        # Missing: no document addresses it, and no document's score for it is left unsettled.
        "all_addressed": bool(len(principles))
        and all(p.status in ("addressed", "addressed strongly") for p in principles.itertuples(index=False)),
        "missing": [
            p.principle_name
            for p in principles.itertuples(index=False)
            if p.status == "not addressed" and p.documents_unsettled == 0
        ],
        "unsettled": [p.principle_name for p in principles.itertuples(index=False) if p.documents_unsettled > 0],
    }


def _borough_of(data: JourneyData, subject: Subject) -> str:
    if subject.sector != "council":
        return ""
    return data.organisations.set_index("org_id").loc[subject.code, "area_code"]


def partnership_rows(data: JourneyData, subject: Subject, framework: Framework) -> list[dict]:
    """For a council: its borough's council, BCU and ICB side by side (latest wave)."""
    if subject.sector != "council":
        return []
    borough = _borough_of(data, subject)
    frame = data.partnership[data.partnership["borough_code"] == borough].set_index("indicator_id")
    rows = []
    for indicator, name in _score_indicators(framework):
        if indicator not in frame.index:
            continue
        row = frame.loc[indicator]
        rows.append(
            {
                "indicator": indicator,
                "label": name,
                **{side: _partner_cell(row, side) for side in ("council", "police", "health")},
            }
        )
    return rows


def _partner_cell(row: pd.Series, side: str) -> dict:
    if bool(row[f"{side}_suppressed"]):
        return {"value": suppressed_symbol(), "note": plain_reason(row[f"{side}_note"]), "suppressed": True}
    value = row[f"{side}_value"]
    return {
        "value": format_value(value, "score") if pd.notna(value) else "[x]",
        "note": plain_note(row[f"{side}_note"]),
        "suppressed": False,
    }


def partners_of(data: JourneyData, subject: Subject, subjects: list[Subject]) -> list[dict]:
    """Links to the reports of the subject's partners: a council's BCU and ICB, an ICB's councils,
    a BCU's councils and the MPS, the MPS's BCUs."""
    by_code = {(s.kind, s.code): s for s in subjects}
    boroughs = data.boroughs.set_index("gss_code")
    links: list[tuple[str, Subject | None, str]] = []
    if subject.sector == "council":
        borough = _borough_of(data, subject)
        bcu, icb = boroughs.loc[borough, "bcu_code"], boroughs.loc[borough, "icb_code"]
        if pd.notna(bcu):  # the City of London is policed by the City of London Police, not in scope
            links.append(("Police", by_code.get(("bcu", bcu)) or by_code.get(("organisation", POLICE)), ""))
        links.append(("Health", by_code.get(("organisation", icb)), ""))
    elif subject.kind == "bcu" or subject.sector == "health":
        for code in subject_boroughs(data, subject):
            council = data.organisations[data.organisations["area_code"] == code]
            if not council.empty:
                links.append(("Council", by_code.get(("organisation", council.iloc[0]["org_id"])), ""))
        if subject.kind == "bcu":
            links.append(("Police", by_code.get(("organisation", POLICE)), ""))
    elif subject.code == POLICE:
        links += [("Police BCU", s, "") for s in subjects if s.kind == "bcu"]
    return [{"role": role, "name": s.name, "href": s.filename} for role, s, _ in links if s is not None]


def headline(data: JourneyData, subject: Subject) -> dict:
    """The index in the latest wave beside London's, in one sentence's parts."""
    own = _cell(data, INDEX_ID, subject.level, subject.code, data.latest_wave)
    return {
        "own": _value_cell(own),
        "london": _value_cell(_cell(data, INDEX_ID, "london", LONDON_CODE, data.latest_wave)),
    }


def report_context(data: JourneyData, subject: Subject, subjects: list[Subject], framework: Framework) -> dict:
    """Everything one report's template shows."""
    stages = stage_rows(data, subject, framework) if subject.kind == "organisation" else []
    weakest = weakest_domains(stages)
    # Practice in the weakest domains; with no domain placed (too little evidence), in any domain.
    near = near_practice(data, subject, [s["domain"] for s in weakest] or [d.id for d in framework.domains])
    return {
        "subject": subject,
        "sector_label": label("sectors", subject.sector),
        "waves": data.waves,
        "baseline_wave": data.baseline_wave,
        "latest_wave": data.latest_wave,
        "headline": headline(data, subject),
        "stages": stages,
        "insufficient": [s for s in stages if s["level"] is None],
        "roadmap": roadmap_rows(weakest),
        "scores": scores_rows(data, subject, framework),
        "changes": change_rows(data, subject, framework),
        "policy": policy_summary(data, subject),
        "partnership": partnership_rows(data, subject, framework),
        "borough_code": _borough_of(data, subject),
        "partners": partners_of(data, subject, subjects),
        "practice": near,
        "library_page": LIBRARY_PAGE,
        "library_entries": len(data.library),
        "index_page": INDEX_PAGE,
        "provenance": data.provenance,
    }
