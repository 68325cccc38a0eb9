"""Run a pandera model lazily and summarise the failures for people and for Dagster."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd
import pandera.pandas as pa
from pandera.errors import SchemaErrors

from tipipeline.preview import markdown_preview


@dataclass(frozen=True)
class ValidationOutcome:
    """Whether a table passed its schema, and what failed if not."""

    schema: str
    passed: bool
    failure_cases: pd.DataFrame

    @property
    def num_failures(self) -> int:
        return len(self.failure_cases)

    def summary(self) -> str:
        if self.passed:
            return f"{self.schema}: passed"
        first = self.failure_cases.iloc[0]
        return (
            f"{self.schema}: {self.num_failures} failure(s), e.g. column {first['column']!r} "
            f"check {first['check']!r} on value {first['failure_case']!r}"
        )

    def metadata(self) -> dict:
        return {
            "schema": self.schema,
            "num_failures": self.num_failures,
            "failure_examples": self.failure_cases_markdown(),
        }

    def failure_cases_markdown(self) -> str:
        if self.passed:
            return "No failures."
        # Failing values exactly as found: 5.0004 failing "<= 5" must not read as 5.
        return markdown_preview(self.failure_cases, rows=20, round_floats=False)


def validate(model: type[pa.DataFrameModel] | pa.DataFrameSchema, frame: pd.DataFrame) -> ValidationOutcome:
    """Validate all checks (lazy), never raising for data problems. `model` None: a table made by
    DuckDB from validated inputs (nothing to validate in pandas); reported as such."""
    if model is None or not isinstance(frame, pd.DataFrame):
        return ValidationOutcome(
            "validated at its inputs (made in DuckDB)",
            True,
            pd.DataFrame(columns=["schema_context", "column", "check", "failure_case", "index"]),
        )
    name = model.name if isinstance(model, pa.DataFrameSchema) else model.__name__
    try:
        model.validate(frame, lazy=True)
    except SchemaErrors as exc:
        cases = exc.failure_cases[["schema_context", "column", "check", "failure_case", "index"]].copy()
        cases["failure_case"] = cases["failure_case"].astype(str)
        return ValidationOutcome(name, False, cases.reset_index(drop=True))
    return ValidationOutcome(
        name, True, pd.DataFrame(columns=["schema_context", "column", "check", "failure_case", "index"])
    )


def conform_empty(model: type[pa.DataFrameModel] | pa.DataFrameSchema | None, frame: pd.DataFrame) -> pd.DataFrame:
    """An empty frame given the schema's column types, so that an empty table (no audit yet,
    nothing quarantined) is created in the warehouse with the same types as a full one."""
    if model is None or len(frame) or not isinstance(frame, pd.DataFrame):
        return frame
    schema = model if isinstance(model, pa.DataFrameSchema) else model.to_schema()
    typed = frame.copy()
    for name, column in schema.columns.items():
        if name in typed.columns and column.dtype is not None:
            typed[name] = typed[name].astype(column.dtype.type)
    return typed
