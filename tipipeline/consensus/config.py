"""The London definition's inputs as validated data: the consensus protocol (`definition.yaml`)
and the candidate statements (`statements.yaml`), both in `data/raw/definition/`.

A malformed file raises ConfigError naming the file and the field. The protocol is the study's,
fixed before round 1, so it is data: changing a threshold re-judges every round.
"""

from __future__ import annotations

import hashlib
from fractions import Fraction
from pathlib import Path
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError, model_validator

from tipipeline.consensus.statistics import Band, BandRule, Scale
from tipipeline.errors import format_pydantic_error, read_yaml_mapping
from tipipeline.framework import Framework

Identifier = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]*$")]
StatementId = Annotated[str, StringConstraints(pattern=r"^[A-Za-z][A-Za-z0-9_.-]*$")]
Text = Annotated[str, StringConstraints(min_length=1, strip_whitespace=True)]
Percent = Annotated[float, Field(ge=0, le=100)]


class _Strict(BaseModel):
    # Unknown keys are mistakes: a misspelt threshold must not be silently ignored.
    model_config = ConfigDict(extra="forbid", frozen=True)


def _exact(value: float) -> Fraction:
    """A threshold as the decimal the user wrote (70 -> 70, 66.7 -> 667/10), not its binary float."""
    return Fraction(repr(float(value)))


class ScaleConfig(_Strict):
    minimum: int
    maximum: int
    bottom: tuple[int, int]
    top: tuple[int, int]
    # Answers given as text ("Strongly agree") and their ratings; numbers are read as they are.
    labels: dict[Text, int] = {}
    # Answers that are not a rating and leave the statement unrated by that panellist.
    unable_to_rate: list[Text] = []

    @model_validator(mode="after")
    def _bands(self) -> ScaleConfig:
        if self.minimum >= self.maximum:
            raise ValueError(f"@maximum: must be above the minimum {self.minimum}")
        for name in ("bottom", "top"):
            low, high = getattr(self, name)
            if not self.minimum <= low <= high <= self.maximum:
                raise ValueError(f"@{name}: {low}-{high} is not a range within {self.minimum}-{self.maximum}")
        if self.bottom[1] >= self.top[0]:
            raise ValueError(f"@top: the top band {self.top} must lie above the bottom band {self.bottom}")
        for label, value in self.labels.items():
            if not self.minimum <= value <= self.maximum:
                raise ValueError(f"@labels.{label}: {value} is outside {self.minimum}-{self.maximum}")
        return self

    def scale(self) -> Scale:
        return Scale(self.minimum, self.maximum, Band(*self.bottom), Band(*self.top))


class InCondition(_Strict):
    top_min_percent: Percent
    bottom_max_percent: Percent | None = None


class OutCondition(_Strict):
    bottom_min_percent: Percent
    top_max_percent: Percent | None = None


class ConsensusConfig(_Strict):
    method: Literal["bands", "ipras"]
    # For `bands` only.
    in_: InCondition | None = Field(default=None, alias="in")
    out: OutCondition | None = None

    @model_validator(mode="after")
    def _complete(self) -> ConsensusConfig:
        if self.method == "bands" and (self.in_ is None or self.out is None):
            raise ValueError("@method: the bands rule needs both `in` and `out` conditions")
        if self.method == "ipras" and (self.in_ is not None or self.out is not None):
            raise ValueError("@method: the ipras rule takes no `in` or `out` conditions (its thresholds are fixed)")
        return self

    def band_rule(self) -> BandRule:
        assert self.in_ is not None and self.out is not None
        optional = lambda v: None if v is None else _exact(v)  # noqa: E731
        return BandRule(
            in_top_min=_exact(self.in_.top_min_percent),
            in_bottom_max=optional(self.in_.bottom_max_percent),
            out_bottom_min=_exact(self.out.bottom_min_percent),
            out_top_max=optional(self.out.top_max_percent),
        )


class StabilityConfig(_Strict):
    method: Literal["percent_change", "wilcoxon"]
    max_change_points: Annotated[float, Field(gt=0, le=100)] = 15
    alpha: Annotated[float, Field(gt=0, lt=1)] = 0.05


class PanelConfig(_Strict):
    groups: Annotated[list[Identifier], Field(min_length=1)]
    # A stakeholder group with fewer panellists rating in a round is shown only in the overall figures.
    min_group_panellists: Annotated[int, Field(ge=1)]
    # Who is invited to a round after the first: the previous round's responders (the classic
    # Delphi), or the whole panel again.
    invite: Literal["previous_responders", "whole_panel"] = "previous_responders"


class DefinitionProtocol(_Strict):
    title: Text
    # The synthetic sample's protocol says so; only then may the development pseudonym key be used.
    synthetic: bool = False
    scale: ScaleConfig
    consensus: ConsensusConfig
    stability: StabilityConfig
    panel: PanelConfig
    sha256: str = ""

    @model_validator(mode="after")
    def _ipras_scale(self) -> DefinitionProtocol:
        if self.consensus.method == "ipras" and (self.scale.minimum, self.scale.maximum) != (1, 9):
            raise ValueError("@consensus.method: the RAND/UCLA ipras rule is defined for a 1-9 scale")
        return self


class Statement(_Strict):
    id: StatementId
    text: Text
    kind: Literal["principle", "practice", "boundary"]
    # The framework principle or domain the statement would change; none for a boundary of the
    # definition that has no place in the framework.
    principle: Identifier | None = None
    domain: Identifier | None = None
    introduced_in: Annotated[int, Field(ge=1)] = 1
    rewords: StatementId | None = None


class Statements(_Strict):
    statements: Annotated[list[Statement], Field(min_length=1)]
    sha256: str = ""

    @model_validator(mode="after")
    def _lineage(self) -> Statements:
        by_id: dict[str, Statement] = {}
        for index, statement in enumerate(self.statements):
            if statement.id in by_id:
                raise ValueError(f"@statements[{index}].id: duplicate id {statement.id!r}")
            by_id[statement.id] = statement
        for index, statement in enumerate(self.statements):
            if statement.rewords is None:
                continue
            original = by_id.get(statement.rewords)
            if original is None:
                raise ValueError(f"@statements[{index}].rewords: no statement {statement.rewords!r}")
            if original.introduced_in >= statement.introduced_in:
                raise ValueError(
                    f"@statements[{index}].rewords: {statement.id} (round {statement.introduced_in}) must be "
                    f"introduced after the statement it rewords, {original.id} (round {original.introduced_in})"
                )
        return self

    def check_framework(self, framework: Framework, path: str | Path) -> None:
        """Every named principle and domain exists in the framework (ConfigError if not)."""
        from tipipeline.errors import ConfigError

        principles = {p.id for p in framework.principles}
        domains = {d.id for d in framework.domains}
        for index, statement in enumerate(self.statements):
            if statement.principle is not None and statement.principle not in principles:
                raise ConfigError(
                    path, f"statements[{index}].principle", f"no framework principle {statement.principle!r}"
                )
            if statement.domain is not None and statement.domain not in domains:
                raise ConfigError(path, f"statements[{index}].domain", f"no framework domain {statement.domain!r}")

    def retired_in(self, statement_id: str) -> int | None:
        """The round from which a statement is no longer rated: when its rewording is introduced."""
        rounds = [s.introduced_in for s in self.statements if s.rewords == statement_id]
        return min(rounds) if rounds else None


def _load(model, path: str | Path, what: str):
    path = Path(path)
    raw, raw_bytes = read_yaml_mapping(path, what)
    try:
        loaded = model.model_validate(raw)
    except ValidationError as exc:
        raise format_pydantic_error(path, exc) from exc
    return loaded.model_copy(update={"sha256": hashlib.sha256(raw_bytes).hexdigest()})


def load_protocol(path: str | Path) -> DefinitionProtocol:
    """Read and validate `definition.yaml`."""
    return _load(DefinitionProtocol, path, "definition protocol")


def load_statements(path: str | Path, framework: Framework) -> Statements:
    """Read and validate `statements.yaml` against the framework."""
    statements = _load(Statements, path, "statements file")
    statements.check_framework(framework, path)
    return statements
