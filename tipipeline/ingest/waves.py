"""Survey waves on disk: one folder per wave under data/raw/surveys/."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

import pandas as pd

from tipipeline.errors import InputError

# A wave folder name becomes a Dagster partition key: keep it to safe characters.
WAVE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
EXPORT_SUFFIXES = (".csv", ".xlsx")


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
        p for p in folder.iterdir()
        if p.is_file() and p.suffix.lower() in EXPORT_SUFFIXES and not p.name.startswith(("~$", "."))
    )
    if not files:
        raise InputError(folder, f"wave folder {wave!r} holds no survey export (.csv or .xlsx)")
    return files


def sha256_file(path: str | Path, chunk: int = 1 << 20) -> str:
    """The file's SHA-256, read in chunks so large exports need little memory."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while block := handle.read(chunk):
            digest.update(block)
    return digest.hexdigest()


def wave_inventory(surveys_dir: str | Path, wave: str) -> pd.DataFrame:
    """One row per export file in the wave: name, size, SHA-256."""
    rows = [
        {
            "wave": wave,
            "file_name": path.name,
            "file_format": path.suffix.lower().lstrip("."),
            "size_bytes": path.stat().st_size,
            "sha256": sha256_file(path),
        }
        for path in wave_export_files(surveys_dir, wave)
    ]
    return pd.DataFrame(rows, columns=["wave", "file_name", "file_format", "size_bytes", "sha256"])
