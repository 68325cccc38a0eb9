"""The table registry is the one description of every table (issue 29).

Held here: the built warehouse and the published baseline have exactly the registered tables and
columns, in order, with compatible types (read from the files DuckDB wrote, not from the
registry); every published column comment is its registry description; a mistake in a registry
file is an error naming the file and key; a published column that may identify a person is
refused (constructed breach); no module holds a second copy of a registered table's column list
(constructed copy); README.md and DESIGN.md list the tables as the registry does.
"""

from __future__ import annotations

import ast
import re
import shutil
from pathlib import Path

import duckdb
import pytest
import yaml
from conftest import REPO

from tipipeline import registry
from tipipeline.errors import ConfigError
from tipipeline.registry import docs
from tipipeline.registry.load import ROOT, load_registry

# What each registry type may be stored as in DuckDB.
DUCKDB_TYPES = {
    "string": {"VARCHAR"},
    "integer": {"BIGINT", "INTEGER", "TINYINT", "SMALLINT", "HUGEINT"},
    "number": {"DOUBLE", "FLOAT"},
    "boolean": {"BOOLEAN"},
    "date": {"DATE"},
    "datetime": {"TIMESTAMP", "TIMESTAMP_NS", "TIMESTAMP WITH TIME ZONE"},
}


def _columns(path: Path) -> dict[str, list[tuple[str, str, str]]]:
    with duckdb.connect(str(path), read_only=True) as conn:
        rows = conn.execute(
            "SELECT table_name, column_name, data_type, coalesce(comment, '') FROM duckdb_columns() "
            "WHERE NOT internal AND schema_name = 'main' ORDER BY table_name, column_index"
        ).fetchall()
    found: dict[str, list[tuple[str, str, str]]] = {}
    for table, column, kind, comment in rows:
        found.setdefault(table, []).append((column, kind, comment))
    return found


def _matches(table: registry.Table, stored: list[str]) -> bool:
    """The stored columns are the registered ones in order; a run of patterns stands for one or more
    columns each matching one of them (stg_answers interleaves each item's v__ and m__ columns)."""
    pattern, run = "", []
    for column in [*table.columns, None]:
        if column is not None and column.pattern:
            run.append(column.name[1:-1])
            continue
        if run:
            pattern += f"(?:(?:{'|'.join(run)})\n)+"
            run = []
        if column is not None:
            pattern += re.escape(column.name) + "\n"
    return re.fullmatch(pattern, "".join(f"{c}\n" for c in stored)) is not None


def test_the_built_warehouse_has_exactly_the_registered_tables_and_columns(built_sample):
    stored = _columns(built_sample.warehouse_path)
    tables = registry.tables()
    assert sorted(stored) == sorted(tables)
    for name, table in tables.items():
        names = [c for c, _, _ in stored[name]]
        assert _matches(table, names), (name, names, table.names)
        kinds = {c: k for c, k, _ in stored[name]}
        for column in table.columns:
            if column.pattern or column.type == "any":
                continue
            # A column of only empty values from pandas is stored with DuckDB's NULL type.
            allowed = DUCKDB_TYPES[column.type] | ({'"NULL"'} if column.nullable else set())
            assert kinds[column.name].split("(")[0] in allowed, (name, column.name, kinds[column.name])


def test_the_published_baseline_is_the_registered_tables_with_their_comments(built_sample):
    from tipipeline.framework import load_framework

    threshold = str(load_framework().disclosure.min_cell_size)
    published = registry.published_tables()
    renamed = {t.formerly: name for name, t in published.items() if t.formerly}
    stored = {t: columns for t, columns in _columns(built_sample.baseline_path).items() if t not in renamed}
    assert list(sorted(stored)) == sorted(published)
    with duckdb.connect(str(built_sample.baseline_path), read_only=True) as conn:
        comments = dict(conn.execute("SELECT table_name, comment FROM duckdb_tables() WHERE NOT internal").fetchall())
    for name, table in published.items():
        assert [c for c, _, _ in stored[name]] == table.names, name
        assert [comment for _, _, comment in stored[name]] == [
            c.description.replace("{min_cell_size}", threshold) for c in table.columns
        ], name
        assert comments[name] == table.comment.replace("{min_cell_size}", threshold)
    # A renamed table's old name is a view of it for one release (issue 29).
    assert renamed == {
        "practice_outcomes": "partnership_outcomes",
        "practice_outcome_correlations": "partnership_outcome_correlations",
    }
    with duckdb.connect(str(built_sample.baseline_path), read_only=True) as conn:
        views = dict(conn.execute("SELECT view_name, comment FROM duckdb_views() WHERE NOT internal").fetchall())
        assert set(views) == set(renamed)
        for old, new in renamed.items():
            assert f"Renamed {new}" in views[old]
            assert conn.execute(f"SELECT * FROM {old}").df().equals(conn.execute(f"SELECT * FROM {new}").df())


def test_every_field_is_used_and_every_column_described():
    fields = yaml.safe_load((ROOT / "fields.yaml").read_text(encoding="utf-8"))["fields"]
    used = {c.name for t in registry.tables().values() for c in t.columns}
    used |= {c.name for t in registry.published_tables().values() for c in t.columns}
    assert sorted(set(fields) - used) == []
    for table in [*registry.tables().values(), *registry.published_tables().values()]:
        assert all(c.description for c in table.columns), table.name


def test_the_owner_of_each_table_is_the_asset_step_that_writes_it():
    from tipipeline.definitions import defs

    graph = defs.resolve_asset_graph()
    owners = {
        key.to_user_string(): graph.assets_def_for_key(key).node_def.name
        for key in graph.get_all_asset_keys()
        if graph.assets_def_for_key(key).is_executable
    }
    # The tables that are not assets themselves are written by the step that writes their neighbours.
    for name, table in registry.tables().items():
        asset = {"codebook_items": "survey_codebook", "stg_answers": "stg_responses"}.get(name, name)
        if asset in owners:
            assert table.owner == owners[asset], name
        else:
            assert table.owner in set(owners.values()), name


# --- mistakes in the registry files: each a ConfigError naming file and key (constructed) ---


@pytest.fixture()
def registry_copy(tmp_path) -> Path:
    root = tmp_path / "registry"
    shutil.copytree(ROOT, root, ignore=shutil.ignore_patterns("*.py", "__pycache__"))
    return root


def _edit(path: Path, change) -> None:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    change(data)
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")


def test_the_copy_loads_as_the_registry_does(registry_copy):
    loaded = load_registry(registry_copy)
    assert set(loaded.tables) == set(registry.tables()) and set(loaded.published) == set(registry.published_tables())


def test_a_published_identifying_column_is_refused(registry_copy):
    """Constructed breach: the respondent's pseudonym added to a published table's own fields."""
    _edit(registry_copy / "published.yaml", lambda d: d["published"]["indicators"]["fields"].append("respondent_id"))
    with pytest.raises(ConfigError, match=r"published.indicators.fields: may identify a person.*respondent_id"):
        load_registry(registry_copy)


def test_an_identifying_column_of_a_table_published_as_it_stands_is_refused(registry_copy):
    """Constructed breach: the pseudonym added to the warehouse `journey`, which is published as it stands."""
    _edit(
        registry_copy / "tables" / "indicators.yaml", lambda d: d["tables"]["journey"]["fields"].append("respondent_id")
    )
    with pytest.raises(ConfigError, match=r"published.journey.fields: may identify a person.*respondent_id"):
        load_registry(registry_copy)


def test_a_column_marked_identifying_in_its_table_is_refused_when_published(registry_copy):
    """Constructed breach: a published table's column marked, in its warehouse table, as identifying."""

    def mark(data):
        fields = data["tables"]["boroughs"]["fields"]
        name = fields[1] if isinstance(fields[1], str) else next(iter(fields[1]))
        fields[1] = {name: {**({} if isinstance(fields[1], str) else fields[1][name]), "identifying": True}}

    _edit(registry_copy / "tables" / "reference.yaml", mark)
    with pytest.raises(
        ConfigError, match=r"published.boroughs.fields: may identify a person, so it is never published: \['name'\]"
    ):
        load_registry(registry_copy)


@pytest.mark.parametrize(
    "change, message",
    [
        (
            lambda d: d["tables"]["journey"]["fields"].append("no_such_field"),
            r"tables.journey.fields\[15\].no_such_field: not defined",
        ),
        (lambda d: d["tables"]["journey"].update(layer="gold"), r"tables.journey.layer: 'gold' is not one of"),
        (lambda d: d["tables"]["journey"].update(colour="blue"), r"tables.journey: unknown key\(s\) \['colour'\]"),
        (lambda d: d["tables"]["journey"].update(key=["org_id", "nope"]), r"tables.journey.key: not a field"),
        (
            lambda d: d["tables"]["journey"]["fields"].append("org_id"),
            r"tables.journey.fields: field\(s\) listed twice: \['org_id'\]",
        ),
        (lambda d: d["tables"]["journey"].pop("description"), r"tables.journey.description: missing"),
    ],
)
def test_a_mistake_in_a_table_names_file_and_key(registry_copy, change, message):
    _edit(registry_copy / "tables" / "indicators.yaml", change)
    with pytest.raises(ConfigError, match=r"indicators.yaml: " + message):
        load_registry(registry_copy)


def test_an_undescribed_field_is_refused(registry_copy):
    _edit(registry_copy / "fields.yaml", lambda d: d["fields"]["stage"].pop("description"))
    with pytest.raises(ConfigError, match=r"tables.journey.fields\[7\].stage: no description"):
        load_registry(registry_copy)


def test_a_table_defined_twice_is_refused(registry_copy):
    (registry_copy / "tables" / "again.yaml").write_text(
        (registry_copy / "tables" / "indicators.yaml").read_text(encoding="utf-8"), encoding="utf-8"
    )
    with pytest.raises(ConfigError, match="also defined in"):
        load_registry(registry_copy)


# --- no second copy of a table's columns ---


def column_list_copies(source: str, tables: dict[str, list[str]]) -> list[tuple[int, str]]:
    """(line, table) for each list, tuple or set literal of 4 or more strings that names exactly a
    registered table's columns, in any order: a hand-written copy of the registry. A subset (a key,
    the columns a group-by keeps) is a different list, not a copy."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, (ast.List, ast.Tuple, ast.Set)) and len(node.elts) >= 4:
            if all(isinstance(e, ast.Constant) and isinstance(e.value, str) for e in node.elts):
                names = {e.value for e in node.elts}
                found += [(node.lineno, t) for t, columns in tables.items() if names == set(columns)]
    return found


def _registered_column_lists() -> dict[str, list[str]]:
    lists = {t: table.names for t, table in registry.tables().items()}
    return lists | {f"published {t}": table.names for t, table in registry.published_tables().items()}


def test_no_module_holds_a_copy_of_a_registered_tables_columns():
    lists = _registered_column_lists()
    copies = [
        f"{path.relative_to(REPO)}:{line} copies {table}"
        for path in sorted((REPO / "tipipeline").rglob("*.py"))
        for line, table in column_list_copies(path.read_text(encoding="utf-8"), lists)
    ]
    assert copies == []


def test_a_copy_of_a_tables_columns_is_found():
    """Constructed case: the journey's columns written out again, in another order."""
    columns = list(reversed(registry.table("journey").names))
    source = f"JOURNEY_COLUMNS = {columns!r}\nKEY = ['org_id', 'domain', 'wave', 'stage']\n"
    assert column_list_copies(source, _registered_column_lists()) == [(1, "journey"), (1, "published journey")]


def test_the_documents_list_the_tables_as_the_registry_does():
    assert docs.stale(REPO) == []
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    assert all(f"| `{name}` |" in readme for name in registry.tables())


def test_a_stale_document_is_found(tmp_path):
    """Constructed case: a table's description edited by hand in the README's generated list."""
    (tmp_path / "docs").mkdir()
    shutil.copy(REPO / "docs" / "DESIGN.md", tmp_path / "docs" / "DESIGN.md")
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    description = registry.table("journey").description
    (tmp_path / "README.md").write_text(readme.replace(description, description + " Edited."), encoding="utf-8")
    assert docs.stale(tmp_path) == ["README.md"]
    assert docs.main(["--root", str(tmp_path), "--check"]) == 1
    assert docs.main(["--root", str(tmp_path)]) == 0 and docs.stale(tmp_path) == []
