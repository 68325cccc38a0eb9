"""How fast could an ingest done wholly in DuckDB be? A probe for issue 14's plan, not a reader.

On a generated export (`bench/make_export.py`), times in one process:
- the end-to-end benchmark's floor (DuckDB's `read_csv` into an in-memory table);
- the raw cells read and written to a warehouse file as text;
- the wide answers made in one statement: every item's label mapped to its value and missing code
  (the pipeline's codes, `long_form.missing_codes`), the pseudonym computed in DuckDB, written to
  the warehouse file.

It is a lower bound on what a DuckDB-only ingest would cost, not a reader: labels are matched after
`lower(trim())` only (the pipeline also folds curly quotes, non-breaking and repeated spaces), an
unknown label is not quarantined, and exclusions, geography, dates and the multi-line check are left
out.

    .venv/bin/python bench/sql_ingest_probe.py DATA_DIR [--threads N]
"""

import argparse
import csv
import json
import sys
import tempfile
import time
from pathlib import Path

import duckdb

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tipipeline.framework import load_framework  # noqa: E402
from tipipeline.ingest.codebook import load_codebook  # noqa: E402
from tipipeline.ingest.identifiers import pseudonym_key, pseudonym_sql  # noqa: E402
from tipipeline.ingest.long_form import ANSWERED_CODE, NOT_ANSWERED, missing_codes  # noqa: E402
from tipipeline.settings import get_settings  # noqa: E402


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def answers_select(codebook, source: str, id_column: str) -> tuple[str, list]:
    """The wide answers (value and missing code per item) and the pseudonym, as one SELECT."""
    codes = missing_codes(codebook)
    code_of = dict(zip(codes["missing_reason"], codes["code"]))
    columns = []
    for item in codebook.items:
        scale = codebook.scales[item.scale]
        cell = f'lower(trim("{item.column}"))'
        values = " ".join(f"WHEN {_literal(k.strip().lower())} THEN {float(v)!r}" for k, v in scale.values.items())
        missing = " ".join(f"WHEN {_literal(k.strip().lower())} THEN {int(code_of[k])}" for k in scale.missing)
        columns.append(f'CASE {cell} {values} ELSE NULL END AS "v__{item.id}"')
        not_answered = int(code_of[NOT_ANSWERED])
        columns.append(
            f"CAST(CASE WHEN coalesce({cell}, '') = '' THEN {not_answered} "
            f'ELSE CASE {cell} {missing} ELSE {ANSWERED_CODE} END END AS TINYINT) AS "m__{item.id}"'
        )
    pseudonym, params = pseudonym_sql(f'"{id_column}"', pseudonym_key(codebook.synthetic), "response:probe:")
    return f"SELECT {pseudonym} AS respondent_id, {', '.join(columns)} FROM {source}", params


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("data_dir")
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    settings = get_settings(args.data_dir, tempfile.mkdtemp())
    codebook = load_codebook(settings.codebook_path, load_framework())
    path = sorted(Path(settings.surveys_dir).glob("*/export.csv"))[0]
    # Qualtrics-modern: names on the first row, then two more header rows.
    with path.open(encoding="utf-8-sig", newline="") as handle:
        names = next(csv.reader(handle))
    source = f"read_csv('{path}', header = false, skip = 3, all_varchar = true, names = {names!r})"
    timings = {}
    with tempfile.TemporaryDirectory() as tmp:
        with duckdb.connect(config={"threads": args.threads}) as memory:
            started = time.perf_counter()
            memory.execute(
                f"CREATE TABLE t AS SELECT * FROM read_csv('{path}', header = false, skip = 3, all_varchar = true)"
            )
            timings["floor_read_csv_in_memory"] = time.perf_counter() - started
        with duckdb.connect(str(Path(tmp) / "probe.duckdb"), config={"threads": args.threads}) as conn:
            started = time.perf_counter()
            conn.execute(f"CREATE TABLE raw_text AS SELECT * FROM {source}")
            conn.execute("CHECKPOINT")
            timings["raw_text_to_file"] = time.perf_counter() - started
            select, params = answers_select(codebook, source, "ResponseId")
            started = time.perf_counter()
            conn.execute(f"CREATE TABLE answers AS {select}", params)
            conn.execute("CHECKPOINT")
            timings["wide_answers_to_file"] = time.perf_counter() - started
            rows = conn.execute("SELECT count(*) FROM answers").fetchall()[0][0]
            # A sanity check that the labels were mapped: the first item's cells by missing code.
            first = codebook.items[0].id
            by_code = dict(conn.execute(f'SELECT "m__{first}", count(*) FROM answers GROUP BY 1 ORDER BY 1').fetchall())
    floor = timings["floor_read_csv_in_memory"]
    print(
        json.dumps(
            {
                "export": path.name,
                "export_bytes": path.stat().st_size,
                "rows": rows,
                "first_item_cells_by_missing_code": by_code,
                "threads": args.threads,
                "seconds": {k: round(v, 2) for k, v in timings.items()},
                "over_floor": {k: round(v / floor, 2) for k, v in timings.items()},
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
