"""Rolling the as-at date: rewrite only what depends on it.

Most of the warehouse does not depend on the day a run is made for: KPI
results, funding, outcomes, the contract versions, who sees what, and the
performance, value-for-money, funding and outcome marts are the same
whatever the date. What does:

- `dim_period` runs to the quarter of the as-at date;
- `fact_contract_snapshot` has a row per contract for every month up to the
  as-at date (each row's status and days are worked out for its own month,
  so the months both dates reach are the same either way);
- `mart_renewals` (statuses, days to the end and to the notice date, the
  options left) and `mart_provision` (which services are live) are as at
  the date.

A roll reads from the app only what renewal dates are worked out from (the
contracts' dates and terms, options, amendments and cohorts), and takes who
sees each contract and its current labels from the warehouse's own
`bridge_contract_viewer` and `dim_contract`, which a roll does not change.
It runs inside the run's transaction after any incremental rebuild, so those
are already up to date. The rows it writes are those a full run at the new
date would write (tests/etl/test_roll.py holds it to that, table by table).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

import pandas as pd
from sqlalchemy import Connection, delete, func, select

from etl import load
from etl.extract import (
    AMENDMENT_COLUMNS,
    AMENDMENTS,
    COHORT_COLUMNS,
    COHORTS,
    OPTION_COLUMNS,
    OPTIONS,
    read_frame,
)
from etl.schema import (
    bridge_contract_viewer,
    dim_contract,
    dim_period,
    fact_contract_snapshot,
    fact_kpi_result,
    mart_provision,
    mart_renewals,
)
from etl.transform import contracts as contract_transforms
from etl.transform.marts import dated_marts
from etl.transform.periods import dim_period as build_dim_period
from monitor.contracts.models import Contract
from monitor.contracts.renewal import Leads

# The tables a roll writes: everything else stays as the last run left it.
DATED_TABLES = (dim_period, fact_contract_snapshot, mart_renewals, mart_provision)

STEPS = (
    "rolling the date: reading contract terms",
    "rolling the date: renewals and snapshots",
    "rolling the date: loading",
)


def first_of_month(day: date) -> date:
    return day.replace(day=1)


def _next_month(month: date) -> date:
    return date(month.year + month.month // 12, month.month % 12 + 1, 1)


def roll(
    app: Connection,
    warehouse: Connection,
    *,
    since: date,
    today: date,
    span: tuple[date | None, date | None],
    leads: Leads,
    say: Callable[[str], None],
) -> dict[str, int]:
    """Move the warehouse from as at `since` to as at `today`. `span` is the
    first and last day dim_period must cover (as a full run works it out).
    Returns the rows written per table."""
    say(STEPS[0])
    contracts = read_frame(
        app,
        select(
            Contract.id,
            Contract.start_date,
            Contract.original_end_date,
            Contract.end_date,
            Contract.award_date,
            Contract.notice_period_months,
            Contract.annual_value,
        ),
        [
            "contract_id",
            "start_date",
            "original_end_date",
            "end_date",
            "award_date",
            "notice_period_months",
            "annual_value",
        ],
    )
    options = read_frame(app, OPTIONS, OPTION_COLUMNS)
    amendments = read_frame(app, AMENDMENTS, AMENDMENT_COLUMNS)
    cohorts = read_frame(app, COHORTS, COHORT_COLUMNS)
    versions = read_frame(
        warehouse,
        select(*dim_contract.columns),
        [c.name for c in dim_contract.columns],
    )
    viewers = read_frame(
        warehouse,
        select(*bridge_contract_viewer.columns),
        [c.name for c in bridge_contract_viewer.columns],
    )
    # dim_period has no gaps, so the first and last quarters with figures
    # stand for all of them.
    reported = warehouse.execute(
        select(func.min(fact_kpi_result.c.period_key), func.max(fact_kpi_result.c.period_key))
    ).one()

    say(STEPS[1])
    periods = build_dim_period([key for key in reported if key is not None], *span)
    renewals = contract_transforms.renewals(contracts, options, amendments, today, leads)
    current = versions[versions["is_current"].astype(bool)]
    marts = dated_marts(renewals, current, viewers, cohorts, today)
    # The months both dates reach have the same snapshot rows; only those
    # after the earlier date's month are written.
    kept_until = first_of_month(min(since, today))
    snapshots = _snapshots_after(kept_until, contracts, versions, amendments, today)

    say(STEPS[2])
    load.clear(warehouse, dim_period)
    warehouse.execute(
        delete(fact_contract_snapshot).where(fact_contract_snapshot.c.snapshot_month > kept_until)
    )
    for mart in (mart_renewals, mart_provision):
        load.clear(warehouse, mart)
    return {
        dim_period.name: load.insert(warehouse, dim_period, periods),
        fact_contract_snapshot.name: load.insert(warehouse, fact_contract_snapshot, snapshots),
        **{
            mart.name: load.insert(warehouse, mart, marts[mart.name])
            for mart in (mart_renewals, mart_provision)
        },
    }


def _snapshots_after(
    kept_until: date,
    contracts: pd.DataFrame,
    versions: pd.DataFrame,
    amendments: pd.DataFrame,
    today: date,
) -> pd.DataFrame:
    """The snapshot rows of the months after `kept_until` up to today's, for
    the contracts still running in one of them."""
    first_new = _next_month(kept_until)
    if first_new > today:
        return pd.DataFrame(columns=[c.name for c in fact_contract_snapshot.columns])
    running = contracts[pd.to_datetime(contracts["end_date"]) >= pd.Timestamp(first_new)]
    their_versions = versions[versions["contract_id"].isin(running["contract_id"])]
    rows = contract_transforms.snapshots(running, their_versions, amendments, today)
    return rows[rows["snapshot_month"] > kept_until]
