"""The report's sections, one function each: the published tables in, a template's context and
its figures out. No HTML here: every section has its template in templates/sections/."""

from __future__ import annotations

import json
from dataclasses import dataclass, field

import pandas as pd

from tipipeline.framework import Framework
from tipipeline.framework.catalogue import score_indicators
from tipipeline.report.data import HEADLINE_INDICATOR, ReportData
from tipipeline.report.figures import Figure, chart_figure, map_figure
from tipipeline.report.tables import (
    Column,
    Table,
    label,
    make_table,
    plain_note,
    plain_reason,
    show_withheld,
    suppressed_symbol,
)
from tipipeline.viz.charts import change_chart, funnel_chart, journey_chart
from tipipeline.viz.definition_charts import consensus_chart

DEFINITION = (
    "Trauma-informed practice is an approach to health and care interventions which is grounded in the "
    "understanding that trauma exposure can impact an individual's neurological, biological, psychological and "
    "social development (Office for Health Improvement and Disparities, 2022). A trauma-responsive organisation "
    "goes further: trauma-informed principles shape its policy, practice and culture, and it changes them in "
    "response to what it learns."
)
CAVEATS = [
    "Respondents chose to take part: results describe those who responded, not every member of staff.",
    "How widely the survey was circulated differed between organisations; small organisations and teams are "
    "under-represented and many of their results are suppressed.",
    "Confidence intervals describe sampling variation only; they do not correct for who chose to respond.",
    "Policy audits cover the documents organisations published or shared; a missing document lowers the scores.",
    "Journey stages apply a published rule to the evidence; they are a starting point for conversation with each "
    "organisation, not a judgement of it.",
    "Comparisons with London use the Fingertips rule (the area's 95% confidence interval against London's value); "
    "many comparisons in one report will produce some differences by chance.",
]
INFORMED_STAGE = "trauma_informed"


@dataclass
class Section:
    """One section: its anchor, heading, template and the template's context."""

    id: str
    title: str
    context: dict
    figures: list[Figure] = field(default_factory=list)

    @property
    def template(self) -> str:
        """The section's template: templates/sections/<id>.html."""
        return f"sections/{self.id}.html"


def _cell(frame: pd.DataFrame, indicator_id: str, level: str, wave: str) -> pd.Series | None:
    rows = frame[
        (frame["indicator_id"] == indicator_id) & (frame["geography_level"] == level) & (frame["wave"] == wave)
    ]
    return None if rows.empty else rows.iloc[0]


def _change(data: ReportData, before: str, after: str, indicator_id: str = HEADLINE_INDICATOR) -> pd.Series | None:
    rows = data.changes[
        (data.changes["indicator_id"] == indicator_id)
        & (data.changes["geography_level"] == "london")
        & (data.changes["from_wave"] == before)
        & (data.changes["to_wave"] == after)
    ]
    return None if rows.empty else rows.iloc[0]


def _withheld_card(heading: str, row: pd.Series) -> dict:
    return {"label": heading, "value": suppressed_symbol(), "detail": plain_reason(row["suppression_reason"])}


def _index_cards(data: ReportData) -> list[dict]:
    """London's index in every wave, with its respondents."""
    cards = []
    for wave in data.waves:
        cell = _cell(data.indicators, HEADLINE_INDICATOR, "london", wave)
        heading = f"Index, London, wave {wave}"
        if cell is None:
            continue
        if cell["suppressed"]:
            cards.append(_withheld_card(heading, cell))
        else:
            cards.append(
                {"label": heading, "value": f"{cell['value']:.2f}", "detail": f"{int(cell['n']):,} respondents"}
            )
    return cards


def _change_cards(data: ReportData) -> list[dict]:
    """The latest wave against the baseline and, with three or more waves, against the wave before."""
    baseline, latest = data.baseline_wave, data.latest_wave
    pairs = []
    if len(data.waves) >= 2:
        pairs.append((baseline, f"Change since the baseline, wave {baseline} to {latest}"))
    if len(data.waves) >= 3:
        pairs.append((data.waves[-2], f"Change since the last wave, {data.waves[-2]} to {latest}"))
    cards = []
    for before, heading in pairs:
        change = _change(data, before, latest)
        if change is None:
            continue
        if change["suppressed"]:
            cards.append(_withheld_card(heading, change))
        else:
            significance = label("significance", change["significance"])
            cards.append({"label": heading, "value": f"{change['change']:+.2f}", "detail": significance})
    return cards


def _journey_card(data: ReportData, framework: Framework) -> list[dict]:
    """The share of organisation-domains at trauma-informed or further, of those with enough evidence."""
    informed_level = next(s.level for s in framework.stages if s.id == INFORMED_STAGE)
    rated = pd.to_numeric(data.stage_levels, errors="coerce").dropna()
    if rated.empty:
        return []
    share = (rated >= informed_level).mean() * 100
    return [
        {
            "label": f"Organisation-domains trauma-informed or further, wave {data.latest_wave}",
            "value": f"{share:.0f}%",
            "detail": f"of the {len(rated):,} with enough evidence",
        }
    ]


def _audit_card(data: ReportData) -> list[dict]:
    overall = data.coder_agreement[data.coder_agreement["principle"] == "overall"]
    if overall.empty or pd.isna(overall["kappa"].iloc[0]):
        return []
    return [
        {
            "label": "Policy documents audited",
            "value": f"{data.policy_documents:,}",
            "detail": f"coder agreement (Cohen's kappa) {overall['kappa'].iloc[0]:.2f}",
        }
    ]


def _sector_values(data: ReportData) -> list[str]:
    """Each sector's index in the latest wave, or that it is withheld."""
    sectors = data.indicators[
        (data.indicators["indicator_id"] == HEADLINE_INDICATOR)
        & (data.indicators["geography_level"] == "sector")
        & (data.indicators["wave"] == data.latest_wave)
    ].sort_values("geography_name")
    return [
        f"{row.geography_name}: withheld {suppressed_symbol()}"
        if row.suppressed
        else f"{row.geography_name}: {row.value:.2f} ({label('comparisons', row.comparison)})"
        for row in sectors.itertuples()
    ]


def summary_section(data: ReportData, framework: Framework) -> Section:
    """Headline figures: London's index per wave, its change since the baseline (and since the last
    wave), how far organisations have come, and the policy audit."""
    cards = [*_index_cards(data), *_change_cards(data), *_journey_card(data, framework), *_audit_card(data)]
    context = {
        "cards": cards,
        "sector_values": _sector_values(data),
        "latest": data.latest_wave,
        "baseline": data.baseline_wave,
        "waves": data.waves,
    }
    return Section("summary", "Summary", context)


def framework_section(framework: Framework) -> Section:
    """The definition, the six principles, the domains and the journey stages in order."""
    principles = pd.DataFrame([{"name": p.name, "description": p.description} for p in framework.principles])
    domains = pd.DataFrame([{"name": d.name, "description": d.description} for d in framework.domains])
    stages = pd.DataFrame(
        [
            {"level": s.level, "name": s.name, "description": s.description}
            for s in sorted(framework.stages, key=lambda s: s.level)
        ]
    )
    return Section(
        "framework",
        "Definition and framework",
        {
            "definition": DEFINITION,
            "principles": make_table(
                principles,
                [Column("name", "Principle"), Column("description", "What it means")],
                "Principles of trauma-informed practice (OHID 2022)",
            ),
            "domains": make_table(
                domains,
                [Column("name", "Domain"), Column("description", "What it covers")],
                "Implementation domains (after SAMHSA 2014)",
            ),
            "stages": make_table(
                stages,
                [
                    Column("name", "Stage"),
                    Column("level", "Level", "count"),
                    Column("description", "What it looks like"),
                ],
                "Journey stages, in the VRU's order",
            ),
        },
    )


def _exclusions_text(encoded) -> str:
    """The JSON of rows excluded per rule as a sentence: "not finished: 3; no consent: 1"."""
    counts = json.loads(encoded) if isinstance(encoded, str) and encoded else {}
    return "; ".join(f"{label('exclusion_rules', rule)}: {count:,}" for rule, count in sorted(counts.items())) or "none"


def _data_quality_table(quality: pd.DataFrame) -> Table:
    shown = quality.assign(
        source=quality["source"].map(lambda s: label("sources", s)),
        file_format=quality["file_format"].map(lambda f: label("file_formats", f)),
        wave=quality["wave"].fillna("not applicable"),  # a policy audit covers every wave
        why=quality["excluded_by_rule"].map(_exclusions_text),
    ).astype(object)
    for column in ("rows_read", "rows_accepted", "rows_quarantined", "rows_excluded", "why"):
        shown[column] = show_withheld(shown[column], quality["counts_suppressed"])
    return make_table(
        shown,
        [
            Column("source", "Source"),
            Column("wave", "Wave"),
            Column("source_file", "File"),
            Column("file_format", "Read as"),
            Column("rows_read", "Rows read", "count"),
            Column("rows_accepted", "Accepted", "count"),
            Column("rows_quarantined", "Quarantined", "count"),
            Column("rows_excluded", "Excluded", "count"),
            Column("why", "Why excluded"),
        ],
        "Rows per source file: every row read is accepted, quarantined or excluded",
    )


def methods_section(data: ReportData, framework: Framework, threshold: int) -> Section:
    """How the data were read, checked and summarised, with the disclosure-control rule."""
    domain_names = {d.id: d.name for d in framework.domains}
    principle_names = {p.id: p.name for p in framework.principles} | {"overall": "All principles"}
    funnel = chart_figure(
        funnel_chart(data.data_quality),
        "Every survey row read is accepted, quarantined or excluded by a documented rule.",
    )
    reliability = data.reliability.assign(domain=data.reliability["domain"].map(domain_names)).sort_values(
        ["wave", "domain"]
    )
    # Principles in the framework's order, all principles together last.
    order = {name: index for index, name in enumerate(principle_names.values())}
    agreement = data.coder_agreement.assign(principle=data.coder_agreement["principle"].map(principle_names))
    agreement = agreement.sort_values("principle", key=lambda s: s.map(order))
    return Section(
        "methods",
        "Data and methods",
        {
            "funnel": funnel,
            "quality": _data_quality_table(data.data_quality),
            "reliability": make_table(
                reliability,
                [
                    Column("wave", "Wave"),
                    Column("domain", "Domain"),
                    Column("items", "Items", "count"),
                    Column("respondents_complete", "Respondents answering every item", "count"),
                    Column("cronbach_alpha", "Cronbach's alpha", "coefficient"),
                ],
                "Reliability of each domain's items (Cronbach's alpha) by wave",
            ),
            "agreement": make_table(
                agreement,
                [
                    Column("principle", "Principle"),
                    Column("double_coded_documents", "Documents coded twice", "count"),
                    Column("ratings_compared", "Ratings compared", "count"),
                    Column("percent_agreement", "Agreement", "percent"),
                    Column("kappa", "Cohen's kappa", "coefficient"),
                    Column("weighted_kappa_linear", "Cohen's kappa, linear weights", "coefficient"),
                ],
                "Agreement between the two coders of each double-coded policy document",
            ),
            "threshold": threshold,
            "min_respondents": framework.stage_rule.min_respondents,
        },
        [funnel],
    )


def _by_wave(data: ReportData, indicator_id: str) -> pd.DataFrame:
    """An indicator for London and each sector: one column per wave, then the change since the
    baseline; withheld values as [c]."""
    rows = data.indicators[
        (data.indicators["indicator_id"] == indicator_id)
        & data.indicators["geography_level"].isin(["london", "sector"])
    ].copy()
    rows["shown"] = show_withheld(rows["value"], rows["suppressed"])
    order = {"london": 0, "sector": 1}
    areas = rows.drop_duplicates("geography_code").sort_values(
        ["geography_level", "geography_name"], key=lambda s: s.map(order) if s.name == "geography_level" else s
    )
    table = areas[["geography_code", "geography_name"]].copy()
    for wave in data.waves:
        values = rows[rows["wave"] == wave].set_index("geography_code")["shown"]
        table[wave] = table["geography_code"].map(values)
    if len(data.waves) >= 2:
        changes = data.changes[
            (data.changes["indicator_id"] == indicator_id)
            & data.changes["geography_level"].isin(["london", "sector"])
            & (data.changes["from_wave"] == data.baseline_wave)
            & (data.changes["to_wave"] == data.latest_wave)
        ].set_index("geography_code")
        table["since_baseline"] = table["geography_code"].map(show_withheld(changes["change"], changes["suppressed"]))
    return table


def indicators_section(data: ReportData, maps: list, framework: Framework) -> Section:
    """Per domain: the latest wave's partnership map and the mean score by wave for London and sectors."""
    latest_maps = {m.indicator_id: m for m in maps if m.wave == data.latest_wave and m.layer == "partnership"}
    names = data.indicator_names
    domains, figures = [], []
    for indicator_id in score_indicators(framework):
        title = names[indicator_id].replace(": mean score", "")
        record = latest_maps.get(indicator_id)
        figure = map_figure(record) if record is not None else None
        if figure is not None:
            figures.append(figure)
        table = _by_wave(data, indicator_id)
        columns = [Column("geography_name", "Area"), *(Column(w, f"Wave {w}", "score") for w in data.waves)]
        if "since_baseline" in table:
            columns.append(Column("since_baseline", f"Change since the baseline ({data.baseline_wave})", "change"))
        domains.append(
            {
                "title": title,
                "figure": figure,
                "table": make_table(table, columns, f"{title}: mean score (1 to 5) by wave, London and sectors"),
            }
        )
    return Section("indicators", "Indicators by domain", {"domains": domains, "latest": data.latest_wave}, figures)


def journey_section(data: ReportData, framework: Framework) -> Section:
    """Where organisations are on the journey, how London changed, and the roadmap."""
    domain_names = {d.id: d.name for d in framework.domains}
    ordered = sorted(framework.stages, key=lambda s: s.level)
    journey = chart_figure(
        journey_chart(
            data.journey_summary,
            data.latest_wave,
            pd.DataFrame([{"level": s.level, "name": s.name} for s in ordered]),
            domain_names,
        ),
        f"Where organisations are on the journey, wave {data.latest_wave}.",
    )
    caption = "London's domain scores in each wave; the marks show change since the previous wave"
    if len(data.waves) > 2:
        caption += f", and the table also gives the change since the baseline, wave {data.baseline_wave}"
    elif len(data.waves) == 2:
        caption += f", here the baseline, wave {data.baseline_wave}"
    change = chart_figure(change_chart(data.changes, data.indicators, domain_names), caption + ".")
    roadmap = pd.DataFrame([{"name": s.name, "next_step": s.next_step} for s in ordered])
    return Section(
        "journey",
        "Journey and roadmap",
        {
            "journey": journey,
            "change": change,
            "roadmap": make_table(
                roadmap,
                [Column("name", "Stage"), Column("next_step", "What the next step looks like")],
                "What the next step looks like at each stage, in journey order",
            ),
        },
        [journey, change],
    )


def _partner(frame: pd.DataFrame, side: str) -> tuple[pd.Series, pd.Series]:
    """A partner's value ([c] when withheld) and its note in plain English."""
    return show_withheld(frame[f"{side}_value"], frame[f"{side}_suppressed"]), frame[f"{side}_note"].map(plain_note)


def partnership_section(data: ReportData) -> Section:
    """Each borough's council, police BCU and ICB side by side on the index, latest wave."""
    frame = data.partnership
    shown = frame[["borough_name", "bcu_name", "icb_name"]].copy()
    for side in ("council", "police", "health"):
        shown[f"{side}_value"], shown[f"{side}_note"] = _partner(frame, side)
    table = make_table(
        shown,
        [
            Column("borough_name", "Borough"),
            Column("council_value", "Council", "score"),
            Column("council_note", "Council: note"),
            Column("bcu_name", "Police BCU"),
            Column("police_value", "Police (BCU)", "score"),
            Column("police_note", "Police: note"),
            Column("icb_name", "Integrated Care Board"),
            Column("health_value", "Health (ICB)", "score"),
            Column("health_note", "Health: note"),
        ],
        f"Borough partnership: trauma-informed practice index by partner, wave {data.latest_wave}",
    )
    return Section("partnership", "Borough partnership profiles", {"profiles": table, "latest": data.latest_wave})


def promising_section(data: ReportData) -> Section:
    """Organisations whose documents and staff suggest practice worth sharing."""
    frame = data.promising.assign(sector=data.promising["sector"].map(lambda s: label("sectors", s)))
    table = make_table(
        frame,
        [
            Column("organisation", "Organisation"),
            Column("sector", "Sector"),
            Column("candidate_documents", "Candidate documents", "count"),
            # Whole percentages, as the published reason beside it rounds them.
            Column("percent_willing_to_share", "Staff willing to share", "whole percent"),
            Column("reason", "Why"),
        ],
        f"Promising-practice candidates, wave {data.latest_wave}",
    )
    return Section("promising", "Promising practice", {"candidates": table})


def definition_section(definition) -> Section | None:
    """The London definition (the research's first aim): the statements agreed in the final round,
    a chart per round, where the stakeholder groups differ, the panel's flow and the framework link."""
    if definition is None:
        return None
    protocol = definition.protocol
    everyone = definition.statements[definition.statements["panel_group"] == "all"]
    rounds = sorted(int(r) for r in everyone["round"].unique())
    final = rounds[-1]
    bands = {
        "bottom": protocol.get("bottom_band", "bottom band"),
        "middle": protocol.get("middle_band", "middle band"),
        "top": protocol.get("top_band", "top band"),
    }
    figures = [
        chart_figure(
            consensus_chart(everyone, r, bands),
            f"Round {r}: the share of panellists rating each statement {bands['bottom']} (left), {bands['middle']} "
            f"(centred) and {bands['top']} (right), with each statement's consensus.",
        )
        for r in rounds
    ]
    agreed = definition.agreed.assign(
        supports=definition.agreed["principle_name"]
        .fillna(definition.agreed["domain_name"])
        .fillna("Boundary of the definition")
    )
    agreed_table = make_table(
        agreed,
        [
            Column("statement_id", "Statement"),
            Column("statement_text", "Wording"),
            Column("supports", "Supports"),
            Column("n_rated", "Rated", "count"),
            Column("pct_top", f"Rated {bands['top']}", "whole percent"),
            Column("median", "Median", "score"),
        ],
        f"The London definition: statements agreed in round {final}",
    )
    final_rows = definition.statements[
        (definition.statements["round"] == final) & (definition.statements["panel_group"] != "all")
    ]
    published = final_rows[~final_rows["suppressed"].astype(bool)]
    split_ids = sorted(
        sid for sid, group in published.groupby("statement_id") if {"in", "out"} <= set(group["consensus"].dropna())
    )
    split = None
    if split_ids:
        rows = final_rows[final_rows["statement_id"].isin(split_ids)].assign(
            group=lambda f: f["panel_group"].map(lambda g: label("panel_groups", g)),
            result=lambda f: [
                suppressed_symbol() if s else label("consensus", c)
                for s, c in zip(f["suppressed"].astype(bool), f["consensus"], strict=True)
            ],
        )
        rows = rows.assign(pct_top=show_withheld(rows["pct_top"], rows["suppressed"]))
        split = make_table(
            rows,
            [
                Column("statement_id", "Statement"),
                Column("group", "Stakeholder group"),
                Column("panellists", "Panellists", "count"),
                Column("pct_top", f"Rated {bands['top']}", "whole percent"),
                Column("result", "Result"),
            ],
            f"Statements the stakeholder groups split on, round {final}",
        )
    flow = definition.flow.assign(group=definition.flow["panel_group"].map(lambda g: label("panel_groups", g)))
    flow_table = make_table(
        flow,
        [
            Column("round", "Round", "count"),
            Column("group", "Stakeholder group"),
            Column("invited", "Invited", "count"),
            Column("responded", "Responded", "count"),
            Column("response_rate_pct", "Response rate", "whole percent"),
            Column("responded_previous_round", "Also responded to the round before", "count"),
        ],
        "Panellists invited and responding in each round",
    )
    links = definition.links.assign(
        kind=definition.links["item_type"].map(
            {"principle": "Principle", "domain": "Domain", "statement": "Agreed statement"}
        ),
        statements=definition.links["agreed_statements"].replace("", "none"),
    )
    links_table = make_table(
        links,
        [
            Column("item_name", "Framework item or statement"),
            Column("kind", "Kind"),
            Column("statements", "Agreed statements"),
            Column("finding", "Finding"),
        ],
        "The agreed definition against the framework",
    )
    first = definition.flow[(definition.flow["round"] == 1) & (definition.flow["panel_group"] == "all")]
    context = {
        "panellists": int(first["invited"].iloc[0]) if len(first) else 0,
        "rounds": len(rounds),
        "final_round": final,
        "scale": protocol.get("scale", ""),
        "rule": protocol.get("consensus_in", "the protocol's rule is met"),
        "rejected": protocol.get("consensus_out", ""),
        "stability": (protocol.get("stability_rule", "") or "").capitalize(),
        "agreed_count": len(definition.agreed),
        "agreed": agreed_table,
        "rounds_figures": figures,
        "split": split,
        "min_group": protocol.get("min_group_panellists", ""),
        "flow": flow_table,
        "links": links_table,
    }
    return Section("definition", "The London definition", context, figures)


def caveats_section() -> Section:
    """What to bear in mind when reading the baseline."""
    return Section("caveats", "Caveats", {"caveats": CAVEATS})


EVIDENCE_MEASURE = "outcome_rate_violence_with_injury"
EVIDENCE_CAUTIONS = [
    "The link is ecological: it compares boroughs, not people or services, and a borough's council is only one of "
    "the partners whose practice might matter.",
    "It is descriptive, never causal: nothing is adjusted for deprivation, population change, visitors or policing, "
    "and violence may shape practice as much as practice shapes violence.",
    "Recorded crime reflects reporting and recording as well as violence; offences are counted where they happened, "
    "not where the people involved live.",
    "City of London is policed by the City of London Police, not the MPS: it has no outcome figures here.",
    "Later waves will show whether boroughs whose practice moves further along the journey see violence change "
    "differently: one wave cannot.",
]


def _evidence_wave(evidence) -> tuple[str, pd.DataFrame] | None:
    """The latest wave with the headline measure's 12 months before fieldwork, and its cells."""
    cells = evidence.cells[
        (evidence.cells["indicator_id"] == EVIDENCE_MEASURE) & (evidence.cells["period"] == "before")
    ]
    if cells.empty:
        return None
    wave = max(cells["wave"])
    return wave, evidence.cells[evidence.cells["wave"] == wave]


def _outcome_maps(maps, evidence, wave: str) -> Figure | None:
    """The all-ages outcomes' borough maps for the wave (drawn by the report asset), as a figure."""
    from tipipeline.viz.outcome_maps import LAYER, SMALL_MULTIPLES

    record = next((m for m in maps if m.layer == LAYER and m.indicator_id == SMALL_MULTIPLES and m.wave == wave), None)
    if record is None:
        return None
    sources = evidence.catalogue["data_source"].dropna()
    source = f" Source: {sources.iloc[0].rstrip('.')}." if len(sources) else ""
    caption = (
        f"Each borough's rate of each violence outcome in the 12 months before wave {wave}, compared with London's: "
        f"better (lower), similar or worse (higher).{source}"
    )
    return map_figure(record, caption)


def evidence_section(evidence, data: ReportData, maps: list = ()) -> Section:
    """Violence outcomes beside practice: borough maps of each outcome against London, a funnel plot,
    the index against the rate, and Spearman's rho. `maps`: drawn maps, among them the outcome maps."""
    from tipipeline.outcomes.indicators import funnel_curve, funnel_points
    from tipipeline.viz.evidence import index_rate_scatter, outcome_funnel_chart
    from tipipeline.viz.outcome_maps import PERIODS as OUTCOME_PERIODS

    chosen = _evidence_wave(evidence) if evidence is not None else None
    if chosen is None:
        # Said, not left out: a reader should know the outcome side is missing and how to add it.
        return Section("evidence", "The evidence base", {"missing": True, "cautions": EVIDENCE_CAUTIONS}, [])
    wave, cells = chosen
    first = cells[(cells["indicator_id"] == EVIDENCE_MEASURE) & (cells["period"] == "before")].iloc[0]
    period_text = f"{first['period_start']:%B %Y} to {first['period_end']:%B %Y}"
    name = data.indicator_names.get(EVIDENCE_MEASURE, "Violence with injury").split(":")[0]
    funnel = chart_figure(
        outcome_funnel_chart(
            funnel_points(cells, EVIDENCE_MEASURE, wave, "before"),
            funnel_curve(cells, EVIDENCE_MEASURE, wave, "before"),
            name,
            f"12 months before wave {wave} ({period_text})",
        ),
        f"{name} per 1,000 residents by borough, with 95% and 99.8% limits around London.",
    )
    practice = evidence.practice[
        (evidence.practice["wave"] == wave) & (evidence.practice["indicator_id"] == EVIDENCE_MEASURE)
    ]
    correlations = evidence.correlations[evidence.correlations["wave"] == wave]
    headline = correlations[(correlations["indicator_id"] == EVIDENCE_MEASURE) & (correlations["period"] == "before")]
    scatter = chart_figure(
        index_rate_scatter(
            practice, headline.iloc[0] if len(headline) else None, name, f"12 months before wave {wave}"
        ),
        f"Each borough's council index against {name.lower()} per 1,000 residents.",
    )
    names = data.indicator_names
    # Periods not yet published (the 12 months after a recent wave) have no correlation to show.
    correlations = correlations[correlations["rho"].notna()].sort_values(["indicator_id", "period"])
    shown = correlations.assign(
        indicator=correlations["indicator_id"].map(lambda i: names.get(i, i)),
        period=correlations["period"].map({**OUTCOME_PERIODS, "change": "change"}),
    )
    table = make_table(
        shown,
        [
            Column("indicator", "Outcome"),
            Column("period", "Period"),
            Column("rho", "Spearman's rho", "coefficient"),
            Column("lower_ci", "Lower 95% CI", "coefficient"),
            Column("upper_ci", "Upper 95% CI", "coefficient"),
            Column("n", "Boroughs", "count"),
        ],
        f"Rank correlation across boroughs between the council's index and each outcome, wave {wave}",
    )
    outcome_maps = _outcome_maps(maps, evidence, wave)
    context = {
        "missing": False,
        "wave": wave,
        "period_text": period_text,
        "outcome_maps": outcome_maps,
        "funnel": funnel,
        "scatter": scatter,
        "correlations": table,
        "cautions": EVIDENCE_CAUTIONS,
    }
    figures = [f for f in (outcome_maps, funnel, scatter) if f is not None]
    return Section("evidence", "The evidence base", context, figures)
