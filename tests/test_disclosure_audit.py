"""Disclosure control: the integer-programming audit, joint suppression of indicator families, and
the gate that keeps an unsafe snapshot from being published.

Each rule is shown failing on a constructed leak of its kind; intervals are checked against hand
computations.
"""

import shutil

import duckdb
import pandas as pd
import pytest

from tipipeline.framework import load_framework
from tipipeline.framework.catalogue import indicator_families, load_indicator_catalogue
from tipipeline.publish.baseline import DisclosureError, load_spec, publish
from tipipeline.stats.disclosure import suppress
from tipipeline.stats.disclosure_audit import audit, audit_published

THRESHOLD = load_framework().disclosure.min_cell_size
FAMILIES = indicator_families(load_indicator_catalogue(load_framework()))


def _cell(indicator, level, code, sector, n, numerator=None, suppressed=False):
    return {
        "indicator_id": indicator,
        "wave": "w",
        "geography_level": level,
        "geography_code": code,
        "geography_name": code,
        "sector": sector,
        "n": n,
        "numerator": numerator,
        "suppressed": suppressed,
    }


def _police(indicator, bcus, hidden, numerators=None, police_n=None):
    """London = councils 200 + police; police = BCUs (+ a remainder when police_n is larger)."""
    police = police_n if police_n is not None else sum(bcus.values())
    num = numerators or {}
    total_num = sum(num.values()) if numerators else None
    rows = [
        _cell(indicator, "london", "L", None, police + 200, None if total_num is None else total_num + 100),
        _cell(indicator, "sector", "council", "council", 200, None if total_num is None else 100),
        _cell(indicator, "sector", "police", "police", police, total_num),
        _cell(indicator, "organisation", "MPS", "police", police, total_num),
    ]
    rows += [_cell(indicator, "bcu", code, "police", n, num.get(code), code in hidden) for code, n in bcus.items()]
    return pd.DataFrame(rows)


# --- the audit's intervals, by hand ----------------------------------------------------------


def problems_of(cells, code, threshold=10):
    problems = audit(cells, threshold=threshold)
    return problems.set_index("geography_code").loc[code, ["lower", "upper"]].tolist()


def test_two_hidden_cells_give_each_a_range_of_the_hidden_total_less_one():
    # Police 50 published = A + B + C; C = 35 published, so A + B = 15 with A, B >= 1: A in 1..14.
    cells = _police("m", {"A": 3, "B": 12, "C": 35}, hidden={"A", "B"})
    assert audit(cells, threshold=10).empty  # 14 possible values >= 10
    problems = audit(cells, threshold=15)
    assert set(problems["geography_code"]) == {"A", "B"}
    assert problems[["lower", "upper"]].drop_duplicates().values.tolist() == [[1, 14]]


def test_a_single_hidden_child_is_revealed_by_subtraction():
    # Councils add up exactly to their sector: a lone hidden council is known exactly.
    rows = [
        _cell("m", "london", "L", None, 50),
        _cell("m", "sector", "council", "council", 50),
        _cell("m", "organisation", "A", "council", 4, suppressed=True),
        _cell("m", "organisation", "B", "council", 46),
    ]
    problems = audit(pd.DataFrame(rows), threshold=10)
    assert problems.set_index("geography_code").loc["A", ["lower", "upper"]].tolist() == [4, 4]
    # Police may have respondents with no BCU, so a reader knows only that A is 1-4: still too few values.
    cells = _police("m", {"A": 4, "B": 46}, hidden={"A"})
    assert problems_of(cells, "A") == [1, 4]
    # With a larger remainder a reader only knows A is between 1 and 4 + remainder.
    with_remainder = _police("m", {"A": 4, "B": 46}, hidden={"A"}, police_n=60)
    assert audit(with_remainder, threshold=10).empty  # A in 1..14


def test_a_small_published_cell_is_a_problem():
    cells = _police("m", {"A": 4, "B": 46}, hidden=set())
    problems = audit(cells, threshold=10)
    assert "a cell of 4 (< 10) is published" in problems["problem"].tolist()


def test_a_hidden_group_that_all_agree_or_none_agree_is_revealed():
    # A (7) and B (20) hidden, 27 people; their numerators add to 0: each is known to be 0.
    none_agree = _police("p", {"A": 7, "B": 20, "C": 40}, hidden={"A", "B"}, numerators={"A": 0, "B": 0, "C": 12})
    problems = audit(none_agree, threshold=10)
    assert set(problems["quantity"]) == {"numerator"} and set(problems["lower"]) == {0}
    # All agree: the count not agreeing is 0.
    all_agree = _police("p", {"A": 7, "B": 20, "C": 40}, hidden={"A", "B"}, numerators={"A": 7, "B": 20, "C": 12})
    assert set(audit(all_agree, threshold=10)["quantity"]) == {"n - numerator"}
    mixed = _police("p", {"A": 7, "B": 20, "C": 40}, hidden={"A", "B"}, numerators={"A": 3, "B": 11, "C": 12})
    assert audit(mixed, threshold=10).empty


def test_a_mean_and_its_percentage_share_one_n():
    # The leak the per-indicator rule missed: the mean hides CN and NE, the % hides CN and SE; a
    # reader takes NE's n from the % table and SE's from the mean table, and subtracts.
    bcus = {"CN": 7, "NE": 30, "SE": 40, "SW": 50}
    mean = _police("domain_mean_policy", bcus, hidden={"CN", "NE"})
    agree = _police(
        "domain_agree_policy", bcus, hidden={"CN", "SE"}, numerators={"CN": 3, "NE": 10, "SE": 20, "SW": 25}
    )
    cells = pd.concat([mean, agree], ignore_index=True)
    # The audit links them even without being told they are a family: their n agree everywhere.
    assert len(audit(cells, THRESHOLD)) > 0
    problems = audit(cells, THRESHOLD, FAMILIES)
    cn = problems[(problems["geography_code"] == "CN") & (problems["quantity"] == "n")]
    assert cn[["lower", "upper"]].values.tolist() == [[1, 7]]  # police may include people with no BCU
    # Suppressed together, the family is safe.
    true = cells.drop(columns="suppressed")
    joint = suppress(true.assign(value=1.0, lower_ci=0.0, upper_ci=2.0), THRESHOLD, FAMILIES)
    per_geography = joint.groupby("geography_code")["suppressed"].nunique()
    assert (per_geography == 1).all()
    assert audit(true.assign(suppressed=joint["suppressed"].to_numpy()), THRESHOLD, FAMILIES).empty


def test_identical_cells_must_be_hidden_together():
    # A council and its borough are the same respondents: publishing one publishes the other.
    rows = [_cell("m", "london", "L", None, 100), _cell("m", "sector", "council", "council", 100)]
    for code, n in (("E1", 5), ("E2", 45), ("E3", 50)):
        rows.append(_cell("m", "organisation", code, "council", n, suppressed=code in {"E1", "E2"}))
        rows.append(_cell("m", "borough", code, "council", n, suppressed=code == "E1"))
    problems = audit(pd.DataFrame(rows), THRESHOLD)
    assert {"E1", "E2"} <= set(problems["geography_code"])


def test_a_model_the_data_break_is_an_error():
    cells = _police("m", {"A": 40, "B": 46}, hidden=set(), police_n=80)  # BCUs add to more than police
    with pytest.raises(ValueError, match="break the audit's structure"):
        audit(cells, THRESHOLD)


# --- the sample ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def sample_cells(built_sample):
    with duckdb.connect(str(built_sample.warehouse_path), read_only=True) as conn:
        return conn.execute(
            "SELECT c.indicator_id, c.wave, c.geography_level, c.geography_code, c.geography_name, c.sector, c.n, "
            "c.numerator, i.suppressed, i.suppression_reason FROM indicator_cells c JOIN indicators i "
            "USING (indicator_id, wave, geography_level, geography_code) WHERE i.source = 'survey'"
        ).df()


def test_the_sample_passes_the_audit_and_suppresses_families_together(sample_cells):
    assert audit(sample_cells, THRESHOLD, FAMILIES).empty
    family = sample_cells["indicator_id"].map(FAMILIES)
    patterns = sample_cells.groupby([family, "wave", "geography_level", "geography_code"])["suppressed"].nunique()
    assert (patterns == 1).all()
    reasons = sample_cells["suppression_reason"].dropna()
    assert reasons.str.startswith("primary").sum() > 0 and reasons.str.startswith("secondary").sum() > 0


def test_the_audit_catches_leaks_made_in_the_sample(sample_cells):
    # Suppressing each indicator on its own (the old rule) leaks the small BCU's n.
    alone = suppress(
        sample_cells.drop(columns=["suppressed", "suppression_reason"]).assign(value=1.0, lower_ci=0.0, upper_ci=2.0),
        THRESHOLD,
        link_equal_n=False,
    )
    leaky = audit(sample_cells.assign(suppressed=alone["suppressed"].to_numpy()), THRESHOLD, FAMILIES)
    assert len(leaky) > 0 and (leaky["upper"] - leaky["lower"] + 1 < THRESHOLD).all()
    # Publishing one secondary cell, or one primary cell, is caught.
    for kind in ("secondary", "primary"):
        cells = sample_cells.copy()
        first = cells.index[cells["suppression_reason"].fillna("").str.startswith(kind)][0]
        family = cells["indicator_id"].map(FAMILIES)
        same = (
            (family == family[first])
            & (cells["wave"] == cells.loc[first, "wave"])
            & (cells["geography_code"] == cells.loc[first, "geography_code"])
            & (cells["geography_level"] == cells.loc[first, "geography_level"])
        )
        cells.loc[same, "suppressed"] = False
        assert len(audit(cells, THRESHOLD, FAMILIES)) > 0, kind


# --- the published tables and the gate -------------------------------------------------------


@pytest.fixture()
def snapshot(built_sample, tmp_path):
    copy = tmp_path / "baseline.duckdb"
    shutil.copy(built_sample.baseline_path, copy)
    return copy


def _problems(path, threshold=THRESHOLD, files=None):
    with duckdb.connect(str(path), read_only=True) as conn:
        return audit_published(conn, threshold, files)


LEAKS = {
    "indicator_changes": "UPDATE indicator_changes SET suppressed = false, change = 0.1 WHERE rowid = (SELECT min(c.rowid) "
    "FROM indicator_changes c JOIN indicators i ON i.indicator_id = c.indicator_id "
    "AND i.wave = c.to_wave AND i.geography_level = c.geography_level "
    "AND i.geography_code = c.geography_code WHERE i.suppressed)",
    "journey": "UPDATE journey SET n = 7, score = 3.1 WHERE rowid = (SELECT min(j.rowid) FROM journey j JOIN indicators i "
    "ON i.indicator_id = 'domain_mean_' || j.domain AND i.wave = j.wave AND i.geography_level = 'organisation' "
    "AND i.geography_code = j.org_id WHERE i.suppressed)",
    "borough_partnership": "UPDATE borough_partnership SET police_value = 3.3, police_n = 7 WHERE rowid = "
    "(SELECT min(rowid) FROM borough_partnership WHERE police_suppressed)",
    "promising_practice": "UPDATE promising_practice SET percent_willing_to_share = 50 WHERE rowid = "
    "(SELECT min(rowid) FROM promising_practice WHERE willing_to_share_suppressed)",
    "data_quality": "UPDATE data_quality SET rows_accepted = 6, rows_read = 6 WHERE source = 'survey' AND rowid = "
    "(SELECT min(rowid) FROM data_quality WHERE source = 'survey')",
}


def test_the_published_sample_has_no_derived_leak(snapshot):
    assert _problems(snapshot).empty


@pytest.mark.parametrize("table", sorted(LEAKS))
def test_each_published_table_leak_is_caught(snapshot, table):
    with duckdb.connect(str(snapshot)) as conn:
        conn.execute(LEAKS[table])
    problems = _problems(snapshot)
    assert len(problems) == 1 and problems["geography_level"].iloc[0] == table


def test_a_file_of_part_of_a_wave_with_a_hidden_organisation_must_not_publish_its_counts(snapshot):
    with duckdb.connect(str(snapshot), read_only=True) as conn:
        hidden_org = conn.execute(
            "SELECT geography_code, wave FROM indicators WHERE source = 'survey' AND suppressed AND "
            "geography_level = 'organisation' ORDER BY ALL LIMIT 1"
        ).fetchone()
        survey_file = conn.execute("SELECT source_file FROM data_quality WHERE wave = ?", [hidden_org[1]]).fetchone()[0]
    # The file holds the hidden organisation and another one, but not the whole wave.
    files = pd.DataFrame(
        {
            "wave": [hidden_org[1]] * 3,
            "source_file": [survey_file, survey_file, "other.csv"],
            "org_id": [hidden_org[0], "E09000033", "E09000032"],
        }
    )
    problems = _problems(snapshot, files=files)
    assert problems["problem"].str.contains("part of the wave's organisations").tolist() == [True]
    # A file holding every organisation of the wave is the London total, published anyway.
    whole = pd.DataFrame(
        {"wave": [hidden_org[1]] * 2, "source_file": [survey_file] * 2, "org_id": [hidden_org[0], "E09000033"]}
    )
    assert _problems(snapshot, files=whole).empty


def test_data_quality_withholds_small_files_and_partial_files_with_a_hidden_organisation():
    spec = next(s for s in load_spec(min_cell_size=10) if s.name == "data_quality")
    with duckdb.connect() as conn:
        conn.execute(
            "CREATE TABLE stg_respondents AS SELECT * FROM (VALUES ('w', 'big.csv', 'A'), ('w', 'big.csv', 'B'), "
            "('w', 'small.csv', 'A'), ('w', 'hidden.csv', 'H'), ('w', 'shown.csv', 'S'), ('w', 'mixed.csv', 'H'), "
            "('w', 'mixed.csv', 'B'), ('w', 'all.csv', 'A'), ('w', 'all.csv', 'B'), ('w', 'all.csv', 'H'), "
            "('w', 'all.csv', 'S')) v(wave, source_file, org_id)"
        )
        conn.execute(
            "CREATE TABLE indicators AS SELECT * FROM (VALUES ('survey', 'w', 'organisation', 'H', true), "
            "('survey', 'w', 'organisation', 'S', false)) v(source, wave, geography_level, geography_code, suppressed)"
        )
        conn.execute(
            "CREATE TABLE survey_data_quality AS SELECT * FROM (VALUES ('w', 'big.csv', 120), ('w', 'small.csv', 9), "
            "('w', 'hidden.csv', 40), ('w', 'shown.csv', 40), ('w', 'mixed.csv', 80), ('w', 'all.csv', 400)) "
            "v(wave, source_file, rows_accepted)"
        )
        conn.execute("ALTER TABLE survey_data_quality ADD COLUMN sha256 VARCHAR DEFAULT 'x'")
        for column in ("file_format", "excluded_by_rule"):
            conn.execute(f"ALTER TABLE survey_data_quality ADD COLUMN {column} VARCHAR DEFAULT '{{}}'")
        for column in ("rows_read", "rows_quarantined", "rows_excluded"):
            conn.execute(f"ALTER TABLE survey_data_quality ADD COLUMN {column} BIGINT DEFAULT 0")
        conn.execute("CREATE TABLE audit_data_quality AS SELECT * FROM survey_data_quality WHERE false")
        table = conn.execute(spec.sql).df().set_index("source_file")
    assert table["counts_suppressed"].to_dict() == {
        "big.csv": False,
        "small.csv": True,
        "hidden.csv": True,
        "shown.csv": False,
        "mixed.csv": True,  # part of the wave, holding the hidden organisation H
        "all.csv": False,  # every organisation of the wave: London's total, published anyway
    }
    assert table.loc[["small.csv", "hidden.csv"], ["rows_read", "rows_accepted"]].isna().all().all()
    assert table.loc["big.csv", "rows_accepted"] == 120


def test_an_unsafe_snapshot_is_never_swapped_in(tmp_path):
    published = tmp_path / "baseline.duckdb"
    with duckdb.connect(str(published)) as conn:
        conn.execute("CREATE TABLE marker AS SELECT 'old' AS v")
    spec = [s for s in load_spec() if s.name == "organisations"]
    with duckdb.connect() as conn:
        conn.execute(
            "CREATE TABLE organisations AS SELECT 'E09000001' AS org_id, 'x' AS name, 'x' AS short_name, "
            "'council' AS sector, 'local_authority' AS org_type, 'E09000001' AS area_code, NULL AS ods_code"
        )
        with pytest.raises(DisclosureError, match="constructed problem"):
            publish(conn, published, spec, {}, audit=lambda path: ["constructed problem"])
    with duckdb.connect(str(published), read_only=True) as conn:
        assert conn.execute("SELECT v FROM marker").fetchone() == ("old",)
    assert [p.name for p in tmp_path.iterdir()] == ["baseline.duckdb"]


def test_a_suppressed_london_leaves_the_counts_unbounded_not_an_error():
    # A pilot wave of 6: London, both sectors and their organisations are all suppressed.
    rows = [
        _cell("m", "london", "L", None, 6, suppressed=True),
        _cell("m", "sector", "council", "council", 4, suppressed=True),
        _cell("m", "sector", "health", "health", 2, suppressed=True),
        _cell("m", "organisation", "E1", "council", 4, suppressed=True),
        _cell("m", "organisation", "E54", "health", 2, suppressed=True),
    ]
    assert audit(pd.DataFrame(rows), THRESHOLD).empty


def _frame(rows):
    cells = pd.DataFrame(rows)
    cells["geography_name"] = cells["geography_code"]
    return cells.assign(value=1.0, lower_ci=0.0, upper_ci=2.0, numerator=cells["numerator"].astype("Int64"))


def test_families_with_the_same_n_everywhere_are_suppressed_together():
    # Two domains every respondent answered: the same n in each council. Hidden apart (d1 hides
    # 3 and 25, d2 hides 3 and 20), a reader takes 20 from d1 and 25 from d2 and subtracts.
    orgs = {"E1": (3, 3, 1), "E2": (20, 20, 5), "E3": (25, 10, 10), "E4": (60, 30, 30)}  # n, agree in d1, in d2
    rows = []
    for column, family in ((1, "domain_agree_one"), (2, "domain_agree_two")):
        hidden = {"E1", "E3"} if column == 1 else {"E1", "E2"}
        for code, values in orgs.items():
            for level in ("organisation", "borough"):
                rows.append(_cell(family, level, code, "council", values[0], values[column], code in hidden))
        n, x = sum(v[0] for v in orgs.values()), sum(v[column] for v in orgs.values())
        rows += [_cell(family, "sector", "council", "council", n, x), _cell(family, "london", "L", None, n, x)]
    cells = _frame(rows)
    problems = audit(cells, THRESHOLD)
    assert "E1" in set(problems["geography_code"])
    # The suppression links them: one pattern for both, and the audit is clean.
    linked = suppress(cells.drop(columns="suppressed"), THRESHOLD)
    by_geography = linked.groupby(["geography_level", "geography_code"])["suppressed"].nunique()
    assert (by_geography == 1).all()
    assert audit(cells.assign(suppressed=linked["suppressed"].to_numpy()), THRESHOLD).empty


def test_a_hidden_total_is_known_to_be_at_least_its_published_parts():
    # Health is small (8, every ICB primary): London needs a second hidden sector. Police would
    # not do: its 12 published BCUs prove it holds at least 144, so health would still be pinned.
    rows = []
    for i in range(3):
        for level in ("organisation", "borough"):
            rows.append(_cell("x_agree", level, f"E0{i}", "council", 60, 30))
    for i in range(12):
        rows.append(_cell("x_agree", "bcu", f"B{i:02d}", "police", 12, 10))
    for i, n in enumerate([2, 2, 1, 2, 1]):
        for level in ("organisation", "icb"):
            rows.append(_cell("x_agree", level, f"E54{i}", "health", n, 1))
    rows += [
        _cell("x_agree", "organisation", "MPS", "police", 147, 121),
        _cell("x_agree", "sector", "council", "council", 180, 90),
        _cell("x_agree", "sector", "police", "police", 147, 121),
        _cell("x_agree", "sector", "health", "health", 8, 5),
        _cell("x_agree", "london", "L", None, 335, 216),
    ]
    cells = _frame(rows)
    controlled = suppress(cells.drop(columns="suppressed"), THRESHOLD).set_index(["geography_level", "geography_code"])
    assert not controlled.loc[("sector", "police"), "suppressed"]
    assert audit(cells.assign(suppressed=controlled["suppressed"].to_numpy()), THRESHOLD).empty


def test_the_publish_gate_audits_the_snapshot_indicators(built_sample, snapshot, tmp_path):
    from tipipeline.stats.disclosure_audit import audit_snapshot

    warehouse = tmp_path / "warehouse.duckdb"
    shutil.copy(built_sample.warehouse_path, warehouse)
    with duckdb.connect(str(warehouse)) as work:
        recorded = work.execute("SELECT count(*) FROM disclosure_audits WHERE passed").fetchone()[0]
        assert recorded >= 1  # the indicators check recorded its passed audit
        with duckdb.connect(str(snapshot), read_only=True) as published:
            assert audit_snapshot(work, published, THRESHOLD, FAMILIES).empty
        # Publish one secondary cell (as a run that ignored a failed check would): the gate, finding
        # no passed audit of these flags, runs the integer programme and names the cell.
        with duckdb.connect(str(snapshot)) as leaky:
            leaky.execute(
                "UPDATE indicators SET suppressed = false WHERE rowid = (SELECT min(rowid) FROM indicators "
                "WHERE suppression_reason LIKE 'secondary%')"
            )
        with duckdb.connect(str(snapshot), read_only=True) as published:
            problems = audit_snapshot(work, published, THRESHOLD, FAMILIES)
    assert len(problems) > 0 and problems["quantity"].eq("n").any()


# --- the fast sufficient test gives the exact audit's answer -----------------------------------


def test_the_fast_test_finds_exactly_the_exact_audits_problems_on_the_leaky_sample(sample_cells):
    # The old rule (each indicator suppressed alone) leaks in the sample: every problem the exact
    # audit finds (a range per cell, solved both ways) the fast one finds, with the same range.
    alone = suppress(
        sample_cells.drop(columns=["suppressed", "suppression_reason"]).assign(value=1.0, lower_ci=0.0, upper_ci=2.0),
        THRESHOLD,
        link_equal_n=False,
    )
    cells = sample_cells.assign(suppressed=alone["suppressed"].to_numpy())
    exact = audit(cells, THRESHOLD, FAMILIES, fast_test=False)
    fast = audit(cells, THRESHOLD, FAMILIES)
    assert len(exact) > 0
    pd.testing.assert_frame_equal(fast, exact)


def test_the_fast_test_agrees_with_the_exact_audit_on_random_hidden_patterns():
    import numpy as np

    rng = np.random.default_rng(28)
    found = 0
    for trial in range(150):
        codes = [f"B{i}" for i in range(int(rng.integers(2, 7)))]
        bcus = {c: int(rng.integers(1, 40)) for c in codes}
        numerators = {c: int(rng.integers(0, bcus[c] + 1)) for c in codes}
        hidden = {c for c in codes if rng.random() < 0.5}
        remainder = int(rng.integers(0, 3)) * int(rng.integers(0, 5))
        cells = _police(f"i{trial}", bcus, hidden, numerators, police_n=sum(bcus.values()) + remainder)
        if rng.random() < 0.2:  # sometimes the police total is hidden as well
            cells.loc[cells["geography_level"].isin(["sector", "organisation"]) & (cells["sector"] == "police"),
                      "suppressed"] = True  # fmt: skip
        exact = audit(cells, THRESHOLD, fast_test=False)
        fast = audit(cells, THRESHOLD)
        pd.testing.assert_frame_equal(fast, exact, obj=f"trial {trial}")
        found += len(exact)
    assert found > 0  # the patterns include leaks, not only safe ones
