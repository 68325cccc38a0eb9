"""Write a large synthetic Qualtrics-modern export and a matching codebook, for benchmarks.

    python bench/make_export.py OUT_DIR --respondents 200000 --items 60 [--waves 1] [--seed 1]

Choice-text answers on a 1-5 agreement scale, 11 domains, the usual Qualtrics metadata columns
(including identifying ones, which ingestion must drop). Vectorised: 200,000 x 60 takes seconds.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

DOMAINS = [
    "governance_leadership",
    "policy",
    "environment",
    "engagement_lived_experience",
    "cross_sector_collaboration",
    "screening_assessment",
    "training_workforce",
    "staff_wellbeing",
    "monitoring_quality",
    "funding_commissioning",
    "evaluation",
]
PRINCIPLES = ["safety", "trustworthiness", "choice", "collaboration", "empowerment", "cultural_consideration"]
LABELS = np.array(["Strongly disagree", "Disagree", "Neither agree nor disagree", "Agree", "Strongly agree"])


def codebook(items: int) -> dict:
    return {
        "version": 1,
        "instrument": f"benchmark instrument, {items} items (synthetic)",
        "synthetic": True,
        "scales": {
            "agreement": {
                "values": {str(label): i + 1 for i, label in enumerate(LABELS)},
                "missing": ["Don't know", "Prefer not to say"],
            },
            "yes_no": {"values": {"Yes": 1, "No": 0}},
        },
        "fields": {
            "response_id": {"column": "ResponseId"},
            "submitted": {"column": "RecordedDate"},
            "duplicate_key": {"column": "RecipientEmail", "identifying": True},
            "consent": {"column": "Q1", "scale": "yes_no"},
            "organisation": {"column": "Q2"},
            "borough": {"column": "Q3"},
            "role": {"column": "Q5"},
            "ti_training_12m": {"column": "Q7", "scale": "yes_no"},
        },
        "items": [
            {
                "id": f"i{k:03d}",
                "column": f"Q10_{k}",
                "domain": DOMAINS[k % len(DOMAINS)],
                "principle": PRINCIPLES[k % len(PRINCIPLES)],
                "scale": "agreement",
                "reverse": k % 7 == 0,
            }
            for k in range(1, items + 1)
        ],
        "exclusions": {"duplicates": {"key": "duplicate_key", "order_by": "submitted", "keep": "latest"}},
    }


def write_export(path: Path, respondents: int, items: int, seed: int) -> None:
    """The export, written a block of rows at a time: a 100,000 x 1,500 export as Python strings
    would take about 9 GB, its answers as one byte each take 150 MB. The same bytes whatever the
    block size (the random draws are made in the same order)."""
    from tipipeline.reference import load_reference

    rng = np.random.default_rng(seed)
    councils = load_reference().organisations.query("sector == 'council'")
    org_index = rng.integers(0, len(councils), respondents)
    n = respondents
    level = rng.normal(3.0, 0.6, n)
    frame = {
        "StartDate": "2024-03-04 09:00:00",
        "EndDate": "2024-03-04 09:20:00",
        "Status": np.where(rng.random(n) < 0.002, "Survey Preview", "IP Address"),
        "IPAddress": "203.0.113.7",
        "Progress": "100",
        "Duration (in seconds)": "1200",
        "Finished": "True",
        "RecordedDate": "2024-03-04 09:20:00",
        "ResponseId": np.array([f"R_{i:015d}" for i in range(n)], dtype=object),
        "RecipientLastName": "Tester",
        "RecipientFirstName": "Bench",
        "RecipientEmail": np.array([f"p{i}@example.org" for i in range(n)], dtype=object),
        "ExternalReference": "",
        "LocationLatitude": "51.5",
        "LocationLongitude": "-0.12",
        "DistributionChannel": "email",
        "UserLanguage": "EN-GB",
        "Q1": "Yes",
        "Q2": councils["name"].to_numpy()[org_index],
        "Q3": councils["short_name"].to_numpy()[org_index],
        "Q5": "Frontline practitioner",
        "Q7": np.where(rng.random(n) < 0.5, "Yes", "No"),
    }
    answers = np.array([*LABELS, "Don't know"], dtype=object)
    codes = np.empty((items, n), dtype=np.uint8)  # an index into `answers` per cell
    for k in range(items):
        codes[k] = np.clip(np.rint(level + rng.normal(0, 0.7, n)), 1, 5).astype(int) - 1
        codes[k][rng.random(n) < 0.03] = len(LABELS)
    names = list(frame) + [f"Q10_{k}" for k in range(1, items + 1)]
    imports = [f'{{"ImportId":"{c}"}}' for c in names]
    options = {"index": False, "header": False, "lineterminator": "\r\n"}
    pd.DataFrame([names, names, imports], columns=names).to_csv(path, **options)
    block = max(1, 2_000_000 // len(names))
    for start in range(0, n, block):
        rows = slice(start, min(n, start + block))
        columns = {c: v[rows] if isinstance(v, np.ndarray) else v for c, v in frame.items()}
        columns.update({f"Q10_{k + 1}": answers[codes[k][rows]] for k in range(items)})
        pd.DataFrame(columns, columns=names).to_csv(path, mode="a", **options)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path)
    parser.add_argument("--respondents", type=int, default=200_000)
    parser.add_argument("--items", type=int, default=60)
    parser.add_argument("--waves", type=int, default=1)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    surveys = args.out / "raw" / "surveys"
    surveys.mkdir(parents=True, exist_ok=True)
    (surveys / "codebook.yaml").write_text(yaml.safe_dump(codebook(args.items), sort_keys=False))
    for w in range(1, args.waves + 1):
        folder = surveys / f"2024-w{w}"
        folder.mkdir(exist_ok=True)
        write_export(folder / "export.csv", args.respondents, args.items, args.seed + w)


if __name__ == "__main__":
    main()
