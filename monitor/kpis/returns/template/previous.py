"""Last quarter's figures, shown on the template and compared by the checks:
the version the commissioner accepted, never one still awaiting review."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from monitor.kpis.models import Kpi, Return, ReturnEvent, ReturnValue, ReturnVersion
from monitor.kpis.periods import Quarter
from monitor.kpis.vocabulary import ReturnState

# Accepting a return records an event of this kind naming the version accepted
# (monitor.kpis.returns.services.accept_return); a later resubmission leaves it standing.
ACCEPTED_EVENT = ReturnState.ACCEPTED.value


@dataclass(frozen=True)
class PreviousFigure:
    value: Decimal
    numerator: Decimal | None
    denominator: Decimal | None


def previous_figures(
    session: Session, contract_id: int, quarter: Quarter
) -> dict[tuple[str, str], PreviousFigure]:
    """(KPI code, breakdown) -> the figure in the version of the previous quarter's
    return that was last accepted; empty when none has been. A resubmission still
    awaiting review is not what the commissioner accepted, so it is not compared."""
    accepted = (
        select(ReturnVersion.id)
        .join(Return, ReturnVersion.return_id == Return.id)
        .join(
            ReturnEvent,
            (ReturnEvent.return_id == Return.id) & (ReturnEvent.version_number == ReturnVersion.number),
        )
        .where(
            Return.contract_id == contract_id,
            Return.period == str(quarter.previous()),
            ReturnEvent.kind == ACCEPTED_EVENT,
            ReturnVersion.submitted.is_(True),
        )
        .order_by(ReturnEvent.at.desc(), ReturnEvent.id.desc())
        .limit(1)
    )
    version_id = session.scalar(accepted)
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
