"""The demo's boards attacked as they read the warehouse: every figure and
total each board's rows show, the same linear programmes as
test_protection. In the demo, Barking & Dagenham's board once had two `[c]`
services that all services less the services shown left adding up to 3,
so each was 1 or 2; Halton's positive outcomes less the improved cases its
outcome rows give are its feel-safer numerators."""

from __future__ import annotations

import pandas as pd

from tests.conftest import Warehouse
from tests.disclosure.test_protection import (
    POSITIVE_OUTCOMES,
    VFM_CODES,
    Cell,
    narrowed_cells,
    outcome_cell,
    seen,
    year_of,
)


def test_no_board_in_the_demo_can_narrow_a_small_count(shared_warehouse: Warehouse) -> None:
    facts = pd.DataFrame(
        shared_warehouse.rows(
            "SELECT f.contract_id, k.code AS kpi_code, f.breakdown, f.period_key, f.actual, f.numerator "
            "FROM fact_kpi_result f JOIN dim_kpi k ON k.kpi_id = f.kpi_id"
        )
    )
    actual = {
        (int(r.contract_id), r.kpi_code, r.breakdown, r.period_key): r.actual for r in facts.itertuples()
    }
    numerators = {
        (int(r.contract_id), r.period_key): r.numerator
        for r in facts.itertuples()
        if r.kpi_code == "FEEL-SAFER" and r.breakdown == ""
    }
    improved = {
        outcome_cell(r)[1:]: r.improved_cases
        for r in pd.DataFrame(
            shared_warehouse.rows(
                "SELECT contract_id, period_key, measure, informant, improved_cases FROM fact_outcome"
            )
        ).itertuples()
    }
    performance = pd.DataFrame(
        shared_warehouse.rows(
            "SELECT viewer, scope, contract_id, kpi_code, unit, breakdown, period_key, actual, actual_display "
            "FROM mart_board_performance WHERE viewer_kind = 'board' "
            "AND (unit = 'count' OR kpi_code = 'FEEL-SAFER')"
        )
    )
    vfm = pd.DataFrame(
        shared_warehouse.rows(
            "SELECT viewer, contract_id, financial_year, referrals, completions, positive_outcomes, "
            "referrals_display, completions_display, positive_outcomes_display "
            "FROM mart_value_for_money WHERE viewer_kind = 'board'"
        )
    )
    outcomes = pd.DataFrame(
        shared_warehouse.rows(
            "SELECT viewer, contract_id, period_key, measure, informant, paired_cases, paired_cases_display, "
            "improved_pct, improved_display FROM mart_outcomes WHERE viewer_kind = 'board'"
        )
    )
    assert performance["actual_display"].eq("[c]").any()
    assert not outcomes.empty and numerators, "the demo has outcomes and feel-safer figures to attack"
    found = {}
    for viewer in sorted(performance["viewer"].unique()):
        view = seen(performance, vfm, viewer, outcomes)
        truth: dict[Cell, float] = {}
        services = [c for c in view.values if c[0] == "p" and c[1] is not None]
        for cell in services:
            truth[cell] = actual[cell[1:]]
        for cell in view.values:
            if cell[0] == "p" and cell[1] is None:
                parts = [truth[c] for c in services if c[2:] == cell[2:]]
                truth[cell] = float(pd.Series(parts).sum(min_count=1))
            elif cell[0] == "n":
                truth[cell] = numerators[cell[1:]]
            elif cell[0] == "o":
                truth[cell] = improved[cell[1:]]
        for cell in [c for c in view.values if c[0] == "v"]:
            _, contract, year, measure = cell
            if measure == POSITIVE_OUTCOMES:
                parts = [
                    truth[c]
                    for c in truth
                    if c[0] in ("n", "o") and c[1] == contract and year_of(c[2]) == year
                ]
            else:
                parts = [
                    v
                    for (c, code, b, q), v in actual.items()
                    if c == contract and code in VFM_CODES[measure] and b == "" and year_of(q) == year
                ]
            truth[cell] = float(pd.Series(parts).sum(min_count=1))
        narrowed = narrowed_cells(truth, view)
        if narrowed:
            found[viewer] = narrowed
    assert found == {}
