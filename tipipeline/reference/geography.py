"""Load the reference geography and resolve names through the alias table."""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import pandas as pd

from tipipeline.errors import ConfigError
from tipipeline.files import file_sha256

REFERENCE_DIR = Path(__file__).parent
# GSS codes of the London region and of England: written here only (tests/test_reference.py).
LONDON_CODE = "E12000007"
ENGLAND_CODE = "E92000001"

# Entities an alias can point at, and the reference table whose codes they must exist in.
ALIAS_ENTITIES = ("organisation", "borough", "bcu", "icb")

_PUNCTUATION = re.compile(r"[^\w\s]")
_SPACES = re.compile(r"\s+")


def normalise_name(text: str) -> str:
    """Fold a typed name to a comparable key: case, accents, '&', punctuation and spacing ignored."""
    text = unicodedata.normalize("NFKD", str(text)).encode("ascii", "ignore").decode("ascii")
    text = text.casefold().replace("&", " and ")
    text = _PUNCTUATION.sub(" ", text)
    return _SPACES.sub(" ", text).strip()


def _read_csv(name: str, directory: Path) -> pd.DataFrame:
    path = directory / name
    try:
        # Everything as text first: codes such as "NA" (North BCU) must never become NaN.
        return pd.read_csv(path, dtype=str, keep_default_na=False)
    except OSError as exc:
        raise ConfigError(path, "", f"cannot read reference file ({exc.strerror})") from exc


@dataclass(frozen=True)
class Reference:
    """The reference tables, as DataFrames with typed columns."""

    boroughs: pd.DataFrame
    icbs: pd.DataFrame
    borough_icb: pd.DataFrame
    bcus: pd.DataFrame
    organisations: pd.DataFrame
    aliases: pd.DataFrame
    tile_grid: pd.DataFrame
    sha256: dict[str, str] = field(default_factory=dict)

    def boroughs_at(self, date: dt.date | None = None) -> pd.DataFrame:
        """Boroughs with the ICB each belonged to on `date` (default: the latest lookup rows)."""
        lookup = self.borough_icb
        if date is not None:
            stamp = pd.Timestamp(date)
            lookup = lookup[
                (lookup["valid_from"] <= stamp) & (lookup["valid_to"].isna() | (lookup["valid_to"] > stamp))
            ]
        else:
            lookup = lookup[lookup["valid_to"].isna()]
        merged = self.boroughs.merge(lookup[["gss_code", "icb_code"]], on="gss_code", how="left", validate="one_to_one")
        return merged


def load_reference(directory: str | Path = REFERENCE_DIR) -> Reference:
    """Read and type the reference CSVs; raise ConfigError on a malformed file."""
    directory = Path(directory)
    boroughs = _read_csv("boroughs.csv", directory)
    boroughs["inner_london"] = boroughs["inner_london"].map({"true": True, "false": False})
    boroughs["bcu_code"] = boroughs["bcu_code"].replace("", None)
    icbs = _read_csv("icbs.csv", directory)
    icbs["valid_from"] = pd.to_datetime(icbs["valid_from"], format="%Y-%m-%d")
    borough_icb = _read_csv("borough_icb.csv", directory)
    borough_icb["valid_from"] = pd.to_datetime(borough_icb["valid_from"], format="%Y-%m-%d")
    borough_icb["valid_to"] = pd.to_datetime(borough_icb["valid_to"].replace("", None), format="%Y-%m-%d")
    bcus = _read_csv("bcus.csv", directory)
    organisations = _read_csv("organisations.csv", directory)
    organisations["ods_code"] = organisations["ods_code"].replace("", None)
    aliases = _read_csv("aliases.csv", directory)
    tile_grid = _read_csv("tile_grid.csv", directory)
    tile_grid[["x", "y"]] = tile_grid[["x", "y"]].astype("int64")
    hashes = {path.name: file_sha256(path) for path in sorted(directory.glob("*.csv"))}
    return Reference(
        boroughs=boroughs,
        icbs=icbs,
        borough_icb=borough_icb,
        bcus=bcus,
        organisations=organisations,
        aliases=aliases,
        tile_grid=tile_grid,
        sha256=hashes,
    )


@lru_cache(maxsize=1)
def _default_reference() -> Reference:
    return load_reference()


class AliasResolver:
    """Resolve typed names to codes, per entity (organisation, borough, bcu, icb).

    Official names, short names and codes resolve as well as the listed aliases. Matching ignores
    case, accents, '&' versus 'and', punctuation and spacing. An alias that would point at two
    different codes is a data error, raised on construction.
    """

    def __init__(self, reference: Reference | None = None):
        ref = reference or _default_reference()
        candidates: list[tuple[str, str, str, str]] = []  # entity, alias, code, source
        for row in ref.organisations.itertuples():
            for name in (row.org_id, row.name, row.short_name, row.ods_code):
                if name:
                    candidates.append(("organisation", name, row.org_id, "organisations.csv"))
        for row in ref.boroughs.itertuples():
            for name in (row.gss_code, row.name):
                candidates.append(("borough", name, row.gss_code, "boroughs.csv"))
        for row in ref.bcus.itertuples():
            candidates.append(("bcu", row.name, row.bcu_code, "bcus.csv"))
        for row in ref.icbs.itertuples():
            for name in (row.icb_code, row.ods_code, row.name, row.short_name):
                candidates.append(("icb", name, row.icb_code, "icbs.csv"))
        for row in ref.aliases.itertuples():
            candidates.append((row.entity, row.alias, row.code, "aliases.csv"))

        valid_codes = {
            "organisation": set(ref.organisations["org_id"]),
            "borough": set(ref.boroughs["gss_code"]),
            "bcu": set(ref.bcus["bcu_code"]),
            "icb": set(ref.icbs["icb_code"]),
        }
        self._lookup: dict[str, dict[str, str]] = {entity: {} for entity in ALIAS_ENTITIES}
        for index, (entity, alias, code, source) in enumerate(candidates):
            if entity not in self._lookup:
                raise ConfigError(source, f"row {index}", f"unknown entity {entity!r}; use one of {ALIAS_ENTITIES}")
            if code not in valid_codes[entity]:
                raise ConfigError(source, f"alias {alias!r}", f"code {code!r} is not a known {entity}")
            key = normalise_name(alias)
            existing = self._lookup[entity].get(key)
            if existing is not None and existing != code:
                raise ConfigError(source, f"alias {alias!r}", f"ambiguous: points at both {existing} and {code}")
            self._lookup[entity][key] = code

    def resolve(self, entity: str, text: object) -> str | None:
        """The code for `text`, or None when it does not resolve (blank text included)."""
        if text is None or (isinstance(text, float) and pd.isna(text)):
            return None
        key = normalise_name(str(text))
        if not key:
            return None
        return self._lookup[entity].get(key)

    def suggest(self, entity: str, text: object, n: int = 3) -> list[str]:
        """Close spellings the resolver knows, for an error message or quarantine reason."""
        import difflib

        key = normalise_name(str(text))
        return difflib.get_close_matches(key, list(self._lookup[entity]), n=n, cutoff=0.75)

    def aliases_frame(self) -> pd.DataFrame:
        """Every normalised key the resolver accepts, for publishing and inspection."""
        rows = [
            {"entity": entity, "normalised_alias": key, "code": code}
            for entity, table in self._lookup.items()
            for key, code in sorted(table.items())
        ]
        return pd.DataFrame(rows, columns=["entity", "normalised_alias", "code"])
