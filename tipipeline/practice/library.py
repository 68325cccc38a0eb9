"""Which submissions the library shows, and the published `practice_library` table.

An entry is shown only when all of these hold: its latest review decision (by date, then by row in
the reviews file) is `published`; none of its review rows is in quarantine (a withdrawal with a
mistyped date must not leave the publication before it standing); the organisation consented to
publication; the personal-data screen found nothing a reviewer has not cleared, in the entry or in
the reviewer's evidence reason. Everything else stays in the working warehouse
with the reason it is not shown (`practice_entry_status`).
"""

from __future__ import annotations

import json

import pandas as pd

from tipipeline import registry
from tipipeline.framework import Framework
from tipipeline.practice.config import LibraryConfig

STATUS_COLUMNS = registry.table("practice_entry_status").names
LIBRARY_COLUMNS = registry.table("practice_library").names
SUMMARY_COLUMNS = registry.table("practice_status_summary").names


def latest_decisions(reviews: pd.DataFrame) -> pd.DataFrame:
    """Each submission's latest decision: the latest date, then the later row of the reviews file."""
    ordered = reviews.sort_values(["submission_id", "reviewed_on", "source_row"], kind="stable")
    return ordered.groupby("submission_id", sort=True).tail(1).set_index("submission_id")


def entry_status(submissions: pd.DataFrame, reviews: pd.DataFrame, config: LibraryConfig) -> pd.DataFrame:
    """Per submission: its state, consent, screen findings, whether it is shown and why not."""
    latest = latest_decisions(reviews)
    rows = []
    for sub in submissions.itertuples(index=False):
        decision = latest.loc[sub.submission_id] if sub.submission_id in latest.index else None
        state = decision["state"] if decision is not None else "submitted"
        reasons = []
        if state != config.published_state:
            reasons.append(f"state is {state.replace('_', ' ')}")
        if not sub.consent:
            reasons.append("no consent to publish")
        findings = ", ".join(
            f for f in (sub.pii_findings, decision["pii_findings"] if decision is not None else "") if f
        )
        if findings:
            reasons.append(f"held for review: possible personal data ({findings})")
        if sub.review_quarantined:
            reasons.append("a review decision is in quarantine (see practice_quarantine)")
        rows.append(
            {
                "submission_id": sub.submission_id,
                "state": state,
                "reviewed_on": decision["reviewed_on"] if decision is not None else pd.NaT,
                "consent": bool(sub.consent),
                "pii_findings": findings,
                "shown": not reasons,
                "reason": "; ".join(reasons) if reasons else "shown",
            }
        )
    frame = pd.DataFrame(rows, columns=STATUS_COLUMNS)
    frame["reviewed_on"] = pd.to_datetime(frame["reviewed_on"])
    return frame


def _names(ids_json: str, names: dict[str, str]) -> str:
    return "; ".join(names[i] for i in json.loads(ids_json))


def library_table(
    submissions: pd.DataFrame, reviews: pd.DataFrame, config: LibraryConfig, framework: Framework
) -> pd.DataFrame:
    """The published library: shown entries only, with their evidence level and its reason."""
    status = entry_status(submissions, reviews, config).set_index("submission_id")
    latest = latest_decisions(reviews)
    shown = submissions[submissions["submission_id"].map(status["shown"]).fillna(False).astype(bool)]
    principle_names = {p.id: p.name for p in framework.principles}
    domain_names = {d.id: d.name for d in framework.domains}
    rows = []
    for sub in shown.itertuples(index=False):
        decision = latest.loc[sub.submission_id]
        rows.append(
            {
                "entry_id": sub.submission_id,
                "title": sub.title,
                "org_id": sub.org_id,
                "organisation": sub.organisation,
                "sector": sub.sector,
                "bcu_code": sub.bcu_code,
                "area": sub.area,
                "borough_codes": sub.borough_codes,
                "service_area": sub.service_area,
                "principles": sub.principles,
                "principle_names": _names(sub.principles, principle_names),
                "domains": sub.domains,
                "domain_names": _names(sub.domains, domain_names),
                "what_it_does": sub.what_it_does,
                "who_it_is_for": sub.who_it_is_for,
                "evidence_of_effect": sub.evidence_of_effect,
                "evidence_level": decision["evidence_level"],
                "evidence_level_name": config.level_names[decision["evidence_level"]],
                "evidence_reason": decision["evidence_reason"],
                "contact_role": sub.contact_role,
                "submitted_on": pd.Timestamp(sub.submitted_at).normalize() if pd.notna(sub.submitted_at) else pd.NaT,
                "published_on": decision["reviewed_on"],
            }
        )
    frame = pd.DataFrame(rows, columns=LIBRARY_COLUMNS)
    frame["submitted_on"] = pd.to_datetime(frame["submitted_on"])
    frame["published_on"] = pd.to_datetime(frame["published_on"])
    return frame.sort_values(["organisation", "title", "entry_id"], kind="stable").reset_index(drop=True)


def status_summary(status: pd.DataFrame) -> pd.DataFrame:
    """Counts of entries by state, consent, screen and reason: what the library holds back, in
    numbers (no titles, so an entry that is not published is never named)."""
    frame = status.assign(held_for_pii_review=status["pii_findings"] != "")
    grouped = (
        frame.groupby(["state", "consent", "held_for_pii_review", "shown", "reason"], dropna=False)
        .size()
        .rename("entries")
        .reset_index()
    )
    return grouped[SUMMARY_COLUMNS].sort_values(SUMMARY_COLUMNS[:-1], kind="stable").reset_index(drop=True)
