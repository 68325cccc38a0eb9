"""SYNTHETIC outcome files for the bundled sample, in the layouts the MPS, OHID and ONS publish.

`tipipeline sample` writes them into `<raw>/outcomes/`. Every figure is invented by a seeded
generator; the layouts (header spellings, quoting, line endings, preamble and footnote rows)
imitate the real files in `../shared/fixtures/outcomes/`, none of whose values is used.

Files (names as the publishers give them, the workbook excepted):

- `MPS Borough Level Crime (Historical).csv` and `MPS Borough Level Crime (most recent 24
  months).csv`: two releases in the `MajorText,MinorText,LookUp_BoroughName` layout (Home Office
  categories, mixed case), CRLF, rows sorted by area, major and minor category, then one `YYYYMM`
  column per month. The newer release covers the last 24 months; the historical one runs from the
  first month to OVERLAP_MONTHS months into the newer one, and the two disagree there: the older
  release misses some offences recorded late in its last months and carries small
  reclassifications. Both name the 32 MPS boroughs (no City of London, which has its own force)
  and "London Heathrow and London City Airports"; the historical release also repeats every
  Heathrow row exactly under "Aviation Security (SO18)". Sparse: a row whose counts are all 0 is
  not written. Between the releases two categories are renamed (RENAMED: the same category key, so
  the same place in outcomes.yaml), and the newer release adds a category outcomes.yaml does not
  know (UNKNOWN_CATEGORY), for the unmapped report.
- `indicators-CountyUA.data.csv`: a Fingertips data export (the spaced 26-column header; records
  stop before `Compared to goal`, as the real export's do) for indicator 11201 'Hospital admissions
  for violence (including sexual violence)' over three 3-year periods ('2018/19 - 20/21'), for
  England, the London region and the 33 boroughs: the quoted indicator name ends in a line break as
  the real export's does; the City of London is blank with the note "Value for Hackney and City of
  London combined" (Hackney's row holds both); England has deprivation-decile `Category` rows.
  Values are crude rates per 100,000 per year with PHEindicatormethods' intervals (the real
  indicator is directly age-standardised).
- `mye_sample.xlsx`: an ONS-style `MYE2 - Persons` sheet (title with the mid-year, six more
  preamble rows, the header on row 8: `Code, Name, Geography, All ages, 0, ..., 89, 90+` with the
  ages as text, a blank row and a footnote row) for England, London and the 33 boroughs, after a
  cover sheet saying the figures are synthetic.

The model, so that the evidence base has something to find:

    residents of borough b: lognormal around 270,000 (the City about 10,000), split over single
        years of age by a London-shaped age profile (younger in inner London);
    offences in b, category c, month m ~ Poisson(residents_b / 1,000 x RATES[c] / 12
        x exp(g_b) x [violence-related c: exp(v_b + PRACTICE_LINK x p_b)] x season_m x trend_m)
    g_b ~ N(0, 0.15) (+0.15 in inner London), v_b ~ N(0, 0.25);
    hospital admissions for violence ~ Poisson(residents x ADMISSIONS_RATE x exp(v_b + PRACTICE_LINK x p_b + g_b / 2)).

p_b is the council's organisation effect in the survey model (generator.py), which drives its
trauma-informed practice scores. PRACTICE_LINK (negative and weak) is an assumption built into the
synthetic sample so that the ecological correlation between practice and violence is not
identically zero: it is not a finding about London, and the sample can show nothing about
whether practice affects violence.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import textwrap
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from tipipeline.reference import ENGLAND_CODE, LONDON_CODE, Reference
from tipipeline.sample.workbooks import new_workbook, normalise_zip
from tipipeline.stats.rates import crude_rate

# The outcome files draw from their own random stream, derived from the sample seed, so that the
# survey and audit files are the same whether or not the outcome files are written.
OUTCOMES_STREAM = 13

HISTORICAL_FILE = "MPS Borough Level Crime (Historical).csv"
RECENT_FILE = "MPS Borough Level Crime (most recent 24 months).csv"
FINGERTIPS_FILE = "indicators-CountyUA.data.csv"
POPULATION_FILE = "mye_sample.xlsx"
CRIME_HEADER = ["MajorText", "MinorText", "LookUp_BoroughName"]
RECENT_MONTHS = 24
OVERLAP_MONTHS = 8

HEATHROW = "London Heathrow and London City Airports"
AVIATION_SECURITY = "Aviation Security (SO18)"

# Home Office categories (major, minor) with an invented annual rate per 1,000 residents, of the
# order London's have been; minor names cut at 50 characters as the MPS files cut them.
RATES: dict[tuple[str, str], float] = {
    ("Arson and Criminal Damage", "Arson"): 0.25,
    ("Arson and Criminal Damage", "Criminal Damage"): 6.0,
    ("Burglary", "Burglary Business and Community"): 1.3,
    ("Burglary", "Domestic Burglary"): 3.6,
    ("Drug Offences", "Drug Trafficking"): 0.6,
    ("Drug Offences", "Possession of Drugs"): 3.2,
    ("Miscellaneous Crimes Against Society", "Absconding from Lawful Custody"): 0.005,
    ("Miscellaneous Crimes Against Society", "Aiding Suicide"): 0.002,
    ("Miscellaneous Crimes Against Society", "Bail Offences"): 0.02,
    ("Miscellaneous Crimes Against Society", "Bigamy"): 0.003,
    ("Miscellaneous Crimes Against Society", "Dangerous Driving"): 0.15,
    ("Miscellaneous Crimes Against Society", "Disclosure, Obstruction, False or Misleading State"): 0.08,
    ("Miscellaneous Crimes Against Society", "Exploitation of Prostitution"): 0.01,
    ("Miscellaneous Crimes Against Society", "Forgery or Use of Drug Prescription"): 0.01,
    ("Miscellaneous Crimes Against Society", "Fraud or Forgery Associated with Driver Records"): 0.02,
    ("Miscellaneous Crimes Against Society", "Going Equipped for Stealing"): 0.06,
    ("Miscellaneous Crimes Against Society", "Handling Stolen Goods"): 0.08,
    ("Miscellaneous Crimes Against Society", "Making, Supplying or Possessing Articles for use i"): 0.03,
    ("Miscellaneous Crimes Against Society", "Obscene Publications"): 0.25,
    ("Miscellaneous Crimes Against Society", "Offender Management Act"): 0.02,
    ("Miscellaneous Crimes Against Society", "Other Forgery"): 0.05,
    ("Miscellaneous Crimes Against Society", "Other Notifiable Offences"): 0.15,
    ("Miscellaneous Crimes Against Society", "Perjury"): 0.003,
    ("Miscellaneous Crimes Against Society", "Perverting Course of Justice"): 0.04,
    ("Miscellaneous Crimes Against Society", "Possession of False Documents"): 0.06,
    ("Miscellaneous Crimes Against Society", "Profitting From or Concealing Proceeds of Crime"): 0.04,
    ("Miscellaneous Crimes Against Society", "Soliciting for Prostitution"): 0.01,
    ("Miscellaneous Crimes Against Society", "Threat or Possession With Intent to Commit Crimina"): 0.05,
    ("Miscellaneous Crimes Against Society", "Wildlife Crime"): 0.005,
    ("Possession of Weapons", "Other Firearm Offences"): 0.005,
    ("Possession of Weapons", "Other Knife Offences"): 0.01,
    ("Possession of Weapons", "Possession of Article with Blade or Point"): 0.4,
    ("Possession of Weapons", "Possession of Firearm with Intent"): 0.01,
    ("Possession of Weapons", "Possession of Firearms Offences"): 0.04,
    ("Possession of Weapons", "Possession of Other Weapon"): 0.12,
    ("Public Order Offences", "Other Offences Against the State, or Public Order"): 0.4,
    ("Public Order Offences", "Public Fear Alarm or Distress"): 5.0,
    ("Public Order Offences", "Racially or Religiously Aggravated Public Fear, Al"): 0.9,
    ("Public Order Offences", "Violent Disorder"): 0.04,
    ("Robbery", "Robbery of Business Property"): 0.2,
    ("Robbery", "Robbery of Personal Property"): 3.3,
    ("Sexual Offences", "Other Sexual Offences"): 1.6,
    ("Sexual Offences", "Rape"): 1.0,
    ("Theft", "Bicycle Theft"): 1.5,
    ("Theft", "Other Theft"): 11.0,
    ("Theft", "Shoplifting"): 5.0,
    ("Theft", "Theft from Person"): 4.0,
    ("Vehicle Offences", "Aggravated Vehicle Taking"): 0.1,
    ("Vehicle Offences", "Interfering with a Motor Vehicle"): 0.8,
    ("Vehicle Offences", "Theft from a Motor Vehicle"): 5.0,
    ("Vehicle Offences", "Theft or Taking of a Motor Vehicle"): 3.0,
    ("Violence Against the Person", "Homicide"): 0.012,
    ("Violence Against the Person", "Violence with Injury"): 8.0,
    ("Violence Against the Person", "Violence without Injury"): 16.0,
}
# A category outcomes.yaml does not know, published by the newer release only (from its 13th month).
UNKNOWN_CATEGORY = ("Drug Offences", "Possession of Psychoactive Substances")
UNKNOWN_RATE = 0.3
# Minor categories spelt differently by the newer release (the same category key).
RENAMED = {
    "Public Fear Alarm or Distress": "Public Fear, Alarm or Distress",
    "Possession of Article with Blade or Point": "Possession of Article With Blade or Point",
}
VIOLENCE_MAJORS = (
    "Violence Against the Person",
    "Robbery",
    "Sexual Offences",
    "Possession of Weapons",
    "Public Order Offences",
)
# Heathrow and London City airports: an invented resident-equivalent and the categories that occur
# there, each as a multiple of the London rate.
AIRPORT_RESIDENTS = 40_000
AIRPORT_FACTORS = {
    "Other Theft": 2.5,
    "Theft from Person": 0.6,
    "Shoplifting": 1.0,
    "Violence with Injury": 0.4,
    "Violence without Injury": 0.8,
    "Possession of Drugs": 1.5,
    "Drug Trafficking": 0.8,
    "Public Fear Alarm or Distress": 0.6,
    "Racially or Religiously Aggravated Public Fear, Al": 0.6,
    "Other Offences Against the State, or Public Order": 0.5,
    "Possession of False Documents": 12.0,
    "Other Notifiable Offences": 0.5,
    "Possession of Article with Blade or Point": 0.5,
    "Possession of Other Weapon": 0.5,
    "Other Sexual Offences": 0.5,
    "Criminal Damage": 0.3,
    "Burglary Business and Community": 0.3,
    "Theft from a Motor Vehicle": 0.5,
    "Theft or Taking of a Motor Vehicle": 0.5,
}
# How far each borough's violence leans on its council's practice effect (see the module docstring).
PRACTICE_LINK = -0.25

FINGERTIPS_HEADER = [
    "Indicator ID",
    "Indicator Name",
    "Parent Code",
    "Parent Name",
    "Area Code",
    "Area Name",
    "Area Type",
    "Sex",
    "Age",
    "Category Type",
    "Category",
    "Time period",
    "Value",
    "Lower CI 95.0 limit",
    "Upper CI 95.0 limit",
    "Lower CI 99.8 limit",
    "Upper CI 99.8 limit",
    "Count",
    "Denominator",
    "Value note",
    "Recent Trend",
    "Compared to England value or percentiles",
    "Compared to Region value or percentiles",
    "Time period Sortable",
    "New data",
    "Compared to goal",
]
INDICATOR_ID = 11201
# As the real export, the quoted name ends in a line break.
INDICATOR_NAME = "Hospital admissions for violence (including sexual violence)\n"
ADMISSIONS_RATE = 45.0  # invented, per 100,000 residents a year, London boroughs
ENGLAND_ADMISSIONS_RATE = 40.0
PERIODS = 3  # rolling 3-year periods in the export
ENGLAND, LONDON, CITY, HACKNEY = ENGLAND_CODE, LONDON_CODE, "E09000001", "E09000012"
COMBINED_NOTE = "Value for Hackney and City of London combined"
AGGREGATED_NOTE = "Aggregated from all known lower geography values"
DECILE_TYPE = "County & UA deprivation deciles in England (IMD2019)"
DECILES = [
    ("Most deprived decile (IMD2019)", 2.0),
    ("Second most deprived decile (IMD2019)", 1.6),
    ("Third more deprived decile (IMD2019)", 1.35),
    ("Fourth more deprived decile (IMD2019)", 1.15),
    ("Fifth more deprived decile (IMD2019)", 1.0),
    ("Fifth less deprived decile (IMD2019)", 0.85),
    ("Fourth less deprived decile (IMD2019)", 0.75),
    ("Third less deprived decile (IMD2019)", 0.65),
    ("Second least deprived decile (IMD2019)", 0.55),
    ("Least deprived decile (IMD2019)", 0.45),
]

# Invented age profiles (relative weights at anchor ages, interpolated; 90 is the 90+ group).
LONDON_AGES = {0: 1.30, 10: 1.20, 18: 1.10, 22: 1.45, 28: 2.00, 35: 1.90, 45: 1.45, 55: 1.20, 65: 0.80}
LONDON_AGES |= {75: 0.50, 85: 0.20, 89: 0.12, 90: 0.45}
ENGLAND_AGES = {0: 1.05, 10: 1.15, 18: 1.10, 22: 1.20, 28: 1.30, 35: 1.30, 45: 1.30, 55: 1.40, 65: 1.20}
ENGLAND_AGES |= {75: 0.90, 85: 0.35, 89: 0.22, 90: 0.85}
REST_OF_ENGLAND = 48_500_000  # invented residents of England outside London
AGE_LABELS = [str(age) for age in range(90)] + ["90+"]


def _add_months(month: dt.date, n: int) -> dt.date:
    index = month.year * 12 + month.month - 1 + n
    return dt.date(index // 12, index % 12 + 1, 1)


def _month_range(first: dt.date, last: dt.date) -> list[dt.date]:
    months = [first]
    while months[-1] < last:
        months.append(_add_months(months[-1], 1))
    return months


def sample_timing(wave_starts: Sequence[pd.Timestamp]) -> tuple[tuple[dt.date, dt.date], int]:
    """(first and last month the crime releases cover, mid-year of the population estimates).

    From January three years before the first wave to April of the last wave's year: the 12
    months before every wave, and after all but the last, are covered. The mid-year is the year
    before the first wave (mid-2023 for a wave in March 2024).
    """
    first_year, last_year = wave_starts[0].year, wave_starts[-1].year
    return (dt.date(first_year - 3, 1, 1), dt.date(last_year, 4, 1)), first_year - 1


def write_outcome_sample(
    out_dir: str | Path,
    rng: np.random.Generator,
    reference: Reference,
    months_covered: tuple[dt.date, dt.date],
    mid_year: int,
    practice_effect: Mapping[str, float] | None = None,
) -> dict:
    """Write the synthetic outcome files into `out_dir` and return their summary for the manifest.

    `months_covered` is the first and last month of the two MPS releases together (more than 24
    months apart); `mid_year` the year of the population estimates; `practice_effect` each
    council's organisation effect in the survey model, by GSS code (absent: no link).
    """
    first, last = (dt.date(m.year, m.month, 1) for m in months_covered)
    months = _month_range(first, last)
    if len(months) <= RECENT_MONTHS:
        raise ValueError(f"the outcome months must span more than {RECENT_MONTHS} months")
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    boroughs = reference.boroughs.sort_values("name").reset_index(drop=True)
    effects = _borough_effects(rng, boroughs, practice_effect or {})
    ages = _populations(rng, boroughs, effects)
    crime = _write_crime_releases(out, rng, boroughs, effects, ages, months)
    fingertips = _write_fingertips(out / FINGERTIPS_FILE, rng, boroughs, effects, ages, mid_year)
    _write_population(out / POPULATION_FILE, ages, boroughs, mid_year)
    return {
        "synthetic": True,
        "practice_link": PRACTICE_LINK,
        "crime": crime,
        "fingertips": fingertips,
        "population": {
            "file": f"outcomes/{POPULATION_FILE}",
            "sheet": "MYE2 - Persons",
            "mid_year": mid_year,
            "areas": len(ages),
            "london_all_ages": int(ages[LONDON].sum()),
        },
    }


# --- boroughs: effects and residents ----------------------------------------------------------


def _borough_effects(rng, boroughs: pd.DataFrame, practice: Mapping[str, float]) -> pd.DataFrame:
    """Per borough: general effect g, violence effect v (with the practice link), residents."""
    n = len(boroughs)
    inner = boroughs["inner_london"].to_numpy(dtype=bool)
    general = rng.normal(0.0, 0.15, n) + 0.15 * inner
    own = rng.normal(0.0, 0.25, n)
    link = np.array([PRACTICE_LINK * float(practice.get(code, 0.0)) for code in boroughs["gss_code"]])
    residents = np.clip(np.rint(rng.lognormal(np.log(270_000), 0.25, n)), 140_000, 420_000)
    city = (boroughs["gss_code"] == CITY).to_numpy()
    residents[city] = np.rint(rng.uniform(8_500, 11_500, city.sum()))
    return pd.DataFrame(
        {
            "gss_code": boroughs["gss_code"],
            "name": boroughs["name"],
            "general": general,
            "violence": own + link,
            "residents": residents.astype(np.int64),
        }
    )


def _profile(anchors: dict[int, float], younger: float = 0.0) -> np.ndarray:
    weights = np.interp(np.arange(91), list(anchors), list(anchors.values()))
    weights = weights * np.exp(younger * np.where((np.arange(91) >= 20) & (np.arange(91) < 45), 1.0, -0.5))
    return weights / weights.sum()


def _populations(rng, boroughs: pd.DataFrame, effects: pd.DataFrame) -> dict[str, np.ndarray]:
    """GSS code -> residents by single year of age 0..89 and 90+ (England, London, boroughs)."""
    ages: dict[str, np.ndarray] = {}
    for row, inner in zip(effects.itertuples(), boroughs["inner_london"]):
        profile = _profile(LONDON_AGES, younger=0.15 if inner else 0.0) * rng.lognormal(0.0, 0.04, 91)
        ages[row.gss_code] = rng.multinomial(row.residents, profile / profile.sum()).astype(np.int64)
    london = sum(ages.values())
    rest = rng.multinomial(int(REST_OF_ENGLAND * rng.normal(1.0, 0.002)), _profile(ENGLAND_AGES))
    return {ENGLAND: london + rest, LONDON: london, **ages}


# --- MPS Borough Level Crime releases -----------------------------------------------------------


def _write_crime_releases(out: Path, rng, boroughs, effects, ages, months: list[dt.date]) -> dict:
    categories = [*RATES, UNKNOWN_CATEGORY]
    rates = np.array([*RATES.values(), UNKNOWN_RATE]) / 12
    violent = np.array([major in VIOLENCE_MAJORS for major, _ in categories])
    covered = effects[effects["gss_code"] != CITY].reset_index(drop=True)
    residents = np.array([ages[code].sum() for code in covered["gss_code"]], dtype=float)
    level = np.exp(covered["general"].to_numpy()[:, None] + np.outer(covered["violence"], violent))
    step = np.arange(len(months))
    season = 1 + 0.08 * np.sin(2 * np.pi * (np.array([m.month for m in months]) - 4) / 12)
    trend = 1.01 ** (step / 12)
    mean = (residents[:, None] / 1000 * level * rates)[:, :, None] * (season * trend)
    airport = np.array([AIRPORT_FACTORS.get(minor, 0.0) for _, minor in categories])
    airport_mean = (AIRPORT_RESIDENTS / 1000 * airport * rates)[None, :, None] * (season * trend)
    areas = [*covered["name"], HEATHROW]
    true = rng.poisson(np.concatenate([mean, airport_mean]))
    true[:, -1, : len(months) - 12] = 0  # the new category is published from the newer release's 13th month

    recent_first = len(months) - RECENT_MONTHS
    historical_last = recent_first + OVERLAP_MONTHS - 1
    releases = [
        (HISTORICAL_FILE, 0, historical_last, True),
        (RECENT_FILE, recent_first, len(months) - 1, False),
    ]
    summary = {"files": [], "overlap": f"{months[recent_first]:%Y-%m} to {months[historical_last]:%Y-%m}"}
    published = {}
    for name, start, end, older in releases:
        counts = _as_published(rng, true[:, :, start : end + 1], older, end - start, recent_first - start)
        published[name] = counts
        rows = _crime_rows(areas, categories, counts, older)
        _write_csv(out / name, [*CRIME_HEADER, *(f"{m:%Y%m}" for m in months[start : end + 1])], rows)
        summary["files"].append(
            {
                "file": f"outcomes/{name}",
                "layout": ",".join(CRIME_HEADER),
                "first_month": f"{months[start]:%Y-%m}",
                "last_month": f"{months[end]:%Y-%m}",
                "rows": len(rows),
                "offences": int(sum(sum(row[3:]) for row in rows)),
                "aviation_security_repeats_heathrow": older,
            }
        )
    overlap_old = published[HISTORICAL_FILE][:, :-1, recent_first:]
    overlap_new = published[RECENT_FILE][:, :-1, :OVERLAP_MONTHS]
    summary["overlap_cells_revised"] = int((overlap_old != overlap_new).sum())
    summary["renamed_categories"] = [{"historical": old, "most_recent": new} for old, new in RENAMED.items()]
    summary["unknown_category"] = " / ".join(UNKNOWN_CATEGORY)
    summary["non_borough_areas"] = [HEATHROW, AVIATION_SECURITY]
    return summary


def _as_published(rng, true: np.ndarray, older: bool, last: int, overlap_from: int) -> np.ndarray:
    """A release's counts: offences recorded late are missing from its last months; the older
    release also carries small reclassifications (later corrected) in the months a newer release
    covers too."""
    age = last - np.arange(true.shape[2])
    late = rng.binomial(true, np.broadcast_to(0.06 * 0.5**age, true.shape))
    counts = true - late
    if older:
        window = np.zeros(true.shape, dtype=bool)
        window[:, :, overlap_from:] = True
        # Only offences that were recorded can be reclassified: a cell with none stays at 0.
        shift = rng.integers(-2, 3, true.shape) * (rng.random(true.shape) < 0.08) * window * (counts > 0)
        counts = np.maximum(counts + shift, 0)
    return counts


def _crime_rows(areas: list[str], categories, counts: np.ndarray, older: bool) -> list[list]:
    rows = []
    for a, area in enumerate(areas):
        for c, (major, minor) in enumerate(categories):
            if (major, minor) == UNKNOWN_CATEGORY and older:
                continue  # a category only the newer release publishes
            values = [int(v) for v in counts[a, c]]
            if not any(values):
                continue  # sparse: a row of zeros is not published
            minor = minor if older else RENAMED.get(minor, minor)
            rows.append([major, minor, area, *values])
            if older and area == HEATHROW:
                rows.append([major, minor, AVIATION_SECURITY, *values])
    return sorted(rows, key=lambda row: (row[2], row[0], row[1]))


def _write_csv(path: Path, header: list[str], rows: list[list]) -> None:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(header)
    writer.writerows(rows)
    path.write_bytes(buffer.getvalue().encode("utf-8"))


# --- Fingertips export ------------------------------------------------------------------------


def _number(value: float) -> str:
    return format(value, ".15g")


def _periods(mid_year: int) -> list[tuple[str, int]]:
    """(label, first year) of each 3-year financial-year period, the latest ending in mid_year/+1."""
    out = []
    for start in range(mid_year - 2 - PERIODS, mid_year - 2):
        out.append((f"{start}/{(start + 1) % 100:02d} - {(start + 2) % 100:02d}/{(start + 3) % 100:02d}", start))
    return out


def _compare(rate, benchmark: float) -> str:
    """Fingertips' comparison by the 95% interval; more admissions is worse."""
    if rate.lower > benchmark:
        return "Worse"
    if rate.upper < benchmark:
        return "Better"
    return "Similar"


def _figures(count: int, denominator: int) -> dict[str, str]:
    """Value (per 100,000 residents a year: the denominator is the residents summed over the three
    years), its 95% and 99.8% limits, count, denominator."""
    rate = crude_rate(count, denominator, 100_000)
    wide = crude_rate(count, denominator, 100_000, 0.998)
    return {
        "Value": _number(rate.value),
        "Lower CI 95.0 limit": _number(rate.lower),
        "Upper CI 95.0 limit": _number(rate.upper),
        "Lower CI 99.8 limit": _number(wide.lower),
        "Upper CI 99.8 limit": _number(wide.upper),
        "Count": str(count),
        "Denominator": str(denominator),
    }


def _admissions(rng, residents: dict[str, int], lean: dict[str, float], start: int, mid_year: int):
    """(count, denominator) per area for one 3-year period; the City's are published with Hackney's."""
    # Residents over the three years: the mid-year's, grown or shrunk by 0.5% a year.
    growth = sum(1 + 0.005 * (start + k - mid_year) for k in range(3))
    denominators = {code: int(round(n * growth)) for code, n in residents.items()}
    counts = {code: int(rng.poisson(denominators[code] / 1e5 * ADMISSIONS_RATE * lean[code])) for code in lean}
    counts[HACKNEY] += counts.pop(CITY)
    denominators[HACKNEY] += denominators.pop(CITY)
    counts[LONDON] = sum(counts[code] for code in lean if code != CITY)
    rest = (denominators[ENGLAND] - denominators[LONDON]) / 1e5 * ENGLAND_ADMISSIONS_RATE
    counts[ENGLAND] = counts[LONDON] + int(rng.poisson(rest))
    return counts, denominators


def _write_fingertips(path: Path, rng, boroughs, effects, ages, mid_year: int) -> dict:
    residents = {code: int(values.sum()) for code, values in ages.items()}
    lean = dict(zip(effects["gss_code"], np.exp(effects["violence"] + 0.5 * effects["general"])))
    england_area = {"Area Code": ENGLAND, "Area Name": "England", "Area Type": "Country"}
    in_london = {"Parent Code": LONDON, "Parent Name": "London region", "Area Type": "County & UA"}
    not_compared = {
        "Compared to England value or percentiles": "Not compared",
        "Compared to Region value or percentiles": "Not compared",
    }
    periods = _periods(mid_year)
    records: list[dict] = []
    for index, (label, start) in enumerate(periods):
        latest = index == len(periods) - 1
        base = {
            "Indicator ID": str(INDICATOR_ID),
            "Indicator Name": INDICATOR_NAME,
            "Sex": "Persons",
            "Age": "All ages",
            "Time period": label,
            "Time period Sortable": f"{start}0000",
            "New data": "New data" if latest else "",
        }
        trend = {"Recent Trend": "Cannot be calculated" if latest else ""}
        counts, denominators = _admissions(rng, residents, lean, start, mid_year)
        rates = {code: crude_rate(n, denominators[code], 100_000) for code, n in counts.items()}
        england, london = rates[ENGLAND].value, rates[LONDON].value
        records.append(base | england_area | _figures(counts[ENGLAND], denominators[ENGLAND]) | trend | not_compared)
        for (decile, factor), share in zip(DECILES, rng.dirichlet(np.full(len(DECILES), 60.0))):
            denominator = int(round(denominators[ENGLAND] * share))
            count = int(rng.poisson(denominator / 1e5 * ENGLAND_ADMISSIONS_RATE * factor))
            records.append(
                base
                | england_area
                | {"Category Type": DECILE_TYPE, "Category": decile, "Value": _number(count / denominator * 1e5)}
                | {"Count": str(count), "Denominator": str(denominator), "Value note": AGGREGATED_NOTE}
                | not_compared
            )
        records.append(
            base
            | {"Parent Code": ENGLAND, "Parent Name": "England", "Area Code": LONDON, "Area Name": "London region"}
            | {"Area Type": "Region", "Value note": AGGREGATED_NOTE}
            | _figures(counts[LONDON], denominators[LONDON])
            | trend
            | not_compared
            | {"Compared to England value or percentiles": _compare(rates[LONDON], england)}
        )
        for code, name in zip(boroughs["gss_code"], boroughs["name"]):
            area = base | in_london | {"Area Code": code, "Area Name": name} | trend
            if code == CITY:  # blank: published with Hackney
                records.append(area | {"Value note": COMBINED_NOTE} | not_compared)
                continue
            records.append(
                area
                | _figures(counts[code], denominators[code])
                | {"Value note": COMBINED_NOTE if code == HACKNEY else ""}
                | {
                    "Compared to England value or percentiles": _compare(rates[code], england),
                    "Compared to Region value or percentiles": _compare(rates[code], london),
                }
            )
    # Records stop before `Compared to goal`, as the real export's do.
    _write_csv(path, FINGERTIPS_HEADER, [[r.get(h, "") for h in FINGERTIPS_HEADER[:-1]] for r in records])
    return {
        "file": f"outcomes/{FINGERTIPS_FILE}",
        "indicator_id": INDICATOR_ID,
        "indicator_name": INDICATOR_NAME.strip(),
        "periods": [label for label, _ in periods],
        "records": len(records),
        "category_rows": len(DECILES) * len(periods),
        "suppressed": f"City of London ({COMBINED_NOTE})",
    }


# --- ONS mid-year estimates workbook ------------------------------------------------------------


def _write_population(path: Path, ages: dict[str, np.ndarray], boroughs: pd.DataFrame, mid_year: int) -> None:
    from openpyxl.styles import Alignment, Font

    workbook = new_workbook()
    title, text = Font(name="Arial", size=15, bold=True), Font(name="Arial", size=12)
    bold = Font(name="Arial", size=12, bold=True)

    cover = workbook.create_sheet("Cover sheet")
    for line in (
        f"SYNTHETIC population estimates, mid-{mid_year}: not Office for National Statistics figures",
        "Every figure in this workbook was invented by the tipipeline sample generator (seeded).",
        "The sheet 'MYE2 - Persons' imitates the layout of the ONS table MYE2 (persons by single year of age).",
    ):
        cover.append([line])
    cover["A1"].font = title

    sheet = workbook.create_sheet("MYE2 - Persons")
    preamble = [
        f"MYE2: Persons by single year of age and sex for local authorities in the UK, mid-{mid_year} (SYNTHETIC)",
        "This worksheet contains one table. Freeze panes are turned on. ",
        "To turn off freeze panes select the 'View' ribbon then 'Freeze Panes' then 'Unfreeze Panes' or use [Alt W, F]",
        "SYNTHETIC: invented by the tipipeline sample generator; the layout imitates ONS's, the figures are not ONS's.",
        "Areas: England, the London region and the 33 London boroughs.",
        "Ages are single years of age; 90+ is 90 and over.",
        "All ages is the sum of the single years of age.",
    ]
    for line in preamble:
        sheet.append([line])
    sheet.append(["Code", "Name", "Geography", "All ages", *AGE_LABELS])
    order = boroughs.sort_values(["inner_london", "name"], ascending=[False, True])
    areas = [(ENGLAND, "ENGLAND", "Country"), (LONDON, "LONDON", "Region")]
    areas += [(code, name, "London Borough") for code, name in zip(order["gss_code"], order["name"])]
    for code, name, geography in areas:
        sheet.append([code, name, geography, int(ages[code].sum()), *(int(v) for v in ages[code])])
    sheet.append([])
    sheet.append(["Source: SYNTHETIC sample (tipipeline sample); not Office for National Statistics data."])

    sheet["A1"].font = title
    for row in sheet.iter_rows(min_row=2, max_row=7, max_col=1):
        row[0].font = text
    for cell in sheet[8]:
        cell.font = bold
        cell.alignment = Alignment(horizontal="left")
    number = '_-* #,##0_-;\\-* #,##0_-;_-* "-"??_-;_-@_-'
    for row in sheet.iter_rows(min_row=9, max_row=8 + len(areas), min_col=4):
        for cell in row:
            cell.number_format = number
    sheet.column_dimensions["A"].width = 13.85546875
    sheet.column_dimensions["B"].width = 41.28515625
    sheet.freeze_panes = "D9"
    buffer = io.BytesIO()
    workbook.save(buffer)
    path.write_bytes(normalise_zip(buffer.getvalue()))


def readme_lines(summary: dict) -> list[str]:
    """The outcome files' rows in the sample README's file table."""
    crime = summary["crime"]
    lines = []
    for entry in crime["files"]:
        areas = "32 boroughs and Heathrow and London City airports"
        if entry["aviation_security_repeats_heathrow"]:
            areas += f", with '{AVIATION_SECURITY}' rows repeating the airports' rows"
        lines.append(
            f"| `{entry['file']}` | MPS Borough Level Crime release ({entry['layout']}, CRLF), "
            f"{entry['first_month']} to {entry['last_month']}: {areas}; {entry['offences']:,} offences | "
            f"{entry['rows']} |"
        )
    fingertips, population = summary["fingertips"], summary["population"]
    lines.append(
        f"| `{fingertips['file']}` | Fingertips export, indicator {fingertips['indicator_id']} "
        f"({fingertips['indicator_name']}; crude rates per 100,000), {', '.join(fingertips['periods'])}; "
        f"{fingertips['category_rows']} deprivation rows; City of London blank (combined with Hackney) | "
        f"{fingertips['records']} |"
    )
    lines.append(
        f"| `{population['file']}` | ONS-style mid-{population['mid_year']} estimates, sheet "
        f"`{population['sheet']}` (header on row 8, ages 0-89 and 90+) | {population['areas']} |"
    )
    return lines


def readme_notes(summary: dict) -> list[str]:
    """The paragraph on the outcome files for the sample README."""
    crime = summary["crime"]
    renamed = "; ".join(f"'{r['historical']}' -> '{r['most_recent']}'" for r in crime["renamed_categories"])
    text = (
        f"The two MPS releases overlap from {crime['overlap']} and disagree there ({crime['overlap_cells_revised']} "
        f"cells revised); for each month the newer release wins. Renamed between the releases: {renamed}. "
        f"The newer release adds '{crime['unknown_category']}', a category `outcomes.yaml` does not know "
        "(reported as unmapped). Counts are Poisson around invented rates per borough. Each borough's "
        "violence (and its hospital admissions for violence) leans weakly on its council's synthetic "
        f"practice effect in the survey model (coefficient {summary['practice_link']}): an assumption of the "
        "generator, so that the ecological correlation has something to find. It says nothing about real "
        "boroughs."
    )
    return ["## Outcome files (synthetic, in the publishers' layouts)", "", *textwrap.wrap(text, 100), ""]
