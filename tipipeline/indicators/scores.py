"""Respondents' scale scores, computed by DuckDB from the item-level answers: the pipeline's from the
stored wide answers (`wide_scores_sql`), the same from the long form (`respondent_scores_sql`, the reference).

Domain (and principle) score: the mean of a respondent's answered items in the domain (scored
values, so reverse-coded items are already flipped), when at least `min_share_answered` of the
domain's items are answered. Index: the mean of the respondent's domain scores when at least
`min_share_of_domains` of the domains have a score. A score of `agree_threshold` or more counts as
agreeing. Respondents below a threshold simply have no score for that measure.

Every score is kept as an exact fraction, `score_numerator / score_denominator` (whole numbers),
beside its nearest float `score`: the indicators add the whole numbers, so they do not depend on the
order of the rows (stats/exact.py), and "agreeing" is decided exactly (an index of 4 is 4, not
3.9999999999999996).
"""

from __future__ import annotations

from fractions import Fraction

import duckdb
import pandas as pd

from tipipeline import registry
from tipipeline.warehouse import sql_literal

MEASURE_COLUMNS = registry.table("respondent_measures").names


def respondent_scores_sql(
    min_share_answered: float,
    min_share_of_domains: float,
    agree_threshold: float,
    responses: str = "stg_responses",
    respondents: str = "stg_respondents",
    value_denominator: int = 1,
) -> str:
    """SELECT of one row per respondent x measure (domain, principle, index, training), from the
    long answers (one row per respondent x item). The pipeline runs `wide_scores_sql`, which gives
    the same rows from the stored wide answers; this is its reference.

    `value_denominator`: item scores are whole multiples of 1 / value_denominator (the codebook's
    `value_denominator`); a scored value that is not stops the query with an error.
    """
    unit = int(value_denominator)
    measures = f"""
    WITH sums AS ({_long_sums_sql(responses, unit)}
    ), domain AS (
        SELECT wave, respondent_id, measure_type, measure_id, numerator, answered
        FROM sums WHERE measure_type = 'domain' AND answered >= {float(min_share_answered)} * items
    ), principle AS (
        SELECT wave, respondent_id, measure_type, measure_id, numerator, answered
        FROM sums WHERE measure_type = 'principle' AND answered >= {float(min_share_answered)} * items
    ), domains_per_wave AS (
        SELECT wave, count(DISTINCT measure_id) AS domains FROM sums WHERE measure_type = 'domain' GROUP BY wave
    ), common AS (
        -- One denominator for all of a respondent's domain scores (the least common multiple of
        -- their answered-item counts), so that they add as whole numbers.
        SELECT wave, respondent_id, list_reduce(list(DISTINCT answered), lambda a, b: lcm(a, b)) AS multiple
        FROM domain GROUP BY wave, respondent_id
    ), idx AS (
        SELECT d.wave, d.respondent_id, 'index' AS measure_type, 'index' AS measure_id,
               sum(d.numerator * (c.multiple // d.answered)) AS numerator, count(*) * c.multiple AS answered
        FROM domain AS d JOIN domains_per_wave AS w USING (wave) JOIN common AS c USING (wave, respondent_id)
        GROUP BY d.wave, d.respondent_id, w.domains, c.multiple
        HAVING count(*) >= {float(min_share_of_domains)} * w.domains
    )
    SELECT * FROM domain UNION ALL SELECT * FROM principle UNION ALL SELECT * FROM idx"""
    return _scored_sql(measures, respondents, unit, agree_threshold)


def wide_scores_sql(
    answers: str,
    items: pd.DataFrame,
    min_share_answered: float,
    min_share_of_domains: float,
    agree_threshold: float,
    respondents: str = "stg_respondents",
    value_denominator: int = 1,
) -> str:
    """The same rows as `respondent_scores_sql`, from the wide answers (`v__<item>`: the item's value,
    NULL when missing; see ingest/long_form.py), worked out along each row: every domain's and
    principle's sum and count of answered items, and the index over the domains, with no GROUP BY
    (a hash table of a million 32-character pseudonyms was most of the time and memory).

    `items`: the wave's item_id, domain, principle, reverse, scale_min, scale_max (long_form.wave_items).
    """
    unit = int(value_denominator)
    share = float(min_share_answered)
    units = {}
    for item in items.itertuples():
        value = f'"v__{item.item_id}"'
        scored = f"({float(item.scale_min)!r} + {float(item.scale_max)!r} - {value})" if item.reverse else value
        units[item.item_id] = _units(scored, sql_literal(item.item_id), unit)
    measures = [
        (measure_type, measure_id, list(group["item_id"]))
        for measure_type in ("domain", "principle")
        for measure_id, group in items.groupby(measure_type, sort=True)
    ]
    sums = []
    for k, (_, _, ids) in enumerate(measures):
        answered = " + ".join(f'CAST("v__{i}" IS NOT NULL AS BIGINT)' for i in ids)
        total = " + ".join(f"coalesce({units[i]}, 0)" for i in ids)
        # As the long form's sum(): NULL when no item of the measure is answered.
        sums.append(f"{answered} AS a{k}, CASE WHEN ({answered}) = 0 THEN NULL ELSE {total} END AS t{k}")
    scored = {k: f"a{k} >= {share} * {len(ids)}" for k, (_, _, ids) in enumerate(measures)}
    domains = [k for k, (measure_type, _, _) in enumerate(measures) if measure_type == "domain"]
    # The least common multiple of the answered-item counts of the domains scored (one denominator
    # for the index, so that the domain scores add as whole numbers).
    multiple = f"CASE WHEN {scored[domains[0]]} THEN a{domains[0]} ELSE 1 END" if domains else "1"
    for k in domains[1:]:
        multiple = f"lcm({multiple}, CASE WHEN {scored[k]} THEN a{k} ELSE 1 END)"
    counted = " + ".join(f"CAST({scored[k]} AS BIGINT)" for k in domains) or "0"
    index_total = " + ".join(f"CASE WHEN {scored[k]} THEN t{k} * (multiple // a{k}) ELSE 0 END" for k in domains) or "0"

    def entry(condition: str, measure_type: str, measure_id: str, numerator: str, answered: str) -> str:
        return (
            f"CASE WHEN {condition} THEN {{'measure_type': '{measure_type}', 'measure_id': {sql_literal(measure_id)}, "
            f"'numerator': {numerator}, 'answered': {answered}}} END"
        )

    entries = [entry(scored[k], *measure[:2], f"t{k}", f"a{k}") for k, measure in enumerate(measures)]
    index_condition = f"counted >= 1 AND counted >= {float(min_share_of_domains)} * {len(domains)}"
    entries.append(entry(index_condition, "index", "index", index_total, "counted * multiple"))
    # Each respondent's scored measures as a list, unnested: a respondent's rows come out together,
    # which DuckDB compresses far faster than rows of one measure after another (the pseudonyms then
    # repeat within a row group).
    body = f"""
    WITH row_sums AS (
        SELECT wave, respondent_id, {", ".join(sums)} FROM {answers}
    ), row_index AS (
        SELECT *, {counted} AS counted, {multiple} AS multiple FROM row_sums
    ), row_measures AS (
        SELECT wave, respondent_id, unnest([{", ".join(entries)}]) AS m FROM row_index
    )
    SELECT wave, respondent_id, m.measure_type, m.measure_id, m.numerator, m.answered
    FROM row_measures WHERE m IS NOT NULL"""
    return _scored_sql(body, respondents, unit, agree_threshold)


def _scored_sql(measures: str, respondents: str, unit: int, agree_threshold: float) -> str:
    """The score rows from a SELECT of (wave, respondent_id, measure_type, measure_id, numerator,
    answered) per scored measure, with the yes/no answers of `respondents` as 1/0 measures."""
    threshold = Fraction(repr(float(agree_threshold)))
    return f"""
    WITH measures AS ({measures}
    ), scored AS (
        SELECT wave, respondent_id, measure_type, measure_id, CAST(numerator AS BIGINT) AS score_numerator,
               CAST(answered AS BIGINT) * {unit} AS score_denominator
        FROM measures
    )
    SELECT wave, respondent_id, measure_type, measure_id,
           CAST(score_numerator AS DOUBLE) / CAST(score_denominator AS DOUBLE) AS score,
           CASE WHEN CAST(score_numerator AS HUGEINT) * {threshold.denominator}
                     >= CAST(score_denominator AS HUGEINT) * {threshold.numerator} THEN 1 ELSE 0 END AS agree,
           score_numerator, score_denominator
    FROM scored
    UNION ALL
    SELECT wave, respondent_id, 'respondent' AS measure_type, 'ti_training_12m' AS measure_id,
           CASE WHEN ti_training_12m THEN 1.0 ELSE 0.0 END AS score, NULL AS agree,
           CASE WHEN ti_training_12m THEN 1 ELSE 0 END AS score_numerator, 1 AS score_denominator
    FROM {respondents} WHERE ti_training_12m IS NOT NULL
    UNION ALL
    SELECT wave, respondent_id, 'respondent' AS measure_type, 'willing_to_share' AS measure_id,
           CASE WHEN willing_to_share THEN 1.0 ELSE 0.0 END AS score, NULL AS agree,
           CASE WHEN willing_to_share THEN 1 ELSE 0 END AS score_numerator, 1 AS score_denominator
    FROM {respondents} WHERE willing_to_share IS NOT NULL
    """


def _units(expression: str, item: str, unit: int) -> str:
    """A scored value in whole units of 1 / unit; an error (naming the item) when it is not one."""
    return (
        f"CASE WHEN abs({expression} * {unit} - round({expression} * {unit})) > 1e-6 "
        f"THEN error('scored value ' || ({expression}) || ' of item ' || {item} "
        f"|| ' is not a multiple of 1/{unit}: check the codebook scales') "
        f"ELSE CAST(round({expression} * {unit}) AS BIGINT) END"
    )


def _long_sums_sql(responses: str, unit: int) -> str:
    """Each respondent's sum of units, answered items and items per domain and per principle,
    from the long answers (one row per respondent x item, a missing answer NULL)."""
    return f"""
        WITH answers AS (
            SELECT wave, respondent_id, domain, principle, {_units("scored_value", "item_id", unit)} AS units
            FROM {responses}
        )
        SELECT wave, respondent_id, 'domain' AS measure_type, domain AS measure_id,
               sum(units) AS numerator, count(units) AS answered, count(*) AS items
        FROM answers GROUP BY wave, respondent_id, domain
        UNION ALL
        SELECT wave, respondent_id, 'principle' AS measure_type, principle AS measure_id,
               sum(units) AS numerator, count(units) AS answered, count(*) AS items
        FROM answers GROUP BY wave, respondent_id, principle"""


def respondent_scores(
    responses: pd.DataFrame,
    respondents: pd.DataFrame,
    min_share_answered: float = 0.5,
    min_share_of_domains: float = 0.5,
    agree_threshold: float = 4.0,
    value_denominator: int = 1,
) -> pd.DataFrame:
    """The same scores from DataFrames (for tests and small data; the pipeline runs the SQL in the warehouse)."""
    with duckdb.connect(config={"python_enable_replacements": False}) as conn:
        conn.register("responses", responses)
        conn.register("respondents", respondents)
        sql = respondent_scores_sql(
            min_share_answered, min_share_of_domains, agree_threshold, "responses", "respondents", value_denominator
        )
        return conn.execute(sql + " ORDER BY wave, respondent_id, measure_type, measure_id").df()
