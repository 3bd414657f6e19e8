"""Redis stops while providers upload and commissioners accept: every change
commits at once (the outbox row is the promise, the message only a
hurry-up), the rows pile up, and when Redis is back a worker with its
scheduled drain brings the warehouse up to date."""

from __future__ import annotations

import io
import time
import zipfile
from pathlib import Path

from sqlalchemy import func, select

from monitor.auth.models import Role, User
from monitor.db import db
from monitor.kpis.models import Return, ReturnVersion
from monitor.kpis.vocabulary import ReturnState
from tests.api.conftest import token_for
from tests.conftest import WAREHOUSE_AS_AT, Warehouse
from tests.faults.conftest import FigureNote
from tests.worker.conftest import RedisServer, start_worker, stop_process, worker_environment
from tests.worker.helpers import pending, reviewer_of

RETURNS = 2  # the demo's returns under review whose provider has a user
# A request never waits on the broker: the nudge is sent from a thread of its own.
QUICK_SECONDS = 3
DRAIN_SECONDS = 60
FACTS = "SELECT count(*) AS n FROM fact_kpi_result WHERE contract_id = :contract_id AND period_key = :period"


def _resent(workbook: bytes) -> bytes:
    """The same workbook as new bytes (a zip comment), so it is stored as a new version."""
    out = io.BytesIO()
    with (
        zipfile.ZipFile(io.BytesIO(workbook)) as source,
        zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as copy,
    ):
        for item in source.infolist():
            copy.writestr(item, source.read(item.filename))
        copy.comment = b"sent again while Redis was down"
    return out.getvalue()


def _latest_content(ret: Return) -> bytes:
    assert ret.latest is not None
    return ret.latest.content


def _provider_of(ret: Return) -> User | None:
    return db.session.scalars(
        select(User)
        .where(User.role == Role.PROVIDER, User.organisation_id == ret.contract.provider_id)
        .order_by(User.id)
    ).first()


def test_changes_commit_while_redis_is_down_and_the_outbox_drains_when_it_is_back(
    warehouse_on_own_redis: Warehouse, own_redis: RedisServer, tmp_path: Path, fault_figure: FigureNote
) -> None:
    warehouse = warehouse_on_own_redis
    waiting = db.session.scalars(
        select(Return)
        .where(Return.state.in_([ReturnState.SUBMITTED.value, ReturnState.QUERIED.value]))
        .order_by(Return.id)
    )
    work = [
        (ret.id, ret.contract_id, ret.period, _latest_content(ret), provider, reviewer_of(ret))
        for ret in waiting
        if (provider := _provider_of(ret)) is not None
    ][:RETURNS]
    assert len(work) == RETURNS, "the demo has too few returns under review whose provider has a user"
    versions_before = db.session.scalar(select(func.count(ReturnVersion.id))) or 0
    client = warehouse.app.test_client()

    own_redis.stop()
    for _id, contract_id, period, content, provider, reviewer in work:
        url = f"/api/v1/contracts/{contract_id}/returns/{period}"
        started = time.monotonic()
        uploaded = client.post(
            url,
            data={"file": (io.BytesIO(_resent(content)), "resent.xlsx"), "submit": "true"},
            content_type="multipart/form-data",
            headers={"Authorization": f"Bearer {token_for(provider.email)}"},
        )
        assert uploaded.status_code == 201, uploaded.get_json()
        revision = client.get(
            url, headers={"Authorization": f"Bearer {token_for(reviewer.email)}"}
        ).get_json()["revision"]
        accepted = client.post(
            f"{url}/accept",
            json={"revision": revision},
            headers={"Authorization": f"Bearer {token_for(reviewer.email)}"},
        )
        assert accepted.status_code == 200, accepted.get_json()
        took = time.monotonic() - started
        fault_figure("upload, read and accept with Redis down", took)
        assert took < QUICK_SECONDS

    db.session.expire_all()
    assert db.session.scalar(select(func.count(ReturnVersion.id))) == versions_before + RETURNS
    states = db.session.scalars(select(Return.state).where(Return.id.in_([w[0] for w in work])))
    assert set(states) == {ReturnState.ACCEPTED.value}
    piled_up = pending()
    assert len(piled_up) == RETURNS  # one per acceptance; uploads of a return under review write none
    for _id, contract_id, period, *_ in work:
        assert warehouse.rows(FACTS, contract_id=contract_id, period=period)[0]["n"] == 0

    own_redis.start()
    log = tmp_path / "worker.log"
    env = worker_environment(
        warehouse.app.config["DATABASE_URL"], own_redis.url(), WAREHOUSE_AS_AT, SCHEDULE_DRAIN_SECONDS="2"
    )
    # The worker with its beat: nothing told it of the changes, the scheduled drain finds them.
    worker = start_worker(env, log, options=("--beat", "--schedule", str(tmp_path / "beat-schedule")))
    started = time.monotonic()
    try:
        deadline = time.monotonic() + DRAIN_SECONDS
        while pending():
            assert time.monotonic() < deadline, "the outbox did not drain:\n" + log.read_text(
                errors="replace"
            )
            time.sleep(0.5)
        fault_figure("outbox drained after Redis and a worker are back", time.monotonic() - started)
        for _id, contract_id, period, *_ in work:
            assert warehouse.rows(FACTS, contract_id=contract_id, period=period)[0]["n"] > 0
        said = log.read_text(errors="replace")
        assert '"event": "warehouse refreshed"' in said, said
    finally:
        stop_process(worker)
