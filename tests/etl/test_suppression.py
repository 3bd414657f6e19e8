"""Disclosure control: small counts hidden, and no hidden count recoverable.

The production code protects tables with simple rules plus an audit (linear
programmes and the null space). These tests attack the result another way:
linear programming finds the smallest and largest value each hidden figure
could take given everything a board sees; a figure is given away when the
two meet.
"""

from __future__ import annotations

import math
from itertools import product

import numpy as np
import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scipy.optimize import linprog

from monitor.disclosure.suppression import (
    CONFIDENTIAL,
    protect,
    suppress_marts,
    suppress_outcomes,
)

THRESHOLD = 4
VIEWER = "partnership:1"
SOURCES = ["Police", "Health", "Self-referral"]


def _perf_row(contract: int | None, breakdown: str, quarter: int, actual: float, **extra: object) -> dict:
    scope = "service" if contract is not None else "all services"
    return {
        "viewer": VIEWER,
        "viewer_kind": "board",
        "scope": scope,
        "contract_id": contract,
        "contract_reference": f"C{contract}" if contract is not None else "",
        "kpi_code": extra.pop("kpi_code", "REF-RECEIVED"),
        "unit": extra.pop("unit", "count"),
        "breakdown": breakdown,
        "period_key": f"2013-14-Q{quarter}",
        "financial_year": "2013/14",
        "actual": actual,
        "variance_pct": 0.0,
        "numerator": extra.pop("numerator", np.nan),
        "denominator": extra.pop("denominator", np.nan),
        "rag": "green",
        "rating": "Good",
        **extra,
    }


def _vfm(rows: list[dict]) -> pd.DataFrame:
    return pd.DataFrame(
        rows,
        columns=[
            "viewer",
            "contract_id",
            "financial_year",
            "spend",
            "referrals",
            "completions",
            "positive_outcomes",
            "cost_per_referral",
            "cost_per_completion",
            "cost_per_positive_outcome",
        ],
    )


NO_OUTCOMES = pd.DataFrame(columns=["paired_cases", "improved_cases", "improved_pct", "mean_change"])


def build_tables(figures: dict[tuple[int, str, int], int]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """A partnership's referrals by contract, source and quarter, with every
    total a board sees: each contract's total per quarter, all services per
    source and quarter, and each contract's year in value for money."""
    contracts = sorted({c for c, _, _ in figures})
    quarters = sorted({q for _, _, q in figures})
    rows = []
    for c, q in product(contracts, quarters):
        parts = [figures[(c, s, q)] for s in SOURCES if (c, s, q) in figures]
        rows.append(_perf_row(c, "", q, float(sum(parts))))
        rows += [_perf_row(c, s, q, float(figures[(c, s, q)])) for s in SOURCES if (c, s, q) in figures]
    services = pd.DataFrame(rows)
    totals = (
        services.groupby(["breakdown", "period_key"], as_index=False)["actual"]
        .sum()
        .apply(lambda r: _perf_row(None, r["breakdown"], int(r["period_key"][-1]), r["actual"]), axis=1)
        .tolist()
    )
    performance = pd.concat([services, pd.DataFrame(totals)], ignore_index=True)
    annual = services[services["breakdown"].eq("")].groupby("contract_id")["actual"].sum()
    vfm = _vfm(
        [
            {
                "viewer": VIEWER,
                "contract_id": c,
                "financial_year": "2013/14",
                "spend": 10000.0,
                "referrals": annual[c],
                "completions": np.nan,
                "positive_outcomes": np.nan,
                "cost_per_referral": 10000.0 / annual[c] if annual[c] else np.nan,
                "cost_per_completion": np.nan,
                "cost_per_positive_outcome": np.nan,
            }
            for c in contracts
        ]
    )
    return performance, vfm


def board_equations(performance: pd.DataFrame, vfm: pd.DataFrame) -> tuple[list[object], list[list[object]]]:
    """What a board sees, as (cells, equations): each equation lists its
    member cells and its total cell. A cell is a key; its shown value or
    None for [c] comes from `shown`."""
    equations: list[list[object]] = []
    services = performance[performance["scope"].eq("service")]
    for (c, q), group in services.groupby(["contract_id", "period_key"]):
        if (group["breakdown"] != "").any():
            equations.append([*(("p", c, s, q) for s in group["breakdown"] if s), ("p", c, "", q)])
    for (s, q), _ in services.groupby(["breakdown", "period_key"]):
        members = [
            ("p", c, s, q)
            for c in services[(services["breakdown"] == s) & (services["period_key"] == q)]["contract_id"]
        ]
        equations.append([*members, ("p", None, s, q)])
    for c in vfm["contract_id"]:
        quarters = services[(services["contract_id"] == c) & (services["breakdown"] == "")]["period_key"]
        equations.append([*(("p", c, "", q) for q in quarters), ("v", c)])
    return equations  # type: ignore[return-value]


def shown_values(performance: pd.DataFrame, vfm: pd.DataFrame) -> dict[object, float | None]:
    shown: dict[object, float | None] = {}
    for row in performance.itertuples():
        contract = None if row.scope == "all services" else row.contract_id
        shown[("p", contract, row.breakdown, row.period_key)] = (
            None if row.actual_display == CONFIDENTIAL else row.actual
        )
    for row in vfm.itertuples():
        shown[("v", row.contract_id)] = None if row.referrals_display == CONFIDENTIAL else row.referrals
    return shown


def recoverable(shown: dict[object, float | None], equations: list[list[object]]) -> list[object]:
    """Hidden cells whose least and greatest possible values (every [c] is at
    least 1) are the same."""
    hidden = sorted((k for k, v in shown.items() if v is None), key=repr)
    if not hidden:
        return []
    index = {k: i for i, k in enumerate(hidden)}
    a_eq, b_eq = [], []
    for equation in equations:
        *members, total = equation
        row = np.zeros(len(hidden))
        constant = 0.0
        for cell, sign in [*((m, 1.0) for m in members), (total, -1.0)]:
            if shown[cell] is None:
                row[index[cell]] += sign
            else:
                constant -= sign * float(shown[cell])  # type: ignore[arg-type]
        if row.any():
            a_eq.append(row)
            b_eq.append(constant)
    if not a_eq:
        return []
    given_away = []
    for cell, i in index.items():
        objective = np.zeros(len(hidden))
        objective[i] = 1.0
        bounds = [(1, None)] * len(hidden)
        low = linprog(objective, A_eq=a_eq, b_eq=b_eq, bounds=bounds, method="highs")
        high = linprog(-objective, A_eq=a_eq, b_eq=b_eq, bounds=bounds, method="highs")
        assert low.status == 0, "the published figures must be consistent"
        if high.status == 3:  # unbounded above: not pinned
            continue
        if math.isclose(low.fun, -high.fun, abs_tol=1e-6):
            given_away.append(cell)
    return given_away


figures_strategy = st.dictionaries(
    keys=st.tuples(st.integers(1, 3), st.sampled_from(SOURCES), st.integers(1, 3)),
    values=st.one_of(st.integers(0, 4), st.integers(0, 40)),
    min_size=1,
    max_size=12,
)


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(figures_strategy)
def test_no_hidden_figure_can_be_recovered_from_what_a_board_sees(figures: dict) -> None:
    performance, vfm = build_tables(figures)
    shown_perf, shown_vfm, _ = suppress_marts(performance, vfm, NO_OUTCOMES, THRESHOLD)
    shown = shown_values(shown_perf, shown_vfm)
    # Every small count is hidden ...
    for cell, value in shown.items():
        assert value is None or not 1 <= value <= THRESHOLD, cell
    # ... and nothing hidden can be worked out from the totals.
    assert recoverable(shown, board_equations(performance, vfm)) == []


def test_a_lone_small_count_takes_a_second_figure_with_it() -> None:
    performance, vfm = build_tables({(1, "Police", 1): 3, (2, "Police", 1): 20, (3, "Police", 1): 12})
    shown_perf, _, _ = suppress_marts(performance, vfm, NO_OUTCOMES, THRESHOLD)
    police = shown_perf[shown_perf["breakdown"].eq("Police")].set_index("contract_reference")[
        "actual_display"
    ]
    assert police["C1"] == CONFIDENTIAL
    # The next smallest is hidden too, so the all-services total gives neither away.
    assert police["C3"] == CONFIDENTIAL
    assert police["C2"] == "20"
    assert police[""] == "35"


def test_zero_is_shown_and_never_hidden_to_protect_others() -> None:
    performance, vfm = build_tables({(1, "Police", 1): 0, (2, "Police", 1): 9})
    shown_perf, _, _ = suppress_marts(performance, vfm, NO_OUTCOMES, THRESHOLD)
    assert set(shown_perf["actual_display"]) == {"0", "9"}


def test_percentages_and_derived_figures_go_with_the_counts_they_would_reveal() -> None:
    rows = [
        _perf_row(1, "", 1, 75.0, kpi_code="PLANNED-ENDING", unit="percentage", numerator=3, denominator=4),
        _perf_row(2, "", 1, 90.0, kpi_code="PLANNED-ENDING", unit="percentage", numerator=45, denominator=50),
        _perf_row(3, "", 1, 96.0, kpi_code="PLANNED-ENDING", unit="percentage", numerator=48, denominator=50),
        _perf_row(1, "", 1, 2.0, kpi_code="CASES-CLOSED"),
        _perf_row(1, "", 1, 5000.0, kpi_code="COST-PER-CASE", unit="currency"),
        _perf_row(2, "", 1, 50.0, kpi_code="CASES-CLOSED"),
        _perf_row(2, "", 1, 200.0, kpi_code="COST-PER-CASE", unit="currency"),
    ]
    shown = suppress_marts(pd.DataFrame(rows), _vfm([]), NO_OUTCOMES, THRESHOLD)[0]
    display = shown.set_index(["contract_id", "kpi_code"])["actual_display"]
    assert display[(1, "PLANNED-ENDING")] == CONFIDENTIAL  # 3 of 4
    assert display[(2, "PLANNED-ENDING")] == "90.0%"
    assert display[(3, "PLANNED-ENDING")] == CONFIDENTIAL  # 2 of 50 did not: a small count
    assert display[(1, "COST-PER-CASE")] == CONFIDENTIAL  # spend / 2 cases gives 2 away
    assert display[(2, "COST-PER-CASE")] == "£200"
    # A hidden figure's rating would narrow it down, and parts are never shown to boards.
    assert shown[shown["actual_display"].eq(CONFIDENTIAL)]["rag"].eq(CONFIDENTIAL).all()
    assert shown["numerator"].isna().all()


def test_outcomes_hide_small_samples_and_shares_that_reveal_a_few_people() -> None:
    outcomes = pd.DataFrame(
        {
            "paired_cases": [3, 20, 20, 0],
            "improved_cases": [2, 18, 10, 0],
            "improved_pct": [66.7, 90.0, 50.0, np.nan],
            "mean_change": [4.0, 3.0, 2.0, np.nan],
        }
    )
    shown = suppress_outcomes(outcomes, THRESHOLD)
    assert shown["paired_cases_display"].tolist() == [CONFIDENTIAL, "20", "20", "0"]
    assert shown["improved_display"].tolist() == [CONFIDENTIAL, CONFIDENTIAL, "50.0%", "[x]"]
    assert pd.isna(shown.loc[0, "mean_change"])
    assert "improved_cases" not in shown


def test_protect_adds_a_cell_when_figures_pinned_by_several_totals() -> None:
    # a + b = 2 with a, b >= 1 gives both away: the total must go too.
    values = pd.Series({0: 1.0, 1: 1.0, 2: 30.0, 3: 32.0})
    groups = pd.DataFrame({"group": ["g"] * 4, "cell": [0, 1, 2, 3], "is_total": [False, False, False, True]})
    hidden = protect(values, values.between(1, THRESHOLD), groups, THRESHOLD)
    assert hidden.tolist() == [True, True, False, True]
