"""SYNTHETIC workforce figures for the bundled sample (issue 30), in the documented template.

`tipipeline sample` writes `<raw>/workforce/workforce_2024.csv`: one row per partner x staff group
(reference/staff_groups.yaml), a headcount and an FTE, as at 31 March 2024, for every one of the
39 partners. Every figure is invented by a seeded generator. Three rows are planted mistakes, each
listed in the sample README with its fate: an organisation no spelling resolves (quarantined), a
staff group the sector does not have (quarantined), and one council's figures as at a date years
before the survey (accepted; the stale date is for the response rates to flag).
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

import numpy as np

from tipipeline.ingest.workforce import staff_groups
from tipipeline.reference import load_reference

WORKFORCE_STREAM = 30  # its own random stream: the other sample files do not depend on it
FILE = "workforce/workforce_2024.csv"
AS_AT = "2024-03-31"
STALE_AS_AT = "2019-03-31"
SOURCE = "SYNTHETIC: invented by tipipeline sample"
# Each sector's headcount (around this many staff) and how it splits over its groups, in order.
SIZES = {"council": 5_000, "health": 800, "police": 46_000}
SHARES = {
    "council": [0.52, 0.16, 0.12, 0.20],
    "health": [0.30, 0.15, 0.25, 0.30],
    "police": [0.72, 0.22, 0.015, 0.03, 0.015],
}
UNKNOWN_ORGANISATION = "London Borough of Atlantis"


def write_workforce_sample(out: Path, seed: int) -> dict:
    """Write the workforce template and return what the README says of it."""
    rng = np.random.default_rng([seed, WORKFORCE_STREAM])
    reference = load_reference()
    groups = staff_groups()
    organisations = reference.organisations.sort_values("org_id").reset_index(drop=True)
    stale_org = organisations[organisations["sector"] == "council"].iloc[-1]
    rows, dirty = [], []
    for org in organisations.itertuples():
        total = SIZES[org.sector] * float(np.exp(rng.normal(0.0, 0.3)))
        as_at = STALE_AS_AT if org.org_id == stale_org.org_id else AS_AT
        for group, share in zip(groups[org.sector], SHARES[org.sector], strict=True):
            headcount = max(1, round(total * share))
            fte = round(headcount * float(rng.uniform(0.82, 0.95)), 1)
            rows.append([org.name, group.id, headcount, fte, as_at, SOURCE])
    header = ["organisation", "staff_group", "headcount", "fte", "as_at", "source"]
    first = rows[0]
    rows.insert(5, [UNKNOWN_ORGANISATION, "frontline", 1200, 1100.0, AS_AT, SOURCE])
    rows.insert(9, [first[0], "police_officers", 10, 10.0, AS_AT, SOURCE])
    dirty += [
        {
            "wave": None,
            "file": FILE,
            "row": 7,  # the header is row 1; the planted row is the sixth data row
            "kind": "unknown_organisation",
            "column": "organisation",
            "detail": f"'{UNKNOWN_ORGANISATION}' is no London partner",
            "expected": "quarantined",
        },
        {
            "wave": None,
            "file": FILE,
            "row": 11,
            "kind": "unknown_staff_group",
            "column": "staff_group",
            "detail": f"'police_officers' is not a staff group of a council ({first[0]})",
            "expected": "quarantined",
        },
    ]
    stale_rows = [i + 2 for i, row in enumerate(rows) if row[0] == stale_org["name"]]
    dirty.append(
        {
            "wave": None,
            "file": FILE,
            "row": stale_rows[0],
            "kind": "stale_as_at",
            "column": "as_at",
            "detail": f"{stale_org['name']}'s figures are as at {STALE_AS_AT}, years before the survey "
            f"(rows {stale_rows[0]}-{stale_rows[-1]})",
            "expected": "accepted (flagged when response rates are computed)",
        }
    )
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    path = out / FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(buffer.getvalue(), encoding="utf-8")
    return {"file": FILE, "rows": len(rows), "organisations": len(organisations), "as_at": AS_AT, "dirty_rows": dirty}


def readme_lines(summary: dict) -> list[str]:
    """The workforce file's row in the sample README's file table."""
    return [
        f"| `{summary['file']}` | workforce template: headcount and FTE per partner x staff group "
        f"({summary['organisations']} partners, as at {summary['as_at']}) | {summary['rows']} |"
    ]
