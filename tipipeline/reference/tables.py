"""The reference and framework tables as the warehouse stores them (pure functions)."""

from __future__ import annotations

import pandas as pd

from tipipeline import registry
from tipipeline.framework import Framework
from tipipeline.reference.geography import AliasResolver, Reference


def boroughs_table(reference: Reference) -> pd.DataFrame:
    return reference.boroughs_at()


def icbs_table(reference: Reference) -> pd.DataFrame:
    return reference.icbs.copy()


def borough_icb_lookup_table(reference: Reference) -> pd.DataFrame:
    return reference.borough_icb.copy()


def bcus_table(reference: Reference) -> pd.DataFrame:
    return reference.bcus.copy()


def organisations_table(reference: Reference) -> pd.DataFrame:
    return reference.organisations.copy()


def aliases_table(reference: Reference) -> pd.DataFrame:
    """Every normalised spelling the resolver accepts, with the code it resolves to."""
    return AliasResolver(reference).aliases_frame()


def tile_grid_table(reference: Reference) -> pd.DataFrame:
    codes = reference.boroughs[["short_code", "gss_code"]]
    grid = reference.tile_grid.merge(codes, on="short_code", how="left", validate="one_to_one")
    return grid[registry.table("tile_grid").names]


def principles_table(framework: Framework) -> pd.DataFrame:
    return pd.DataFrame(
        [
            {"principle_id": p.id, "name": p.name, "description": p.description, "framework_version": framework.version}
            for p in framework.principles
        ]
    )


def domains_table(framework: Framework) -> pd.DataFrame:
    return pd.DataFrame(
        [
            {"domain_id": d.id, "name": d.name, "description": d.description, "framework_version": framework.version}
            for d in framework.domains
        ]
    )


def journey_stages_table(framework: Framework) -> pd.DataFrame:
    frame = framework.stages_frame()
    threshold_columns = ["min_mean_score", "min_percent_agree", "min_policy_comprehensiveness", "min_policy_strength"]
    frame[threshold_columns] = frame[threshold_columns].astype("float64")
    frame["framework_version"] = framework.version
    return frame
