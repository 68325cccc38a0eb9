"""The table lists of README.md and docs/DESIGN.md, written from the registry.

Each list sits between `<!-- registry:NAME -->` and `<!-- /registry:NAME -->` in its file; the
text between is this module's output and nothing else, so the documents cannot drift from the
tables. `python -m tipipeline.registry.docs` rewrites them (`make docs`); `--check` exits 1 naming
the stale block (the test suite runs it)."""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

from tipipeline.registry.load import LAYERS, published_tables, tables


def _cell(text: str) -> str:
    return _threshold(text).replace("|", "\\|").replace("\n", " ")


def _threshold(text: str) -> str:
    # The disclosure threshold is the framework's setting; the documents name it, not its value.
    return text.replace("{min_cell_size}", "min_cell_size (framework.yaml)")


def warehouse_tables_markdown() -> str:
    """Every warehouse table by layer: name, the asset that writes it, its key and description."""
    lines = []
    registered = tables()
    for layer, meaning in LAYERS.items():
        rows = sorted((t for t in registered.values() if t.layer == layer), key=lambda t: t.name)
        if not rows:
            continue
        lines += [f"**{layer}**: {meaning}", "", "| table | written by | key | one row, and what it is for |"]
        lines.append("|---|---|---|---|")
        for t in rows:
            key = ", ".join(t.key) or "none"
            lines.append(f"| `{t.name}` | `{t.owner}` | {_cell(key)} | {_cell(t.description)} |")
        lines.append("")
    return "\n".join(lines).rstrip() + "\n"


def published_tables_markdown() -> str:
    """Every published table with its comment and its columns."""
    lines = []
    for t in published_tables().values():
        source = f"the warehouse table `{t.source}`; " if t.source and t.source != t.name else ""
        columns = ", ".join(f"`{c}`" for c in t.names)
        formerly = f" Formerly `{t.formerly}`: a view of that name is kept for this release." if t.formerly else ""
        lines += [f"- **`{t.name}`** ({source}{len(t.columns)} columns: {columns}): {_threshold(t.comment)}{formerly}"]
    return "\n".join(lines) + "\n"


BLOCKS = {"warehouse-tables": warehouse_tables_markdown, "published-tables": published_tables_markdown}
DOCUMENTS = {"README.md": ["warehouse-tables"], "docs/DESIGN.md": ["published-tables"]}


def _pattern(name: str) -> re.Pattern:
    return re.compile(rf"(<!-- registry:{name} -->\n)(.*?)(<!-- /registry:{name} -->)", re.DOTALL)


def render(text: str, blocks: list[str], path: str = "") -> str:
    """`text` with each named block replaced by its generated content (a missing block is an error)."""
    for name in blocks:
        pattern = _pattern(name)
        if not pattern.search(text):
            raise ValueError(f"{path}: no <!-- registry:{name} --> ... <!-- /registry:{name} --> block")
        content = BLOCKS[name]()
        text = pattern.sub(lambda m, c=content: m.group(1) + "\n" + c + "\n" + m.group(3), text)
    return text


def stale(root: Path) -> list[str]:
    """The documents under `root` whose generated blocks differ from the registry."""
    return [
        document
        for document, blocks in DOCUMENTS.items()
        if (root / document).read_text(encoding="utf-8")
        != render((root / document).read_text(encoding="utf-8"), blocks, document)
    ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", type=Path, default=Path.cwd(), help="the project folder (default: here)")
    parser.add_argument("--check", action="store_true", help="exit 1 when a document is stale; write nothing")
    args = parser.parse_args(argv)
    if args.check:
        out_of_date = stale(args.root)
        for document in out_of_date:
            print(f"{document}: its table list is not the registry's; run `make docs`", file=sys.stderr)
        return 1 if out_of_date else 0
    for document, blocks in DOCUMENTS.items():
        path = args.root / document
        path.write_text(render(path.read_text(encoding="utf-8"), blocks, document), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
