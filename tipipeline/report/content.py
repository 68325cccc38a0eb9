"""The baseline report from the published baseline's tables (read-only connection)."""

from __future__ import annotations

from tipipeline.framework import Framework
from tipipeline.report import data as queries
from tipipeline.report import sections
from tipipeline.report.builder import render_report
from tipipeline.report.figures import Figure

TITLE = "Trauma-informed practice in London: the baseline"


def _provenance_note(data: queries.ReportData) -> str:
    if data.provenance.empty:
        return ""
    row = data.provenance.iloc[0]
    return (
        f"Built by tipipeline {row['package_version']} (commit {row['git_commit'][:12]}), "
        f"framework {row['framework_sha256'][:12]}."
    )


def build_report(conn, maps, framework: Framework, synthetic: bool, threshold: int) -> tuple[str, list[Figure]]:
    """The report HTML and the figures in it, from a connection to the published baseline and the
    latest wave's partnership maps and outcome maps (tipipeline.viz.atlas.MapRecord)."""
    data = queries.load_report_data(conn)
    parts = [
        sections.summary_section(data, framework),
        sections.framework_section(framework),
        sections.definition_section(queries.load_definition_data(conn)),
        sections.methods_section(data, framework, threshold),
        sections.indicators_section(data, maps, framework),
        sections.journey_section(data, framework),
        sections.partnership_section(data),
        sections.promising_section(data),
        sections.evidence_section(queries.load_evidence_data(conn), data, maps),
        sections.caveats_section(),
    ]
    parts = [part for part in parts if part is not None]
    subtitle = (
        f"Survey waves {', '.join(data.waves)} (baseline: wave {data.baseline_wave}); London Violence Reduction Unit."
    )
    report = render_report(TITLE, subtitle, parts, synthetic, _provenance_note(data))
    return report, [figure for part in parts for figure in part.figures]
