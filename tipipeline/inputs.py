"""What the pipeline reads, and a content hash of each input: the data versions Dagster compares
to tell which input changed and what is stale.

Pure functions of the files on disk. A file's hash is remembered against its size and
modification time, so watching a folder of large exports every 30 seconds does not re-read them.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

from tipipeline.files import BOUNDARY_SUFFIXES, EXPORT_SUFFIXES, SHAPEFILE_SIDECARS, file_sha256
from tipipeline.framework import FRAMEWORK_PATH
from tipipeline.framework.catalogue import CATALOGUE_PATH
from tipipeline.ingest.policy_audit import audit_files
from tipipeline.ingest.waves import discover_waves
from tipipeline.ingest.workforce import STAFF_GROUPS_PATH, workforce_files
from tipipeline.outcomes.files import MAPPING_PATH, OUTCOME_CATALOGUE_PATH, outcome_files
from tipipeline.practice.config import GIVEN_NAMES, LIBRARY_CONFIG
from tipipeline.reference import REFERENCE_DIR
from tipipeline.settings import Settings

# The source assets (what the UI shows under the group "inputs"), one per kind of input file.
RAW_SURVEY_WAVE = "raw_survey_wave"  # partitioned by wave: the export files in one wave folder
RAW_CODEBOOK = "raw_codebook"
RAW_POLICY_AUDITS = "raw_policy_audits"
RAW_OUTCOMES = "raw_outcomes"
RAW_BOUNDARIES = "raw_boundaries"
RAW_DEFINITION = "raw_definition"
RAW_PRACTICE = "raw_practice"
RAW_WORKFORCE = "raw_workforce"
FRAMEWORK_FILES = "framework_files"
REFERENCE_FILES = "reference_files"
NO_FILES = "no files"


@dataclass(frozen=True)
class InputVersion:
    """The data version of one input: a hash over its files' names and contents."""

    version: str
    files: dict[str, str]  # file name -> SHA-256

    @property
    def summary(self) -> str:
        return ", ".join(f"{name} ({sha[:12]})" for name, sha in self.files.items()) or NO_FILES


def version_of(files: list[Path], root: Path | None = None) -> InputVersion:
    """One version for a set of files: changes when a file is added, removed, renamed or edited."""
    named = {str(p.relative_to(root)) if root else p.name: file_sha256(p) for p in sorted(files)}
    digest = hashlib.sha256()
    for name, sha in named.items():
        digest.update(f"{name}\0{sha}\n".encode())
    return InputVersion(digest.hexdigest() if named else NO_FILES, named)


def _files(folder: Path, suffixes: tuple[str, ...]) -> list[Path]:
    if not folder.is_dir():
        return []
    return [
        p
        for p in folder.iterdir()
        if p.is_file() and p.suffix.lower() in suffixes and not p.name.startswith(("~$", "."))
    ]


def tree_files(folder: Path) -> list[Path]:
    """Every export and YAML file under a folder, at any depth: the definition panel (protocol,
    statements, panel file, rounds) and the practice library (submissions, reviews)."""
    if not folder.is_dir():
        return []
    return sorted(
        p
        for p in folder.rglob("*")
        if p.is_file()
        and (p.suffix.lower() in EXPORT_SUFFIXES or p.suffix.lower() in (".yaml", ".yml"))
        and not p.name.startswith(("~$", "."))
    )


def wave_version(settings: Settings, wave: str) -> InputVersion:
    """The export files in one wave folder (an empty folder has the version "no files")."""
    return version_of(_files(settings.surveys_dir / wave, EXPORT_SUFFIXES))


def settled(settings: Settings, wave: str, seconds: float = 10) -> bool:
    """Whether no export in the wave folder changed in the last `seconds`: a folder still being
    copied in is not read half-written."""
    import time

    newest = max((p.stat().st_mtime for p in _files(settings.surveys_dir / wave, EXPORT_SUFFIXES)), default=0)
    return time.time() - newest >= seconds


def wave_versions(settings: Settings) -> dict[str, InputVersion]:
    """Every wave folder on disk and its version."""
    return {wave: wave_version(settings, wave) for wave in discover_waves(settings.surveys_dir)}


def input_versions(settings: Settings) -> dict[str, InputVersion]:
    """The version of every unpartitioned input, by source asset name."""
    boundary_files = _files(settings.boundaries_dir, BOUNDARY_SUFFIXES + SHAPEFILE_SIDECARS)
    codebook = [settings.codebook_path] if settings.codebook_path.is_file() else []
    return {
        RAW_CODEBOOK: version_of(codebook),
        RAW_POLICY_AUDITS: version_of(audit_files(settings.policy_audit_dir)),
        RAW_OUTCOMES: version_of(outcome_files(settings.outcomes_dir)),
        RAW_BOUNDARIES: version_of(boundary_files),
        RAW_DEFINITION: version_of(tree_files(settings.definition_dir), settings.definition_dir),
        RAW_PRACTICE: version_of(tree_files(settings.practice_dir), settings.practice_dir),
        RAW_WORKFORCE: version_of(workforce_files(settings.workforce_dir)),
        FRAMEWORK_FILES: version_of(
            [FRAMEWORK_PATH, CATALOGUE_PATH, MAPPING_PATH, OUTCOME_CATALOGUE_PATH, LIBRARY_CONFIG, GIVEN_NAMES]
        ),
        REFERENCE_FILES: version_of([*sorted(Path(REFERENCE_DIR).glob("*.csv")), STAFF_GROUPS_PATH]),
    }
