"""The indicator catalogue (indicators.yaml): families expanded over domains and principles,
validated, as one row per published indicator with the Fingertips metadata fields."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

import pandas as pd
from pydantic import BaseModel, ConfigDict, StringConstraints, ValidationError

from tipipeline import registry
from tipipeline.errors import ConfigError, format_pydantic_error, read_yaml_mapping
from tipipeline.framework.model import Framework

CATALOGUE_PATH = Path(__file__).with_name("indicators.yaml")
Text = Annotated[str, StringConstraints(min_length=1, strip_whitespace=True)]
# The Fingertips metadata fields every indicator has: the published catalogue's columns.
FINGERTIPS_FIELDS = registry.published_table("indicator_catalogue").names


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Defaults(_Strict):
    data_source: Text
    frequency: Text
    disclosure_control: Text
    caveats: Text


class IndicatorSpec(_Strict):
    id: Text
    name: Text
    definition: Text
    rationale: Text
    measure: Literal["mean", "agree", "proportion", "policy"]
    source: str | None = None
    over: Literal["domains", "principles"] | None = None
    numerator: Text
    denominator: Text
    methodology: Text
    ci_method: Text
    unit: Text
    value_type: Text
    polarity: Literal["higher_is_better", "lower_is_better", "no_judgement"]
    data_source: str | None = None
    frequency: str | None = None
    disclosure_control: str | None = None
    caveats: str | None = None


class Catalogue(_Strict):
    version: Text
    defaults: Defaults
    families: list[IndicatorSpec]
    indicators: list[IndicatorSpec]


def score_indicators(framework: Framework) -> list[str]:
    """The mean-score indicators mapped and compared across partners: the index, then each domain."""
    return ["ti_index_mean", *[f"domain_mean_{d.id}" for d in framework.domains]]


def load_indicator_catalogue(framework: Framework, path: str | Path = CATALOGUE_PATH) -> pd.DataFrame:
    """One row per indicator: Fingertips fields plus how to compute it (measure, subject)."""
    raw, _ = read_yaml_mapping(path, "indicator catalogue")
    try:
        catalogue = Catalogue.model_validate(raw)
    except ValidationError as exc:
        raise format_pydantic_error(path, exc) from exc
    threshold = str(framework.disclosure.min_cell_size)
    rows = []
    for family in catalogue.families:
        subjects = framework.domains if family.over == "domains" else framework.principles
        subject_type = "domain" if family.over == "domains" else "principle"
        for subject in subjects:
            values = {
                "id": subject.id,
                "name": subject.name,
                "description": subject.description,
                "threshold": threshold,
            }
            rows.append(_row(family, catalogue.defaults, subject_type, subject.id, values))
    for spec in catalogue.indicators:
        subject_type = {"mean": "index", "agree": "index", "proportion": "respondent", "policy": "policy"}[spec.measure]
        rows.append(_row(spec, catalogue.defaults, subject_type, spec.source, {"threshold": threshold}))
    frame = pd.DataFrame(rows)
    duplicated = frame["indicator_id"][frame["indicator_id"].duplicated()]
    if len(duplicated):
        raise ConfigError(path, "indicators", f"duplicate indicator id {duplicated.iloc[0]!r}")
    return frame


def _row(spec: IndicatorSpec, defaults: Defaults, subject_type: str, subject_id, values: dict) -> dict:
    """One catalogue row; `values` fill the {placeholders} (domain or principle, threshold)."""

    def fill(name: str) -> str:
        text = getattr(spec, name, None) or getattr(defaults, name)
        return text.format(**values)

    row = {
        name: fill(name)
        for name in [
            "name",
            "definition",
            "rationale",
            "data_source",
            "numerator",
            "denominator",
            "methodology",
            "ci_method",
            "disclosure_control",
            "caveats",
            "unit",
            "value_type",
            "frequency",
        ]
    }
    row.update(
        indicator_id=spec.id.format(**values),
        polarity=spec.polarity,
        measure=spec.measure,
        subject_type=subject_type,
        subject_id=subject_id,
    )
    return {key: row[key] for key in [*FINGERTIPS_FIELDS, "measure", "subject_type", "subject_id"]}


def indicator_families(catalogue: pd.DataFrame) -> dict[str, str]:
    """indicator_id -> family: the indicators of one subject (a domain's mean and % agreeing) share
    their respondents, so disclosure control decides for them together."""
    survey = catalogue[catalogue["measure"] != "policy"]
    return dict(zip(survey["indicator_id"], survey["subject_type"] + ":" + survey["subject_id"]))
