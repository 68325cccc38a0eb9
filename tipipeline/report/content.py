"""The report's sections, from the published baseline's tables (read-only connection)."""

from __future__ import annotations

import html

import pandas as pd

from tipipeline.framework import Framework
from tipipeline.framework.catalogue import score_indicators
from tipipeline.report.builder import Figure, figure_html, paragraph, render_report, table_html
from tipipeline.viz.charts import change_chart, funnel_chart, journey_chart
from tipipeline.viz.style import render

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


def _figure(fig_alt_table, caption: str) -> Figure:
    fig, alt, table = fig_alt_table
    png, _ = render(fig)
    return Figure(png, alt, caption, table)


def build_report(conn, maps, framework: Framework, synthetic: bool, threshold: int) -> tuple[str, list[Figure]]:
    """The report HTML and the figures in it."""
    q = lambda sql: conn.execute(sql).df()  # noqa: E731
    indicators = q("SELECT * FROM indicators")
    catalogue = q("SELECT * FROM indicator_catalogue")
    names = dict(zip(catalogue["indicator_id"], catalogue["name"]))
    domain_names = {d.id: d.name for d in framework.domains}
    waves = sorted(set(indicators["wave"]) - {"policy_audit"})
    latest = waves[-1]
    figures: list[Figure] = []
    sections = []

    def add(fig: Figure) -> str:
        figures.append(fig)
        return figure_html(fig)

    # Summary
    london = indicators[(indicators["geography_level"] == "london") & (indicators["indicator_id"] == "ti_index_mean")]
    changes = q("SELECT * FROM indicator_changes")
    index_change = changes[(changes["geography_level"] == "london") & (changes["indicator_id"] == "ti_index_mean")]
    journey = q("SELECT * FROM journey")
    agreement = q("SELECT * FROM coder_agreement")
    documents = q("SELECT count(*) AS n FROM policy_audit")["n"].iloc[0]
    key = []
    for row in london.sort_values("wave").itertuples():
        if row.suppressed:
            key.append(
                f"<li>Index, London, wave {html.escape(row.wave)}<strong>suppressed</strong>"
                f"{html.escape(str(row.suppression_reason))}</li>"
            )
        else:
            key.append(
                f"<li>Index, London, wave {html.escape(row.wave)}<strong>{row.value:.2f}</strong>"
                f"{int(row.n):,} respondents</li>"
            )
    if len(index_change) and not index_change.iloc[-1]["suppressed"]:
        change = index_change.iloc[-1]
        key.append(
            f"<li>Change {html.escape(change.from_wave)} to {html.escape(change.to_wave)}"
            f"<strong>{change.change:+.2f}</strong>{html.escape(change.significance)}</li>"
        )
    latest_journey = journey[(journey["wave"] == latest) & journey["stage_level"].notna()]
    informed = latest_journey["stage_level"].ge(3).mean() * 100 if len(latest_journey) else float("nan")
    if len(latest_journey):
        key.append(
            f"<li>Organisation-domains trauma-informed or further, wave {html.escape(latest)}"
            f"<strong>{informed:.0f}%</strong>of those with enough evidence</li>"
        )
    overall = agreement[agreement["principle"] == "overall"]
    if len(overall) and pd.notna(overall["kappa"].iloc[0]):
        key.append(
            f"<li>Policy documents audited<strong>{documents:,}</strong>coder agreement kappa "
            f"{overall['kappa'].iloc[0]:.2f}</li>"
        )
    sectors = indicators[
        (indicators["indicator_id"] == "ti_index_mean")
        & (indicators["geography_level"] == "sector")
        & (indicators["wave"] == latest)
    ]
    sector_text = (
        "; ".join(
            f"{r.geography_name}: {r.value:.2f} ({r.comparison} compared with London)"
            for r in sectors.itertuples()
            if not r.suppressed
        )
        or "suppressed for every sector"
    )
    sections.append(
        {
            "id": "summary",
            "title": "Summary",
            "html": (
                f'<ul class="key">{"".join(key)}</ul>'
                + paragraph(
                    f"This is the baseline of trauma-informed practice across London's Serious Violence Duty partners: "
                    f"the 33 local authorities, the Metropolitan Police Service and its 12 Basic Command Units, and the "
                    f"5 NHS Integrated Care Boards. In wave {latest}, the trauma-informed practice index (1 to 5) was "
                    f"{sector_text}."
                )
                + paragraph("Later survey waves will be measured against this baseline.")
            ),
        }
    )

    # Definition and framework
    principles = pd.DataFrame([{"Principle": p.name, "What it means": p.description} for p in framework.principles])
    domains = pd.DataFrame([{"Domain": d.name, "What it covers": d.description} for d in framework.domains])
    stages = pd.DataFrame(
        [{"Stage": s.level, "Name": s.name, "What it looks like": s.description} for s in framework.stages]
    )
    sections.append(
        {
            "id": "framework",
            "title": "Definition and framework",
            "html": (
                paragraph(DEFINITION)
                + "<h3>The six principles</h3>"
                + table_html(principles, "Principles of trauma-informed practice (OHID 2022)")
                + "<h3>The implementation domains</h3>"
                + table_html(domains, "Implementation domains (after SAMHSA 2014)")
                + "<h3>The journey</h3>"
                + table_html(stages, "Journey stages, in the VRU's order")
            ),
        }
    )

    # Data and methods
    quality = q("SELECT * FROM data_quality")
    reliability = q("SELECT * FROM reliability")
    reliability["domain"] = reliability["domain"].map(domain_names)
    rule = framework.stage_rule
    sections.append(
        {
            "id": "methods",
            "title": "Data and methods",
            "html": (
                "<h3>Data quality</h3>"
                + add(
                    _figure(
                        funnel_chart(quality),
                        "Every survey row read is accepted, quarantined or excluded by a documented rule.",
                    )
                )
                + table_html(
                    quality[
                        [
                            "source",
                            "wave",
                            "source_file",
                            "rows_read",
                            "rows_accepted",
                            "rows_quarantined",
                            "rows_excluded",
                            "excluded_by_rule",
                        ]
                    ],
                    "Rows per source file",
                )
                + "<h3>Reliability of the domains</h3>"
                + paragraph("Cronbach's alpha per domain and wave; 0.7 or more is usually taken as acceptable.")
                + table_html(reliability.round(3), "Cronbach's alpha")
                + "<h3>Agreement between policy-audit coders</h3>"
                + table_html(agreement.round(3), "Cohen's kappa (unweighted and linear-weighted) and % agreement")
                + "<h3>Methods</h3>"
                + paragraph(
                    "Domain and principle scores are the mean of a respondent's answered items (reverse-coded items "
                    "flipped) when at least half are answered. Means have Student's t 95% confidence intervals; "
                    "percentages have Wilson score intervals. Each area is compared with London: similar when London's "
                    "value lies inside the area's interval, otherwise better or worse. Changes between waves use "
                    "Welch's interval for means and Newcombe's for percentages."
                )
                + paragraph(
                    f"Disclosure control: no value is shown for a group of fewer than {threshold} respondents, and "
                    "further values are withheld where they would let a withheld value be worked out from totals "
                    "(a domain's mean score and its % agreeing are withheld together, as they share respondents). "
                    "An independent audit checks, by integer programming over everything published, that no "
                    f"withheld group size can be narrowed to fewer than {threshold} possible values, nor a withheld "
                    "count of people agreeing to a single value. Withheld values are marked as suppressed, never "
                    "shown as zero."
                )
                + paragraph(
                    f"Journey stages: an organisation reaches the highest stage whose thresholds it meets, and every "
                    f"lower stage's, on its mean score, % agreeing and policy audit; with fewer than "
                    f"{rule.min_respondents} respondents the evidence is insufficient."
                )
            ),
        }
    )

    # Indicators by domain (latest wave maps)
    parts = []
    maps_latest = {m.indicator_id: m for m in maps if m.wave == latest and m.layer == "partnership"}
    for indicator_id in score_indicators(framework):
        title = names[indicator_id].replace(": mean score", "")
        parts.append(f"<h3>{html.escape(title)}</h3>")
        record = maps_latest.get(indicator_id)
        if record is not None:
            parts.append(
                add(
                    Figure(
                        record.png,
                        record.alt_text,
                        f"{record.title}: councils by borough, police by BCU, health by ICB.",
                        record.data,
                    )
                )
            )
        rows = indicators[
            (indicators["indicator_id"] == indicator_id) & indicators["geography_level"].isin(["london", "sector"])
        ]
        table = rows.pivot_table(index="geography_name", columns="wave", values="value", aggfunc="first").round(2)
        parts.append(
            table_html(
                table.reset_index().rename(columns={"geography_name": "Area"}),
                f"{title}: mean score by wave, London and sectors",
            )
        )
    sections.append({"id": "indicators", "title": "Indicators by domain", "html": "".join(parts)})

    # Journey and roadmap
    summary = q("SELECT * FROM journey_summary")
    stage_table = pd.DataFrame(
        [{"Stage": s.name, "What the next step looks like": s.next_step} for s in framework.stages]
    )
    sections.append(
        {
            "id": "journey",
            "title": "Journey and roadmap",
            "html": (
                add(
                    _figure(
                        journey_chart(
                            summary,
                            latest,
                            pd.DataFrame([{"level": s.level, "name": s.name} for s in framework.stages]),
                            domain_names,
                        ),
                        f"Where organisations are on the journey, wave {latest}.",
                    )
                )
                + add(_figure(change_chart(changes, indicators, domain_names), "Change between waves in London."))
                + "<h3>The roadmap</h3>"
                + table_html(stage_table, "What the next step looks like at each stage")
            ),
        }
    )

    # Borough partnership profiles
    partnership = q(
        f"SELECT borough_name, council_value, council_note, bcu_code, police_value, police_note, "
        f"icb_code, health_value, health_note FROM borough_partnership "
        f"WHERE indicator_id = 'ti_index_mean' AND wave = '{latest}' ORDER BY borough_name"
    )
    partnership.columns = [
        "Borough",
        "Council",
        "Council note",
        "BCU",
        "Police (BCU)",
        "Police note",
        "ICB",
        "Health (ICB)",
        "Health note",
    ]
    sections.append(
        {
            "id": "partnership",
            "title": "Borough partnership profiles",
            "html": (
                paragraph(
                    f"For each borough, the trauma-informed practice index of its council, its police BCU and its ICB "
                    f"side by side, wave {latest}. A BCU and an ICB cover several boroughs."
                )
                + table_html(partnership, "Borough partnership: index by partner")
            ),
        }
    )

    # Promising practice
    promising = q(
        "SELECT organisation, sector, candidate_documents, percent_willing_to_share, reason FROM "
        "promising_practice WHERE promising_practice_candidate ORDER BY organisation"
    )
    promising.columns = ["Organisation", "Sector", "Candidate documents", "% willing to share", "Why"]
    sections.append(
        {
            "id": "promising",
            "title": "Promising practice",
            "html": (
                paragraph(
                    "Organisations with policy documents that make specific, operational commitments and staff willing "
                    "to share their practice. Free-text examples are held securely and never published."
                )
                + table_html(promising, "Promising-practice candidates")
            ),
        }
    )

    sections.append(
        {
            "id": "caveats",
            "title": "Caveats",
            "html": "<ul>" + "".join(f"<li>{html.escape(c)}</li>" for c in CAVEATS) + "</ul>",
        }
    )

    provenance = q("SELECT DISTINCT git_commit, package_version, framework_sha256 FROM provenance")
    note = (
        f"Built by tipipeline {provenance['package_version'].iloc[0]} (commit {provenance['git_commit'].iloc[0][:12]}), "
        f"framework {provenance['framework_sha256'].iloc[0][:12]}."
        if len(provenance)
        else ""
    )
    report = render_report(
        "Trauma-informed practice in London: the baseline",
        f"Survey waves {', '.join(waves)}; London Violence Reduction Unit.",
        sections,
        synthetic,
        note,
    )
    return report, figures
