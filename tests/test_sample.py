"""The synthetic sample: byte-identical regeneration, realistic structure, the dirty rows present."""

import csv
import hashlib
import json

import numpy as np
import pandas as pd
import pytest
from conftest import SAMPLE_RAW
from openpyxl import load_workbook

from tipipeline.ingest.codebook import load_codebook
from tipipeline.reference import AliasResolver, load_reference
from tipipeline.sample.generator import SMALL_BCU, generate_sample, small_organisations

MANIFEST = json.loads((SAMPLE_RAW / "sample_manifest.json").read_text())
CODEBOOK = load_codebook(SAMPLE_RAW / "surveys" / "codebook.yaml")


def _files(root):
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def test_regenerating_gives_the_committed_bytes(tmp_path):
    generate_sample(
        tmp_path, seed=MANIFEST["seed"], responses=MANIFEST["responses_per_wave"], waves=len(MANIFEST["waves"])
    )
    committed, regenerated = _files(SAMPLE_RAW), _files(tmp_path)
    assert sorted(committed) == sorted(regenerated)
    different = [name for name in committed if committed[name] != regenerated[name]]
    assert different == [], f"regenerated files differ from the committed sample: {different}"


def test_another_seed_gives_other_data(tmp_path):
    generate_sample(tmp_path, seed=7, responses=300, waves=2)
    assert (tmp_path / "surveys" / "2024-w1").exists()
    manifest = json.loads((tmp_path / "sample_manifest.json").read_text())
    assert manifest["files"] != MANIFEST["files"]


def test_manifest_hashes_match_files():
    for name, digest in MANIFEST["files"].items():
        assert hashlib.sha256((SAMPLE_RAW / name).read_bytes()).hexdigest() == digest, name


def test_readme_says_synthetic_and_lists_every_dirty_row():
    readme = (SAMPLE_RAW / "README.md").read_text()
    assert readme.startswith("# SYNTHETIC")
    for entry in MANIFEST["dirty_rows"]:
        assert f"| `{entry['file']}` | {entry['row']} | {entry['kind']} |" in readme


# --- reading the raw files directly (the project's readers come later and are tested apart) ---


def _read_wave(wave):
    info = next(w for w in MANIFEST["waves"] if w["wave"] == wave)
    path = SAMPLE_RAW / info["file"]
    if path.suffix == ".csv":
        with open(path, encoding="utf-8-sig", newline="") as handle:
            rows = list(csv.reader(handle))
        header, first = rows[0], 4
        body = rows[3:]
    else:
        sheet = load_workbook(path, read_only=True).active
        rows = [[("" if v is None else v) for v in r] for r in sheet.iter_rows(values_only=True)]
        header, first, body = [str(h) for h in rows[0]], 2, rows[1:]
    frame = pd.DataFrame(body, columns=header)
    frame.index = range(first, first + len(frame))  # the file's own row numbers
    return frame, CODEBOOK.columns_for_wave(wave)


@pytest.fixture(scope="module", params=[w["wave"] for w in MANIFEST["waves"]])
def wave(request):
    frame, columns = _read_wave(request.param)
    return request.param, frame, columns


def _domain_scores(frame, columns):
    values = CODEBOOK.scales["agreement"].values
    out = {}
    for domain in sorted({i.domain for i in CODEBOOK.items}):
        items = [i for i in CODEBOOK.items if i.domain == domain]
        m = pd.DataFrame({i.id: frame[columns[i.id]].map(values) for i in items}).astype(float)
        for i in items:
            if i.reverse:
                m[i.id] = 6 - m[i.id]
        out[domain] = m
    return out


def _alpha(m: pd.DataFrame) -> float:
    m = m.dropna()
    k = m.shape[1]
    return k / (k - 1) * (1 - m.var(ddof=1).sum() / m.sum(axis=1).var(ddof=1))


def test_size_and_every_organisation_present(wave):
    wave_id, frame, columns = wave
    assert 2900 <= len(frame) <= 3200
    resolver = AliasResolver()
    orgs = frame[columns["organisation"]].map(lambda v: resolver.resolve("organisation", v))
    assert orgs.nunique() == 39
    counts = orgs.value_counts()
    index = [w["wave"] for w in MANIFEST["waves"]].index(wave_id)
    small = small_organisations(index)
    assert small and all(counts[org_id] < 10 for org_id in small)
    assert (counts >= 10).sum() == 39 - len(small)
    bcu_names = dict(zip(load_reference().bcus["name"], load_reference().bcus["bcu_code"]))
    dirty = {e["row"] for e in MANIFEST["dirty_rows"] if e["wave"] == wave_id}
    police = frame[(orgs == "E23000001") & ~frame.index.isin(dirty)]
    assert (police[columns["bcu"]].map(bcu_names) == SMALL_BCU[0]).sum() == SMALL_BCU[1]


def test_alpha_per_domain_is_realistic(wave):
    _, frame, columns = wave
    alphas = {d: _alpha(m) for d, m in _domain_scores(frame, columns).items()}
    assert all(0.7 <= a <= 0.9 for a in alphas.values()), alphas


def test_modest_improvement_between_waves():
    means = []
    for info in MANIFEST["waves"]:
        frame, columns = _read_wave(info["wave"])
        scores = _domain_scores(frame, columns)
        means.append(np.nanmean(pd.concat(scores.values(), axis=1).mean(axis=1)))
    assert 0.02 < means[1] - means[0] < 0.3


def test_missing_codes_and_free_text_present(wave):
    _, frame, columns = wave
    answers = frame[[columns[i.id] for i in CODEBOOK.items]].stack()
    assert (answers == "Don't know").mean() > 0.01
    assert (answers == "Prefer not to say").mean() > 0.003
    assert (frame[columns["practice_example"]] != "").sum() > 50


def test_organisation_effects_exist(wave):
    _, frame, columns = wave
    resolver = AliasResolver()
    overall = pd.concat(_domain_scores(frame, columns).values(), axis=1).mean(axis=1)
    org = frame[columns["organisation"]].map(lambda v: resolver.resolve("organisation", v))
    by_org = overall.groupby(org).agg(["mean", "count"])
    big = by_org[by_org["count"] >= 30]["mean"]
    assert big.max() - big.min() > 0.5


def test_dirty_rows_are_where_the_manifest_says(wave):
    wave_id, frame, columns = wave
    resolver = AliasResolver()
    entries = [e for e in MANIFEST["dirty_rows"] if e["wave"] == wave_id]
    kinds = {e["kind"] for e in entries}
    assert {
        "duplicate_submission",
        "alias_organisation",
        "misspelt_organisation",
        "unknown_organisation",
        "out_of_range_value",
        "refused_consent",
    } <= kinds
    if wave_id == "2024-w1":
        assert {"survey_preview", "survey_test", "partial_response"} <= kinds
    org_col, consent_col, email_col = columns["organisation"], columns["consent"], columns["duplicate_key"]
    for e in entries:
        row = frame.loc[e["row"]]
        kind = e["kind"]
        if kind in ("survey_preview", "survey_test", "spam"):
            assert (
                row["Status"]
                == {"survey_preview": "Survey Preview", "survey_test": "Survey Test", "spam": "Spam"}[kind]
            )
        elif kind == "partial_response":
            assert row["Finished"] == "False" and int(row["Progress"]) < 100
        elif kind == "alias_organisation":
            assert resolver.resolve("organisation", row[org_col]) is not None
            assert row[org_col] not in set(resolver_official_names())
        elif kind in ("misspelt_organisation", "unknown_organisation"):
            assert resolver.resolve("organisation", row[org_col]) is None
        elif kind == "out_of_range_value":
            assert str(row[e["column"]]) == "7"
        elif kind == "refused_consent":
            assert row[consent_col] == "No"
        elif kind == "duplicate_submission":
            same = frame[frame[email_col] == row[email_col]]
            assert len(same) == 2 and same.index.max() > e["row"]
    # Every other row is a clean, genuine, complete response with consent.
    clean = frame.drop(index=[e["row"] for e in entries])
    assert (clean[consent_col] == "Yes").all()
    if "Status" in clean:
        assert (clean["Status"] == "IP Address").all() and (clean["Finished"] == "True").all()


def resolver_official_names():
    from tipipeline.reference import load_reference

    return load_reference().organisations["name"].tolist()


def test_policy_audit_structure():
    audit = pd.read_excel(SAMPLE_RAW / "policy_audit" / "policy_audit_2024.xlsx")
    entries = {e["kind"]: e for e in MANIFEST["dirty_rows"] if e["file"].startswith("policy_audit/")}
    clean = audit.drop(index=[e["row"] - 2 for e in entries.values()])
    docs = clean.groupby(["Organisation", "Document title"])
    assert 6 <= docs.ngroups / 39 <= 10
    coders = clean[clean["Coder"] != "consensus"].groupby(["Organisation", "Document title"])["Coder"].nunique()
    assert 0.12 <= (coders == 2).mean() <= 0.3
    principles = ["Safety", "Trustworthiness", "Choice", "Collaboration", "Empowerment", "Cultural consideration"]
    assert clean[principles].isin([0, 1, 2]).all().all()
    double = (
        clean[clean["Coder"] != "consensus"].groupby(["Organisation", "Document title"]).filter(lambda g: len(g) == 2)
    )
    disagreements = double.groupby(["Organisation", "Document title"])[principles].nunique().gt(1).any(axis=1)
    assert disagreements.sum() >= 5
    settled = set(clean.loc[clean["Coder"] == "consensus", "Document title"])
    assert settled and len(settled) < disagreements.sum()
    # The dirty rows.
    assert audit.loc[entries["audit_score_out_of_range"]["row"] - 2, "Choice"] == 3
    assert audit.loc[entries["audit_unknown_organisation"]["row"] - 2, "Organisation"] == "Transport for London"
    repeated = audit.loc[entries["audit_repeated_coder_row"]["row"] - 2]
    assert (audit.loc[20] == repeated).all()
