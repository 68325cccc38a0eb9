"""Write small survey exports in each tool's format, for reader tests.

Each writer takes the same list of response dicts (keys below) and lays them out the way the
tool does. Values are written as given (choice text or numbers).
    id, status, progress, finished, recorded, email, ip, lat, lon, first, last,
    consent, org, borough, a_1, a_2
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

from openpyxl import Workbook

TEST_CODEBOOK = """\
version: 1
instrument: reader tests
synthetic: false
scales:
  agreement:
    values: {Strongly disagree: 1, Disagree: 2, Neither agree nor disagree: 3, Agree: 4, Strongly agree: 5}
    missing: ["Don't know", "Prefer not to say"]
  yes_no:
    values: {"Yes": 1, "No": 0}
fields:
  response_id: {column: ResponseId, text: Response ID}
  submitted: {column: RecordedDate, text: Recorded Date}
  duplicate_key: {column: RecipientEmail, identifying: true}
  consent: {column: Q1, scale: yes_no, text: "Do you consent to take part?"}
  organisation: {column: Q2, text: "Which organisation do you work for?"}
  borough: {column: Q3, text: "Which borough do you mainly work in?", required: false}
items:
  - {id: a_1, column: Q4_1, domain: policy, principle: safety, scale: agreement, text: Our policies take account of trauma.}
  - {id: a_2, column: Q4_2, domain: policy, principle: safety, scale: agreement, reverse: true, text: Some procedures risk re-traumatising people.}
exclusions:
  duplicates: {key: duplicate_key, order_by: submitted, keep: latest}
waves:
  forms: {match_by: text, columns: {response_id: ID, submitted: Completion time, duplicate_key: Email}}
  smart: {match_by: text, columns: {response_id: UserID, submitted: Ended, duplicate_key: Email}}
  legacy: {columns: {response_id: ResponseID, submitted: EndDate, duplicate_key: EmailAddress}}
  plain: {columns: {response_id: id, submitted: submitted, duplicate_key: email, consent: consent,
                    organisation: organisation, borough: borough, a_1: a_1, a_2: a_2}}
"""

QUESTIONS = [
    ("Q1", "consent", "Do you consent to take part?"),
    ("Q2", "org", "Which organisation do you work for?"),
    ("Q3", "borough", "Which borough do you mainly work in?"),
    ("Q4_1", "a_1", "Our policies take account of trauma."),
    ("Q4_2", "a_2", "Some procedures risk re-traumatising people."),
]


def response(i: int, **changes) -> dict:
    """A clean, complete, consenting response; `changes` override fields."""
    base = {
        "id": f"R_test{i:04d}",
        "status": "IP Address",
        "progress": "100",
        "finished": "True",
        "recorded": f"2024-05-{1 + i % 28:02d} 10:{i % 60:02d}:00",
        "email": f"person{i}@example.org",
        "ip": f"203.0.113.{i % 250 + 1}",
        "lat": "51.501234",
        "lon": "-0.141234",
        "first": "Ada",
        "last": f"Tester{i}",
        "consent": "Yes",
        "org": "London Borough of Hackney",
        "borough": "Hackney",
        "a_1": "Agree",
        "a_2": "Disagree",
    }
    base.update(changes)
    return base


def _csv_text(rows: list[list[str]], newline: str) -> str:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator=newline).writerows(rows)
    return buffer.getvalue()


def _write(path: Path, text: str, encoding: str, bom: bool) -> Path:
    data = text.encode(encoding)
    path.write_bytes((b"\xef\xbb\xbf" if bom else b"") + data)
    return path


META = [
    ("StartDate", "Start Date", "startDate", "recorded"),
    ("EndDate", "End Date", "endDate", "recorded"),
    ("Status", "Response Type", "status", "status"),
    ("IPAddress", "IP Address", "ipAddress", "ip"),
    ("Progress", "Progress", "progress", "progress"),
    ("Finished", "Finished", "finished", "finished"),
    ("RecordedDate", "Recorded Date", "recordedDate", "recorded"),
    ("ResponseId", "Response ID", "_recordId", "id"),
    ("RecipientLastName", "Recipient Last Name", "recipientLastName", "last"),
    ("RecipientFirstName", "Recipient First Name", "recipientFirstName", "first"),
    ("RecipientEmail", "Recipient Email", "recipientEmail", "email"),
    ("ExternalReference", "External Data Reference", "externalDataReference", "id"),
    ("LocationLatitude", "Location Latitude", "locationLatitude", "lat"),
    ("LocationLongitude", "Location Longitude", "locationLongitude", "lon"),
]


def qualtrics(
    path: Path,
    rows: list[dict],
    *,
    style: str = "json",
    encoding: str = "utf-8",
    bom: bool = True,
    newline: str = "\r\n",
) -> Path:
    """Qualtrics modern (style='json') or 2017 Insights (style='python') CSV: 3 header rows."""
    tags = [m[0] for m in META] + [q[0] for q in QUESTIONS]
    texts = [m[1] for m in META] + [q[2] for q in QUESTIONS]
    ids = [m[2] for m in META] + [f"QID{q[0][1:]}" for q in QUESTIONS]
    if style == "json":
        imports = [json.dumps({"ImportId": i}) for i in ids]
    else:
        imports = [repr({"ImportId": i}) for i in ids]
    body = [[r[m[3]] for m in META] + [r[q[1]] for q in QUESTIONS] for r in rows]
    return _write(path, _csv_text([tags, texts, imports, *body], newline), encoding, bom)


LEGACY_META = [
    ("ResponseID", "id"),
    ("ResponseSet", None),
    ("Name", "last"),
    ("ExternalDataReference", "id"),
    ("EmailAddress", "email"),
    ("IPAddress", "ip"),
    ("Status", "status"),
    ("StartDate", "recorded"),
    ("EndDate", "recorded"),
    ("Finished", "finished"),
]


def qualtrics_legacy(path: Path, rows: list[dict]) -> Path:
    """Legacy Qualtrics CSV: V1..V10 then Q tags; real names in row 2; UTF-8 BOM; trailing commas."""
    tags = [f"V{i}" for i in range(1, 11)] + [q[0] for q in QUESTIONS] + [""]
    names = [m[0] for m in LEGACY_META] + [q[2] for q in QUESTIONS] + [""]
    body = [
        [("Default Response Set" if key is None else r[key]) for _, key in LEGACY_META]
        + [r[q[1]] for q in QUESTIONS]
        + [""]
        for r in rows
    ]
    return _write(path, _csv_text([tags, names, *body], "\r\n"), "utf-8", True)


def _xlsx(path: Path, header: list[str], body: list[list]) -> Path:
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(header)
    for row in body:
        sheet.append(row)
    workbook.save(path)
    return path


def forms_xlsx(path: Path, rows: list[dict]) -> Path:
    header = ["ID", "Start time", "Completion time", "Email", "Name", "Last modified time"] + [q[2] for q in QUESTIONS]
    body = [
        [i + 1, r["recorded"], r["recorded"], r["email"], f"{r['first']} {r['last']}", None]
        + [r[q[1]] for q in QUESTIONS]
        for i, r in enumerate(rows)
    ]
    return _xlsx(path, header, body)


def smartsurvey_xlsx(path: Path, rows: list[dict]) -> Path:
    header = ["UserID", "UserNo", "Name", "Email", "IP Address", "Unique ID", "Started", "Ended"] + [
        q[2] for q in QUESTIONS
    ]
    body = [
        [r["id"], i + 1, r["last"], r["email"], r["ip"], "", r["recorded"], r["recorded"]]
        + [r[q[1]] for q in QUESTIONS]
        for i, r in enumerate(rows)
    ]
    return _xlsx(path, header, body)


def plain_csv(path: Path, rows: list[dict], *, encoding: str = "cp1252", newline: str = "\n") -> Path:
    header = ["id", "submitted", "email", "consent", "organisation", "borough", "a_1", "a_2"]
    body = [
        [r["id"], r["recorded"], r["email"], r["consent"], r["org"], r["borough"], r["a_1"], r["a_2"]] for r in rows
    ]
    return _write(path, _csv_text([header, *body], newline), encoding, False)
