"""Every table schema is strict: a column it does not name fails validation, everywhere (issue 29).

An unexpected column might be an identifier that an export, a form or a panel file carried in (an
e-mail address beside a panellist's id); it must stop the table, not pass into the warehouse. The
rule was written once (`StrictModel`) but applied to 33 of 73 models; here it is held for every
model the package defines, so that a new schema cannot leave it out.
"""

from __future__ import annotations

import importlib
import pkgutil

import pandas as pd
import pandera.pandas as pa
import pytest

import tipipeline.schemas
from tipipeline.schemas.validation import validate


def _models() -> list[type[pa.DataFrameModel]]:
    for module in pkgutil.iter_modules(tipipeline.schemas.__path__):
        importlib.import_module(f"tipipeline.schemas.{module.name}")
    found, todo = [], list(pa.DataFrameModel.__subclasses__())
    while todo:
        model = todo.pop()
        todo.extend(model.__subclasses__())
        if model.__module__.startswith("tipipeline.schemas.") and not model.__name__.startswith("_"):
            found.append(model)
    return sorted(set(found), key=lambda m: (m.__module__, m.__name__))


MODELS = _models()


def test_every_package_schema_is_found():
    names = {m.__name__ for m in MODELS}
    # The ones issue 29 found lax, by name, so that a search that found none would fail here.
    assert {"StgPanellists", "StgPracticeSubmissions", "OutcomeMeasures", "BoroughPartnership", "AuditCodings"} <= names
    assert len(MODELS) >= 70


@pytest.mark.parametrize("model", MODELS, ids=lambda m: m.__name__)
def test_an_unexpected_column_fails_every_schema(model):
    """Constructed breach for each schema: its own columns (typed, empty) plus an `email` column."""
    schema = model.to_schema()
    assert schema.strict is True, f"{model.__name__} is not strict"
    frame = pd.DataFrame(
        {
            name: pd.Series(dtype=column.dtype.type if column.dtype is not None else "object")
            for name, column in schema.columns.items()
            if not column.regex  # a family of columns named by a pattern (score_<principle>)
        }
    )
    frame["email"] = pd.Series(dtype="object")
    outcome = validate(model, frame)
    assert not outcome.passed
    assert "email" in set(outcome.failure_cases["failure_case"]), outcome.failure_cases


def test_every_row_accounting_is_one_rule():
    """Each reader's data-quality table extends RowAccounting, so "rows read = accepted +
    quarantined + excluded" is written once (the outcome files, which quarantine nothing, say
    rows read = accepted + excluded in their own model)."""
    from tipipeline.schemas.base import RowAccounting

    accounting = {m.__name__ for m in MODELS if "rows_read" in m.to_schema().columns}
    assert accounting == {m.__name__ for m in MODELS if issubclass(m, RowAccounting)} | {"OutcomeDataQuality"}
    assert len(accounting) >= 5


@pytest.mark.parametrize(
    "model", [m for m in MODELS if "rows_quarantined" in m.to_schema().columns], ids=lambda m: m.__name__
)
def test_a_row_lost_between_read_and_accounted_fails(model):
    """Constructed breach: a file that read 10 rows but accounts for 9."""
    schema = model.to_schema()
    row = {}
    for name, column in schema.columns.items():
        if column.regex:
            continue
        kind = column.dtype.type if column.dtype is not None else object
        row[name] = pd.Series([0], dtype=kind) if pd.api.types.is_numeric_dtype(kind) else pd.Series(["x"], dtype=kind)
    frame = pd.DataFrame(row)
    frame[["rows_read", "rows_accepted", "rows_quarantined", "rows_excluded"]] = [[10, 6, 1, 2]]
    outcome = validate(model, frame)
    assert not outcome.passed
    assert "every_row_accounted_for" in set(outcome.failure_cases["check"])
    frame["rows_excluded"] = 3
    assert "every_row_accounted_for" not in set(validate(model, frame).failure_cases["check"])
