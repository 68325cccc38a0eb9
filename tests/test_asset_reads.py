"""Every warehouse table an asset's code reads is one of its declared upstream assets (issue 29).

Lineage is written twice: the `deps=[...]` beside each asset, and the SQL that does the reading.
Here the SQL is watched while the assets run: every statement sent through the warehouse resource is
parsed by DuckDB's own binder (`get_table_names`), and every published-baseline file opened is noted,
against the asset that was running. A table the asset reads that is neither its own nor one of its
`deps` is an undeclared read: the Dagster UI would show a lineage without that edge, and a change to
the table would not mark the asset stale.
"""

from __future__ import annotations

import contextlib
import re
from collections import defaultdict
from pathlib import Path

import duckdb
from dagster import AssetExecutionContext, Definitions, asset, materialize

import tipipeline.assets.reports as reports_assets
import tipipeline.resources as resources
from tipipeline.ingest.long_form import ANSWER_CODES, ANSWER_ITEMS, STORED_ANSWERS
from tipipeline.resources import WarehouseResource
from tipipeline.settings import Settings

# Tables that hold an asset's rows under another name: reading them is reading that asset.
STORED_FOR = {STORED_ANSWERS: "stg_responses", ANSWER_ITEMS: "stg_responses", ANSWER_CODES: "stg_responses"}
PUBLISHED = "published_baseline"
BASELINE_FILE = Settings(Path("data"), Path("outputs")).baseline_path.name
# A fallback for the statements DuckDB's binder will not name tables in (several statements in one
# string; one of its joins): the names after FROM or JOIN. Only names of assets are kept from it.
_AFTER_FROM = re.compile(r"\b(?:FROM|JOIN)\s+([A-Za-z_][A-Za-z0-9_]*)", re.I)


# The table a statement writes (its rows deleted, inserted or replaced) is not read by it: the wave
# register retires a removed wave's rows from every per-wave table, which reads none of them.
_WRITTEN = re.compile(
    r"^\s*(?:DELETE\s+FROM|INSERT\s+INTO|UPDATE|DROP\s+(?:TABLE|VIEW)(?:\s+IF\s+EXISTS)?"
    r"|CREATE\s+(?:OR\s+REPLACE\s+)?(?:TEMP(?:ORARY)?\s+)?(?:TABLE|VIEW))\s+([A-Za-z_][A-Za-z0-9_]*)",
    re.I,
)


# A connection of its own, opened once: a statement it cannot bind would abort the watched transaction.
_PARSER = duckdb.connect()


def _tables_read(sql: str) -> set[str]:
    """The tables a statement names, less the one it writes."""
    try:
        named = set(_PARSER.get_table_names(sql))
    except duckdb.Error:
        named = set(_AFTER_FROM.findall(sql))
    written = _WRITTEN.match(sql)
    if written and written.group(1) not in _AFTER_FROM.findall(sql, written.end()):
        named.discard(written.group(1))  # unless it also reads it (INSERT INTO t SELECT ... FROM t)
    return named


class _Recorder:
    """Per running op (its assets definition): the tables its SQL names and the files it opened."""

    def __init__(self):
        self.tables: dict[object, set[str]] = defaultdict(set)
        self.ops: dict[object, object] = {}

    def _current(self):
        try:
            context = AssetExecutionContext.get()
        except Exception:  # not inside an asset (a sensor, the pipeline's own bookkeeping)
            return None
        if context is None:
            return None
        definition = context.assets_def
        self.ops[id(definition)] = definition
        return id(definition)

    def note(self, sql, published: bool) -> None:
        """`published`: the statement runs on the published baseline, every table of which is
        the `published_baseline` asset's (its tables share the working tables' names)."""
        op = self._current()
        if op is not None and isinstance(sql, str):
            self.tables[op] |= {PUBLISHED} if published else _tables_read(sql)


class _WatchedConnection:
    """A DuckDB connection whose statements are noted before they run; everything else is the
    connection's own (the project's code calls only execute, register, unregister and close)."""

    def __init__(self, conn, recorder: _Recorder, published: bool):
        self._conn = conn
        self._recorder = recorder
        self._published = published

    def execute(self, query, *args, **kwargs):
        self._recorder.note(query, self._published)
        return self._conn.execute(query, *args, **kwargs)

    def sql(self, query, *args, **kwargs):
        self._recorder.note(query, self._published)
        return self._conn.sql(query, *args, **kwargs)

    def __getattr__(self, name):
        return getattr(self._conn, name)


@contextlib.contextmanager
def watched_reads(monkeypatch):
    """Within it, every warehouse and baseline connection the assets open is watched."""
    recorder = _Recorder()

    def watching(original):
        @contextlib.contextmanager
        def connection(path, *args, **kwargs):
            with original(path, *args, **kwargs) as conn:
                yield _WatchedConnection(conn, recorder, published=Path(str(path)).name == BASELINE_FILE)

        return connection

    monkeypatch.setattr(resources, "connection", watching(resources.connection))
    monkeypatch.setattr(reports_assets, "connection", watching(reports_assets.connection))
    yield recorder


def undeclared_reads(recorder: _Recorder, asset_names: set[str]) -> dict[str, list[str]]:
    """Op (its assets, joined by '+') -> the asset tables it read that are neither its own nor its deps."""
    found = {}
    for op, tables in recorder.tables.items():
        definition = recorder.ops[op]
        own = {key.to_user_string() for key in definition.keys}
        declared = {key.to_user_string() for key in definition.dependency_keys}
        read = {STORED_FOR.get(t, t) for t in tables} & asset_names
        missing = sorted(read - own - declared)
        if missing:
            found["+".join(sorted(own))] = missing
    return found


def test_an_undeclared_read_is_found(tmp_path, monkeypatch):
    """Constructed breach: `reader` selects from `upstream`'s table without declaring it."""

    @asset
    def upstream(warehouse: WarehouseResource) -> None:
        with warehouse.get_connection() as conn:
            conn.execute("CREATE OR REPLACE TABLE upstream AS SELECT 1 AS x")

    @asset
    def declared(warehouse: WarehouseResource) -> None:  # no deps, reads nothing: not flagged
        with warehouse.get_connection() as conn:
            conn.execute("CREATE OR REPLACE TABLE declared AS SELECT 2 AS x")

    @asset(deps=[declared])
    def reader(warehouse: WarehouseResource) -> None:
        with warehouse.get_connection() as conn:
            conn.execute("SELECT d.x FROM declared d JOIN upstream u ON u.x < d.x").fetchall()

    warehouse = WarehouseResource(database=str(tmp_path / "w.duckdb"))
    with watched_reads(monkeypatch) as recorder:
        result = materialize([upstream, declared, reader], resources={"warehouse": warehouse})
    assert result.success
    assert undeclared_reads(recorder, {"upstream", "declared", "reader"}) == {"reader": ["upstream"]}


def test_every_table_an_asset_reads_is_among_its_deps(built_copy, monkeypatch):
    """A whole run, for a reason: every asset's code must run for its reads to be seen. On a copy of
    the built sample, so the tables part re-runs what is there and only the drawings are new."""
    from tipipeline.definitions import build_definitions
    from tipipeline.pipeline import run_pipeline

    defs: Definitions = build_definitions(built_copy.settings)
    names = {key.to_user_string() for key in defs.resolve_asset_graph().get_all_asset_keys()}
    assert {"stg_respondents", "indicator_cells", PUBLISHED} <= names
    with watched_reads(monkeypatch) as recorder:
        run_pipeline(built_copy.settings, instance=built_copy.instance)
    watched = {key.to_user_string() for op in recorder.ops.values() for key in op.keys}
    # Every asset that touches the warehouse was watched (a check that found no SQL would pass).
    assert {"stg_respondents", "indicator_cells", "journey", PUBLISHED, "maps", "baseline_report"} <= watched
    assert undeclared_reads(recorder, names) == {}
