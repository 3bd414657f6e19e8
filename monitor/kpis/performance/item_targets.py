"""`targets.quarter_target` for the models: the target a framework item sets
a contract for one quarter, pro-rated if the contract started or ended in it.

For callers holding a FrameworkItem and a Contract (the return template's
target column, the return's period check, the returns pages). Pages of many
contracts use `figures`, which loads every contract's ending in one query.
"""

from __future__ import annotations

from datetime import date

from monitor.contracts.models import Contract
from monitor.kpis.models import FrameworkItem
from monitor.kpis.performance.targets import QuarterTarget, last_day_in_force, quarter_target
from monitor.kpis.periods import Quarter


def last_day_of(contract: Contract) -> date:
    """The contract's last day in force: its end date, or the day before a
    termination or decommissioning took effect, whichever is earlier."""
    ending = contract.ending
    return last_day_in_force(contract.end_date, ending.effective_date if ending is not None else None)


def item_target(item: FrameworkItem, contract: Contract, quarter: Quarter) -> QuarterTarget:
    """`.value` is what the quarter's figure is judged against; `.note` says
    'pro-rated: 31 of 90 days' when it was pro-rated; `.days.covers` says
    'covers 1 to 31 January 2014'."""
    return quarter_target(
        item.target,
        item.target_basis,
        item.kpi.unit,
        item.kpi.rollup,
        quarter,
        contract.start_date,
        last_day_of(contract),
    )
