"""Shared fixtures: the repository's sample data, copied so tests never write into the repo."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

# Every export the tests read is read by both readers and compared cell for cell (issue 14): the
# DuckDB reader must give exactly what the Python reader gives, or decline the file.
os.environ.setdefault("TIPIPELINE_INGEST_READER", "compare")

REPO = Path(__file__).resolve().parents[1]
SAMPLE_RAW = REPO / "data" / "raw"
SHARED = REPO.parent / "shared"
# Everything but the maps and the report: for tests about tables, which need not pay for drawing.
TABLES_ONLY = "not group:outputs or key:published_baseline"


@pytest.fixture()
def data_dir(tmp_path: Path) -> Path:
    """A data directory holding a copy of the bundled synthetic sample."""
    target = tmp_path / "data"
    shutil.copytree(SAMPLE_RAW, target / "raw")
    return target


@pytest.fixture()
def settings(data_dir: Path, tmp_path: Path):
    from tipipeline.settings import get_settings

    return get_settings(data_dir, tmp_path / "outputs")


@pytest.fixture(scope="session")
def built_sample(tmp_path_factory):
    """The bundled sample built once (tables and published baseline, no drawings), for reading."""
    from dagster import DagsterInstance

    from tipipeline.pipeline import run_pipeline
    from tipipeline.settings import get_settings

    root = tmp_path_factory.mktemp("built_sample")
    shutil.copytree(SAMPLE_RAW, root / "data" / "raw")
    settings = get_settings(root / "data", root / "outputs")
    with DagsterInstance.ephemeral() as instance:
        run_pipeline(settings, selection=TABLES_ONLY, instance=instance)
    return settings
