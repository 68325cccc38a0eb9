"""The outcome side of the evidence base from a folder of published files: read every file by its
kind, combine the MPS releases, map categories to measures, and account for every offence.

Pure functions (no Dagster): the assets in tipipeline/assets/outcomes.py write what these return.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from tipipeline.outcomes import crime, fingertips, indicators, population
from tipipeline.outcomes.check import CRIME, FINGERTIPS, POPULATION, outcome_kind
from tipipeline.outcomes.files import outcome_files
from tipipeline.reference import Reference
from tipipeline.schemas import outcomes as schemas

QUALITY_COLUMNS = [
    "source",
    "source_file",
    "sha256",
    "file_format",
    "rows_read",
    "rows_accepted",
    "rows_excluded",
    "excluded_by_rule",
    "accounting",
]


@dataclass
class OutcomeInputs:
    """Everything read from the outcomes folder."""

    measures: pd.DataFrame  # per measure x borough x month (crime.map_outcomes)
    unmapped: pd.DataFrame  # borough cells in categories no measure takes, per file and category
    supply: pd.DataFrame  # which release supplied each month
    fingertips: pd.DataFrame  # Fingertips rows for the London boroughs, London and England
    population: pd.DataFrame  # residents per area and mid-year
    data_quality: pd.DataFrame  # one row per file: QUALITY_COLUMNS
    unrecognised: list[str] = field(default_factory=list)


def _crime_quality(file: crime.CrimeFile, counts: dict) -> dict:
    accounting = {k: v for k, v in counts.items() if k.startswith(("count_", "cells_", "months"))}
    accounting["superseded_months"] = counts.get("superseded_months", [])
    return {
        "source": "crime",
        "source_file": file.source_file,
        "sha256": file.sha256,
        "file_format": file.layout,
        "rows_read": file.rows_read,
        "rows_accepted": file.rows_read - file.rows_blank,
        "rows_excluded": file.rows_blank,
        "excluded_by_rule": json.dumps({"blank_row": file.rows_blank} if file.rows_blank else {}),
        "accounting": json.dumps(accounting, default=str, sort_keys=True),
    }


def _reader_quality(source: str, file) -> dict:
    row = file.quality_row()
    return {
        "source": source,
        **{k: row[k] for k in ("source_file", "sha256", "file_format", "rows_read", "rows_accepted", "rows_excluded")},
        "excluded_by_rule": row["excluded_by_rule"],
        "accounting": "{}",
    }


def _empty(model) -> pd.DataFrame:
    """An empty frame with the table's columns (no files of a kind: the table exists, empty)."""
    return pd.DataFrame(columns=list(model.to_schema().columns))


def _crime_tables(files: list[crime.CrimeFile], reference: Reference) -> tuple[pd.DataFrame, ...]:
    mapping = crime.load_outcome_mapping()
    if not files:
        return _empty(schemas.OutcomeMeasures), _empty(schemas.OutcomeUnmapped), _empty(schemas.OutcomeSupply), []
    monthly, supply = crime.combine_releases(files)
    measures, unmapped = crime.map_outcomes(monthly, mapping, reference)
    quality = [_crime_quality(f, crime.accounting(f, mapping, supply)) for f in files]
    return measures, unmapped, supply, quality


def read_outcome_folder(folder: Path, reference: Reference) -> OutcomeInputs:
    """Read every outcome file in `folder` (an absent or empty folder gives empty tables)."""
    crimes, tips, people, quality, unrecognised = [], [], [], [], []
    for path in outcome_files(folder):
        kind = outcome_kind(path)
        if kind == CRIME:
            crimes.append(crime.read_crime_file(path, reference))
        elif kind == FINGERTIPS:
            tips.append(fingertips.read_fingertips(path))
        elif kind == POPULATION or path.suffix.lower() == ".xls":
            people.append(population.read_population(path))  # .xls: the reader says how to convert it
        else:
            unrecognised.append(path.name)
    measures, unmapped, supply, crime_quality = _crime_tables(crimes, reference)
    quality = crime_quality + [_reader_quality("fingertips", f) for f in tips]
    quality += [_reader_quality("population", f) for f in people]
    tips_frames = [fingertips.london_boroughs(f.data, reference) for f in tips]
    return OutcomeInputs(
        measures=measures,
        unmapped=unmapped,
        supply=supply,
        fingertips=pd.concat(tips_frames, ignore_index=True) if tips else pd.DataFrame(columns=fingertips.COLUMNS),
        population=pd.concat([f.data for f in people], ignore_index=True)
        if people
        else _empty(schemas.PopulationEstimates),
        data_quality=pd.DataFrame(quality, columns=QUALITY_COLUMNS),
        unrecognised=unrecognised,
    )


@dataclass
class OutcomeTables:
    """The outcome indicators and their link to practice."""

    periods: pd.DataFrame
    cells: pd.DataFrame
    coverage: pd.DataFrame
    practice: pd.DataFrame
    correlations: pd.DataFrame
    catalogue: pd.DataFrame


def outcome_tables(
    measures: pd.DataFrame,
    population: pd.DataFrame,
    submitted: dict[str, list],
    survey_indicators: pd.DataFrame | None,
    reference: Reference,
) -> OutcomeTables:
    """Indicators per wave's 12 months before and after fieldwork, and their link to the index.

    `measures` and `population` as `read_outcome_folder` reads them; `submitted`: each wave's submission dates; `survey_indicators`: the published (disclosure-
    controlled) indicator cells (those with source 'survey' are used), so a withheld index stays withheld beside
    the outcomes."""
    catalogue = indicators.outcome_catalogue()
    if survey_indicators is None:  # no survey published yet: the index is missing everywhere
        survey_indicators = pd.DataFrame(
            columns=["indicator_id", "source", "wave", "geography_level", "geography_code", "value", "n", "suppressed"]
        )
    periods = indicators.wave_periods(submitted) if submitted else pd.DataFrame(columns=indicators.PERIOD_COLUMNS)
    if measures.empty or population.empty or periods.empty:
        empty_cells = pd.DataFrame(columns=indicators.OUTCOME_CELL_COLUMNS)
        return OutcomeTables(
            periods,
            empty_cells,
            pd.DataFrame(columns=indicators.COVERAGE_COLUMNS),
            pd.DataFrame(columns=indicators.PRACTICE_COLUMNS),
            indicators.practice_outcome_correlations(pd.DataFrame(columns=indicators.PRACTICE_COLUMNS)),
            catalogue,
        )
    cells = indicators.outcome_cells(measures, population, periods, reference, catalogue)
    coverage = indicators.outcome_coverage(measures, periods, reference, catalogue)
    practice = indicators.practice_outcomes(survey_indicators, cells, reference, periods, catalogue)
    return OutcomeTables(
        periods, cells, coverage, practice, indicators.practice_outcome_correlations(practice), catalogue
    )
