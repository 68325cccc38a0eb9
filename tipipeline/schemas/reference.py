"""Schemas of the reference tables (geography and the measurement framework)."""

from __future__ import annotations

import pandera.pandas as pa
from pandera.typing import Series

from tipipeline.schemas.base import StrictModel

GSS_BOROUGH = r"^E09000(0[0-2][0-9]|03[0-3])$"
GSS_ICB = r"^E540000\d\d$"


class Boroughs(StrictModel):
    gss_code: Series[str] = pa.Field(str_matches=GSS_BOROUGH, unique=True)
    name: Series[str] = pa.Field(str_length={"min_value": 1}, unique=True)
    short_code: Series[str] = pa.Field(str_matches=r"^[A-Z]{3}$", unique=True)
    inner_london: Series[bool]
    bcu_code: Series[str] = pa.Field(nullable=True, str_matches=r"^[A-Z]{2}$")
    icb_code: Series[str] = pa.Field(str_matches=GSS_ICB)


class Icbs(StrictModel):
    icb_code: Series[str] = pa.Field(str_matches=GSS_ICB, unique=True)
    ods_code: Series[str] = pa.Field(str_matches=r"^Q[A-Z0-9]{2}$", unique=True)
    name: Series[str] = pa.Field(str_startswith="NHS ", unique=True)
    short_name: Series[str] = pa.Field(unique=True)
    valid_from: Series[pa.DateTime]


class BoroughIcbLookup(StrictModel):
    gss_code: Series[str] = pa.Field(str_matches=GSS_BOROUGH)
    icb_code: Series[str] = pa.Field(str_matches=GSS_ICB)
    valid_from: Series[pa.DateTime]
    valid_to: Series[pa.DateTime] = pa.Field(nullable=True)


class Bcus(StrictModel):
    bcu_code: Series[str] = pa.Field(str_matches=r"^[A-Z]{2}$", unique=True)
    name: Series[str] = pa.Field(unique=True)


class Organisations(StrictModel):
    org_id: Series[str] = pa.Field(str_matches=r"^E(09|23|54)\d{6}$", unique=True)
    name: Series[str] = pa.Field(unique=True)
    short_name: Series[str] = pa.Field(unique=True)
    sector: Series[str] = pa.Field(isin=["council", "police", "health"])
    org_type: Series[str] = pa.Field(isin=["local_authority", "police_force", "integrated_care_board"])
    area_code: Series[str]
    ods_code: Series[str] = pa.Field(nullable=True)


class Aliases(StrictModel):
    entity: Series[str] = pa.Field(isin=["organisation", "borough", "bcu", "icb"])
    normalised_alias: Series[str] = pa.Field(str_length={"min_value": 1})
    code: Series[str]

    @pa.dataframe_check
    def one_code_per_alias(cls, df):
        return ~df.duplicated(["entity", "normalised_alias"], keep=False)


class TileGrid(StrictModel):
    short_code: Series[str] = pa.Field(str_matches=r"^[A-Z]{3}$", unique=True)
    gss_code: Series[str] = pa.Field(str_matches=GSS_BOROUGH, unique=True)
    x: Series[int] = pa.Field(ge=0, le=7)
    y: Series[int] = pa.Field(ge=0, le=6)

    @pa.dataframe_check
    def one_borough_per_tile(cls, df):
        return ~df.duplicated(["x", "y"], keep=False)


class Principles(StrictModel):
    principle_id: Series[str] = pa.Field(unique=True)
    name: Series[str]
    description: Series[str]
    framework_version: Series[str]


class Domains(StrictModel):
    domain_id: Series[str] = pa.Field(unique=True)
    name: Series[str]
    description: Series[str]
    framework_version: Series[str]


class JourneyStages(StrictModel):
    level: Series[int] = pa.Field(ge=0, unique=True)
    stage_id: Series[str] = pa.Field(unique=True)
    name: Series[str]
    description: Series[str]
    next_step: Series[str]
    min_mean_score: Series[float] = pa.Field(nullable=True, ge=1, le=5)
    min_percent_agree: Series[float] = pa.Field(nullable=True, ge=0, le=100)
    min_policy_comprehensiveness: Series[float] = pa.Field(nullable=True, ge=0, le=100)
    min_policy_strength: Series[float] = pa.Field(nullable=True, ge=0, le=100)
    framework_version: Series[str]
