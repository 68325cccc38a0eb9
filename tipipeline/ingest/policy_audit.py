"""Policy-document audits: one row per document x coder, scores 0/1/2 per principle.

Reading: headers are matched ignoring case, spacing and punctuation (`Document Title`,
`document_title`, `DOCUMENT TITLE ` are one column); principles by name or id. Every data row is
accepted, quarantined (with file, row, column, value and reason) or excluded (`blank_row`).

Reconciliation, per document and principle: one coder -> that score; coders agreeing -> that
score; coders disagreeing -> the `consensus` row's score when there is one, otherwise the
principle is **unresolved**: listed, and left out of the document's scores (never averaged). A
`consensus` row settles every principle of its document.
"""

from __future__ import annotations

import difflib
import hashlib
import json
import re
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import pandas as pd

from tipipeline import registry
from tipipeline.errors import InputError
from tipipeline.files import AUDIT_SUFFIXES
from tipipeline.framework import Framework
from tipipeline.ingest.exports import read_export
from tipipeline.reference import AliasResolver
from tipipeline.stats.agreement import cohen_kappa, percent_agreement

CONSENSUS = "consensus"
FIELDS = {
    "organisation": "Organisation",
    "document_title": "Document title",
    "document_type": "Document type",
    "year": "Year",
    "url": "URL",
    "coder": "Coder",
}
REQUIRED = ("organisation", "document_title", "coder")
SCORES = (0, 1, 2)
CODING_COLUMNS = registry.table("audit_codings").names
QUARANTINE_COLUMNS = registry.table("audit_quarantine").names
QUALITY_COLUMNS = registry.table("audit_data_quality").names


def _key(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "", str(text).casefold())


@dataclass
class AuditFile:
    """One audit file's accepted codings, quarantine and accounting."""

    path: Path
    sha256: str
    file_format: str
    rows_read: int
    codings: pd.DataFrame  # one row per accepted document x coder, principle scores as columns
    quarantine: pd.DataFrame
    excluded_blank: int

    def quality_row(self) -> dict:
        quarantined = int(self.quarantine["source_row"].nunique()) if len(self.quarantine) else 0
        excluded = {"blank_row": self.excluded_blank} if self.excluded_blank else {}
        return {
            "source_file": self.path.name,
            "sha256": self.sha256,
            "file_format": self.file_format,
            "rows_read": self.rows_read,
            "rows_accepted": len(self.codings),
            "rows_quarantined": quarantined,
            "rows_excluded": self.excluded_blank,
            "excluded_by_rule": json.dumps(excluded),
        }


def _map_headers(path: Path, columns: list[str], framework: Framework) -> tuple[dict[str, str], dict[str, str]]:
    """(field -> column, principle id -> column); InputError naming a missing column."""
    by_key = {}
    for column in columns:
        by_key.setdefault(_key(column), column)
    fields = {}
    for field, label in FIELDS.items():
        column = by_key.get(_key(label)) or by_key.get(_key(field))
        if column is None and field in REQUIRED:
            close = difflib.get_close_matches(label, columns, n=2, cutoff=0.6)
            hint = f"; close matches: {', '.join(repr(c) for c in close)}" if close else ""
            raise InputError(path, f"no {label!r} column in the audit{hint}", row=1)
        if column is not None:
            fields[field] = column
    principles = {}
    for principle in framework.principles:
        column = by_key.get(_key(principle.name)) or by_key.get(_key(principle.id))
        if column is None:
            raise InputError(path, f"no score column for the principle {principle.name!r} in the audit", row=1)
        principles[principle.id] = column
    return fields, principles


def _score(value: str) -> int | None:
    text = str(value).strip()
    try:
        number = float(text)
    except ValueError:
        return None
    return int(number) if number in SCORES else None


def read_audit_file(path: str | Path, framework: Framework, resolver: AliasResolver) -> AuditFile:
    """Read and validate one audit file (CSV or XLSX)."""
    path = Path(path)
    raw = read_export(path)
    fields, principles = _map_headers(path, raw.columns, framework)
    data = raw.data.astype(object)
    quarantine: list[dict] = [
        {"source_row": row, "column": None, "value": "", "reason": f"malformed row: {reason}"}
        for row, reason in raw.malformed.items()
    ]
    accepted = []
    first_row_for: dict[tuple, int] = {}
    for position, row_number in enumerate(raw.row_numbers):
        row = data.iloc[position]
        problems = []

        def text(field: str, row=row) -> str:
            return str(row[fields[field]]).strip() if field in fields else ""

        org_text = text("organisation")
        org_id = resolver.resolve("organisation", org_text)
        if org_id is None:
            hint = resolver.suggest("organisation", org_text) if org_text else []
            reason = (
                "organisation missing"
                if not org_text
                else (
                    f"organisation {org_text[:80]!r} does not resolve through the alias table"
                    + (f" (did you mean {hint[0]!r}?)" if hint else "")
                )
            )
            problems.append((fields["organisation"], org_text, reason))
        title = text("document_title")
        if not title:
            problems.append((fields["document_title"], "", "document title missing"))
        coder = text("coder")
        if not coder:
            problems.append((fields["coder"], "", "coder missing"))
        year_text = text("year")
        year = None
        if year_text:
            try:
                year = int(float(year_text))
            except ValueError:
                year = None
            if year is None or not 1990 <= year <= 2100:
                problems.append((fields["year"], year_text, "year is not a year between 1990 and 2100"))
        scores = {}
        for principle, column in principles.items():
            value = str(row[column]).strip()
            scores[principle] = _score(value)
            if scores[principle] is None:
                reason = "score missing" if value == "" else "score is not 0, 1 or 2"
                problems.append((column, value, f"{principle}: {reason}"))
        if not problems:
            document_key = (org_id, _key(title), year)
            coder_key = (*document_key, coder.casefold())
            if coder_key in first_row_for:
                problems.append(
                    (
                        fields["coder"],
                        coder,
                        f"repeated row for the same document and coder (first at row {first_row_for[coder_key]})",
                    )
                )
            else:
                first_row_for[coder_key] = row_number
        if problems:
            quarantine += [
                {"source_row": row_number, "column": c, "value": str(v)[:200], "reason": r} for c, v, r in problems
            ]
            continue
        accepted.append(
            {
                "source_file": path.name,
                "source_row": row_number,
                "org_id": org_id,
                "document_id": _document_id(org_id, title, year),
                "document_title": title,
                "document_type": text("document_type") or None,
                "year": year,
                "url": text("url") or None,
                "coder": CONSENSUS if coder.casefold() == CONSENSUS else coder,
                **{f"score_{p}": s for p, s in scores.items()},
            }
        )
    codings = pd.DataFrame(accepted, columns=[*CODING_COLUMNS, *[f"score_{p}" for p in principles]])
    codings["year"] = codings["year"].astype("Int64")
    quarantine_frame = pd.DataFrame(quarantine, columns=QUARANTINE_COLUMNS[1:])
    quarantine_frame.insert(0, "source_file", path.name)
    quarantine_frame = quarantine_frame.astype({"source_row": "int64"})
    return AuditFile(
        path=path,
        sha256=raw.sha256,
        file_format=raw.format,
        rows_read=raw.rows_read,
        codings=codings,
        quarantine=quarantine_frame.sort_values("source_row", kind="stable").reset_index(drop=True),
        excluded_blank=len(raw.blank_rows),
    )


def _document_id(org_id: str, title: str, year: int | None) -> str:
    # Not personal data: a stable id for a document (organisation, title and year), for joins.
    return hashlib.sha256(f"{org_id}|{_key(title)}|{year}".encode()).hexdigest()[:16]


@dataclass
class AuditResult:
    """All audit files combined, reconciled and summarised."""

    codings: pd.DataFrame
    quarantine: pd.DataFrame
    data_quality: pd.DataFrame
    documents: pd.DataFrame
    document_scores: pd.DataFrame
    unresolved: pd.DataFrame
    agreement: pd.DataFrame
    organisations: pd.DataFrame
    principles: pd.DataFrame


PRINCIPLE_COLUMNS = registry.table("policy_principles").names
STATUS = {0: "not addressed", 1: "addressed", 2: "addressed strongly"}


def principle_coverage(documents: pd.DataFrame, scores: pd.DataFrame, framework: Framework) -> pd.DataFrame:
    """Per audited organisation and framework principle: the best settled score any of its
    documents gives it (0 not addressed, 1 addressed, 2 addressed strongly; empty when no document's
    score is settled), and how many documents have a settled score, an unsettled one (coders
    disagreed, no consensus), address it (1 or 2) or address it strongly (2)."""
    merged = scores.merge(documents[["document_id", "org_id"]], on="document_id")
    rows = []
    for org_id in sorted(documents["org_id"].unique()):
        mine = merged[merged["org_id"] == org_id]
        for principle in framework.principles:
            values = mine.loc[mine["principle"] == principle.id, "score"]
            settled = values.dropna().astype(int)
            best = int(settled.max()) if len(settled) else None
            rows.append(
                {
                    "org_id": org_id,
                    "principle": principle.id,
                    "principle_name": principle.name,
                    "best_score": best,
                    "status": STATUS[best] if best is not None else "not settled",
                    "documents_scored": len(settled),
                    "documents_unsettled": int(values.isna().sum()),
                    "documents_addressing": int((settled >= 1).sum()),
                    "documents_strong": int((settled == 2).sum()),
                }
            )
    frame = pd.DataFrame(rows, columns=PRINCIPLE_COLUMNS)
    frame["best_score"] = frame["best_score"].astype("Int64")
    return frame


def reconcile(codings: pd.DataFrame, principles: list[str]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Final score per document x principle, and the unresolved disagreements."""
    rows, unresolved = [], []
    for document_id, group in codings.groupby("document_id", sort=True):
        coders = group[group["coder"] != CONSENSUS]
        consensus = group[group["coder"] == CONSENSUS]
        for principle in principles:
            column = f"score_{principle}"
            given = coders[column].tolist()
            if len(consensus):
                score, resolution = int(consensus[column].iloc[0]), "consensus"
            elif len(set(given)) == 1:
                score, resolution = int(given[0]), ("single_coder" if len(given) == 1 else "coders_agree")
            else:
                score, resolution = None, "unresolved"
                unresolved.append(
                    {
                        "document_id": document_id,
                        "org_id": group["org_id"].iloc[0],
                        "document_title": group["document_title"].iloc[0],
                        "principle": principle,
                        "scores_given": json.dumps(dict(zip(coders["coder"], map(int, given)))),
                    }
                )
            rows.append({"document_id": document_id, "principle": principle, "score": score, "resolution": resolution})
    scores = pd.DataFrame(rows, columns=registry.table("policy_document_scores").names).astype({"score": "Int64"})
    unresolved_frame = pd.DataFrame(unresolved, columns=registry.table("policy_unresolved").names)
    return scores, unresolved_frame


def coder_agreement(codings: pd.DataFrame, principles: list[str]) -> pd.DataFrame:
    """Per principle and overall: documents double-coded, % agreement, kappa and linear-weighted kappa.

    A document is double-coded when two or more coders (not `consensus`) scored it; the first two
    coders in file order are compared. 'overall' pools every principle's pairs.
    """
    pairs = []
    for _, group in codings[codings["coder"] != CONSENSUS].groupby("document_id", sort=True):
        if group["coder"].nunique() >= 2:
            ordered = group.sort_values(["source_file", "source_row"])
            first = ordered.iloc[0]
            second = ordered[ordered["coder"] != first["coder"]].iloc[0]
            pairs.append((first, second))
    rows = []
    pooled1, pooled2 = [], []
    for principle in principles:
        column = f"score_{principle}"
        r1 = [int(a[column]) for a, _ in pairs]
        r2 = [int(b[column]) for _, b in pairs]
        pooled1 += r1
        pooled2 += r2
        rows.append(_agreement_row(principle, len(pairs), r1, r2))
    rows.append(_agreement_row("overall", len(pairs), pooled1, pooled2))
    return pd.DataFrame(rows)


def _agreement_row(principle: str, documents: int, r1: list[int], r2: list[int]) -> dict:
    return {
        "principle": principle,
        "double_coded_documents": documents,
        "ratings_compared": len(r1),
        "percent_agreement": percent_agreement(r1, r2),
        "kappa": cohen_kappa(r1, r2, labels=SCORES),
        "weighted_kappa_linear": cohen_kappa(r1, r2, labels=SCORES, weights="linear"),
    }


def _coverage(scores: pd.Series) -> tuple[Fraction | None, Fraction | None, int]:
    """(comprehensiveness %, strength %, principles scored) over the settled scores, as exact
    fractions (None with nothing settled), so that a threshold such as 50% is compared exactly."""
    settled = scores.dropna()
    if settled.empty:
        return None, None, 0
    return (
        Fraction(100 * int((settled >= 1).sum()), len(settled)),
        Fraction(100 * int((settled == 2).sum()), len(settled)),
        int(len(settled)),
    )


def _rounded(value: Fraction | None) -> float:
    """The nearest float to an exact percentage (NaN for none)."""
    return float(value) if value is not None else float("nan")


def summarise(codings: pd.DataFrame, framework: Framework) -> AuditResult:
    """Reconcile, score documents and organisations, and measure coder agreement."""
    principles = [p.id for p in framework.principles]
    scores, unresolved = reconcile(codings, principles)
    threshold = framework.policy_audit.promising_practice_min_strength
    documents, exact = [], {}
    for document_id, group in codings.groupby("document_id", sort=True):
        first = group.iloc[0]
        final = scores[scores["document_id"] == document_id]
        comprehensiveness, strength, scored = _coverage(final["score"].astype("float"))
        coders = group.loc[group["coder"] != CONSENSUS, "coder"].nunique()
        documents.append(
            {
                "document_id": document_id,
                "org_id": first["org_id"],
                "document_title": first["document_title"],
                "document_type": first["document_type"],
                "year": first["year"],
                "url": first["url"],
                "coders": int(coders),
                "has_consensus": bool((group["coder"] == CONSENSUS).any()),
                "principles_scored": scored,
                "principles_unresolved": int((final["resolution"] == "unresolved").sum()),
                "comprehensiveness": _rounded(comprehensiveness),
                "strength": _rounded(strength),
                "promising_practice_candidate": bool(strength >= Fraction(repr(float(threshold)))) if scored else False,
            }
        )
        exact[document_id] = (comprehensiveness, strength)
    documents = pd.DataFrame(
        documents,
        columns=registry.table("policy_documents").names,
    )
    documents["year"] = documents["year"].astype("Int64")
    organisations = _organisation_scores(documents, scores, principles, exact)
    return AuditResult(
        codings=codings,
        quarantine=pd.DataFrame(),
        data_quality=pd.DataFrame(),
        documents=documents,
        document_scores=scores,
        unresolved=unresolved,
        agreement=coder_agreement(codings, principles),
        organisations=organisations,
        principles=principle_coverage(documents, scores, framework),
    )


def _organisation_scores(
    documents: pd.DataFrame,
    scores: pd.DataFrame,
    principles: list[str],
    exact: dict[str, tuple[Fraction | None, Fraction | None]],
) -> pd.DataFrame:
    """Per organisation: its best settled score per principle across documents, then coverage; and
    the mean of its documents' coverage (exact document values, rounded once)."""
    merged = scores.merge(documents[["document_id", "org_id"]], on="document_id")
    best = merged.dropna(subset=["score"]).groupby(["org_id", "principle"])["score"].max().unstack()
    rows = []
    for org_id, group in documents.groupby("org_id", sort=True):
        best_scores = (
            best.loc[org_id].reindex(principles).astype("float") if org_id in best.index else pd.Series(dtype=float)
        )
        comprehensiveness, strength, scored = _coverage(best_scores)
        per_document = [exact[d] for d in group["document_id"] if exact[d][0] is not None]
        rows.append(
            {
                "org_id": org_id,
                "documents": len(group),
                "principles_scored": scored,
                "comprehensiveness": _rounded(comprehensiveness),
                "strength": _rounded(strength),
                "mean_document_comprehensiveness": _rounded(_mean(c for c, _ in per_document)),
                "mean_document_strength": _rounded(_mean(s for _, s in per_document)),
                "promising_practice_candidates": int(group["promising_practice_candidate"].sum()),
            }
        )
    return pd.DataFrame(
        rows,
        columns=registry.table("policy_organisations").names,
    )


def _mean(values) -> Fraction | None:
    values = list(values)
    return sum(values, Fraction(0)) / len(values) if values else None


def read_audits(paths: list[Path], framework: Framework, resolver: AliasResolver) -> AuditResult:
    """Read every audit file, then reconcile and summarise them together."""
    files = [read_audit_file(p, framework, resolver) for p in paths]
    principles = [p.id for p in framework.principles]
    codings = (
        pd.concat([f.codings for f in files], ignore_index=True)
        if files
        else pd.DataFrame(columns=[*CODING_COLUMNS, *[f"score_{p}" for p in principles]])
    )
    result = summarise(codings, framework)
    result.quarantine = (
        pd.concat([f.quarantine for f in files], ignore_index=True)
        if files
        else pd.DataFrame(columns=QUARANTINE_COLUMNS).astype({"source_row": "int64"})
    )
    result.data_quality = pd.DataFrame([f.quality_row() for f in files], columns=QUALITY_COLUMNS)
    return result


def audit_files(directory: str | Path) -> list[Path]:
    """The audit files (.csv, .xlsx) in the policy-audit folder (none is allowed: no audit yet)."""
    directory = Path(directory)
    if not directory.is_dir():
        return []
    return sorted(
        p
        for p in directory.iterdir()
        if p.is_file() and p.suffix.lower() in AUDIT_SUFFIXES and not p.name.startswith(("~$", "."))
    )
