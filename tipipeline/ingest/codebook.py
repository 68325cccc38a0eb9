"""The survey codebook: columns -> respondent fields and items, scales, exclusion rules.

`load_codebook()` validates the YAML and raises ConfigError naming the file and the field, for
example ``codebook.yaml: items[4].scale: unknown scale 'agree'; known scales: agreement, yes_no``.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError, model_validator

from tipipeline.errors import ConfigError, format_pydantic_error, read_yaml_mapping

Identifier = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]*$")]
Column = Annotated[str, StringConstraints(min_length=1)]

REQUIRED_FIELDS = ("organisation",)
YES_NO_FIELDS = ("consent", "ti_training_12m", "willing_to_share")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Scale(_Strict):
    """Answer labels and their values. `codes` maps numeric codes in a "numeric values" export to
    values when the survey tool's recodes differ from the values (e.g. 10-14 -> 1-5)."""

    values: dict[str, float]
    missing: list[str] = []
    agree_at_or_above: float | None = None
    # Numeric code in the export -> value, or -> a missing label (e.g. 6: "Don't know").
    codes: dict[float, float | str] = {}
    # For yes/no scales: the label meaning yes (default: a label 'Yes').
    positive: str | None = None

    @model_validator(mode="after")
    def _check(self) -> Scale:
        if not self.values:
            raise ValueError("a scale needs at least one label: value pair")
        overlap = set(self.values) & set(self.missing)
        if overlap:
            raise ValueError(f"labels both valued and missing: {sorted(overlap)}")
        for code, target in self.codes.items():
            if isinstance(target, str) and target not in self.missing:
                raise ValueError(
                    f"@codes.{code:g}: {target!r} is not one of this scale's missing labels {self.missing}"
                )
        if self.positive is not None and self.positive not in self.values:
            raise ValueError(f"@positive: {self.positive!r} is not one of this scale's labels")
        return self

    @property
    def positive_value(self) -> float | None:
        """The value meaning 'yes': the `positive` label's, else the label 'Yes''s, else None."""
        if self.positive is not None:
            return self.values[self.positive]
        for label, value in self.values.items():
            if label.strip().casefold() == "yes":
                return value
        return None

    @property
    def minimum(self) -> float:
        return min(self.values.values())

    @property
    def maximum(self) -> float:
        return max(self.values.values())


class FieldSpec(_Strict):
    column: Column
    text: str | None = None
    scale: str | None = None
    identifying: bool = False  # used at read time only (e.g. to find duplicates), never stored
    free_text: bool = False  # stored only in the restricted free-text table, never published
    required: bool = True  # a required field missing from an export makes the file unusable


class Item(_Strict):
    id: Identifier
    column: Column
    text: str | None = None
    domain: Identifier
    principle: Identifier
    scale: str
    reverse: bool = False


class DuplicateRule(_Strict):
    key: str
    order_by: str
    keep: Literal["latest", "earliest"] = "latest"


# Qualtrics response types that are not genuine responses (DESIGN.md).
NON_GENUINE_STATUSES = [
    "Survey Preview",
    "Survey Test",
    "Spam",
    "Survey Preview Spam",
    "Imported Spam",
    "Offline Survey Preview",
    "EX Spam",
]


class Exclusions(_Strict):
    status_exclude: list[str | int] = NON_GENUINE_STATUSES
    min_progress: Annotated[float, Field(ge=0, le=100)] = 100
    require_finished: bool = True
    consent_required: bool = True
    duplicates: DuplicateRule | None = None


class Scoring(_Strict):
    min_share_answered: Annotated[float, Field(gt=0, le=1)] = 0.5


class WaveOverride(_Strict):
    match_by: Literal["column", "text"] = "column"
    columns: dict[str, Column] = {}


class Codebook(_Strict):
    version: int
    instrument: str
    synthetic: bool = False
    scales: dict[Identifier, Scale]
    fields: dict[Identifier, FieldSpec]
    items: Annotated[list[Item], Field(min_length=1)]
    exclusions: Exclusions = Exclusions()
    scoring: Scoring = Scoring()
    waves: dict[str, WaveOverride] = {}
    identifying_columns: list[str] = []
    sha256: str = ""

    @model_validator(mode="after")
    def _consistent(self) -> Codebook:
        self._check_scales()
        self._check_ids_and_columns()
        self._check_fields()
        self._check_waves()
        return self

    def _check_scales(self) -> None:
        known_scales = ", ".join(sorted(self.scales))
        for index, item in enumerate(self.items):
            if item.scale not in self.scales:
                raise ValueError(f"@items[{index}].scale: unknown scale {item.scale!r}; known scales: {known_scales}")
        for name, spec in self.fields.items():
            if spec.scale is not None and spec.scale not in self.scales:
                raise ValueError(f"@fields.{name}.scale: unknown scale {spec.scale!r}; known scales: {known_scales}")

    def _check_ids_and_columns(self) -> None:
        seen: dict[str, int] = {}
        for index, item in enumerate(self.items):
            if item.id in seen:
                raise ValueError(f"@items[{index}].id: duplicate item id {item.id!r} (first at items[{seen[item.id]}])")
            if item.id in self.fields:
                raise ValueError(f"@items[{index}].id: {item.id!r} is also a respondent field")
            seen[item.id] = index
        columns: dict[str, str] = {}
        for name, column in [(f"fields.{n}", s.column) for n, s in self.fields.items()] + [
            (f"items[{i}]", item.column) for i, item in enumerate(self.items)
        ]:
            if column in columns:
                raise ValueError(f"@{name}.column: column {column!r} is already used by {columns[column]}")
            columns[column] = name

    def _check_fields(self) -> None:
        for name in REQUIRED_FIELDS:
            if name not in self.fields:
                raise ValueError(f"@fields.{name}: required field missing")
        for name in YES_NO_FIELDS:
            spec = self.fields.get(name)
            if spec is not None and spec.scale is not None and self.scales[spec.scale].positive_value is None:
                raise ValueError(
                    f"@fields.{name}.scale: scale {spec.scale!r} has no 'Yes' label; set `positive:` on it"
                )
        rule = self.exclusions.duplicates
        duplicate_key = rule.key if rule is not None else None
        for name, spec in self.fields.items():
            if spec.identifying and name != duplicate_key:
                raise ValueError(
                    f"@fields.{name}.identifying: only the duplicates key can be identifying (it is hashed "
                    "at read and then dropped); remove this field instead"
                )
        if rule is not None:
            for attr in ("key", "order_by"):
                if getattr(rule, attr) not in self.fields:
                    raise ValueError(
                        f"@exclusions.duplicates.{attr}: {getattr(rule, attr)!r} is not a field in `fields`"
                    )

    def _check_waves(self) -> None:
        targets = set(self.fields) | {item.id for item in self.items}
        for wave, override in self.waves.items():
            for target in override.columns:
                if target not in targets:
                    raise ValueError(f"@waves.{wave}.columns.{target}: names no field or item of this codebook")
            if override.match_by == "text":
                for index, item in enumerate(self.items):
                    if not item.text and item.id not in override.columns:
                        raise ValueError(f"@items[{index}].text: wave {wave} matches by text, but this item has none")

    @property
    def value_denominator(self) -> int:
        """Item scores are whole multiples of 1 / value_denominator (1 for whole-number scales):
        the unit in which the warehouse adds them exactly (see stats/exact.py)."""
        from tipipeline.stats.exact import value_denominator

        return value_denominator(v for item in self.items for v in self.scales[item.scale].values.values())

    def item_frame(self):
        """Items as a DataFrame (id, column, text, domain, principle, scale, reverse)."""
        import pandas as pd

        return pd.DataFrame([item.model_dump() for item in self.items])

    def columns_for_wave(self, wave: str | None) -> dict[str, str]:
        """Map each field and item id to the column name expected in `wave`'s exports."""
        override = self.waves.get(wave or "", WaveOverride())
        mapping: dict[str, str] = {}
        for name, spec in self.fields.items():
            mapping[name] = spec.column if override.match_by == "column" or not spec.text else spec.text
        for item in self.items:
            mapping[item.id] = item.column if override.match_by == "column" else (item.text or item.column)
        mapping.update(override.columns)
        return mapping


def load_codebook(path: str | Path, framework=None) -> Codebook:
    """Read and validate a codebook; check domains and principles against the framework."""
    path = Path(path)
    raw, raw_bytes = read_yaml_mapping(path, "codebook")
    # YAML reads a wave id such as 2025-w2 as text, but a bare year would be an int: make keys text.
    if isinstance(raw.get("waves"), dict):
        raw["waves"] = {str(k): v for k, v in raw["waves"].items()}
    try:
        codebook = Codebook.model_validate(raw)
    except ValidationError as exc:
        raise format_pydantic_error(path, exc) from exc
    if framework is not None:
        domains = {d.id for d in framework.domains}
        principles = {p.id for p in framework.principles}
        for index, item in enumerate(codebook.items):
            if item.domain not in domains:
                raise ConfigError(
                    path,
                    f"items[{index}].domain",
                    f"unknown domain {item.domain!r}; the framework has {sorted(domains)}",
                )
            if item.principle not in principles:
                raise ConfigError(
                    path,
                    f"items[{index}].principle",
                    f"unknown principle {item.principle!r}; the framework has {sorted(principles)}",
                )
    return codebook.model_copy(update={"sha256": hashlib.sha256(raw_bytes).hexdigest()})
