"""An independent audit of the published indicator cells, by integer linear programming.

This is how statistical offices audit a suppression pattern (tau-ARGUS's and sdcTable's "audit"):
write down everything a reader knows as a linear system, then for every suppressed cell find the
smallest and largest value it could take. The reader knows
  - every published n and numerator (a cell published in one indicator of a family publishes the
    n that all the family's indicators share: a domain's mean and its % agreeing have one n);
  - the additive structure: London = its sectors; a sector = its organisations; councils = the
    33 boroughs; health = the 5 ICBs; police = the 12 BCUs plus respondents who gave no BCU;
  - that a council and its borough (an ICB and its area) are the same respondents;
  - that counts are whole numbers, a cell listed has at least one respondent, and
    0 <= numerator <= n.
A suppressed cell is protected when its n can take at least `min_values` values (default: the
threshold) and neither its numerator nor its count not agreeing is pinned to one value (which
would reveal, for example, that every hidden respondent agreed).

Written apart from the suppression code (disclosure.py) and sharing none of it, so the blocking
check does not share its blind spots.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

PROBLEM_COLUMNS = ["indicator_id", "wave", "geography_level", "geography_code", "quantity", "lower", "upper", "problem"]

# (parent level, parent code; None = every cell of the level), child level, the children's sector
# (None = all), and whether respondents may belong to the parent but to no child.
STRUCTURE = [
    ("london", None, "sector", None, False),
    ("sector", "council", "organisation", "council", False),
    ("sector", "police", "organisation", "police", False),
    ("sector", "health", "organisation", "health", False),
    ("sector", "council", "borough", "council", False),
    ("sector", "health", "icb", "health", False),
    ("sector", "police", "bcu", "police", True),
]
# Cells with the same code at these two levels hold the same respondents.
SAME_RESPONDENTS = [("organisation", "borough"), ("organisation", "icb")]


class AuditModelError(ValueError):
    """The true counts break the audit's model of what readers know: the model must be fixed."""


@dataclass
class _System:
    """Variables, bounds and linear rows of one family and wave."""

    names: list[tuple] = field(default_factory=list)
    lower: list[float] = field(default_factory=list)
    upper: list[float] = field(default_factory=list)
    truth: list[float] = field(default_factory=list)
    rows: list[tuple[dict[int, float], float, float]] = field(default_factory=list)
    # Integer solutions found so far (besides the true counts): each is a point a reader cannot rule
    # out, so the values a quantity takes across them are values it can take (the fast test).
    witnesses: list[np.ndarray] = field(default_factory=list)
    _frozen: tuple | None = None

    def variable(self, name: tuple, lower: float, upper: float, true_value: float) -> int:
        self.names.append(name)
        self.lower.append(lower)
        self.upper.append(upper)
        self.truth.append(true_value)
        return len(self.names) - 1

    def row(self, coefficients: dict[int, float], low: float, high: float) -> None:
        self.rows.append((coefficients, low, high))

    def _constraint(self):
        """The rows as one sparse LinearConstraint, built once per shape of the system."""
        from scipy.optimize import LinearConstraint
        from scipy.sparse import lil_matrix

        size = len(self.names)
        if self._frozen is None or self._frozen[0] != (size, len(self.rows)):
            matrix = lil_matrix((len(self.rows), size))
            low, high = np.empty(len(self.rows)), np.empty(len(self.rows))
            for r, (coefs, lo, hi) in enumerate(self.rows):
                for column, value in coefs.items():
                    matrix[r, column] = value
                low[r], high[r] = lo, hi
            self._frozen = ((size, len(self.rows)), LinearConstraint(matrix.tocsr(), low, high))
        return self._frozen[1]

    def _objective(self, coefficients: dict[int, float]) -> np.ndarray:
        objective = np.zeros(len(self.names))
        for column, value in coefficients.items():
            objective[column] = value
        return objective

    def _witness(self, solution) -> None:
        """Keep a solver's solution, rounded, as a witness if it is exactly feasible."""
        point = np.round(np.asarray(solution, dtype=float))
        constraint = self._constraint()
        if (point < np.array(self.lower)).any() or (point > np.array(self.upper)).any():
            return
        values = constraint.A @ point
        if (values < constraint.lb).any() or (values > constraint.ub).any():
            return
        self.witnesses.append(point)

    def witnessed(self, coefficients: dict[int, float]) -> tuple[float, float]:
        """Min and max of a linear combination over the true counts and the witnesses (a sub-range
        of its true range)."""
        columns = list(coefficients)
        values = np.stack([np.array(self.truth, dtype=float), *self.witnesses])[:, columns] @ np.array(
            [coefficients[c] for c in columns]
        )
        return float(values.min()), float(values.max())

    def explore(self, objectives: list[dict[int, float]], reach: float) -> None:
        """Find witnesses cheaply: optimise each objective (both ways) within `reach` of the true
        counts. Every point found is a solution of the full system (the box only narrows it), so a
        quantity's witnessed range is a lower bound on its true range, never more."""
        from scipy.optimize import Bounds, milp

        truth = np.array(self.truth, dtype=float)
        box = Bounds(np.maximum(self.lower, truth - reach), np.minimum(self.upper, truth + reach))
        size = len(self.names)
        for coefficients in objectives:
            objective = self._objective(coefficients)
            for sign in (1, -1):
                result = milp(sign * objective, constraints=self._constraint(), integrality=np.ones(size), bounds=box)
                if result.success and result.x is not None:
                    self._witness(result.x)

    def solve_end(self, coefficients: dict[int, float], maximise: bool) -> float:
        """The min (or max) of a linear combination over the integer solutions (infinite when unbounded)."""
        # scipy is imported here, not at module load, so loading the Dagster definitions stays light.
        from scipy.optimize import Bounds, milp

        size = len(self.names)
        objective = self._objective(coefficients)
        sign = -1 if maximise else 1
        result = milp(
            sign * objective,
            constraints=self._constraint(),
            integrality=np.ones(size),
            bounds=Bounds(np.array(self.lower), np.array(self.upper)),
        )
        # The true counts are a solution (check_truth), so "infeasible or unbounded" (HiGHS does
        # not always tell them apart, e.g. when London itself is suppressed) means unbounded.
        if result.status in (2, 3) or "unbounded" in str(result.message):
            return -sign * np.inf
        if not result.success:
            raise RuntimeError(f"the disclosure audit's solver stopped: {result.message}")
        self._witness(result.x)
        return round(sign * result.fun)

    def exact_range(self, coefficients: dict[int, float], values: int, fast_test: bool) -> tuple[float, float] | None:
        """The exact range of a linear combination, or None once it is shown to take at least
        `values` values. With `fast_test`, the witnesses are looked at first, then the maximum is
        solved, and the minimum only when both together still fall short."""
        if not fast_test:
            return self.solve_end(coefficients, maximise=False), self.solve_end(coefficients, maximise=True)
        low, high = self.witnessed(coefficients)
        if high - low + 1 >= values:
            return None
        high = self.solve_end(coefficients, maximise=True)
        if high - low + 1 >= values:
            return None
        return self.solve_end(coefficients, maximise=False), high

    def check_truth(self) -> None:
        truth = np.array(self.truth)
        if (truth < np.array(self.lower)).any() or (truth > np.array(self.upper)).any():
            raise AuditModelError("a true count lies outside the bounds the audit assumes")
        for coefs, lo, hi in self.rows:
            value = sum(truth[c] * v for c, v in coefs.items())
            if not lo - 1e-9 <= value <= hi + 1e-9:
                names = [self.names[c] for c in coefs]
                raise AuditModelError(f"the true counts break the audit's structure for {names}")


def audit(
    cells: pd.DataFrame,
    threshold: int,
    families: dict[str, str] | None = None,
    min_values: int | None = None,
    fast_test: bool = True,
) -> pd.DataFrame:
    """One row per problem (empty: every suppressed cell is protected).

    `cells`: one row per indicator x wave x geography with the TRUE `n` and `numerator` (NaN for
    means) and the `suppressed` flag about to be published. `families` maps indicator_id -> family
    (indicators sharing one n); default: each indicator alone.

    `fast_test`: first look for solutions a reader cannot rule out (a few integer programmes over the
    whole family, each within reach of the true counts); a cell whose quantities already take enough
    values across them is protected, and only the others are solved exactly. The answer is the same
    (the problems found are the exact ranges); `fast_test=False` solves every cell, for tests.
    """
    min_values = threshold if min_values is None else min_values
    cells = cells.assign(suppressed=cells["suppressed"].astype(bool))
    if "numerator" not in cells:
        cells = cells.assign(numerator=np.nan)
    problems = [
        (
            row.indicator_id,
            row.wave,
            row.geography_level,
            row.geography_code,
            "n",
            row.n,
            row.n,
            f"a cell of {row.n} (< {threshold}) is published",
        )
        for row in cells[(cells["n"] < threshold) & ~cells["suppressed"]].itertuples()
    ]
    family = cells["indicator_id"].map(families or {}).fillna(cells["indicator_id"])
    for (_, wave), block in cells.groupby([_linked(cells, family), cells["wave"]], sort=True):
        problems += _audit_family(block, wave, min_values, fast_test)
    return pd.DataFrame(problems, columns=PROBLEM_COLUMNS)


def _linked(cells: pd.DataFrame, family: pd.Series) -> pd.Series:
    """Families whose n is the same at every geography of a wave are one system: a reader who sees
    the same n wherever both are published can carry an n from one to the other."""
    keys = family.astype(str) + "@" + cells["wave"].astype(str)
    profile = (
        cells.assign(key=keys)
        .drop_duplicates(["key", "geography_level", "geography_code"])
        .sort_values(["geography_level", "geography_code"])
        .groupby("key")[["geography_level", "geography_code", "n"]]
        .apply(lambda g: "|".join(f"{a}:{b}:{c}" for a, b, c in g.itertuples(index=False)))
    )
    return keys.map(cells["wave"].astype(str).groupby(keys).first().astype(str) + "#" + profile)


def _audit_family(block: pd.DataFrame, wave: str, min_values: int, fast_test: bool = True) -> list[tuple]:
    system, n_var, x_var = _family_system(block)
    system.check_truth()
    hidden_n = {index: 1.0 for index in n_var.values() if system.lower[index] != system.upper[index]}
    hidden_x = {
        index: n_var[tuple(key)] for (_, *key), index in x_var.items() if system.lower[index] != system.upper[index]
    }
    if fast_test and (hidden_n or hidden_x):
        # Pushing all hidden counts up, or down, together moves most of them at once: a handful of
        # programmes settle most cells, where the exact test costs four per percentage cell.
        agreeing_not = {}
        for x, n in hidden_x.items():
            agreeing_not[n] = agreeing_not.get(n, 0.0) + 1.0
            agreeing_not[x] = agreeing_not.get(x, 0.0) - 1.0
        # Where a published total fixes a group's sum, alternate signs move its members against
        # each other (a sum alone would not move them).
        alternating = {index: (-1.0) ** position for position, index in enumerate(hidden_n)}
        alternating_x = {index: (-1.0) ** position for position, index in enumerate(hidden_x)}
        objectives = [
            o for o in (hidden_n, alternating, dict.fromkeys(hidden_x, 1.0), alternating_x, agreeing_not) if o
        ]
        system.explore(objectives, reach=float(max(min_values, 1)))

    problems = []
    first_indicator = sorted(block["indicator_id"].unique())[0]
    for key, index in n_var.items():
        if index not in hidden_n:
            continue  # published
        found = system.exact_range({index: 1.0}, min_values, fast_test)
        if found is not None and found[1] - found[0] + 1 < min_values:
            low, high = found
            problems.append(
                (
                    first_indicator,
                    wave,
                    *key,
                    "n",
                    low,
                    high,
                    f"n can be narrowed to {low:g}-{high:g} (fewer than {min_values} values)",
                )
            )
    for (indicator, *key), index in x_var.items():
        if index not in hidden_x:
            continue
        found = system.exact_range({index: 1.0}, 2, fast_test)
        if found is not None and found[0] == found[1]:
            low, high = found
            problems.append((indicator, wave, *key, "numerator", low, high, f"the numerator is revealed: {low:g}"))
        found = system.exact_range({n_var[tuple(key)]: 1.0, index: -1.0}, 2, fast_test)
        if found is not None and found[0] == found[1]:
            low, high = found
            problems.append(
                (indicator, wave, *key, "n - numerator", low, high, f"the count not agreeing is revealed: {low:g}")
            )
    return problems


def _family_system(block: pd.DataFrame) -> tuple[_System, dict[tuple, int], dict[tuple, int]]:
    """The linear system a reader knows for one family and wave: variables n (per geography) and x
    (per percentage indicator and geography), with their bounds, sums and equalities."""
    system = _System()
    geographies = block.drop_duplicates(["geography_level", "geography_code"])
    # Per geography (in order of first appearance): the first row's n, and whether any row is published.
    by_geography = block.groupby(["geography_level", "geography_code"], sort=False, dropna=False)
    first_n = by_geography["n"].first()
    any_published = (~by_geography["suppressed"].all()).to_dict()
    n_var: dict[tuple, int] = {}
    for geo in geographies.itertuples():
        key = (geo.geography_level, geo.geography_code)
        true_n = int(first_n[key])
        published = any_published[key]
        n_var[key] = system.variable(("n", *key), true_n if published else 1, true_n if published else np.inf, true_n)
    percentages = sorted(block.loc[block["numerator"].notna(), "indicator_id"].unique())
    x_var: dict[tuple, int] = {}
    rows_of = dict(tuple(block.groupby("indicator_id", sort=False, dropna=False)))
    for indicator in percentages:
        for row in rows_of[indicator].itertuples():
            key = (row.geography_level, row.geography_code)
            true_x, fixed = int(row.numerator), not row.suppressed
            x_var[(indicator, *key)] = system.variable(
                ("x", indicator, *key), true_x if fixed else 0, true_x if fixed else np.inf, true_x
            )
            system.row({x_var[(indicator, *key)]: 1, n_var[key]: -1}, -np.inf, 0)  # x <= n
    sectors = dict(zip(zip(geographies["geography_level"], geographies["geography_code"]), geographies["sector"]))
    for parent_level, parent_code, child_level, child_sector, remainder in STRUCTURE:
        for parent in [k for k in n_var if k[0] == parent_level and (parent_code is None or k[1] == parent_code)]:
            children = [
                k for k in n_var if k[0] == child_level and (child_sector is None or sectors[k] == child_sector)
            ]
            if children:
                _add_sum(system, n_var, x_var, percentages, parent, children, remainder)
    for level_a, level_b in SAME_RESPONDENTS:
        for key in [k for k in n_var if k[0] == level_a and (level_b, k[1]) in n_var]:
            twin = (level_b, key[1])
            system.row({n_var[key]: 1.0, n_var[twin]: -1.0}, 0, 0)
            for indicator in percentages:
                system.row({x_var[(indicator, *key)]: 1.0, x_var[(indicator, *twin)]: -1.0}, 0, 0)
    return system, n_var, x_var


def _add_sum(
    system: _System,
    n_var: dict,
    x_var: dict,
    percentages: list[str],
    parent: tuple,
    children: list[tuple],
    remainder: bool,
) -> None:
    """parent - sum(children) = 0, or >= 0 when some respondents belong to no child; likewise for
    each numerator, whose remainder cannot exceed the remainder's n."""
    for variables, prefix in [(n_var, ())] + [(x_var, (i,)) for i in percentages]:
        coefs = {variables[(*prefix, *parent)]: 1.0}
        for child in children:
            coefs[variables[(*prefix, *child)]] = coefs.get(variables[(*prefix, *child)], 0) - 1.0
        system.row(coefs, 0, np.inf if remainder else 0)
    if remainder:
        for indicator in percentages:
            coefs = {n_var[parent]: -1.0, x_var[(indicator, *parent)]: 1.0}
            for child in children:
                coefs[n_var[child]] = coefs.get(n_var[child], 0) + 1.0
                coefs[x_var[(indicator, *child)]] = coefs.get(x_var[(indicator, *child)], 0) - 1.0
            system.row(coefs, -np.inf, 0)


def audit_published(conn, threshold: int, file_organisations: pd.DataFrame | None = None) -> pd.DataFrame:
    """Problems in the published tables that carry counts or facts derived from the indicator cells.

    `conn`: a connection to the published snapshot (tables as published). Each derived value must
    come from a cell that `indicators` publishes, with the same n; a survey file's row counts must
    not be small nor pin one organisation's number of respondents where its cells are hidden.
    `file_organisations` (wave, source_file, org_id): which organisations' respondents each survey
    file holds, from the working warehouse.
    """

    def frame(sql: str) -> pd.DataFrame:
        return conn.execute(sql).df()

    problems = []

    def add(rows: pd.DataFrame, table: str, problem: str, code: str = "geography_code", wave: str = "wave"):
        for row in rows.itertuples(index=False):
            problems.append(
                (
                    getattr(row, "indicator_id", table),
                    getattr(row, wave, None),
                    table,
                    str(getattr(row, code)),
                    "published table",
                    np.nan,
                    np.nan,
                    problem,
                )
            )

    add(
        frame("""SELECT c.* FROM indicator_changes c
                 JOIN indicators a ON a.source = 'survey' AND a.indicator_id = c.indicator_id
                 AND a.wave = c.from_wave AND a.geography_level = c.geography_level AND a.geography_code = c.geography_code
                 JOIN indicators b ON b.source = 'survey' AND b.indicator_id = c.indicator_id AND b.wave = c.to_wave
                 AND b.geography_level = c.geography_level AND b.geography_code = c.geography_code
                 WHERE NOT c.suppressed AND (a.suppressed OR b.suppressed)"""),
        "indicator_changes",
        "a change is published although one of its waves is suppressed",
        wave="to_wave",
    )
    add(
        frame("""SELECT j.*, 'journey' AS indicator_id FROM journey j
                 LEFT JOIN indicators m ON m.source = 'survey' AND m.indicator_id = 'domain_mean_' || j.domain
                      AND m.wave = j.wave
                      AND m.geography_level = 'organisation' AND m.geography_code = j.org_id
                 LEFT JOIN indicators a ON a.source = 'survey' AND a.indicator_id = 'domain_agree_' || j.domain
                      AND a.wave = j.wave
                      AND a.geography_level = 'organisation' AND a.geography_code = j.org_id
                 WHERE (j.n IS NOT NULL OR j.score IS NOT NULL OR j.percent_agree IS NOT NULL)
                   AND (m.n IS DISTINCT FROM j.n OR a.n IS DISTINCT FROM j.n OR m.suppressed OR a.suppressed
                        OR m.indicator_id IS NULL OR a.indicator_id IS NULL)"""),
        "journey",
        "journey evidence shows a score or n that the indicators suppress",
        code="org_id",
    )
    for side, level, column in (
        ("council", "borough", "borough_code"),
        ("police", "bcu", "bcu_code"),
        ("health", "icb", "icb_code"),
    ):
        add(
            frame(f"""SELECT p.* FROM borough_partnership p LEFT JOIN indicators i ON i.source = 'survey'
                      AND i.indicator_id = p.indicator_id AND i.wave = p.wave
                      AND i.geography_level = '{level}' AND i.geography_code = p.{column}
                      WHERE (p.{side}_value IS NOT NULL AND NOT isnan(p.{side}_value) OR p.{side}_n IS NOT NULL)
                        AND (i.suppressed IS DISTINCT FROM false OR i.n IS DISTINCT FROM p.{side}_n)"""),
            "borough_partnership",
            f"the {side} value or n is not the published cell's",
            code="borough_code",
        )
    add(
        frame("""SELECT p.*, 'willing_to_share' AS indicator_id FROM promising_practice p
                 LEFT JOIN indicators i ON i.source = 'survey' AND i.indicator_id = 'willing_to_share' AND i.wave = p.wave
                      AND i.geography_level = 'organisation' AND i.geography_code = p.org_id
                 WHERE p.percent_willing_to_share IS NOT NULL AND NOT isnan(p.percent_willing_to_share)
                   AND (i.suppressed IS DISTINCT FROM false)"""),
        "promising_practice",
        "willingness to share is shown although its cell is suppressed",
        code="org_id",
    )
    add(
        frame(f"""SELECT *, 'data_quality' AS indicator_id FROM data_quality
                  WHERE source = 'survey' AND rows_accepted < {int(threshold)}"""),
        "data_quality",
        f"a survey file's counts are published although it holds fewer than {threshold} respondents",
        code="source_file",
    )
    if file_organisations is not None and len(file_organisations):
        # A file with some (not all) of a wave's organisations is a new total: published, it would let
        # a reader subtract the published organisations and find a suppressed one's respondents.
        per_file = file_organisations.groupby(["wave", "source_file"])["org_id"].nunique().rename("organisations")
        per_wave = file_organisations.groupby("wave")["org_id"].nunique().rename("wave_organisations")
        partial = per_file.reset_index().merge(per_wave.reset_index(), on="wave")
        partial = partial[partial["organisations"] < partial["wave_organisations"]]
        members = file_organisations.merge(partial[["wave", "source_file"]], on=["wave", "source_file"])
        conn.register("_partial_file_organisations", members[["wave", "source_file", "org_id"]])
        try:
            add(
                frame("""SELECT DISTINCT d.*, 'data_quality' AS indicator_id FROM data_quality d
                         JOIN _partial_file_organisations f USING (wave, source_file)
                         JOIN indicators i ON i.source = 'survey' AND i.suppressed AND i.wave = d.wave
                              AND i.geography_level = 'organisation' AND i.geography_code = f.org_id
                         WHERE d.source = 'survey' AND d.rows_accepted IS NOT NULL"""),
                "data_quality",
                "a file of part of the wave's organisations publishes its count although one of them is suppressed",
                code="source_file",
            )
        finally:
            conn.unregister("_partial_file_organisations")
    return pd.DataFrame(problems, columns=PROBLEM_COLUMNS)


AUDIT_INPUT = ["indicator_id", "wave", "geography_level", "geography_code", "n", "numerator", "suppressed"]


def audit_fingerprint(cells: pd.DataFrame, threshold: int, families: dict[str, str] | None = None) -> str:
    """SHA-256 of exactly what `audit` judges (true counts and the flags to publish, the threshold and
    the indicator families), independent of row order: a passed audit of the same fingerprint need
    not be repeated; a raised threshold or a changed family is audited afresh."""
    frame = cells[AUDIT_INPUT].astype(str).sort_values(AUDIT_INPUT).reset_index(drop=True)
    digest = hashlib.sha256(pd.util.hash_pandas_object(frame, index=False).to_numpy().tobytes())
    digest.update(f"threshold={int(threshold)};families={sorted((families or {}).items())}".encode())
    return digest.hexdigest()


AUDIT_LOG = "disclosure_audits"


def record_audit(conn, fingerprint: str, passed: bool, problems: int) -> None:
    """Note in the working warehouse that the audit of `fingerprint` passed (or not)."""
    conn.execute(
        f"CREATE TABLE IF NOT EXISTS {AUDIT_LOG} (fingerprint VARCHAR, passed BOOLEAN, problems BIGINT, "
        "audited_at TIMESTAMP DEFAULT current_timestamp)"
    )
    conn.execute(
        f"INSERT INTO {AUDIT_LOG} (fingerprint, passed, problems) VALUES (?, ?, ?)", [fingerprint, passed, problems]
    )


def audit_snapshot(
    warehouse_conn,
    snapshot_conn,
    threshold: int,
    families: dict[str, str],
    file_organisations: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Every problem in a snapshot about to be published: its `indicators` flags against the true
    counts in the working warehouse (the integer-programming audit, unless a passed audit of exactly
    these counts and flags is on record), and its derived tables (`audit_published`)."""
    key = ["indicator_id", "wave", "geography_level", "geography_code"]
    # indicator_cells holds survey cells only; the snapshot's indicators also hold the policy audit's
    # and the outcomes' rows, which describe organisations and places, not respondents.
    truth = warehouse_conn.execute(
        "SELECT indicator_id, wave, geography_level, geography_code, geography_name, sector, n, numerator "
        "FROM indicator_cells"
    ).df()
    flags = snapshot_conn.execute(
        "SELECT indicator_id, wave, geography_level, geography_code, suppressed FROM indicators WHERE source = 'survey'"
    ).df()
    cells = truth.merge(flags, on=key, how="outer", indicator=True)
    unmatched = cells[cells["_merge"] != "both"]
    problems = [
        (
            r.indicator_id,
            r.wave,
            r.geography_level,
            r.geography_code,
            "cell",
            np.nan,
            np.nan,
            "a published cell and the working warehouse's cells do not match",
        )
        for r in unmatched.itertuples()
    ]
    cells = cells[cells["_merge"] == "both"].drop(columns="_merge")
    # Disclosure control is decided per wave: a wave whose exact counts and flags passed the audit
    # when it was built is not audited again.
    passed = set()
    if warehouse_conn.execute(f"SELECT count(*) FROM duckdb_tables() WHERE table_name = '{AUDIT_LOG}'").fetchone()[0]:
        passed = {f for (f,) in warehouse_conn.execute(f"SELECT fingerprint FROM {AUDIT_LOG} WHERE passed").fetchall()}
    unaudited = [
        wave
        for wave, group in cells.groupby("wave", sort=True)
        if audit_fingerprint(group, threshold, families) not in passed
    ]
    found = [
        pd.DataFrame(problems, columns=PROBLEM_COLUMNS),
        audit_published(snapshot_conn, threshold, file_organisations),
    ]
    if unaudited:
        found.append(audit(cells[cells["wave"].isin(unaudited)], threshold, families))
    return pd.concat([f for f in found if len(f)] or found[:1], ignore_index=True)
