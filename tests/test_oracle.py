"""An independent oracle for every published survey cell and every alpha of the bundled sample.

A small reference implementation that shares no code with the package: it reads the raw exports
with pandas, the codebook with PyYAML and the reference CSVs as plain tables, drops the rows the
sample's manifest lists as excluded or quarantined, scores respondents with `fractions`, and computes
each cell's n, numerator, value and 95% CI with scipy and statsmodels. The test compares all of them
with the published baseline: n and numerators exactly, values and CIs to 1e-9.
"""

from __future__ import annotations

import json
import math
import statistics
from collections import defaultdict
from fractions import Fraction
from functools import cache

import duckdb
import pandas as pd
import pytest
import yaml
from conftest import REPO, SAMPLE_RAW
from scipy import stats
from statsmodels.stats.proportion import confint_proportions_2indep, proportion_confint

REFERENCE = REPO / "tipipeline" / "reference"
LONDON = "E12000007"


def _key(text) -> str:
    return " ".join(str(text).split()).casefold()


class Names:
    """Name -> code for organisations, boroughs and BCUs, from the reference CSVs and alias table
    (read as text: the North Area BCU's code is "NA", which pandas would otherwise read as missing)."""

    def __init__(self):
        aliases = pd.read_csv(REFERENCE / "aliases.csv", dtype=str, keep_default_na=False)
        self.table: dict[str, dict[str, str]] = defaultdict(dict)
        for row in aliases.itertuples():
            self.table[row.entity][_key(row.alias)] = row.code
        orgs = pd.read_csv(REFERENCE / "organisations.csv", dtype=str, keep_default_na=False)
        for row in orgs.itertuples():
            for name in (row.name, row.short_name, row.org_id):
                self.table["organisation"][_key(name)] = row.org_id
        self.sector = dict(zip(orgs["org_id"], orgs["sector"]))
        boroughs = pd.read_csv(REFERENCE / "boroughs.csv", dtype=str, keep_default_na=False)
        for row in boroughs.itertuples():
            self.table["borough"][_key(row.name)] = row.gss_code
        self.bcu_of_borough = dict(zip(boroughs["gss_code"], boroughs["bcu_code"]))
        bcus = pd.read_csv(REFERENCE / "bcus.csv", dtype=str, keep_default_na=False)
        for row in bcus.itertuples():
            self.table["bcu"][_key(row.name)] = row.bcu_code

    def code(self, entity: str, text) -> str | None:
        if text is None or (isinstance(text, float) and math.isnan(text)) or not str(text).strip():
            return None
        return self.table[entity].get(_key(text))


def _respondents(wave: str, codebook: dict, manifest: dict, names: Names) -> pd.DataFrame:
    """One row per accepted respondent: geography and item values (scored, reverse-coded flipped)."""
    folder = SAMPLE_RAW / "surveys" / wave
    (path,) = [p for p in folder.iterdir() if p.suffix in {".csv", ".xlsx"}]
    if path.suffix == ".csv":  # Qualtrics: export tags, then question text and import ids
        frame = pd.read_csv(path, dtype=str, skiprows=[1, 2], encoding="utf-8-sig", keep_default_na=False)
        first_row = 4
    else:
        frame = pd.read_excel(path, dtype=str, keep_default_na=False)
        first_row = 2
    frame.index = range(first_row, first_row + len(frame))  # spreadsheet row numbers
    dropped = {
        d["row"]
        for d in manifest["dirty_rows"]
        if d["file"] == f"surveys/{wave}/{path.name}" and d["expected"] in {"excluded", "quarantined"}
    }
    frame = frame.drop(index=sorted(dropped))
    override = codebook.get("waves", {}).get(wave, {})
    by_text = override.get("match_by") == "text"

    def column(name, spec):
        if name in override.get("columns", {}):
            return override["columns"][name]
        return spec["text"] if by_text and spec.get("text") else spec["column"]

    fields = {name: column(name, spec) for name, spec in codebook["fields"].items()}
    rows = []
    for _, answer in frame.iterrows():
        org = names.code("organisation", answer[fields["organisation"]])
        assert org is not None, f"{wave}: organisation {answer[fields['organisation']]!r} did not resolve"
        sector = names.sector[org]
        borough = org if sector == "council" else names.code("borough", answer[fields["borough"]])
        bcu = None
        if sector == "police":
            bcu = names.code("bcu", answer[fields["bcu"]]) or names.bcu_of_borough.get(borough)
            bcu = bcu or None  # the City has no BCU (policed by the City of London Police)
        row = {
            "org_id": org,
            "sector": sector,
            "borough_code": borough if sector == "council" else None,
            "bcu_code": bcu,
            "icb_code": org if sector == "health" else None,
        }
        for flag in ("ti_training_12m", "willing_to_share"):
            text = answer[fields[flag]].strip()
            row[flag] = {"yes": 1, "no": 0}.get(text.casefold())
        for item in codebook["items"]:
            scale = codebook["scales"][item["scale"]]
            text = answer[column(item["id"], item)].strip()
            value = scale["values"].get(text)
            if value is not None and item.get("reverse"):
                value = min(scale["values"].values()) + max(scale["values"].values()) - value
            row[item["id"]] = value
        rows.append(row)
    return pd.DataFrame(rows)


def _scores(people: pd.DataFrame, codebook: dict) -> dict[str, list]:
    """Measure -> each respondent's exact score (None when too few items were answered)."""
    share = codebook.get("scoring", {}).get("min_share_answered", 0.5)
    groups: dict[str, list[str]] = defaultdict(list)
    for item in codebook["items"]:
        groups[f"domain:{item['domain']}"].append(item["id"])
        groups[f"principle:{item['principle']}"].append(item["id"])
    scores = {}
    for measure, items in groups.items():
        values = []
        for _, person in people.iterrows():
            answered = [int(person[i]) for i in items if pd.notna(person[i])]
            values.append(Fraction(sum(answered), len(answered)) if len(answered) >= share * len(items) else None)
        scores[measure] = values
    domains = [m for m in scores if m.startswith("domain:")]
    index = []
    for i in range(len(people)):
        have = [scores[d][i] for d in domains if scores[d][i] is not None]
        index.append(sum(have, Fraction(0)) / len(have) if len(have) >= 0.5 * len(domains) else None)
    scores["index:index"] = index
    return scores


def _geographies(person) -> list[tuple[str, str]]:
    found = [("london", LONDON), ("sector", person["sector"]), ("organisation", person["org_id"])]
    for level, column in (("borough", "borough_code"), ("bcu", "bcu_code"), ("icb", "icb_code")):
        if isinstance(person[column], str):
            found.append((level, person[column]))
    return found


@cache
def _sample(wave: str) -> tuple[dict, pd.DataFrame]:
    """The codebook and the accepted respondents of `wave`, read once per test session."""
    codebook = yaml.safe_load((SAMPLE_RAW / "surveys" / "codebook.yaml").read_text(encoding="utf-8"))
    manifest = json.loads((SAMPLE_RAW / "sample_manifest.json").read_text(encoding="utf-8"))
    return codebook, _respondents(wave, codebook, manifest, Names())


def _proportion_cell(numerator: int, n: int) -> dict:
    low, high = proportion_confint(numerator, n, alpha=0.05, method="wilson")
    return {"n": n, "numerator": numerator, "value": 100 * numerator / n, "lower_ci": 100 * low, "upper_ci": 100 * high}


@cache
def oracle_cells(wave: str) -> dict[tuple, dict]:
    """(indicator_id, geography_level, geography_code) -> n, numerator, value, lower_ci, upper_ci."""
    codebook, people = _sample(wave)
    scores = _scores(people, codebook)
    members: dict[tuple, list[int]] = defaultdict(list)
    for i, person in people.iterrows():
        for geography in _geographies(person):
            members[geography].append(i)
    cells = {}
    for measure, values in scores.items():
        kind, subject = measure.split(":")
        prefix = "ti_index" if kind == "index" else f"{kind}_{{}}_{subject}"
        for geography, who in members.items():
            mine = [values[i] for i in who if values[i] is not None]
            if not mine:
                continue
            n = len(mine)
            mean = statistics.mean(mine)
            if n >= 2:
                sd = math.sqrt(float(statistics.variance(mine)))
                half = stats.t.ppf(0.975, n - 1) * sd / math.sqrt(n)
            else:
                half = math.nan
            mean_id = f"{prefix}_mean" if kind == "index" else prefix.format("mean")
            cells[(mean_id, *geography)] = {
                "n": n,
                "numerator": None,
                "value": float(mean),
                "lower_ci": float(mean) - half,
                "upper_ci": float(mean) + half,
                "sd": sd if n >= 2 else math.nan,
            }
            agree_id = f"{prefix}_agree" if kind == "index" else prefix.format("agree")
            cells[(agree_id, *geography)] = _proportion_cell(sum(v >= 4 for v in mine), n)
    for flag in ("ti_training_12m", "willing_to_share"):
        for geography, who in members.items():
            answers = [people.loc[i, flag] for i in who if pd.notna(people.loc[i, flag])]
            if answers:
                cells[(flag, *geography)] = _proportion_cell(int(sum(answers)), len(answers))
    return cells


def oracle_alpha(wave: str) -> dict[str, float]:
    codebook, people = _sample(wave)
    alphas = {}
    for domain in sorted({item["domain"] for item in codebook["items"]}):
        items = [item["id"] for item in codebook["items"] if item["domain"] == domain]
        complete = people[items].dropna().astype(int)
        k = len(items)
        item_var = sum((statistics.variance([Fraction(v) for v in complete[i]]) for i in items), Fraction(0))
        total_var = statistics.variance([Fraction(v) for v in complete.sum(axis=1)])
        alphas[domain] = float(Fraction(k, k - 1) * (1 - item_var / total_var))
    return alphas


@pytest.fixture(scope="module")
def published(built_sample):
    with duckdb.connect(str(built_sample.baseline_path), read_only=True) as conn:
        return (
            conn.execute("SELECT * FROM indicators WHERE source = 'survey'").df(),
            conn.execute("SELECT * FROM reliability").df(),
            conn.execute("SELECT * FROM indicator_changes").df(),
        )


@pytest.mark.parametrize("wave", ["2024-w1", "2025-w2"])
def test_every_published_survey_cell_equals_the_oracle(published, wave):
    indicators, *_ = published
    expected = oracle_cells(wave)
    mine = indicators[indicators["wave"] == wave]
    assert set(zip(mine["indicator_id"], mine["geography_level"], mine["geography_code"])) == set(expected)
    compared = 0
    for cell in mine.itertuples():
        truth = expected[(cell.indicator_id, cell.geography_level, cell.geography_code)]
        if cell.suppressed:
            assert pd.isna(cell.value) and pd.isna(cell.n)
            continue
        assert truth["n"] >= 10 and cell.n == truth["n"], cell
        if truth["numerator"] is not None:
            assert cell.numerator == truth["numerator"], cell
        for column in ("value", "lower_ci", "upper_ci"):
            assert getattr(cell, column) == pytest.approx(truth[column], abs=1e-9, nan_ok=True), (cell, column)
        compared += 1
    # Every cell below the threshold is suppressed (the oracle's n, not the pipeline's).
    small = [k for k, v in expected.items() if v["n"] < 10]
    flags = mine.set_index(["indicator_id", "geography_level", "geography_code"])["suppressed"]
    assert small and all(flags[k] for k in small)
    assert compared > 2500


@pytest.mark.parametrize("wave", ["2024-w1", "2025-w2"])
def test_every_alpha_equals_the_oracle(published, wave):
    _, reliability, _ = published
    mine = reliability[reliability["wave"] == wave].set_index("domain")["cronbach_alpha"]
    expected = oracle_alpha(wave)
    assert set(mine.index) == set(expected)
    for domain, alpha in expected.items():
        assert mine[domain] == pytest.approx(alpha, abs=1e-12)


def test_the_oracle_counts_an_index_of_exactly_four_as_agreeing(published):
    """The sample has respondents whose index is exactly 4; each counts as agreeing."""
    codebook, people = _sample("2024-w1")
    index = _scores(people, codebook)["index:index"]
    assert sum(v == 4 for v in index if v is not None) > 0
    indicators, *_ = published
    london = indicators[
        (indicators["indicator_id"] == "ti_index_agree")
        & (indicators["wave"] == "2024-w1")
        & (indicators["geography_level"] == "london")
    ].iloc[0]
    assert london["numerator"] == sum(v >= 4 for v in index if v is not None)


def test_every_published_change_equals_the_oracle(published):
    """Welch's interval by its formula (scipy's t), Newcombe's from statsmodels, on the oracle's cells."""
    *_, changes = published
    before, after = oracle_cells("2024-w1"), oracle_cells("2025-w2")
    compared = 0
    for row in changes[~changes["suppressed"]].itertuples():
        key = (row.indicator_id, row.geography_level, row.geography_code)
        a, b = before[key], after[key]
        if a["numerator"] is None:
            v1, v2 = a["sd"] ** 2 / a["n"], b["sd"] ** 2 / b["n"]
            diff = b["value"] - a["value"]
            if v1 + v2 == 0:
                assert row.significance == "not tested" and math.isnan(row.lower_ci)
                continue
            df = (v1 + v2) ** 2 / (v1**2 / (a["n"] - 1) + v2**2 / (b["n"] - 1))
            half = stats.t.ppf(0.975, df) * math.sqrt(v1 + v2)
            low, high = diff - half, diff + half
        else:
            low, high = confint_proportions_2indep(b["numerator"], b["n"], a["numerator"], a["n"], method="newcomb")
            diff, low, high = 100 * (b["numerator"] / b["n"] - a["numerator"] / a["n"]), 100 * low, 100 * high
        assert (row.change, row.lower_ci, row.upper_ci) == pytest.approx((diff, low, high), abs=1e-9), key
        expected = (
            "significant increase" if low > 0 else "significant decrease" if high < 0 else "no significant change"
        )
        assert row.significance == expected
        compared += 1
    assert compared > 2000
