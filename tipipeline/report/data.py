"""What the report reads from the published baseline: parameterised queries, one per need."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

HEADLINE_INDICATOR = "ti_index_mean"


@dataclass
class ReportData:
    """The published tables the report is made from (a read-only snapshot of the baseline)."""

    indicators: pd.DataFrame
    catalogue: pd.DataFrame
    changes: pd.DataFrame
    journey_summary: pd.DataFrame
    coder_agreement: pd.DataFrame
    data_quality: pd.DataFrame
    reliability: pd.DataFrame
    policy_documents: int
    provenance: pd.DataFrame
    waves: list[str]
    stage_levels: pd.Series  # every organisation-domain's stage level in the latest wave (NaN: too little evidence)
    partnership: pd.DataFrame  # the index per borough, council beside its BCU and ICB, latest wave
    promising: pd.DataFrame  # promising-practice candidates, latest wave

    @property
    def baseline_wave(self) -> str:
        """Later waves are measured against the first wave: the baseline."""
        return self.waves[0]

    @property
    def latest_wave(self) -> str:
        """The most recent survey wave."""
        return self.waves[-1]

    @property
    def indicator_names(self) -> dict[str, str]:
        """Indicator id -> its name in the catalogue."""
        return dict(zip(self.catalogue["indicator_id"], self.catalogue["name"]))


def _frame(conn, sql: str, parameters: list | None = None) -> pd.DataFrame:
    return conn.execute(sql, parameters or []).df()


def survey_waves(indicators: pd.DataFrame) -> list[str]:
    """The survey waves in the indicators table, in order (policy and outcome rows are not waves' results)."""
    return sorted(set(indicators.loc[indicators["source"] == "survey", "wave"]))


def load_report_data(conn) -> ReportData:
    """Everything the report shows, from a connection to the published baseline. `indicators`
    holds the survey rows only: the report's survey sections never see a policy or outcome row (the
    evidence base reads the outcome tables themselves: `load_evidence_data`)."""
    indicators = _frame(conn, "SELECT * FROM indicators WHERE source = 'survey'")
    waves = survey_waves(indicators)
    if not waves:
        raise ValueError("the published baseline holds no survey wave: nothing to report")
    latest = waves[-1]
    return ReportData(
        indicators=indicators,
        catalogue=_frame(conn, "SELECT indicator_id, name FROM indicator_catalogue"),
        changes=_frame(conn, "SELECT * FROM indicator_changes"),
        journey_summary=_frame(conn, "SELECT * FROM journey_summary"),
        coder_agreement=_frame(conn, "SELECT * FROM coder_agreement"),
        data_quality=_frame(conn, "SELECT * FROM data_quality ORDER BY source DESC, wave, source_file"),
        reliability=_frame(conn, "SELECT * FROM reliability ORDER BY wave, domain"),
        policy_documents=int(conn.execute("SELECT count(*) FROM policy_audit").fetchall()[0][0]),
        # One row, the latest publication, so the note (and the report's bytes) never depend on row order.
        provenance=_frame(
            conn,
            "SELECT git_commit, package_version, framework_sha256 FROM provenance "
            "ORDER BY published_at DESC, git_commit LIMIT 1",
        ),
        waves=waves,
        stage_levels=_frame(conn, "SELECT stage_level FROM journey WHERE wave = ?", [latest])["stage_level"],
        partnership=_partnership(conn, HEADLINE_INDICATOR, latest),
        promising=_frame(
            conn,
            """
            SELECT organisation, sector, candidate_documents, percent_willing_to_share, reason
            FROM promising_practice
            WHERE promising_practice_candidate AND wave = ?
            ORDER BY organisation
            """,
            [latest],
        ),
    )


def _partnership(conn, indicator_id: str, wave: str) -> pd.DataFrame:
    """One indicator per borough, council beside its BCU and ICB, with the BCU's and ICB's names."""
    return _frame(
        conn,
        """
        SELECT p.borough_name, p.council_value, p.council_suppressed, p.council_note,
               bcu.geography_name AS bcu_name, p.police_value, p.police_suppressed, p.police_note,
               icb.geography_name AS icb_name, p.health_value, p.health_suppressed, p.health_note
        FROM borough_partnership p
        LEFT JOIN (SELECT DISTINCT geography_code, geography_name FROM indicators
                   WHERE source = 'survey' AND geography_level = 'bcu') bcu
               ON bcu.geography_code = p.bcu_code
        LEFT JOIN (SELECT DISTINCT geography_code, geography_name FROM indicators
                   WHERE source = 'survey' AND geography_level = 'icb') icb
               ON icb.geography_code = p.icb_code
        WHERE p.indicator_id = ? AND p.wave = ?
        ORDER BY p.borough_name
        """,
        [indicator_id, wave],
    )


@dataclass
class EvidenceData:
    """The evidence base's published tables (absent from a baseline published before them)."""

    cells: pd.DataFrame
    practice: pd.DataFrame
    correlations: pd.DataFrame
    coverage: pd.DataFrame
    catalogue: pd.DataFrame  # the outcome indicators' id, name and data source (indicator_catalogue)


EVIDENCE_TABLES = ("outcome_indicators", "partnership_outcomes", "partnership_outcome_correlations", "outcome_coverage")


def load_evidence_data(conn) -> EvidenceData | None:
    """The outcome tables of the published baseline, or None when it has none or they are empty."""
    tables = {t for (t,) in conn.execute("SELECT table_name FROM duckdb_tables()").fetchall()}
    if not set(EVIDENCE_TABLES) <= tables:
        return None
    frames = [_frame(conn, f"SELECT * FROM {name}") for name in EVIDENCE_TABLES]
    catalogue = _frame(
        conn,
        "SELECT indicator_id, name, data_source FROM indicator_catalogue "
        "WHERE indicator_id IN (SELECT indicator_id FROM outcome_indicators) ORDER BY indicator_id",
    )
    evidence = EvidenceData(*frames, catalogue=catalogue)
    if evidence.cells.empty:
        return None
    for column in ("period_start", "period_end"):
        evidence.cells[column] = pd.to_datetime(evidence.cells[column]).dt.date
    return evidence


@dataclass
class DefinitionData:
    """The London definition's published tables (absent from a baseline published before them)."""

    statements: pd.DataFrame
    flow: pd.DataFrame
    agreed: pd.DataFrame
    links: pd.DataFrame
    protocol: dict[str, str]


DEFINITION_TABLES = ("definition_statements", "panel_flow", "london_definition", "definition_framework_links")


def load_definition_data(conn) -> DefinitionData | None:
    """The definition tables of the published baseline, or None when there are none or no rounds."""
    tables = {t for (t,) in conn.execute("SELECT table_name FROM duckdb_tables()").fetchall()}
    if not {*DEFINITION_TABLES, "definition_protocol"} <= tables:
        return None
    frames = [
        _frame(conn, "SELECT * FROM definition_statements ORDER BY statement_id, round, panel_group"),
        _frame(conn, "SELECT * FROM panel_flow ORDER BY round, panel_group"),
        _frame(conn, "SELECT * FROM london_definition ORDER BY position"),
        _frame(conn, "SELECT * FROM definition_framework_links ORDER BY item_type DESC, item_id"),
    ]
    if frames[0].empty:
        return None
    protocol = dict(conn.execute("SELECT setting, value FROM definition_protocol").fetchall())
    return DefinitionData(*frames, protocol=protocol)
