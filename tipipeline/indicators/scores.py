"""Respondents' scale scores, computed by DuckDB from the long item-level answers.

Domain (and principle) score: the mean of a respondent's answered items in the domain (scored
values, so reverse-coded items are already flipped), when at least `min_share_answered` of the
domain's items are answered. Index: the mean of the respondent's domain scores when at least
`min_share_of_domains` of the domains have a score. A score of `agree_threshold` or more counts as
agreeing. Respondents below a threshold simply have no score for that measure.
"""

from __future__ import annotations

import duckdb
import pandas as pd

MEASURE_COLUMNS = ["wave", "respondent_id", "measure_type", "measure_id", "score", "agree"]


def respondent_scores_sql(min_share_answered: float, min_share_of_domains: float, agree_threshold: float,
                          responses: str = "stg_responses", respondents: str = "stg_respondents") -> str:
    """SELECT of one row per respondent x measure (domain, principle, index, training)."""
    return f"""
    WITH domain AS (
        SELECT wave, respondent_id, 'domain' AS measure_type, domain AS measure_id, avg(scored_value) AS score
        FROM {responses} GROUP BY wave, respondent_id, domain
        HAVING count(scored_value) >= {float(min_share_answered)} * count(*)
    ), principle AS (
        SELECT wave, respondent_id, 'principle' AS measure_type, principle AS measure_id, avg(scored_value) AS score
        FROM {responses} GROUP BY wave, respondent_id, principle
        HAVING count(scored_value) >= {float(min_share_answered)} * count(*)
    ), domains_per_wave AS (
        SELECT wave, count(DISTINCT domain) AS domains FROM {responses} GROUP BY wave
    ), idx AS (
        SELECT d.wave, d.respondent_id, 'index' AS measure_type, 'index' AS measure_id, avg(d.score) AS score
        FROM domain AS d JOIN domains_per_wave AS w USING (wave)
        GROUP BY d.wave, d.respondent_id, w.domains
        HAVING count(*) >= {float(min_share_of_domains)} * w.domains
    ), scored AS (
        SELECT * FROM domain UNION ALL SELECT * FROM principle UNION ALL SELECT * FROM idx
    )
    SELECT wave, respondent_id, measure_type, measure_id, score,
           CASE WHEN score >= {float(agree_threshold)} THEN 1 ELSE 0 END AS agree
    FROM scored
    UNION ALL
    SELECT wave, respondent_id, 'respondent' AS measure_type, 'ti_training_12m' AS measure_id,
           CASE WHEN ti_training_12m THEN 1.0 ELSE 0.0 END AS score, NULL AS agree
    FROM {respondents} WHERE ti_training_12m IS NOT NULL
    UNION ALL
    SELECT wave, respondent_id, 'respondent' AS measure_type, 'willing_to_share' AS measure_id,
           CASE WHEN willing_to_share THEN 1.0 ELSE 0.0 END AS score, NULL AS agree
    FROM {respondents} WHERE willing_to_share IS NOT NULL
    """


def respondent_scores(responses: pd.DataFrame, respondents: pd.DataFrame, min_share_answered: float = 0.5,
                      min_share_of_domains: float = 0.5, agree_threshold: float = 4.0) -> pd.DataFrame:
    """The same scores from DataFrames (for tests and small data; the pipeline runs the SQL in the warehouse)."""
    with duckdb.connect(config={"python_enable_replacements": False}) as conn:
        conn.register("responses", responses)
        conn.register("respondents", respondents)
        sql = respondent_scores_sql(min_share_answered, min_share_of_domains, agree_threshold, "responses", "respondents")
        return conn.execute(sql + " ORDER BY wave, respondent_id, measure_type, measure_id").df()
