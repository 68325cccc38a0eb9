"""The package's imports point only down its layers, and no module imports itself round a cycle.

Layers, lowest first: a module may import from its own package or from a lower layer, never from a
higher one, so that the readers, schemas and statistics can be used (and tested) without Dagster,
and a change to the Dagster layer cannot reach down into them. Every import counts, inside a
function too (a deferred import is still a dependency); only `if TYPE_CHECKING:` blocks are left out.
"""

from __future__ import annotations

import ast
from collections import defaultdict
from pathlib import Path

import pytest
from conftest import REPO

PACKAGE = REPO / "tipipeline"

# Lowest first. A name is a subpackage or a top-level module of tipipeline.
LAYERS = [
    ["errors", "settings", "files", "preview"],  # no project imports: paths, errors, file hashes, formatting
    ["registry"],  # the table registry (data): every table's fields, types and descriptions
    ["framework", "warehouse", "stats"],  # the measurement framework (data), DuckDB, statistics
    ["reference"],  # geography and organisations (data)
    ["ingest"],  # readers of every raw input
    ["consensus", "practice", "indicators"],  # building the London definition, practice library, indicators
    ["schemas"],  # pandera models of the tables those build
    ["outcomes"],  # outcome files to outcome indicators (validated by the schemas)
    ["inputs", "sample"],  # every input's content hash; the synthetic sample generator
    ["publish", "viz"],  # the published baseline; maps and charts
    ["report"],  # the HTML report and journey pages
    ["check"],  # `tipipeline check`
    ["resources", "partitions"],  # the Dagster layer from here up
    ["assets"],
    ["alerts", "automation"],
    ["definitions"],
    ["pipeline"],
    ["verify"],
    ["cli"],
    ["__init__"],  # the package's public API (open_baseline)
]
LEVEL = {name: level for level, names in enumerate(LAYERS) for name in names}


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(REPO).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _is_module(name: str) -> bool:
    path = REPO / Path(*name.split("."))
    return path.with_suffix(".py").is_file() or (path / "__init__.py").is_file()


def _type_checking_lines(tree: ast.AST) -> set[int]:
    lines = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            for child in node.body:
                lines.update(range(child.lineno, (child.end_lineno or child.lineno) + 1))
    return lines


def import_graph(package: Path = PACKAGE) -> dict[str, set[str]]:
    """Module -> the project modules it imports (from `a.b import c` counts a.b.c when c is a module)."""
    graph: dict[str, set[str]] = defaultdict(set)
    for path in sorted(package.rglob("*.py")):
        module = _module_name(path)
        tree = ast.parse(path.read_text(encoding="utf-8"))
        skipped = _type_checking_lines(tree)
        for node in ast.walk(tree):
            if getattr(node, "lineno", None) in skipped:
                continue
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                targets = [
                    f"{node.module}.{alias.name}" if _is_module(f"{node.module}.{alias.name}") else node.module
                    for alias in node.names
                ]
            else:
                continue
            graph[module] |= {t for t in targets if t.split(".")[0] == "tipipeline" and t != module}
        graph.setdefault(module, set())
    return graph


def layer_of(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "__init__"


def upward_imports(graph: dict[str, set[str]]) -> list[str]:
    found = []
    for module, targets in graph.items():
        for target in targets:
            here, there = layer_of(module), layer_of(target)
            if here != there and LEVEL[there] > LEVEL[here]:
                found.append(f"{module} -> {target} ({there} is above {here})")
    return sorted(found)


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan's algorithm)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in graph.get(node, ()):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return sorted(found)


GRAPH = import_graph()


def test_every_package_and_module_has_a_layer():
    assert {layer_of(m) for m in GRAPH} <= set(LEVEL), {layer_of(m) for m in GRAPH} - set(LEVEL)
    assert len(GRAPH) > 100  # the walk found the package


def test_imports_only_point_down():
    assert upward_imports(GRAPH) == []


def test_no_import_cycles():
    assert cycles(GRAPH) == []


def test_the_schemas_do_not_load_dagster_or_the_readers():
    """`schemas/` describes tables: importing it must not pull in Dagster or the 900-line survey
    reader (it once did, through metadata.py and schemas/ingest.py)."""
    reached, todo = set(), [m for m in GRAPH if m.startswith("tipipeline.schemas")]
    while todo:
        module = todo.pop()
        if module not in reached:
            reached.add(module)
            todo.extend(GRAPH.get(module, ()))
    assert not {m for m in reached if m.startswith("tipipeline.assets")}
    assert "tipipeline.ingest.surveys" not in reached


def test_nothing_below_the_dagster_layer_imports_dagster():
    """The readers, schemas, statistics, drawing and report run (and are tested) without Dagster."""
    below = {name for name, level in LEVEL.items() if level < LEVEL["resources"]}
    found = []
    for path in sorted(PACKAGE.rglob("*.py")):
        module = _module_name(path)
        if layer_of(module) not in below:
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else []
            if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names = [node.module]
            if any(n == "dagster" or n.startswith(("dagster.", "dagster_")) for n in names):
                found.append(f"{module}:{node.lineno}")
    assert found == []


@pytest.mark.parametrize(
    ("edges", "expected"),
    [
        ({"tipipeline.ingest.a": {"tipipeline.assets.b"}, "tipipeline.assets.b": set()}, "upward"),
        ({"tipipeline.ingest.a": {"tipipeline.ingest.b"}, "tipipeline.ingest.b": {"tipipeline.ingest.a"}}, "cycle"),
    ],
)
def test_a_constructed_upward_import_and_cycle_are_found(edges, expected):
    if expected == "upward":
        assert upward_imports(edges) == ["tipipeline.ingest.a -> tipipeline.assets.b (assets is above ingest)"]
    else:
        assert cycles(edges) == [["tipipeline.ingest.a", "tipipeline.ingest.b"]]
