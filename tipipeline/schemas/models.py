"""The pandera schema of each registered table, made from its registry entry.

Every schema is strict (a column the registry does not list fails validation: it might be an
identifier, or a mistake) and coerces nothing (a column of the wrong type is a failure, not
something to fix silently). The registry names the rules; this module holds what code must: the
custom checks, registered by name with `dataframe_check` / `column_check`, and the value lists
(`vocabulary`) that live in the code using them."""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Callable

import pandera.pandas as pa

from tipipeline.registry import Column, table

_CHECKS: dict[str, tuple[str, Callable, dict]] = {}
_VOCABULARIES: dict[str, list] = {}


def _register(kind: str, fn: Callable | None, options: dict):
    def register(f: Callable) -> Callable:
        if f.__name__ in _CHECKS:
            raise ValueError(f"check {f.__name__!r} is registered twice")
        _CHECKS[f.__name__] = (kind, f, options)
        return f

    return register(fn) if fn is not None else register


def dataframe_check(fn: Callable | None = None, **options):
    """Register `fn(frame) -> bool Series or bool` as a table check named after the function."""
    return _register("dataframe", fn, options)


def column_check(fn: Callable | None = None, **options):
    """Register `fn(series) -> bool Series` as a column check named after the function."""
    return _register("column", fn, options)


def vocabulary(name: str, values) -> list:
    """Register the allowed values a registry field names with `isin: <name>`."""
    _VOCABULARIES[name] = list(values)
    return _VOCABULARIES[name]


# The values every partner and every indicator cell is classed by.
vocabulary("sector", ["council", "police", "health"])
vocabulary("geography_level", ["london", "sector", "organisation", "borough", "bcu", "icb"])


def is_date(value) -> bool:
    """Empty, or a date that is not a date and time."""
    return value is None or (isinstance(value, dt.date) and not isinstance(value, dt.datetime))


@column_check
def dates_only(series):
    # A date, never a time of day: timestamps are coarsened at read. Every `date` field has it.
    return series.map(is_date)


@dataframe_check
def every_row_accounted_for(df):
    """Nothing is lost: rows read = accepted + quarantined + excluded (each excluded row by a
    documented rule, counted per rule in `excluded_by_rule`). Every data-quality table has it."""
    return df["rows_read"] == df["rows_accepted"] + df["rows_quarantined"] + df["rows_excluded"]


def _check(name: str, kind: str, where: str) -> pa.Check:
    if name not in _CHECKS:
        raise KeyError(f"{where}: no check named {name!r} is registered (tipipeline/schemas/)")
    registered_kind, fn, options = _CHECKS[name]
    if registered_kind != kind:
        raise KeyError(f"{where}: {name!r} is a {registered_kind} check, not a {kind} check")
    return pa.Check(fn, name=name, **options)


def _constraint_checks(column: Column, where: str) -> list[pa.Check]:
    rules = column.constraints
    checks = []
    if "ge" in rules:
        checks.append(pa.Check.ge(rules["ge"]))
    if "gt" in rules:
        checks.append(pa.Check.gt(rules["gt"]))
    if "le" in rules:
        checks.append(pa.Check.le(rules["le"]))
    if "lt" in rules:
        checks.append(pa.Check.lt(rules["lt"]))
    if "isin" in rules:
        allowed = rules["isin"]
        if isinstance(allowed, str):
            if allowed not in _VOCABULARIES:
                raise KeyError(f"{where}: no vocabulary named {allowed!r} is registered (tipipeline/schemas/)")
            allowed = _VOCABULARIES[allowed]
        checks.append(pa.Check.isin(allowed))
    if "matches" in rules:
        checks.append(pa.Check.str_matches(rules["matches"]))
    if "startswith" in rules:
        checks.append(pa.Check.str_startswith(rules["startswith"]))
    if "length" in rules:
        checks.append(pa.Check.str_length(exact_value=rules["length"]))
    elif "min_length" in rules or "max_length" in rules:
        checks.append(pa.Check.str_length(min_value=rules.get("min_length"), max_value=rules.get("max_length")))
    checks += [_check(name, "column", where) for name in column.checks]
    return checks


def _dtype(column: Column):
    # dtype `any`: a family of columns whose values a table check tests (no one dtype to hold).
    return None if column.dtype == "any" else column.dtype


def _one_row_per(columns: tuple[str, ...]) -> pa.Check:
    # ignore_na=False: with pandera's default, each row-wise result is ORed with "the whole row is
    # missing", computed over the whole frame (1.4 s of 1.6 s on 100,000 wide rows). A key's row is
    # never wholly missing, so the answer is the same.
    return pa.Check(
        lambda df: ~df.duplicated(list(columns), keep=False), name=f"one_row_per_{'_'.join(columns)}", ignore_na=False
    )


@functools.cache
def model(name: str) -> pa.DataFrameSchema:
    """The table's pandera schema, named after its model (e.g. `Journey`)."""
    spec = table(name)
    columns = {}
    for column in spec.columns:
        where = f"{name}.{column.name}"
        columns[column.name] = pa.Column(
            _dtype(column),
            checks=_constraint_checks(column, where),
            nullable=column.nullable,
            unique=bool(column.constraints.get("unique", False)),
            regex=column.pattern,
            description=column.description,
        )
    checks = [_one_row_per(group) for group in (spec.key, *spec.unique_together) if group]
    checks += [_check(check, "dataframe", name) for check in spec.checks]
    return pa.DataFrameSchema(columns, checks=checks, strict=True, coerce=False, name=spec.model)
