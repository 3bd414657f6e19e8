"""Which KPIs apply to a contract in a quarter, and with what targets."""

from __future__ import annotations

from dataclasses import dataclass

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


def framework_history(session: Session, contract_ids: list[int]) -> list[FrameworkItem]:
    """Every item these contracts have ever had, for judging many quarters at once."""
    query = (
        select(FrameworkItem)
        .join(Kpi, FrameworkItem.kpi_id == Kpi.id)
        .where(FrameworkItem.contract_id.in_(contract_ids))
        .options(selectinload(FrameworkItem.kpi))
        .order_by(FrameworkItem.contract_id, Kpi.category, Kpi.code, FrameworkItem.effective_from)
    )
    return list(session.scalars(query))


def in_force(item: FrameworkItem, quarter: Quarter) -> bool:
    """The same test as items_in_force, for items already loaded."""
    period = str(quarter)
    return item.effective_from <= period and (item.effective_to is None or item.effective_to >= period)


@dataclass
class PeriodInForce:
    """Items sharing the same first and last quarter, shown together."""

    first: Quarter
    last: Quarter | None
    items: list[FrameworkItem]

    def includes(self, quarter: Quarter) -> bool:
        return self.first <= quarter and (self.last is None or quarter <= self.last)

    @property
    def label(self) -> str:
        start = self.first.short_label
        if self.last is None:
            return f"From {start} ({self.first.start:%B %Y}) onwards"
        end = self.last.short_label
        return f"{start} to {end} ({self.first.start:%B %Y} to {self.last.end:%B %Y})"


def grouped_by_period(items: list[FrameworkItem]) -> list[PeriodInForce]:
    """Latest-starting period first, since that is what applies now or next."""
    groups: dict[tuple[str, str | None], list[FrameworkItem]] = {}
    for item in items:
        groups.setdefault((item.effective_from, item.effective_to), []).append(item)
    periods = []
    for (first, last), members in groups.items():
        start = Quarter.parse(first)
        if start is None:  # pragma: no cover - the format is a database check
            continue
        members.sort(key=lambda i: (i.kpi.category, i.kpi.code))
        periods.append(PeriodInForce(start, Quarter.parse(last) if last else None, members))
    periods.sort(key=lambda p: (p.first, p.last is None, p.last), reverse=True)
    return periods
