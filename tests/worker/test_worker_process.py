"""End to end: a real `celery -A monitor.worker worker` on the machine's Redis
(a database index of its own, emptied before and after) brings the warehouse
up to date after a commissioner accepts a return in the app."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis
from bs4 import BeautifulSoup

from monitor.demo import DEMO_PASSWORD
from monitor.kpis.vocabulary import ReturnState
from tests.conftest import WAREHOUSE_AS_AT, Warehouse, _fresh_app, build_warehouse
from tests.worker.conftest import start_worker, stop_process, worker_environment
from tests.worker.helpers import a_return, pending, reviewer_of

# Redis databases 11 (SQLite) and 12 (PostgreSQL) are this test's alone, one
# per backend as the backends' runs go side by side; nothing else on the
# machine's Redis is touched.
BROKERS = {"sqlite": "redis://127.0.0.1:6379/11", "postgresql": "redis://127.0.0.1:6379/12"}
LAG_SECONDS = 60


def _empty_broker(broker: str) -> None:
    client = redis.Redis.from_url(broker, socket_connect_timeout=2)
    try:
        client.flushdb()
    finally:
        client.close()


@pytest.fixture
def on_redis(database_url: str, backend: str) -> Iterator[Warehouse]:
    """The demo warehouse, with the app telling a worker on the backend's Redis database."""
    broker = BROKERS[backend]
    _empty_broker(broker)
    for app in _fresh_app(database_url, TODAY=WAREHOUSE_AS_AT, CELERY_BROKER_URL=broker, empty=False):
        built = build_warehouse(app)
        yield built
        built.engine.dispose()
    _empty_broker(broker)


@pytest.fixture
def worker(on_redis: Warehouse, tmp_path: Path) -> Iterator[Path]:
    """A worker process on the test's database; its log is the fixture's value."""
    log = tmp_path / "worker.log"
    env = worker_environment(
        on_redis.app.config["DATABASE_URL"], on_redis.app.config["CELERY_BROKER_URL"], WAREHOUSE_AS_AT
    )
    process = start_worker(env, log)
    try:
        yield log
    finally:
        stop_process(process)


def test_an_accepted_return_reaches_the_warehouse_through_the_worker(
    on_redis: Warehouse, worker: Path
) -> None:
    ret = a_return(ReturnState.SUBMITTED)
    reviewer = reviewer_of(ret)
    sql = (
        "SELECT count(*) AS n FROM fact_kpi_result WHERE contract_id = :contract_id AND period_key = :period"
    )
    key = {"contract_id": ret.contract_id, "period": ret.period}
    assert on_redis.rows(sql, **key)[0]["n"] == 0

    client = on_redis.app.test_client()
    assert (
        client.post("/sign-in", data={"email": reviewer.email, "password": DEMO_PASSWORD}).status_code == 302
    )
    url = f"/contracts/{ret.contract_id}/returns/{ret.period}"
    page = BeautifulSoup(client.get(url).get_data(as_text=True), "html.parser")
    revision = page.select_one('input[name="revision"]')  # the review page's decision form
    assert revision is not None
    assert client.post(f"{url}/accept", data={"accept-revision": revision["value"]}).status_code == 302
    accepted_at = time.monotonic()

    while on_redis.rows(sql, **key)[0]["n"] == 0:
        assert time.monotonic() - accepted_at < LAG_SECONDS, (
            f"the warehouse did not show the return within {LAG_SECONDS}s; the worker said:\n"
            + worker.read_text(errors="replace")
        )
        time.sleep(0.5)
    # The worker marks the row done once the run has committed, then says so.
    deadline = time.monotonic() + 10
    while (pending() or '"event": "warehouse refreshed"' not in worker.read_text(errors="replace")) and (
        time.monotonic() < deadline
    ):
        time.sleep(0.2)
    assert pending() == []
    said = worker.read_text(errors="replace")
    assert '"event": "warehouse refreshed"' in said
    assert "Retry in" not in said and "ERROR" not in said, said
