"""Writes the warehouse's outbox row in the transaction of a change it reads.

A flush listener notes what each flush changed that the warehouse reads;
just before the transaction commits, one row is written for all of it. After
the commit the app's `notify` tells the worker, best effort: if the worker
cannot be told, the row waits for the scheduled drain.

What the warehouse reads (etl/extract.py): the register (contracts, their
amendments, options, cohorts and funding), frameworks, the KPI library,
organisations and partnerships, and accepted returns. So a return counts
only when it becomes accepted or stops being accepted (reopened); drafts,
uploads, queries and return events never do.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from typing import Any

from flask import Flask, current_app, has_app_context
from sqlalchemy import event, insert, inspect
from sqlalchemy.orm import Session

from monitor.auth.models import Organisation, Partnership
from monitor.contracts.models import Amendment, Contract, ContractCohort, ExtensionOption, FundingLine
from monitor.kpis.models import FrameworkItem, Kpi, Return
from monitor.kpis.vocabulary import ReturnState
from monitor.model_helpers import utcnow
from monitor.outbox.models import REASON_LENGTH, OutboxEvent, Topic

log = logging.getLogger(__name__)

# Models whose every change the warehouse reads, named as the reason says.
WAREHOUSE_MODELS: dict[type, str] = {
    Contract: "contract",
    Amendment: "amendment",
    ExtensionOption: "extension option",
    ContractCohort: "contract cohort",
    FundingLine: "funding line",
    FrameworkItem: "framework item",
    Kpi: "KPI",
    Organisation: "organisation",
    Partnership: "partnership",
}
ACCEPTED = ReturnState.ACCEPTED.value

REASONS = "outbox.warehouse_reasons"  # session.info: what this transaction changed
WRITTEN = "outbox.written"  # session.info: a row was written; tell the worker after commit
NOTIFY = "outbox.notify"  # app.extensions: how this app tells the worker


def install(app: Flask, notify: Callable[[], None]) -> None:
    """Write outbox rows for every session, and let `app` tell its worker
    after a commit. The listeners are installed once per process; each
    commit asks its own app how to notify."""
    app.extensions[NOTIFY] = notify
    for name, listener in (
        ("after_flush", _note),
        ("before_commit", _write),
        ("after_commit", _notify),
        ("after_rollback", _forget),
    ):
        if not event.contains(Session, name, listener):
            event.listen(Session, name, listener)


def warehouse_reasons(
    new: Iterable[object],
    dirty: Iterable[object],
    deleted: Iterable[object],
    is_modified: Callable[[Any], bool],
) -> list[str]:
    """Why a flush of these objects changes what the warehouse shows; empty when it does not."""
    reasons = []
    for action, objects in (("added", new), ("changed", dirty), ("deleted", deleted)):
        for obj in objects:
            if action == "changed" and not is_modified(obj):
                continue
            if isinstance(obj, Return):
                reason = _return_reason(obj, action)
                if reason:
                    reasons.append(reason)
                continue
            kind = WAREHOUSE_MODELS.get(type(obj))
            if kind is not None:
                reasons.append(f"{kind} {getattr(obj, 'id', '')} {action}".replace("  ", " "))
    return reasons


def _return_reason(ret: Return, action: str) -> str:
    """A return matters to the warehouse only on its way into or out of accepted."""
    if action == "added":
        return f"return {ret.id} added as accepted" if ret.state == ACCEPTED else ""
    if action == "deleted":
        return f"return {ret.id} deleted" if ret.state == ACCEPTED else ""
    history = inspect(ret).attrs.state.history
    if ACCEPTED in history.added:
        return f"return {ret.id} accepted"
    if ACCEPTED in history.deleted:
        return f"return {ret.id} reopened"
    return ""


def _note(session: Session, _context: object) -> None:
    reasons = warehouse_reasons(session.new, session.dirty, session.deleted, session.is_modified)
    if reasons:
        noted = session.info.setdefault(REASONS, [])
        noted.extend(r for r in reasons if r not in noted)


def _write(session: Session) -> None:
    if session.in_nested_transaction():
        return  # a savepoint: the row goes with the transaction around it
    session.flush()  # the last changes, so their reasons are noted too
    reasons = session.info.pop(REASONS, None)
    if not reasons:
        return
    reason = "; ".join(reasons)
    if len(reason) > REASON_LENGTH:
        reason = reason[: REASON_LENGTH - 1] + "…"
    session.connection().execute(
        insert(OutboxEvent.__table__),  # type: ignore[arg-type]
        {"topic": Topic.WAREHOUSE.value, "reason": reason, "created_at": utcnow(), "attempts": 0},
    )
    session.info[WRITTEN] = True


def _notify(session: Session) -> None:
    if not session.info.pop(WRITTEN, False) or not has_app_context():
        return
    notify = current_app.extensions.get(NOTIFY)
    if notify is None:
        return
    try:
        notify()
    except Exception as error:  # the change is committed: the scheduled drain catches up
        log.warning(
            "the worker could not be told of a change; the scheduled drain will pick it up",
            extra={"error": f"{type(error).__name__}: {error}"},
        )


def _forget(session: Session) -> None:
    session.info.pop(REASONS, None)
    session.info.pop(WRITTEN, None)
