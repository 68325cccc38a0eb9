"""Every notebook in notebooks/ runs against a freshly built baseline; none is committed with outputs."""

import os
import shutil
from pathlib import Path

import nbformat
import pytest
from conftest import REPO
from nbclient import NotebookClient

NOTEBOOKS = sorted((REPO / "notebooks").glob("*.ipynb"))


@pytest.fixture(scope="module")
def built_data(built_sample):
    return built_sample.data_dir


def test_there_is_a_notebook():
    assert NOTEBOOKS


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.name for p in NOTEBOOKS])
def test_notebook_is_committed_without_outputs(path: Path):
    notebook = nbformat.read(path, as_version=4)
    for cell in notebook.cells:
        if cell.cell_type == "code":
            assert not cell.outputs and cell.execution_count is None, f"{path.name} has outputs: clear them"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.name for p in NOTEBOOKS])
def test_notebook_runs(path: Path, built_data: Path, monkeypatch, tmp_path):
    """Run the way Jupyter runs it: the kernel works in the notebook's own folder, inside a
    checkout, with no TIPIPELINE_* variables, so open_baseline() has to find the project root."""
    inherited = [name for name in os.environ if name.startswith("TIPIPELINE_")]
    for name in ("TIPIPELINE_DATA_DIR", "TIPIPELINE_OUTPUT_DIR", *inherited):
        monkeypatch.delenv(name, raising=False)
    # A throwaway checkout: its pyproject.toml, the notebook in notebooks/, and data/ holding the built sample.
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "tipipeline"\nversion = "0.0.0"\n', encoding="utf-8")
    (tmp_path / "notebooks").mkdir()
    shutil.copy(path, tmp_path / "notebooks" / path.name)
    (tmp_path / "data").symlink_to(built_data, target_is_directory=True)
    notebook = nbformat.read(tmp_path / "notebooks" / path.name, as_version=4)
    NotebookClient(
        notebook,
        timeout=300,
        kernel_name="python3",
        resources={"metadata": {"path": str(tmp_path / "notebooks")}},
    ).execute()
    outputs = [o for cell in notebook.cells if cell.cell_type == "code" for o in cell.outputs]
    assert not [o for o in outputs if o.output_type == "error"]
    assert any("image/png" in o.get("data", {}) for o in outputs), "the chart was not drawn"
