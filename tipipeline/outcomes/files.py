"""Where the outcome inputs are: the files of data/raw/outcomes/ and the configuration read with them."""

from __future__ import annotations

from pathlib import Path

from tipipeline.errors import InputError
from tipipeline.files import OUTCOME_SUFFIXES

PACKAGE = Path(__file__).parent
MAPPING_PATH = PACKAGE / "outcomes.yaml"  # categories -> outcome measures
OUTCOME_CATALOGUE_PATH = PACKAGE / "outcome_indicators.yaml"  # the outcome indicators' metadata


def outcome_config_files() -> dict[str, Path]:
    """The outcome configuration as provenance names it: name -> path."""
    return {"config/outcomes.yaml": MAPPING_PATH, "config/outcome_indicators.yaml": OUTCOME_CATALOGUE_PATH}


def outcome_files(folder: Path) -> list[Path]:
    """The files in the outcomes folder, in name order (hidden files, Excel lock files and notes left out)."""
    if not folder.is_dir():
        return []
    return sorted(
        p
        for p in folder.iterdir()
        # "~$" names are the lock files Excel leaves beside an open workbook, not data.
        if p.is_file() and not p.name.startswith(("~$", ".")) and p.suffix.lower() in OUTCOME_SUFFIXES
    )


def read_csv_bytes(path: Path, expected: str, download: str) -> bytes:
    """A published CSV's bytes, refusing what it cannot be: unreadable, empty, an Excel workbook or
    a binary file (InputError naming the file). `expected`: what the file should be ("a Fingertips
    data export (CSV)"); `download`: what to do instead of a workbook ("download the data as CSV")."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise InputError(path, f"cannot read the file ({exc.strerror or exc})") from exc
    if not data.strip():
        raise InputError(path, f"the file is empty: expected {expected}")
    if data.startswith((b"PK\x03\x04", b"\xd0\xcf\x11\xe0")):
        raise InputError(path, f"an Excel workbook, not {expected}: {download}")
    if b"\x00" in data[:65536] and not data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise InputError(path, f"a binary file, not {expected}")
    return data
