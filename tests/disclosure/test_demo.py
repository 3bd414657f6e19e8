"""The demo's boards attacked as they read the warehouse: every figure and
total each board's rows show, the same linear programmes as
test_protection. In the demo, Barking & Dagenham's board once had two `[c]`
services that all services less the services shown left adding up to 3,
so each was 1 or 2."""

from __future__ import annotations

import pandas as pd

from tests.conftest import Warehouse
from tests.disclosure.test_protection import VFM_CODES, Cell, narrowed_cells, seen, year_of


def test_no_board_in_the_demo_can_narrow_a_small_count(shared_warehouse: Warehouse) -> None:
    facts = pd.DataFrame(
        shared_warehouse.rows(
            "SELECT f.contract_id, k.code AS kpi_code, f.breakdown, f.period_key, f.actual "
            "FROM fact_kpi_result f JOIN dim_kpi k ON k.kpi_id = f.kpi_id"
        )
    )
    actual = {
        (int(r.contract_id), r.kpi_code, r.breakdown, r.period_key): r.actual for r in facts.itertuples()
    }
    performance = pd.DataFrame(
        shared_warehouse.rows(
            "SELECT viewer, scope, contract_id, kpi_code, breakdown, period_key, actual, actual_display "
            "FROM mart_board_performance WHERE viewer_kind = 'board' AND unit = 'count'"
        )
    )
    vfm = pd.DataFrame(
        shared_warehouse.rows(
            "SELECT viewer, contract_id, financial_year, referrals, completions, positive_outcomes, "
            "referrals_display, completions_display, positive_outcomes_display "
            "FROM mart_value_for_money WHERE viewer_kind = 'board'"
        )
    )
    assert performance["actual_display"].eq("[c]").any()
    found = {}
    for viewer in sorted(performance["viewer"].unique()):
        shown = seen(performance, vfm, viewer)
        truth: dict[Cell, float] = {}
        services = [c for c in shown if c[0] == "p" and c[1] is not None]
        for cell in services:
            truth[cell] = actual[cell[1:]]
        for cell in shown:
            if cell[0] == "p" and cell[1] is None:
                parts = [truth[c] for c in services if c[2:] == cell[2:]]
                truth[cell] = float(pd.Series(parts).sum(min_count=1))
            elif cell[0] == "v":
                _, contract, year, measure = cell
                truth[cell] = float(
                    pd.Series(
                        [
                            v
                            for (c, code, b, q), v in actual.items()
                            if c == contract and code in VFM_CODES[measure] and b == "" and year_of(q) == year
                        ]
                    ).sum(min_count=1)
                )
        narrowed = narrowed_cells(truth, shown)
        if narrowed:
            found[viewer] = narrowed
    assert found == {}
