"""Validated model of `framework.yaml`. A malformed file raises ConfigError naming the field."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Annotated, Literal

import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError, model_validator

from tipipeline.errors import format_pydantic_error, read_yaml_mapping

FRAMEWORK_PATH = Path(__file__).with_name("framework.yaml")

Identifier = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]*$")]
Text = Annotated[str, StringConstraints(min_length=1, strip_whitespace=True)]
Percent = Annotated[float, Field(ge=0, le=100)]


class _Strict(BaseModel):
    # Unknown keys are mistakes (a typo in a threshold name would otherwise be silently ignored).
    model_config = ConfigDict(extra="forbid", frozen=True)


class Principle(_Strict):
    id: Identifier
    name: Text
    description: Text


class Domain(_Strict):
    id: Identifier
    name: Text
    description: Text


class Stage(_Strict):
    level: Annotated[int, Field(ge=0)]
    id: Identifier
    name: Text
    description: Text
    next_step: Text


class StageThreshold(_Strict):
    """Conditions for reaching `level`; an absent condition is not required."""

    level: Annotated[int, Field(ge=1)]
    min_mean_score: float | None = None
    min_percent_agree: Percent | None = None
    min_policy_comprehensiveness: Percent | None = None
    min_policy_strength: Percent | None = None


class StageRule(_Strict):
    min_respondents: Annotated[int, Field(ge=1)]
    agree_threshold: float
    insufficient_evidence_label: Text
    policy_measure: Literal["mean_document", "best_per_principle"] = "mean_document"
    thresholds: list[StageThreshold]


class Scoring(_Strict):
    min_share_of_domains: Annotated[float, Field(gt=0, le=1)]


class Disclosure(_Strict):
    min_cell_size: Annotated[int, Field(ge=1)]


class PromisingPractice(_Strict):
    min_candidate_documents: Annotated[int, Field(ge=0)]
    min_percent_willing_to_share: Percent


class PolicyAuditRule(_Strict):
    score_labels: dict[int, Text]
    promising_practice_min_strength: Percent

    @model_validator(mode="after")
    def _scores(self) -> PolicyAuditRule:
        if sorted(self.score_labels) != [0, 1, 2]:
            raise ValueError(f"@score_labels: the audit scale is 0, 1, 2; found {sorted(self.score_labels)}")
        return self


class Framework(_Strict):
    version: Text
    title: Text
    principles: Annotated[list[Principle], Field(min_length=1)]
    domains: Annotated[list[Domain], Field(min_length=1)]
    stages: Annotated[list[Stage], Field(min_length=2)]
    stage_rule: StageRule
    policy_audit: PolicyAuditRule
    scoring: Scoring
    disclosure: Disclosure
    promising_practice: PromisingPractice
    # Set by load_framework; not part of the file.
    sha256: str = ""

    @model_validator(mode="after")
    def _consistent(self) -> Framework:
        for name, items in (("principles", self.principles), ("domains", self.domains), ("stages", self.stages)):
            ids = [item.id for item in items]
            for index, item_id in enumerate(ids):
                if ids.index(item_id) != index:
                    raise ValueError(f"@{name}[{index}].id: duplicate id {item_id!r}")
        levels = [stage.level for stage in self.stages]
        if levels != list(range(len(levels))):
            raise ValueError(f"@stages: levels must run 0, 1, 2, ... in order; found {levels}")
        rule_levels = [t.level for t in self.stage_rule.thresholds]
        if rule_levels != levels[1:]:
            raise ValueError(
                f"@stage_rule.thresholds: need one threshold per stage above 0, in order "
                f"(levels {levels[1:]}); found {rule_levels}"
            )
        return self

    def stages_frame(self) -> pd.DataFrame:
        """Stages with their thresholds, one row per stage (the roadmap)."""
        thresholds = {t.level: t for t in self.stage_rule.thresholds}
        rows = []
        for stage in self.stages:
            t = thresholds.get(stage.level)
            rows.append(
                {
                    "level": stage.level,
                    "stage_id": stage.id,
                    "name": stage.name,
                    "description": stage.description,
                    "next_step": stage.next_step,
                    "min_mean_score": t.min_mean_score if t else None,
                    "min_percent_agree": t.min_percent_agree if t else None,
                    "min_policy_comprehensiveness": t.min_policy_comprehensiveness if t else None,
                    "min_policy_strength": t.min_policy_strength if t else None,
                }
            )
        return pd.DataFrame(rows)


def load_framework(path: str | Path = FRAMEWORK_PATH) -> Framework:
    """Read and validate a framework file; raise ConfigError naming the file and the field."""
    path = Path(path)
    raw, raw_bytes = read_yaml_mapping(path, "framework file")
    try:
        framework = Framework.model_validate(raw)
    except ValidationError as exc:
        raise format_pydantic_error(path, exc) from exc
    return framework.model_copy(update={"sha256": hashlib.sha256(raw_bytes).hexdigest()})
