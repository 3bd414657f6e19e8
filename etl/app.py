"""The ETL as the Flask app runs it: settings from the app's config, and the
drain that brings the warehouse up to date from the outbox.

No web request runs the ETL. A change the warehouse reads writes an outbox
row in its own transaction (monitor/outbox); the worker (monitor/worker)
calls `drain_outbox`, which merges every pending row into one run.
`flask etl run` stays for operators."""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from flask import Flask, current_app
from sqlalchemy import Engine, select, text, update

from etl.engine import WarehouseUnavailable, warehouse_engine, warehouse_url_for
from etl.load import chunks
from etl.run import Progress, RunResult, Settings, last_success, run_etl
from monitor.clock import today
from monitor.contracts.renewal import Leads
from monitor.db import db
from monitor.model_helpers import utcnow
from monitor.outbox import OutboxEvent, Topic

log = logging.getLogger(__name__)


def settings_from(config: Mapping[str, Any]) -> Settings:
    return Settings(
        threshold=int(config["DISCLOSURE_THRESHOLD"]),
        small_sample=int(config["OUTCOME_SMALL_SAMPLE"]),
        improvement={
            "SDQ": float(config["SDQ_RELIABLE_CHANGE"]),
            "WEMWBS": float(config["WEMWBS_MEANINGFUL_CHANGE"]),
            "SWEMWBS": float(config["SWEMWBS_MEANINGFUL_CHANGE"]),
        },
        leads=Leads(
            decision_lead_months=int(config["DECISION_LEAD_MONTHS"]),
            procurement_lead_months=int(config["PROCUREMENT_LEAD_MONTHS"]),
        ),
        watermark_overlap=timedelta(seconds=int(config.get("ETL_WATERMARK_OVERLAP_SECONDS", 60))),
    )


def warehouse_url(app: Flask | None = None) -> str:
    config = (app or current_app).config
    return warehouse_url_for(config["DATABASE_URL"], config.get("WAREHOUSE_URL", ""))


ENGINE_KEY = "warehouse_engine"


def app_warehouse(app: Flask | None = None) -> Engine:
    """The app's warehouse engine, made once per app (an engine holds a pool).
    Raises WarehouseUnavailable when the app database has no warehouse beside it."""
    target = app or current_app
    engine = target.extensions.get(ENGINE_KEY)
    if engine is None:
        try:
            url = warehouse_url(target)
        except ValueError as error:  # an in-memory app database has no warehouse beside it
            raise WarehouseUnavailable(f"{error}, then run `flask etl run --full`") from error
        engine = target.extensions[ENGINE_KEY] = warehouse_engine(url)
    return engine


def run_for_app(full: bool = False, progress: Progress | None = None) -> RunResult:
    """One ETL run with the app's settings. It reads every change committed
    before it started, so it settles the outbox rows pending then: done when
    it succeeds, tried (with the error) when it fails."""
    return _run_and_settle(full, progress)[0]


def _run_and_settle(full: bool, progress: Progress | None = None) -> tuple[RunResult, int]:
    pending = _pending()
    try:
        result = run_etl(
            db.engine,
            warehouse_url(),
            today=today(),
            full=full,
            settings=settings_from(current_app.config),
            progress=progress,
        )
    except Exception as error:
        if pending:
            _settle(pending, f"{type(error).__name__}: {error}"[:2000])
        raise
    if pending:
        _settle(pending, None)
    return result, len(pending)


@dataclass(frozen=True)
class Drained:
    """What one drain did: the outbox rows it covered, and its run (None when
    it ran none, with the reason why not)."""

    events: int
    result: RunResult | None
    skipped: str = ""


# Two drains never run the ETL at once: on PostgreSQL a session advisory lock
# on the app database (the ETL's own lock, etl.run.ADVISORY_LOCK, is taken only
# once a run has read the app); on SQLite, where a process serves one file, a
# lock in the process (SQLite's write lock keeps two processes' runs apart).
DRAIN_LOCK = 7_403_222
_sqlite_drain = threading.Lock()


@contextmanager
def _one_drain_at_a_time() -> Iterator[None]:
    if db.engine.dialect.name != "postgresql":
        with _sqlite_drain:
            yield
        return
    with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.execute(text(f"SELECT pg_advisory_lock({DRAIN_LOCK})"))
        try:
            yield
        finally:
            connection.execute(text(f"SELECT pg_advisory_unlock({DRAIN_LOCK})"))


def _built() -> bool:
    try:
        return last_success(app_warehouse()) is not None
    except WarehouseUnavailable:
        return False


def _pending() -> list[int]:
    """The ids of the warehouse rows pending now. A run settles exactly these:
    a row whose transaction commits after this read may hold a change the
    run's snapshot misses, so it waits for the next run, even if its id is lower."""
    with db.engine.connect() as connection:
        return list(
            connection.scalars(
                select(OutboxEvent.id).where(
                    OutboxEvent.topic == Topic.WAREHOUSE.value, OutboxEvent.processed_at.is_(None)
                )
            )
        )


def _settle(ids: list[int], error: str | None) -> None:
    """Mark these rows done, or tried and failed with `error`, in one transaction."""
    values: dict[str, Any] = {"attempts": OutboxEvent.attempts + 1}
    if error is None:
        values |= {"processed_at": utcnow(), "last_error": ""}
    else:
        values["last_error"] = error
    with db.engine.begin() as connection:
        for chunk in chunks(sorted(ids)):
            connection.execute(
                update(OutboxEvent)
                .where(OutboxEvent.id.in_(chunk), OutboxEvent.processed_at.is_(None))
                .values(values)
            )


def drain_outbox(*, full: bool = False, run_anyway: bool = False) -> Drained:
    """Bring the warehouse up to date with every pending outbox row in one run.

    The rows pending when the drain starts are covered by one incremental run
    (however many changes they record) and marked done together; rows
    written meanwhile wait for the next drain. A failed run leaves them
    pending, with the attempt counted and the error kept, and raises
    EtlFailed for the caller to retry. An incremental drain waits for a first full run to have
    built the warehouse (`flask etl run --full`, or the nightly run).

    `full` rebuilds everything; `run_anyway` runs even with nothing pending
    (the nightly run and the daily roll of the as-at date)."""
    with _one_drain_at_a_time():
        waiting = len(_pending())
        if not waiting and not run_anyway:
            return Drained(0, None, "nothing pending")
        if not full and not _built():
            return Drained(waiting, None, "the warehouse has not been built yet: run `flask etl run --full`")
        result, settled = _run_and_settle(full)
        return Drained(settled, result)
