"""The database connection is terminated (pg_terminate_backend) inside the
transaction that stores an upload, after the version, its figures and its
event have been written to it: the user gets a clear answer saying nothing
was saved, nothing of the upload is stored, and sending it again works.

PostgreSQL only: SQLite has no server connection to lose."""

from __future__ import annotations

import io
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import create_engine, func, select, text
from sqlalchemy.orm import Session
from werkzeug.test import TestResponse

from monitor.kpis.models import Return, ReturnEvent, ReturnValue, ReturnVersion
from monitor.kpis.returns import services
from monitor.outbox import OutboxEvent
from tests.api.conftest import Headers, headers  # noqa: F401 - fixture
from tests.conftest import DEMO_USERS, Auth
from tests.faults.conftest import FigureNote
from tests.kpis.conftest import frameworks, library  # noqa: F401 - fixtures
from tests.kpis.test_returns_builders import REFUGE, contract, refuge_workbook

PERIOD = "2013-14-Q1"
STORED_TABLES = (Return, ReturnVersion, ReturnValue, ReturnEvent, OutboxEvent)


@dataclass(frozen=True)
class LostConnection:
    counts: Callable[[], dict[str, int]]  # the rows an upload stores, read on a connection of its own
    restore: Callable[[], None]  # uploads keep their connection again


@pytest.fixture
def postgresql_only(backend: str) -> None:
    if backend != "postgresql":
        pytest.skip("SQLite has no server connection to terminate; the fault is PostgreSQL's")


@pytest.fixture
def lost_connection(
    postgresql_only: None,
    frameworks: Flask,  # noqa: F811 - the imported fixture
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[LostConnection]:
    """Every upload stored while this is active loses its database connection
    just before it commits."""
    # As in production: an unexpected error reaches the app's error handlers, not the test.
    frameworks.config["PROPAGATE_EXCEPTIONS"] = False
    url = frameworks.config["DATABASE_URL"]
    killer = create_engine(url, isolation_level="AUTOCOMMIT")
    store = services.store_version

    def store_then_lose_the_connection(session: Session, *args: Any, **kwargs: Any) -> Any:
        version = store(session, *args, **kwargs)
        session.flush()  # the version, its values and its event are in the transaction
        pid = session.execute(text("SELECT pg_backend_pid()")).scalar_one()
        with killer.connect() as connection:
            connection.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
        return version

    def counts() -> dict[str, int]:
        with killer.connect() as connection:
            return {
                model.__tablename__: connection.scalar(select(func.count()).select_from(model)) or 0
                for model in STORED_TABLES
            }

    monkeypatch.setattr(services, "store_version", store_then_lose_the_connection)
    try:
        yield LostConnection(counts, lambda: monkeypatch.setattr(services, "store_version", store))
    finally:
        killer.dispose()


def _workbook() -> tuple[io.BytesIO, str]:
    return io.BytesIO(refuge_workbook()), "refuge-q1.xlsx"


def _upload_on_the_web(client: FlaskClient, auth: Auth) -> TestResponse:
    assert auth.sign_in(DEMO_USERS["refuge"]).status_code == 302
    return client.post(
        f"/contracts/{contract(REFUGE).id}/returns/{PERIOD}/upload",
        data={"file": _workbook(), "submit_return": "Check and submit"},
        content_type="multipart/form-data",
    )


def _upload_through_the_api(client: FlaskClient, headers: Headers) -> TestResponse:  # noqa: F811
    return client.post(
        f"/api/v1/contracts/{contract(REFUGE).id}/returns/{PERIOD}",
        data={"file": _workbook()},
        content_type="multipart/form-data",
        headers=headers("refuge"),
    )


def test_the_web_upload_says_nothing_was_saved_and_stores_nothing(
    lost_connection: LostConnection, client: FlaskClient, auth: Auth
) -> None:
    before = lost_connection.counts()
    response = _upload_on_the_web(client, auth)
    page = response.get_data(as_text=True)
    assert "Traceback" not in page and "OperationalError" not in page and "psycopg" not in page
    assert "Nothing was saved" in page and "send it again" in page
    assert lost_connection.counts() == before

    lost_connection.restore()
    again = _upload_on_the_web(client, auth)
    assert again.status_code == 302, again.get_data(as_text=True)
    after = lost_connection.counts()
    assert after["return_versions"] == before["return_versions"] + 1


def test_the_api_upload_says_nothing_was_saved_and_stores_nothing(
    lost_connection: LostConnection,
    client: FlaskClient,
    headers: Headers,  # noqa: F811 - the imported fixture
) -> None:
    before = lost_connection.counts()
    response = _upload_through_the_api(client, headers)
    body = response.get_data(as_text=True)
    assert "Traceback" not in body and "OperationalError" not in body and "psycopg" not in body
    assert response.is_json and response.get_json()["message"]
    assert lost_connection.counts() == before

    lost_connection.restore()
    again = _upload_through_the_api(client, headers)
    assert again.status_code == 201, again.get_json()
    assert lost_connection.counts()["return_versions"] == before["return_versions"] + 1


def test_a_lost_connection_is_a_503_saying_nothing_was_saved(
    lost_connection: LostConnection,
    client: FlaskClient,
    auth: Auth,
    headers: Headers,  # noqa: F811 - the imported fixture
    fault_figure: FigureNote,
) -> None:
    started = time.monotonic()
    api = _upload_through_the_api(client, headers)
    fault_figure("API upload answered after its connection was terminated", time.monotonic() - started)
    started = time.monotonic()
    web = _upload_on_the_web(client, auth)
    fault_figure(
        "web sign-in and upload answered after its connection was terminated", time.monotonic() - started
    )
    assert (web.status_code, api.status_code) == (503, 503)
    assert "Nothing was saved" in api.get_json()["message"]
