"""From the definition folder to the published tables: the steps the Dagster assets call."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import duckdb
import pandas as pd

from tipipeline.consensus import tables
from tipipeline.consensus.config import DefinitionProtocol, Statements, load_protocol, load_statements
from tipipeline.consensus.rounds import PanelIngest, ingest_panel
from tipipeline.errors import ConfigError
from tipipeline.framework import Framework, load_framework
from tipipeline.ingest.identifiers import pseudonym_key
from tipipeline.reference import AliasResolver, load_reference

PROTOCOL_FILE = "definition.yaml"
STATEMENTS_FILE = "statements.yaml"


@dataclass
class DefinitionInputs:
    protocol: DefinitionProtocol
    statements: Statements
    framework: Framework
    ingest: PanelIngest


def load_definition_config(folder: Path, framework: Framework | None = None) -> tuple[DefinitionProtocol, Statements]:
    """The protocol and statements in `folder` (ConfigError naming a missing file)."""
    for name in (PROTOCOL_FILE, STATEMENTS_FILE):
        if not (folder / name).is_file():
            raise ConfigError(folder / name, "", f"the definition folder needs {name} beside the panel and rounds")
    return load_protocol(folder / PROTOCOL_FILE), load_statements(
        folder / STATEMENTS_FILE, framework or load_framework()
    )


def read_definition_inputs(folder: Path) -> DefinitionInputs | None:
    """Everything in the definition folder, read and pseudonymised; None when there is no folder."""
    if not folder.is_dir():
        return None
    framework = load_framework()
    protocol, statements = load_definition_config(folder, framework)
    key = pseudonym_key(protocol.synthetic)
    ingest = ingest_panel(folder, protocol, statements, key, AliasResolver(load_reference()))
    return DefinitionInputs(protocol, statements, framework, ingest)


def build_results(conn: duckdb.DuckDBPyConnection, folder: Path) -> dict[str, pd.DataFrame]:
    """The published definition tables from the staging tables (empty without a definition folder)."""
    framework = load_framework()
    if not folder.is_dir():
        agreed = tables.london_definition(pd.DataFrame(), None, framework)
        return {
            "definition_statements": pd.DataFrame(columns=tables.STATEMENT_COLUMNS).astype(tables.STATEMENT_DTYPES),
            "panel_flow": tables.panel_flow({}, {}, pd.DataFrame(columns=["panellist_id", "stakeholder_group"]), []),
            "london_definition": agreed,
            "definition_framework_links": tables.framework_links(agreed, framework),
            "definition_protocol": pd.DataFrame(columns=["setting", "value"]),
        }
    protocol, statements = load_definition_config(folder, framework)
    panellists = conn.execute("SELECT * FROM stg_panellists").df()
    ratings = conn.execute("SELECT * FROM stg_panel_ratings").df()
    invitations = conn.execute("SELECT * FROM stg_panel_invitations").df()
    responses = conn.execute("SELECT * FROM stg_panel_responses").df()
    results = tables.statement_results(ratings, panellists, protocol, statements)
    invited = {int(r): set(g["panellist_id"]) for r, g in invitations.groupby("round")}
    responded = {int(r): set(g["panellist_id"]) for r, g in responses.groupby("round")}
    agreed = tables.london_definition(results, statements, framework)
    return {
        "definition_statements": results,
        "panel_flow": tables.panel_flow(invited, responded, panellists, protocol.panel.groups),
        "london_definition": agreed,
        "definition_framework_links": tables.framework_links(agreed, framework),
        "definition_protocol": tables.protocol_table(protocol),
    }
