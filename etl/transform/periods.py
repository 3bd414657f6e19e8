"""The period dimension: every quarter from the first figure or contract to the last."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date

import pandas as pd

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
                    "short_label": f"Q{quarter.number} {quarter.financial_year}",
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
