"""The package as users install it: a wheel built from the tracked source, installed in a fresh
virtual environment away from the source tree, runs the sample and loads in Dagster.

Every other test imports the editable checkout, where a data file the wheel lacks is still found
beside the code; only here is it missed (issue 29: `library.yaml` and the journey templates were)."""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import pytest
from conftest import REPO, SAMPLE_RAW

from tipipeline.verify import SKIPPED_TABLES, table_digests


def _tracked_source(target: Path) -> Path:
    """A copy of what a clone holds for the build (pyproject, README, the package), so the build
    writes nothing into the checkout and sees no untracked file."""
    listed = subprocess.run(
        ["git", "-C", str(REPO), "ls-files", "-z", "pyproject.toml", "README.md", "tipipeline"],
        capture_output=True,
        check=False,
    )
    if listed.returncode != 0 or not listed.stdout:
        files = ["pyproject.toml", "README.md"] + [
            str(p.relative_to(REPO))
            for p in (REPO / "tipipeline").rglob("*")
            if p.is_file() and "__pycache__" not in p.parts
        ]
    else:
        files = [f for f in listed.stdout.decode().split("\0") if f]
    for name in files:
        (target / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(REPO / name, target / name)
    return target


def _build_wheel(source: Path, out: Path) -> Path:
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--quiet",
            "--no-deps",
            "--no-build-isolation",
            "-w",
            str(out),
            str(source),
        ],
        check=True,
        capture_output=True,
    )
    (wheel,) = out.glob("tipipeline-*.whl")
    return wheel


def missing_data_files(wheel: Path, source: Path) -> list[str]:
    """Files under the source's `tipipeline/` that are not code and that the wheel lacks."""
    with zipfile.ZipFile(wheel) as archive:
        packed = set(archive.namelist())
    package = source / "tipipeline"
    wanted = {
        path.relative_to(source).as_posix()
        for path in package.rglob("*")
        if path.is_file() and path.suffix not in {".py", ".pyc"} and "__pycache__" not in path.parts
    }
    return sorted(wanted - packed)


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("wheel")
    return _build_wheel(_tracked_source(root / "src"), root / "dist")


def test_the_wheel_holds_every_data_file_the_package_has(wheel):
    source = wheel.parents[1] / "src"
    assert missing_data_files(wheel, source) == []
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
    # The files issue 29 found missing, by name, so that a checker that found nothing at all fails too.
    for name in (
        "tipipeline/practice/library.yaml",
        "tipipeline/practice/given_names.txt",
        "tipipeline/report/templates/_style.css",
        "tipipeline/report/templates/journeys/organisation.html",
        "tipipeline/sample/codebook.yaml",
        "tipipeline/sample/definition/statements.yaml",
    ):
        assert name in names, name


def test_a_data_file_left_out_of_the_package_is_named(tmp_path):
    """Constructed breach: the package-data globs lose `*.txt`; the check names the file left out."""
    source = _tracked_source(tmp_path / "src")
    pyproject = source / "pyproject.toml"
    text = pyproject.read_text(encoding="utf-8")
    assert '"**/*.txt", ' in text
    pyproject.write_text(text.replace('"**/*.txt", ', ""), encoding="utf-8")
    wheel = _build_wheel(source, tmp_path / "dist")
    assert missing_data_files(wheel, source) == ["tipipeline/practice/given_names.txt"]


def _fresh_environment(root: Path, wheel: Path) -> Path:
    """A virtual environment holding the wheel, with the locked dependencies visible beside it.

    The dependencies are this interpreter's site-packages, added by a path file; path files inside
    that folder are not run from there, so the editable install it holds (a finder hook that a `.pth`
    installs) is not seen: `tipipeline` resolves to the wheel's copy."""
    venv = root / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, capture_output=True)
    python = venv / "bin" / "python"
    site = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    (Path(site) / "_locked_dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n", encoding="utf-8")
    subprocess.run(
        [str(python), "-m", "pip", "install", "--quiet", "--no-deps", "--no-index", str(wheel)],
        check=True,
        capture_output=True,
    )
    return venv


# Pages say which commit built them; outside a git checkout (an installed package) that is
# "unknown" (DESIGN.md, provenance.git_commit), the one difference a page may have.
_COMMIT = re.compile(rb"\(commit (?:[0-9a-f]{12}|unknown)\)")


def _digests(folder: Path) -> dict[str, str]:
    """File -> SHA-256 of its bytes (of an HTML page's, with the commit that built it blanked)."""
    found = {}
    for path in sorted(folder.rglob("*")):
        # The provenance table records the run (its id and time): it differs by design (verify.py).
        if path.is_file() and not (path.parent.name == "exports" and path.stem in SKIPPED_TABLES):
            data = path.read_bytes()
            if path.suffix == ".html":
                data = _COMMIT.sub(b"(commit)", data)
            found[path.relative_to(folder).as_posix()] = hashlib.sha256(data).hexdigest()
    return found


def test_the_installed_wheel_runs_the_sample_and_loads_in_dagster(wheel, cli_built_sample, tmp_path):
    """A whole build, for a reason: the report, journey pages and practice library are what open the
    data files that were missing, and the wheel's build must give what the checkout's build gives."""
    venv = _fresh_environment(tmp_path, wheel)
    away = tmp_path / "elsewhere"  # not the source tree, so nothing is found beside the code
    away.mkdir()
    environment = {
        key: value for key, value in os.environ.items() if not key.startswith(("TIPIPELINE_", "PYTHON", "DAGSTER_"))
    }
    environment |= {"DAGSTER_HOME": str(tmp_path / "home"), "PATH": f"{venv / 'bin'}{os.pathsep}{environment['PATH']}"}

    def run(*command: str) -> subprocess.CompletedProcess:
        done = subprocess.run(command, cwd=away, env=environment, capture_output=True, text=True, check=False)
        assert done.returncode == 0, f"{' '.join(command)}\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
        return done

    where = run(str(venv / "bin" / "python"), "-c", "import tipipeline; print(tipipeline.__file__)").stdout.strip()
    assert Path(where).is_relative_to(venv), where
    assert not Path(where).is_relative_to(REPO), where

    # The sample written by the installed package is the bundled one, byte for byte.
    run(str(venv / "bin" / "tipipeline"), "sample", "--out", str(tmp_path / "sample" / "raw"))
    assert _digests(tmp_path / "sample" / "raw") == _digests(SAMPLE_RAW)

    data = tmp_path / "data"
    shutil.copytree(SAMPLE_RAW, data / "raw")
    run(str(venv / "bin" / "tipipeline"), "run", "--data-dir", str(data), "--output-dir", str(tmp_path / "outputs"))
    # Installed away from any git checkout, the pages say so rather than naming some other commit.
    pages = (tmp_path / "outputs" / "journeys").glob("*.html")
    assert all(b"(commit unknown)" in page.read_bytes() for page in pages)
    assert _digests(tmp_path / "outputs") == _digests(cli_built_sample.outputs)
    assert table_digests(data / "warehouse" / "baseline.duckdb") == table_digests(
        cli_built_sample.data / "warehouse" / "baseline.duckdb"
    )

    validated = run(
        str(venv / "bin" / "python"), "-m", "dagster", "definitions", "validate", "-m", "tipipeline.definitions"
    )
    assert "Validation successful" in validated.stdout + validated.stderr
