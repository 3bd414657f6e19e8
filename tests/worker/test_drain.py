"""Draining the outbox: many pending changes make one incremental run and are
marked done together; a failed run leaves them pending with the attempt and
the error; a drain waits for the first full run; two drains never run at once."""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select

import etl.app
from etl.app import drain_outbox
from etl.run import EtlFailed
from monitor.audit import Actor, acting_as
from monitor.contracts.models import Contract
from monitor.db import db
from tests.conftest import Warehouse
from tests.worker.helpers import outbox_rows, pending


def _rename(count: int) -> None:
    """`count` contract edits, each in its own transaction."""
    for n in range(count):
        with acting_as(Actor(None, "test")), db.transaction() as session:
            contract = session.scalars(select(Contract).order_by(Contract.id).offset(n)).first()
            assert contract is not None
            contract.title = f"{contract.title} ({n})"


def _runs(warehouse: Warehouse) -> list[Any]:
    return warehouse.rows("SELECT run_id, mode, status FROM etl_run ORDER BY run_id")


def test_pending_changes_are_merged_into_one_run(warehouse: Warehouse) -> None:
    before = _runs(warehouse)
    _rename(3)
    assert len(pending()) == 3
    drained = drain_outbox()
    assert drained.events == 3 and drained.result is not None
    assert (drained.result.mode, drained.result.contracts_changed) == ("incremental", 3)
    new = _runs(warehouse)[len(before) :]
    assert [(r["mode"], r["status"]) for r in new] == [("incremental", "succeeded")]
    rows = outbox_rows()[-3:]
    assert all(r.processed_at is not None and r.attempts == 1 and r.last_error == "" for r in rows)
    assert warehouse.rows("SELECT count(*) AS n FROM dim_contract WHERE title LIKE '%(0)'")[0]["n"] >= 1
    # Nothing pending: nothing to run.
    again = drain_outbox()
    assert (again.events, again.result, again.skipped) == (0, None, "nothing pending")
    assert len(_runs(warehouse)) == len(before) + 1


def test_a_failed_run_leaves_the_rows_pending_with_the_error(
    warehouse: Warehouse, monkeypatch: pytest.MonkeyPatch
) -> None:
    _rename(2)

    def broken(*_args: object, **_kwargs: object) -> None:
        raise EtlFailed("data-quality checks failed: funding reconciles: 2013/14 is out by 1000")

    monkeypatch.setattr(etl.app, "run_etl", broken)
    for attempt in (1, 2):
        with pytest.raises(EtlFailed, match="funding reconciles"):
            drain_outbox()
        rows = pending()
        assert len(rows) == 2
        assert all(r.attempts == attempt for r in rows)
        assert all(r.last_error.startswith("EtlFailed: data-quality checks failed") for r in rows)
    monkeypatch.undo()
    assert drain_outbox().events == 2
    assert pending() == []


def test_changes_wait_for_the_first_full_run(warehouse_app: Flask) -> None:
    from monitor.demo import load_demo

    load_demo(db)
    db.session.remove()
    _rename(1)
    waiting = len(pending())
    assert waiting >= 1  # loading the demo wrote rows too
    drained = drain_outbox()
    assert drained.result is None and "flask etl run --full" in drained.skipped
    assert len(pending()) == waiting
    # The nightly full run builds it, and covers every change before it.
    full = drain_outbox(full=True, run_anyway=True)
    assert full.result is not None and full.result.mode == "full" and full.events == waiting
    assert pending() == []


def test_two_drains_never_run_the_etl_at_once(warehouse: Warehouse, monkeypatch: pytest.MonkeyPatch) -> None:
    real = etl.app.run_etl
    running = 0
    most = 0
    guard = threading.Lock()

    def slow(*args: Any, **kwargs: Any) -> Any:
        nonlocal running, most
        with guard:
            running += 1
            most = max(most, running)
        try:
            time.sleep(0.5)
            return real(*args, **kwargs)
        finally:
            with guard:
                running -= 1

    monkeypatch.setattr(etl.app, "run_etl", slow)
    _rename(1)
    app = warehouse.app
    errors: list[BaseException] = []

    def drain() -> None:
        try:
            with app.app_context():
                drain_outbox(run_anyway=True)
        except BaseException as error:  # reported by the assertion below
            errors.append(error)

    threads = [threading.Thread(target=drain) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert errors == [] and most == 1
    assert pending() == []
