"""The public result type of reading one export (tipipeline.ingest.report): `tipipeline check`
reports it without reaching into the ingest's private ledger."""

import ast

from conftest import REPO

import tipipeline.check
from tipipeline.check import check_survey_export
from tipipeline.ingest.codebook import load_codebook
from tipipeline.ingest.report import FileReport, Problem
from tipipeline.ingest.surveys import inspect_format

SAMPLE = REPO / "data" / "raw" / "surveys"


def test_check_imports_no_private_name_from_the_ingest():
    tree = ast.parse((REPO / "tipipeline" / "check.py").read_text(encoding="utf-8"))
    imported = [a.name for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) for a in n.names]
    assert not [name for name in imported if name.startswith("_")], imported
    assert tipipeline.check.check_survey_export is check_survey_export


def test_format_report_accounts_for_every_row():
    export = next((SAMPLE / "2024-w1").glob("*.csv"))
    report = inspect_format(export)
    assert isinstance(report, FileReport) and report.rows_read > 0
    assert report.rows_read == report.rows_accepted + report.rows_quarantined + sum(report.rows_excluded.values())


def test_check_output_is_the_reports_fields_with_codebook_or_without():
    export = next((SAMPLE / "2024-w1").glob("*.csv"))
    codebook = load_codebook(SAMPLE / "codebook.yaml")
    for checked in (check_survey_export(export), check_survey_export(export, codebook, "2024-w1")):
        fields = set(FileReport(export, None, None, None, None, 0, 0, 0, {}, []).to_dict())
        assert fields <= set(checked) and checked["usable"]
        assert checked["rows_read"] == (
            checked["rows_accepted"] + checked["rows_quarantined"] + sum(checked["rows_excluded"].values())
        )


def test_problems_come_out_sorted_by_row_and_capped():
    report = FileReport(REPO, "csv", "CSV", "utf-8", 1, 3, 1, 2, {}, [], [Problem(9, "q1", "b"), Problem(3, None, "a")])
    assert [p["row"] for p in report.to_dict()["problems"]] == [3, 9]
    assert len(report.to_dict(max_problems=1)["problems"]) == 1
