"""`tipipeline check` for the definition panel's files: the panel file, or one round's export.

A file is the definition panel's when it sits in a `definition` folder (the panel file) or in a
`round-N` folder inside one. The whole folder is read (a round's invitations depend on the round
before), nothing is written, and the report is that file's: rows read = accepted + quarantined +
excluded, and for a round, the panellists, the statements rated and the ratings missing.
"""

from __future__ import annotations

from pathlib import Path

from tipipeline.consensus.rounds import ROUND_FOLDER, ingest_panel
from tipipeline.errors import TipipelineError

MAX_PROBLEMS = 200


def definition_root(path: Path) -> Path | None:
    """The definition folder a file belongs to, or None when it is not a definition panel file."""
    parent = path.resolve().parent
    if ROUND_FOLDER.match(parent.name) and (parent.parent / "definition.yaml").is_file():
        return parent.parent
    if path.stem.casefold() == "panel" and (parent / "definition.yaml").is_file():
        return parent
    if path.name in ("definition.yaml", "statements.yaml") and (parent / "definition.yaml").is_file():
        return parent
    return None


def check_definition_file(path: str | Path, root: Path) -> dict:
    """Check one definition panel file in the context of its whole folder."""
    import secrets

    from tipipeline.consensus.build import load_definition_config
    from tipipeline.ingest.identifiers import DEVELOPMENT_KEY

    path = Path(path)
    report = {"file": str(path), "kind": "definition_panel", "usable": False, "reason": None, "problems": []}
    try:
        protocol, statements = load_definition_config(root)
        # Nothing is stored, so a throwaway key serves for real data; pseudonyms are not shown.
        key = DEVELOPMENT_KEY if protocol.synthetic else secrets.token_bytes(32)
        ingest = ingest_panel(root, protocol, statements, key)
    except TipipelineError as exc:
        report["reason"] = str(exc)
        return report
    resolved = path.resolve()
    if path.suffix == ".yaml":
        return _framework_report(report, ingest, protocol, statements)
    if resolved.parent == root.resolve():
        panel = ingest.panel
        accounting = panel.accounting
        quarantine = panel.quarantine
        groups = panel.panellists["stakeholder_group"].value_counts().sort_index()
        report.update(
            kind="definition_panel_list",
            panellists=len(panel.panellists),
            groups={k: int(v) for k, v in groups.items()},
        )
    else:
        found = next((f for f in ingest.files if f.path.resolve() == resolved), None)
        if found is None:
            report["reason"] = f"{path.name} is not one of the round's exports"
            return report
        accounting = found.accounting
        quarantine = found.quarantine
        ratings = found.ratings
        missing = ratings[ratings["rating"].isna()].groupby("statement_id")["missing_reason"].value_counts()
        report.update(
            kind="definition_round",
            round=found.round,
            panellists=len(found.responses),
            statements_rated=sorted(ratings["statement_id"].unique().tolist()),
            missing_ratings={f"{sid}: {reason}": int(n) for (sid, reason), n in missing.items()},
        )
    report.update(
        rows_read=accounting["rows_read"],
        rows_accepted=accounting["rows_accepted"],
        rows_quarantined=accounting["rows_quarantined"],
        rows_excluded=accounting["rows_excluded"],
        excluded_by_rule=accounting["excluded_by_rule"],
        problems=[{"row": int(r.source_row), "column": r.column, "message": r.reason} for r in quarantine.itertuples()][
            :MAX_PROBLEMS
        ],
    )
    if report["rows_accepted"] == 0:
        report["reason"] = f"{path.name}: no row would be accepted"
    else:
        report["usable"] = True
    return report


def _framework_report(report: dict, ingest, protocol, statements) -> dict:
    """The protocol or statements file: the rounds judged, what was agreed, and how the agreed
    definition meets the framework (items with no agreed statement, statements outside it)."""
    from tipipeline.consensus import tables
    from tipipeline.framework import load_framework

    framework = load_framework()
    ratings = ingest.table("ratings")
    results = tables.statement_results(ratings, ingest.panel.panellists, protocol, statements)
    agreed = tables.london_definition(results, statements, framework)
    links = tables.framework_links(agreed, framework)
    report.update(
        kind="definition_protocol",
        rounds=ingest.rounds,
        panellists=len(ingest.panel.panellists),
        agreed_statements=agreed["statement_id"].tolist(),
        framework_items_without_agreed_statement=links.loc[
            links["finding"] == "no agreed statement", "item_id"
        ].tolist(),
        agreed_statements_outside_framework=links.loc[links["item_type"] == "statement", "item_id"].tolist(),
        usable=True,
    )
    return report


def format_definition_report(report: dict) -> list[str]:
    """The lines `tipipeline check` prints for a definition panel file (after the file name)."""
    if report["kind"] == "definition_protocol":
        return [
            f"  kind: definition protocol; rounds {', '.join(map(str, report['rounds'])) or 'none'}; "
            f"panellists {report['panellists']}",
            f"  agreed in the final round: {', '.join(report['agreed_statements']) or 'none'}",
            "  framework items with no agreed statement: "
            + (", ".join(report["framework_items_without_agreed_statement"]) or "none"),
            "  agreed statements with no place in the framework: "
            + (", ".join(report["agreed_statements_outside_framework"]) or "none"),
        ]
    if report.get("rows_read") is None:
        return []
    lines = [
        f"  kind: {report['kind']}; rows read {report['rows_read']} = accepted {report['rows_accepted']} + "
        f"quarantined {report['rows_quarantined']} + excluded {report['rows_excluded']} {report['excluded_by_rule']}"
    ]
    if report["kind"] == "definition_round":
        lines.append(
            f"  round {report['round']}: {report['panellists']} panellists; statements rated: {', '.join(report['statements_rated'])}"
        )
        missing = report["missing_ratings"]
        lines.append("  missing ratings: " + (", ".join(f"{k} x{v}" for k, v in missing.items()) or "none"))
    else:
        lines.append(
            f"  panellists: {report['panellists']} ({', '.join(f'{g} {n}' for g, n in report['groups'].items())})"
        )
    for problem in report["problems"][:20]:
        column = f", column {problem['column']!r}" if problem["column"] else ""
        lines.append(f"  row {problem['row']}{column}: {problem['message']}")
    return lines
