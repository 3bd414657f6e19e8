"""Protection, not just non-recovery: from everything a board sees, no `[c]`
can be narrowed to fewer values than 1 to the threshold.

An attacker here is written from the tables alone, not from the production
groups: every total a viewer's rows show (a service's breakdowns to its
figure, services to all services, quarters to value for money's year, and
a year's positive outcomes to its improved cases and feel-safer numerators)
is an equation, every `[c]` is at least 1 (zeros are shown) and nothing else
is known of it. An outcome row's improved cases are its share times its
paired cases when both are shown, and at most its paired cases when only
those are; a feel-safer numerator is never shown, but is 0 when its
percentage shows 0% and at least 1 when it shows more. Linear programming gives the least and greatest value each
primary `[c]` could take. The greatest must reach the threshold; the least
must be 1, or for a total of several `[c]`s no more than the markers alone
imply (the same programme with every non-zero figure hidden).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scipy.optimize import linprog

from monitor.disclosure.suppression import CONFIDENTIAL, protect, suppress_marts

THRESHOLD = 4
SOURCES = ("Police", "Health", "Self-referral")
# Quarters over two financial years, so value for money has a year of each.
QUARTERS = ("2012-13-Q3", "2012-13-Q4", "2013-14-Q1", "2013-14-Q2", "2013-14-Q3")
VFM_CODES = {"referrals": ("REF-RECEIVED",), "completions": ("CASES-CLOSED", "PERP-COMPLETIONS")}
POSITIVE_OUTCOMES = "positive_outcomes"

# A figure: (contract, KPI code, breakdown, quarter); breakdown "" is the headline.
Key = tuple[int, str, str, str]
# Feel-safer per (contract, quarter): (numerator, denominator).
FeelSafer = dict[tuple[int, str], tuple[float, float]]
# Outcomes per (contract, quarter, measure): (paired cases, improved cases).
Outcomes = dict[tuple[int, str, str], tuple[float, float]]


def year_of(quarter: str) -> str:
    return f"20{quarter[2:4]}/{quarter[5:7]}"


@dataclass
class Register:
    """The truth: figures per contract, and which contracts each board sees."""

    figures: dict[Key, float]
    boards: dict[str, list[int]]
    feel_safer: FeelSafer = field(default_factory=dict)
    outcomes: Outcomes = field(default_factory=dict)


def tables(register: Register) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Every board's performance, value-for-money and outcome rows, as the marts hold them."""
    rows: list[dict] = []
    vfm: list[dict] = []
    outcome_rows: list[dict] = []
    for viewer, contracts in register.boards.items():
        mine = {k: v for k, v in register.figures.items() if k[0] in contracts}
        for (contract, code, breakdown, quarter), actual in mine.items():
            rows.append(_row(viewer, contract, code, breakdown, quarter, actual))
        for (contract, quarter), (numerator, denominator) in register.feel_safer.items():
            if contract in contracts:
                rows.append(_feel_safer_row(viewer, contract, quarter, numerator, denominator))
        for (contract, quarter, measure), (paired, improved) in register.outcomes.items():
            if contract in contracts:
                outcome_rows.append(_outcome_row(viewer, contract, quarter, measure, paired, improved))
        totals: dict[tuple[str, str, str], float] = {}
        for (_, code, breakdown, quarter), actual in mine.items():
            totals[(code, breakdown, quarter)] = totals.get((code, breakdown, quarter), 0.0) + actual
        rows += [_row(viewer, None, *key, actual) for key, actual in totals.items()]
        for contract in contracts:
            for year in sorted({year_of(q) for q in QUARTERS}):
                measures = {
                    measure: [
                        v
                        for (c, code, b, q), v in mine.items()
                        if c == contract and code in codes and b == "" and year_of(q) == year
                    ]
                    for measure, codes in VFM_CODES.items()
                }
                measures[POSITIVE_OUTCOMES] = [
                    n
                    for (c, q), (n, _) in register.feel_safer.items()
                    if c == contract and year_of(q) == year
                ] + [
                    i
                    for (c, q, _), (_, i) in register.outcomes.items()
                    if c == contract and year_of(q) == year
                ]
                if not any(measures.values()):
                    continue
                vfm.append(
                    {
                        "viewer": viewer,
                        "contract_id": contract,
                        "financial_year": year,
                        "spend": 10000.0,
                        **{m: float(sum(v)) if v else np.nan for m, v in measures.items()},
                        "cost_per_referral": np.nan,
                        "cost_per_completion": np.nan,
                        "cost_per_positive_outcome": np.nan,
                    }
                )
    vfm_columns = [
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
    ]
    outcome_columns = ["viewer", "contract_id", "period_key", "measure", "paired_cases", "improved_cases"]
    outcomes = pd.DataFrame(outcome_rows, columns=[*outcome_columns, "improved_pct", "mean_change"])
    return pd.DataFrame(rows), pd.DataFrame(vfm, columns=vfm_columns), outcomes


def _row(viewer: str, contract: int | None, code: str, breakdown: str, quarter: str, actual: float) -> dict:
    return {
        "viewer": viewer,
        "viewer_kind": "board",
        "scope": "service" if contract is not None else "all services",
        "contract_id": contract,
        "contract_reference": f"C{contract}" if contract is not None else "",
        "kpi_code": code,
        "unit": "count",
        "breakdown": breakdown,
        "period_key": quarter,
        "financial_year": year_of(quarter),
        "actual": actual,
        "variance_pct": 0.0,
        "numerator": np.nan,
        "denominator": np.nan,
        "rag": "green",
        "rating": "Good",
    }


def _feel_safer_row(viewer: str, contract: int, quarter: str, numerator: float, denominator: float) -> dict:
    return _row(viewer, contract, "FEEL-SAFER", "", quarter, round(numerator / denominator * 100, 1)) | {
        "unit": "percentage",
        "numerator": numerator,
        "denominator": denominator,
    }


def _outcome_row(
    viewer: str, contract: int, quarter: str, measure: str, paired: float, improved: float
) -> dict:
    return {
        "viewer": viewer,
        "contract_id": contract,
        "period_key": quarter,
        "measure": measure,
        "paired_cases": paired,
        "improved_cases": improved,
        "improved_pct": round(improved / paired * 100, 1) if paired else np.nan,
        "mean_change": 1.0,
    }


# --- what a board sees, and the attack --------------------------------------------

Cell = tuple  # ("p", contract or None, code, breakdown, quarter) or ("v", contract, year, measure)


@dataclass
class View:
    """What a viewer sees: each figure's value, or None when it is unknown
    (`[c]`, a feel-safer numerator); with the least value an unknown can
    take when that is not 1, and the greatest when something bounds it."""

    values: dict[Cell, float | None]
    least: dict[Cell, float] = field(default_factory=dict)
    most: dict[Cell, float] = field(default_factory=dict)


def outcome_cell(row: object) -> Cell:
    """An outcome row's improved cases: a measure as one informant scored it."""
    measure = f"{row.measure}/{getattr(row, 'informant', '')}"  # type: ignore[attr-defined]
    return ("o", int(row.contract_id), row.period_key, measure)  # type: ignore[attr-defined]


def seen(
    performance: pd.DataFrame, vfm: pd.DataFrame, viewer: str, outcomes: pd.DataFrame | None = None
) -> View:
    view = View({})
    shown = view.values
    for row in performance[performance["viewer"].eq(viewer)].itertuples():
        contract = None if row.scope == "all services" else int(row.contract_id)
        hidden = row.actual_display == CONFIDENTIAL
        if row.unit == "count":
            shown[("p", contract, row.kpi_code, row.breakdown, row.period_key)] = (
                None if hidden else row.actual
            )
        elif row.kpi_code == "FEEL-SAFER" and contract is not None:
            numerator = ("n", contract, row.period_key)
            shown_pct = not hidden and not pd.isna(row.actual)
            shown[numerator] = 0.0 if shown_pct and row.actual == 0 else None
            if not shown_pct:
                view.least[numerator] = 0.0
    for row in vfm[vfm["viewer"].eq(viewer)].itertuples():
        for measure in (*VFM_CODES, POSITIVE_OUTCOMES):
            hidden = getattr(row, f"{measure}_display") == CONFIDENTIAL
            value = getattr(row, measure)
            if hidden or not pd.isna(value):
                shown[("v", int(row.contract_id), row.financial_year, measure)] = None if hidden else value
    mine = outcomes[outcomes["viewer"].eq(viewer)] if outcomes is not None else []
    for row in getattr(mine, "itertuples", lambda: [])():
        improved = outcome_cell(row)
        paired_shown = row.paired_cases_display != CONFIDENTIAL
        if paired_shown and row.paired_cases == 0:
            shown[improved] = 0.0
        elif paired_shown and row.improved_display != CONFIDENTIAL:
            shown[improved] = float(round(row.improved_pct * row.paired_cases / 100))
        else:
            shown[improved] = None
            view.least[improved] = 0.0
            if paired_shown:
                view.most[improved] = float(row.paired_cases)
    return view


def totals_seen(cells: Iterable[Cell]) -> list[tuple[list[Cell], Cell]]:
    """Every sum the viewer's rows show, as (parts, total): worked out from
    the cells themselves, the way a reader would."""
    cells = set(cells)
    performance = [c for c in cells if c[0] == "p"]
    equations: list[tuple[list[Cell], Cell]] = []
    for total in performance:
        _, contract, code, breakdown, quarter = total
        if breakdown == "":
            parts = [c for c in performance if c[1:3] == (contract, code) and c[3] != "" and c[4] == quarter]
            services = {c[1] for c in performance if c[1] is not None and c[2] == code and c[4] == quarter}
            broken_down = {
                c[1]
                for c in performance
                if c[1] is not None and c[2] == code and c[3] != "" and c[4] == quarter
            }
            # All services' breakdowns make up their figure only if every service's are there.
            if parts and (contract is not None or services <= broken_down):
                equations.append((parts, total))
        if contract is None:
            parts = [c for c in performance if c[1] is not None and c[2:] == (code, breakdown, quarter)]
            equations.append((parts, total))
    for total in (c for c in cells if c[0] == "v"):
        _, contract, year, measure = total
        if measure == POSITIVE_OUTCOMES:
            parts = [c for c in cells if c[0] in ("o", "n") and c[1] == contract and year_of(c[2]) == year]
        else:
            parts = [
                c
                for c in performance
                if c[1] == contract and c[2] in VFM_CODES[measure] and c[3] == "" and year_of(c[4]) == year
            ]
        if parts:
            equations.append((parts, total))
    return equations


def feasible_range(
    unknown: list[Cell],
    known: dict[Cell, float],
    equations: list[tuple[list[Cell], Cell]],
    cell: Cell,
    least: dict[Cell, float],
    most: dict[Cell, float] | None = None,
) -> tuple[float, float]:
    """The least and greatest value of `cell` with every unknown at least 1,
    or its `least`, and at most its `most`."""
    most = most or {}
    column = {c: i for i, c in enumerate(unknown)}
    a_eq, b_eq = [], []
    for parts, total in equations:
        row = np.zeros(len(unknown))
        constant = 0.0
        for c, sign in [*((p, 1.0) for p in parts), (total, -1.0)]:
            if c in column:
                row[column[c]] += sign
            else:
                constant -= sign * known[c]
        if row.any():
            a_eq.append(row)
            b_eq.append(constant)
        else:
            assert abs(constant) < 1e-9, "the published figures must add up"
    objective = np.zeros(len(unknown))
    objective[column[cell]] = 1.0
    bounds = [(least.get(c, 1.0), most.get(c)) for c in unknown]
    if not a_eq:
        return least.get(cell, 1.0), most.get(cell, np.inf)
    low = linprog(objective, A_eq=a_eq, b_eq=b_eq, bounds=bounds, method="highs")
    high = linprog(-objective, A_eq=a_eq, b_eq=b_eq, bounds=bounds, method="highs")
    assert low.status == 0, "the truth is a solution, so the programme is feasible"
    return low.fun, np.inf if high.status == 3 else -high.fun


def narrowed_cells(truth: dict[Cell, float], view: View) -> list[tuple[Cell, float, float]]:
    """Primary `[c]`s (true value 1 to the threshold) whose feasible range
    leaves out a value the markers alone would allow, with that range."""
    shown = view.values
    equations = totals_seen(shown)
    # A missing figure (`[x]`) is unknown and at least 0.
    missing = {c for c, v in shown.items() if v is not None and np.isnan(v)}
    least = view.least | {c: 0.0 for c in missing}
    hidden = [c for c, v in shown.items() if v is None]
    known = {c: v for c, v in shown.items() if v is not None and c not in missing}
    # The markers alone: every non-zero figure hidden.
    nonzero = [c for c in shown if truth[c] != 0]
    zeros = {c: 0.0 for c in shown if truth[c] == 0}
    found = []
    for cell in hidden:
        if not 1 <= truth[cell] <= THRESHOLD:
            continue
        low, high = feasible_range([*hidden, *missing], known, equations, cell, least, view.most)
        floor, _ = feasible_range(nonzero, zeros, equations, cell, least)
        # The guarantee is every value from 1 to the threshold: ruling 0
        # out for a hidden share's improved cases (at least 0 to a reader,
        # who cannot tell why it is hidden) says no more than "at least one".
        if low > max(floor, 1.0) + 1e-6 or high < THRESHOLD - 1e-6:
            found.append((cell, low, high))
    return found


def truth_of(
    performance: pd.DataFrame, vfm: pd.DataFrame, outcomes: pd.DataFrame, viewer: str
) -> dict[Cell, float]:
    truth: dict[Cell, float] = {}
    for row in performance[performance["viewer"].eq(viewer)].itertuples():
        contract = None if row.scope == "all services" else int(row.contract_id)
        if row.unit == "count":
            truth[("p", contract, row.kpi_code, row.breakdown, row.period_key)] = row.actual
        elif row.kpi_code == "FEEL-SAFER":
            truth[("n", contract, row.period_key)] = row.numerator
    for row in vfm[vfm["viewer"].eq(viewer)].itertuples():
        for measure in (*VFM_CODES, POSITIVE_OUTCOMES):
            if not pd.isna(getattr(row, measure)):
                truth[("v", int(row.contract_id), row.financial_year, measure)] = getattr(row, measure)
    for row in outcomes[outcomes["viewer"].eq(viewer)].itertuples():
        truth[outcome_cell(row)] = row.improved_cases
    return truth


def attack(register: Register) -> dict[str, list[tuple[Cell, float, float]]]:
    performance, vfm, outcomes = tables(register)
    shown_perf, shown_vfm, shown_outcomes = suppress_marts(performance, vfm, outcomes, THRESHOLD)
    found = {}
    for viewer in register.boards:
        view = seen(shown_perf, shown_vfm, viewer, shown_outcomes)
        # Every small count is hidden.
        assert not [c for c, v in view.values.items() if v is not None and 1 <= v <= THRESHOLD]
        truth = truth_of(performance, vfm, outcomes, viewer)
        narrowed = narrowed_cells(truth, view)
        if narrowed:
            found[viewer] = narrowed
    return found


# --- tests ------------------------------------------------------------------------


def test_two_hidden_services_summing_to_3_take_another_figure_with_them() -> None:
    """The leak found in the demo: all services less the services shown left
    two `[c]`s adding up to 3, so each was 1 or 2, never 3 or 4."""
    register = Register(
        figures={
            (1, "REF-RECEIVED", "", "2013-14-Q1"): 1.0,
            (2, "REF-RECEIVED", "", "2013-14-Q1"): 2.0,
            (3, "REF-RECEIVED", "", "2013-14-Q1"): 20.0,
            (4, "REF-RECEIVED", "", "2013-14-Q1"): 31.0,
        },
        boards={"partnership:1": [1, 2, 3, 4]},
    )
    assert attack(register) == {}


def test_protect_hides_more_when_two_hidden_figures_add_up_to_too_little() -> None:
    values = pd.Series({0: 1.0, 1: 2.0, 2: 20.0, 3: 31.0, 4: 54.0})
    groups = pd.DataFrame({"group": ["g"] * 5, "cell": [0, 1, 2, 3, 4], "is_total": [False] * 4 + [True]})
    hidden = protect(values, values.between(1, THRESHOLD), groups, THRESHOLD)
    # 1 and 2 alone would add up to 3 against the total shown.
    assert hidden[[0, 1]].all()
    assert hidden.sum() >= 3


def test_positive_outcomes_less_the_improved_cases_shown_do_not_give_feel_safer_numerators_away() -> None:
    """A year's positive outcomes less the improved cases its shares and
    paired cases give left the one feel-safer numerator, a hidden 3."""
    register = Register(
        figures={(1, "REF-RECEIVED", "", "2013-14-Q1"): 30.0},
        boards={"partnership:1": [1]},
        feel_safer={(1, "2013-14-Q1"): (3.0, 10.0)},
        outcomes={(1, "2013-14-Q1", "SDQ"): (30.0, 17.0)},
    )
    assert attack(register) == {}


def test_positive_outcomes_do_not_give_away_a_hidden_share_of_a_few_people() -> None:
    """Positive outcomes less the improved cases of the shares shown left
    the 2 improved cases whose share was hidden."""
    register = Register(
        figures={(1, "REF-RECEIVED", "", "2013-14-Q1"): 30.0},
        boards={"partnership:1": [1]},
        outcomes={(1, "2013-14-Q1", "SDQ"): (30.0, 17.0), (1, "2013-14-Q2", "SDQ"): (10.0, 2.0)},
    )
    assert attack(register) == {}
    performance, vfm, outcomes = tables(register)
    _, shown_vfm, shown_outcomes = suppress_marts(performance, vfm, outcomes, THRESHOLD)
    # Something more is hidden: the year's positive outcomes or the other share.
    hidden_shares = shown_outcomes["improved_display"].eq(CONFIDENTIAL).sum()
    assert shown_vfm["positive_outcomes_display"].eq(CONFIDENTIAL).any() or hidden_shares == 2


@st.composite
def registers(draw: st.DrawFn) -> Register:
    n_contracts = draw(st.integers(2, 5))
    quarters = draw(st.lists(st.sampled_from(QUARTERS), min_size=1, max_size=4, unique=True))
    count = st.one_of(st.integers(0, THRESHOLD), st.integers(0, 40)).map(float)
    figures: dict[Key, float] = {}
    for contract in range(1, n_contracts + 1):
        sources = draw(st.lists(st.sampled_from(SOURCES), max_size=3, unique=True))
        codes = ["REF-RECEIVED", draw(st.sampled_from(["CASES-CLOSED", "PERP-COMPLETIONS"]))]
        for quarter in quarters:
            for code in codes:
                parts = sources if code == "REF-RECEIVED" else []
                values = {b: draw(count) for b in parts}
                figures[(contract, code, "", quarter)] = sum(values.values()) if parts else draw(count)
                figures |= {(contract, code, b, quarter): v for b, v in values.items()}
    feel_safer: FeelSafer = {}
    outcomes: Outcomes = {}
    small_or_not = st.one_of(st.integers(0, THRESHOLD + 2), st.integers(0, 30)).map(float)
    for contract in draw(st.lists(st.integers(1, n_contracts), max_size=2, unique=True)):
        for quarter in quarters:
            if draw(st.booleans()):
                denominator = draw(small_or_not) + 1
                feel_safer[(contract, quarter)] = (draw(st.floats(0, denominator).map(round)), denominator)
            for measure in draw(st.lists(st.sampled_from(["SDQ", "WEMWBS"]), max_size=2, unique=True)):
                paired = draw(small_or_not)
                outcomes[(contract, quarter, measure)] = (paired, float(draw(st.integers(0, int(paired)))))
    contracts = list(range(1, n_contracts + 1))
    boards = {
        f"partnership:{n}": draw(st.lists(st.sampled_from(contracts), min_size=1, unique=True))
        for n in range(1, draw(st.integers(1, 3)) + 1)
    }
    return Register(figures, boards, feel_safer, outcomes)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(registers())
def test_no_primary_count_can_be_narrowed_from_what_any_board_sees(register: Register) -> None:
    assert attack(register) == {}


def test_hidden_figures_are_empty_in_the_marts_so_chart_totals_add_only_shown_ones() -> None:
    """Dashboards and the board pack add up mart rows (SUM over quarters,
    services or years); a hidden figure is NULL there, so such a total is a
    sum of shown figures and tells an attacker nothing more."""
    register = Register(
        figures={
            (1, "REF-RECEIVED", "", "2013-14-Q1"): 3.0,
            (2, "REF-RECEIVED", "", "2013-14-Q1"): 12.0,
            (1, "REF-RECEIVED", "", "2013-14-Q2"): 30.0,
            (2, "REF-RECEIVED", "", "2013-14-Q2"): 14.0,
        },
        boards={"partnership:1": [1, 2]},
    )
    performance, vfm, outcomes = tables(register)
    shown_perf, shown_vfm, _ = suppress_marts(performance, vfm, outcomes, THRESHOLD)
    hidden = shown_perf["actual_display"].eq(CONFIDENTIAL)
    assert hidden.any()
    assert shown_perf.loc[hidden, "actual"].isna().all()
    for measure in VFM_CODES:
        hidden_year = shown_vfm[f"{measure}_display"].eq(CONFIDENTIAL)
        assert shown_vfm.loc[hidden_year, measure].isna().all()
