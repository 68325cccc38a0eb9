"""Policy audits: reading, reconciliation, coder agreement against oracles, scores."""

import json
from fractions import Fraction

import numpy as np
import pandas as pd
import pytest
from conftest import SAMPLE_RAW
from sklearn.metrics import cohen_kappa_score

from tipipeline.check import check_files
from tipipeline.errors import InputError
from tipipeline.framework import load_framework
from tipipeline.ingest.policy_audit import coder_agreement, read_audit_file, read_audits, summarise
from tipipeline.reference import AliasResolver, load_reference
from tipipeline.stats.agreement import cohen_kappa, percent_agreement

MANIFEST = json.loads((SAMPLE_RAW / "sample_manifest.json").read_text())
AUDIT = SAMPLE_RAW / "policy_audit" / "policy_audit_2024.xlsx"
PRINCIPLES = ["Safety", "Trustworthiness", "Choice", "Collaboration", "Empowerment", "Cultural consideration"]


def test_kappa_reference_value_from_design():
    assert cohen_kappa("YYNYNNYYNY", "YNNYNYYYNY") == pytest.approx(0.583333, abs=1e-6)
    assert percent_agreement("YYNYNNYYNY", "YNNYNYYYNY") == pytest.approx(80.0)


@pytest.mark.parametrize("seed", range(20))
@pytest.mark.parametrize("weights", [None, "linear", "quadratic"])
def test_kappa_equals_sklearn_on_random_ratings(seed, weights):
    rng = np.random.default_rng(seed)
    n = int(rng.integers(5, 200))
    r1 = rng.integers(0, 3, n)
    r2 = np.where(rng.random(n) < rng.random(), r1, rng.integers(0, 3, n))
    expected = cohen_kappa_score(r1, r2, labels=[0, 1, 2], weights=weights)
    assert cohen_kappa(r1, r2, labels=(0, 1, 2), weights=weights) == pytest.approx(expected, abs=1e-12)


def test_kappa_undefined_when_every_rating_is_the_same():
    assert np.isnan(cohen_kappa([1, 1, 1], [1, 1, 1]))


def _audit_csv(tmp_path, rows, header=None):
    header = header or ["Organisation", "Document title", "Document type", "Year", "URL", "Coder", *PRINCIPLES]
    frame = pd.DataFrame(rows, columns=header)
    path = tmp_path / "audit.csv"
    frame.to_csv(path, index=False)
    return path


def _row(org, title, coder, scores, year=2023):
    return [org, title, "Policy", year, "https://example.org/doc.pdf", coder, *scores]


@pytest.fixture(scope="module")
def framework():
    return load_framework()


def test_reconciliation_never_averages(tmp_path, framework):
    rows = [
        _row("LB Hackney", "Single", "Coder A", [2, 1, 0, 2, 1, 0]),
        _row("LB Hackney", "Agreed", "Coder A", [1, 1, 1, 1, 1, 1]),
        _row("LB Hackney", "Agreed", "Coder B", [1, 1, 1, 1, 1, 1]),
        _row("LB Hackney", "Settled", "Coder A", [2, 2, 2, 2, 2, 2]),
        _row("LB Hackney", "Settled", "Coder B", [0, 2, 2, 2, 2, 2]),
        _row("LB Hackney", "Settled", "consensus", [1, 2, 2, 2, 2, 2]),
        _row("LB Hackney", "Open", "Coder A", [2, 0, 0, 0, 0, 0]),
        _row("LB Hackney", "Open", "Coder C", [0, 0, 0, 0, 0, 0]),
    ]
    audit = read_audit_file(_audit_csv(tmp_path, rows), framework, AliasResolver())
    result = summarise(audit.codings, framework)
    docs = result.documents.set_index("document_title")
    scores = result.document_scores.merge(result.documents[["document_id", "document_title"]], on="document_id")
    safety = scores[scores["principle"] == "safety"].set_index("document_title")
    assert safety.loc["Single", ["score", "resolution"]].tolist() == [2, "single_coder"]
    assert safety.loc["Agreed", ["score", "resolution"]].tolist() == [1, "coders_agree"]
    assert safety.loc["Settled", ["score", "resolution"]].tolist() == [1, "consensus"]
    assert pd.isna(safety.loc["Open", "score"]) and safety.loc["Open", "resolution"] == "unresolved"
    assert result.unresolved["document_title"].tolist() == ["Open"]
    assert json.loads(result.unresolved["scores_given"].iloc[0]) == {"Coder A": 2, "Coder C": 0}
    # "Open": five settled zeros, safety left out: comprehensiveness 0 of 5, not of 6.
    assert docs.loc["Open", ["principles_scored", "comprehensiveness"]].tolist() == [5, 0.0]
    assert docs.loc["Single", "comprehensiveness"] == pytest.approx(100 * 4 / 6)
    assert docs.loc["Single", "strength"] == pytest.approx(100 * 2 / 6)
    assert docs.loc["Settled", "promising_practice_candidate"]  # strength 5/6 >= 50
    assert not docs.loc["Agreed", "promising_practice_candidate"]


def test_organisation_scores_use_the_best_settled_score_per_principle(tmp_path, framework):
    rows = [
        _row("Met Police", "A", "Coder A", [2, 0, 0, 0, 0, 0]),
        _row("Met Police", "B", "Coder A", [0, 1, 0, 0, 0, 2]),
    ]
    result = summarise(read_audit_file(_audit_csv(tmp_path, rows), framework, AliasResolver()).codings, framework)
    org = result.organisations.set_index("org_id").loc["E23000001"]
    assert org["comprehensiveness"] == pytest.approx(50.0)  # safety, trustworthiness, cultural
    assert org["strength"] == pytest.approx(100 * 2 / 6)
    assert org["documents"] == 2


def test_policy_percentages_are_exact(tmp_path, framework):
    """Rounded once from the exact fraction: 100 x 1/3 as a float of 1/3 would be 33.33333333333333,
    and the mean of documents at 1/3, 2/3 and 2/3 of 100 must be 5/9 of 100, not a float sum's."""
    rows = [
        _row("Met Police", "A", "Coder A", [2, 1, 0, 0, 0, 0]),
        _row("Met Police", "B", "Coder A", [2, 2, 1, 1, 0, 0]),
        _row("Met Police", "C", "Coder A", [1, 1, 1, 1, 0, 0]),
    ]
    result = summarise(read_audit_file(_audit_csv(tmp_path, rows), framework, AliasResolver()).codings, framework)
    docs = result.documents.set_index("document_title")
    assert docs["comprehensiveness"].tolist() == [
        float(Fraction(200, 6)),
        float(Fraction(400, 6)),
        float(Fraction(400, 6)),
    ]
    assert docs.loc["A", "comprehensiveness"] != 100.0 * (2 / 6)
    org = result.organisations.set_index("org_id").loc["E23000001"]
    assert org["mean_document_comprehensiveness"] == float(Fraction(500, 9))
    assert org["mean_document_strength"] == float((Fraction(100, 6) + Fraction(200, 6) + 0) / 3)


def test_agreement_pairs_the_first_two_coders(tmp_path, framework):
    rows = []
    rng = np.random.default_rng(3)
    first, second = [], []
    for d in range(30):
        a = rng.integers(0, 3, 6)
        b = np.where(rng.random(6) < 0.7, a, rng.integers(0, 3, 6))
        rows += [
            _row("LB Hackney", f"Doc {d}", "Coder A", a.tolist()),
            _row("LB Hackney", f"Doc {d}", "Coder B", b.tolist()),
        ]
        first.append(a)
        second.append(b)
    rows.append(_row("LB Hackney", "Lonely", "Coder A", [1] * 6))
    codings = read_audit_file(_audit_csv(tmp_path, rows), framework, AliasResolver()).codings
    table = coder_agreement(codings, [p.id for p in framework.principles]).set_index("principle")
    a, b = np.array(first), np.array(second)
    for i, principle in enumerate(p.id for p in framework.principles):
        assert table.loc[principle, "kappa"] == pytest.approx(cohen_kappa_score(a[:, i], b[:, i], labels=[0, 1, 2]))
        assert table.loc[principle, "weighted_kappa_linear"] == pytest.approx(
            cohen_kappa_score(a[:, i], b[:, i], labels=[0, 1, 2], weights="linear")
        )
        assert table.loc[principle, "percent_agreement"] == pytest.approx(100 * (a[:, i] == b[:, i]).mean())
    assert table.loc["overall", "double_coded_documents"] == 30
    assert table.loc["overall", "kappa"] == pytest.approx(cohen_kappa_score(a.ravel(), b.ravel(), labels=[0, 1, 2]))


def test_headers_match_ignoring_case_space_and_punctuation(tmp_path, framework):
    header = [
        "ORGANISATION ",
        "document_title",
        "Document Type",
        "year",
        "url",
        " Coder",
        "safety",
        "TRUSTWORTHINESS",
        "Choice",
        "collaboration",
        "Empowerment",
        "cultural_consideration",
    ]
    path = _audit_csv(tmp_path, [_row("RBKC", "Doc", "Coder A", [0, 1, 2, 0, 1, 2])], header=header)
    audit = read_audit_file(path, framework, AliasResolver())
    assert audit.codings["org_id"].tolist() == ["E09000020"]


def test_bad_rows_are_quarantined_with_reasons(tmp_path, framework):
    rows = [
        _row("Transport for London", "Doc", "Coder A", [0] * 6),
        _row("LB Hackney", "Doc", "Coder A", [0, 1, 3, 0, 0, 0]),
        _row("LB Hackney", "Doc", "Coder A", [0, 1, 2, 0, 0, "x"]),
        _row("LB Hackney", "Doc", "Coder A", [0, 1, 2, 0, 0, 0]),
        _row("LB Hackney", "Doc", "Coder A", [0, 1, 2, 0, 0, 0]),
        _row("LB Hackney", "", "Coder A", [0] * 6),
        _row("LB Hackney", "Other", "", [0] * 6),
        _row("LB Hackney", "Other", "Coder B", [0] * 6, year=1066),
    ]
    audit = read_audit_file(_audit_csv(tmp_path, rows), framework, AliasResolver())
    reasons = audit.quarantine.set_index("source_row")["reason"]
    assert "does not resolve" in reasons[2]
    assert reasons[3] == "choice: score is not 0, 1 or 2"
    assert reasons[4] == "cultural_consideration: score is not 0, 1 or 2"
    assert reasons[6] == "repeated row for the same document and coder (first at row 5)"
    assert reasons[7] == "document title missing" and reasons[8] == "coder missing"
    assert "year" in reasons[9]
    assert len(audit.codings) == 1
    quality = audit.quality_row()
    assert quality["rows_read"] == quality["rows_accepted"] + quality["rows_quarantined"] + quality["rows_excluded"]


def test_missing_principle_column_is_an_error(tmp_path, framework):
    header = ["Organisation", "Document title", "Document type", "Year", "URL", "Coder", *PRINCIPLES[:-1], "Culture"]
    with pytest.raises(InputError, match="no score column for the principle 'Cultural consideration'"):
        read_audit_file(
            _audit_csv(tmp_path, [_row("LB Hackney", "Doc", "Coder A", [0] * 6)], header), framework, AliasResolver()
        )


def test_sample_audit(framework):
    result = read_audits([AUDIT], framework, AliasResolver())
    entries = {e["kind"]: e for e in MANIFEST["dirty_rows"] if e["file"].startswith("policy_audit/")}
    quarantined = set(result.quarantine["source_row"])
    for kind, entry in entries.items():
        if entry["expected"] == "quarantined":
            assert entry["row"] in quarantined, kind
        else:
            assert entry["row"] in set(result.codings["source_row"]), kind
    assert len(result.unresolved) > 0
    assert (result.unresolved.groupby("document_id").size() >= 1).all()
    settled = result.document_scores[result.document_scores["resolution"] == "consensus"]
    assert len(settled) > 0
    assert set(result.organisations["org_id"]) == set(load_reference().organisations["org_id"])
    overall = result.agreement.set_index("principle").loc["overall"]
    assert 0.6 < overall["kappa"] < 0.95 and overall["double_coded_documents"] >= 50


def test_check_reports_an_audit(capsys):
    [report] = check_files([AUDIT])
    assert report["kind"] == "policy_audit" and report["usable"]
    assert report["rows_read"] == report["rows_accepted"] + report["rows_quarantined"]
    assert report["double_coded_documents"] >= 50 and report["unresolved_disagreements"] > 0
    assert report["coders"] == ["Coder A", "Coder B", "Coder C"]
    assert {p["row"] for p in report["problems"]} == {
        e["row"]
        for e in MANIFEST["dirty_rows"]
        if e["file"].startswith("policy_audit/") and e["expected"] == "quarantined"
    }


def test_principle_coverage_by_hand():
    """Best settled score per organisation and principle, with unsettled documents counted apart
    (policy_principles: what a journey report calls missing from an organisation's documents)."""
    from tipipeline.ingest.policy_audit import principle_coverage

    framework = load_framework()
    documents = pd.DataFrame({"document_id": ["a", "b"], "org_id": ["E09000001", "E09000001"]})
    nan = float("nan")
    scores = pd.DataFrame(
        {
            "document_id": ["a", "a", "a", "b", "b", "b"],
            "principle": ["safety", "choice", "trustworthiness"] * 2,
            "score": [0, 2, nan, 1, nan, nan],
        }
    )
    table = principle_coverage(documents, scores, framework).set_index("principle")
    assert len(table) == len(framework.principles)
    row = table.loc["safety"]
    assert (row["best_score"], row["status"], row["documents_scored"], row["documents_addressing"]) == (
        1,
        "addressed",
        2,
        1,
    )
    row = table.loc["choice"]
    assert (row["best_score"], row["documents_unsettled"], row["documents_strong"]) == (2, 1, 1)
    row = table.loc["trustworthiness"]
    assert pd.isna(row["best_score"]) and row["status"] == "not settled" and row["documents_unsettled"] == 2
    row = table.loc["empowerment"]  # no document scores it at all
    assert pd.isna(row["best_score"]) and row["documents_scored"] == 0 and row["documents_unsettled"] == 0
