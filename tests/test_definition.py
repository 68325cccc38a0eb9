"""The London definition (issue 15): protocol and statements as data, the panel's rounds read by the
export readers, the published tables against hand computations, disclosure control of small groups,
and the synthetic panel built end to end."""

from __future__ import annotations

import csv
import hashlib
import hmac
import json
import re
from fractions import Fraction
from pathlib import Path

import duckdb
import pandas as pd
import pytest
from conftest import SAMPLE_RAW
from hypothesis import given, settings
from hypothesis import strategies as st

from tipipeline.consensus import tables
from tipipeline.consensus.config import load_protocol, load_statements
from tipipeline.consensus.rounds import ingest_panel
from tipipeline.errors import ConfigError, InputError
from tipipeline.framework import load_framework
from tipipeline.sample.consensus import TEMPLATES

KEY = b"a test key, long enough to be a real one: 0123456789"
FRAMEWORK = load_framework()
SAMPLE_DEFINITION = SAMPLE_RAW / "definition"


def protocol_text(**changes) -> str:
    text = (TEMPLATES / "definition.yaml").read_text()
    for old, new in changes.items():
        assert old in text, old
        text = text.replace(old, new)
    return text


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


# --- the protocol and the statements -----------------------------------------------------------


def test_sample_protocol_and_statements_load():
    protocol = load_protocol(TEMPLATES / "definition.yaml")
    statements = load_statements(TEMPLATES / "statements.yaml", FRAMEWORK)
    assert protocol.consensus.method == "bands"
    assert protocol.consensus.band_rule().in_top_min == 70
    assert statements.retired_in("S09") == 2  # reworded as S15 from round 2


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        ({"  method: bands\n": "  method: bands\n  typo: 1\n"}, "consensus.typo", "Extra inputs"),
        ({"top: [7, 9]": "top: [3, 9]"}, "scale.top", "must lie above the bottom band"),
        (
            {"  method: bands\n  in: {top_min_percent: 70, bottom_max_percent: 15}\n": "  method: bands\n"},
            "consensus.method",
            "needs both",
        ),
    ],
)
def test_a_bad_protocol_names_its_field(tmp_path, change, field, message):
    path = write(tmp_path / "definition.yaml", protocol_text(**change))
    with pytest.raises(ConfigError) as caught:
        load_protocol(path)
    assert caught.value.field == field
    assert message in caught.value.message


def test_ipras_needs_a_nine_point_scale(tmp_path):
    text = protocol_text(
        **{"maximum: 9": "maximum: 5", "bottom: [1, 3]": "bottom: [1, 2]", "top: [7, 9]": "top: [4, 5]"}
    )
    text = text.replace('    "9 - Strongly agree": 9\n', "")
    text = text.replace(
        "  method: bands\n  in: {top_min_percent: 70, bottom_max_percent: 15}\n  out: {bottom_min_percent: 70, top_max_percent: 15}\n",
        "  method: ipras\n",
    )
    with pytest.raises(ConfigError, match="defined for a 1-9 scale"):
        load_protocol(write(tmp_path / "definition.yaml", text))


@pytest.mark.parametrize(
    ("extra", "field", "message"),
    [
        ("  - {id: S01, kind: practice, text: Again.}\n", "statements[17].id", "duplicate id 'S01'"),
        (
            "  - {id: S20, kind: practice, text: New., rewords: S99, introduced_in: 2}\n",
            "statements[17].rewords",
            "no statement 'S99'",
        ),
        (
            "  - {id: S20, kind: practice, text: New., rewords: S16, introduced_in: 2}\n",
            "statements[17].rewords",
            "must be introduced after",
        ),
        (
            "  - {id: S20, kind: practice, text: New., principle: kindness}\n",
            "statements[17].principle",
            "no framework principle",
        ),
    ],
)
def test_a_bad_statement_names_its_field(tmp_path, extra, field, message):
    path = write(tmp_path / "statements.yaml", (TEMPLATES / "statements.yaml").read_text() + extra)
    with pytest.raises(ConfigError) as caught:
        load_statements(path, FRAMEWORK)
    assert caught.value.field.endswith(field)
    assert message in caught.value.message


# --- a small panel, built by hand ----------------------------------------------------------------

PANEL = """Email,Name,Group,Borough
Ann@Example.org ,Ann A,council,Camden
bob@example.org,Bob B,police,
cat@example.org,Cat C,Lived Experience,Hackney
dan@example.org,Dan D,health,Lambeth
eve@example.org,Eve E,academic,
"""
STATEMENTS = """statements:
  - {id: A1, kind: principle, principle: safety, text: Safety comes first.}
  - {id: A2, kind: practice, domain: training_workforce, text: Everyone is trained.}
  - {id: A3, kind: practice, domain: training_workforce, introduced_in: 2, rewords: A2, text: Everyone who meets the public is trained.}
"""


def small_panel(tmp_path: Path, round1: str, round2: str | None = None) -> Path:
    folder = tmp_path / "definition"
    write(folder / "definition.yaml", (TEMPLATES / "definition.yaml").read_text())
    write(folder / "statements.yaml", STATEMENTS)
    write(folder / "panel.csv", PANEL)
    write(folder / "round-1" / "r1.csv", round1)
    if round2 is not None:
        write(folder / "round-2" / "r2.csv", round2)
    return folder


def read(folder: Path):
    return ingest_panel(
        folder, load_protocol(folder / "definition.yaml"), load_statements(folder / "statements.yaml", FRAMEWORK), KEY
    )


def pseudonym(email: str) -> str:
    """The pseudonym computed apart from the pipeline: HMAC-SHA256 of the normalised e-mail."""
    return hmac.new(KEY, b"panellist:" + email.strip().casefold().encode(), hashlib.sha256).hexdigest()[:32]


ROUND1 = """Email,Completion time,A1,A2
ann@example.org,2025-02-03 10:00,9,8
bob@example.org,2025-02-03 10:05,3,Unable to rate
BOB@example.org,2025-02-03 11:00,4,
cat@example.org,2025-02-03 10:10,12,7
dan@example.org,2025-02-03 10:20,,
zed@example.org,2025-02-03 10:30,9,9
"""
ROUND2 = """Email,Everyone who meets the public is trained.,Safety comes first.
ann@example.org,7,8
bob@example.org,9 - Strongly agree,1 - Strongly disagree
cat@example.org,5,5
dan@example.org,6,7
zed@example.org,Ann A,5
"""


def test_panellists_are_pseudonymised_the_same_in_every_round(tmp_path):
    ingest = read(small_panel(tmp_path, ROUND1, ROUND2))
    panel = ingest.panel.panellists.set_index("panellist_id")
    # Case and spaces in the e-mail do not matter; the unknown group is quarantined, not a panellist.
    assert sorted(panel.index) == sorted(
        pseudonym(e) for e in ["ann@example.org", "bob@example.org", "cat@example.org", "dan@example.org"]
    )
    assert panel.loc[pseudonym("cat@example.org"), "stakeholder_group"] == "lived_experience"
    assert panel.loc[pseudonym("ann@example.org"), "borough_code"] == "E09000007"  # Camden
    assert ingest.panel.quarantine[["source_row", "column"]].values.tolist() == [[6, "Group"]]
    first, second = ingest.files
    assert set(first.responses["panellist_id"]) == {pseudonym("ann@example.org"), pseudonym("bob@example.org")}
    # Cat's round-1 response was quarantined (a rating of 12), but she took part: invited to round 2.
    assert set(second.responses["panellist_id"]) == {
        pseudonym(e) for e in ("ann@example.org", "bob@example.org", "cat@example.org")
    }


def test_round_rows_are_accounted_for_by_row_and_rule(tmp_path):
    ingest = read(small_panel(tmp_path, ROUND1, ROUND2))
    first, second = ingest.files
    # Round 1 (a one-header CSV, so data rows start at 2): Bob twice (his later row 4 kept), Cat's
    # 12 off the 1-9 scale, Dan rated nothing, Zed is not on the panel.
    assert first.exclusions[["source_row", "rule"]].values.tolist() == [[3, "duplicate_submission"], [6, "no_ratings"]]
    assert first.quarantine[["source_row", "column", "value"]].values.tolist() == [[5, "A1", "12"], [7, "Email", ""]]
    assert "row 4" in first.exclusions.loc[0, "detail"]
    accounting = first.accounting
    assert (
        accounting["rows_read"]
        == 6
        == accounting["rows_accepted"] + accounting["rows_quarantined"] + accounting["rows_excluded"]
    )
    # Round 2 matched its columns by the statements' wording. Dan sent nothing to rate in round 1, so
    # he was not invited; a panellist's name typed into a rating cell is quarantined, never stored.
    assert second.exclusions[["source_row", "rule"]].values.tolist() == [[5, "not_invited"]]
    assert second.quarantine[["source_row", "column", "value"]].values.tolist() == [
        [6, "Email", ""],
        [6, "Everyone who meets the public is trained.", "[not stored: it may identify a person]"],
    ]
    ratings = second.ratings.set_index(["panellist_id", "statement_id"])["rating"]
    assert ratings[(pseudonym("bob@example.org"), "A3")] == 9  # "9 - Strongly agree"
    assert ratings[(pseudonym("bob@example.org"), "A1")] == 1
    bob1 = first.ratings[first.ratings["panellist_id"] == pseudonym("bob@example.org")].set_index("statement_id")
    assert bob1.loc["A1", "rating"] == 4  # the later submission
    assert pd.isna(bob1.loc["A2", "rating"]) and bob1.loc["A2", "missing_reason"] == "not_answered"


def test_a_missing_or_retired_statement_column_is_an_error_naming_it(tmp_path):
    folder = small_panel(tmp_path, "Email,A1\nann@example.org,9\n")
    with pytest.raises(InputError, match="no column for statement A2"):
        read(folder)
    folder = small_panel(tmp_path / "again", ROUND1, "Email,A1,A2,A3\nann@example.org,9,9,9\n")
    with pytest.raises(InputError, match="rates statement A2, which is not rated in round 2"):
        read(folder)


# --- the tables, by hand -------------------------------------------------------------------------


def ratings_frame(rows: list[tuple[int, str, str, int | None]]) -> pd.DataFrame:
    return pd.DataFrame(
        [
            {
                "round": r,
                "panellist_id": p,
                "statement_id": s,
                "rating": v,
                "missing_reason": None if v is not None else "unable_to_rate",
            }
            for r, p, s, v in rows
        ]
    ).astype({"rating": "Int64"})


def test_statement_results_by_hand():
    protocol = load_protocol(TEMPLATES / "definition.yaml")
    statements = load_statements(TEMPLATES / "statements.yaml", FRAMEWORK)
    # Round 1: ten councillors and five police officers rate S01. Council: 8 x 8, 2 x 2 -> 80% top,
    # 20% bottom: none (bottom above 15%). Police: 5 x 9: in. All 15: 13 top (86.67%), 2 bottom
    # (13.33%): in. Round 2: all rate 8 -> 100% top; the change 13.33 points < 15: stable.
    panel = pd.DataFrame(
        {
            "panellist_id": [f"c{i}" for i in range(10)] + [f"p{i}" for i in range(5)],
            "stakeholder_group": ["council"] * 10 + ["police"] * 5,
        }
    )
    rows = [(1, f"c{i}", "S01", 8 if i < 8 else 2) for i in range(10)] + [(1, f"p{i}", "S01", 9) for i in range(5)]
    rows += [(2, pid, "S01", 8) for pid in panel["panellist_id"]] + [(2, "p0", "S02", None)]
    results = tables.statement_results(ratings_frame(rows), panel, protocol, statements).set_index(
        ["statement_id", "round", "panel_group"]
    )
    everyone = results.loc[("S01", 1, "all")]
    assert everyone["n_rated"] == 15
    assert everyone["pct_top"] == pytest.approx(float(Fraction(13, 15) * 100))
    assert everyone["pct_bottom"] == pytest.approx(float(Fraction(2, 15) * 100))
    assert everyone["median"] == 8 and everyone["consensus"] == "in"
    assert pd.isna(everyone["stable"])
    assert results.loc[("S01", 1, "council"), "consensus"] == "none"
    assert results.loc[("S01", 1, "police"), "consensus"] == "in"
    assert results.loc[("S01", 2, "all"), "stable"]
    # Nobody rated S02 (one "unable to rate"): fewer than 5 ratings, so even the whole panel's row is withheld.
    assert results.loc[("S02", 2, "all"), "suppressed"]
    assert results.loc[("S02", 2, "all"), "suppression_reason"] == "fewer than 5 panellists rated this statement"
    # No stakeholder group below the threshold of 5 ratings of S01: nothing of S01 withheld.
    assert not results.loc["S01", "suppressed"].any()


def no_group_revealed(sizes: dict[str, int], withheld: set[str], threshold: int) -> bool:
    """What a reader can work out: the whole panel minus the published groups is the withheld
    groups together. Safe when that is nobody, or at least `threshold` people in two groups or more."""
    hidden = [g for g in withheld if sizes[g] > 0]
    small = {g for g, n in sizes.items() if 0 < n < threshold}
    return small <= withheld and (not hidden or (sum(sizes[g] for g in hidden) >= threshold and len(hidden) >= 2))


def test_the_group_rule_fails_on_a_constructed_breach():
    sizes = {"council": 12, "police": 3, "health": 8, "research": 9}
    # Withholding the small group alone is a breach: all minus the published groups gives the police's 3.
    assert not no_group_revealed(sizes, {"police"}, 5)
    withheld = tables.withheld_groups(sizes, 5)
    assert set(withheld) == {"police", "health"}  # health, the smallest published group, withheld too
    assert no_group_revealed(sizes, set(withheld), 5)
    assert "fewer than 5" in withheld["police"] and "worked out" in withheld["health"]


@settings(max_examples=300, deadline=None)
@given(
    st.dictionaries(st.sampled_from(["a", "b", "c", "d", "e", "f"]), st.integers(0, 20), min_size=1), st.integers(1, 10)
)
def test_withheld_groups_never_reveal_a_group(sizes, threshold):
    withheld = set(tables.withheld_groups(sizes, threshold))
    published = [g for g, n in sizes.items() if n > 0 and g not in withheld]
    # Safe, or every group withheld with fewer than the threshold in all: then statement_results
    # withholds the whole panel's row as well (test_one_group_alone_is_never_published_as_the_whole_panel).
    assert no_group_revealed(sizes, withheld, threshold) or (not published and sum(sizes.values()) < threshold)


def test_suppressed_rows_carry_no_values():
    protocol = load_protocol(TEMPLATES / "definition.yaml")
    statements = load_statements(TEMPLATES / "statements.yaml", FRAMEWORK)
    panel = pd.DataFrame(
        {
            "panellist_id": [f"c{i}" for i in range(6)] + ["r0", "r1"],
            "stakeholder_group": ["council"] * 6 + ["research"] * 2,
        }
    )
    rows = [(1, pid, "S01", 7) for pid in panel["panellist_id"]]
    results = tables.statement_results(ratings_frame(rows), panel, protocol, statements).set_index("panel_group")
    # Research (2 < 5) is withheld, and council with it: the whole panel minus council is research.
    assert results.loc["research", "suppressed"] and results.loc["council", "suppressed"]
    for group in ("research", "council"):
        assert results.loc[group, tables.VALUE_COLUMNS].isna().all()
    assert results.loc["all", "n_rated"] == 8


def test_groups_are_withheld_on_each_statements_ratings():
    protocol = load_protocol(TEMPLATES / "definition.yaml")
    statements = load_statements(TEMPLATES / "statements.yaml", FRAMEWORK)
    panel = pd.DataFrame(
        {
            "panellist_id": [f"c{i}" for i in range(8)] + [f"r{i}" for i in range(6)] + [f"h{i}" for i in range(7)],
            "stakeholder_group": ["council"] * 8 + ["research"] * 6 + ["health"] * 7,
        }
    )
    # Six researchers responded, but two could not rate S02: four ratings of S02 is too few, though
    # six of S01 are enough. Health (7) is then withheld for S02 too: the whole panel minus councils
    # would otherwise be the researchers' four.
    rows = [(1, pid, "S01", 8) for pid in panel["panellist_id"]]
    rows += [(1, pid, "S02", None if pid in ("r0", "r1") else 7) for pid in panel["panellist_id"]]
    # Round 2: everyone rates S02; health is published again, but its stability is not worked out
    # from round 1's withheld ratings.
    rows += [(2, pid, "S02", 8) for pid in panel["panellist_id"]]
    results = tables.statement_results(ratings_frame(rows), panel, protocol, statements).set_index(
        ["statement_id", "round", "panel_group"]
    )
    assert not results.loc[("S01", 1), "suppressed"].any()
    assert results.loc[("S02", 1, "research"), "suppressed"] and results.loc[("S02", 1, "health"), "suppressed"]
    assert not results.loc[("S02", 1, "council"), "suppressed"]
    assert results.loc[("S02", 1, "research"), "panellists"] == 6
    assert not results.loc[("S02", 2, "health"), "suppressed"]
    assert pd.isna(results.loc[("S02", 2, "health"), "stable"])
    assert results.loc[("S02", 2, "council"), "stable"]  # published both rounds: 100% both times


def test_one_group_alone_is_never_published_as_the_whole_panel():
    protocol = load_protocol(TEMPLATES / "definition.yaml")
    statements = load_statements(TEMPLATES / "statements.yaml", FRAMEWORK)
    panel = pd.DataFrame({"panellist_id": ["a", "b", "c"], "stakeholder_group": ["police"] * 3})
    results = tables.statement_results(ratings_frame([(1, p, "S01", 9) for p in "abc"]), panel, protocol, statements)
    assert results["suppressed"].all()
    assert results[tables.VALUE_COLUMNS].isna().all().all()


def test_panel_flow_and_framework_links_by_hand():
    panel = pd.DataFrame(
        {"panellist_id": ["a", "b", "c", "d"], "stakeholder_group": ["council", "council", "police", "health"]}
    )
    flow = tables.panel_flow(
        {1: {"a", "b", "c", "d"}, 2: {"a", "c", "d"}},
        {1: {"a", "c", "d"}, 2: {"a", "d"}},
        panel,
        ["council", "police", "health"],
    )
    flow = flow.set_index(["round", "panel_group"])
    assert flow.loc[(1, "all"), ["invited", "responded"]].tolist() == [4, 3]
    assert flow.loc[(1, "council"), "response_rate_pct"] == 50
    assert flow.loc[(2, "all"), "responded_previous_round"] == 2
    assert flow.loc[(2, "police"), ["invited", "responded", "responded_previous_round"]].tolist() == [1, 0, 0]
    agreed = pd.DataFrame(
        {
            "statement_id": ["X1", "X2"],
            "principle": ["safety", None],
            "domain": [None, None],
            "statement_text": ["s", "outside"],
        }
    )
    links = tables.framework_links(agreed, FRAMEWORK).set_index("item_id")
    assert links.loc["safety", "finding"] == "supported" and links.loc["safety", "agreed_statements"] == "X1"
    assert links.loc["choice", "finding"] == "no agreed statement"
    assert links.loc["X2", "finding"] == "agreed statement with no place in the framework"
    assert len(links) == len(FRAMEWORK.principles) + len(FRAMEWORK.domains) + 1


# --- the synthetic panel, built end to end -------------------------------------------------------


def published(settings, table: str) -> pd.DataFrame:
    with duckdb.connect(str(settings.baseline_path), read_only=True) as conn:
        return conn.execute(f"SELECT * FROM {table}").df()


def test_sample_panel_builds_every_table(built_sample):
    statements = published(built_sample, "definition_statements").set_index(["statement_id", "round", "panel_group"])
    everyone = statements.xs("all", level="panel_group")
    # What the generator built the panel to show (tipipeline/sample/consensus.py).
    assert everyone.loc[("S06", 1), "consensus"] == "none" and everyone.loc[("S06", 3), "consensus"] == "in"
    assert everyone.loc[("S10", 2), "consensus"] == "in" and everyone.loc[("S10", 3), "consensus"] == "none"
    assert everyone.loc[("S12", 3), "consensus"] == "out"
    assert ("S09", 2) not in everyone.index and everyone.loc[("S15", 3), "consensus"] == "in"
    assert statements.loc[("S14", 3, "police"), "consensus"] == "out"
    assert statements.loc[("S14", 3, "council"), "consensus"] == "in"
    assert statements.loc[("S14", 3, "research"), "suppressed"]
    flow = published(built_sample, "panel_flow").set_index(["round", "panel_group"])
    manifest = json.loads((SAMPLE_RAW / "sample_manifest.json").read_text())["definition"]
    assert [flow.loc[(r, "all"), "responded"] for r in (1, 2, 3)] == manifest["responders"]
    agreed = published(built_sample, "london_definition")
    assert "S17" in set(agreed["statement_id"]) and "S12" not in set(agreed["statement_id"])
    links = published(built_sample, "definition_framework_links").set_index("item_id")
    assert links.loc["S17", "finding"] == "agreed statement with no place in the framework"


def test_sample_panel_dirty_rows_land_where_the_manifest_says(built_sample):
    manifest = json.loads((SAMPLE_RAW / "sample_manifest.json").read_text())["definition"]
    with duckdb.connect(str(built_sample.warehouse_path), read_only=True) as conn:
        excluded = {
            (f, r): rule
            for f, r, rule in conn.execute("SELECT source_file, source_row, rule FROM definition_exclusions").fetchall()
        }
        quarantined = {
            (f, r) for f, r in conn.execute("SELECT source_file, source_row FROM definition_quarantine").fetchall()
        }
        quality = conn.execute("SELECT * FROM definition_data_quality").df()
    for entry in manifest["dirty_rows"]:
        where = (Path(entry["file"]).name, entry["row"])
        if entry["expected"].startswith("quarantine"):
            assert where in quarantined, entry
        else:
            assert excluded.get(where) == entry["expected"], entry
    assert len(excluded) + len(quarantined) == len(manifest["dirty_rows"])
    assert (
        quality["rows_read"] == quality["rows_accepted"] + quality["rows_quarantined"] + quality["rows_excluded"]
    ).all()


def test_no_panellist_name_or_email_reaches_the_warehouse_or_baseline(built_sample):
    # The panel file read apart from the pipeline, with the csv module.
    with open(SAMPLE_DEFINITION / "panel.csv", newline="", encoding="utf-8") as handle:
        people = list(csv.DictReader(handle))
    secrets = {p["Email"] for p in people} | {p["Name"] for p in people}
    assert len(secrets) > 100
    for path in (built_sample.warehouse_path, built_sample.baseline_path):
        with duckdb.connect(str(path), read_only=True) as conn:
            for (table,) in conn.execute("SELECT table_name FROM duckdb_tables()").fetchall():
                text = conn.execute(f'SELECT * FROM "{table}"').df().to_csv()
                found = [s for s in secrets if s in text]
                assert not found, (path.name, table, found[:3])


def test_check_reports_a_round_file():
    from tipipeline.check import check_files

    path = next((SAMPLE_DEFINITION / "round-1").iterdir())
    (report,) = check_files([path])
    assert report["kind"] == "definition_round" and report["usable"]
    # The file read apart from the pipeline: statement columns and data rows after 3 header rows.
    with open(path, newline="", encoding="utf-8-sig") as handle:
        rows = list(csv.reader(handle))
    statement_columns = [c for c in rows[0] if re.fullmatch(r"S\d\d", c)]
    assert report["statements_rated"] == sorted(statement_columns)
    assert report["rows_read"] == len(rows) - 3
    dirty = [
        d
        for d in json.loads((SAMPLE_RAW / "sample_manifest.json").read_text())["definition"]["dirty_rows"]
        if d["file"].endswith(path.name)
    ]
    accepted = [row for number, row in enumerate(rows[3:], start=4) if number not in {d["row"] for d in dirty}]
    assert len(accepted) == report["rows_accepted"]
    for reason, text in (("unable_to_rate", "Unable to rate"), ("not_answered", "")):
        counted = sum(row[rows[0].index(c)] == text for row in accepted for c in statement_columns)
        reported = sum(n for key, n in report["missing_ratings"].items() if key.endswith(f": {reason}"))
        assert reported == counted, reason
    assert [p["row"] for p in report["problems"]] == [
        d["row"]
        for d in json.loads((SAMPLE_RAW / "sample_manifest.json").read_text())["definition"]["dirty_rows"]
        if d["file"].endswith(path.name) and d["expected"].startswith("quarantine")
    ]


def test_report_section_shows_the_definition_and_withholds_small_groups(built_sample):
    from tipipeline.report.content import build_report

    with duckdb.connect(str(built_sample.baseline_path), read_only=True) as conn:
        html, figures = build_report(conn, [], FRAMEWORK, True, FRAMEWORK.disclosure.min_cell_size)
        agreed = conn.execute("SELECT statement_id, statement_text FROM london_definition").fetchall()
        withheld = conn.execute(
            "SELECT statement_id, panel_group FROM definition_statements WHERE suppressed AND round = 3"
        ).fetchall()
    with open(SAMPLE_DEFINITION / "panel.csv", newline="", encoding="utf-8") as handle:
        people = list(csv.DictReader(handle))
    assert not [p["Email"] for p in people if p["Email"] in html]
    assert not [p["Name"] for p in people if p["Name"] in html]
    section = html[html.index('<h2 id="definition">') : html.index("</section>", html.index('<h2 id="definition">'))]
    for statement_id, text in agreed:
        assert f'<th scope="row">{statement_id}</th>' in section and text.replace("'", "&#39;") in section
    assert section.count("<figure>") == 3  # one chart per round
    assert [f.caption for f in figures if f.caption.startswith("Round ")] == [
        f"Round {r}: the share of panellists rating each statement 1-3 (left), 4-6 (centred) and 7-9 (right), "
        "with each statement's consensus."
        for r in (1, 2, 3)
    ]
    # The split statement's table: a withheld group's row shows [c], never a share.
    split = section[section.index("Statements the stakeholder groups split on") :]
    split = split[: split.index("</table>")]
    groups = {"research": "Research", "lived_experience": "Lived experience"}
    for statement_id, group in withheld:
        if statement_id == "S14":
            row = split[split.index(groups[group]) :]
            row = row[: row.index("</tr>")]
            assert "%" not in row and "[c]" in row


def test_check_on_the_statements_file_reports_the_framework_link():
    from tipipeline.check import check_files

    (report,) = check_files([SAMPLE_DEFINITION / "statements.yaml"])
    assert report["kind"] == "definition_protocol" and report["rounds"] == [1, 2, 3]
    named = set()
    for statement in load_statements(SAMPLE_DEFINITION / "statements.yaml", FRAMEWORK).statements:
        named |= {statement.principle, statement.domain}
    never_named = {p.id for p in FRAMEWORK.principles} | {d.id for d in FRAMEWORK.domains}
    never_named -= named
    # Items no statement names, and the domain of S10, which the sample makes fall out in round 3.
    assert set(report["framework_items_without_agreed_statement"]) == never_named | {"engagement_lived_experience"}
    assert report["agreed_statements_outside_framework"] == ["S17"]
