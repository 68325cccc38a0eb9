"""Render the journey reports, their index and the practice library page: one folder of
self-contained HTML files that link to each other (outputs/journeys/), made from the published
baseline only. Same baseline, same bytes."""

from __future__ import annotations

import json

import pandas as pd
from markupsafe import Markup

from tipipeline.framework import Framework
from tipipeline.practice.config import LibraryConfig
from tipipeline.report.builder import environment
from tipipeline.report.journeys import (
    INDEX_PAGE,
    LIBRARY_PAGE,
    JourneyData,
    Subject,
    check_roadmap,
    headline,
    load_journey_data,
    report_context,
    report_subjects,
    stage_rows,
)
from tipipeline.report.tables import label
from tipipeline.viz.dotplot import DotRow, dot_plot_svg

INDEX_TITLE = "Trauma-informed practice in London: each partner's journey"
LIBRARY_TITLE = "Promising practice in London: the practice library"


def _number(cell_row, column: str) -> float | None:
    if cell_row is None or bool(cell_row["suppressed"]) or pd.isna(cell_row[column]):
        return None
    return float(cell_row[column])


def _chart(context: dict) -> Markup:
    """The scores as an SVG dot plot (withheld rows say so instead of drawing a dot)."""
    rows = []
    for r in context["scores"]:
        own = r["own_row"]
        rows.append(
            DotRow(
                label=r["label"],
                value=_number(own, "value"),
                lower=_number(own, "lower_ci"),
                upper=_number(own, "upper_ci"),
                sector=_number(r["sector_row"], "value"),
                london=_number(r["london_row"], "value"),
                note="[c] withheld" if r["own"]["suppressed"] else "no value",
                key=r["indicator"],
                withheld=r["own"]["suppressed"],
            )
        )
    subject = context["subject"]
    title = f"Mean scores, {context['latest_wave']}: {subject.short_name} beside its sector and London"
    return Markup(dot_plot_svg(rows, title, subject.short_name, f"{context['sector_label']} partners"))


def render_report(context: dict, synthetic: bool) -> str:
    """One journey report's HTML."""
    subject = context["subject"]
    stages = context["stages"]
    police = next((p["href"] for p in context["partners"] if p["role"] == "Police"), "")
    return (
        environment()
        .get_template("journeys/organisation.html")
        .render(
            title=f"{subject.name}: journey report",
            synthetic=synthetic,
            chart=_chart(context),
            informed=sum(1 for s in stages if s["level"] is not None and s["level"] >= 3),
            police_report=police,
            **context,
        )
    )


def _stages_text(stages: list[dict], known: list[dict]) -> str:
    if not stages:
        return "assessed for the Metropolitan Police as a whole"
    text = f"{sum(1 for s in known if s['level'] >= 3)} of {len(stages)}"
    unknown = len(stages) - len(known)
    return text + (f" ({unknown} with too little evidence)" if unknown else "")


def _index_groups(data: JourneyData, subjects: list[Subject], framework: Framework) -> list[dict]:
    groups = [
        ("councils", "Councils", lambda s: s.sector == "council"),
        ("police", "Police", lambda s: s.sector == "police"),
        ("health", "Health: integrated care boards", lambda s: s.sector == "health"),
    ]
    out = []
    for group_id, title, keep in groups:
        rows = []
        for subject in (s for s in subjects if keep(s)):
            stages = stage_rows(data, subject, framework) if subject.kind == "organisation" else []
            known = [s for s in stages if s["level"] is not None]
            rows.append(
                {
                    "name": subject.name,
                    "href": subject.filename,
                    "level": subject.level,
                    "code": subject.code,
                    "index": headline(data, subject)["own"],
                    "stages": _stages_text(stages, known),
                }
            )
        out.append({"id": group_id, "title": title, "rows": rows})
    return out


def library_context(library: pd.DataFrame, config: LibraryConfig, data: JourneyData, framework: Framework) -> dict:
    """The library page's entries and filter options (only options some entry has)."""
    borough_names = dict(zip(data.boroughs["gss_code"], data.boroughs["name"]))
    entries = []
    for e in library.itertuples(index=False):
        entries.append(
            {
                "entry_id": e.entry_id,
                "title": e.title,
                "organisation": e.organisation,
                "area": e.area,
                "service_area": e.service_area,
                "sector": e.sector,
                "principles": json.loads(e.principles),
                "domains": json.loads(e.domains),
                "principle_names": e.principle_names.split("; "),
                "domain_names": e.domain_names.split("; "),
                "boroughs": json.loads(e.borough_codes),
                "what_it_does": e.what_it_does,
                "who_it_is_for": e.who_it_is_for,
                "evidence_of_effect": e.evidence_of_effect,
                "evidence_level": e.evidence_level,
                "evidence_level_name": e.evidence_level_name,
                "evidence_reason": e.evidence_reason,
                "contact_role": e.contact_role,
                "published_on": pd.Timestamp(e.published_on).strftime("%-d %B %Y"),
            }
        )
    used = {
        key: {v for e in entries for v in (e[key] if isinstance(e[key], list) else [e[key]])}
        for key in ("principles", "domains", "sector", "boroughs", "evidence_level")
    }
    filters = [
        ("principle", "Principle", [(p.id, p.name) for p in framework.principles if p.id in used["principles"]]),
        ("domain", "Domain", [(d.id, d.name) for d in framework.domains if d.id in used["domains"]]),
        (
            "sector",
            "Sector",
            [(s, label("sectors", s)) for s in ("council", "police", "health") if s in used["sector"]],
        ),
        ("borough", "Borough", sorted(((c, borough_names[c]) for c in used["boroughs"]), key=lambda o: o[1])),
        ("level", "Evidence level", [(i, n) for i, n in config.level_names.items() if i in used["evidence_level"]]),
    ]
    return {
        "entries": entries,
        "filters": [
            {"id": fid, "label": text, "options": [{"value": v, "label": n} for v, n in options]}
            for fid, text, options in filters
        ],
        "scale": config.evidence_scale,
    }


def build_journey_pages(conn, framework: Framework, config: LibraryConfig, synthetic: bool) -> dict[str, str]:
    """File name -> HTML: every journey report, the index and the practice library page."""
    check_roadmap(framework)
    data = load_journey_data(conn)
    subjects = report_subjects(data)
    pages = {}
    for subject in subjects:
        context = report_context(data, subject, subjects, framework)
        pages[subject.filename] = render_report(context, synthetic)
    env = environment()
    pages[INDEX_PAGE] = env.get_template("journeys/index.html").render(
        title=INDEX_TITLE,
        synthetic=synthetic,
        groups=_index_groups(data, subjects, framework),
        baseline_wave=data.baseline_wave,
        latest_wave=data.latest_wave,
        library_page=LIBRARY_PAGE,
        library_entries=len(data.library),
        provenance=data.provenance,
    )
    pages[LIBRARY_PAGE] = env.get_template("journeys/library.html").render(
        title=LIBRARY_TITLE,
        synthetic=synthetic,
        index_page=INDEX_PAGE,
        provenance=data.provenance,
        **library_context(data.library, config, data, framework),
    )
    return pages
