"""Item-level answers: kept wide while they are computed, made long in DuckDB.

A wave's answers are one row per respondent with, per item, the value (`v__<item>`, NaN when
missing) and a small missing-reason code (`m__<item>`). DuckDB's UNPIVOT turns that into the long
`stg_responses` table (one row per respondent x item) far faster, and in far less memory, than
pandas would: 200,000 respondents x 60 items is 12 million rows.
"""

from __future__ import annotations

import duckdb
import pandas as pd

from tipipeline.ingest.codebook import Codebook

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
    item_ids: list[str], wide: str = "_answers", items: str = "_items", codes: str = "_missing_codes"
) -> str:
    """SELECT producing stg_responses from the registered wide answers, items and missing codes."""
    pairs = ", ".join(f'("v__{i}", "m__{i}") AS "{i}"' for i in item_ids)
    return f"""
        SELECT a.wave, a.respondent_id, a.item_id, i.domain, i.principle, a.value,
               CASE WHEN i.reverse THEN i.scale_min + i.scale_max - a.value ELSE a.value END AS scored_value,
               c.missing_reason
        FROM (SELECT * FROM {wide} UNPIVOT INCLUDE NULLS ((value, missing_code) FOR item_id IN ({pairs}))) AS a
        JOIN {items} AS i USING (item_id)
        LEFT JOIN {codes} AS c ON c.code = a.missing_code
        -- No code: the item was not in that wave's codebook (a column added later), not a non-answer.
        WHERE a.missing_code IS NOT NULL
    """


STORED_ANSWERS = "stg_answers"


def responses_view_sql(codebook: Codebook, wide: str = STORED_ANSWERS) -> str:
    """The `stg_responses` view: the long form of the stored wide answers, with the codebook's items
    and missing codes written into it (so it depends on no other table). Writing the long table
    instead costs about 4 s per 100,000 respondents (60 items), most of a wave's write."""
    items = items_frame(codebook)
    item_rows = ", ".join(
        f"({_text(r.item_id)}, {_text(r.domain)}, {_text(r.principle)}, {str(bool(r.reverse)).upper()}, "
        f"CAST({float(r.scale_min)!r} AS DOUBLE), CAST({float(r.scale_max)!r} AS DOUBLE))"
        for r in items.itertuples()
    )
    codes = missing_codes(codebook)
    code_rows = ", ".join(
        f"(CAST({int(c)} AS TINYINT), {_text(m)})" for c, m in zip(codes["code"], codes["missing_reason"])
    )
    return long_responses_sql(
        items["item_id"].tolist(),
        wide,
        items=f"(SELECT * FROM (VALUES {item_rows}) AS t(item_id, domain, principle, reverse, scale_min, scale_max))",
        codes=f"(SELECT * FROM (VALUES {code_rows}) AS t(code, missing_reason))",
    )


def _text(value) -> str:
    return "'" + str(value).replace("'", "''") + "'"


def long_responses(answers: pd.DataFrame, codebook: Codebook) -> pd.DataFrame:
    """The long form as a DataFrame (for checks and tests; the pipeline does this inside DuckDB)."""
    with duckdb.connect(config={"python_enable_replacements": False}) as conn:
        conn.register("_answers", answers)
        conn.register("_items", items_frame(codebook))
        conn.register("_missing_codes", missing_codes(codebook))
        return conn.execute(long_responses_sql([item.id for item in codebook.items])).df()
