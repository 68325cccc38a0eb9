"""The synthetic definition panel (issue 15): 60 panellists, three rounds, each round in another
export format, with the attrition, movement and dirty rows a real Delphi has.

What it is built to show (the manifest's `definition` entry lists it, so tests can hold the
pipeline to it): statements that reach consensus in round 1 and stay; one that moves in (S06); one
that falls out again (S10); one the panel rejects (S12); one that splits the groups (S14: the
police rate it low, councils high); one reworded (S09 -> S15 from round 2); one introduced in
round 2 (S16); an agreed boundary with no place in the framework (S17); a group that shrinks below
the disclosure threshold by round 3 (research).
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

import numpy as np
import pandas as pd

from tipipeline.consensus.config import load_protocol, load_statements
from tipipeline.consensus.rounds import statements_in_round
from tipipeline.framework import load_framework

TEMPLATES = Path(__file__).with_name("definition")
DEFINITION_STREAM = 15  # its own random stream: the other sample files do not depend on it
# Panellists per group, then responders in rounds 1, 2 and 3 (each round's responders are among
# the round before's: the panel invites previous responders).
GROUP_FLOW = {
    "council": (16, 15, 13, 12),
    "police": (10, 9, 8, 7),
    "health": (10, 9, 8, 7),
    "voluntary_sector": (9, 8, 7, 6),
    "lived_experience": (8, 7, 6, 5),
    "research": (7, 6, 5, 4),
}
# Mean rating per statement and round (1-9), before group effects and noise.
MEANS = {
    "S01": (7.9, 8.1, 8.2),
    "S02": (7.6, 7.9, 8.0),
    "S03": (7.4, 7.8, 8.0),
    "S04": (7.7, 8.0, 8.1),
    "S05": (7.5, 7.8, 7.9),
    "S06": (6.3, 7.0, 7.7),  # moves into consensus
    "S07": (7.8, 8.0, 8.2),
    "S08": (7.6, 7.9, 8.0),
    "S09": (5.0, None, None),  # contested, then reworded as S15
    "S10": (7.6, 7.5, 6.3),  # falls out of consensus in round 3
    "S11": (7.5, 7.8, 8.0),
    "S12": (2.4, 2.0, 1.8),  # consensus out
    "S13": (7.4, 7.7, 7.9),
    "S14": (5.5, 5.5, 5.5),  # the groups split (GROUP_SHIFT)
    "S15": (None, 7.0, 7.7),
    "S16": (None, 7.6, 7.9),
    "S17": (7.7, 7.9, 8.1),  # an agreed boundary of the definition, outside the framework
}
GROUP_SHIFT = {("S14", "police"): -3.2, ("S14", "council"): 2.6, ("S14", "health"): 1.0}
BOROUGHS = ["Camden", "Hackney", "Lambeth", "Newham", "Croydon", "Barnet", "Ealing", "Southwark", "Brent", "Enfield"]
FIRST = [
    "Amara",
    "Ben",
    "Chloe",
    "Dev",
    "Ella",
    "Femi",
    "Grace",
    "Hari",
    "Isla",
    "Jon",
    "Kemi",
    "Leo",
    "Maya",
    "Nia",
    "Omar",
]
LAST = ["Adams", "Begum", "Clarke", "Diallo", "Evans", "Fraser", "Gill", "Hughes", "Iqbal", "Jones", "Khan", "Lewis"]


def _panel(rng: np.random.Generator) -> pd.DataFrame:
    rows = []
    for group, (size, *_rounds) in GROUP_FLOW.items():
        for i in range(size):
            first, last = FIRST[len(rows) % len(FIRST)], LAST[(len(rows) * 7) % len(LAST)]
            borough = "" if group in ("research", "police") else BOROUGHS[int(rng.integers(len(BOROUGHS)))]
            rows.append(
                {
                    "Name": f"{first} {last}",
                    "Email": f"{first.lower()}.{last.lower()}{len(rows) + 1}@panel.example.org",
                    "Group": group.replace("_", " ").title() if i % 3 == 0 else group,
                    "Borough": borough,
                }
            )
    panel = pd.DataFrame(rows)
    # A dirty row: a group the protocol does not know (quarantined; not a panellist).
    extra = {"Name": "Pat Quinn", "Email": "pat.quinn@panel.example.org", "Group": "Academic", "Borough": ""}
    return pd.concat([panel, pd.DataFrame([extra])], ignore_index=True)


def _responders(rng, panel: pd.DataFrame) -> list[set[str]]:
    """The e-mails responding in each round: a shrinking, nested set per group."""
    by_round: list[set[str]] = [set(), set(), set()]
    for group, (_size, *counts) in GROUP_FLOW.items():
        members = panel.loc[panel["Group"].str.casefold().str.replace(" ", "_") == group, "Email"].tolist()
        current = members
        for r, count in enumerate(counts):
            current = sorted(rng.choice(current, size=count, replace=False).tolist())
            by_round[r] |= set(current)
    return by_round


def _rating(rng, mean: float) -> int:
    return int(np.clip(np.rint(rng.normal(mean, 1.1)), 1, 9))


def _answers(rng, statement_ids, round_index: int, group: str, unable: bool = True) -> dict[str, str]:
    out = {}
    for sid in statement_ids:
        if unable and rng.random() < 0.03:
            out[sid] = "Unable to rate"
            continue
        mean = MEANS[sid][round_index] + GROUP_SHIFT.get((sid, group), 0.0)
        value = _rating(rng, mean)
        # Forms and Qualtrics choice text give the scale's anchors as words.
        out[sid] = {1: "1 - Strongly disagree", 9: "9 - Strongly agree"}.get(value, str(value))
    return out


def write_definition_sample(out: Path, seed: int) -> dict:
    """Write `out/definition/` (protocol, statements, panel, three rounds); return the manifest entry."""
    rng = np.random.default_rng([seed, DEFINITION_STREAM])
    folder = out / "definition"
    folder.mkdir(parents=True, exist_ok=True)
    for name in ("definition.yaml", "statements.yaml"):
        (folder / name).write_bytes((TEMPLATES / name).read_bytes())
    protocol = load_protocol(folder / "definition.yaml")
    statements = load_statements(folder / "statements.yaml", load_framework())
    panel = _panel(rng)
    _write_csv(panel, folder / "panel.csv")
    group_of = dict(zip(panel["Email"], panel["Group"].str.casefold().str.replace(" ", "_"), strict=True))
    responders = _responders(rng, panel.iloc[:-1])
    everyone = panel["Email"].iloc[:-1].tolist()
    # The panel file's last row (after the header) has the unknown group.
    dirty: list[dict] = [
        {"file": "definition/panel.csv", "row": len(panel) + 1, "expected": "quarantine: unknown stakeholder group"}
    ]
    files = []
    for r in range(3):
        number = r + 1
        ids = [s.id for s in statements_in_round(statements, number)]
        texts = {s.id: s.text for s in statements.statements}
        rows = []
        for i, email in enumerate(sorted(responders[r])):
            rows.append(
                {
                    "email": email,
                    "status": "0",
                    "finished": True,
                    "answers": _answers(rng, ids, r, group_of[email]),
                    "order": i,
                }
            )
        previous = responders[r - 1] if r else set(everyone)
        lapsed = sorted(previous - responders[r])
        outsiders = sorted(set(everyone) - previous)
        # Dirty rows, each with the rule the pipeline must apply.
        if number == 1:
            rows.append(
                {
                    "email": lapsed[0],
                    "status": "1",
                    "finished": True,
                    "answers": _answers(rng, ids, r, "council"),
                    "kind": "non_genuine_status",
                }
            )
            rows.append(
                {
                    "email": lapsed[1],
                    "status": "0",
                    "finished": False,
                    "answers": {ids[0]: "8"},
                    "kind": "partial_response",
                }
            )
            rows.append(
                {
                    "email": "visitor@elsewhere.example.org",
                    "status": "0",
                    "finished": True,
                    "answers": _answers(rng, ids, r, "council"),
                    "kind": "quarantine: not on the panel",
                }
            )
            bad = _answers(rng, ids, r, "health", unable=False)
            bad[ids[2]] = "10"
            rows.append(
                {
                    "email": lapsed[2],
                    "status": "0",
                    "finished": True,
                    "answers": bad,
                    "kind": "quarantine: rating off the scale",
                }
            )
            repeat = sorted(responders[r])[3]
            rows.append(
                {
                    "email": repeat,
                    "status": "0",
                    "finished": True,
                    "answers": _answers(rng, ids, r, group_of[repeat]),
                    "kind": "duplicate_submission",
                    "earlier": True,
                }
            )
        if number == 2:
            rows.append(
                {
                    "email": outsiders[0],
                    "status": "0",
                    "finished": True,
                    "answers": _answers(rng, ids, r, group_of[outsiders[0]]),
                    "kind": "not_invited",
                }
            )
        if number == 3:
            rows.append({"email": lapsed[0], "status": "0", "finished": True, "answers": {}, "kind": "no_ratings"})
            # An e-mail address pasted into a rating: quarantined, and the value never stored.
            typed = _answers(rng, ids, r, group_of[lapsed[1]], unable=False) | {ids[0]: lapsed[1]}
            rows.append(
                {
                    "email": lapsed[1],
                    "status": "0",
                    "finished": True,
                    "answers": typed,
                    "kind": "quarantine: e-mail in a rating",
                }
            )
        path = _write_round(rows, number, ids, texts, folder)
        files.append(str(path.relative_to(out)))
        first_row = 4 if number == 1 else 2
        for position, row in enumerate(_ordered(rows)):
            if row.get("kind"):
                dirty.append({"file": str(path.relative_to(out)), "row": position + first_row, "expected": row["kind"]})
    return {
        "panellists": len(everyone),
        "panel_rows": len(panel),
        "responders": [len(s) for s in responders],
        "files": files,
        "dirty_rows": dirty,
        "protocol": protocol.title,
    }


def _ordered(rows: list[dict]) -> list[dict]:
    """Submission order: an earlier duplicate first, then responders, then the other dirty rows."""
    return sorted(rows, key=lambda row: (0 if row.get("earlier") else 1, row.get("order", 10_000), row["email"]))


def _timestamp(number: int, position: int) -> str:
    base = pd.Timestamp(f"2025-0{2 * number}-03 09:00:00") + pd.Timedelta(minutes=37 * position)
    return base.strftime("%Y-%m-%d %H:%M:%S")


def _write_round(rows, number: int, ids: list[str], texts: dict[str, str], folder: Path) -> Path:
    round_folder = folder / f"round-{number}"
    round_folder.mkdir(parents=True, exist_ok=True)
    ordered = _ordered(rows)
    if number == 1:  # Qualtrics "modern" CSV, choice text
        path = round_folder / "definition_round_1_qualtrics.csv"
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\r\n")
        meta = [
            ("EndDate", "End Date", '{"ImportId":"endDate","timeZone":"Europe/London"}'),
            ("Status", "Response Type", '{"ImportId":"status"}'),
            ("Progress", "Progress", '{"ImportId":"progress"}'),
            ("Finished", "Finished", '{"ImportId":"finished"}'),
            ("ResponseId", "Response ID", '{"ImportId":"_recordId"}'),
            ("RecipientEmail", "Recipient Email", '{"ImportId":"recipientEmail"}'),
        ]
        writer.writerow([m[0] for m in meta] + ids)
        writer.writerow([m[1] for m in meta] + [f"How far do you agree? - {texts[i]}" for i in ids])
        writer.writerow([m[2] for m in meta] + [f'{{"ImportId":"QID{k + 1}"}}' for k in range(len(ids))])
        for position, row in enumerate(ordered):
            writer.writerow(
                [
                    _timestamp(number, position),
                    row["status"],
                    "100" if row["finished"] else "40",
                    "True" if row["finished"] else "False",
                    f"R_def{number}{position:04d}",
                    row["email"],
                ]
                + [row["answers"].get(i, "") for i in ids]
            )
        path.write_bytes(b"\xef\xbb\xbf" + buffer.getvalue().encode("utf-8"))
        return path
    table = pd.DataFrame(
        [
            {
                "ID": position + 1,
                "Completion time": _timestamp(number, position),
                "Email": row["email"],
                **{(texts[i] if number == 2 else i): row["answers"].get(i) for i in ids},
            }
            for position, row in enumerate(ordered)
        ]
    )
    if number == 2:  # Microsoft Forms XLSX: question wording as headers
        from tipipeline.sample.workbooks import write_xlsx

        path = round_folder / "definition_round_2_forms.xlsx"
        write_xlsx({"Sheet1": table}, path)
        return path
    path = round_folder / "definition_round_3.csv"  # one header row, statement ids
    _write_csv(table, path)
    return path


def _write_csv(frame: pd.DataFrame, path: Path) -> None:
    path.write_bytes(frame.to_csv(index=False, lineterminator="\n").encode("utf-8"))


def readme_lines(entry: dict) -> list[str]:
    """The sample README's rows for the definition panel's files."""
    formats = {
        1: "Qualtrics modern CSV, choice text (statement ids as export tags)",
        2: "Microsoft Forms-style XLSX (the statements' wording as headers)",
        3: "one-header CSV (statement ids)",
    }
    lines = [
        "| `definition/definition.yaml` | the consensus protocol: scale, rule, stability, groups | |",
        "| `definition/statements.yaml` | the candidate statements, their framework link and rewordings | |",
        f"| `definition/panel.csv` | the panel: {entry['panellists']} panellists (e-mail, name, group, borough) "
        f"and one row with an unknown group | {entry['panel_rows']} |",
    ]
    for number, (file, responders) in enumerate(zip(entry["files"], entry["responders"], strict=True), start=1):
        lines.append(f"| `{file}` | definition round {number}: {formats[number]}; {responders} panellists respond | |")
    return lines


def readme_dirty_rows(entry: dict) -> list[str]:
    """The sample README's list of the definition panel's deliberately dirty rows."""
    lines = [
        "",
        "Deliberately dirty rows in the definition panel's rounds:",
        "",
        "| file | row | expected fate |",
        "|---|---|---|",
    ]
    lines += [f"| `{d['file']}` | {d['row']} | {d['expected']} |" for d in entry["dirty_rows"]]
    return lines
