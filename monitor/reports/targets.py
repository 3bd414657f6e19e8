"""The targets a board pack knows from the framework, whether or not a return
has been accepted for the quarter.

The warehouse holds a target only beside an accepted figure, so a quarter still
awaiting its return would print its target as not available ([x]), although the
framework set it long ago. The framework's own rules give it: the items in force
in the quarter (monitor.kpis.framework.history) and the target it sets for the
quarter (monitor.kpis.performance.item_targets: the quarter's share of a yearly
target, pro-rated by the days in force when the contract started or ended in
it, as the warehouse's own targets are).
"""

from __future__ import annotations

from collections.abc import Collection, Sequence

from sqlalchemy.orm import Session

from monitor.kpis.framework.history import framework_history, in_force
from monitor.kpis.performance.item_targets import item_target
from monitor.kpis.periods import Quarter
from monitor.reports.pack_data import Period


def known_targets(
    session: Session, contract_ids: Collection[int], quarters: Sequence[Period]
) -> dict[tuple[int, str, str], float]:
    """(contract id, KPI code, period key) -> the target the framework set for that quarter."""
    parsed = [(period.key, Quarter.parse(period.key)) for period in quarters]
    found: dict[tuple[int, str, str], float] = {}
    for item in framework_history(session, sorted(set(contract_ids))):
        for key, quarter in parsed:
            if quarter is None or not in_force(item, quarter):
                continue
            target = item_target(item, item.contract, quarter).value
            if target is not None:
                found[(item.contract_id, item.kpi.code, key)] = float(target)
    return found
