"""The provider's commentary on each KPI, from the accepted return.

The warehouse carries no free text, so commentary comes from the app
database. A return's accepted figures are those of its latest submitted
version (accepting a return accepts that version: see
monitor.kpis.returns.services.accept_return), so its commentary is that version's too.
"""

from __future__ import annotations

from collections.abc import Collection

from sqlalchemy import and_, select
from sqlalchemy.orm import Session

from monitor.kpis.models import Kpi, Return, ReturnCommentary, ReturnVersion, latest_submitted
from monitor.kpis.vocabulary import ReturnState

# Bind parameters per IN list, well under SQLite's limit.
CHUNK = 500


def accepted_commentary(
    session: Session, contract_ids: Collection[int], period_key: str
) -> dict[tuple[int, str], str]:
    """(contract id, KPI code) -> commentary, for accepted returns of the quarter."""
    latest = latest_submitted()
    query = (
        select(Return.contract_id, Kpi.code, ReturnCommentary.text)
        .join(ReturnVersion, ReturnVersion.return_id == Return.id)
        .join(
            latest,
            and_(latest.c.return_id == ReturnVersion.return_id, latest.c.number == ReturnVersion.number),
        )
        .join(ReturnCommentary, ReturnCommentary.version_id == ReturnVersion.id)
        .join(Kpi, Kpi.id == ReturnCommentary.kpi_id)
        .where(Return.state == ReturnState.ACCEPTED.value, Return.period == period_key)
    )
    ids = sorted(set(contract_ids))
    found: dict[tuple[int, str], str] = {}
    for start in range(0, len(ids), CHUNK):
        chunk = ids[start : start + CHUNK]
        for contract_id, code, text in session.execute(query.where(Return.contract_id.in_(chunk))):
            found[(contract_id, code)] = text.strip()
    return found
