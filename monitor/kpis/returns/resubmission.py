"""Returns a framework change has left incomplete.

A KPI added to a contract's framework from a quarter whose return is already
submitted (under review, or queried and back with the provider) leaves that
return without a figure the framework now requires. `mark_incomplete_returns`
marks each such return "needs resubmission" with the reason, records it on
the return's history (audited like every change to a return), and tells the
provider by email once the change is committed: a framework change that is
rolled back tells nobody.

An accepted return is locked and is not marked: `accepted_lacking` finds the
accepted returns a new KPI's quarters cover that do not give it, and
`accepted_note` tells the commissioner who made the change that they can
reopen them to ask for it.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from email.message import EmailMessage
from typing import Any

from flask import current_app, has_app_context
from sqlalchemy import select
from sqlalchemy.orm import Session

from monitor.access.roles import Role
from monitor.auth.models import User
from monitor.contracts.models import Contract
from monitor.db import after_commit
from monitor.formatting import plural
from monitor.kpis.framework.history import items_in_force
from monitor.kpis.models import FrameworkItem, Kpi, Return
from monitor.kpis.periods import Quarter
from monitor.kpis.returns.mail import Mailer, build_message
from monitor.kpis.returns.reminders import return_path, users_of, wrap
from monitor.kpis.returns.services import add_event, latest_submitted, touch
from monitor.kpis.vocabulary import EventKind, ReturnState

log = logging.getLogger(__name__)

# Submitted and not accepted: under review, or queried and back with the
# provider (who is already asked to resubmit; the mark says what else is missing).
MARKABLE = (ReturnState.SUBMITTED.value, ReturnState.RESUBMITTED.value, ReturnState.QUERIED.value)


def missing_kpis(session: Session, record: Return) -> list[Kpi]:
    """The KPIs in force for the return's quarter that its latest submitted
    version gives no figure for."""
    quarter = Quarter.parse(record.period)
    latest = latest_submitted(record)
    if quarter is None or latest is None:
        return []
    given = {value.kpi_id for value in latest.values if not value.breakdown}
    return [
        item.kpi for item in items_in_force(session, record.contract_id, quarter) if item.kpi_id not in given
    ]


def reason_text(kpis: list[Kpi], quarter: Quarter, *, queried: bool = False) -> str:
    names = "; ".join(f"{kpi.name} ({kpi.code})" for kpi in kpis)
    what_to_do = (
        "answer the commissioner's query, give the new figures too and submit it again"
        if queried
        else "complete it and submit it again"
    )
    return (
        f"The performance framework now asks for {names} in {quarter.label}, which the submitted return "
        f"does not give. Download the workbook for the quarter again, {what_to_do}"
    )


def mark_incomplete_returns(
    session: Session,
    user: User | None,
    contract: Contract,
    from_quarter: Quarter,
    *,
    settings: Mapping[str, Any] | None = None,
) -> list[Return]:
    """Mark every return of `contract` from `from_quarter` on that is
    submitted but not accepted (under review or queried) and now lacks a
    required figure; the provider hears once the caller's transaction
    commits. Returns the returns marked this time."""
    records = session.scalars(
        select(Return)
        .where(
            Return.contract_id == contract.id,
            Return.period >= str(from_quarter),
            Return.state.in_(MARKABLE),
        )
        .order_by(Return.period)
    )
    marked: list[Return] = []
    for record in records:
        quarter = Quarter.parse(record.period)
        missing = missing_kpis(session, record)
        if quarter is None or not missing:
            continue
        reason = reason_text(missing, quarter, queried=record.state == ReturnState.QUERIED.value)
        if record.needs_resubmission and record.resubmission_reason == reason:
            continue
        record.needs_resubmission = True
        record.resubmission_reason = reason
        touch(record)
        latest = latest_submitted(record)
        add_event(
            session, user, record, EventKind.NEEDS_RESUBMISSION, reason, latest.number if latest else None
        )
        marked.append(record)
    if not marked:
        return marked
    session.flush()
    config = settings if settings is not None else (current_app.config if has_app_context() else {})
    messages = [
        build_message(config, person.email, subject, body)
        for record in marked
        for person in users_of(session, Role.PROVIDER, contract.provider_id)
        for subject, body in [compose(contract, record, config)]
    ]
    after_commit(session, lambda: send(config, messages))
    return marked


def accepted_lacking(session: Session, item: FrameworkItem) -> list[Return]:
    """The contract's accepted returns for quarters `item` is in force in
    whose accepted version gives no figure for its KPI, oldest first. They
    stay locked, unmarked: the commissioner decides whether to reopen them."""
    query = select(Return).where(
        Return.contract_id == item.contract_id,
        Return.state == ReturnState.ACCEPTED.value,
        Return.period >= item.effective_from,
    )
    if item.effective_to is not None:
        query = query.where(Return.period <= item.effective_to)
    return [
        record
        for record in session.scalars(query.order_by(Return.period))
        if any(kpi.id == item.kpi_id for kpi in missing_kpis(session, record))
    ]


def accepted_note(kpi: Kpi, records: list[Return]) -> str:
    """For the commissioner who added `kpi`: which accepted returns do not
    give it, and what they can do. '' when there are none."""
    if not records:
        return ""
    quarters = [q.label if (q := Quarter.parse(r.period)) else r.period for r in records]
    listed = quarters[0] if len(quarters) == 1 else f"{', '.join(quarters[:-1])} and {quarters[-1]}"
    count = len(records)
    return (
        f"The accepted {plural(count, 'return')} for {listed} {plural(count, 'does', 'do')} not give {kpi.code} "
        f"and {plural(count, 'stays', 'stay')} accepted. To ask the provider for it, reopen "
        f"{plural(count, 'it', 'them')} from the return {plural(count, 'page')}"
    )


def compose(contract: Contract, record: Return, settings: Mapping[str, Any]) -> tuple[str, str]:
    quarter = Quarter.parse(record.period)
    label = f"{contract.reference} {quarter.label if quarter else record.period}"
    link = str(settings.get("SERVICE_URL") or "").rstrip("/") + return_path(contract.id, record.period)
    body = (
        f"The return for {label} ({contract.title}) needs to be submitted again.\n\n"
        f"{record.resubmission_reason}.\n\n"
        "To do it:\n"
        "1. Sign in to the commissioning monitor.\n"
        f"2. Go to {link}\n"
        '3. Download the workbook for the quarter, fill it in, then upload it and choose "Check and submit".\n\n'
        "The return you submitted is kept as it was; the commissioner reviews the new one.\n"
    )
    return f"Return needs resubmission: {label}", wrap(body)


def send(settings: Mapping[str, Any], messages: list[EmailMessage]) -> None:
    """Send each message; a failure is logged, not raised: the mark on the
    return stands and the return page says what is needed."""
    try:
        with Mailer(settings) as mailer:
            for message in messages:
                mailer.send(message)
    except Exception:
        log.exception("needs-resubmission notice not sent", extra={"messages": len(messages)})
