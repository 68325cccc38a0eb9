"""The default data and output folders: TIPIPELINE_* when set, else the project root's, else ./."""

from __future__ import annotations

from pathlib import Path

import pytest

import tipipeline
from tipipeline.settings import get_settings, project_root


@pytest.fixture(autouse=True)
def no_tipipeline_environment(monkeypatch):
    monkeypatch.delenv("TIPIPELINE_DATA_DIR", raising=False)
    monkeypatch.delenv("TIPIPELINE_OUTPUT_DIR", raising=False)


def make_project(folder: Path, name: str = "tipipeline") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "pyproject.toml").write_text(f'[project]\nname = "{name}"\nversion = "0.1.0"\n', encoding="utf-8")
    return folder.resolve()


def test_from_the_project_root(tmp_path, monkeypatch):
    root = make_project(tmp_path / "checkout")
    monkeypatch.chdir(root)
    settings = get_settings()
    assert project_root() == root
    assert settings.data_dir == root / "data"
    assert settings.output_dir == root / "outputs"
    assert settings.baseline_path == root / "data" / "warehouse" / "baseline.duckdb"


def test_from_a_subfolder_like_jupyter_in_notebooks(tmp_path, monkeypatch):
    root = make_project(tmp_path / "checkout")
    notebooks = root / "notebooks" / "deeper"
    notebooks.mkdir(parents=True)
    monkeypatch.chdir(notebooks)
    settings = get_settings()
    assert settings.data_dir == root / "data"
    assert settings.output_dir == root / "outputs"


def test_another_projects_pyproject_on_the_way_up_is_passed_over(tmp_path, monkeypatch):
    root = make_project(tmp_path / "checkout")
    other = make_project(root / "bench" / "tool", name="something-else")
    (root / "broken").mkdir()
    (root / "broken" / "pyproject.toml").write_text("this is [not toml", encoding="utf-8")
    monkeypatch.chdir(other)
    assert get_settings().data_dir == root / "data"
    monkeypatch.chdir(root / "broken")
    assert get_settings().data_dir == root / "data"


def test_the_environment_wins(tmp_path, monkeypatch):
    root = make_project(tmp_path / "checkout")
    monkeypatch.chdir(root)
    monkeypatch.setenv("TIPIPELINE_DATA_DIR", str(tmp_path / "elsewhere"))
    settings = get_settings()
    assert settings.data_dir == (tmp_path / "elsewhere").resolve()
    assert settings.output_dir == root / "outputs"  # each variable on its own
    monkeypatch.setenv("TIPIPELINE_OUTPUT_DIR", "relative-out")
    assert get_settings().output_dir == root / "relative-out"  # relative to the working directory, as before
    assert get_settings(tmp_path / "argument").data_dir == (tmp_path / "argument").resolve()


def test_outside_any_project_it_is_the_working_directory(tmp_path, monkeypatch):
    outside = tmp_path / "scratch"
    outside.mkdir()
    monkeypatch.chdir(outside)
    assert project_root() is None
    settings = get_settings()
    assert settings.data_dir == outside.resolve() / "data"
    assert settings.output_dir == outside.resolve() / "outputs"


def test_open_baseline_says_where_it_looked_and_what_to_do(tmp_path, monkeypatch):
    root = make_project(tmp_path / "checkout")
    (root / "notebooks").mkdir()
    monkeypatch.chdir(root / "notebooks")
    with pytest.raises(FileNotFoundError) as missing:
        tipipeline.open_baseline()
    message = str(missing.value)
    assert str(root / "data" / "warehouse" / "baseline.duckdb") in message
    assert f"project root {root}" in message
    assert "make run" in message and "TIPIPELINE_DATA_DIR" in message
    monkeypatch.setenv("TIPIPELINE_DATA_DIR", str(tmp_path / "elsewhere"))
    with pytest.raises(FileNotFoundError, match="TIPIPELINE_DATA_DIR"):
        tipipeline.open_baseline()


def test_only_settings_reads_the_environment_and_it_lists_every_variable():
    """Every environment variable is read in settings.py (named in ENVIRONMENT, with what it sets);
    no other module of the package touches os.environ or getenv, and every TIPIPELINE_* name the
    package or its documentation mentions is one of the listed ones."""
    import re

    from tipipeline.settings import ENVIRONMENT, env

    package = Path(tipipeline.__file__).parent
    readers = sorted(
        str(p.relative_to(package))
        for p in package.rglob("*.py")
        if p.name != "settings.py" and re.search(r"os\.environ|getenv\(", p.read_text(encoding="utf-8"))
    )
    assert readers == []
    repo = package.parent
    texts = [
        p.read_text(encoding="utf-8") for p in [*package.rglob("*.py"), repo / "README.md", repo / "docs" / "DESIGN.md"]
    ]
    named = {name for text in texts for name in re.findall(r"\bTIPIPELINE_[A-Z_]*[A-Z]\b", text)}
    assert named, "the search found no variable at all"
    assert named <= set(ENVIRONMENT), named - set(ENVIRONMENT)
    with pytest.raises(KeyError, match="TIPIPELINE_NOT_A_SETTING"):
        env("TIPIPELINE_NOT_A_SETTING")
