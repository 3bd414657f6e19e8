"""Which changes write a warehouse outbox row, on SQLite and PostgreSQL: one
row per transaction that changes what the warehouse reads, none for drafts,
uploads, queries or a change rolled back."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest
from bs4 import BeautifulSoup
from sqlalchemy import func, insert, select

from monitor.audit import Actor, acting_as
from monitor.auth.models import Organisation, Partnership
from monitor.contracts.models import Contract, FundingLine
from monitor.db import db
from monitor.demo import DEMO_PASSWORD
from monitor.kpis.models import Return, ReturnEvent, ReturnVersion
from monitor.kpis.returns.services import accept_return, query_return, reopen_return
from monitor.kpis.vocabulary import EventKind, ReturnState
from monitor.outbox import warehouse_reasons
from tests.conftest import WAREHOUSE_AS_AT, Warehouse, _fresh_app, build_warehouse
from tests.worker.helpers import a_return, outbox_rows, pending, reviewer_of


def _review(action: Any, state: ReturnState, *args: str) -> Return:
    ret = a_return(state)
    reviewer = reviewer_of(ret)
    with acting_as(Actor(reviewer.id, reviewer.email)), db.transaction() as session:
        row = session.get(Return, ret.id)
        assert row is not None
        action(session, reviewer, row, *args)
    return ret


def test_the_built_warehouse_starts_with_nothing_pending(warehouse: Warehouse) -> None:
    # The full run that built it covered every change before it.
    assert pending() == []


def test_accepting_a_return_writes_one_row(warehouse: Warehouse) -> None:
    ret = _review(accept_return, ReturnState.SUBMITTED)
    (row,) = pending()
    assert (row.topic, row.reason, row.attempts, row.last_error) == (
        "warehouse",
        f"return {ret.id} accepted",
        0,
        "",
    )


def test_reopening_an_accepted_return_writes_one_row(warehouse: Warehouse) -> None:
    ret = _review(reopen_return, ReturnState.ACCEPTED, "Caseload restated")
    assert [row.reason for row in pending()] == [f"return {ret.id} reopened"]


def test_a_query_writes_no_row(warehouse: Warehouse) -> None:
    _review(query_return, ReturnState.SUBMITTED, "Police referrals look high; please check.")
    assert pending() == []


def test_an_upload_or_a_draft_writes_no_row(warehouse: Warehouse) -> None:
    """A new version (draft, then submitted) with its event, as an upload stores it."""
    ret = a_return(ReturnState.QUERIED) if _any(ReturnState.QUERIED) else a_return(ReturnState.SUBMITTED)
    for submitted, state in ((False, ret.state), (True, ReturnState.RESUBMITTED.value)):
        with acting_as(Actor(None, "test upload")), db.transaction() as session:
            row = session.get(Return, ret.id)
            assert row is not None
            latest = session.scalar(
                select(func.max(ReturnVersion.number)).where(ReturnVersion.return_id == row.id)
            )
            number = (latest or 0) + 1
            session.execute(
                insert(ReturnVersion),
                {
                    "return_id": row.id,
                    "number": number,
                    "filename": "return.xlsx",
                    "content": b"test",
                    "sha256": "0" * 64,
                    "size_bytes": 4,
                    "template_version": "test",
                    "submitted": submitted,
                },
            )
            row.state = state
            session.add(
                ReturnEvent(
                    return_id=row.id,
                    kind=(EventKind.RESUBMITTED if submitted else EventKind.DRAFT).value,
                    comment="",
                    version_number=number,
                )
            )
    assert pending() == []


def _any(state: ReturnState) -> bool:
    return db.session.scalars(select(Return.id).where(Return.state == state.value)).first() is not None


def test_a_contract_edit_writes_one_row_however_many_flushes(warehouse: Warehouse) -> None:
    with acting_as(Actor(None, "test")), db.transaction() as session:
        contract = session.scalars(select(Contract).order_by(Contract.id)).first()
        assert contract is not None
        contract.title = contract.title + " (renamed)"
        session.flush()
        line = session.scalars(select(FundingLine).where(FundingLine.contract_id == contract.id)).first()
        assert line is not None
        line.amount = Decimal("1000.00")
    (row,) = pending()
    assert row.reason == f"contract {contract.id} changed; funding line {line.id} changed"


def test_a_change_rolled_back_writes_no_row(warehouse: Warehouse) -> None:
    with pytest.raises(RuntimeError), acting_as(Actor(None, "test")), db.transaction() as session:
        contract = session.scalars(select(Contract).order_by(Contract.id)).first()
        assert contract is not None
        contract.title = "never saved"
        session.flush()
        raise RuntimeError("the user's change fails part way")
    # The next transaction, which changes nothing the warehouse reads, writes none either.
    with db.transaction() as session:
        session.scalars(select(Contract)).all()
    assert pending() == []


def test_only_warehouse_changes_have_reasons() -> None:
    never_modified = lambda _obj: False  # noqa: E731
    assert warehouse_reasons([object()], [], [], never_modified) == []
    contract = Contract(id=7)
    assert warehouse_reasons([contract], [], [], never_modified) == ["contract 7 added"]
    assert warehouse_reasons([], [contract], [], never_modified) == []  # dirty but unchanged
    assert warehouse_reasons([], [], [contract], never_modified) == ["contract 7 deleted"]
    assert warehouse_reasons([Return(id=3, state="draft")], [], [], never_modified) == []
    assert warehouse_reasons([Return(id=3, state="accepted")], [], [], never_modified) == [
        "return 3 added as accepted"
    ]


# -- Redis down ------------------------------------------------------------------------------


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def broker_down(database_url: str) -> Iterator[Warehouse]:
    """The demo warehouse, with the broker at a port where nothing listens."""
    url = f"redis://127.0.0.1:{_closed_port()}/0"
    for app in _fresh_app(database_url, TODAY=WAREHOUSE_AS_AT, CELERY_BROKER_URL=url, empty=False):
        built = build_warehouse(app)
        yield built
        built.engine.dispose()


def test_with_the_broker_down_an_acceptance_still_commits_quickly(broker_down: Warehouse) -> None:
    client = broker_down.app.test_client()
    ret = a_return(ReturnState.SUBMITTED)
    reviewer = reviewer_of(ret)
    url = f"/contracts/{ret.contract_id}/returns/{ret.period}"
    assert (
        client.post("/sign-in", data={"email": reviewer.email, "password": DEMO_PASSWORD}).status_code == 302
    )
    page = BeautifulSoup(client.get(url).get_data(as_text=True), "html.parser")
    revision = page.select_one('input[name="revision"]')  # the review page's decision form
    assert revision is not None
    started = time.perf_counter()
    response = client.post(f"{url}/accept", data={"accept-revision": revision["value"]})
    took = time.perf_counter() - started
    assert response.status_code == 302
    assert took < 1.5, f"the acceptance waited {took:.1f}s on the broker"
    db.session.expire_all()
    stored = db.session.get(Return, ret.id)
    assert stored is not None and stored.state == ReturnState.ACCEPTED.value
    assert [row.reason for row in pending()] == [f"return {ret.id} accepted"]
    # Telling the worker failed in the background; the row waits for the scheduled drain.
    assert broker_down.app.extensions["outbox.notify"].wait(30)


def test_rows_are_kept_after_they_are_drained(warehouse: Warehouse) -> None:
    from etl.app import drain_outbox

    _review(accept_return, ReturnState.SUBMITTED)
    drain_outbox()
    assert pending() == [] and len(outbox_rows()) >= 1


def test_organisation_and_partnership_changes_write_a_row_each(warehouse: Warehouse) -> None:
    with acting_as(Actor(None, "test")), db.transaction() as session:
        board = session.scalars(select(Partnership).order_by(Partnership.id)).first()
        assert board is not None
        board.members = board.members[:-1]  # only the membership changes
    with acting_as(Actor(None, "test")), db.transaction() as session:
        council = session.scalars(select(Organisation).order_by(Organisation.id)).first()
        assert council is not None
        council.name = council.name + " (renamed)"
    assert [row.reason for row in pending()] == [
        f"partnership {board.id} changed",
        f"organisation {council.id} changed",
    ]
