"""Drawing requests ("plates"): what a map figure is made of, as plain data, so that each picture is
drawn once, again only when what it shows has changed, and on every core.

A `Plate` holds everything `draw_map` takes. Its `key` is a SHA-256 of that content and of the
drawing code, so the same key means the same PNG bytes (drawing is deterministic: tests hold it).
`draw_plates` reuses a picture already in the folder when the folder's record (`DRAWN_RECORD`)
gives it the same key and the file still has the bytes recorded, draws the rest (in worker
processes when there are enough of them: matplotlib is not thread-safe), and returns every PNG.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from functools import cache, cached_property
from importlib.metadata import version
from multiprocessing import get_context
from pathlib import Path

import pandas as pd

from tipipeline.errors import TipipelineError
from tipipeline.settings import DRAW_WORKERS_ENV, env
from tipipeline.viz.maps import Panel, Scheme, draw_map
from tipipeline.viz.style import RC, render, thumbnail, write_atomically

# The folder's record of what each picture in it was drawn from: {name: {"key", "sha256"}}.
DRAWN_RECORD = ".drawn.json"
# Fewer pictures than this to draw are drawn in this process: a worker's start (importing
# matplotlib and geopandas, about a second) costs more than it saves.
MIN_PARALLEL = 8
WORKERS_ENV = DRAW_WORKERS_ENV
_DRAWING_CODE = ("maps.py", "plates.py", "style.py")


@dataclass(frozen=True)
class Plate:
    """One map figure to draw. `name`: its file under the maps folder ('<wave>/<id>_<layer>.png')."""

    name: str
    title: str
    subtitle: str
    panels: tuple[Panel, ...]
    attribution: str | None
    scheme: Scheme
    columns: int | None = None

    def figure(self):
        """The matplotlib figure."""
        return draw_map(
            self.title, self.subtitle, list(self.panels), self.attribution, scheme=self.scheme, columns=self.columns
        )

    def draw(self) -> bytes:
        """The PNG bytes of this figure."""
        return render(self.figure())

    @property
    def key(self) -> str:
        """SHA-256 of what the figure shows and of the code that draws it."""
        digest = hashlib.sha256(_code_fingerprint().encode())
        scheme = self.scheme
        parts = [
            self.title,
            self.subtitle,
            self.attribution,
            self.columns,
            scheme.title,
            f"{scheme.class_of.__module__}.{scheme.class_of.__qualname__}",
            [(str(k), c.label, sorted(c.fill.items()), sorted(c.key.items()), c.label_colour, c.hatched)
             for k, c in scheme.classes.items()],
        ]  # fmt: skip
        digest.update(repr(parts).encode())
        for panel in self.panels:
            digest.update(repr((panel.title, sorted(panel.labels.items()) if panel.labels else None)).encode())
            digest.update(repr(sorted((code, repr(area)) for code, area in panel.areas.items())).encode())
            for code, geometry in zip(panel.shapes["code"], panel.shapes.geometry):
                digest.update(str(code).encode())
                digest.update(geometry.wkb)
        return digest.hexdigest()


@cache
def _code_fingerprint() -> str:
    """The drawing code and the versions that render it: a change to any makes every key new."""
    here = Path(__file__).parent
    digest = hashlib.sha256()
    for name in _DRAWING_CODE:
        digest.update((here / name).read_bytes())
    digest.update(repr(sorted(RC.items())).encode())
    for package in ("matplotlib", "shapely", "pillow", "numpy"):
        digest.update(f"{package}=={version(package)}".encode())
    return digest.hexdigest()


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _read_record(folder: Path) -> dict:
    try:
        return json.loads((folder / DRAWN_RECORD).read_text(encoding="utf-8"))
    except (FileNotFoundError, ValueError):
        return {}


def drawn_already(plate: Plate, folder: Path | None, record: dict | None = None) -> bytes | None:
    """The picture of `plate` in `folder` when it was drawn from the same key and is unchanged since."""
    if folder is None:
        return None
    entry = (record if record is not None else _read_record(folder)).get(plate.name)
    path = folder / plate.name
    if not entry or entry.get("key") != plate.key or not path.is_file():
        return None
    data = path.read_bytes()
    return data if _sha256(data) == entry.get("sha256") else None


def workers() -> int:
    """Worker processes for drawing: the cores this process may use ($TIPIPELINE_DRAW_WORKERS caps it)."""
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    cap = env(WORKERS_ENV).strip()
    if not cap:
        return max(1, cores)
    if not cap.isdigit() or int(cap) < 1:
        raise TipipelineError(f"{WORKERS_ENV}={cap!r}: give a whole number of processes, 1 or more")
    return min(cores, int(cap))


def draw_all(plates: Sequence[Plate], processes: int | None = None) -> list[bytes]:
    """Every plate's PNG, in order: in `processes` workers (default `workers()`) when that pays."""
    processes = processes or workers()
    if processes < 2 or len(plates) < MIN_PARALLEL:
        return [plate.draw() for plate in plates]
    # forkserver: each worker forks from a clean server process that has imported the drawing code
    # once, not from this process (which may hold threads and open database connections).
    context = get_context("forkserver")
    context.set_forkserver_preload(["tipipeline.viz.plates"])
    # Largest first (most panels), so that no worker is left with a big one at the end.
    order = sorted(range(len(plates)), key=lambda i: -len(plates[i].panels))
    chunk = max(1, len(plates) // (4 * processes))
    try:
        with ProcessPoolExecutor(max_workers=min(processes, len(plates)), mp_context=context) as pool:
            drawn = dict(zip(order, pool.map(Plate.draw, [plates[i] for i in order], chunksize=chunk)))
    except BrokenProcessPool:
        # A worker could not start (a script whose main module runs its work on import, with no
        # `if __name__ == "__main__"`, cannot start one): the same pictures, drawn here.
        return [plate.draw() for plate in plates]
    return [drawn[i] for i in range(len(plates))]


def draw_plates(plates: Sequence[Plate], folder: Path | None, write: bool = True) -> tuple[list[bytes], int]:
    """(every plate's PNG in order, how many were drawn now). Pictures already in `folder` from the
    same key are reused; with `write`, the others are written there and the folder's record
    updated (entries of other pictures are kept)."""
    record = _read_record(folder) if folder is not None else {}
    found = [drawn_already(plate, folder, record) for plate in plates]
    missing = [i for i, png in enumerate(found) if png is None]
    for i, png in zip(missing, draw_all([plates[i] for i in missing])):
        found[i] = png
        if write and folder is not None:
            write_atomically(folder / plates[i].name, png)
            record[plates[i].name] = {"key": plates[i].key, "sha256": _sha256(png)}
    if write and folder is not None and missing:
        body = json.dumps(dict(sorted(record.items())), indent=1) + "\n"
        write_atomically(folder / DRAWN_RECORD, body.encode("utf-8"))
    return found, len(missing)


@dataclass(frozen=True)
class PlannedMap:
    """A map to draw (its plate) and what is said about it: the report's alt text and data table."""

    plate: Plate
    indicator_id: str
    wave: str
    layer: str
    title: str
    alt_text: str
    data: pd.DataFrame  # the values drawn, for the report's table beside the image
    attribution: str | None = None  # the boundaries' Crown copyright (None on the tile grid)


@dataclass
class MapRecord:
    """A planned map, drawn: its PNG and, when written, its file. Everything said about it (indicator,
    wave, layer, title, alt text, data table, attribution) is its plan's."""

    planned: PlannedMap
    png: bytes
    path: Path | None = None  # None when drawn without writing

    def __getattr__(self, name: str):
        if name == "planned":  # not set yet (while unpickling): no plan to ask
            raise AttributeError(name)
        return getattr(self.planned, name)

    @cached_property
    def thumbnail(self) -> bytes:
        """A small copy of the picture, for Dagster metadata."""
        return thumbnail(self.png)


def draw_planned(planned: list[PlannedMap], out_dir: Path | None, write: bool = True) -> tuple[list[MapRecord], int]:
    """(the records of `planned`, how many pictures were drawn now). Pictures already in `out_dir`
    from the same plate are reused; with `write`, the rest are written there."""
    pngs, drawn = draw_plates([p.plate for p in planned], out_dir, write=write)
    records = [
        MapRecord(p, png, out_dir / p.plate.name if out_dir is not None and write else None)
        for p, png in zip(planned, pngs)
    ]
    return records, drawn
