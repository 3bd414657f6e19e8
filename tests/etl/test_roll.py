"""Rolling the as-at date rewrites only what depends on it, and leaves the
warehouse exactly as a full run at the new date would, on SQLite and
PostgreSQL.

The demo's warehouse is built as at 6 May 2014. The rolls cross:
- 1 July 2014: a quarter boundary (Q2 2014/15 joins the period dimension)
  and two new snapshot months;
- 1 October 2014: LBBD-DV-002's extended end date (30 September) passes, and
  the last notice dates of LBBD-DV-006 (30 September) and HBC-CYP-DA-01
  (3 August) go by;
- 2 April 2015: a financial year boundary (2015/16), and LBBD-DV-006 (to 31
  March 2015) and HBC-CYP-DA-01 (to 3 November 2014) reach their end dates.
"""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal
from typing import Any

import pandas as pd
from sqlalchemy import select

from etl.app import settings_from
from etl.roll import DATED_TABLES
from etl.run import RunResult, run_etl
from etl.schema import metadata
from etl.transform.contracts import version_in_force
from monitor.audit import Actor, acting_as
from monitor.contracts.models import Contract, FundingLine
from monitor.db import db
from tests.conftest import WAREHOUSE_AS_AT, Warehouse

BUILT_AS_AT = date.fromisoformat(WAREHOUSE_AS_AT)
QUARTER_BOUNDARY = date(2014, 7, 1)
END_AND_NOTICE_PASS = date(2014, 10, 1)
YEAR_BOUNDARY = date(2015, 4, 2)
DATED = {table.name for table in DATED_TABLES}


# A roll leaves the comparison as the last full run worked it out (etl/run.py):
# the figures a full run at the new date gives, dated the day they were worked out.
COMPARISON_DAY = ("as_at", "as_at_label")


def contents(warehouse: Warehouse) -> dict[str, list[tuple[Any, ...]]]:
    """Every warehouse table but the run log, every row, in a stable order
    (the comparison's without the day it was worked out for)."""
    tables = [t.name for t in metadata.sorted_tables if t.name != "etl_run"]
    return {
        name: sorted(
            (
                tuple(v for k, v in r.items() if name != "mart_comparison" or k not in COMPARISON_DAY)
                for r in warehouse.rows(f"SELECT * FROM {name}")  # noqa: S608
            ),
            key=repr,
        )
        for name in tables
    }


def run_as_at(warehouse: Warehouse, day: date, *, full: bool = False) -> RunResult:
    """A run as the worker makes it, as at `day`."""
    with warehouse.app.app_context():
        return run_etl(
            db.engine, warehouse.url, today=day, full=full, settings=settings_from(warehouse.app.config)
        )


def renewal(warehouse: Warehouse, reference: str) -> dict[str, Any]:
    rows = warehouse.rows(
        "SELECT DISTINCT status, days_to_end, days_to_notice, as_at FROM mart_renewals "
        "WHERE contract_reference = :reference",
        reference=reference,
    )
    assert len(rows) == 1, rows
    return dict(rows[0])


def periods(warehouse: Warehouse) -> set[str]:
    return {r["period_key"] for r in warehouse.rows("SELECT period_key FROM dim_period")}


def test_rolling_the_date_gives_what_a_full_run_at_that_date_gives(warehouse: Warehouse) -> None:
    built = contents(warehouse)
    assert renewal(warehouse, "LBBD-DV-002")["status"] == "extended"
    assert renewal(warehouse, "LBBD-DV-006")["days_to_notice"] > 0
    assert "2014-15-Q2" not in periods(warehouse)

    rolled = {}
    for day in (QUARTER_BOUNDARY, END_AND_NOTICE_PASS, YEAR_BOUNDARY):
        result = run_as_at(warehouse, day)
        assert (result.mode, result.status, result.contracts_changed) == ("roll", "succeeded", 0)
        # Only the tables that depend on the date were written.
        assert set(result.row_counts) == DATED, result.row_counts
        assert {c.name for c in result.checks} == {"renewals complete", "periods reach the date"}
        assert all(c.passed for c in result.checks)
        rolled[day] = contents(warehouse)
        assert rolled[day]["fact_kpi_result"] == built["fact_kpi_result"]
        assert {r["as_at"] for r in warehouse.rows("SELECT DISTINCT as_at FROM mart_renewals")} in (
            {day},
            {day.isoformat()},
        )
        # The comparison is still the full run's, and says so.
        assert {str(r["as_at"]) for r in warehouse.rows("SELECT DISTINCT as_at FROM mart_comparison")} == {
            WAREHOUSE_AS_AT
        }
        if day == QUARTER_BOUNDARY:
            assert "2014-15-Q2" in periods(warehouse)
            assert len(rolled[day]["fact_contract_snapshot"]) > len(built["fact_contract_snapshot"])
        if day == END_AND_NOTICE_PASS:
            assert renewal(warehouse, "LBBD-DV-002")["status"] == "expired"
            assert renewal(warehouse, "LBBD-DV-006")["days_to_notice"] < 0
            assert renewal(warehouse, "HBC-CYP-DA-01")["days_to_notice"] < 0
        if day == YEAR_BOUNDARY:
            assert "2015-16-Q1" in periods(warehouse)
            assert renewal(warehouse, "LBBD-DV-006")["days_to_end"] < 0
            assert renewal(warehouse, "HBC-CYP-DA-01")["status"] != "live"

    logged = warehouse.rows("SELECT mode, as_at, message FROM etl_run ORDER BY run_id")
    assert [r["mode"] for r in logged] == ["full", "roll", "roll", "roll"]
    assert logged[-1]["message"] == "as at 2015-04-02, rolled from 2014-10-01"

    for day, expected in rolled.items():
        assert run_as_at(warehouse, day, full=True).mode == "full"
        assert contents(warehouse) == expected, day

    # Back again, across all of those boundaries at once.
    assert run_as_at(warehouse, BUILT_AS_AT).mode == "roll"
    assert contents(warehouse) == built
    assert run_as_at(warehouse, BUILT_AS_AT).message == "nothing changed"


def test_a_roll_with_changes_rebuilds_what_changed_and_rolls_the_rest(warehouse: Warehouse) -> None:
    with warehouse.app.app_context(), acting_as(Actor(None, "test")), db.transaction() as session:
        contract = session.scalars(select(Contract).where(Contract.reference == "LBBD-DV-002")).one()
        line = session.scalars(select(FundingLine).where(FundingLine.contract_id == contract.id)).first()
        assert line is not None
        line.amount = Decimal("1000.00")
    result = run_as_at(warehouse, END_AND_NOTICE_PASS)
    assert (result.mode, result.contracts_changed) == ("roll", 1)
    assert result.row_counts["mart_funding"] > 0
    assert {c.name for c in result.checks} >= {"results reconcile", "renewals complete"}
    logged = warehouse.rows("SELECT mode, contracts_changed, row_counts FROM etl_run ORDER BY run_id")[-1]
    assert (logged["mode"], logged["contracts_changed"]) == ("roll", 1)
    assert json.loads(logged["row_counts"])["mart_renewals"] == result.row_counts["mart_renewals"]
    rolled = contents(warehouse)
    assert renewal(warehouse, "LBBD-DV-002")["status"] == "expired"

    run_as_at(warehouse, END_AND_NOTICE_PASS, full=True)
    assert contents(warehouse) == rolled


def test_a_month_before_a_contract_starts_takes_its_own_first_version() -> None:
    """The snapshot of the month a contract starts in (before its first day)
    joins that contract's first version, whatever order the rows come in: a
    full run once gave it another contract's, which a roll (seeing fewer
    contracts) did not, so the two disagreed."""
    versions = pd.DataFrame(
        {
            "contract_id": [7, 8],
            "valid_from": [date(2013, 4, 1), date(2013, 11, 4)],
            "contract_version_key": [7001, 8001],
        }
    )
    keys = version_in_force(
        versions,
        pd.Series([8, 7, 7]),
        pd.Series([date(2013, 11, 1), date(2013, 12, 1), date(2013, 5, 1)]),
    )
    assert keys.tolist() == [8001, 7001, 7001]
