"""Input files: which suffixes each reader takes, and a file's SHA-256. The one place for both, so
that `check`, the readers, the source assets' data versions and provenance agree on them."""

from __future__ import annotations

import hashlib
from pathlib import Path

EXPORT_SUFFIXES = (".csv", ".xlsx")  # survey exports, definition rounds, practice submissions
AUDIT_SUFFIXES = (".csv", ".xlsx")  # the files of the policy-audit folder that are read
WORKBOOK_SUFFIXES = (".xlsx", ".xlsm", ".xls")  # Excel workbooks (ONS population estimates)
OUTCOME_SUFFIXES = (".csv", *WORKBOOK_SUFFIXES)  # published outcome files
BOUNDARY_SUFFIXES = (".shp", ".gpkg", ".geojson", ".json")  # boundary files (ingest/boundaries.py)
SHAPEFILE_SIDECARS = (".shx", ".dbf", ".prj", ".cpg")  # read with a .shp, so part of its version

_hash_cache: dict[tuple[str, int, int, int, int], str] = {}


def file_sha256(path: Path) -> str:
    """SHA-256 of a file's bytes, read in blocks. Remembered against the file's inode, size and
    modification and change times: a file replaced (a new inode) or rewritten (a new ctime, which no
    copy tool sets back) is read again, even within one tick of a coarse clock."""
    stat = path.stat()
    key = (str(path.resolve()), stat.st_ino, stat.st_size, stat.st_mtime_ns, stat.st_ctime_ns)
    if key not in _hash_cache:
        digest = hashlib.sha256()
        with path.open("rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
        _hash_cache[key] = digest.hexdigest()
    return _hash_cache[key]


def sha256_of(path: Path) -> str | None:
    """`file_sha256`, or None when there is no such file."""
    return file_sha256(path) if path.is_file() else None
