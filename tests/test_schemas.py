"""Every table schema is strict: a column it does not name fails validation, everywhere (issue 29).

An unexpected column might be an identifier that an export, a form or a panel file carried in (an
e-mail address beside a panellist's id); it must stop the table, not pass into the warehouse. The
rule was written once (`StrictModel`) but applied to 33 of 73 models; now every schema is made from
the table registry (`tipipeline.schemas.models.model`), strict by construction, and here the rule
is held for every registered table, so that a new table cannot leave it out.
"""

from __future__ import annotations

import pandas as pd
import pytest

from tipipeline import registry
from tipipeline.schemas.models import model
from tipipeline.schemas.validation import validate

# Every registered table validated in pandas (a table made by SQL in DuckDB has no frame).
MODELS = [model(name) for name, table in sorted(registry.tables().items()) if not table.made_in]


def test_every_package_schema_is_found():
    names = {m.name for m in MODELS}
    # The ones issue 29 found lax, by name, so that a search that found none would fail here.
    assert {"StgPanellists", "StgPracticeSubmissions", "OutcomeMeasures", "BoroughPartnership", "AuditCodings"} <= names
    assert len(MODELS) >= 70


@pytest.mark.parametrize("schema", MODELS, ids=lambda m: m.name)
def test_an_unexpected_column_fails_every_schema(schema):
    """Constructed breach for each schema: its own columns (typed, empty) plus an `email` column."""
    assert schema.strict is True, f"{schema.name} is not strict"
    frame = pd.DataFrame(
        {
            name: pd.Series(dtype=column.dtype.type if column.dtype is not None else "object")
            for name, column in schema.columns.items()
            if not column.regex  # a family of columns named by a pattern (score_<principle>)
        }
    )
    frame["email"] = pd.Series(dtype="object")
    outcome = validate(schema, frame)
    assert not outcome.passed
    assert "email" in set(outcome.failure_cases["failure_case"]), outcome.failure_cases


def test_every_row_accounting_is_one_rule():
    """Every data-quality table with a quarantine states "rows read = accepted + quarantined +
    excluded" by naming the one registered check (the outcome files, which quarantine nothing, say
    rows read = accepted + excluded in their own check)."""
    accounting = {m.name for m in MODELS if "rows_read" in m.columns}
    named = {m.name for m in MODELS if "every_row_accounted_for" in {c.name for c in m.checks}}
    assert accounting == named | {"OutcomeDataQuality"}
    assert len(accounting) >= 5


@pytest.mark.parametrize("schema", [m for m in MODELS if "rows_quarantined" in m.columns], ids=lambda m: m.name)
def test_a_row_lost_between_read_and_accounted_fails(schema):
    """Constructed breach: a file that read 10 rows but accounts for 9."""
    row = {}
    for name, column in schema.columns.items():
        if column.regex:
            continue
        kind = column.dtype.type if column.dtype is not None else object
        row[name] = pd.Series([0], dtype=kind) if pd.api.types.is_numeric_dtype(kind) else pd.Series(["x"], dtype=kind)
    frame = pd.DataFrame(row)
    frame[["rows_read", "rows_accepted", "rows_quarantined", "rows_excluded"]] = [[10, 6, 1, 2]]
    outcome = validate(schema, frame)
    assert not outcome.passed
    assert "every_row_accounted_for" in set(outcome.failure_cases["check"])
    frame["rows_excluded"] = 3
    assert "every_row_accounted_for" not in set(validate(schema, frame).failure_cases["check"])
