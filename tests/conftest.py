"""Shared fixtures: the repository's sample data, copied so tests never write into the repo."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

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
