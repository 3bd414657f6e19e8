"""Which KPIs apply to a contract in a quarter, and with what targets."""

from __future__ import annotations

from sqlalchemy import or_, select
from sqlalchemy.orm import Session, selectinload

from monitor.kpis.models import FrameworkItem, Kpi
from monitor.kpis.periods import Quarter


def items_in_force(session: Session, contract_id: int, quarter: Quarter) -> list[FrameworkItem]:
    """The framework as it stood in that quarter, so a framework changed at an
    extension leaves past quarters judged by the one then in force."""
    period = str(quarter)
    query = (
        select(FrameworkItem)
        .join(Kpi, FrameworkItem.kpi_id == Kpi.id)
        .where(
            FrameworkItem.contract_id == contract_id,
            FrameworkItem.effective_from <= period,
            or_(FrameworkItem.effective_to.is_(None), FrameworkItem.effective_to >= period),
        )
        .options(selectinload(FrameworkItem.kpi).selectinload(Kpi.breakdowns))
        .order_by(Kpi.category, Kpi.code)
    )
    return list(session.scalars(query))
