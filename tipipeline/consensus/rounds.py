"""The definition panel's files -> pseudonymised panellists and ratings. Every raw row is accounted for.

Inputs (`data/raw/definition/`): `panel.csv` or `panel.xlsx` (one row per panellist: e-mail,
stakeholder group, borough where relevant; a name column may be there and is dropped), and one
folder per round, `round-1`, `round-2`, ..., holding the panel's exports in any format the survey
readers take (Qualtrics CSV in every layout, Microsoft Forms XLSX, one-header CSV).

A panellist is known by their e-mail address, case and spaces ignored; it becomes an HMAC pseudonym
(namespace `panellist:`), the same in every round, and neither the address nor a name reaches the
warehouse. A round file's statement columns are matched by the statement's id (an export tag) or
its text (Forms exports the question's wording). A quarantined cell that holds an e-mail address,
or a panellist's e-mail or name, is not stored.

Panel rows: a missing or repeated e-mail, an unknown group or a borough that does not resolve is
quarantined. Round rows, in order: `blank_row`, `non_genuine_status` and `partial_response`
(Qualtrics' own columns, as for the staff survey), then quarantined when the e-mail is missing or
not on the panel or a rating is not on the scale, then excluded as `not_invited` (under
`invite: previous_responders`, a panellist who took no part in the round before: a response
accepted or quarantined counts as taking part, so a mistyped rating does not cost the panellist
the next round), `no_ratings`
(nothing rated) and `duplicate_submission` (the same panellist twice in a round: the last
submission, by its end time, else its row, is kept).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from tipipeline import registry
from tipipeline.consensus.config import DefinitionProtocol, Statements
from tipipeline.errors import InputError
from tipipeline.files import EXPORT_SUFFIXES
from tipipeline.ingest.exports import read_export
from tipipeline.ingest.identifiers import pseudonymise
from tipipeline.ingest.ledger import EXCLUSION_COLUMNS, QUARANTINE_COLUMNS, RowLedger
from tipipeline.ingest.raw_export import RawExport
from tipipeline.ingest.surveys import apply_format_rules, local_times, normalise_label, reader_findings
from tipipeline.reference import AliasResolver

ROUND_FOLDER = re.compile(r"^round-(\d+)$")
PANEL_STEMS = ("panel",)
EMAIL_COLUMNS = {"email", "e-mail", "email address", "e-mail address", "recipientemail", "recipient email"}
NAME_COLUMNS = {"name", "full name", "first name", "last name", "surname", "forename"}
END_TIME_COLUMNS = {"enddate", "end date", "completion time", "completed", "submitted", "submission time"}
PANELLIST_COLUMNS = registry.table("stg_panellists").names
RATING_COLUMNS = registry.table("stg_panel_ratings").names
RESPONSE_COLUMNS = registry.table("stg_panel_responses").names
QUALITY_COLUMNS = registry.table("definition_data_quality").names
NOT_RATED, UNABLE = "not_answered", "unable_to_rate"


@dataclass
class Panel:
    """The panel: pseudonymised panellists with their group and borough, and the accounting of
    the panel file. `by_email` (normalised e-mail -> pseudonym) lives only in memory."""

    panellists: pd.DataFrame
    quarantine: pd.DataFrame
    exclusions: pd.DataFrame
    by_email: dict[str, str]
    source_file: str
    sha256: str
    rows_read: int
    # Every e-mail and name on the panel file, normalised, in memory only: what quarantine must not store.
    personal: set[str] = field(default_factory=set)

    @property
    def accounting(self) -> dict:
        return _accounting("panel", self.source_file, self.sha256, self.rows_read, len(self.panellists), self)


@dataclass
class RoundFile:
    """One round file's outcome: accepted responses and ratings, quarantine, exclusions."""

    round: int
    path: Path
    sha256: str
    rows_read: int
    responses: pd.DataFrame
    ratings: pd.DataFrame
    quarantine: pd.DataFrame
    exclusions: pd.DataFrame
    # Panellists who took part, accepted or quarantined (a mistyped rating is still a response):
    # those invited to the next round under `invite: previous_responders`.
    engaged: set[str] = field(default_factory=set)

    @property
    def accounting(self) -> dict:
        return _accounting(
            f"round-{self.round}", self.path.name, self.sha256, self.rows_read, len(self.responses), self
        )


def _accounting(period: str, source_file: str, sha256: str, rows_read: int, accepted: int, outcome) -> dict:
    """One file's row of `definition_data_quality`: rows read = accepted + quarantined + excluded."""
    quarantine, exclusions = outcome.quarantine, outcome.exclusions
    by_rule = exclusions["rule"].value_counts().sort_index()
    return {
        "round": period,
        "source_file": source_file,
        "sha256": sha256,
        "rows_read": rows_read,
        "rows_accepted": accepted,
        "rows_quarantined": int(quarantine["source_row"].nunique()) if len(quarantine) else 0,
        "rows_excluded": len(exclusions),
        "excluded_by_rule": json.dumps({str(k): int(v) for k, v in by_rule.items()}, sort_keys=True),
    }


def _email_key(value) -> str:
    return str(value).strip().casefold()


def _find_column(raw: RawExport, names: set[str]) -> str | None:
    """The first column with one of `names`, preferring one that holds a value (an anonymous-link
    Qualtrics export has an empty RecipientEmail beside the e-mail question)."""
    found = [c for c in raw.columns if normalise_label(c) in names]
    filled = [c for c in found if (raw.data[c].astype(object).fillna("").astype(str).str.strip() != "").any()]
    return (filled or found or [None])[0]


REDACTED = "[not stored: it may identify a person]"


def _redact(quarantine: pd.DataFrame, personal: set[str]) -> pd.DataFrame:
    """Quarantine values that hold an e-mail address, or a panellist's e-mail or name (a shifted
    or hand-edited sheet), are not stored."""

    def one(value) -> str:
        text = str(value)
        return REDACTED if "@" in text or text.strip().casefold() in personal else text

    return quarantine.assign(value=quarantine["value"].map(one))


def find_panel_file(folder: Path) -> Path:
    """The one panel file in the definition folder (InputError when none or several)."""
    found = sorted(
        p for p in folder.iterdir() if p.stem.casefold() in PANEL_STEMS and p.suffix.lower() in EXPORT_SUFFIXES
    )
    if len(found) != 1:
        what = "no panel file" if not found else f"{len(found)} panel files ({', '.join(p.name for p in found)})"
        raise InputError(folder, f"{what}: expected one panel.csv or panel.xlsx listing the panellists")
    return found[0]


def read_panel(path: Path, protocol: DefinitionProtocol, key: bytes, resolver: AliasResolver | None = None) -> Panel:
    """Read the panel file: one row per panellist (e-mail, group, borough)."""
    raw = read_export(path)
    resolver = resolver or AliasResolver()
    email_column = _find_column(raw, EMAIL_COLUMNS)
    group_column = _find_column(raw, {"group", "stakeholder group", "stakeholder_group"})
    borough_column = _find_column(raw, {"borough"})
    for name, column in (("e-mail", email_column), ("stakeholder group", group_column)):
        if column is None:
            raise InputError(path, f"no {name} column (found: {', '.join(raw.columns)})")
    ledger = RowLedger(raw, "panel", batch_column="round")
    emails = raw.data[email_column].astype(object).fillna("").map(_email_key)
    groups = raw.data[group_column].astype(object).fillna("").map(lambda v: normalise_label(v).replace(" ", "_"))
    boroughs_raw = (
        raw.data[borough_column].astype(object).fillna("") if borough_column else pd.Series("", index=raw.data.index)
    )
    boroughs = boroughs_raw.map(lambda v: resolver.resolve("borough", v))

    blank = (emails == "").to_numpy()
    ledger.quarantine(blank, email_column, None, "panellist e-mail missing")
    invalid = ~blank & ~emails.str.contains("@", regex=False).to_numpy()
    ledger.quarantine(invalid, email_column, None, "not an e-mail address")
    repeated = emails.duplicated(keep=False).to_numpy() & ~blank
    ledger.quarantine(repeated, email_column, None, "the same e-mail appears on more than one panel row")
    unknown = ~groups.isin(protocol.panel.groups).to_numpy()
    ledger.quarantine(
        unknown,
        group_column,
        raw.data[group_column],
        "stakeholder group is not one of " + ", ".join(protocol.panel.groups),
    )
    unresolved = boroughs.isna().to_numpy() & (boroughs_raw.str.strip() != "").to_numpy()
    ledger.quarantine(unresolved, borough_column, boroughs_raw, "borough does not resolve to a London borough")

    accepted = ledger.open
    ids = pseudonymise(emails, key, "panellist:")
    panellists = pd.DataFrame(
        {
            "panellist_id": ids[accepted].to_numpy(),
            "stakeholder_group": groups[accepted].to_numpy(),
            "borough_code": boroughs[accepted].to_numpy(),
            "source_row": ledger.rows[accepted],
        },
        columns=PANELLIST_COLUMNS,
    )
    by_email = dict(zip(emails[accepted], ids[accepted], strict=True))
    name_columns = [c for c in raw.columns if normalise_label(c) in NAME_COLUMNS]
    personal = set(emails) - {""}
    for column in name_columns:
        personal |= {str(v).strip().casefold() for v in raw.data[column].astype(object).dropna()} - {""}
    quarantine, exclusions = _ledger_frames(ledger, raw, path, "panel", personal)
    return Panel(
        panellists=panellists,
        quarantine=quarantine,
        exclusions=exclusions,
        by_email=by_email,
        source_file=path.name,
        sha256=raw.sha256,
        rows_read=raw.rows_read,
        personal=personal,
    )


def _ledger_frames(ledger: RowLedger, raw: RawExport, path: Path, period: str, personal: set[str]):
    """(quarantine, exclusions) of one file, with what the reader found (malformed and blank rows,
    as for the staff survey), the period named `round`, and identifying values not stored."""
    malformed, blank = reader_findings(raw, period, path)
    quarantine = _redact(ledger.quarantine_frame(malformed)[ledger.quarantine_columns], personal)
    return quarantine, ledger.exclusions_frame(blank)[ledger.exclusion_columns]


def statements_in_round(statements: Statements, round_number: int) -> list:
    """The statements rated in a round: introduced by then and not yet reworded."""
    return [
        s
        for s in statements.statements
        if s.introduced_in <= round_number
        and (statements.retired_in(s.id) is None or statements.retired_in(s.id) > round_number)
    ]


def _statement_columns(raw: RawExport, statements: Statements, round_number: int) -> dict[str, str]:
    """statement id -> the file's column, by id or by the statement's text."""
    by_norm = {normalise_label(c): c for c in raw.columns}
    texts = {normalise_label(raw.question_text.get(c, "")): c for c in raw.columns if raw.question_text.get(c)}
    mapping = {}
    for statement in statements_in_round(statements, round_number):
        column = by_norm.get(normalise_label(statement.id)) or by_norm.get(normalise_label(statement.text))
        column = column or texts.get(normalise_label(statement.text))
        if column is None:
            raise InputError(
                raw.path, f"no column for statement {statement.id} ({statement.text!r}), rated in round {round_number}"
            )
        mapping[statement.id] = column
    in_play = {s.id for s in statements_in_round(statements, round_number)}
    for statement in statements.statements:
        column = by_norm.get(normalise_label(statement.id)) or by_norm.get(normalise_label(statement.text))
        column = column or texts.get(normalise_label(statement.text))
        if statement.id not in in_play and column is not None and column not in mapping.values():
            raise InputError(
                raw.path,
                f"column {column!r} rates statement {statement.id}, which is not rated in round {round_number} "
                "(introduced later, or reworded): check the round folder and statements.yaml",
            )
    return mapping


def _rating_decisions(protocol: DefinitionProtocol) -> dict[str, tuple[float, str | None]]:
    """Each accepted answer text (normalised) -> (rating or NaN, missing reason)."""
    scale = protocol.scale
    table: dict[str, tuple[float, str | None]] = {"": (np.nan, NOT_RATED)}
    for value in range(scale.minimum, scale.maximum + 1):
        table[str(value)] = (float(value), None)
        table[f"{value}.0"] = (float(value), None)
    for label, value in scale.labels.items():
        table[normalise_label(label)] = (float(value), None)
    for label in scale.unable_to_rate:
        table[normalise_label(label)] = (np.nan, UNABLE)
    return table


def read_round_file(
    path: Path,
    round_number: int,
    protocol: DefinitionProtocol,
    statements: Statements,
    panel: Panel,
    invited: set[str] | None,
) -> RoundFile:
    """Read one round export: ratings of the panellists on the panel (`invited`: the pseudonyms
    invited to this round, None for everyone on the panel)."""
    raw = read_export(path)
    period = f"round-{round_number}"
    ledger = RowLedger(raw, period, batch_column="round")
    apply_format_rules(raw, ledger, None)
    email_column = _find_column(raw, EMAIL_COLUMNS)
    if email_column is None:
        raise InputError(path, "no e-mail column: the panel's exports must record each panellist's e-mail address")
    columns = _statement_columns(raw, statements, round_number)

    emails = raw.data[email_column].astype(object).fillna("").map(_email_key)
    ids = emails.map(panel.by_email)
    blank = (emails == "").to_numpy()
    ledger.quarantine(blank, email_column, None, "panellist e-mail missing")
    ledger.quarantine(ids.isna().to_numpy() & ~blank, email_column, None, "e-mail is not on the panel")

    decisions = _rating_decisions(protocol)
    values: dict[str, np.ndarray] = {}
    reasons: dict[str, np.ndarray] = {}
    for statement_id, column in columns.items():
        texts = raw.data[column].astype(object).fillna("").map(normalise_label)
        decided = [decisions.get(text) for text in texts]
        bad = np.array([d is None for d in decided], dtype=bool)
        ledger.quarantine(
            bad,
            column,
            raw.data[column].astype(object),
            f"not a rating on the {protocol.scale.minimum}-{protocol.scale.maximum} scale "
            f"(nor one of: {', '.join(protocol.scale.unable_to_rate) or 'no non-rating answers'})",
        )
        values[statement_id] = np.array([np.nan if d is None else d[0] for d in decided], dtype=float)
        reasons[statement_id] = np.array([NOT_RATED if d is None else d[1] for d in decided], dtype=object)

    if invited is not None:
        ledger.exclude(~ids.isin(invited).to_numpy(), "not_invited", f"not invited to {period}")
    rated = np.zeros(len(raw.data), dtype=bool)
    for statement_id in columns:
        rated |= ~np.isnan(values[statement_id])
    ledger.exclude(~rated, "no_ratings", "no statement rated")
    _exclude_repeats(raw, ledger, ids)

    accepted = ledger.open
    responses = pd.DataFrame(
        {
            "round": round_number,
            "panellist_id": ids[accepted].to_numpy(),
            "source_file": path.name,
            "source_row": ledger.rows[accepted],
        },
        columns=RESPONSE_COLUMNS,
    )
    ratings = pd.concat(
        [
            pd.DataFrame(
                {
                    "round": round_number,
                    "panellist_id": ids[accepted].to_numpy(),
                    "statement_id": statement_id,
                    "rating": pd.array(values[statement_id][accepted], dtype="Float64").astype("Int64"),
                    "missing_reason": reasons[statement_id][accepted],
                },
                columns=RATING_COLUMNS,
            )
            for statement_id in columns
        ],
        ignore_index=True,
    )
    quarantine, exclusions = _ledger_frames(ledger, raw, path, period, panel.personal)
    return RoundFile(
        round=round_number,
        path=path,
        sha256=raw.sha256,
        rows_read=raw.rows_read,
        responses=responses,
        ratings=ratings,
        quarantine=quarantine,
        exclusions=exclusions,
        engaged=set(ids[ledger.excluded.isna().to_numpy() & ids.notna().to_numpy()]),
    )


def _exclude_repeats(raw: RawExport, ledger: RowLedger, ids: pd.Series) -> None:
    """A panellist's earlier submissions in a round are superseded by their last."""
    end_column = _find_column(raw, END_TIME_COLUMNS)
    order = pd.DataFrame({"id": ids.to_numpy(), "row": ledger.rows})
    if end_column is not None:
        # The survey's rule: ISO first, then UK day-first; a UTC offset dropped (local clock time).
        order["when"] = local_times(raw.data[end_column].astype(object).fillna("")).to_numpy()
    else:
        order["when"] = pd.NaT
    live = order[ledger.open & order["id"].notna().to_numpy()]
    kept = live.sort_values(["when", "row"], na_position="first").drop_duplicates("id", keep="last")
    superseded = np.zeros(len(order), dtype=bool)
    superseded[live.index.difference(kept.index)] = True
    kept_row = kept.set_index("id")["row"]
    detail = pd.Series("", index=order.index, dtype=object)
    detail[superseded] = [
        f"the same panellist's later submission is kept (row {int(kept_row[i])})" for i in order.loc[superseded, "id"]
    ]
    ledger.exclude(superseded, "duplicate_submission", detail)


def round_folders(folder: Path) -> dict[int, Path]:
    """round number -> its folder (`round-1`, `round-2`, ...); InputError for a gap."""
    found = {}
    for child in sorted(folder.iterdir()):
        match = ROUND_FOLDER.match(child.name)
        if child.is_dir() and match:
            found[int(match.group(1))] = child
    if found and sorted(found) != list(range(1, max(found) + 1)):
        raise InputError(folder, f"round folders must run round-1, round-2, ... without a gap; found {sorted(found)}")
    return found


def round_files(folder: Path) -> list[Path]:
    return sorted(
        p
        for p in folder.iterdir()
        if p.is_file() and p.suffix.lower() in EXPORT_SUFFIXES and not p.name.startswith(".")
    )


@dataclass
class PanelIngest:
    """Every round read, in order, with the panel."""

    panel: Panel
    files: list[RoundFile]

    def table(self, name: str) -> pd.DataFrame:
        frames = [getattr(f, name) for f in self.files]
        return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()

    @property
    def rounds(self) -> list[int]:
        return sorted({f.round for f in self.files})

    def invited(self, round_number: int, protocol: DefinitionProtocol) -> set[str]:
        """The pseudonyms invited to a round."""
        everyone = set(self.panel.panellists["panellist_id"])
        if round_number == 1 or protocol.panel.invite == "whole_panel":
            return everyone
        return set().union(*(f.engaged for f in self.files if f.round == round_number - 1))


def ingest_panel(
    folder: Path,
    protocol: DefinitionProtocol,
    statements: Statements,
    key: bytes,
    resolver: AliasResolver | None = None,
) -> PanelIngest:
    """Read the panel file and every round folder under `folder`, round by round (a round's
    invitations depend on the one before)."""
    panel = read_panel(find_panel_file(folder), protocol, key, resolver)
    ingest = PanelIngest(panel, [])
    for number, round_folder in round_folders(folder).items():
        files = round_files(round_folder)
        if not files:
            raise InputError(round_folder, "the round folder holds no export")
        invited = ingest.invited(number, protocol)
        read = [read_round_file(p, number, protocol, statements, panel, invited) for p in files]
        ingest.files.extend(read)
        # A panellist in two files of one round: the later file's submission is kept would need
        # times across files; refuse instead, naming both.
        seen: dict[str, str] = {}
        for round_file in read:
            for pid in round_file.responses["panellist_id"]:
                if pid in seen and seen[pid] != round_file.path.name:
                    raise InputError(
                        round_file.path, f"a panellist also responds in {seen[pid]} in round {number}: merge the files"
                    )
                seen[pid] = round_file.path.name
    return ingest


def staging_frames(ingest: PanelIngest | None, protocol: DefinitionProtocol | None) -> dict[str, pd.DataFrame]:
    """The warehouse's staging tables of the definition panel (empty without a definition folder)."""
    if ingest is None:
        return {
            "stg_panellists": pd.DataFrame(columns=PANELLIST_COLUMNS),
            "stg_panel_invitations": pd.DataFrame(columns=["round", "panellist_id"]),
            "stg_panel_responses": pd.DataFrame(columns=RESPONSE_COLUMNS),
            "stg_panel_ratings": pd.DataFrame(columns=RATING_COLUMNS),
            "definition_quarantine": pd.DataFrame(columns=["round", *QUARANTINE_COLUMNS[1:]]),
            "definition_exclusions": pd.DataFrame(columns=["round", *EXCLUSION_COLUMNS[1:]]),
            "definition_data_quality": pd.DataFrame(columns=QUALITY_COLUMNS),
        }
    invitations = pd.DataFrame(
        [(r, pid) for r in ingest.rounds for pid in sorted(ingest.invited(r, protocol))],
        columns=["round", "panellist_id"],
    )
    ratings = ingest.table("ratings") if ingest.files else pd.DataFrame(columns=RATING_COLUMNS)
    return {
        "stg_panellists": ingest.panel.panellists,
        "stg_panel_invitations": invitations,
        "stg_panel_responses": ingest.table("responses") if ingest.files else pd.DataFrame(columns=RESPONSE_COLUMNS),
        "stg_panel_ratings": ratings.astype({"rating": "Int64"}),
        "definition_quarantine": pd.concat(
            [ingest.panel.quarantine, *(f.quarantine for f in ingest.files)], ignore_index=True
        ),
        "definition_exclusions": pd.concat(
            [ingest.panel.exclusions, *(f.exclusions for f in ingest.files)], ignore_index=True
        ),
        "definition_data_quality": pd.DataFrame(
            [ingest.panel.accounting, *(f.accounting for f in ingest.files)], columns=QUALITY_COLUMNS
        ),
    }
