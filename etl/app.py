"""The ETL as the Flask app runs it: settings from the app's config, and a
hook that brings the warehouse up to date when a return is accepted or a
contract changes."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import timedelta
from typing import Any

from flask import Flask, current_app, has_app_context
from sqlalchemy import Engine, event
from sqlalchemy.orm import Session

from etl.engine import WarehouseUnavailable, warehouse_engine, warehouse_url_for
from etl.run import Progress, RunResult, Settings, last_success, run_etl
from monitor.clock import today
from monitor.contracts.models import Amendment, Contract, ExtensionOption, FundingLine
from monitor.contracts.renewal import Leads
from monitor.db import db
from monitor.kpis.models import FrameworkItem, Return

log = logging.getLogger(__name__)

# A commit touching any of these changes what the warehouse shows.
WATCHED = (Contract, Amendment, ExtensionOption, FundingLine, FrameworkItem, Return)
PENDING = "etl_pending"


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
    return run_etl(
        db.engine,
        warehouse_url(),
        today=today(),
        full=full,
        settings=settings_from(current_app.config),
        progress=progress,
    )


def install_hook(app: Flask) -> None:
    """After a commit that changed a contract or a return, run the ETL
    incrementally, for apps with ETL_ON_CHANGE. Only once a first run has
    built the warehouse, and never at the cost of the change itself: a
    failure is logged and the next run (cron or the next change) catches up.

    The listeners are on every Session and installed once per process; each
    commit asks its own app whether to run."""
    global _installed
    if _installed:
        return
    _installed = True
    event.listen(Session, "after_flush", _note_changes)
    event.listen(Session, "after_commit", _sync)
    event.listen(Session, "after_rollback", _forget)


_installed = False


def _note_changes(session: Session, _context: object) -> None:
    if any(isinstance(obj, WATCHED) for obj in (*session.new, *session.dirty, *session.deleted)):
        session.info[PENDING] = True


def _forget(session: Session) -> None:
    session.info.pop(PENDING, None)


def _sync(session: Session) -> None:
    if not session.info.pop(PENDING, False) or not has_app_context():
        return
    if not current_app.config.get("ETL_ON_CHANGE"):
        return
    try:
        engine = warehouse_engine(warehouse_url())
        try:
            built = last_success(engine) is not None
        finally:
            engine.dispose()
        if built:
            run_for_app()
    except Exception:
        log.exception("the warehouse could not be brought up to date after a change")
