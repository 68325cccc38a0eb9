"""Journey reports and the practice library page (issue 16), as partners get them: one report per
organisation, every number checked against the published table it came from (withheld cells shown
as [c] and nothing else), no unpublished entry anywhere, the library's filters worked in Chromium
with the keyboard, axe-core (WCAG 2.2 AA) on every kind of page, and printing to A4. Screenshots are
kept in tests/artefacts/journeys/ to be looked at."""

from __future__ import annotations

import csv
import json
import re
import shutil
from html.parser import HTMLParser
from pathlib import Path

import duckdb
import pandas as pd
import pytest
from browser import browser_page
from conftest import REPO, SAMPLE_RAW
from dagster import DagsterInstance
from test_report import AXE, OVERFLOWS, WCAG_22_AA, _axe_available

from tipipeline.framework import load_framework
from tipipeline.pipeline import run_pipeline
from tipipeline.practice.config import load_library_config
from tipipeline.report import journeys
from tipipeline.report.journey_pages import build_journey_pages
from tipipeline.report.journeys import DisclosureError, Subject, near_practice, weakest_domains
from tipipeline.viz.dotplot import LABEL_WIDTH, RIGHT, WIDTH, DotRow, dot_plot_svg

ARTEFACTS = REPO / "tests" / "artefacts" / "journeys"
FRAMEWORK = load_framework()
CONFIG = load_library_config()


@pytest.fixture(scope="module")
def journey_folder(built_sample) -> Path:
    with DagsterInstance.ephemeral() as instance:
        run_pipeline(built_sample, selection="key:journey_reports", instance=instance)
    return built_sample.output_dir / "journeys"


@pytest.fixture(scope="module")
def baseline(built_sample):
    conn = duckdb.connect(str(built_sample.baseline_path), read_only=True)
    yield conn
    conn.close()


class _Cells(HTMLParser):
    """Every element carrying a published figure's key (data-suppressed), with its text split by
    the class of the span it is in (value, interval, reason; anything else is `other`); the stage
    table's evidence cells (data-journey); the links and the h1."""

    def __init__(self):
        super().__init__()
        self.cells: list[dict] = []
        self.evidence: list[tuple[str, str]] = []
        self._cell: dict | None = None
        self._depth = 0
        self._spans: list[str] = []
        self._journey: list | None = None
        self.links: list[str] = []
        self.h1 = ""
        self._in_h1 = False

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if self._cell is None and "data-suppressed" in attrs and tag in ("td", "strong", "span"):
            self._cell = {**attrs, "tag": tag, "value": "", "interval": "", "reason": "", "other": ""}
            self._depth = 0
        elif self._cell is not None and tag == "span":
            self._spans.append((attrs.get("class") or "other").split()[0])
        if self._cell is not None and tag == self._cell["tag"]:
            self._depth += 1
        if tag == "td" and "data-journey" in attrs:
            self._journey = [attrs["data-journey"], ""]
        if tag == "a" and "href" in attrs:
            self.links.append(attrs["href"])
        self._in_h1 = self._in_h1 or tag == "h1"

    def handle_endtag(self, tag):
        if self._cell is not None and tag == self._cell["tag"]:
            self._depth -= 1
            if self._depth == 0:
                self.cells.append(self._cell)
                self._cell, self._spans = None, []
                return
        if self._cell is not None and tag == "span" and self._spans:
            self._spans.pop()
        if tag == "td" and self._journey is not None:
            self.evidence.append(tuple(self._journey))
            self._journey = None
        if tag == "h1":
            self._in_h1 = False

    def handle_data(self, data):
        if self._cell is not None:
            part = self._spans[-1] if self._spans and self._spans[-1] in ("value", "interval", "reason") else "other"
            self._cell[part] += data
        if self._journey is not None:
            self._journey[1] += data
        if self._in_h1:
            self.h1 += data


def parse(path: Path) -> _Cells:
    parser = _Cells()
    parser.feed(path.read_text(encoding="utf-8"))
    return parser


def organisations_from_reference() -> list[dict]:
    with (REPO / "tipipeline" / "reference" / "organisations.csv").open(encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


# --- every organisation gets a report ---------------------------------------------------------


def test_every_organisation_gets_a_report_and_the_index_links_them_all(journey_folder, baseline):
    index = parse(journey_folder / "index.html")
    reports = {}
    for href in index.links:
        assert (journey_folder / href).is_file(), href
        if href.endswith(".html") and href != "practice-library.html":
            reports[href] = parse(journey_folder / href).h1
    names = [org["name"] for org in organisations_from_reference()]
    assert len(names) == 39
    for name in names:
        assert sum(h1.startswith(f"{name}:") for h1 in reports.values()) == 1, name
    # A BCU has a report exactly when the published table lets at least one of its latest cells through.
    latest = max(
        w for (w,) in baseline.execute("SELECT DISTINCT wave FROM indicators WHERE source = 'survey'").fetchall()
    )
    disclosable = {
        name
        for (name,) in baseline.execute(
            "SELECT DISTINCT geography_name FROM indicators WHERE source = 'survey' AND geography_level = 'bcu' "
            "AND wave = ? AND NOT suppressed",
            [latest],
        ).fetchall()
    }
    bcu_reports = {h1.split(" BCU")[0] for h1 in reports.values() if "BCU (Metropolitan Police)" in h1}
    assert bcu_reports == disclosable
    assert len(reports) == 39 + len(disclosable)
    assert {p.name for p in journey_folder.glob("*.html")} == {*reports, "index.html", "practice-library.html"}


# --- nothing withheld is shown ---------------------------------------------------------------


def _published(cell: dict, tables: dict) -> tuple[bool, str, str]:
    """(withheld, value text, interval text) the published table gives for a page's figure."""
    level, field, code, wave = cell["data-level"], cell["data-field"], cell["data-geography"], cell["data-wave"]
    if level.startswith("partnership:"):
        side = level.split(":")[1]
        row = tables["partnership"].loc[(code, cell["data-indicator"], wave)]
        value = row[f"{side}_value"]
        return bool(row[f"{side}_suppressed"]), "[x]" if pd.isna(value) else f"{value:.2f}", ""
    if field in ("change", "change_ci"):
        before, after = wave.split(">")
        row = tables["changes"].loc[(cell["data-indicator"], level, code, before, after)]
        if field == "change":
            return bool(row["suppressed"]), f"{row['change']:+.2f}" if pd.notna(row["change"]) else "[x]", ""
        interval = f"{row['lower_ci']:+.2f} to {row['upper_ci']:+.2f}" if pd.notna(row["lower_ci"]) else ""
        return bool(row["suppressed"]), interval, ""
    row = tables["indicators"].loc[(cell["data-indicator"], level, code, wave)]
    interval = f"{row['lower_ci']:.2f} to {row['upper_ci']:.2f}" if pd.notna(row["lower_ci"]) else ""
    if field == "interval":
        return bool(row["suppressed"]), "", interval
    if field == "n":
        return bool(row["suppressed"]), f"{int(row['n']):,}" if pd.notna(row["n"]) else "", ""
    return bool(row["suppressed"]), f"{row['value']:.2f}" if pd.notna(row["value"]) else "[x]", interval


def published_tables(conn) -> dict:
    """The published tables the pages' figures come from, keyed as the pages' data-* attributes."""
    indicators = conn.execute("SELECT * FROM indicators WHERE source = 'survey'").df()
    changes = conn.execute("SELECT * FROM indicator_changes").df()
    partnership = conn.execute("SELECT * FROM borough_partnership").df()
    journey = conn.execute("SELECT org_id, domain, wave, evidence FROM journey").df()
    return {
        "journey": {f"{o}|{d}|{w}": e for o, d, w, e in journey.itertuples(index=False)},
        "indicators": indicators.set_index(["indicator_id", "geography_level", "geography_code", "wave"]).sort_index(),
        "changes": changes.set_index(
            ["indicator_id", "geography_level", "geography_code", "from_wave", "to_wave"]
        ).sort_index(),
        "partnership": partnership.set_index(["borough_code", "indicator_id", "wave"]).sort_index(),
    }


SVG_ROW = re.compile(r'<g data-indicator="([^"]*)" data-suppressed="(true|false)">(.*?)</g>', re.S)


def check_cells_against_baseline(folder: Path, conn) -> tuple[dict, list[str]]:
    """(figures checked per (field, level, withheld), problems): every figure on every page against
    the published row its data-* attributes name. A withheld figure reads [c] (a count or interval:
    nothing), with nothing beside it but a reason that says it is withheld; a shown one reads as
    published. A stage's evidence reads as the journey table has it. In the chart, a withheld row
    draws no dot and no interval, and a report's chart has a row per score."""
    tables = published_tables(conn)
    problems, counts = [], {}
    for path in sorted(folder.glob("*.html")):
        page = parse(path)
        for cell in page.cells:
            hidden, value, interval = _published(cell, tables)
            text = {k: cell[k].strip() for k in ("value", "interval", "reason", "other")}
            kind = (cell["data-field"], cell["data-level"].split(":")[0], hidden)
            counts[kind] = counts.get(kind, 0) + 1
            if hidden:
                blank = "" if cell["data-field"] in ("n", "change_ci", "interval") else "[c]"
                shows = (text["value"], text["interval"], text["other"])
                if shows != (blank, "", "") or cell["data-suppressed"] != "true":
                    problems.append(f"{path.name}: withheld {cell['data-indicator']} {cell['data-level']} shows {text}")
                if text["reason"] and not text["reason"].startswith("withheld"):
                    problems.append(f"{path.name}: withheld {cell['data-indicator']} has reason {text['reason']!r}")
            elif text["value"] != value or text["interval"] not in ("", interval) or text["reason"]:
                problems.append(f"{path.name}: {cell} shows {text}, the table has {value!r} {interval!r}")
        for key, shown in page.evidence:
            if shown.strip() != tables["journey"][key]:
                problems.append(f"{path.name}: evidence for {key} reads {shown!r}")
        html_text = path.read_text(encoding="utf-8")
        rows = SVG_ROW.findall(html_text)
        if 'id="scores"' in html_text and len(rows) != 1 + len(FRAMEWORK.domains):
            problems.append(f"{path.name}: the chart has {len(rows)} rows")
        for indicator, hidden, body in rows:
            if hidden == "true" and ("<circle" in body or "<line" in body):
                problems.append(f"{path.name}: the chart draws a withheld {indicator}")
    return counts, problems


def test_reports_show_every_value_as_published_and_no_withheld_value(journey_folder, baseline):
    counts, problems = check_cells_against_baseline(journey_folder, baseline)
    assert not problems, problems[:5]
    # Every kind of figure was met, both shown and withheld (the sample withholds some of each).
    for field, level in [
        ("value", "organisation"),
        ("value", "bcu"),
        ("value", "sector"),
        ("n", "organisation"),
        ("change", "organisation"),
        ("change_ci", "organisation"),
        ("value", "partnership"),
    ]:
        assert counts.get((field, level, True), 0) >= 1 and counts.get((field, level, False), 0) >= 1, (field, level)
    # The headline interval: one per organisation whose index is published in the latest wave.
    shown_index = baseline.execute(
        "SELECT count(*) FROM indicators WHERE source = 'survey' AND indicator_id = 'ti_index_mean' "
        "AND geography_level = 'organisation' AND NOT suppressed AND wave = (SELECT max(wave) FROM indicators "
        "WHERE source = 'survey')"
    ).fetchall()[0][0]
    assert counts.get(("interval", "organisation", False), 0) == shown_index > 30


def test_the_cell_check_catches_a_report_that_shows_a_withheld_value(journey_folder, baseline, tmp_path, monkeypatch):
    """The constructed breach: a renderer that prints a number where the table withholds one."""
    original = journeys._value_cell

    def leaky(field: str):
        def cell_of(row, kind="score"):
            cell = original(row, kind)
            if row is not None and bool(row["suppressed"]):
                cell = {**cell, field: {"value": "3.14", "interval": "3.01 to 3.27", "n": "7"}[field]}
            return cell

        return cell_of

    def pages_problems(name: str) -> list[str]:
        folder = tmp_path / name
        folder.mkdir()
        for page, html_text in build_journey_pages(baseline, FRAMEWORK, CONFIG, synthetic=True).items():
            (folder / page).write_text(html_text, encoding="utf-8")
        return check_cells_against_baseline(folder, baseline)[1]

    for field, leaked in {"value": "3.14", "interval": "3.01 to 3.27", "n": "7"}.items():
        monkeypatch.setattr(journeys, "_value_cell", leaky(field))
        problems = pages_problems(field)
        assert problems and leaked in problems[0], (field, problems[:1])
    monkeypatch.setattr(journeys, "_value_cell", original)

    partner = journeys._partner_cell
    monkeypatch.setattr(journeys, "_partner_cell", lambda row, side: {**partner(row, side), "value": "2.72"})
    assert any("2.72" in p for p in pages_problems("partner"))
    monkeypatch.setattr(journeys, "_partner_cell", partner)

    changes = journeys.change_rows
    monkeypatch.setattr(
        journeys,
        "change_rows",
        lambda *args: [{**c, "value": "+0.50"} if c["suppressed"] else c for c in changes(*args)],
    )
    assert any("+0.50" in p for p in pages_problems("change"))


def test_a_baseline_whose_withheld_rows_carry_numbers_is_refused(built_sample, tmp_path):
    copy = tmp_path / "baseline.duckdb"
    shutil.copy(built_sample.baseline_path, copy)
    with duckdb.connect(str(copy)) as conn:
        conn.execute(
            "UPDATE indicators SET value = 2.5 WHERE rowid = (SELECT min(rowid) FROM indicators WHERE suppressed)"
        )
        with pytest.raises(DisclosureError, match="withheld row carries a number"):
            build_journey_pages(conn, FRAMEWORK, CONFIG, synthetic=True)


def test_a_journey_row_carrying_a_withheld_score_is_refused(built_sample, tmp_path):
    copy = tmp_path / "baseline.duckdb"
    shutil.copy(built_sample.baseline_path, copy)
    with duckdb.connect(str(copy)) as conn:
        conn.execute(
            """
            UPDATE journey SET score = 3.0 WHERE rowid = (
              SELECT min(j.rowid) FROM journey j JOIN indicators i
                ON i.geography_level = 'organisation' AND i.geography_code = j.org_id AND i.wave = j.wave
               AND i.indicator_id = 'domain_mean_' || j.domain
              WHERE i.suppressed)
            """
        )
        with pytest.raises(DisclosureError, match="carries survey figures its withheld cell hides"):
            build_journey_pages(conn, FRAMEWORK, CONFIG, synthetic=True)


# --- the practice library ---------------------------------------------------------------------


def _unpublished_titles() -> set[str]:
    """Titles of sample submissions the library must not show: every row of both exports (read by
    test_practice's own small reader, and with csv for the rows it skips) not listed as shown."""
    from test_practice import raw_submissions

    shown = set(json.loads((SAMPLE_RAW / "sample_manifest.json").read_text())["practice"]["shown"])
    titles = {r["title"] for i, r in raw_submissions(SAMPLE_RAW / "practice").items() if i not in shown}
    with (SAMPLE_RAW / "practice" / "submissions" / "practice_submissions_qualtrics.csv").open(
        encoding="utf-8-sig", newline=""
    ) as f:
        rows = list(csv.reader(f))
    titles |= {dict(zip(rows[0], row, strict=True))["title"] for row in rows[3:]} - {
        dict(zip(rows[0], row, strict=True))["title"]
        for row in rows[3:]
        if dict(zip(rows[0], row, strict=True))["ResponseId"] in shown
    }
    return titles


def test_no_unpublished_entry_and_no_planted_contact_detail_appears_anywhere(journey_folder, baseline):
    hidden = _unpublished_titles()
    assert "Family group conferences" in hidden and "Peer mentoring for young people leaving custody" in hidden
    text = "\n".join(path.read_text(encoding="utf-8") for path in journey_folder.glob("*.html"))
    for title in hidden:
        assert title not in text, title
    assert "Draft: Reflective supervision for youth workers" in hidden  # a row the reader skipped
    assert "Adolescent safeguarding hub" in hidden  # the Forms export's entry without consent
    for planted in ("fgc.coordinator@example.org", "020 7946 0958", "VRU reviewer A", "VRU reviewer B"):
        assert planted not in text
        for (table,) in baseline.execute("SELECT table_name FROM duckdb_tables()").fetchall():
            assert planted not in baseline.execute(f'SELECT * FROM "{table}"').df().astype(str).to_csv(), table


def test_the_library_page_lists_every_published_entry(journey_folder, baseline):
    library = baseline.execute("SELECT entry_id, title FROM practice_library").df()
    page = (journey_folder / "practice-library.html").read_text(encoding="utf-8")
    ids = re.findall(r'<article class="entry" id="entry-([^"]+)"', page)
    assert sorted(ids) == sorted(library["entry_id"]) and len(ids) >= 15


def test_the_library_filters_work_from_the_file_with_the_keyboard(journey_folder, baseline):
    library = baseline.execute("SELECT entry_id, domains, sector FROM practice_library").df()
    policy = {e for e, d in zip(library["entry_id"], library["domains"]) if "policy" in json.loads(d)}
    police_policy = policy & set(library.loc[library["sector"] == "police", "entry_id"])
    visible = "() => [...document.querySelectorAll('article.entry')].filter(a => !a.hidden).map(a => a.id.slice(6))"
    url = (journey_folder / "practice-library.html").as_uri()
    with browser_page(width=1280, height=900) as page:
        page.goto(url + "#domain=policy", wait_until="load")
        assert set(page.evaluate(visible)) == policy  # a report's link to a filtered view
        assert page.locator("#count").inner_text() == f"Showing {len(policy)} of {len(library)} entries."
        page.goto(url, wait_until="load")
        page.reload(wait_until="load")
        assert len(page.evaluate(visible)) == len(library)
        # Keyboard: from the domain filter, Tab reaches the sector filter; choose Police, then Policy.
        page.locator("#filter-domain").focus()
        page.keyboard.press("Tab")
        assert page.evaluate("() => document.activeElement.id") == "filter-sector"
        page.select_option("#filter-sector", "police")
        page.select_option("#filter-domain", "policy")
        assert set(page.evaluate(visible)) == police_policy
        page.locator("#filter-clear").focus()
        page.keyboard.press("Enter")
        assert len(page.evaluate(visible)) == len(library)
        assert not page.console_errors
    # Without scripts every entry shows and the (useless) filter form stays hidden.
    with browser_page(width=1280, height=900) as page:
        html_text = (journey_folder / "practice-library.html").read_text(encoding="utf-8")
        page.set_content(re.sub(r"<script>.*?</script>", "", html_text, flags=re.S))
        assert len(page.evaluate(visible)) == len(library)
        assert page.locator("#filters").is_hidden()


def test_each_report_links_practice_in_its_weakest_domains(journey_folder, baseline):
    library = baseline.execute("SELECT entry_id, domains FROM practice_library").df()
    domains = dict(zip(library["entry_id"], library["domains"].map(json.loads)))
    names = {d.name: d.id for d in FRAMEWORK.domains}
    checked = 0
    for path in sorted(journey_folder.glob("*.html")):
        page = path.read_text(encoding="utf-8")
        weakest = re.findall(r"<h3>([^<:]+): [^<]+</h3>", page.split('id="roadmap"')[-1].split('id="practice"')[0])
        linked = re.findall(r'href="practice-library\.html#entry-([^"]+)"', page)
        for entry in linked:
            # With no domain placed (too little evidence) a report lists practice in any domain.
            assert not weakest or {names[w] for w in weakest} & set(domains[entry]), (path.name, entry)
            checked += 1
    assert checked >= 39


# --- the parts, by hand -----------------------------------------------------------------------


def test_weakest_domains_rank_by_stage_then_score_and_leave_out_insufficient_evidence():
    stages = [
        {"domain": "a", "level": 2, "score": 3.1},
        {"domain": "b", "level": 1, "score": 3.4},
        {"domain": "c", "level": None, "score": None},
        {"domain": "d", "level": 1, "score": 3.2},
        {"domain": "e", "level": 3, "score": 3.9},
    ]
    assert [s["domain"] for s in weakest_domains(stages, 3)] == ["d", "b", "a"]


def test_practice_near_you_comes_nearest_first(built_sample, baseline):
    data = journeys.load_journey_data(baseline)
    boroughs = data.boroughs.set_index("name")
    sutton, merton, camden = (boroughs.loc[n, "gss_code"] for n in ("Sutton", "Merton", "Camden"))
    data.library = pd.DataFrame(
        [
            {
                "entry_id": "far",
                "title": "Far",
                "organisation": "X",
                "area": "Camden",
                "org_id": "x",
                "evidence_level_name": "L1",
                "domains": '["policy"]',
                "borough_codes": json.dumps([camden]),
            },
            {
                "entry_id": "own",
                "title": "Own",
                "organisation": "Y",
                "area": "Sutton",
                "org_id": "y",
                "evidence_level_name": "L1",
                "domains": '["policy"]',
                "borough_codes": json.dumps([sutton]),
            },
            {
                "entry_id": "region",
                "title": "Region",
                "organisation": "Z",
                "area": "Merton",
                "org_id": "z",
                "evidence_level_name": "L1",
                "domains": '["policy", "evaluation"]',
                "borough_codes": json.dumps([merton]),
            },
            {
                "entry_id": "other",
                "title": "Other domain",
                "organisation": "Z",
                "area": "Sutton",
                "org_id": "z",
                "evidence_level_name": "L1",
                "domains": '["environment"]',
                "borough_codes": json.dumps([sutton]),
            },
        ]
    )
    org = data.organisations.set_index("short_name").loc["Sutton"]
    subject = Subject("organisation", org["org_id"], org["name"], "Sutton", "council", "sutton")
    found = near_practice(data, subject, ["policy", "evaluation"])
    # Sutton and Merton are both in South West London's ICB; Camden is not.
    assert [(e["entry_id"], e["where"]) for e in found] == [
        ("own", "in your area"),
        ("region", "in your part of London"),
        ("far", "elsewhere in London"),
    ]


def test_the_dot_plot_puts_values_where_the_scale_says():
    svg = dot_plot_svg([DotRow("Policy", 3.0, 2.5, 3.5, 4.0, 1.0)], "t", "Own", "Sector")
    middle = LABEL_WIDTH + (WIDTH - LABEL_WIDTH - RIGHT) / 2
    quarter = (WIDTH - LABEL_WIDTH - RIGHT) / 8  # half a scale point on a 4-point range
    assert f'<circle cx="{middle:.1f}"' in svg
    assert f'x1="{middle - quarter:.1f}"' in svg and f'x2="{middle + quarter:.1f}"' in svg
    withheld = dot_plot_svg([DotRow("Policy", None, None, None, 4.0, 1.0, "[c] withheld")], "t", "Own", "Sector")
    assert "[c] withheld" in withheld and withheld.count("<circle") == 1  # the legend's dot only


def test_the_roadmap_covers_every_domain_and_a_gap_is_an_error(tmp_path):
    journeys.check_roadmap(FRAMEWORK)
    broken = tmp_path / "roadmap.yaml"
    text = journeys.ROADMAP.read_text(encoding="utf-8")
    broken.write_text(re.sub(r"  evaluation:\n(    .*\n)+", "", text), encoding="utf-8")
    journeys.load_roadmap.cache_clear()
    try:
        with pytest.raises(Exception, match="no actions for evaluation"):
            journeys.check_roadmap(FRAMEWORK, broken)
    finally:
        journeys.load_roadmap.cache_clear()


# --- in the browser ---------------------------------------------------------------------------

PAGES = {
    "council": "camden.html",
    "police": "met-police.html",
    "health": "nhs-swl-icb.html",
    "bcu": "bcu-central-west.html",
    "index": "index.html",
    "library": "practice-library.html",
}


@pytest.mark.parametrize("kind", PAGES)
@pytest.mark.parametrize("width", [1366, 390])
def test_axe_finds_no_violation_and_nothing_overflows(journey_folder, kind, width):
    _axe_available()
    ARTEFACTS.mkdir(parents=True, exist_ok=True)
    with browser_page(width=width, height=900) as page:
        page.goto((journey_folder / PAGES[kind]).as_uri(), wait_until="load")
        page.screenshot(path=str(ARTEFACTS / f"{kind}_{width}.png"), full_page=True)
        problems = page.evaluate(OVERFLOWS)
        page.add_script_tag(path=str(AXE))
        result = page.evaluate(
            "async tags => await axe.run(document, {runOnly: {type: 'tag', values: tags}, resultTypes: ['violations']})",
            WCAG_22_AA,
        )
        assert not page.console_errors
    assert not problems, problems[:5]
    violations = [(v["id"], v["help"], [n["target"] for n in v["nodes"]][:3]) for v in result["violations"]]
    assert not violations, violations


def test_a_report_prints_to_a4(journey_folder):
    import pypdfium2

    ARTEFACTS.mkdir(parents=True, exist_ok=True)
    pdf_path = ARTEFACTS / "camden.pdf"
    with browser_page(width=1366, height=900) as page:
        page.goto((journey_folder / "camden.html").as_uri(), wait_until="load")
        page.emulate_media(media="print")
        page.pdf(path=str(pdf_path), format="A4", print_background=True, prefer_css_page_size=True)
    document = pypdfium2.PdfDocument(str(pdf_path))
    text = "".join(document[i].get_textpage().get_text_range() for i in range(len(document)))
    sizes = {tuple(round(x) for x in document[i].get_size()) for i in range(len(document))}
    pages = len(document)
    document.close()
    assert sizes == {(595, 842)} and 3 <= pages <= 20, (sizes, pages)
    assert "Camden" in text and "Next steps" in text and "Your policy audit" in text
