"""API test helpers: tokens for the demo users and a snapshot of the whole
database, read through its own connection, to prove a refused write changed nothing."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
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


@pytest.fixture
def contract_body(org_id: Callable[[str], int]) -> Callable[..., dict[str, Any]]:
    """A valid new-contract body for LBBD; keyword arguments replace fields."""

    def make(**changes: Any) -> dict[str, Any]:
        body: dict[str, Any] = {
            "reference": "LBBD-DV-100",
            "title": "Community outreach for older women",
            "description": "Outreach in GP surgeries",
            "service_type": "community outreach",
            "category": "supporting",
            "agreement_type": "grant",
            "provider_id": org_id("Refuge"),
            "lead_commissioner_id": org_id("London Borough of Barking and Dagenham"),
            "partner_commissioner_ids": [org_id("NHS Barking and Dagenham CCG")],
            "cohorts": ["older people", "adults"],
            "award_date": "2013-11-15",
            "start_date": "2014-04-01",
            "end_date": "2015-03-31",
            "notice_period_months": 3,
            "annual_value": 45000,
            "total_value": "45000.50",
            "contract_manager": "Community safety commissioning manager, LBBD",
            "option_months": [12, 6],
        }
        body.update(changes)
        return {k: v for k, v in body.items() if v is not ...}

    return make


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
