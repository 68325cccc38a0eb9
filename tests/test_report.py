"""The report as its readers get it: in Chromium at desktop and phone widths, checked by axe-core
(WCAG 2.2 AA), printed to PDF, and read for plain English. Screenshots and PDF pages are kept in
tests/artefacts/report/ to be looked at."""

from __future__ import annotations

import os
import re
from html.parser import HTMLParser

import pandas as pd
import pytest
from browser import browser_page, chromium_path
from conftest import REPO
from dagster import DagsterInstance

from tipipeline.framework import load_framework
from tipipeline.indicators.derived import indicator_changes
from tipipeline.pipeline import run_pipeline
from tipipeline.reference import load_reference
from tipipeline.report.data import ReportData
from tipipeline.report.sections import summary_section
from tipipeline.report.tables import Column, make_table

ARTEFACTS = REPO / "tests" / "artefacts" / "report"
AXE = REPO / "tests" / "a11y" / "node_modules" / "axe-core" / "axe.min.js"
WIDTHS = {"desktop": 1366, "phone": 390}
WCAG_22_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]
SECTIONS = [
    "Summary",
    "Definition and framework",
    "Data and methods",
    "Indicators by domain",
    "Journey and roadmap",
    "Borough partnership profiles",
    "Promising practice",
    "The evidence base",
    "Caveats",
]

# Every element outside a table's scrolling region stays inside its parent, and the page never
# scrolls sideways; text never overflows a box that hides overflow.
OVERFLOWS = """() => {
  const problems = [];
  const root = document.documentElement;
  if (root.scrollWidth > root.clientWidth) problems.push(`page is ${root.scrollWidth}px wide in a ${root.clientWidth}px window`);
  const describe = el => el.tagName.toLowerCase() + (el.id ? '#' + el.id : '') + ' "' + (el.textContent || el.alt || '').trim().slice(0, 40) + '"';
  for (const el of document.querySelectorAll('main *')) {
    const wrap = el.closest('.table-wrap, .figure-wrap');
    if (wrap && wrap !== el) continue;  // a wide table or figure scrolls inside its own keyboard-focusable region
    const box = el.getBoundingClientRect();
    if (box.width === 0 && box.height === 0) continue;
    const parent = el.parentElement.getBoundingClientRect();
    if (box.right > parent.right + 1 || box.left < parent.left - 1) problems.push(`${describe(el)} overflows its container`);
    const style = getComputedStyle(el);
    if (style.overflowX !== 'visible' && !el.matches('.table-wrap, .figure-wrap') && el.scrollWidth > el.clientWidth + 1)
      problems.push(`${describe(el)} clips its content`);
  }
  for (const wrap of document.querySelectorAll('.table-wrap, .figure-wrap'))
    if (wrap.scrollWidth > wrap.clientWidth && wrap.getAttribute('tabindex') !== '0') problems.push('a scrolling table cannot be reached by keyboard');
  return problems;
}"""
# The chart data tables sit in closed <details>: open them so the checks see them too.
OPEN_DETAILS = "() => document.querySelectorAll('details').forEach(d => d.open = true)"
IMAGE_SIZES = (
    "() => [...document.images].map(i => ({alt: i.alt.slice(0, 40), shown: i.clientWidth, natural: i.naturalWidth}))"
)


@pytest.fixture(scope="module")
def report(built_sample):
    chromium_path()
    with DagsterInstance.ephemeral() as instance:
        run_pipeline(built_sample, selection="key:maps or key:baseline_report", instance=instance)
    return built_sample.output_dir / "report" / "baseline.html"


def _axe_available() -> bool:
    if AXE.is_file():
        return True
    if os.environ.get("CI"):
        pytest.fail(f"axe-core is missing ({AXE}): `make test` installs it with npm from tests/a11y/package-lock.json")
    pytest.skip("axe-core is not installed: `make test` installs it (needs npm)")


def test_report_is_self_contained_with_alt_text_and_ordered_headings(report):
    html = report.read_text(encoding="utf-8")
    assert "http://" not in html.replace("http://www.w3.org", "") and "https://" not in html and "<script" not in html
    failed_requests = []
    with browser_page(width=WIDTHS["desktop"], height=900) as page:
        page.on("requestfailed", lambda request: failed_requests.append(request.url[:80]))
        page.goto(report.as_uri(), wait_until="load")
        images = page.evaluate(
            "() => [...document.images].map(i => ({alt: i.alt, ok: i.complete && i.naturalWidth > 0}))"
        )
        headings = page.evaluate("() => [...document.querySelectorAll('h1,h2,h3,h4')].map(h => Number(h.tagName[1]))")
        sections = page.evaluate("() => [...document.querySelectorAll('h2')].map(h => h.textContent)")
        errors = list(page.console_errors)
    assert not errors and not failed_requests, (errors, failed_requests)
    assert len(images) >= 15 and all(i["ok"] for i in images), [i for i in images if not i["ok"]][:3]
    assert all(len(i["alt"]) > 30 for i in images)
    assert headings[0] == 1 and headings.count(1) == 1
    assert all(b - a <= 1 for a, b in zip(headings, headings[1:])), headings
    assert all(title in sections for title in SECTIONS)
    assert html.count("<details>") == len(images)  # a data table beside every image
    maps = sorted((report.parent.parent / "maps").rglob("*.png"))
    outcome_maps = [m for m in maps if m.parent.name == "outcomes"]
    assert len(maps) - len(outcome_maps) == 2 * 12 * 4  # 2 waves x (index + 11 domains) x (3 sectors + partnership)
    # The latest wave's 8 outcome indicators (5 for all ages, 3 per resident aged 10-24), and the 5 side by side.
    assert sorted(m.name for m in outcome_maps)[:2] == [
        "all_measures_before.png",
        "outcome_rate_10_24_possession_of_weapons_before.png",
    ]
    assert len(outcome_maps) == 8 + 1 and {m.parent.parent.name for m in outcome_maps} == {"2025-w2"}


def test_the_evidence_base_maps_each_outcome_with_the_city_not_covered(report):
    html = report.read_text(encoding="utf-8")
    evidence = html[html.index('id="evidence"') :]
    parser = _Text()
    parser.feed(evidence)
    [maps] = [t for t in parser.tables if t[0][:3] == ["Outcome", "Area", "Rate per 1,000"]]
    assert len(maps) == 1 + 5 * 34  # the header; London and 33 areas for each all-ages outcome
    city = [row for row in maps if row[1] == "City of London"]
    assert len(city) == 5 and all(row[2] == "[x]" and row[-1].startswith("not covered") for row in city)
    assert 'alt="Maps of London boroughs, one per outcome' in evidence


@pytest.mark.parametrize("device", WIDTHS)
def test_nothing_overflows_and_figures_show_at_the_size_drawn(report, device):
    ARTEFACTS.mkdir(parents=True, exist_ok=True)
    with browser_page(width=WIDTHS[device], height=900) as page:
        page.goto(report.as_uri(), wait_until="load")
        page.screenshot(path=str(ARTEFACTS / f"report_{device}.png"), full_page=True)
        page.evaluate(OPEN_DETAILS)
        problems = page.evaluate(OVERFLOWS)
        images = page.evaluate(IMAGE_SIZES)
    assert not problems, problems[:10]
    # Shown at the size drawn (a phone scrolls the figure): their >= 9 pt text (tests/test_figures.py)
    # stays >= 9 pt. The 1 px border is inside the image's box.
    small = [i for i in images if i["shown"] < i["natural"] - 2]
    assert images and not small, small[:3]


@pytest.mark.parametrize("device", WIDTHS)
def test_axe_finds_no_wcag_22_aa_violation(report, device):
    _axe_available()
    with browser_page(width=WIDTHS[device], height=900) as page:
        page.goto(report.as_uri(), wait_until="load")
        page.evaluate(OPEN_DETAILS)
        page.add_script_tag(path=str(AXE))
        result = page.evaluate(
            "async tags => await axe.run(document, {runOnly: {type: 'tag', values: tags}, resultTypes: ['violations']})",
            WCAG_22_AA,
        )
    assert result["testEngine"]["name"] == "axe-core"
    violations = [(v["id"], v["help"], [n["target"] for n in v["nodes"]][:3]) for v in result["violations"]]
    assert not violations, violations


def test_axe_and_the_overflow_check_catch_a_constructed_breach(tmp_path):
    """The checks fail on a page that breaks them: an image without alt text, low-contrast text and
    a wide table outside any scrolling region."""
    _axe_available()
    page_html = tmp_path / "bad.html"
    page_html.write_text(
        '<!DOCTYPE html><html lang="en"><head><title>Bad</title></head><body><main>'
        '<img src="data:image/gif;base64,R0lGODlhAQABAAAAACw=">'
        '<p style="color:#cccccc">faint</p>'
        '<table><tr><td style="min-width:2000px">wide</td></tr></table></main></body></html>',
        encoding="utf-8",
    )
    with browser_page(width=390, height=800) as page:
        page.goto(page_html.as_uri(), wait_until="load")
        problems = page.evaluate(OVERFLOWS)
        page.add_script_tag(path=str(AXE))
        result = page.evaluate(
            "async tags => await axe.run(document, {runOnly: {type: 'tag', values: tags}})", WCAG_22_AA
        )
    assert any("page is" in p for p in problems) and any("overflows" in p for p in problems)
    assert result["testEngine"]["name"] == "axe-core"
    assert {"image-alt", "color-contrast"} <= {v["id"] for v in result["violations"]}


def test_report_prints_to_a4_pdf(report):
    import pypdfium2

    ARTEFACTS.mkdir(parents=True, exist_ok=True)
    pdf_path = ARTEFACTS / "report.pdf"
    with browser_page(width=WIDTHS["desktop"], height=900) as page:
        page.goto(report.as_uri(), wait_until="load")
        page.emulate_media(media="print")
        page.pdf(path=str(pdf_path), format="A4", print_background=True, prefer_css_page_size=True)
    document = pypdfium2.PdfDocument(str(pdf_path))
    pages = len(document)
    assert 8 <= pages <= 80, pages
    text = ""
    for index in range(pages):
        page = document[index]
        width, height = page.get_size()
        assert (round(width), round(height)) == (595, 842)  # A4 in points
        text += page.get_textpage().get_text_range()
        image = page.render(scale=1).to_pil().convert("L")
        image.save(ARTEFACTS / f"report_page_{index + 1:02d}.png")
        inked = sum(image.histogram()[:200]) / (image.width * image.height)
        assert inked > 0.002, f"page {index + 1} is blank"
        # Nothing printed into the right margin (12 mm = 34 pt): a table or image cut at the edge would.
        margin = image.crop((image.width - 28, 0, image.width, image.height))
        assert margin.getextrema()[0] > 200, f"page {index + 1} prints into the right margin"
    document.close()
    assert "Trauma-informed practice in London" in text
    assert all(title in text for title in SECTIONS)
    assert "Data table for this chart" not in text  # interactive parts are left out of print


class _Text(HTMLParser):
    """The text a reader sees, and the report's tables as lists of rows (headers first)."""

    def __init__(self):
        super().__init__()
        self.text: list[str] = []
        self.tables: list[list[list[str]]] = []
        self._row: list[str] | None = None
        self._cell: list[str] | None = None
        self._hidden = 0

    def handle_starttag(self, tag, attrs):
        if tag in ("style", "script"):
            self._hidden += 1
        elif tag == "table":
            self.tables.append([])
        elif tag == "tr":
            self._row = []
        elif tag in ("td", "th"):
            self._cell = []

    def handle_endtag(self, tag):
        if tag in ("style", "script"):
            self._hidden -= 1
        elif tag in ("td", "th") and self._cell is not None and self._row is not None:
            self._row.append("".join(self._cell).strip())
            self._cell = None
        elif tag == "tr" and self._row is not None:
            self.tables[-1].append(self._row)
            self._row = None

    def handle_data(self, data):
        if self._hidden:
            return
        self.text.append(data)
        if self._cell is not None:
            self._cell.append(data)


def test_report_speaks_plain_english(report):
    parser = _Text()
    parser.feed(report.read_text(encoding="utf-8"))
    text = " ".join(parser.text)
    readable = re.sub(r"\S+\.(csv|xlsx|xls|tsv)\b", "", text)  # file names keep their underscores
    codes = sorted(set(re.findall(r"\b[a-z]+(?:_[a-z0-9]+)+\b", readable)))
    assert not codes, codes  # e.g. cronbach_alpha, cultural_consideration, ti_index_mean
    assert "{" not in readable and "primary:" not in readable and "secondary:" not in readable
    reference = load_reference()
    codes_not_names = {*reference.bcus["bcu_code"], *reference.icbs["icb_code"], *reference.boroughs["gss_code"]}
    shown_codes = {cell for table in parser.tables for row in table for cell in row} & codes_not_names
    assert not shown_codes, f"codes where names belong: {sorted(shown_codes)[:5]}"
    assert not re.search(r"\bE(0[69]|5[04])\d{6}\b", readable), "a GSS code in the text"
    count_headers = ("Rows read", "Accepted", "Quarantined", "Excluded", "Respondents", "Items", "Documents")
    checked = 0
    for table in parser.tables:
        headers, *rows = table
        for column, header in enumerate(headers):
            if not header.startswith(count_headers):
                continue
            for row in rows:
                assert re.fullmatch(r"\d{1,3}(,\d{3})*|\[c\]|\[x\]", row[column]), (header, row[column])
                checked += 1
    assert checked > 50
    # A row withheld by disclosure control shows [c] in every number, in the charts' and maps' tables too.
    withheld_rows = 0
    for table in parser.tables:
        headers, *rows = table
        if "Withheld because" not in headers:
            continue
        reason, score = headers.index("Withheld because"), headers.index("Mean score")
        for row in rows:
            if row[reason]:
                assert row[score] == "[c]", row
                withheld_rows += 1
            else:
                assert re.fullmatch(r"\d\.\d\d", row[score]), row
    assert withheld_rows > 10
    # Journey stages in the framework's order wherever stages are listed together.
    stages = [s.name for s in sorted(load_framework().stages, key=lambda s: s.level)]
    for table in parser.tables:
        named = [h for h in table[0] if h in stages] or [
            row[1] for row in table[1:] if len(row) > 1 and row[1] in stages
        ]
        if len(named) > 1:
            assert named == [s for s in stages if s in named], named


def test_evidence_section_reports_rho_as_scipy_computes_it_and_says_what_it_cannot(report, built_sample):
    """The correlations shown equal scipy's Spearman rho on the published partnership_outcomes, with
    the Bonett-Wright interval worked by hand; the section says the link is ecological, not causal."""
    import math

    import duckdb
    from scipy import stats

    parser = _Text()
    parser.feed(report.read_text(encoding="utf-8"))
    text = " ".join(parser.text)
    start = text.rindex("The evidence base", 0, text.index("What this can and cannot say"))  # not the contents
    section = text[start : text.index("Caveats", start)]
    assert "ecological" in section and "causal" in section and "City of London" in section
    shown = [t for t in parser.tables if t and "Spearman's rho" in t[0]]
    assert len(shown) == 1, "one correlation table"
    headers, *rows = shown[0]
    assert rows
    with duckdb.connect(str(built_sample.baseline_path), read_only=True) as conn:
        practice = conn.execute("SELECT * FROM partnership_outcomes").df()
        names = dict(conn.execute("SELECT indicator_id, name FROM indicator_catalogue").fetchall())
    wave = practice.loc[practice["rate_before"].notna(), "wave"].max()
    practice = practice[practice["wave"] == wave]
    columns = {"12 months before": "rate_before", "12 months after": "rate_after"}
    checked = 0
    for row in rows:
        cell = dict(zip(headers, row))
        if cell["Period"] not in columns:
            continue
        indicator = next(i for i, n in names.items() if n == cell["Outcome"])
        mine = practice[practice["indicator_id"] == indicator]
        both = mine[["council_index", columns[cell["Period"]]]].dropna()
        rho = stats.spearmanr(both.iloc[:, 0], both.iloc[:, 1]).statistic
        n = len(both)
        half = stats.norm.ppf(0.975) * math.sqrt((1 + rho**2 / 2) / (n - 3))
        expected = [
            f"{rho:.3f}",
            f"{math.tanh(math.atanh(rho) - half):.3f}",
            f"{math.tanh(math.atanh(rho) + half):.3f}",
        ]
        assert [cell["Spearman's rho"], cell["Lower 95% CI"], cell["Upper 95% CI"]] == expected, cell
        assert cell["Boroughs"] == str(n)
        checked += 1
    assert checked >= 4


def test_count_columns_refuse_fractions():
    """A count column holding 69.5 is an error, never shown as a rounded integer."""
    frame = pd.DataFrame({"n": [69.0, None], "m": [3.14159, 2.0]})
    table = make_table(frame, [Column("n", "Respondents", "count"), Column("m", "Mean", "score")], "t")
    assert table.rows == [["69", "3.14"], ["[x]", "2.00"]]
    with pytest.raises(ValueError, match="whole number"):
        make_table(pd.DataFrame({"n": [69.5]}), [Column("n", "Respondents", "count")], "t")


def test_summary_measures_the_latest_wave_against_the_baseline_and_the_last_wave():
    """Three waves: the headline changes are c minus a (since the baseline) and c minus b (since the last wave)."""
    framework = load_framework()
    cells = pd.DataFrame(
        [
            {
                "indicator_id": "ti_index_mean",
                "geography_level": "london",
                "geography_code": "E12000007",
                "geography_name": "London",
                "sector": None,
                "wave": wave,
                "value": value,
                "sd": 0.8,
                "n": 400,
                "numerator": None,
                "suppressed": False,
                "suppression_reason": None,
                "comparison": "London",
            }
            for wave, value in (("2024-w1", 3.0), ("2025-w2", 3.2), ("2026-w3", 3.5))
        ]
    )
    waves = ["2024-w1", "2025-w2", "2026-w3"]
    changes = indicator_changes(cells, pd.DataFrame([{"indicator_id": "ti_index_mean", "measure": "mean"}]), waves)
    data = ReportData(
        indicators=cells,
        catalogue=pd.DataFrame({"indicator_id": ["ti_index_mean"], "name": ["Trauma-informed practice index"]}),
        changes=changes,
        journey_summary=pd.DataFrame(),
        coder_agreement=pd.DataFrame({"principle": [], "kappa": []}),
        data_quality=pd.DataFrame(),
        reliability=pd.DataFrame(),
        policy_documents=0,
        provenance=pd.DataFrame(),
        waves=waves,
        stage_levels=pd.Series([], dtype="float"),
        partnership=pd.DataFrame(),
        promising=pd.DataFrame(),
    )
    cards = {c["label"]: c["value"] for c in summary_section(data, framework).context["cards"]}
    assert cards["Change since the baseline, wave 2024-w1 to 2026-w3"] == "+0.50"
    assert cards["Change since the last wave, 2025-w2 to 2026-w3"] == "+0.30"


def test_change_chart_table_with_three_waves_reads_in_plain_english():
    """With a third wave the change table gains the change since the baseline: every header is words."""
    from tipipeline.report.figures import chart_figure
    from tipipeline.viz.charts import change_chart

    domains = {"policy": "Policy", "evaluation": "Evaluation"}
    cells = pd.DataFrame(
        [
            {
                "indicator_id": f"domain_mean_{domain}",
                "source": "survey",
                "geography_level": "london",
                "geography_code": "E12000007",
                "geography_name": "London",
                "sector": None,
                "wave": wave,
                "value": value + offset,
                "lower_ci": value + offset - 0.05,
                "upper_ci": value + offset + 0.05,
                "sd": 0.8,
                "n": 900,
                "numerator": None,
                "suppressed": False,
            }
            for domain, offset in (("policy", 0.0), ("evaluation", 0.2))
            for wave, value in (("2024-w1", 3.0), ("2025-w2", 3.1), ("2026-w3", 3.4))
        ]
    )
    catalogue = pd.DataFrame({"indicator_id": [f"domain_mean_{d}" for d in domains], "measure": "mean"})
    changes = indicator_changes(cells, catalogue, ["2024-w1", "2025-w2", "2026-w3"])
    figure = chart_figure(change_chart(changes, cells, domains), "Change")
    assert not [h for h in figure.table.headers if "_" in h], figure.table.headers
    baseline = figure.table.headers.index("Change since the baseline wave")
    previous = figure.table.headers.index("Change since the previous wave")
    assert [row[baseline] for row in figure.table.rows] == ["+0.40", "+0.40"]
    assert [row[previous] for row in figure.table.rows] == ["+0.30", "+0.30"]


def test_every_code_the_pipeline_writes_has_words_in_labels_yaml():
    """Exclusion rules and export formats named in the readers' code, and the comparison and
    significance words the statistics write, all have plain-English entries (labels.yaml)."""
    from tipipeline.report.tables import labels

    words = labels()
    surveys = (REPO / "tipipeline" / "ingest" / "surveys.py").read_text(encoding="utf-8")
    rules = set(re.findall(r'ledger\.exclude\([^;]*?"([a-z]+(?:_[a-z]+)+)"', surveys, flags=re.S))
    rules |= set(re.findall(r'"rule": "([a-z]+_[a-z_]+)"', surveys))
    assert {"partial_response", "no_consent", "blank_row"} <= rules  # the pattern finds them
    assert rules <= set(words["exclusion_rules"]), rules - set(words["exclusion_rules"])
    exports = (REPO / "tipipeline" / "ingest" / "raw_export.py").read_text(encoding="utf-8")
    formats = set(re.findall(r'"([a-z]+(?:_[a-z]+)*_(?:csv|xlsx|tsv))"', exports))
    assert formats and formats <= set(words["file_formats"]), formats - set(words["file_formats"])
    assert {"better", "worse", "similar", "higher", "lower", "not compared"} <= set(words["comparisons"])
    with pytest.raises(KeyError, match="labels.yaml has no entry"):
        from tipipeline.report.tables import label

        label("exclusion_rules", "a_rule_nobody_named")


def test_without_outcome_files_the_evidence_section_says_what_is_missing():
    from tipipeline.report.builder import render_section
    from tipipeline.report.sections import evidence_section

    section = evidence_section(None, None)
    html = render_section(section.template, section.context)
    assert section.title == "The evidence base" and not section.figures
    assert "no outcome figures yet" in html and "data/raw/outcomes/" in html
    assert "What this can and cannot say" in html  # the cautions stand either way
