"""The worker's tasks: each a thin wrapper around a function the app already has.

Every task runs in the Flask app's context (see factory.AppTask) and reports
through the app's JSON logs; there is no result backend.
"""

from __future__ import annotations

import logging
import os
from datetime import date
from pathlib import Path
from typing import Any

from celery import Task, shared_task
from flask import current_app

from etl.app import Drained, drain_outbox
from monitor.clock import today
from monitor.db import db
from monitor.kpis.periods import is_working_day
from monitor.kpis.returns.mail import Mailer
from monitor.kpis.returns.reminders import send_reminders as send_due_reminders
from monitor.opendata.service import (
    Export,
    ExportRefused,
    NothingToPublish,
    contracts_in_scope,
    publishing,
    register_grants,
    register_ocds,
)
from monitor.reports.audience import find_commissioner, find_partnership
from monitor.reports.delivery import deliver_packs
from monitor.reports.pack_data import PackError
from monitor.reports.service import make_board_pack, pack_warehouse

log = logging.getLogger(__name__)

# A failed warehouse run is tried again after about 5, 10, 20... seconds, at
# most five minutes apart; after that the drain every minute keeps trying.
_RETRIED = {
    "autoretry_for": (Exception,),
    "retry_backoff": 5,
    "retry_backoff_max": 300,
    "retry_jitter": True,
    "max_retries": 6,
}


def _report(event: str, drained: Drained) -> None:
    result = drained.result
    log.info(
        event,
        extra={
            "outbox_events": drained.events,
            "skipped": drained.skipped or None,
            "run_id": result.run_id if result else None,
            "mode": result.mode if result else None,
            "seconds": round(result.seconds, 2) if result else None,
            "run_message": (result.message or None) if result else None,
        },
    )


@shared_task(**_RETRIED)
def refresh_warehouse() -> None:
    """Drain the outbox: one incremental run for every pending change."""
    _report("warehouse refreshed", drain_outbox())


@shared_task(**_RETRIED)
def nightly_full_run() -> None:
    """Rebuild the warehouse in full (and mark what was pending as done)."""
    _report("warehouse rebuilt", drain_outbox(full=True, run_anyway=True))


@shared_task(**_RETRIED)
def roll_as_at_date() -> None:
    """Bring the warehouse to today's date: an incremental run that the ETL
    treats as a roll of the as-at date."""
    _report("as-at date rolled", drain_outbox(run_anyway=True))


@shared_task()
def send_reminders() -> None:
    """What `flask returns remind` does, on working days. Nothing is sent twice,
    so a repeated or retried run is harmless."""
    day = today()
    if not is_working_day(day):
        log.info("reminders skipped: not a working day", extra={"day": day.isoformat()})
        return
    settings = current_app.config
    with Mailer(settings) as mailer:
        report = send_due_reminders(db, day, settings, mailer)
    log.info(
        "reminders sent",
        extra={
            "day": day.isoformat(),
            "sent": report.sent,
            "already_sent": report.already_sent,
            "failed": report.failed,
            "summary": report.summary(),
        },
    )


def _publish(export: Export, folder: Path) -> Path:
    """Write the file whole, then move it into place, so a reader never sees half of it."""
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / export.filename
    partial = target.with_name(f".{target.name}.{os.getpid()}.partial")
    partial.write_text(export.text, encoding="utf-8")
    partial.replace(target)
    return target


@shared_task()
def publish_open_data() -> None:
    """What `flask export ocds` and `flask export 360giving` do for the whole
    register, into OPEN_DATA_DIR. A register that cannot be published is
    logged with every problem; it is not retried, since only an edit fixes it."""
    folder = Path(current_app.config["OPEN_DATA_DIR"])
    contracts = contracts_in_scope(db.session(), None, None)
    day = today()
    settings = publishing()
    exports: dict[str, Any] = {}
    if settings.base_url.startswith(("https://", "http://")):
        exports["ocds"] = lambda: register_ocds(db.session(), contracts, settings, day, None)
    else:
        log.error("OCDS not published: set SERVICE_URL to the public address of this service")
    exports["360giving"] = lambda: register_grants(db.session(), contracts, publishing(""), day, None)
    for kind, build in exports.items():
        try:
            written = _publish(build(), folder)
        except NothingToPublish as error:
            log.info("open data: nothing to publish", extra={"kind": kind, "reason": str(error)})
        except ExportRefused as error:
            log.error(
                "open data refused",
                extra={
                    "kind": kind,
                    "problems": [f"{p.reference} {p.field}: {p.message}" for p in error.problems],
                },
            )
        else:
            log.info("open data published", extra={"kind": kind, "path": str(written)})


@shared_task()
def build_board_pack(audience_kind: str, audience: str, period: str) -> str | None:
    """What `flask reports board-pack` does, for one commissioner or partnership
    (`audience_kind` "commissioner" or "partnership"; `audience` a name or id)
    and one quarter (like 2013-14-Q4), into BOARD_PACK_DIR. Returns the path
    written, or None when the pack cannot be made (logged, not retried: the
    message says what to fix)."""
    session = db.session()
    find = {"commissioner": find_commissioner, "partnership": find_partnership}[audience_kind]
    try:
        pack = make_board_pack(
            session,
            pack_warehouse(),
            find(session, audience),
            period,
            threshold=int(current_app.config["DISCLOSURE_THRESHOLD"]),
            produced_on=today(),
        )
    except (LookupError, PackError) as error:
        log.error("board pack not made", extra={"audience": audience, "period": period, "reason": str(error)})
        return None
    folder = Path(current_app.config["BOARD_PACK_DIR"])
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / pack.filename
    partial = target.with_name(f".{target.name}.{os.getpid()}.partial")
    partial.write_bytes(pack.content)
    partial.replace(target)
    log.info("board pack made", extra={"audience": audience, "period": period, "path": str(target)})
    return str(target)


# Board pack delivery retries a failure the same way, but itself: it must know
# its last try, when the failure is recorded and the administrators told.
PACK_RETRIES = 6


def _backoff(retries: int) -> int:
    """5, 10, 20 ... seconds, at most five minutes."""
    return int(min(5 * 2**retries, 300))


@shared_task(bind=True, max_retries=PACK_RETRIES)
def deliver_board_packs(self: Task, day: str | None = None) -> str:
    """What `flask reports deliver-packs` does, on working days: each board's
    pack to its members BOARD_PACK_WORKING_DAYS_BEFORE working days before its
    meetings (monitor.reports.delivery has the rule). Nothing is sent twice,
    so a retried or repeated run is harmless; a run that hit a passing fault
    (mail server, warehouse) is retried with backoff, and on the last try the
    failure is recorded on the meeting and the administrators are told."""
    when = date.fromisoformat(day) if day else today()
    if not is_working_day(when):
        log.info("board packs skipped: not a working day", extra={"day": when.isoformat()})
        return "not a working day"
    settings = current_app.config
    final = self.request.retries >= PACK_RETRIES
    with Mailer(settings) as mailer:
        report = deliver_packs(db, when, settings, mailer, final=final)
    log.info(
        "board packs delivered",
        extra={
            "day": when.isoformat(),
            "sent": [o.label for o in report.of("sent")],
            "failed": [f"{o.label}: {o.reason}" for o in report.of("failed")],
            "will_retry": [f"{o.label}: {o.reason}" for o in report.of("will retry")],
            "summary": report.summary(),
        },
    )
    if report.will_retry:
        raise self.retry(countdown=_backoff(self.request.retries), args=(when.isoformat(),))
    return report.summary()
