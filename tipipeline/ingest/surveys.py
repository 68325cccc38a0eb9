"""Survey exports -> staging tables, driven by the codebook. Every raw row is accounted for.

For each data row of a file, exactly one of:
- **excluded** by a documented rule, checked in this order: `blank_row`, `non_genuine_status`
  (Qualtrics previews, tests, spam), `partial_response` (Finished false or Progress below the
  threshold), `no_consent`, `duplicate_submission` (same duplicate key: the latest is kept),
  `duplicate_response_id` (the same response already read from another file of the wave);
- **quarantined**, with one entry per problem (file, row, column, offending value, reason): a row
  that cannot be split into the header's columns, an organisation / borough / BCU that does not
  resolve, geography that contradicts the organisation, an answer outside its scale;
- **accepted** into the staging tables.

Identifying columns are dropped straight after reading (after the duplicate key is hashed); the
response id is replaced by an HMAC-SHA256 pseudonym; timestamps keep only the date; free text goes
only to the restricted table.
"""

from __future__ import annotations

import difflib
import json
import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from tipipeline import registry
from tipipeline.errors import InputError
from tipipeline.ingest.codebook import Codebook, Scale
from tipipeline.ingest.exports import read_export
from tipipeline.ingest.identifiers import identifying_columns, pseudonymise
from tipipeline.ingest.ledger import (
    EXCLUSION_COLUMNS,
    EXCLUSION_RULES,
    QUARANTINE_COLUMNS,
    RowLedger,
    safe_value,
)
from tipipeline.ingest.long_form import ANSWERED_CODE, NOT_ANSWERED, missing_codes
from tipipeline.ingest.raw_export import RawExport
from tipipeline.ingest.report import FileReport, Problem
from tipipeline.reference import AliasResolver, Reference

# Qualtrics response types (DESIGN.md): code -> label.
QUALTRICS_STATUS = {
    0: "IP Address",
    1: "Survey Preview",
    2: "Survey Test",
    4: "Imported",
    8: "Spam",
    9: "Survey Preview Spam",
    12: "Imported Spam",
    16: "Offline",
    17: "Offline Survey Preview",
    32: "EX",
    40: "EX Spam",
    48: "EX Offline",
}
_STATUS_BY_LABEL = {label.casefold(): label for label in QUALTRICS_STATUS.values()}
_TRUE = {"true", "1", "yes"}
_FALSE = {"false", "0", "no"}
RESPONDENT_COLUMNS = registry.table("stg_respondents").names
FREE_TEXT_COLUMNS = registry.table("restricted_free_text").names


@dataclass
class FileIngest:
    """One export file's outcome: staging rows, quarantine, exclusions and the accounting."""

    path: Path
    sha256: str
    raw_format: str
    format_label: str
    encoding: str | None
    header_rows: int
    rows_read: int
    respondents: pd.DataFrame
    answers: pd.DataFrame  # wide; see long_form.py for the long stg_responses
    free_text: pd.DataFrame
    quarantine: pd.DataFrame
    exclusions: pd.DataFrame
    identifying_columns_dropped: list[str]
    problems: list[dict] = field(default_factory=list)
    reader: str = "python"
    reader_declined: str = ""

    @property
    def rows_accepted(self) -> int:
        return len(self.respondents)

    @property
    def rows_quarantined(self) -> int:
        return int(self.quarantine["source_row"].nunique()) if len(self.quarantine) else 0

    @property
    def rows_excluded(self) -> dict[str, int]:
        counts = self.exclusions["rule"].value_counts()
        return {rule: int(counts[rule]) for rule in EXCLUSION_RULES if rule in counts}

    def report(self) -> FileReport:
        """The public accounting of this file (tipipeline.ingest.report)."""
        return FileReport(
            path=self.path,
            format=self.raw_format,
            format_label=self.format_label,
            encoding=self.encoding,
            header_rows=self.header_rows,
            rows_read=self.rows_read,
            rows_accepted=self.rows_accepted,
            rows_quarantined=self.rows_quarantined,
            rows_excluded=self.rows_excluded,
            identifying_columns_dropped=list(self.identifying_columns_dropped),
            problems=[Problem(p["row"], p["column"], p["message"]) for p in self.problems],
            reader=self.reader,
            reader_declined=self.reader_declined,
        )

    def quality_row(self, wave: str) -> dict:
        return {
            "wave": wave,
            "source_file": self.path.name,
            "sha256": self.sha256,
            "file_format": self.raw_format,
            "encoding": self.encoding or "",
            "header_rows": self.header_rows,
            "rows_read": self.rows_read,
            "rows_accepted": self.rows_accepted,
            "rows_quarantined": self.rows_quarantined,
            "rows_excluded": int(sum(self.rows_excluded.values())),
            "excluded_by_rule": json.dumps(self.rows_excluded, sort_keys=True),
            "identifying_columns_dropped": json.dumps(self.identifying_columns_dropped),
        }


# --- column mapping ----------------------------------------------------------------------


_QUOTES = str.maketrans({"\u2019": "'", "\u2018": "'", "\u201c": '"', "\u201d": '"', "\u00a0": " "})


def normalise_label(text: str) -> str:
    """Compare labels and headers as people mean them: case, spacing and curly quotes ignored."""
    return re.sub(r"\s+", " ", str(text).translate(_QUOTES)).strip().casefold()


def map_columns(raw: RawExport, codebook: Codebook, wave: str | None, dropped: list[str]) -> dict[str, str]:
    """Codebook id -> the export's column, matched exactly, then ignoring case and spacing.

    A required column that is absent is an InputError naming it and suggesting close matches.
    """
    expected = codebook.columns_for_wave(wave)
    present = set(raw.columns)
    by_norm: dict[str, list[str]] = {}
    for column in raw.columns:
        by_norm.setdefault(normalise_label(column), []).append(column)
    by_text: _QuestionTexts | None = None  # made on first use: most codebooks match by column
    # Identifying columns may feed only identifying fields (hashed at read) and the submission
    # time, which is coarsened to a date at read.
    identifying_ids = {name for name, spec in codebook.fields.items() if spec.identifying} | {"submitted"}
    mapping: dict[str, str] = {}
    for target, column in expected.items():
        spec = codebook.fields.get(target)
        if column in raw.duplicate_columns:
            raise InputError(
                raw.path,
                f"column {column!r} (codebook {target}) appears {len(raw.duplicate_columns[column])} "
                f"times in the header (columns {raw.duplicate_columns[column]}): which one is meant is ambiguous",
            )
        if column in present:
            found = column
        else:
            matches = by_norm.get(normalise_label(column), [])
            if not matches:
                by_text = by_text or _QuestionTexts(raw)
                matches = by_text.find(column)
            found = matches[0] if len(matches) == 1 else None
        if found is None:
            if spec is not None and not spec.required:
                continue
            close = difflib.get_close_matches(column, raw.columns, n=3, cutoff=0.6)
            hint = f"; close matches: {', '.join(repr(c) for c in close)}" if close else ""
            raise InputError(raw.path, f"codebook column {column!r} ({target}) is not in the export{hint}")
        if found in dropped and target not in identifying_ids:
            raise InputError(
                raw.path,
                f"column {found!r} is identifying and is dropped at read; the codebook can use it "
                f"only as an `identifying: true` field, not as {target}",
            )
        mapping[target] = found
    return mapping


class _QuestionTexts:
    """Columns by question text (Qualtrics header row 2), for codebooks that match a wave's columns
    by text: `find(text)` gives the columns whose question text is `text`, or ends with ' - text'
    (a matrix statement), in the export's order. Indexed once, so that looking up every item of a
    1,500-item codebook does not read every column's text 1,500 times."""

    _SEPARATOR = " - "

    def __init__(self, raw: RawExport):
        self.texts: dict[str, str] = {}
        self.by_text: dict[str, list[str]] = {}
        # A text ending with ' - wanted' has the same part after its last ' - ' as ' - wanted' does.
        self.by_last_part: dict[str, list[str]] = {}
        for column, question in raw.question_text.items():
            if not question:
                continue
            text = self.texts[column] = normalise_label(question)
            self.by_text.setdefault(text, []).append(column)
            if self._SEPARATOR in text:
                self.by_last_part.setdefault(self._last_part(text), []).append(column)
        self.position = {column: index for index, column in enumerate(raw.question_text)}

    def _last_part(self, text: str) -> str:
        return text.rsplit(self._SEPARATOR, 1)[-1]

    def find(self, text: str) -> list[str]:
        wanted = normalise_label(text)
        suffix = self._SEPARATOR + wanted
        ending = [c for c in self.by_last_part.get(self._last_part(suffix), []) if self.texts[c].endswith(suffix)]
        found = set(self.by_text.get(wanted, [])) | set(ending)
        return sorted(found, key=self.position.__getitem__)


# --- the file ------------------------------------------------------------------------------


def status_labels(values: pd.Series) -> pd.Series:
    """Qualtrics Status as its label, whether exported as a code or as text; NA if unknown."""

    def one(value: str):
        text = value.strip()
        if text.lstrip("-").isdigit():
            return QUALTRICS_STATUS.get(int(text), pd.NA)
        return _STATUS_BY_LABEL.get(text.casefold(), pd.NA)

    uniques = {v: one(v) for v in pd.unique(values)}
    return values.map(uniques)


def _status_label(status: str | int) -> str:
    text = str(status).strip()
    if text.isdigit():
        return QUALTRICS_STATUS.get(int(text), text)
    return _STATUS_BY_LABEL.get(text.casefold(), text)


def _column(raw: RawExport, name: str) -> str | None:
    wanted = normalise_label(name)
    return next((c for c in raw.columns if normalise_label(c) == wanted), None)


def apply_format_rules(raw: RawExport, ledger: RowLedger, codebook: Codebook | None) -> None:
    """Exclusions the export format itself tells: Qualtrics response type and completeness."""
    from tipipeline.ingest.codebook import Exclusions

    rules = codebook.exclusions if codebook else Exclusions()

    def text(column: str) -> pd.Series:
        return raw.data[column].astype(object)

    # Qualtrics columns, whatever the layout (header rows 2-3 are often deleted in Excel).
    qualtrics = raw.format.startswith("qualtrics") or bool(_column(raw, "ResponseId") or _column(raw, "ResponseID"))
    status_column = _column(raw, "Status")
    if status_column and qualtrics:
        values = text(status_column)
        labels = status_labels(values)
        excluded = {_status_label(s) for s in rules.status_exclude}
        blank = (values.str.strip() == "").to_numpy()
        ledger.quarantine(blank, status_column, values, "Status (response type) missing")
        ledger.quarantine(
            labels.isna().to_numpy() & ~blank, status_column, values, "unknown Qualtrics response type (Status)"
        )
        ledger.exclude(
            labels.isin(excluded).to_numpy(), "non_genuine_status", "Status = " + labels.fillna("").astype(str)
        )
    finished_column = _column(raw, "Finished")
    if finished_column and qualtrics and rules.require_finished:
        values = text(finished_column)
        finished = values.str.strip().str.casefold()
        ledger.quarantine(
            (~finished.isin(_TRUE | _FALSE)).to_numpy(), finished_column, values, "Finished is not True or False"
        )
        ledger.exclude(finished.isin(_FALSE).to_numpy(), "partial_response", "Finished = " + values)
    progress_column = _column(raw, "Progress")
    if progress_column and qualtrics:
        values = text(progress_column)
        progress = pd.to_numeric(values, errors="coerce")
        ledger.quarantine(progress.isna().to_numpy(), progress_column, values, "Progress is not a number")
        ledger.exclude(
            (progress < rules.min_progress).fillna(False).to_numpy(), "partial_response", "Progress = " + values
        )


def scale_values(values: pd.Series, scale: Scale) -> tuple[pd.Series, pd.Series, pd.Series]:
    """(value, missing_reason, invalid) for answers on `scale`: labels, numbers or custom codes.

    Blank -> missing 'not_answered'; a missing code ("Don't know") -> missing with that label;
    anything else that is not a label, a value or a declared code is invalid.
    """
    positions, value, reason, invalid = _scale_decisions(values, scale)
    return (
        pd.Series(value[positions], index=values.index),
        pd.Series(reason[positions], index=values.index),
        pd.Series(invalid[positions], index=values.index),
    )


def _scale_decisions(
    values: pd.Series, scale: Scale, decide: _ScaleRules | None = None
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """`scale_values` decided once per distinct answer: (each row's position among the distinct
    answers, then per distinct answer its value, missing reason and whether it is invalid). Spread
    them by position (`value[positions]`): fast on millions of cells. `decide`: the scale's rules
    made once for every item on it (else made here)."""
    decide = decide or _ScaleRules(scale)
    positions, uniques = distinct_values(values)
    decided = [decide(u) for u in uniques]
    return (
        positions,
        np.array([d[0] for d in decided], dtype="float64"),
        np.array([d[1] for d in decided], dtype=object),
        np.array([d[2] for d in decided], dtype=bool),
    )


class _ScaleRules:
    """One scale's reading of an answer: (value, missing reason, invalid). The lookups are made
    once, and each distinct answer is decided once for every item on the scale (a 1,500-item
    survey has a few distinct answers, not 1,500 sets of them)."""

    def __init__(self, scale: Scale):
        self.labels = {normalise_label(k): float(v) for k, v in scale.values.items()}
        self.numeric_values = set(self.labels.values())
        self.missing = {normalise_label(m): m for m in scale.missing}
        self.codes = {float(k): v for k, v in scale.codes.items()}
        self.decided: dict[str, tuple] = {}

    def __call__(self, raw_value: str) -> tuple:
        decided = self.decided.get(raw_value)
        if decided is None:
            decided = self.decided[raw_value] = self._decide(raw_value)
        return decided

    def _decide(self, raw_value: str) -> tuple:
        text = normalise_label(raw_value)
        if text == "":
            return (np.nan, NOT_ANSWERED, False)
        if text in self.labels:
            return (self.labels[text], None, False)
        if text in self.missing:
            return (np.nan, self.missing[text], False)
        try:
            number = float(text)
        except ValueError:
            return (np.nan, None, True)
        if self.codes:
            if number not in self.codes:
                return (np.nan, None, True)
            code = self.codes[number]
            return (np.nan, code, False) if isinstance(code, str) else (float(code), None, False)
        return (number, None, False) if number in self.numeric_values else (np.nan, None, True)


def distinct_values(values: pd.Series) -> tuple[np.ndarray, list[str]]:
    """(each row's position in the list, the distinct answers as text, a missing cell as ""). A
    categorical column (what the readers give) already holds them: no per-cell work at all."""
    if isinstance(values.dtype, pd.CategoricalDtype):
        cells = values.array  # the Categorical itself: no accessor objects per column
        positions = cells.codes.astype(np.int64)
        uniques = [str(c) for c in cells.categories]
        if (positions < 0).any():
            positions[positions < 0] = len(uniques)
            uniques.append("")
        return positions, uniques
    positions, uniques = pd.factorize(_as_text(values), use_na_sentinel=False)
    return positions, list(uniques)


@dataclass
class _Selected:
    """The codebook's columns of one export (codebook id -> export column), with the identifying
    columns named so that they can be dropped."""

    data: pd.DataFrame
    columns: dict[str, str]
    dropped: list[str]


@dataclass
class _Identity:
    """All that ingestion keeps from the identifying columns: the hashed duplicate key (None
    without a duplicate rule), submission times (for ordering only) and the raw response ids."""

    dup_key: pd.Series | None
    submitted: pd.Series
    response_ids: pd.Series | None


def ingest_file(
    path: str | Path,
    codebook: Codebook,
    wave: str,
    reference: Reference,
    key: bytes,
    resolver: AliasResolver | None = None,
) -> FileIngest:
    """Read one export and turn it into staging rows, quarantine and exclusions.

    The stages, in the order the module docstring's rules need: read; select the codebook's
    columns; take what is needed from the identifying columns and drop them; the row-level
    exclusions; the value checks (quarantine); superseded submissions; the staging rows.
    """
    path = Path(path)
    raw = read_export(path)
    resolver = resolver or AliasResolver(reference)
    selected = _select_columns(raw, codebook, wave)
    identity = _identifying_values(selected.data, selected.columns, codebook, key)
    # Nothing identifying is carried past this point.
    data = selected.data.drop(columns=[c for c in selected.dropped if c in selected.data.columns])
    columns = selected.columns
    ledger = RowLedger(raw, wave)

    respondent_id = _apply_row_exclusions(raw, data, columns, ledger, codebook, identity, wave, key)
    geography, item_values, yes_no = _check_values(data, columns, ledger, codebook, resolver, reference)
    if identity.dup_key is not None:
        _exclude_superseded_submissions(
            ledger, identity.dup_key, identity.submitted, codebook.exclusions.duplicates.keep
        )

    accepted = ledger.open
    respondents = _respondents_frame(
        data, columns, wave, path, respondent_id, ledger.rows, identity.submitted, geography, yes_no
    )
    extra_quarantine, extra_exclusions = reader_findings(raw, wave, path)
    return FileIngest(
        path=path,
        sha256=raw.sha256,
        raw_format=raw.format,
        format_label=raw.format_label,
        encoding=raw.encoding,
        header_rows=raw.header_rows,
        rows_read=raw.rows_read,
        respondents=_accepted_respondents(respondents, accepted),
        answers=_answers_wide(item_values, respondent_id, accepted, wave, codebook),
        free_text=_free_text(data, columns, codebook, respondent_id, accepted, wave),
        quarantine=ledger.quarantine_frame(extra_quarantine),
        exclusions=ledger.exclusions_frame(extra_exclusions),
        identifying_columns_dropped=selected.dropped,
        problems=[
            {"row": e["source_row"], "column": e["column"], "message": e["reason"]}
            for e in extra_quarantine + ledger.entries
        ],
        reader=raw.reader,
        reader_declined=raw.declined,
    )


def _select_columns(raw: RawExport, codebook: Codebook, wave: str) -> _Selected:
    """The codebook's columns, mapped, with the identifying ones named."""
    extra_identifying = [spec.column for spec in codebook.fields.values() if spec.identifying]
    extra_identifying += codebook.identifying_columns
    dropped = identifying_columns(raw.columns, extra_identifying)
    columns = map_columns(raw, codebook, wave, dropped)
    # Only the columns the codebook uses. The item columns stay categorical as the readers give
    # them (their rules are decided once per distinct answer); the rest become plain text, which
    # shares the categories' strings, so it costs only pointers. (The codebook refuses a column
    # used by an item and by another field, so no text rule ever meets a categorical.)
    position = {column: index for index, column in enumerate(raw.columns)}
    used = sorted(set(columns.values()), key=position.__getitem__)
    item_columns = {columns[item.id] for item in codebook.items}
    cells = {c: raw.data[c].array for c in used}  # the readers' categoricals, shared, not copied
    data = pd.DataFrame(
        {c: values if c in item_columns else values.astype(object) for c, values in cells.items()}, copy=False
    )
    return _Selected(data=data, columns=columns, dropped=dropped)


def _apply_row_exclusions(
    raw: RawExport, data, columns, ledger: RowLedger, codebook: Codebook, identity: _Identity, wave: str, key: bytes
) -> pd.Series:
    """The exclusions decided from a row alone (response type, completeness, consent, a response
    id already seen in the file); returns every row's pseudonym."""
    apply_format_rules(raw, ledger, codebook)
    if codebook.exclusions.consent_required and "consent" in columns:
        consent = _yes_no(data, columns, ledger, codebook, "consent")
        shown = data[columns["consent"]].map(lambda v: safe_value(v) or "(blank)")
        ledger.exclude(~consent.fillna(False).to_numpy(dtype=bool), "no_consent", "consent = " + shown)
    respondent_id = _respondent_ids(raw, identity.response_ids, ledger.rows, wave, key)
    repeated = respondent_id.duplicated(keep="first").to_numpy() & ledger.open
    ledger.exclude(repeated, "duplicate_response_id", "the same response id appears earlier in this file")
    return respondent_id


def _check_values(data, columns, ledger: RowLedger, codebook: Codebook, resolver: AliasResolver, reference: Reference):
    """Quarantine what cannot be read as meant: merged rows, geography, answers, yes/no fields.
    Returns (geography, item values, yes/no answers) for every row."""
    _quarantine_multiline(data, columns, ledger, codebook)
    geography = _resolve_geography(data, columns, ledger, resolver, reference)
    item_values = _item_values(data, columns, ledger, codebook)
    yes_no = {name: _yes_no(data, columns, ledger, codebook, name) for name in ("ti_training_12m", "willing_to_share")}
    return geography, item_values, yes_no


def _respondents_frame(
    data, columns, wave: str, path: Path, respondent_id, rows, submitted, geography, yes_no
) -> pd.DataFrame:
    """Every row's stg_respondents fields (the accepted ones are picked later)."""
    return pd.DataFrame(
        {
            "wave": wave,
            "respondent_id": respondent_id,
            "source_file": path.name,
            "source_row": rows,
            "submitted_date": submitted.dt.date.to_numpy(),  # the date only: times are not kept
            **{k: v.to_numpy() for k, v in geography.items()},
            "role": _text(data, columns, "role"),
            "service_area": _text(data, columns, "service_area"),
            **{k: v.to_numpy() for k, v in yes_no.items()},
        }
    )[RESPONDENT_COLUMNS]


def reader_findings(raw: RawExport, wave: str, path: Path) -> tuple[list[dict], list[dict]]:
    """What the reader itself found: malformed rows (quarantine) and blank rows (excluded)."""
    quarantine = [
        {"source_row": row, "column": None, "value": "", "reason": f"malformed row: {reason}"}
        for row, reason in raw.malformed.items()
    ]
    exclusions = [
        {"wave": wave, "source_file": path.name, "source_row": row, "rule": "blank_row", "detail": "every cell empty"}
        for row in raw.blank_rows
    ]
    return quarantine, exclusions


def _identifying_values(data, columns, codebook: Codebook, key: bytes) -> _Identity:
    """What ingestion needs from the identifying columns before they are dropped."""
    dup_key = None
    rule = codebook.exclusions.duplicates
    if rule is not None and rule.key in columns:
        keys = data[columns[rule.key]].str.strip().str.casefold()
        dup_key = pseudonymise(keys, key, "duplicate:").where(keys != "", None)
    submitted = (
        local_times(data[columns["submitted"]]) if "submitted" in columns else pd.Series(pd.NaT, index=data.index)
    )
    response_ids = data[columns["response_id"]].str.strip() if "response_id" in columns else None
    return _Identity(dup_key=dup_key, submitted=submitted, response_ids=response_ids)


def _respondent_ids(raw: RawExport, response_ids, rows, wave: str, key: bytes) -> pd.Series:
    """Pseudonyms. Qualtrics response ids are unique across exports; other tools number responses
    1, 2, ... in each form, so there the file name is part of the pseudonym's input too. The wave
    always is: two waves' "1" are different people. A row without an id is named by the file's
    hash and its row."""
    path_name = raw.path.name
    namespace = f"response:{wave}:" if raw.format.startswith("qualtrics") else f"response:{wave}:{path_name}:"
    if response_ids is not None:
        blank_ids = (response_ids == "").to_numpy()
        ids_source = response_ids.where(~blank_ids, "row:" + raw.sha256 + ":" + pd.Series(rows).astype(str))
    else:
        ids_source = pd.Series(["row:" + raw.sha256 + ":" + str(r) for r in rows])
    return pseudonymise(ids_source.reset_index(drop=True), key, namespace)


def _exclude_superseded_submissions(ledger: RowLedger, dup_key, submitted, keep: str) -> None:
    """Duplicate submissions are decided among the rows that passed every check, so that a newer
    submission that cannot be accepted does not knock out an older one that can."""
    order = pd.DataFrame({"key": dup_key, "when": submitted, "row": ledger.rows})
    live = order[ledger.open & order["key"].notna().to_numpy()]
    ascending = keep == "latest"
    ranked = live.sort_values(["when", "row"], ascending=ascending, na_position="first" if ascending else "last")
    kept = ranked.drop_duplicates("key", keep="last").index
    superseded = np.zeros(len(order), dtype=bool)
    superseded[live.index.difference(kept)] = True
    kept_row = order.loc[kept].set_index("key")["row"]
    # Worded only for the superseded rows (few), not for every row.
    detail = pd.Series("", index=order.index, dtype=object)
    rows_kept = order.loc[superseded, "key"].map(kept_row)
    detail[superseded] = [f"another submission with the same duplicate key is kept (row {int(r)})" for r in rows_kept]
    ledger.exclude(superseded, "duplicate_submission", detail)


def _accepted_respondents(respondents: pd.DataFrame, accepted) -> pd.DataFrame:
    """The accepted rows, with missing dates as None and the yes/no answers nullable booleans."""
    respondents = respondents[accepted].reset_index(drop=True)
    dates = respondents["submitted_date"].to_numpy(dtype=object)
    dates[pd.isna(dates)] = None
    respondents["submitted_date"] = dates
    for name in ("ti_training_12m", "willing_to_share"):
        respondents[name] = respondents[name].astype("boolean")
    return respondents


_UTC_OFFSET = re.compile(r"\s*(Z|[+-]\d{2}:?\d{2})$")


def local_times(values: pd.Series) -> pd.Series:
    """Local timestamps, for ordering submissions (only their dates are ever stored).

    ISO first, then UK day-first; a trailing UTC offset is dropped (the local clock time is what
    the respondent saw); what does not parse is NaT.
    """
    text = values.astype(str).str.strip().str.replace(_UTC_OFFSET, "", regex=True)
    parsed = pd.to_datetime(text, errors="coerce", format="ISO8601")
    retry = parsed.isna() & (text != "")
    if retry.any():
        parsed[retry] = pd.to_datetime(text[retry], errors="coerce", dayfirst=True, format="mixed")
    return parsed


def _quarantine_multiline(data, columns, ledger: RowLedger, codebook: Codebook) -> None:
    """A line break inside a short answer means a stray quote merged rows: quarantine them."""
    free_text = {name for name, spec in codebook.fields.items() if spec.free_text}
    for target, column in columns.items():
        if target in free_text or column not in data.columns:
            continue
        # Decided once per distinct value: fast on a million rows.
        positions, uniques = distinct_values(data[column])
        broken = np.array(["\n" in u for u in uniques], dtype=bool)[positions]
        if broken.any():
            ledger.quarantine(
                broken,
                column,
                _as_text(data[column]),
                'value spans several lines: a stray quote (") may have merged this row with the rows after it',
            )


def _text(data: pd.DataFrame, columns: dict[str, str], name: str) -> np.ndarray:
    if name not in columns:
        return np.full(len(data), None, dtype=object)
    values = data[columns[name]].str.strip()
    return values.where(values != "", None).to_numpy()


def _resolve_geography(
    data, columns, ledger: RowLedger, resolver: AliasResolver, reference: Reference
) -> dict[str, pd.Series]:
    """org_id, sector, borough, BCU and ICB codes per row; unresolvable or contradictory -> quarantine.

    Rules: a council respondent's borough is the council's own area; police respondents give a
    BCU and/or a borough (the BCU follows from the borough when blank); health respondents give a
    borough, which must be in their ICB.
    """
    n = len(data)
    organisations = reference.organisations.set_index("org_id")
    boroughs = reference.boroughs_at().set_index("gss_code")

    def resolve(entity: str, name: str) -> tuple[pd.Series, pd.Series]:
        if name not in columns:
            return pd.Series([None] * n, dtype=object), pd.Series([""] * n, dtype=object)
        raw_values = data[columns[name]].fillna("").astype(str)
        table = {v: resolver.resolve(entity, v) for v in pd.unique(raw_values)}
        return raw_values.map(table), raw_values

    org, org_raw = resolve("organisation", "organisation")
    blank = (org_raw.str.strip() == "").to_numpy()
    ledger.quarantine(blank, columns.get("organisation"), org_raw, "organisation missing")
    unresolved = org.isna().to_numpy() & ~blank
    if unresolved.any():
        hints = {v: _unresolved_reason(resolver, "organisation", v) for v in pd.unique(org_raw[unresolved])}
        ledger.quarantine(unresolved, columns["organisation"], org_raw, org_raw.map(hints))
    sector = org.map(organisations["sector"])

    council = (sector == "council").to_numpy()
    borough, borough_raw = resolve("borough", "borough")
    # A council respondent's borough is the council's own area, so their answer is not used (and
    # an answer that does not resolve is no reason to quarantine them).
    bad = borough.isna().to_numpy() & (borough_raw.str.strip() != "").to_numpy() & ~council
    if bad.any():
        hints = {v: _unresolved_reason(resolver, "borough", v) for v in pd.unique(borough_raw[bad])}
        ledger.quarantine(bad, columns["borough"], borough_raw, borough_raw.map(hints))
    bcu, bcu_raw = resolve("bcu", "bcu")
    bad = bcu.isna().to_numpy() & (bcu_raw.str.strip() != "").to_numpy()
    if bad.any():
        hints = {v: _unresolved_reason(resolver, "bcu", v) for v in pd.unique(bcu_raw[bad])}
        ledger.quarantine(bad, columns["bcu"], bcu_raw, bcu_raw.map(hints))

    police = (sector == "police").to_numpy()
    health = (sector == "health").to_numpy()
    borough = borough.where(~council, org)  # a council's area is its borough
    borough_bcu = borough.map(boroughs["bcu_code"])
    borough_icb = borough.map(boroughs["icb_code"])
    # Police: the BCU follows from the borough when not given; both given must agree.
    clash = police & bcu.notna().to_numpy() & borough_bcu.notna().to_numpy() & (bcu != borough_bcu).to_numpy()
    ledger.quarantine(clash, columns.get("bcu"), bcu_raw, "BCU does not contain the borough given: " + borough_raw)
    city = police & (borough == "E09000001").to_numpy()
    ledger.quarantine(
        city,
        columns.get("borough"),
        borough_raw,
        "the City of London is policed by the City of London Police, not the Metropolitan Police",
    )
    bcu = bcu.where(~police | bcu.notna(), borough_bcu).where(police, None)
    icb = borough_icb.where(~health, org)
    wrong_icb = health & borough.notna().to_numpy() & (borough_icb != org).to_numpy()
    ledger.quarantine(wrong_icb, columns.get("borough"), borough_raw, "borough is not in the respondent's ICB")
    return {"org_id": org, "sector": sector, "borough_code": borough, "bcu_code": bcu, "icb_code": icb}


def _unresolved_reason(resolver: AliasResolver, entity: str, value: str) -> str:
    if "\n" in value or len(value) > 120:
        return f"{entity}: the value spans several lines or is very long: a stray quote may have merged rows"
    suggestions = resolver.suggest(entity, value)
    hint = f" (did you mean {suggestions[0]!r}?)" if suggestions else ""
    return f"{entity} {value.strip()!r} does not resolve through the alias table{hint}"


def _item_values(data, columns, ledger: RowLedger, codebook: Codebook) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Per item: each row's value (NaN when missing) and missing code (`long_form.missing_codes`,
    ANSWERED_CODE when answered), decided once per distinct answer; off-scale answers quarantined."""
    table = missing_codes(codebook)
    code_of = dict(zip(table["missing_reason"], table["code"]))
    rules = {name: _ScaleRules(scale) for name, scale in codebook.scales.items()}
    out = {}
    for item in codebook.items:
        scale = codebook.scales[item.scale]
        column = data[columns[item.id]]
        positions, value, reason, invalid = _scale_decisions(column, scale, rules[item.scale])
        invalid_rows = invalid[positions]
        if invalid_rows.any():
            allowed = f"{scale.minimum:g}-{scale.maximum:g}"
            ledger.quarantine(
                invalid_rows,
                columns[item.id],
                _as_text(column),
                f"{item.id}: answer is not on the {item.scale} scale ({allowed}, its labels or missing codes)",
            )
        missing_code = np.array([code_of.get(r, ANSWERED_CODE) for r in reason], dtype="int8")
        out[item.id] = (value[positions], missing_code[positions])
    return out


def _as_text(values: pd.Series) -> pd.Series:
    """The cells as text, a missing cell as "" (for naming a quarantined value)."""
    return values.astype(object).fillna("").astype(str)


def _yes_no(data, columns, ledger: RowLedger, codebook: Codebook, name: str) -> pd.Series:
    """True / False / NA for a yes-no field: True is the scale's positive answer (`positive:`, by
    default the label 'Yes'), whatever number it is coded as. Other answers are quarantined."""
    if name not in columns:
        return pd.Series([pd.NA] * len(data), dtype="boolean")
    spec = codebook.fields[name]
    raw_values = data[columns[name]].fillna("").astype(str)
    if spec.scale is None:
        text = raw_values.str.strip().str.casefold()
        invalid = ~(text.isin(_TRUE | _FALSE) | (text == ""))
        ledger.quarantine(invalid.to_numpy(), columns[name], raw_values, f"{name}: answer is not yes or no")
        return text.map(lambda t: True if t in _TRUE else False if t in _FALSE else pd.NA).astype("boolean")
    scale = codebook.scales[spec.scale]
    value, _, invalid = scale_values(raw_values, scale)
    if invalid.any():
        ledger.quarantine(
            invalid.to_numpy(), columns[name], raw_values, f"{name}: answer is not on the {spec.scale} scale"
        )
    return (value == scale.positive_value).where(value.notna(), pd.NA).astype("boolean")


def _answers_wide(
    item_values, respondent_id: pd.Series, accepted: np.ndarray, wave: str, codebook: Codebook
) -> pd.DataFrame:
    """Accepted respondents' answers, wide: `v__<item>` value and `m__<item>` missing-reason code.
    Empties `item_values` as it goes."""
    columns: dict[str, object] = {"wave": wave, "respondent_id": respondent_id[accepted].to_numpy()}
    for item in codebook.items:
        # Taken out of `item_values` as they are copied, so that every row's values and the
        # accepted rows' are not all held at once (a million respondents: about 0.5 GB less).
        value, missing_code = item_values.pop(item.id)
        columns[f"v__{item.id}"] = value[accepted]
        columns[f"m__{item.id}"] = missing_code[accepted]
    return pd.DataFrame(columns)


def _free_text(data, columns, codebook: Codebook, respondent_id, accepted, wave) -> pd.DataFrame:
    rows = []
    for name, spec in codebook.fields.items():
        if spec.free_text and name in columns:
            text = data[columns[name]].fillna("").astype(str).str.strip()
            keep = accepted & (text != "").to_numpy()
            rows.append(
                pd.DataFrame(
                    {
                        "wave": wave,
                        "respondent_id": respondent_id[keep].to_numpy(),
                        "field": name,
                        "text": text[keep].to_numpy(),
                    }
                )
            )
    return pd.concat(rows, ignore_index=True) if rows else pd.DataFrame(columns=FREE_TEXT_COLUMNS)


@dataclass
class WaveIngest:
    """All export files of one wave, combined."""

    wave: str
    files: list[FileIngest]
    respondents: pd.DataFrame
    answers: pd.DataFrame
    free_text: pd.DataFrame
    quarantine: pd.DataFrame
    exclusions: pd.DataFrame
    data_quality: pd.DataFrame


def inspect_format(path: Path) -> FileReport:
    """What the format rules alone find in an export (no codebook): rows, the rows the survey
    tool's own columns exclude or quarantine, malformed rows, identifying columns."""
    raw = read_export(path)
    ledger = RowLedger(raw, "")
    apply_format_rules(raw, ledger, None)
    excluded = ledger.excluded.value_counts().to_dict()
    if raw.blank_rows:
        excluded["blank_row"] = len(raw.blank_rows)
    problems = [Problem(row, None, f"malformed row: {reason}") for row, reason in raw.malformed.items()]
    problems += [Problem(e["source_row"], e["column"], e["reason"]) for e in ledger.entries]
    return FileReport(
        path=path,
        format=raw.format,
        format_label=raw.format_label,
        encoding=raw.encoding,
        header_rows=raw.header_rows,
        rows_read=raw.rows_read,
        rows_accepted=int(ledger.open.sum()),
        rows_quarantined=len(raw.malformed) + int(ledger.quarantined.sum()),
        rows_excluded={rule: int(excluded[rule]) for rule in EXCLUSION_RULES if rule in excluded},
        identifying_columns_dropped=identifying_columns(raw.columns),
        problems=problems,
        reader=raw.reader,
        reader_declined=raw.declined,
    )


def ingest_wave(paths: list[Path], codebook: Codebook, wave: str, reference: Reference, key: bytes) -> WaveIngest:
    """Ingest every export of a wave; a response already read from an earlier file is excluded."""
    resolver = AliasResolver(reference)
    files = [ingest_file(p, codebook, wave, reference, key, resolver) for p in paths]
    seen: set[str] = set()
    for result in files:
        repeated = result.respondents["respondent_id"].isin(seen).to_numpy()
        if repeated.any():
            rows = result.respondents.loc[repeated, "source_row"]
            result.exclusions = (
                pd.concat(
                    [
                        result.exclusions,
                        pd.DataFrame(
                            {
                                "wave": wave,
                                "source_file": result.path.name,
                                "source_row": rows.to_numpy(),
                                "rule": "duplicate_response_id",
                                "detail": "the same response id was read from an earlier file of this wave",
                            }
                        ),
                    ],
                    ignore_index=True,
                )
                .sort_values("source_row", kind="stable")
                .reset_index(drop=True)
            )
            dropped_ids = set(result.respondents.loc[repeated, "respondent_id"])
            result.respondents = result.respondents[~repeated].reset_index(drop=True)
            result.answers = result.answers[~result.answers["respondent_id"].isin(dropped_ids)].reset_index(drop=True)
            result.free_text = result.free_text[~result.free_text["respondent_id"].isin(dropped_ids)].reset_index(
                drop=True
            )
        seen.update(result.respondents["respondent_id"])

    def combine(attribute: str, columns: list[str]) -> pd.DataFrame:
        # Concatenate the non-empty frames; if all are empty, keep the first one's column types.
        frames = [getattr(f, attribute) for f in files if len(getattr(f, attribute))] or [getattr(files[0], attribute)]
        return pd.concat(frames, ignore_index=True)[columns]

    return WaveIngest(
        wave=wave,
        files=files,
        respondents=combine("respondents", RESPONDENT_COLUMNS),
        answers=combine("answers", list(files[0].answers.columns)),
        free_text=combine("free_text", FREE_TEXT_COLUMNS),
        quarantine=combine("quarantine", QUARANTINE_COLUMNS),
        exclusions=combine("exclusions", EXCLUSION_COLUMNS),
        data_quality=pd.DataFrame([f.quality_row(wave) for f in files]),
    )
