"""Outcome indicators (issue 13, parts 2 and 3): 12-month counts and crude rates of recorded
violence per borough, BCU, ICB and London, aligned with the survey waves, and their descriptive
link with trauma-informed practice. Pure functions: no Dagster, no warehouse.

Periods (`wave_periods`): a wave's fieldwork runs from its first to its last submission date.
- "before": the 12 whole calendar months ending with the month BEFORE the month of the first
  submission (fieldwork starting 2024-03-04 -> 2023-03 to 2024-02);
- "after": the 12 whole calendar months starting with the month AFTER the month of the last
  submission (fieldwork ending 2024-04-20 -> 2024-05 to 2025-04).
The months of the fieldwork itself are in neither period, so a period never mixes months before and
after staff answered. A period is published for a measure only when all 12 of its months are in the
MPS data; otherwise it is absent for that measure and `outcome_coverage` names the missing months.

Cells (`outcome_cells`): one row per outcome indicator x wave x period x area, in the shape of the
published `indicators` table (indicator_id, wave, geography_level, geography_code, geography_name,
sector, value, lower_ci, upper_ci, n, numerator, comparison, suppressed, suppression_reason) plus
period, period_start (first day), period_end (last day), measure_id, population_group, count,
population, population_mid_year, boroughs (how many boroughs were added), ci_method, coverage and
coverage_note. `numerator` is the count of offences and `n` the residents in the denominator (so
value = numerator / n x 1,000); `sector` is empty (areas, not partners); no disclosure control
applies (`suppressed` is always False: see the catalogue's disclosure_control).
- Boroughs: the 32 boroughs the MPS polices. The City of London has its own police force: its
  row is `coverage = 'not covered'` with no count, population or rate (never 0).
- BCU: the sum of its boroughs' counts and residents (boroughs.csv `bcu_code`).
- ICB: the sum of the boroughs that belonged to it on the LAST DAY of the period (borough_icb.csv
  validity columns via `Reference.boroughs_at`); if membership on the first day differed, the
  cell's coverage_note says so. North East London's figures leave the City of London out.
- London: the 32 covered boroughs (not the ONS London region row): the City of London is left out
  of London's offences and residents alike, because the MPS does not police it.
- Denominators: the ONS mid-year estimate for the mid-year whose 30 June falls in the period (each
  run of 12 whole months holds exactly one June); when that mid-year is not in the population
  data, the nearest one that is (the earlier on a tie), named in `population_mid_year`.
- Rates per 1,000 with 95% CIs by `crude_rate` (PHEindicatormethods' phe_rate: Byar's from 10
  events, exact Poisson below); compared with London by the Fingertips rule
  (`compare_with_london`: the area's CI against London's value; polarity lower_is_better).
- Denominators per measure (outcome_indicators.yaml): all ages for every measure; residents aged
  10-24 also for violence with injury, robbery and possession of weapons, the offences in which
  the VRU's focus age group is most over-represented. The MPS files give no ages, so the 10-24
  rate counts every offence and only its denominator is the young population.

The link (`partnership_outcomes`, `partnership_outcome_correlations`) is ecological and descriptive:
a borough's council index beside its recorded rates, and a rank correlation across boroughs. It is
never evidence of cause, and every correlation row says so.
"""

from __future__ import annotations

import datetime as dt
import math
from pathlib import Path
from typing import Annotated, Literal

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, StringConstraints, ValidationError

from tipipeline import registry
from tipipeline.errors import ConfigError, format_pydantic_error, read_yaml_mapping
from tipipeline.framework.catalogue import FINGERTIPS_FIELDS
from tipipeline.indicators.cells import geography_names
from tipipeline.indicators.periods import SURVEY, as_date
from tipipeline.outcomes import files
from tipipeline.outcomes.crime import COVERAGE, LAYOUT_FAMILY, OutcomeMapping, load_outcome_mapping
from tipipeline.reference import LONDON_CODE, Reference, load_reference
from tipipeline.stats.comparison import NOT_COMPARED, compare_with_london
from tipipeline.stats.rates import crude_rate, funnel_limits, funnel_position, spearman_with_ci

CATALOGUE_PATH = files.OUTCOME_CATALOGUE_PATH
PERIODS = ("before", "after")
PERIOD_MONTHS = 12
MULTIPLIER = 1000  # rates per 1,000 residents
INDEX_INDICATOR = "ti_index_mean"
COVERED, NOT_COVERED = "covered", "not covered"
FUNNEL_PROBABILITIES = {"95": 0.95, "998": 0.998}
CORRELATION_CAVEAT = (
    "Ecological and descriptive: a rank correlation across boroughs between the council's "
    "trauma-informed practice index and the borough's recorded offences per 1,000 residents. It "
    "describes areas, not people; nothing is adjusted for (deprivation, population, visitors, "
    "policing); and it is never evidence that practice causes a change in violence, or the reverse. "
    "Many correlations are computed for each wave (every outcome indicator before, after and for the "
    "change), so about 1 in 20 of the 95% intervals would exclude 0 by chance alone even if there "
    "were no association: read a single notable one with that in mind."
)

PERIOD_COLUMNS = ["wave", "period", "start_month", "end_month", "fieldwork_start", "fieldwork_end"]
CATALOGUE_COLUMNS = registry.table("outcome_catalogue").names
COVERAGE_COLUMNS = registry.table("outcome_coverage").names
OUTCOME_CELL_COLUMNS = registry.table("outcome_indicators").names
CELL_ORDER = ["indicator_id", "wave", "period", "geography_level", "geography_code"]
_WHOLE = ["n", "numerator", "count", "population", "population_mid_year", "boroughs"]


# --- periods ------------------------------------------------------------------------------


def _month(day: dt.date) -> dt.date:
    return day.replace(day=1)


def _add_months(month: dt.date, months: int) -> dt.date:
    index = month.year * 12 + month.month - 1 + months
    return dt.date(index // 12, index % 12 + 1, 1)


def _month_end(month: dt.date) -> dt.date:
    return _add_months(month, 1) - dt.timedelta(days=1)


def _months(start: dt.date, end: dt.date) -> list[dt.date]:
    out, month = [], start
    while month <= end:
        out.append(month)
        month = _add_months(month, 1)
    return out


def wave_periods(submitted_dates_by_wave: dict[str, list[dt.date]]) -> pd.DataFrame:
    """The outcome periods of each wave: columns wave, period ('before' | 'after'), start_month,
    end_month (first days of months), fieldwork_start, fieldwork_end (first and last submission).

    before = the 12 whole calendar months ending with the month before the first submission's
    month; after = the 12 whole calendar months starting with the month after the last
    submission's month. Missing dates (None, NaT) are ignored; a wave with none is an error.
    """
    rows = []
    for wave in sorted(submitted_dates_by_wave):
        dates = [d for d in map(as_date, submitted_dates_by_wave[wave]) if d is not None]
        if not dates:
            raise ValueError(f"wave {wave!r} has no submission dates, so its outcome periods cannot be placed")
        first, last = min(dates), max(dates)
        start, end = _month(first), _month(last)
        rows.append((wave, "before", _add_months(start, -PERIOD_MONTHS), _add_months(start, -1), first, last))
        rows.append((wave, "after", _add_months(end, 1), _add_months(end, PERIOD_MONTHS), first, last))
    return pd.DataFrame(rows, columns=PERIOD_COLUMNS)


# --- the catalogue (outcome_indicators.yaml) -----------------------------------------------------

Text = Annotated[str, StringConstraints(min_length=1, strip_whitespace=True)]
Polarity = Literal["higher_is_better", "lower_is_better", "no_judgement"]
_TEXT_FIELDS = [f for f in FINGERTIPS_FIELDS if f not in ("indicator_id", "polarity")]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class _Overrides(_Strict):
    name: Text | None = None
    definition: Text | None = None
    rationale: Text | None = None
    data_source: Text | None = None
    numerator: Text | None = None
    denominator: Text | None = None
    methodology: Text | None = None
    ci_method: Text | None = None
    disclosure_control: Text | None = None
    caveats: Text | None = None
    unit: Text | None = None
    value_type: Text | None = None
    polarity: Polarity | None = None
    frequency: Text | None = None


class _Defaults(_Strict):
    name: Text
    definition: Text
    rationale: Text
    data_source: Text
    numerator: Text
    denominator: Text
    methodology: Text
    ci_method: Text
    disclosure_control: Text
    caveats: Text
    unit: Text
    value_type: Text
    polarity: Polarity
    frequency: Text


class _Denominator(_Overrides):
    column: Literal["all_ages", "aged_10_24"]
    id_prefix: Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]*_$")]
    label: Text
    name_suffix: Text


class _Measure(_Overrides):
    measure: Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]*$")]
    denominators: list[Text]


class _CatalogueFile(_Strict):
    version: Text
    defaults: _Defaults
    denominators: dict[str, _Denominator]
    measures: list[_Measure]


def _lower_first(text: str) -> str:
    return text[:1].lower() + text[1:]


def outcome_catalogue(path: str | Path = CATALOGUE_PATH, mapping: OutcomeMapping | None = None) -> pd.DataFrame:
    """One row per outcome indicator with the Fingertips metadata fields (the indicator catalogue's
    columns: FINGERTIPS_FIELDS, measure 'rate', subject_type 'outcome', subject_id = the measure id
    of outcomes.yaml) and population_group (the denominator: 'all_ages' or 'aged_10_24').

    Read from outcome_indicators.yaml; every measure of outcomes.yaml must have an entry there and
    every entry a measure there (ConfigError otherwise), so no measure is dropped silently."""
    mapping = mapping or load_outcome_mapping()
    raw, _ = read_yaml_mapping(path, "outcome indicator catalogue")
    try:
        spec = _CatalogueFile.model_validate(raw)
    except ValidationError as exc:
        raise format_pydantic_error(path, exc) from exc
    names = {measure.id: measure.name for measure in mapping.measures}
    rows = []
    for index, entry in enumerate(spec.measures):
        where = f"measures[{index}]"
        if entry.measure not in names:
            raise ConfigError(path, f"{where}.measure", f"{entry.measure!r} is not a measure of outcomes.yaml")
        if any(entry.measure == other.measure for other in spec.measures[:index]):
            raise ConfigError(path, f"{where}.measure", f"{entry.measure!r} has two entries")
        if not entry.denominators:
            raise ConfigError(path, f"{where}.denominators", "name at least one denominator")
        for number, key in enumerate(entry.denominators):
            if key not in spec.denominators:
                raise ConfigError(path, f"{where}.denominators[{number}]", f"{key!r} is not a denominator")
            rows.append(_catalogue_row(path, spec, entry, key, names[entry.measure]))
    missing = sorted(set(names) - {entry.measure for entry in spec.measures})
    if missing:
        raise ConfigError(path, "measures", f"the measure {missing[0]!r} of outcomes.yaml has no entry")
    frame = pd.DataFrame(rows, columns=CATALOGUE_COLUMNS)
    duplicated = frame["indicator_id"][frame["indicator_id"].duplicated()]
    if len(duplicated):
        raise ConfigError(path, "denominators", f"duplicate indicator id {duplicated.iloc[0]!r}")
    return frame


def _catalogue_row(path, spec: _CatalogueFile, entry: _Measure, key: str, measure_name: str) -> dict:
    denominator = spec.denominators[key]
    values = {
        "measure_name": measure_name,
        "measure_name_lower": _lower_first(measure_name),
        "denominator_label": denominator.label,
        "denominator_label_lower": _lower_first(denominator.label),
        "name_suffix": denominator.name_suffix,
    }

    def fill(name: str, text: str) -> str:
        try:
            return text.format(**values)
        except (KeyError, IndexError, ValueError) as exc:
            known = ", ".join("{" + k + "}" for k in values)
            raise ConfigError(path, name, f"a placeholder it cannot fill ({exc}); known: {known}") from exc

    def field(name: str) -> str:
        chosen = getattr(entry, name) if name != "rationale" else None
        chosen = chosen or getattr(denominator, name) or getattr(spec.defaults, name)
        return fill(name, chosen)

    row = {name: field(name) for name in _TEXT_FIELDS}
    if entry.rationale:  # a measure's own rationale follows the default one
        row["rationale"] = f"{row['rationale']} {fill('rationale', entry.rationale)}"
    row.update(
        indicator_id=f"{denominator.id_prefix}{entry.measure}",
        polarity=field("polarity"),
        measure="rate",
        subject_type="outcome",
        subject_id=entry.measure,
        population_group=denominator.column,
    )
    return row


# --- coverage of the periods by the MPS months ---------------------------------------------------


def _covered_codes(reference: Reference) -> list[str]:
    return sorted(code for code in reference.boroughs["gss_code"] if code not in COVERAGE)


def outcome_coverage(
    measures: pd.DataFrame,
    periods: pd.DataFrame,
    reference: Reference | None = None,
    catalogue: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Per measure x wave x period: whether its 12 months are all in the MPS data (COVERAGE_COLUMNS).

    A month is present for a measure when `measures` (map_outcomes' frame) has it for every
    covered borough. missing_months lists the absent months as YYYY-MM ('; '-separated; a month
    some boroughs lack says how many); complete is True when none is missing; source_files names
    the files that supplied the present months. Measures are those of the catalogue; a measure in
    `measures` that the catalogue does not know is an error (it would be dropped silently)."""
    reference = reference or load_reference()
    catalogue = outcome_catalogue() if catalogue is None else catalogue
    known = list(dict.fromkeys(catalogue["subject_id"]))
    unknown = sorted(set(measures["measure_id"]) - set(known))
    if unknown:
        raise ValueError(f"the measure {unknown[0]!r} has no outcome indicator in outcome_indicators.yaml")
    covered = set(_covered_codes(reference))
    boroughs_per_month = measures[measures["gss_code"].isin(covered)].groupby(["measure_id", "month"])["gss_code"]
    present = boroughs_per_month.nunique().to_dict()
    files = measures.groupby(["measure_id", "month"])["source_file"].agg(lambda s: sorted(set(s))).to_dict()
    rows = []
    for measure_id in known:
        for period in periods.itertuples(index=False):
            months = _months(period.start_month, period.end_month)
            missing, supplied = [], set()
            for month in months:
                found = present.get((measure_id, month), 0)
                if found == len(covered):
                    supplied |= set(files[(measure_id, month)])
                elif found == 0:
                    missing.append(month.strftime("%Y-%m"))
                else:
                    missing.append(f"{month:%Y-%m} ({len(covered) - found} boroughs missing)")
            rows.append(
                {
                    "measure_id": measure_id,
                    "wave": period.wave,
                    "period": period.period,
                    # The span the periods hang on, shown so a stray submission date is seen.
                    "fieldwork_start": period.fieldwork_start,
                    "fieldwork_end": period.fieldwork_end,
                    "start_month": period.start_month,
                    "end_month": period.end_month,
                    "months_expected": len(months),
                    "months_present": len(months) - len(missing),
                    "missing_months": "; ".join(missing),
                    "complete": not missing,
                    "source_files": "; ".join(sorted(supplied)),
                }
            )
    frame = pd.DataFrame(rows, columns=COVERAGE_COLUMNS)
    return frame.sort_values(["measure_id", "wave", "period"]).reset_index(drop=True)


# --- populations ----------------------------------------------------------------------------


def _populations(population: pd.DataFrame, reference: Reference) -> dict[int, pd.DataFrame]:
    """mid_year -> the covered boroughs' residents (index gss_code; all_ages, aged_10_24), for
    every mid-year that has all of them."""
    covered = _covered_codes(reference)
    rows = population[population["area_code"].isin(covered)]
    key = ["area_code", "mid_year"]
    rows = rows.drop_duplicates([*key, "all_ages", "aged_10_24"])
    clash = rows[rows.duplicated(key, keep=False)]
    if len(clash):
        first = clash.iloc[0]
        raise ValueError(
            f"two different mid-{first['mid_year']} populations for {first['area_code']}: keep one population file"
        )
    out = {}
    for year, group in rows.groupby("mid_year"):
        if set(group["area_code"]) == set(covered):
            out[int(year)] = group.set_index("area_code")[["all_ages", "aged_10_24"]].astype("int64")
    if not out:
        raise ValueError(f"the population estimates hold no mid-year with all {len(covered)} boroughs the MPS polices")
    return out


def population_mid_year(start_month: dt.date, available) -> int:
    """The mid-year for a 12-month period: the year of the 30 June inside it, else the nearest
    available mid-year (the earlier on a tie)."""
    target = start_month.year if start_month.month <= 6 else start_month.year + 1
    return min(available, key=lambda year: (abs(year - target), year))


# --- cells --------------------------------------------------------------------------------


def _area_members(reference: Reference, start: dt.date, end: dt.date) -> tuple[pd.DataFrame, dict]:
    """(geography_level, geography_code, gss_code) for every area over every borough, the ICBs as at
    `end`; and notes per (level, code) where something is left out or changed in the period."""
    boroughs = reference.boroughs[["gss_code", "name", "bcu_code"]]
    at_end = reference.boroughs_at(end).set_index("gss_code")["icb_code"]
    at_start = reference.boroughs_at(start).set_index("gss_code")["icb_code"]
    parts = [
        pd.DataFrame(
            {"geography_level": "borough", "geography_code": boroughs["gss_code"], "gss_code": boroughs["gss_code"]}
        ),
        pd.DataFrame(
            {"geography_level": "bcu", "geography_code": boroughs["bcu_code"], "gss_code": boroughs["gss_code"]}
        ),
        pd.DataFrame({"geography_level": "icb", "geography_code": at_end.to_numpy(), "gss_code": at_end.index}),
        pd.DataFrame({"geography_level": "london", "geography_code": LONDON_CODE, "gss_code": boroughs["gss_code"]}),
    ]
    members = pd.concat(parts, ignore_index=True).dropna(subset=["geography_code"])
    names = dict(zip(boroughs["gss_code"], boroughs["name"]))
    notes: dict[tuple[str, str], list[str]] = {}
    for member in members.itertuples(index=False):
        if member.gss_code in COVERAGE and member.geography_level != "borough":
            notes.setdefault((member.geography_level, member.geography_code), []).append(
                f"{names[member.gss_code]} left out of offences and residents; {COVERAGE[member.gss_code]}"
            )
    for code in at_end.index:
        before, after = at_start.get(code), at_end.get(code)
        if pd.isna(after) or _same(before, after):
            continue
        text = (
            f"the ICB did not exist at the start of the period: boroughs as at {end:%Y-%m-%d}"
            if pd.isna(before)
            else f"ICB membership changed during the period: boroughs as at {end:%Y-%m-%d}"
        )
        found = notes.setdefault(("icb", after), [])
        if text not in found:
            found.append(text)
    return members, {key: "; ".join(texts) for key, texts in notes.items()}


def _same(a, b) -> bool:
    return (pd.isna(a) and pd.isna(b)) or a == b


def outcome_cells(
    measures: pd.DataFrame,
    population: pd.DataFrame,
    periods: pd.DataFrame,
    reference: Reference | None = None,
    catalogue: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """The outcome indicator cells (OUTCOME_CELL_COLUMNS) for every indicator x wave x period whose
    12 months are all in `measures` (map_outcomes' frame); `population` is read_population's data
    (any number of mid-years), `periods` wave_periods' frame. See the module's docstring for the
    rules; `outcome_coverage` says which periods are absent and why."""
    reference = reference or load_reference()
    catalogue = outcome_catalogue() if catalogue is None else catalogue
    coverage = outcome_coverage(measures, periods, reference, catalogue)
    populations = _populations(population, reference)
    names = geography_names(reference)
    covered = _covered_codes(reference)
    parts = []
    for period in coverage[coverage["complete"]].itertuples(index=False):
        window = measures[
            (measures["measure_id"] == period.measure_id)
            & (measures["month"] >= period.start_month)
            & (measures["month"] <= period.end_month)
            & measures["gss_code"].isin(covered)
        ]
        counts = window.groupby("gss_code")["count"].sum().astype("int64")
        year = population_mid_year(period.start_month, populations)
        start, end = period.start_month, _month_end(period.end_month)
        members, notes = _area_members(reference, start, end)
        mixed = classification_note(window)
        families = classifications(window)
        for spec in catalogue[catalogue["subject_id"] == period.measure_id].itertuples(index=False):
            residents = populations[year][spec.population_group]
            cells = _period_cells(members, counts, residents, notes)
            if mixed:
                covered_rows = cells["coverage"] == COVERED
                cells.loc[covered_rows, "coverage_note"] = [
                    f"{note}; {mixed}" if isinstance(note, str) and note else mixed
                    for note in cells.loc[covered_rows, "coverage_note"]
                ]
            cells = cells.assign(
                indicator_id=spec.indicator_id,
                wave=period.wave,
                period=period.period,
                period_start=start,
                period_end=end,
                measure_id=period.measure_id,
                population_group=spec.population_group,
                population_mid_year=year,
                classifications=families,
            )
            parts.append(_add_rates(cells, spec.polarity))
    if not parts:
        return _typed(pd.DataFrame(columns=OUTCOME_CELL_COLUMNS))
    frame = pd.concat(parts, ignore_index=True)
    frame["geography_name"] = [names.get(key) for key in zip(frame["geography_level"], frame["geography_code"])]
    return _typed(frame).sort_values(CELL_ORDER).reset_index(drop=True)


def _family_spans(window: pd.DataFrame) -> pd.DataFrame:
    """First and last month (columns min, max) of each MPS classification (layout family) among a
    period's months, earliest first; empty without layouts."""
    if "layout" not in window.columns or window.empty:
        return pd.DataFrame(columns=["min", "max"])
    families = window.assign(family=window["layout"].map(LAYOUT_FAMILY))
    return families.groupby("family")["month"].agg(["min", "max"]).sort_values("min")


def classifications(window: pd.DataFrame) -> str | None:
    """The MPS classifications (layout families) a period's months come from, in time order,
    '; '-separated (e.g. 'pre_2024' or 'pre_2024; upper_2024'); None without layouts."""
    return "; ".join(_family_spans(window).index) or None


CHANGE_ACROSS_CLASSIFICATIONS = (
    "the 12 months before and the 12 after come from different MPS classifications ({before} before, "
    "{after} after): what some categories count changed between them, so part of the change may be "
    "in what is counted"
)


def classification_note(window: pd.DataFrame) -> str | None:
    """When a period's months come from more than one MPS classification (layout family: the 2024
    re-coding changed what some categories hold), a note naming each one's months; else None."""
    spans = _family_spans(window)
    if len(spans) < 2:
        return None
    parts = [f"{family} {first:%Y-%m} to {last:%Y-%m}" for family, (first, last) in spans.iterrows()]
    return (
        f"months from {len(spans)} MPS classifications ({', '.join(parts)}): what some categories count "
        "changed between them (see outcomes.yaml), so part of a difference may be in what is counted"
    )


def _period_cells(members: pd.DataFrame, counts: pd.Series, residents: pd.Series, notes: dict) -> pd.DataFrame:
    """Counts and residents summed per area over its covered boroughs; the not-covered boroughs'
    own rows with neither."""
    joined = members.assign(count=members["gss_code"].map(counts), population=members["gss_code"].map(residents))
    joined = joined[joined["count"].notna()]
    sums = joined.groupby(["geography_level", "geography_code"], as_index=False).agg(
        count=("count", "sum"), population=("population", "sum"), boroughs=("gss_code", "nunique")
    )
    sums["coverage"] = COVERED
    sums["coverage_note"] = [notes.get(key) for key in zip(sums["geography_level"], sums["geography_code"])]
    outside = members[(members["geography_level"] == "borough") & members["gss_code"].isin(COVERAGE)]
    uncovered = pd.DataFrame(
        {
            "geography_level": "borough",
            "geography_code": outside["gss_code"].to_numpy(),
            "count": np.nan,
            "population": np.nan,
            "boroughs": np.nan,
            "coverage": NOT_COVERED,
            "coverage_note": [COVERAGE[code] for code in outside["gss_code"]],
        }
    )
    return pd.concat([sums, uncovered], ignore_index=True)


def _add_rates(cells: pd.DataFrame, polarity: str) -> pd.DataFrame:
    rates = [
        crude_rate(int(cell.count), float(cell.population), multiplier=MULTIPLIER) if cell.coverage == COVERED else None
        for cell in cells.itertuples(index=False)
    ]
    cells = cells.assign(
        value=[rate.value if rate else math.nan for rate in rates],
        lower_ci=[rate.lower if rate else math.nan for rate in rates],
        upper_ci=[rate.upper if rate else math.nan for rate in rates],
        ci_method=[rate.method if rate else None for rate in rates],
    )
    london = cells.loc[cells["geography_level"] == "london", "value"]
    london_value = float(london.iloc[0]) if len(london) else math.nan
    cells["comparison"] = [
        "London"
        if cell.geography_level == "london"
        else (
            compare_with_london(cell.lower_ci, cell.upper_ci, london_value, polarity)
            if cell.coverage == COVERED
            else NOT_COMPARED
        )
        for cell in cells.itertuples(index=False)
    ]
    return cells.assign(
        numerator=cells["count"], n=cells["population"], sector=None, suppressed=False, suppression_reason=None
    )


def _typed(frame: pd.DataFrame) -> pd.DataFrame:
    frame = frame.reindex(columns=OUTCOME_CELL_COLUMNS)
    for column in _WHOLE:
        frame[column] = pd.array([pd.NA if pd.isna(v) else int(v) for v in frame[column]], dtype="Int64")
    for column in ("value", "lower_ci", "upper_ci"):
        frame[column] = frame[column].astype("float64")
    frame["suppressed"] = frame["suppressed"].astype(bool)
    frame["sector"] = frame["sector"].astype(object)
    frame["suppression_reason"] = frame["suppression_reason"].astype(object)
    return frame


# --- the link with practice ------------------------------------------------------------------

PARTNERSHIP_COLUMNS = registry.table("partnership_outcomes").names
CORRELATION_COLUMNS = registry.table("partnership_outcome_correlations").names
_NO_INDEX = (math.nan, pd.NA, False)
_LEVELS = {"council": "borough", "bcu": "bcu", "icb": "icb"}  # practice column prefix -> geography_level
_PERIOD_FLOATS = [f"{name}_{period}" for period in PERIODS for name in ("rate", "lower_ci", "upper_ci")]


def _index_lookup(survey_indicators: pd.DataFrame) -> dict[tuple, tuple]:
    """(wave, level, code) -> (index, n, suppressed): a suppressed cell's value and n are blanked
    here whatever the frame holds, so a withheld index can never come out as a number."""
    if "suppressed" not in survey_indicators.columns:
        raise ValueError("the survey indicators carry no 'suppressed' flag: pass disclosure-controlled cells")
    if "source" not in survey_indicators.columns:
        raise ValueError("the indicators carry no 'source': pass rows of the indicators table")
    rows = survey_indicators[
        (survey_indicators["indicator_id"] == INDEX_INDICATOR)
        & survey_indicators["geography_level"].isin(["borough", "bcu", "icb"])
        & (survey_indicators["source"] == SURVEY)
    ]
    lookup = {}
    for cell in rows.itertuples(index=False):
        key = (cell.wave, cell.geography_level, cell.geography_code)
        if bool(cell.suppressed):
            lookup[key] = (math.nan, pd.NA, True)
        else:
            value = math.nan if pd.isna(cell.value) else float(cell.value)
            lookup[key] = (value, pd.NA if pd.isna(cell.n) else int(cell.n), False)
    return lookup


def _membership_dates(waves, outcome_cells: pd.DataFrame, periods: pd.DataFrame | None) -> dict:
    """The date each wave's boroughs are placed in ICBs: its first submission (from `periods`), else
    the first day of the month its fieldwork began (the day after its 'before' period), else the
    last day of the month it ended (the day before its 'after' period); None (the latest lookup)
    when neither is known."""
    dates = {}
    for wave in waves:
        if periods is not None and (periods["wave"] == wave).any():
            dates[wave] = as_date(periods.loc[periods["wave"] == wave, "fieldwork_start"].min())
            continue
        mine = outcome_cells[outcome_cells["wave"] == wave]
        before, after = mine[mine["period"] == "before"], mine[mine["period"] == "after"]
        if len(before):
            dates[wave] = before["period_end"].iloc[0] + dt.timedelta(days=1)
        elif len(after):
            dates[wave] = after["period_start"].iloc[0] - dt.timedelta(days=1)
        else:
            dates[wave] = None
    return dates


def partnership_outcomes(
    survey_indicators: pd.DataFrame,
    outcome_cells: pd.DataFrame,
    reference: Reference | None = None,
    periods: pd.DataFrame | None = None,
    catalogue: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Per borough x wave x outcome indicator (PARTNERSHIP_COLUMNS): the council's trauma-informed
    practice index (ti_index_mean at geography_level 'borough'), its BCU's and its ICB's, each with
    n and a suppression flag (a suppressed index stays missing, never a number; an index with no
    cell is missing and not suppressed), beside the borough's rate, CI, count and comparison with
    London before and after the wave, and rate_change = after - before when both exist.

    Every borough is listed, the City of London too (its council answers the survey; its rates are
    'not covered'). Waves are those of the index cells and of the outcome cells; indicators those of
    the catalogue. ICBs are as the borough belonged to them when the wave's fieldwork began
    (`_membership_dates`; pass `periods`, wave_periods' frame, for the first submission date)."""
    reference = reference or load_reference()
    catalogue = outcome_catalogue() if catalogue is None else catalogue
    unknown = sorted(set(outcome_cells["indicator_id"]) - set(catalogue["indicator_id"]))
    if unknown:
        raise ValueError(f"the outcome indicator {unknown[0]!r} is not in the outcome catalogue")
    lookup = _index_lookup(survey_indicators)
    waves = sorted({key[0] for key in lookup} | set(outcome_cells["wave"]))
    boroughs_cells = outcome_cells[outcome_cells["geography_level"] == "borough"]
    rates = {
        (cell.indicator_id, cell.wave, cell.period, cell.geography_code): cell
        for cell in boroughs_cells.itertuples(index=False)
    }
    dates = _membership_dates(waves, outcome_cells, periods)
    names = geography_names(reference)
    rows = []
    for wave in waves:
        for borough in reference.boroughs_at(dates[wave]).itertuples(index=False):
            areas = {}
            for level, code in (("council", borough.gss_code), ("bcu", borough.bcu_code), ("icb", borough.icb_code)):
                found = _NO_INDEX if pd.isna(code) else lookup.get((wave, _LEVELS[level], code), _NO_INDEX)
                areas[level] = (None if pd.isna(code) else code, *found)
            for spec in catalogue.itertuples(index=False):
                before = rates.get((spec.indicator_id, wave, "before", borough.gss_code))
                after = rates.get((spec.indicator_id, wave, "after", borough.gss_code))
                row = {"wave": wave, "gss_code": borough.gss_code, "borough_name": borough.name}
                for level, (code, value, n, suppressed) in areas.items():
                    if level != "council":
                        row[f"{level}_code"] = code
                        row[f"{level}_name"] = names.get((level, code)) if code else None
                    row.update(
                        {f"{level}_index": value, f"{level}_index_n": n, f"{level}_index_suppressed": suppressed}
                    )
                row.update(
                    indicator_id=spec.indicator_id,
                    measure_id=spec.subject_id,
                    population_group=spec.population_group,
                    coverage=NOT_COVERED if borough.gss_code in COVERAGE else COVERED,
                )
                row.update(_period_values(before, "before"))
                row.update(_period_values(after, "after"))
                rows.append(row)
    frame = pd.DataFrame(rows, columns=PARTNERSHIP_COLUMNS)
    frame["rate_change"] = frame["rate_after"].astype(float) - frame["rate_before"].astype(float)
    frame["change_note"] = [
        _change_note(
            rates.get((row.indicator_id, row.wave, "before", row.gss_code)),
            rates.get((row.indicator_id, row.wave, "after", row.gss_code)),
        )
        for row in frame.itertuples(index=False)
    ]
    for column in ("council_index", "bcu_index", "icb_index", *_PERIOD_FLOATS):
        frame[column] = frame[column].astype("float64")
    for column in ("council_index_n", "bcu_index_n", "icb_index_n", "count_before", "count_after"):
        frame[column] = frame[column].astype("Int64")
    for column in ("council_index_suppressed", "bcu_index_suppressed", "icb_index_suppressed"):
        frame[column] = frame[column].astype(bool)
    return frame.sort_values(["wave", "gss_code", "indicator_id"]).reset_index(drop=True)


def _change_note(before, after) -> str | None:
    """Why a change may be partly in what is counted: the two periods' classifications differ."""
    if before is None or after is None:
        return None
    first, second = getattr(before, "classifications", None), getattr(after, "classifications", None)
    if not first or not second or first == second:
        return None
    return CHANGE_ACROSS_CLASSIFICATIONS.format(before=first, after=second)


def _period_values(cell, period: str) -> dict:
    if cell is None:
        return {
            f"{period}_start": None,
            f"{period}_end": None,
            f"rate_{period}": math.nan,
            f"lower_ci_{period}": math.nan,
            f"upper_ci_{period}": math.nan,
            f"count_{period}": pd.NA,
            f"comparison_{period}": None,
        }
    return {
        f"{period}_start": cell.period_start,
        f"{period}_end": cell.period_end,
        f"rate_{period}": cell.value,
        f"lower_ci_{period}": cell.lower_ci,
        f"upper_ci_{period}": cell.upper_ci,
        f"count_{period}": cell.count,
        f"comparison_{period}": cell.comparison,
    }


def partnership_outcome_correlations(partnership_outcomes: pd.DataFrame) -> pd.DataFrame:
    """Per wave x outcome indicator x period ('before', 'after', 'change' = after minus before):
    Spearman's rho between the council's index and the borough's rate across the boroughs with both
    values, its 95% CI (Fisher's z with the Bonett-Wright variance, `spearman_with_ci`) and n
    (CORRELATION_COLUMNS). Below 4 boroughs, or when either side does not vary, there is no rho and
    `note` says why. Every row carries the caveat: ecological and descriptive, never causal."""
    rows = []
    for (wave, indicator_id), group in partnership_outcomes.groupby(["wave", "indicator_id"], sort=True):
        index = group["council_index"].astype("float64")
        for period, column in (("before", "rate_before"), ("after", "rate_after"), ("change", "rate_change")):
            rate = group[column].astype("float64")
            both = index.notna() & rate.notna()
            x, y = index[both].tolist(), rate[both].tolist()
            note = None
            if rate.isna().all():
                note = "no rates for this period: the MPS data do not cover all its months (see outcome_coverage)"
            elif len(x) < 4:
                note = "fewer than 4 boroughs with both an index and a rate: no correlation"
            elif len(set(x)) == 1 or len(set(y)) == 1:
                note = "the index or the rate is the same in every borough: no correlation"
            if note:
                rho = lower = upper = math.nan
                method = spearman_with_ci([], []).method
            else:
                result = spearman_with_ci(x, y)
                rho, lower, upper, method = result.rho, result.lower, result.upper, result.method
                if period == "change" and "change_note" in group.columns:
                    # Shown beside rho: a change across the 2024 re-coding is partly in what is counted.
                    noted = group.loc[both, "change_note"].dropna()
                    note = noted.iloc[0] if len(noted) else None
            rows.append(
                {
                    "wave": wave,
                    "indicator_id": indicator_id,
                    "measure_id": group["measure_id"].iloc[0],
                    "population_group": group["population_group"].iloc[0],
                    "period": period,
                    "index_indicator": INDEX_INDICATOR,
                    "index_level": "borough",
                    "rho": rho,
                    "lower_ci": lower,
                    "upper_ci": upper,
                    "n": len(x),
                    "method": method,
                    "note": note,
                    "caveat": CORRELATION_CAVEAT,
                }
            )
    frame = pd.DataFrame(rows, columns=CORRELATION_COLUMNS)
    frame["n"] = frame["n"].astype("int64")
    return frame


# --- funnel plot -------------------------------------------------------------------------------

FUNNEL_COLUMNS = [
    "indicator_id",
    "wave",
    "period",
    "geography_code",
    "geography_name",
    "count",
    "population",
    "value",
    "london_value",
    "lower_95",
    "upper_95",
    "lower_998",
    "upper_998",
    "position_95",
    "position_998",
    "inside_95",
    "inside_998",
]


def _funnel_selection(outcome_cells: pd.DataFrame, measure: str, wave: str, period: str):
    """The boroughs' cells and London's rate per person for one indicator (an indicator id, or a
    measure id meaning its all-ages rate), wave and period."""
    if measure in set(outcome_cells["indicator_id"]):
        chosen = outcome_cells["indicator_id"] == measure
    elif measure in set(outcome_cells["measure_id"]):
        chosen = (outcome_cells["measure_id"] == measure) & (outcome_cells["population_group"] == "all_ages")
    else:
        raise ValueError(
            f"no outcome cells for {measure!r}: not an indicator or measure id, or none of its periods "
            "is in the MPS data (see outcome_coverage)"
        )
    cells = outcome_cells[chosen & (outcome_cells["wave"] == wave) & (outcome_cells["period"] == period)]
    london = cells[cells["geography_level"] == "london"]
    if london.empty:
        raise ValueError(f"no {period!r} period of {measure!r} for wave {wave!r} (see outcome_coverage)")
    boroughs = cells[(cells["geography_level"] == "borough") & (cells["coverage"] == COVERED)]
    per_person = int(london["count"].iloc[0]) / int(london["population"].iloc[0])
    return boroughs, per_person, london["indicator_id"].iloc[0]


def funnel_points(outcome_cells: pd.DataFrame, measure: str, wave: str, period: str) -> pd.DataFrame:
    """Each covered borough's rate and residents with the 95% and 99.8% funnel limits around
    London's rate at its population (Fingertips' exact Poisson funnel, `funnel_limits`), per 1,000
    like the rate, and where it stands against each as Fingertips decides it (`funnel_position`: the
    borough's own interval against London's rate): 'inside', 'above' or 'below'; inside_95 /
    inside_998 the same as booleans (FUNNEL_COLUMNS). `measure` is an indicator id, or a measure id
    for its all-ages rate. The City of London is not covered, so not plotted."""
    boroughs, per_person, indicator_id = _funnel_selection(outcome_cells, measure, wave, period)
    rows = []
    for cell in boroughs.sort_values("geography_code").itertuples(index=False):
        row = {
            "indicator_id": indicator_id,
            "wave": wave,
            "period": period,
            "geography_code": cell.geography_code,
            "geography_name": cell.geography_name,
            "count": cell.count,
            "population": cell.population,
            "value": cell.value,
            "london_value": per_person * MULTIPLIER,
        }
        for label, probability in FUNNEL_PROBABILITIES.items():
            lower, upper = funnel_limits(per_person, int(cell.population), probability)
            lower, upper = lower * MULTIPLIER, upper * MULTIPLIER
            position = funnel_position(int(cell.count), int(cell.population), per_person, probability)
            row.update(
                {
                    f"lower_{label}": lower,
                    f"upper_{label}": upper,
                    f"position_{label}": position,
                    f"inside_{label}": position == "inside",
                }
            )
        rows.append(row)
    frame = pd.DataFrame(rows, columns=FUNNEL_COLUMNS)
    frame[["count", "population"]] = frame[["count", "population"]].astype("Int64")
    return frame


def funnel_curve(outcome_cells: pd.DataFrame, measure: str, wave: str, period: str, points: int = 200) -> pd.DataFrame:
    """The funnel's limits (per 1,000) over a range of populations, for drawing its lines: from
    half the smallest borough's residents to 1.5 times the largest, spaced evenly on a log scale.
    Columns population, london_value, lower_95, upper_95, lower_998, upper_998."""
    boroughs, per_person, _ = _funnel_selection(outcome_cells, measure, wave, period)
    populations = boroughs["population"].astype("int64")
    grid = np.geomspace(populations.min() / 2, populations.max() * 1.5, points)
    rows = []
    for population in grid:
        row = {"population": float(population), "london_value": per_person * MULTIPLIER}
        for label, probability in FUNNEL_PROBABILITIES.items():
            lower, upper = funnel_limits(per_person, float(population), probability)
            row.update({f"lower_{label}": lower * MULTIPLIER, f"upper_{label}": upper * MULTIPLIER})
        rows.append(row)
    return pd.DataFrame(rows, columns=["population", "london_value", "lower_95", "upper_95", "lower_998", "upper_998"])
