"""Dagster resources: the warehouse connection and the project's paths."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path

import duckdb
from dagster import ConfigurableResource

from tipipeline.settings import Settings
from tipipeline.warehouse import connection


class WarehouseResource(ConfigurableResource):
    """The working DuckDB warehouse. The pipeline is its only writer; assets that write it run in
    the `duckdb_write` pool (one slot), so runs never fight over the file."""

    database: str

    @contextlib.contextmanager
    def get_connection(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """A read-write connection."""
        with connection(self.database) as conn:
            yield conn


class PathsResource(ConfigurableResource):
    """Where raw inputs are read and outputs written (from TIPIPELINE_DATA_DIR / _OUTPUT_DIR)."""

    data_dir: str
    output_dir: str

    @property
    def settings(self) -> Settings:
        return Settings(data_dir=Path(self.data_dir), output_dir=Path(self.output_dir))
