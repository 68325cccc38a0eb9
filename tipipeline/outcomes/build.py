"""The outcome side of the evidence base from a folder of published files: read every file by its
kind, combine the MPS releases, map categories to measures, and account for every offence.

Pure functions (no Dagster): the assets in tipipeline/assets/outcomes.py write what these return.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from tipipeline import registry
from tipipeline.errors import InputError
from tipipeline.files import file_sha256
from tipipeline.outcomes import crime, fingertips, indicators, population
from tipipeline.outcomes.check import CRIME, FINGERTIPS, POPULATION, outcome_kind
from tipipeline.outcomes.files import outcome_files
from tipipeline.reference import ENGLAND_CODE, LONDON_CODE, Reference

UNRECOGNISED = "unrecognised"
NOT_OUTCOME = (
    "neither an MPS Borough Level Crime CSV, an OHID Fingertips data export (CSV) nor an ONS mid-year "
    "population estimates workbook (MYE2 or MYEB1); move it out of the outcomes folder"
)
QUALITY_COLUMNS = registry.table("outcome_data_quality").names


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
    kept = ("count_", "cells_", "months", "measures_absent", "boroughs_absent", "superseded_")
    accounting = {k: v for k, v in counts.items() if k.startswith(kept)}
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


def _reader_quality(source: str, file, table: pd.DataFrame, kept_codes: set[str] | None = None) -> dict:
    """A Fingertips or population file's row: the reader's counts, and where the rows it gave went
    in the combined `table` (in it; left out as outside London, for Fingertips; or kept once from
    another file that published them identically)."""
    row = file.quality_row()
    given = len(file.data)
    outside = 0 if kept_codes is None else int((~file.data["area_code"].isin(kept_codes)).sum())
    in_table = int((table["source_file"] == row["source_file"]).sum()) if len(table) else 0
    accounting = {
        "table_rows_given": given,
        "table_rows_kept": in_table,
        "outside_london": outside,
        "repeats_of_an_earlier_row": given - outside - in_table,
    }
    return {
        "source": source,
        **{k: row[k] for k in ("source_file", "sha256", "file_format", "rows_read", "rows_accepted", "rows_excluded")},
        "excluded_by_rule": row["excluded_by_rule"],
        "accounting": json.dumps(accounting, sort_keys=True),
    }


def _empty(table: str) -> pd.DataFrame:
    """An empty frame with the table's columns (no files of a kind: the table exists, empty; typed
    when it is written, by conform_empty)."""
    return pd.DataFrame(columns=registry.table(table).names)


def _crime_tables(files: list[crime.CrimeFile], reference: Reference) -> tuple[pd.DataFrame, ...]:
    mapping = crime.load_outcome_mapping()
    if not files:
        return _empty("outcome_measures"), _empty("outcome_unmapped"), _empty("outcome_supply"), []
    monthly, supply = crime.combine_releases(files)
    measures, unmapped = crime.map_outcomes(monthly, mapping, reference)
    quality = [_crime_quality(f, crime.accounting(f, mapping, supply, reference)) for f in files]
    return measures, unmapped, supply, quality


def _unrecognised_quality(path: Path) -> dict:
    """A file in the outcomes folder that is none of the outcome kinds: listed, with its hash, so
    the accounting names it and `verify` does not report it as new on every run."""
    return {
        "source": UNRECOGNISED,
        "source_file": path.name,
        "sha256": file_sha256(path),
        "file_format": "unrecognised",
        "rows_read": 0,
        "rows_accepted": 0,
        "rows_excluded": 0,
        "excluded_by_rule": "{}",  # no row was read: the whole file is left out, for the reason below
        "accounting": json.dumps({"reason": f"not an outcome file: {NOT_OUTCOME}"}),
    }


def combine_populations(frames: list[pd.DataFrame]) -> pd.DataFrame:
    """The population files' rows as one frame: an area's mid-year published identically in two
    files is kept once (the first file's row); published with different residents it is an
    InputError naming both files, since neither can be called the newer estimate."""
    if not frames:
        return _empty("population_estimates")
    rows = pd.concat(frames, ignore_index=True)
    key = ["area_code", "mid_year"]
    first = rows.drop_duplicates(key, keep="first").set_index(key)
    for row in rows[rows.duplicated(key, keep="first")].itertuples(index=False):
        kept = first.loc[(row.area_code, row.mid_year)]
        for column in ("all_ages", "aged_10_24"):
            if int(kept[column]) != int(getattr(row, column)):
                same_file = kept["source_file"] == row.source_file
                where = (
                    f"row {kept['source_row']} of this file"
                    if same_file
                    else f"{kept['source_file']} (row {kept['source_row']})"
                )
                advice = (
                    "correct the file"
                    if same_file
                    else "two editions of the estimates disagree, so keep one population file in the outcomes folder"
                )
                raise InputError(
                    row.source_file,
                    f"mid-{row.mid_year} residents ({column}) of {row.area_name} are {getattr(row, column)} here "
                    f"but {kept[column]} in {where}: {advice}",
                    row=int(row.source_row),
                    column=column,
                )
    return rows.drop_duplicates(key, keep="first").reset_index(drop=True)


def read_outcome_folder(folder: Path, reference: Reference) -> OutcomeInputs:
    """Read every outcome file in `folder` (an absent or empty folder gives empty tables)."""
    crimes, tips, people, unrecognised = [], [], [], []
    for path in outcome_files(folder):
        kind = outcome_kind(path)
        if kind == CRIME:
            crimes.append(crime.read_crime_file(path, reference))
        elif kind == FINGERTIPS:
            tips.append(fingertips.read_fingertips(path))
        elif kind == POPULATION:  # every .xls is (outcome_kind); the reader says why one cannot be read
            people.append(population.read_population(path))
        else:
            unrecognised.append(path)
    measures, unmapped, supply, crime_quality = _crime_tables(crimes, reference)
    # Across files as well as within one: two exports repeating a row are kept once, or disagree.
    tips_frame = (
        fingertips.london_boroughs(pd.concat([f.data for f in tips], ignore_index=True), reference)
        if tips
        else pd.DataFrame(columns=fingertips.COLUMNS)
    )
    people_frame = combine_populations([f.data for f in people])
    london = {*reference.boroughs["gss_code"], LONDON_CODE, ENGLAND_CODE}
    quality = crime_quality + [_reader_quality("fingertips", f, tips_frame, london) for f in tips]
    quality += [_reader_quality("population", f, people_frame) for f in people]
    quality += [_unrecognised_quality(path) for path in unrecognised]
    return OutcomeInputs(
        measures=measures,
        unmapped=unmapped,
        supply=supply,
        fingertips=tips_frame,
        population=people_frame,
        data_quality=pd.DataFrame(quality, columns=QUALITY_COLUMNS),
        unrecognised=[path.name for path in unrecognised],
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
            pd.DataFrame(columns=indicators.PARTNERSHIP_COLUMNS),
            indicators.partnership_outcome_correlations(pd.DataFrame(columns=indicators.PARTNERSHIP_COLUMNS)),
            catalogue,
        )
    cells = indicators.outcome_cells(measures, population, periods, reference, catalogue)
    coverage = indicators.outcome_coverage(measures, periods, reference, catalogue)
    practice = indicators.partnership_outcomes(survey_indicators, cells, reference, periods, catalogue)
    return OutcomeTables(
        periods, cells, coverage, practice, indicators.partnership_outcome_correlations(practice), catalogue
    )
