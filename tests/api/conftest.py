"""API test helpers: tokens for the demo users and a snapshot of the whole
database, read through its own connection, to prove a refused write changed nothing."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select

from monitor.auth.models import Organisation, User
from monitor.auth.services import issue_api_token
from monitor.db import Base, db
from tests.conftest import DEMO_USERS

# Bookkeeping that legitimately changes on every authenticated call.
NOT_SNAPSHOT = {"api_tokens", "login_failures"}

Headers = Callable[[str], dict[str, str]]


def token_for(email: str) -> str:
    with db.transaction() as session:
        user = session.execute(select(User).where(User.email == email)).scalar_one()
        return issue_api_token(session, user)


@pytest.fixture
def headers(demo: object) -> Headers:
    """`headers("lbbd")`: an Authorization header for that demo user."""
    issued: dict[str, dict[str, str]] = {}

    def make(who: str) -> dict[str, str]:
        if who not in issued:
            issued[who] = {"Authorization": f"Bearer {token_for(DEMO_USERS[who])}"}
        return issued[who]

    return make


@pytest.fixture
def user_id(demo: object) -> Callable[[str], int]:
    def lookup(who: str) -> int:
        return db.session.execute(select(User.id).where(User.email == DEMO_USERS[who])).scalar_one()

    return lookup


@pytest.fixture
def org_id(demo: object) -> Callable[[str], int]:
    def lookup(name: str) -> int:
        return db.session.execute(select(Organisation.id).where(Organisation.name == name)).scalar_one()

    return lookup


def snapshot() -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table (but token bookkeeping), in key order."""
    rows: dict[str, list[tuple[Any, ...]]] = {}
    with db.engine.connect() as connection:
        for table in Base.metadata.sorted_tables:
            if table.name in NOT_SNAPSHOT:
                continue
            query = select(table).order_by(*table.primary_key.columns)
            rows[table.name] = [tuple(row) for row in connection.execute(query)]
    return rows


def error_fields(response: Any) -> dict[str, str]:
    """The `errors` list of an error answer, as {field: message}."""
    body = response.get_json()
    assert body is not None, response.data
    return {item["field"]: item["message"] for item in body.get("errors", [])}


def send(
    client: FlaskClient, method: str, url: str, auth: dict[str, str], body: Any = None, **kwargs: Any
) -> Any:
    return client.open(url, method=method, headers=auth, json=body, **kwargs)
