"""Fault tests: each starts and stops its own Redis and workers on free ports
(never the machine's Redis on 6379 or its PostgreSQL), and shares the worker
tests' process helpers (tests/worker/conftest.py).

The tests also note how long recovery took (`fault_figure`). Nothing is
asserted on those times here; `python -m bench.faults` runs these tests
with FAULT_FIGURES set to a file and reports them."""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Callable, Generator, Iterator
from pathlib import Path

import pytest
from sqlalchemy import MetaData, Table, inspect, select

from etl.schema import WAREHOUSE_SCHEMA
from tests.conftest import WAREHOUSE_AS_AT, Warehouse, _fresh_app, build_warehouse
from tests.worker.conftest import RedisServer

FigureNote = Callable[[str, float], None]


@pytest.fixture
def fault_figure(request: pytest.FixtureRequest, backend: str) -> Iterator[FigureNote]:
    """Note a measured time (seconds) under a name; appended as one JSON line
    to the file FAULT_FIGURES names, when it is set, once the test has passed."""
    noted: list[dict[str, object]] = []

    def note(figure: str, seconds: float) -> None:
        noted.append(
            {"test": request.node.originalname, "backend": backend, "figure": figure, "seconds": seconds}
        )

    yield note
    target = os.environ.get("FAULT_FIGURES")
    report = getattr(request.node, "rep_call", None)
    if target and noted and report is not None and report.passed:
        with open(target, "a", encoding="utf-8") as out:
            out.writelines(json.dumps(row) + "\n" for row in noted)


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    """Keep each phase's report on the test, so a fixture can tell whether it passed."""
    report = yield
    setattr(item, f"rep_{report.when}", report)
    return report


@pytest.fixture
def own_redis(tmp_path: Path) -> Iterator[RedisServer]:
    """A redis-server of this test's own, stopped at the end whatever happens."""
    server = RedisServer(tmp_path)
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def warehouse_on_own_redis(database_url: str, own_redis: RedisServer) -> Iterator[Warehouse]:
    """The demo warehouse as at WAREHOUSE_AS_AT, the app telling workers on `own_redis`."""
    for app in _fresh_app(
        database_url, TODAY=WAREHOUSE_AS_AT, CELERY_BROKER_URL=own_redis.url(), empty=False
    ):
        built = build_warehouse(app)
        yield built
        built.engine.dispose()


def warehouse_state(warehouse: Warehouse) -> dict[str, tuple[int, str]]:
    """Every warehouse table's row count and a digest of its rows, in a stable order."""
    engine = warehouse.engine
    schema = WAREHOUSE_SCHEMA if engine.dialect.name == "postgresql" else None
    state = {}
    with engine.connect() as connection:
        for table in sorted(inspect(connection).get_table_names(schema=schema)):
            reflected = Table(table, MetaData(), schema=schema, autoload_with=connection)
            rows = sorted(repr(tuple(row)) for row in connection.execute(select(reflected)))
            state[table] = (len(rows), hashlib.sha256("\n".join(rows).encode()).hexdigest())
    return state


def last_successful_run(warehouse: Warehouse) -> int:
    rows = warehouse.rows("SELECT max(run_id) AS run_id FROM etl_run WHERE status = 'succeeded'")
    return int(rows[0]["run_id"])
