"""Item-level answers: stored wide, shown long.

A wave's answers are one row per respondent with, per item, the value (`v__<item>`, NaN when
missing) and a small missing-reason code (`m__<item>`), stored as `stg_answers`. The view
`stg_responses` UNPIVOTs them into one row per respondent x item, reading each wave through the
items and codes its own ingest stored (`stg_answer_items`, `stg_answer_codes`): 1M respondents x
60 items are 1M stored rows, not 60M.
"""

from __future__ import annotations

import duckdb
import pandas as pd

from tipipeline.ingest.codebook import Codebook
from tipipeline.warehouse import sql_literal

NOT_ANSWERED = "not_answered"
ANSWERED_CODE = 0


def missing_codes(codebook: Codebook) -> pd.DataFrame:
    """Code -> missing reason: 0 answered (no reason), 1 not answered, then each scale's missing labels."""
    labels = [NOT_ANSWERED]
    for scale in codebook.scales.values():
        for label in scale.missing:
            if label not in labels:
                labels.append(label)
    return pd.DataFrame({"code": range(1, len(labels) + 1), "missing_reason": labels}).astype({"code": "int8"})


def items_frame(codebook: Codebook) -> pd.DataFrame:
    """What the long form needs of each item: domain, principle, reverse coding, scale range."""
    return pd.DataFrame(
        [
            {
                "item_id": item.id,
                "domain": item.domain,
                "principle": item.principle,
                "reverse": item.reverse,
                "scale_min": codebook.scales[item.scale].minimum,
                "scale_max": codebook.scales[item.scale].maximum,
            }
            for item in codebook.items
        ]
    )


def long_responses_sql(
    item_ids: list[str],
    wide: str = "_answers",
    items: str = "_items",
    codes: str = "_missing_codes",
    by_wave: bool = False,
) -> str:
    """SELECT producing stg_responses from the registered wide answers, items and missing codes.
    `by_wave`: `items` and `codes` have a `wave` column and each wave is read through its own."""
    pairs = ", ".join(f'("v__{i}", "m__{i}") AS {sql_literal(i)}' for i in item_ids)
    wave = "i.wave = a.wave AND " if by_wave else ""
    code_wave = "c.wave = a.wave AND " if by_wave else ""
    return f"""
        SELECT a.wave, a.respondent_id, a.item_id, i.domain, i.principle, a.value,
               CASE WHEN i.reverse THEN i.scale_min + i.scale_max - a.value ELSE a.value END AS scored_value,
               c.missing_reason
        FROM (SELECT * FROM {wide} UNPIVOT INCLUDE NULLS ((value, missing_code) FOR item_id IN ({pairs}))) AS a
        JOIN {items} AS i ON {wave}i.item_id = a.item_id
        LEFT JOIN {codes} AS c ON {code_wave}c.code = a.missing_code
        -- No code: the item was not in that wave's codebook (a column added later), not a non-answer.
        WHERE a.missing_code IS NOT NULL
    """


STORED_ANSWERS = "stg_answers"
# Each stored wave's items and missing codes as its own ingest wrote them: the view reads a wave's
# answers through these, never through today's codebook (whose code numbering may have changed).
ANSWER_ITEMS = "stg_answer_items"
ANSWER_CODES = "stg_answer_codes"


def answer_items(codebook: Codebook, wave: str) -> pd.DataFrame:
    """The wave's rows of `stg_answer_items`: the codebook's items in its order (`position`)."""
    items = items_frame(codebook)
    return pd.DataFrame({"wave": wave, "position": range(len(items)), **{c: items[c] for c in items.columns}})


def answer_codes(codebook: Codebook, wave: str) -> pd.DataFrame:
    """The wave's rows of `stg_answer_codes`: missing code -> missing reason."""
    codes = missing_codes(codebook)
    return pd.DataFrame({"wave": wave, "code": codes["code"], "missing_reason": codes["missing_reason"]})


def wave_items(conn: duckdb.DuckDBPyConnection, wave: str) -> pd.DataFrame:
    """The items a stored wave was ingested with (item_id, domain, principle, reverse, scale_min,
    scale_max), in its codebook's order."""
    return conn.execute(
        f"SELECT item_id, domain, principle, reverse, scale_min, scale_max FROM {ANSWER_ITEMS} "
        "WHERE wave = ? ORDER BY position",
        [wave],
    ).df()


def responses_view_sql(item_ids: list[str]) -> str:
    """The `stg_responses` view: the long form of `stg_answers` (whose item columns are `item_ids`),
    each wave read through its own items and codes. An item a wave did not have is not shown."""
    return long_responses_sql(item_ids, STORED_ANSWERS, ANSWER_ITEMS, ANSWER_CODES, by_wave=True)


def responses_view_rows(conn: duckdb.DuckDBPyConnection, wave: str) -> int:
    """The `stg_responses` view's rows for a wave without making them: one per stored respondent x
    the wave's item (every item of a wave has its columns in `stg_answers`)."""
    respondents = conn.execute(f"SELECT count(*) FROM {STORED_ANSWERS} WHERE wave = ?", [wave]).fetchall()[0][0]
    items = conn.execute(f"SELECT count(*) FROM {ANSWER_ITEMS} WHERE wave = ?", [wave]).fetchall()[0][0]
    return int(respondents) * int(items)


def stored_item_ids(conn: duckdb.DuckDBPyConnection) -> list[str]:
    """The item ids that have columns in `stg_answers`, in column order."""
    names = [name for name, *_ in conn.execute(f"DESCRIBE {STORED_ANSWERS}").fetchall()]
    return [n[3:] for n in names if n.startswith("v__") and f"m__{n[3:]}" in names]


def long_responses(answers: pd.DataFrame, codebook: Codebook) -> pd.DataFrame:
    """The long form as a DataFrame (for checks and tests; the pipeline does this inside DuckDB)."""
    with duckdb.connect(config={"python_enable_replacements": False}) as conn:
        conn.register("_answers", answers)
        conn.register("_items", items_frame(codebook))
        conn.register("_missing_codes", missing_codes(codebook))
        return conn.execute(long_responses_sql([item.id for item in codebook.items])).df()
