"""Read and check the registry files (see the package docstring); nothing here knows pandas or pandera."""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from tipipeline.errors import ConfigError, read_yaml_mapping

ROOT = Path(__file__).parent

# A field's type, and the pandas dtype its column has when it may not and when it may be empty.
# `date` columns hold datetime.date values (a dtype pandas lacks); `any` holds values as read.
TYPES: dict[str, tuple[str, str]] = {
    "string": ("str", "str"),
    "integer": ("int64", "Int64"),
    "number": ("float64", "float64"),
    "boolean": ("bool", "boolean"),
    "date": ("object", "object"),
    "datetime": ("datetime64[ns]", "datetime64[ns]"),
    "any": ("object", "object"),
}
# What one row of a table is about, lowest first: the layers the README's table list follows.
LAYERS = {
    "reference": "Reference data: geography, organisations and the measurement framework.",
    "staging": "Accepted raw rows, pseudonymised and typed (never published).",
    "restricted": "Restricted: read only by named researchers, never published.",
    "quarantine": "Raw rows that could not be accepted, each with its file, row, column and reason.",
    "exclusions": "Raw rows excluded by a documented rule.",
    "data_quality": "One row per input file: where every raw row went.",
    "working": "Tables built from the staged rows.",
}
CONSTRAINTS = {"ge", "gt", "le", "lt", "isin", "matches", "startswith", "min_length", "max_length", "length", "unique"}
_COLUMN_KEYS = {"type", "dtype", "description", "identifying", "nullable", "pattern", "check", *CONSTRAINTS}
_FIELD_KEYS = {"type", "dtype", "description", "identifying"}
_TABLE_KEYS = {"description", "layer", "owner", "model", "key", "unique_together", "fields", "checks", "made_in"}
_PUBLISHED_KEYS = {"comment", "sql", "order_by", "from", "fields", "released_with_consent", "formerly"}
_NAME = re.compile(r"[a-z_][a-z0-9_]*")


@dataclass(frozen=True)
class Column:
    """A field as one table holds it: the field's type and description (unless the table says
    otherwise), its nullability and its constraints there."""

    name: str
    type: str
    dtype: str
    description: str
    identifying: bool
    nullable: bool = False
    pattern: bool = False  # the name is a regular expression matching a family of columns
    constraints: Mapping[str, object] = field(default_factory=dict)
    checks: tuple[str, ...] = ()  # custom column checks, by name


@dataclass(frozen=True)
class Table:
    """A warehouse table."""

    name: str
    description: str
    layer: str
    owner: str
    model: str
    columns: tuple[Column, ...]
    key: tuple[str, ...] = ()
    unique_together: tuple[tuple[str, ...], ...] = ()
    checks: tuple[str, ...] = ()
    made_in: str | None = None  # "duckdb": made by SQL from validated tables; no pandas frame to validate
    source: Path | None = None

    @property
    def names(self) -> list[str]:
        """The table's column names in order (a family of columns named by a pattern left out)."""
        return [c.name for c in self.columns if not c.pattern]

    @property
    def descriptions(self) -> dict[str, str]:
        return {c.name: c.description for c in self.columns}

    def column(self, name: str) -> Column:
        for c in self.columns:
            if c.name == name:
                return c
        raise KeyError(f"{self.name} has no column {name!r}")

    def column_named(self, name: str) -> Column | None:
        """The registered column a stored column is: by its name, else the first pattern it matches
        (`score_safety` is `^score_[a-z0-9_]+$`); None when it is neither."""
        exact = next((c for c in self.columns if c.name == name and not c.pattern), None)
        return exact or next((c for c in self.columns if c.pattern and re.fullmatch(c.name, name)), None)


@dataclass(frozen=True)
class PublishedTable:
    """A table of the published baseline: its comment, the query over the working warehouse that
    makes it, the sort keys, and its columns (whose comments are their descriptions)."""

    name: str
    comment: str
    sql: str
    order_by: tuple[str, ...]
    columns: tuple[Column, ...]
    source: str | None = None  # the warehouse table it is, when it is one as it stands
    # The name it was published under until this release: kept readable as a view for one release.
    formerly: str | None = None
    # Why columns that may identify a person are released (empty: the table holds none).
    released_with_consent: str = ""

    @property
    def names(self) -> list[str]:
        return [c.name for c in self.columns]

    @property
    def descriptions(self) -> dict[str, str]:
        return {c.name: c.description for c in self.columns}


@dataclass(frozen=True)
class Registry:
    fields: Mapping[str, Mapping]
    tables: Mapping[str, Table]
    published: Mapping[str, PublishedTable]


def _camel(name: str) -> str:
    return "".join(part.capitalize() for part in name.split("_"))


def _column(entry, fields: Mapping[str, Mapping], path: Path, where: str) -> Column:
    if isinstance(entry, str):
        name, spec = entry, {}
    elif isinstance(entry, dict) and len(entry) == 1:
        name, spec = next(iter(entry.items()))
        spec = spec or {}
    else:
        raise ConfigError(path, where, "a field is a name, or a name with its settings in this table")
    if not isinstance(spec, dict):
        raise ConfigError(path, f"{where}.{name}", "settings must be a mapping")
    unknown = set(spec) - _COLUMN_KEYS
    if unknown:
        raise ConfigError(
            path, f"{where}.{name}", f"unknown setting(s) {sorted(unknown)}; known: {sorted(_COLUMN_KEYS)}"
        )
    defined = fields.get(name)
    if defined is None:
        raise ConfigError(path, f"{where}.{name}", "not defined in fields.yaml (a field is defined there once)")
    kind = spec.get("type", defined["type"])
    if kind not in TYPES:
        raise ConfigError(path, f"{where}.{name}.type", f"{kind!r} is not one of {sorted(TYPES)}")
    nullable = bool(spec.get("nullable", False))
    dtype = spec.get("dtype") or (defined.get("dtype") if "type" not in spec else None) or TYPES[kind][nullable]
    description = spec.get("description", defined.get("description"))
    if not description or not str(description).strip():
        raise ConfigError(path, f"{where}.{name}", "no description (give one in fields.yaml or here)")
    checks = spec.get("check", [])
    checks = [checks] if isinstance(checks, str) else list(checks)
    if kind == "date":
        checks.insert(0, "dates_only")  # a date, never a time of day: what `date` means
    return Column(
        name=name,
        type=kind,
        dtype=str(dtype),
        description=" ".join(str(description).split()),
        identifying=bool(spec.get("identifying", defined.get("identifying", False))),
        nullable=nullable,
        pattern=bool(spec.get("pattern", False)),
        constraints={k: v for k, v in spec.items() if k in CONSTRAINTS},
        checks=tuple(checks),
    )


def _columns(entries, fields, path: Path, where: str) -> tuple[Column, ...]:
    if not isinstance(entries, list) or not entries:
        raise ConfigError(path, where, "a non-empty list of fields")
    columns = tuple(_column(e, fields, path, f"{where}[{i}]") for i, e in enumerate(entries))
    names = [c.name for c in columns]
    repeated = sorted({n for n in names if names.count(n) > 1})
    if repeated:
        raise ConfigError(path, where, f"field(s) listed twice: {repeated}")
    return columns


def _names(value, columns: tuple[Column, ...], path: Path, where: str) -> tuple[str, ...]:
    names = tuple(value)
    missing = [n for n in names if n not in {c.name for c in columns}]
    if missing:
        raise ConfigError(path, where, f"not a field of the table: {missing}")
    return names


def _check_entry(name: str, spec, known: set[str], path: Path, where: str) -> None:
    """A table entry's name is a table name, and it is a mapping of known keys only."""
    if not _NAME.fullmatch(name):
        raise ConfigError(path, where, "not a valid table name")
    if not isinstance(spec, dict):
        raise ConfigError(path, where, "must be a mapping")
    unknown = set(spec) - known
    if unknown:
        raise ConfigError(path, where, f"unknown key(s) {sorted(unknown)}; known: {sorted(known)}")


def _table(name: str, spec, fields, path: Path) -> Table:
    where = f"tables.{name}"
    _check_entry(name, spec, _TABLE_KEYS, path, where)
    for required in ("description", "layer", "owner", "fields"):
        if not spec.get(required):
            raise ConfigError(path, f"{where}.{required}", "missing")
    if spec["layer"] not in LAYERS:
        raise ConfigError(path, f"{where}.layer", f"{spec['layer']!r} is not one of {sorted(LAYERS)}")
    if spec.get("made_in") not in (None, "duckdb"):
        raise ConfigError(path, f"{where}.made_in", "only 'duckdb' (made by SQL in the warehouse)")
    columns = _columns(spec["fields"], fields, path, f"{where}.fields")
    return Table(
        name=name,
        description=" ".join(str(spec["description"]).split()),
        layer=spec["layer"],
        owner=str(spec["owner"]),
        model=str(spec.get("model") or _camel(name)),
        columns=columns,
        key=_names(spec.get("key", []), columns, path, f"{where}.key"),
        unique_together=tuple(
            _names(group, columns, path, f"{where}.unique_together[{i}]")
            for i, group in enumerate(spec.get("unique_together", []))
        ),
        checks=tuple(spec.get("checks", [])),
        made_in=spec.get("made_in"),
        source=path,
    )


def _published(name: str, spec, fields, tables: Mapping[str, Table], path: Path) -> PublishedTable:
    where = f"published.{name}"
    _check_entry(name, spec, _PUBLISHED_KEYS, path, where)
    if not spec.get("comment"):
        raise ConfigError(path, f"{where}.comment", "missing")
    # A published table that is a warehouse table as it stands names it (`from`) and takes its
    # columns and their descriptions, so they are written once; one made by a query of its own
    # (a union, a selection) lists its fields.
    if bool(spec.get("from")) == bool(spec.get("fields")):
        raise ConfigError(path, where, "give either `from` (the warehouse table it is) or `fields`, not both")
    if spec.get("from"):
        if spec["from"] not in tables:
            raise ConfigError(path, f"{where}.from", f"{spec['from']!r} is not a registered table")
        columns = tables[spec["from"]].columns
    else:
        columns = _columns(spec["fields"], fields, path, f"{where}.fields")
    # The safety rule the registry holds for every published table: nothing that may identify a
    # person leaves the warehouse, whatever the query selects, unless the table says under which
    # consent it is released (the practice library: consent, a personal-data screen and a review).
    identifying = [c.name for c in columns if c.identifying]
    if identifying and not str(spec.get("released_with_consent") or "").strip():
        raise ConfigError(path, f"{where}.fields", f"may identify a person, so it is never published: {identifying}")
    return PublishedTable(
        name=name,
        comment=" ".join(str(spec["comment"]).split()),
        sql=str(spec.get("sql") or ""),
        order_by=tuple(spec.get("order_by", [])),
        columns=columns,
        source=spec.get("from"),
        formerly=spec.get("formerly"),
        released_with_consent=" ".join(str(spec.get("released_with_consent") or "").split()),
    )


def _fields(path: Path) -> dict[str, dict]:
    raw, _ = read_yaml_mapping(path, "field definitions")
    fields = raw.get("fields")
    if not isinstance(fields, dict) or not fields:
        raise ConfigError(path, "fields", "a mapping of field name to its definition")
    for name, spec in fields.items():
        if not isinstance(spec, dict):
            raise ConfigError(path, f"fields.{name}", "must be a mapping (type, description)")
        unknown = set(spec) - _FIELD_KEYS
        if unknown:
            raise ConfigError(path, f"fields.{name}", f"unknown key(s) {sorted(unknown)}; known: {sorted(_FIELD_KEYS)}")
        if spec.get("type") not in TYPES:
            raise ConfigError(path, f"fields.{name}.type", f"{spec.get('type')!r} is not one of {sorted(TYPES)}")
    return fields


def load_registry(root: Path = ROOT) -> Registry:
    """Read the registry files under `root`; a mistake is a ConfigError naming the file and key."""
    fields = _fields(root / "fields.yaml")
    tables: dict[str, Table] = {}
    for path in sorted((root / "tables").glob("*.yaml")):
        raw, _ = read_yaml_mapping(path, "table definitions")
        for name, spec in (raw.get("tables") or {}).items():
            if name in tables:
                raise ConfigError(path, f"tables.{name}", f"also defined in {tables[name].source.name}")
            tables[name] = _table(name, spec, fields, path)
    published_path = root / "published.yaml"
    raw, _ = read_yaml_mapping(published_path, "published tables")
    published = {
        name: _published(name, spec, fields, tables, published_path)
        for name, spec in (raw.get("published") or {}).items()
    }
    for name, table in published.items():
        if table.formerly and (table.formerly in published or not _NAME.fullmatch(table.formerly)):
            raise ConfigError(
                published_path, f"published.{name}.formerly", "must be a free table name (a view is made)"
            )
    return Registry(fields, tables, published)


@functools.cache
def _registry() -> Registry:
    return load_registry()


def tables() -> dict[str, Table]:
    """Every warehouse table, by name."""
    return dict(_registry().tables)


def table(name: str) -> Table:
    """One warehouse table (KeyError naming the registry when it is not registered)."""
    try:
        return _registry().tables[name]
    except KeyError:
        raise KeyError(f"{name!r} is not a registered table (tipipeline/registry/tables/*.yaml)") from None


def published_tables() -> dict[str, PublishedTable]:
    """Every published table, in the order the baseline is written."""
    return dict(_registry().published)


def published_table(name: str) -> PublishedTable:
    return _registry().published[name]
