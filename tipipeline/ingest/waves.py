"""Survey waves on disk: one folder per wave under data/raw/surveys/."""

from __future__ import annotations

import re
from pathlib import Path

from tipipeline.errors import InputError
from tipipeline.files import EXPORT_SUFFIXES

# A wave folder name becomes a Dagster partition key: keep it to safe characters.
WAVE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")


def discover_waves(surveys_dir: str | Path) -> list[str]:
    """Names of the wave folders under `surveys_dir`, sorted; hidden and odd names ignored."""
    surveys_dir = Path(surveys_dir)
    if not surveys_dir.is_dir():
        return []
    return sorted(p.name for p in surveys_dir.iterdir() if p.is_dir() and WAVE_NAME.match(p.name))


def wave_export_files(surveys_dir: str | Path, wave: str) -> list[Path]:
    """The survey exports (.csv, .xlsx) in a wave folder; an error if there are none.

    Office lock files (`~$name.xlsx`) and hidden files are not exports and are skipped.
    """
    folder = Path(surveys_dir) / wave
    if not folder.is_dir():
        raise InputError(folder, "wave folder not found")
    files = sorted(
        p
        for p in folder.iterdir()
        if p.is_file() and p.suffix.lower() in EXPORT_SUFFIXES and not p.name.startswith(("~$", "."))
    )
    if not files:
        raise InputError(folder, f"wave folder {wave!r} holds no survey export (.csv or .xlsx)")
    return files
