"""Indicators, disclosure control, journey and the published baseline, on the bundled sample."""

import json

import duckdb
import numpy as np
import pandas as pd
import pytest
from statsmodels.stats.proportion import proportion_confint

from tipipeline.framework import load_framework
from tipipeline.publish.baseline import load_spec
from tipipeline.stats.disclosure import suppress
from tipipeline.stats.disclosure_audit import audit

THRESHOLD = load_framework().disclosure.min_cell_size


@pytest.fixture(scope="module")
def built(built_sample):
    """The sample built once for the session; (settings, read-only warehouse connection)."""
    conn = duckdb.connect(str(built_sample.warehouse_path), read_only=True)
    yield built_sample, conn
    conn.close()


def _df(conn, sql):
    return conn.execute(sql).df()


def test_proportion_cis_equal_statsmodels(built):
    _, conn = built
    cells = _df(conn, "SELECT * FROM indicators WHERE numerator IS NOT NULL")
    assert len(cells) > 1000
    low, high = proportion_confint(cells["numerator"].astype(int), cells["n"].astype(int), alpha=0.05, method="wilson")
    assert np.allclose(cells["lower_ci"], 100 * low, atol=1e-9) and np.allclose(
        cells["upper_ci"], 100 * high, atol=1e-9
    )
    assert np.allclose(cells["value"], 100 * cells["numerator"] / cells["n"])


def test_comparisons_are_consistent_with_the_cis(built):
    _, conn = built
    cells = _df(
        conn,
        "SELECT i.*, l.value AS london, c.polarity FROM indicators i JOIN indicators l "
        "ON l.indicator_id = i.indicator_id AND l.wave = i.wave AND l.geography_level = 'london' "
        "JOIN indicator_catalogue c ON c.indicator_id = i.indicator_id "
        "WHERE i.geography_level <> 'london' AND i.source = 'survey'",
    )
    published = cells[~cells["suppressed"]]
    inside = (published["lower_ci"] <= published["london"]) & (published["london"] <= published["upper_ci"])
    assert (published.loc[inside, "comparison"] == "similar").all()
    above = published["lower_ci"] > published["london"]
    assert published.loc[above & (published["polarity"] == "higher_is_better"), "comparison"].eq("better").all()
    below = published["upper_ci"] < published["london"]
    assert published.loc[below & (published["polarity"] == "higher_is_better"), "comparison"].eq("worse").all()
    assert cells.loc[cells["suppressed"], "comparison"].eq("not compared").all()
    assert set(published["comparison"]) >= {"similar", "better", "worse"}


def test_no_published_cell_below_the_threshold_is_unsuppressed(built):
    _, conn = built
    joined = _df(
        conn,
        "SELECT i.suppressed, c.n AS true_n FROM indicators i JOIN indicator_cells c USING "
        "(indicator_id, wave, geography_level, geography_code) WHERE i.source = 'survey'",
    )
    assert len(joined) > 5000
    assert joined.loc[joined["true_n"] < THRESHOLD, "suppressed"].all()
    published = _df(conn, "SELECT * FROM indicators WHERE suppressed")
    assert published[["value", "lower_ci", "upper_ci", "n", "numerator"]].isna().all().all()
    assert published["suppression_reason"].notna().all()


def test_no_hidden_group_is_small_across_a_family(built):
    """Enumerate every published total and its children, taking each child's n from WHICHEVER
    indicator of its family publishes it (written independently of the code under test): the
    hidden part must hold at least the threshold plus one per extra hidden child."""
    _, conn = built
    cells = _df(
        conn,
        "SELECT i.indicator_id, i.wave, i.geography_level, i.geography_code, i.sector, i.suppressed, "
        "c.n AS true_n FROM indicators i JOIN indicator_cells c USING "
        "(indicator_id, wave, geography_level, geography_code) WHERE i.source = 'survey'",
    )
    # A family: the indicators after the first underscore-separated measure word, e.g. domain_*_policy.
    cells["family"] = cells["indicator_id"].str.replace(r"_(mean|agree)(_|$)", r"\2", regex=True)
    known = (
        cells.groupby(["family", "wave", "geography_level", "geography_code"])
        .agg(true_n=("true_n", "first"), shown=("suppressed", lambda s: not s.all()), sector=("sector", "first"))
        .reset_index()
    )
    checked = 0
    for (_, _), block in known.groupby(["family", "wave"]):
        parents = [(block[block["geography_level"] == "london"].iloc[0], block[block["geography_level"] == "sector"])]
        for sector in block[block["geography_level"] == "sector"].itertuples():
            for level in ("organisation", "borough", "bcu", "icb"):
                children = block[(block["geography_level"] == level) & (block["sector"] == sector.geography_code)]
                if len(children):
                    parents.append((block.loc[sector.Index], children))
        for parent, children in parents:
            hidden = children[~children["shown"]]
            hidden_n = parent["true_n"] - children.loc[children["shown"], "true_n"].sum()
            if not parent["shown"]:
                assert hidden_n > 0  # a hidden total is not the sum of published children
            elif len(hidden):
                assert hidden_n - (len(hidden) - 1) >= THRESHOLD, (
                    parent["geography_code"],
                    hidden["geography_code"].tolist(),
                )
            elif hidden_n > 0:
                assert hidden_n >= THRESHOLD  # people in no child (police with no BCU) are a hidden group too
            checked += 1
    assert checked > 250


def test_secondary_suppression_happens_in_the_sample(built):
    _, conn = built
    secondary = _df(conn, "SELECT * FROM indicators WHERE suppression_reason LIKE 'secondary%'")
    wave2_councils = secondary[(secondary["wave"] == "2025-w2") & (secondary["sector"] == "council")]
    assert len(wave2_councils) > 0  # wave 2 has a single small council, which must be protected
    bcus = secondary[secondary["geography_level"] == "bcu"]
    assert len(bcus) > 0  # the small BCU is protected by a second BCU


def test_suppress_unit_cases():
    def cell(level, code, sector, n):
        return {
            "indicator_id": "x",
            "wave": "w",
            "geography_level": level,
            "geography_code": code,
            "geography_name": code,
            "sector": sector,
            "n": n,
            "value": 1.0,
            "lower_ci": 0.5,
            "upper_ci": 1.5,
        }

    # One small council among three: a second council must be suppressed (the smallest other).
    cells = pd.DataFrame(
        [
            cell("london", "L", None, 140),
            cell("sector", "council", "council", 100),
            cell("sector", "police", "police", 20),
            cell("sector", "health", "health", 20),
            cell("organisation", "A", "council", 5),
            cell("organisation", "B", "council", 40),
            cell("organisation", "C", "council", 55),
        ]
    )
    result = suppress(cells, 10).set_index("geography_code")
    assert result.loc["A", "suppression_reason"].startswith("primary")
    assert result.loc["B", "suppression_reason"].startswith("secondary") and not result.loc["C", "suppressed"]
    assert audit(cells.assign(suppressed=result["suppressed"].to_numpy()), 10).empty
    # A non-empty unpublished remainder (police with no BCU) already protects a lone small BCU.
    bcus = pd.DataFrame(
        [
            cell("london", "L", None, 100),
            cell("sector", "police", "police", 100),
            cell("bcu", "CE", "police", 5),
            cell("bcu", "CN", "police", 80),
        ]
    )
    result = suppress(bcus, 10).set_index("geography_code")
    assert result["suppressed"].tolist() == [False, False, True, False]
    # A small parent with published children: a child must go too.
    small = pd.DataFrame(
        [
            cell("london", "L", None, 100),
            cell("sector", "police", "police", 8),
            cell("sector", "council", "council", 92),
            cell("organisation", "MPS", "police", 8),
        ]
    )
    result = suppress(small, 10).set_index("geography_code")
    assert result.loc[["police", "MPS"], "suppressed"].all()


def _cell(level, code, sector, n, numerator=None):
    return {
        "indicator_id": "x",
        "wave": "w",
        "geography_level": level,
        "geography_code": code,
        "geography_name": code,
        "sector": sector,
        "n": n,
        "numerator": numerator,
        "value": 1.0,
        "lower_ci": 0.5,
        "upper_ci": 1.5,
    }


def _police(bcus, police_n=None, numerator=None):
    total = police_n if police_n is not None else sum(b[1] for b in bcus)
    rows = [
        _cell("london", "L", None, total + 200, None if numerator is None else numerator + 100),
        _cell("sector", "police", "police", total, numerator),
        _cell("sector", "council", "council", 200, None if numerator is None else 100),
    ]
    rows += [_cell("bcu", code, "police", n, num) for code, n, num in bcus]
    return pd.DataFrame(rows)


def test_hidden_groups_must_hold_enough_people():
    # Two small BCUs (3 and 4) are both suppressed: together they are still only 7 people.
    cells = _police([("A", 3, None), ("B", 4, None), ("C", 40, None), ("D", 60, None)])
    result = suppress(cells, 10)
    assert result.set_index("geography_code").loc["C", "suppressed"]  # a third BCU joins them
    assert audit(cells.assign(suppressed=result["suppressed"].to_numpy()), 10).empty


def test_an_unpublished_remainder_is_protected():
    # Police respondents with no BCU: 3 people, revealed by subtraction unless a BCU is suppressed.
    cells = _police([("A", 40, None), ("B", 60, None)], police_n=103)
    result = suppress(cells, 10).set_index("geography_code")
    assert result.loc["A", "suppressed"] and not result.loc["B", "suppressed"]


def test_a_hidden_group_of_all_or_nothing_is_not_left_revealed():
    # CN (7 people, 0 agreeing) and NE (20 people, 0 agreeing) hidden: together 0% -> hide one more.
    cells = _police([("CN", 7, 0), ("NE", 20, 0), ("SE", 30, 3), ("SW", 50, 10)], numerator=13)
    result = suppress(cells, 10).set_index("geography_code")
    assert result.loc["CN", "suppressed"]
    hidden = result[result["suppressed"] & (result["geography_level"] == "bcu")]
    assert cells.set_index("geography_code").loc[hidden.index, "numerator"].sum() > 0
    assert audit(cells.assign(suppressed=result["suppressed"].to_numpy()), 10).empty


def test_journey_covers_every_organisation_domain_and_wave(built):
    _, conn = built
    journey = _df(conn, "SELECT * FROM journey")
    assert len(journey) == 39 * 11 * 2
    assert journey.groupby(["org_id", "domain", "wave"]).size().eq(1).all()
    insufficient = journey["stage_level"].isna()
    assert (journey.loc[insufficient, "stage"] == "Insufficient evidence").all()
    assert (
        journey.loc[~insufficient, "stage"]
        .isin(["Not yet started", "Trauma-aware", "Trauma-sensitive", "Trauma-informed", "Trauma-responsive"])
        .all()
    )
    assert journey["next_step"].str.len().gt(20).all()
    # Cells withheld by disclosure control never get a stage.
    suppressed = _df(
        conn,
        "SELECT geography_code AS org_id, wave, replace(indicator_id, 'domain_mean_', '') AS domain "
        "FROM indicators WHERE geography_level = 'organisation' AND suppressed "
        "AND indicator_id LIKE 'domain_mean_%'",
    )
    merged = suppressed.merge(journey, on=["org_id", "wave", "domain"])
    assert len(merged) > 0 and merged["stage_level"].isna().all()
    summary = _df(conn, "SELECT * FROM journey_summary")
    assert summary.groupby("wave")["organisations"].sum().eq(39 * 11).all()


def test_journey_stage_follows_the_rule(built):
    _, conn = built
    framework = load_framework()
    journey = _df(conn, "SELECT * FROM journey WHERE stage_level IS NOT NULL")
    for row in journey.sample(200, random_state=1).itertuples():
        reached = 0
        for t in framework.stage_rule.thresholds:
            ok = (
                (t.min_mean_score is None or row.score >= t.min_mean_score)
                and (t.min_percent_agree is None or row.percent_agree >= t.min_percent_agree)
                and (
                    t.min_policy_comprehensiveness is None
                    or row.policy_comprehensiveness >= t.min_policy_comprehensiveness
                )
                and (t.min_policy_strength is None or row.policy_strength >= t.min_policy_strength)
            )
            if not ok:
                break
            reached = t.level
        assert row.stage_level == reached


def test_borough_partnership_puts_council_bcu_and_icb_side_by_side(built):
    _, conn = built
    table = _df(conn, "SELECT * FROM borough_partnership")
    assert table["borough_code"].nunique() == 33 and set(table["wave"]) == {"2024-w1", "2025-w2"}
    city = table[table["borough_code"] == "E09000001"]
    assert city["bcu_code"].isna().all() and (city["police_note"] == "City of London Police (not in scope)").all()
    hackney = table[(table["borough_code"] == "E09000012") & (table["indicator_id"] == "ti_index_mean")]
    assert (hackney["bcu_code"] == "CE").all()  # Hackney is policed by Central East (reference data)
    # Every side shows exactly its own published cell (or nothing when that cell is suppressed).
    cells = _df(conn, "SELECT * FROM indicators").set_index(
        ["indicator_id", "wave", "geography_level", "geography_code"]
    )
    shown = 0
    for row in table.itertuples():
        for side, level, code in (
            ("council", "borough", row.borough_code),
            ("police", "bcu", row.bcu_code),
            ("health", "icb", row.icb_code),
        ):
            key = (row.indicator_id, row.wave, level, code)
            value = getattr(row, f"{side}_value")
            if code is None or key not in cells.index or cells.loc[key, "suppressed"]:
                assert pd.isna(value)
            else:
                assert value == cells.loc[key, "value"] and getattr(row, f"{side}_n") == cells.loc[key, "n"]
                shown += 1
    assert shown > 1000
    assert table.loc[table["council_suppressed"], "council_value"].isna().all()


def test_promising_practice_never_holds_free_text(built):
    _, conn = built
    table = _df(conn, "SELECT * FROM promising_practice")
    free_text = {t for (t,) in conn.execute("SELECT text FROM restricted_free_text").fetchall()}
    assert len(table) == 39 and table["promising_practice_candidate"].any()
    assert not any(text in table.to_csv() for text in free_text)
    assert table.loc[table["willing_to_share_suppressed"], "percent_willing_to_share"].isna().all()


def test_published_baseline_holds_only_the_listed_tables_with_comments(built):
    settings, _ = built
    specs = {s.name: s for s in load_spec()}
    with duckdb.connect(str(settings.baseline_path), read_only=True) as conn:
        tables = _df(conn, "SELECT table_name, comment FROM duckdb_tables() WHERE NOT internal")
        columns = _df(conn, "SELECT table_name, column_name, comment FROM duckdb_columns() WHERE NOT internal")
        provenance = _df(conn, "SELECT * FROM provenance")
    assert set(tables["table_name"]) == set(specs) | {"provenance"}
    # A renamed table's old name is a view (its columns described too), not a table.
    renamed = {spec.formerly for spec in specs.values() if spec.formerly}
    assert renamed and not renamed & set(tables["table_name"]) and renamed <= set(columns["table_name"])
    assert tables["comment"].str.len().gt(10).all() and columns["comment"].notna().all()
    for name, spec in specs.items():
        assert columns.loc[columns["table_name"] == name, "column_name"].tolist() == list(spec.columns)
    forbidden = {"respondent_id", "text", "source_row", "email", "free_text"}
    assert not forbidden & set(columns["column_name"])
    assert len(provenance) == len(specs) and provenance["run_id"].nunique() == 1
    files = json.loads(provenance["input_files"].iloc[0])
    assert {f["file"] for f in files} >= {"surveys/2024-w1/staff_survey_2024-w1_qualtrics.csv"}
    exports = settings.output_dir / "exports"
    for name in [*specs, "provenance"]:
        assert (exports / f"{name}.csv").stat().st_size > 0 and (exports / f"{name}.parquet").stat().st_size > 0


def test_csv_exports_neutralise_formula_cells(tmp_path):
    from tipipeline.publish.baseline import export_tables

    baseline = tmp_path / "b.duckdb"
    with duckdb.connect(str(baseline)) as conn:
        conn.execute(
            "CREATE TABLE t AS SELECT * FROM (VALUES ('=SUM(A1)', -1.5), ('+cmd', 2.0), ('@x', 3.0), "
            "('-y', 4.0), ('plain', 5.0)) v(text, number)"
        )
    export_tables(baseline, tmp_path / "exports")
    exported = pd.read_csv(tmp_path / "exports" / "t.csv")
    assert exported["text"].tolist() == ["'=SUM(A1)", "'+cmd", "'@x", "'-y", "plain"]
    assert exported["number"].tolist() == [-1.5, 2.0, 3.0, 4.0, 5.0]
    parquet = duckdb.sql(f"SELECT text FROM read_parquet('{tmp_path / 'exports' / 't.parquet'}')").fetchall()
    assert parquet[0] == ("=SUM(A1)",)


def test_exports_of_a_table_no_longer_published_are_removed(tmp_path):
    """A renamed table (practice_outcomes) leaves no CSV or Parquet with old data beside the new."""
    from tipipeline.publish.baseline import export_tables

    exports = tmp_path / "exports"
    exports.mkdir()
    for name in ("practice_outcomes.csv", "practice_outcomes.parquet", "notes.txt"):
        (exports / name).write_text("old", encoding="utf-8")
    baseline = tmp_path / "b.duckdb"
    with duckdb.connect(str(baseline)) as conn:
        conn.execute("CREATE TABLE partnership_outcomes AS SELECT 1 AS n")
        conn.execute("CREATE VIEW practice_outcomes AS SELECT * FROM partnership_outcomes")
    export_tables(baseline, exports)
    assert sorted(p.name for p in exports.iterdir()) == [
        "notes.txt",
        "partnership_outcomes.csv",
        "partnership_outcomes.parquet",
    ]


def test_changes_are_suppressed_with_their_cells(built):
    _, conn = built
    changes = _df(conn, "SELECT * FROM indicator_changes")
    assert changes.loc[changes["suppressed"], "change"].isna().all()
    tested = changes[~changes["suppressed"]]
    assert tested["significance"].isin(["significant increase", "significant decrease", "no significant change"]).all()
    # Each published change is between two published cells (the values themselves: test_oracle.py).
    cells = _df(conn, "SELECT indicator_id, wave, geography_level, geography_code, suppressed FROM indicators")
    keyed = cells.set_index(["indicator_id", "wave", "geography_level", "geography_code"])["suppressed"]
    for row in tested.itertuples():
        assert not keyed[(row.indicator_id, row.from_wave, row.geography_level, row.geography_code)]
        assert not keyed[(row.indicator_id, row.to_wave, row.geography_level, row.geography_code)]


def test_three_waves_are_compared_with_the_previous_and_the_baseline_wave():
    """Waves a, b, c give a->b, b->c and a->c; each change is the later minus the earlier wave's value,
    with Newcombe's interval from statsmodels for a percentage."""
    from statsmodels.stats.proportion import confint_proportions_2indep

    from tipipeline.indicators.derived import indicator_changes

    counts = {"a": (30, 60), "b": (36, 60), "c": (45, 60)}  # agreeing, respondents
    cells = pd.DataFrame(
        [
            {
                "indicator_id": "ti_index_agree",
                "geography_level": "london",
                "geography_code": "E12000007",
                "geography_name": "London",
                "sector": "all",
                "wave": wave,
                "value": 100 * k / n,
                "sd": np.nan,
                "n": n,
                "numerator": k,
                "suppressed": False,
            }
            for wave, (k, n) in counts.items()
        ]
    )
    catalogue = pd.DataFrame([{"indicator_id": "ti_index_agree", "measure": "percent"}])
    changes = indicator_changes(cells, catalogue, ["a", "b", "c"])
    assert sorted(zip(changes["from_wave"], changes["to_wave"])) == [("a", "b"), ("a", "c"), ("b", "c")]
    row = changes[(changes["from_wave"] == "a") & (changes["to_wave"] == "c")].iloc[0]
    low, high = confint_proportions_2indep(45, 60, 30, 60, method="newcomb")
    assert (row["change"], row["lower_ci"], row["upper_ci"]) == pytest.approx((25.0, 100 * low, 100 * high), abs=1e-9)
    assert row["significance"] == "significant increase"
    # Two waves: one pair, no duplicate baseline comparison.
    assert len(indicator_changes(cells[cells["wave"] != "c"], catalogue, ["a", "b"])) == 1


def test_row_level_scores_are_built_in_a_temporary_table_never_in_the_warehouse_file(built, tmp_path):
    """The wave's scores are the connection's temporary table while the indicators are built, so they
    never reach the warehouse file; a warehouse table of that name left by an earlier tipipeline (killed
    mid-build) is dropped."""
    import shutil

    from tipipeline.framework.catalogue import load_indicator_catalogue
    from tipipeline.indicators.build import SCORES_SCRATCH, build_wave_indicators
    from tipipeline.ingest.codebook import load_codebook
    from tipipeline.reference import load_reference

    settings, _ = built
    copy = tmp_path / "warehouse.duckdb"
    shutil.copy(settings.warehouse_path, copy)
    framework = load_framework()
    codebook = load_codebook(settings.codebook_path, framework)
    with duckdb.connect(str(copy)) as conn:
        conn.execute(f"CREATE TABLE {SCORES_SCRATCH} AS SELECT 'left over' AS respondent_id")
    with duckdb.connect(str(copy)) as conn:
        wave = conn.execute("SELECT min(wave) FROM stg_answers").fetchall()[0][0]
        built_wave = build_wave_indicators(
            conn, wave, framework, codebook, load_indicator_catalogue(framework), load_reference()
        )
        where = conn.execute(
            "SELECT database_name, temporary FROM duckdb_tables() WHERE table_name = ?", [built_wave.scores_table]
        ).fetchall()
        assert built_wave.scores_table == SCORES_SCRATCH and where == [("temp", True)]
        assert conn.execute(f"SELECT count(*) FROM {SCORES_SCRATCH}").fetchall()[0][0] > 0
    with duckdb.connect(str(copy), read_only=True) as other:
        tables = {t for (t,) in other.execute("SELECT table_name FROM duckdb_tables()").fetchall()}
    assert SCORES_SCRATCH not in tables
