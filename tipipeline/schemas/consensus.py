"""Schemas of the London definition's tables (issue 15): the panel's staging tables and results."""

from __future__ import annotations

from tipipeline.consensus.statistics import IN, NONE, OUT
from tipipeline.consensus.tables import VALUE_COLUMNS
from tipipeline.schemas.models import dataframe_check, model, vocabulary

vocabulary("consensus", [IN, OUT, NONE])


@dataframe_check
def missing_iff_no_rating(df):
    return df["rating"].isna() == df["missing_reason"].notna()


@dataframe_check
def suppressed_rows_have_no_values(df):
    # Every result column, as the builder blanks them (consensus.tables.VALUE_COLUMNS).
    return ~df["suppressed"] | df[[c for c in VALUE_COLUMNS if c in df]].isna().all(axis=1)


@dataframe_check
def responders_were_invited(df):
    return df["responded"] <= df["invited"]


StgPanellists = model("stg_panellists")
StgPanelInvitations = model("stg_panel_invitations")
StgPanelResponses = model("stg_panel_responses")
StgPanelRatings = model("stg_panel_ratings")
DefinitionQuarantine = model("definition_quarantine")
DefinitionExclusions = model("definition_exclusions")
DefinitionDataQuality = model("definition_data_quality")
DefinitionStatements = model("definition_statements")
PanelFlow = model("panel_flow")
LondonDefinition = model("london_definition")
DefinitionFrameworkLinks = model("definition_framework_links")
DefinitionProtocolTable = model("definition_protocol")
