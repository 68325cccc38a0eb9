"""Where the outcome inputs are: the files of data/raw/outcomes/ and the configuration read with them."""

from __future__ import annotations

from pathlib import Path

OUTCOME_SUFFIXES = (".csv", ".xlsx", ".xlsm", ".xls")
PACKAGE = Path(__file__).parent
MAPPING_PATH = PACKAGE / "outcomes.yaml"  # categories -> outcome measures
OUTCOME_CATALOGUE_PATH = PACKAGE / "outcome_indicators.yaml"  # the outcome indicators' metadata


def outcome_files(folder: Path) -> list[Path]:
    """The files in the outcomes folder, in name order (hidden files and notes left out)."""
    if not folder.is_dir():
        return []
    return sorted(
        p
        for p in folder.iterdir()
        if p.is_file() and not p.name.startswith(".") and p.suffix.lower() in OUTCOME_SUFFIXES
    )
