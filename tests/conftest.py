"""Shared fixtures: the repository's sample data, copied so tests never write into the repo."""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass
from pathlib import Path

import pytest

# Reading a file twice is the point of the reader tests only: there every export is read by both
# readers and compared cell for cell (issue 14), and the DuckDB reader must give exactly what the
# Python reader gives, or decline the file. Those modules use `compare_readers`; everything else
# reads as users do (TIPIPELINE_INGEST_READER unset: auto).
os.environ.pop("TIPIPELINE_INGEST_READER", None)

REPO = Path(__file__).resolve().parents[1]
SAMPLE_RAW = REPO / "data" / "raw"
SHARED = REPO.parent / "shared"
# Everything but the maps and the report: for tests about tables, which need not pay for drawing.
TABLES_ONLY = "not group:outputs or key:published_baseline"


@pytest.fixture(scope="module")
def compare_readers():
    """Every export read in the module (its module fixtures too) is read by both readers and
    compared cell for cell. Module-scoped: session fixtures (the built sample) are made before it,
    and so read as users read."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("TIPIPELINE_INGEST_READER", "compare")
        yield


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
    """The bundled sample built once (tables and published baseline, no drawings), for reading.
    Its Dagster instance is kept beside it (`instance/`), so that `built_copy` can carry on from it."""
    from dagster import DagsterInstance

    from tipipeline.pipeline import run_pipeline
    from tipipeline.settings import get_settings

    root = tmp_path_factory.mktemp("built_sample")
    shutil.copytree(SAMPLE_RAW, root / "data" / "raw")
    settings = get_settings(root / "data", root / "outputs")
    (root / "instance").mkdir()
    with DagsterInstance.local_temp(str(root / "instance")) as instance:
        run_pipeline(settings, selection=TABLES_ONLY, instance=instance)
    return settings


@dataclass(frozen=True)
class BuiltCopy:
    settings: object  # tipipeline.settings.Settings of the copy
    instance: object  # the Dagster instance that built it, copied (waves registered, history kept)


@pytest.fixture()
def built_copy(built_sample, tmp_path):
    """A copy of the built sample (inputs, warehouse, published baseline, exports and the Dagster
    instance that built it), for a test that changes one thing and runs only what that touches:
    "the sample plus one bad wave" runs that wave (`only_waves`), not a whole rebuild."""
    from dagster import DagsterInstance

    from tipipeline.settings import get_settings

    root = built_sample.data_dir.parent
    shutil.copytree(root, tmp_path / "built", ignore=shutil.ignore_patterns("*.wal"))
    settings = get_settings(tmp_path / "built" / "data", tmp_path / "built" / "outputs")
    with DagsterInstance.local_temp(str(tmp_path / "built" / "instance")) as instance:
        yield BuiltCopy(settings, instance)


@dataclass(frozen=True)
class CliBuild:
    """A folder the way `tipipeline run` leaves it: data (raw inputs and warehouse), outputs and the
    Dagster home, so that a test can take a copy and carry on where a user would."""

    root: Path

    @property
    def data(self) -> Path:
        return self.root / "data"

    @property
    def outputs(self) -> Path:
        return self.root / "outputs"

    @property
    def home(self) -> Path:
        return self.root / "home"

    def copy(self, target: Path) -> CliBuild:
        """A copy of the whole folder (the Dagster home holds no absolute path: it moves with it)."""
        shutil.copytree(self.root, target)
        return CliBuild(target)


@pytest.fixture(scope="session")
def cli_built_sample(tmp_path_factory, worker_id) -> CliBuild:
    """The bundled sample built once by `tipipeline run` (everything: tables, maps, report, journey
    pages): the fresh build that reruns and `verify` are compared with. Read it; copy it to change it.

    Built once per test run, not per xdist worker: every test copies it before changing anything,
    so the workers can share one build (the first to ask builds it under a lock, the others wait)."""
    from filelock import FileLock

    from tipipeline.cli import main

    shared = tmp_path_factory.getbasetemp() if worker_id == "master" else tmp_path_factory.getbasetemp().parent
    build = CliBuild(shared / "cli_built_sample" / "build")
    with FileLock(str(shared / "cli_built_sample.lock")):
        if not (shared / "cli_built_sample.done").exists():
            shutil.rmtree(build.root, ignore_errors=True)  # a build that died half-way
            shutil.copytree(SAMPLE_RAW, build.data / "raw")
            with pytest.MonkeyPatch.context() as patch:
                patch.setenv("DAGSTER_HOME", str(build.home))
                assert main(["run", "--data-dir", str(build.data), "--output-dir", str(build.outputs)]) == 0
            (shared / "cli_built_sample.done").touch()
    return build
