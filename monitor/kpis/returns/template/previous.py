"""Last quarter's figures, shown on the template and compared by the checks."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from monitor.kpis.models import Kpi, Return, ReturnValue, ReturnVersion
from monitor.kpis.periods import Quarter


@dataclass(frozen=True)
class PreviousFigure:
    value: Decimal
    numerator: Decimal | None
    denominator: Decimal | None


def previous_figures(
    session: Session, contract_id: int, quarter: Quarter
) -> dict[tuple[str, str], PreviousFigure]:
    """(KPI code, breakdown) -> the figure in the latest submitted version of
    the previous quarter's return; empty when there is none."""
    latest = (
        select(ReturnVersion.id)
        .join(Return, ReturnVersion.return_id == Return.id)
        .where(
            Return.contract_id == contract_id,
            Return.period == str(quarter.previous()),
            ReturnVersion.submitted.is_(True),
        )
        .order_by(ReturnVersion.number.desc())
        .limit(1)
    )
    version_id = session.scalar(latest)
    if version_id is None:
        return {}
    rows = session.execute(
        select(
            Kpi.code, ReturnValue.breakdown, ReturnValue.value, ReturnValue.numerator, ReturnValue.denominator
        )
        .join(Kpi, ReturnValue.kpi_id == Kpi.id)
        .where(ReturnValue.version_id == version_id)
    )
    return {
        (code, breakdown or ""): PreviousFigure(value, numerator, denominator)
        for code, breakdown, value, numerator, denominator in rows
    }
