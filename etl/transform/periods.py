"""The period dimension (every quarter from the first figure or contract to
the last), and each contract's days in force, which pro-rate the targets of
the quarters it started or ended in."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime

import pandas as pd

from etl.transform.contracts import ENDING_VALUES
from monitor.kpis.performance.targets import last_day_in_force
from monitor.kpis.periods import Quarter


def quarter_key(day: date) -> str:
    return str(Quarter.containing(day))


def quarter_end(period_key: str) -> date:
    quarter = Quarter.parse(period_key)
    if quarter is None:
        raise ValueError(f"not a quarter: {period_key!r}")
    return quarter.end


def dim_period(
    period_keys: Iterable[str], first: date | None = None, last: date | None = None
) -> pd.DataFrame:
    """One row per quarter, with no gaps, spanning the keys and the given dates."""
    quarters = {q for q in (Quarter.parse(k) for k in period_keys) if q is not None}
    quarters |= {Quarter.containing(d) for d in (first, last) if d is not None}
    rows = []
    if quarters:
        quarter, stop = min(quarters), max(quarters)
        while quarter <= stop:
            rows.append(
                {
                    "period_key": str(quarter),
                    "financial_year": quarter.financial_year,
                    "quarter": quarter.number,
                    "start_date": quarter.start,
                    "end_date": quarter.end,
                    "label": quarter.label,
                    "short_label": quarter.short_label,
                    "sort_order": quarter.fy_start * 10 + quarter.number,
                }
            )
            quarter = quarter.next()
    return pd.DataFrame(
        rows,
        columns=[
            "period_key",
            "financial_year",
            "quarter",
            "start_date",
            "end_date",
            "label",
            "short_label",
            "sort_order",
        ],
    )


CONTRACT_DAYS_COLUMNS = ["contract_id", "contract_start", "contract_last_day"]


def contract_days(contracts: pd.DataFrame, amendments: pd.DataFrame) -> pd.DataFrame:
    """Each contract's first and last day in force: its end date, or the day
    before its latest termination or decommissioning took effect (the same
    rule as the app's, monitor.kpis.performance.targets.last_day_in_force)."""
    endings = amendments[amendments["kind"].isin(ENDING_VALUES)].sort_values("effective_date")
    ended = endings.drop_duplicates("contract_id", keep="last").set_index("contract_id")["effective_date"]
    rows = [
        (
            contract.contract_id,
            contract.start_date,
            last_day_in_force(contract.end_date, _date_or_none(ended.get(contract.contract_id))),
        )
        for contract in contracts.itertuples(index=False)
    ]
    return pd.DataFrame(rows, columns=CONTRACT_DAYS_COLUMNS)


def _date_or_none(value: object) -> date | None:
    if value is None or pd.isna(value):
        return None
    if isinstance(value, datetime):  # pandas' Timestamp included
        return value.date()
    if isinstance(value, date):
        return value
    return pd.Timestamp(value).date()
