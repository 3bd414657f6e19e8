"""Your account: details, sign-in history in UK time, API tokens, signing out everywhere."""

from __future__ import annotations

from datetime import datetime

from bs4 import BeautifulSoup
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from monitor.auth.models import SignInEvent, SignInMethod, SignInOutcome
from monitor.db import db
from tests.conftest import DEMO_USERS, Auth
from tests.people.helpers import audit_rows, person
from tests.people.test_lifecycle import API_URL, api_token, bearer


def history_rows(client: FlaskClient) -> list[list[str]]:
    page = BeautifulSoup(client.get("/account").get_data(as_text=True), "html.parser")
    return [
        [cell.get_text(strip=True) for cell in row.select("td")]
        for row in page.select("table.app-history tbody tr")
    ]


def test_your_account_shows_details_history_in_uk_time_and_links(
    demo: Flask, client: FlaskClient, auth: Auth
) -> None:
    refuge = person(DEMO_USERS["refuge"])
    with db.transaction() as session:
        # Stored in UTC: 11:30 on a summer day is 12:30 in London (BST), in winter the same.
        for at, outcome in [
            (datetime(2013, 7, 1, 11, 30), SignInOutcome.SIGNED_IN),
            (datetime(2013, 11, 20, 9, 5), SignInOutcome.FAILED),
        ]:
            session.add(
                SignInEvent(
                    user_id=refuge.id,
                    at=at,
                    method=SignInMethod.PASSWORD,
                    outcome=outcome,
                    client_address="192.0.2.7",
                )
            )
    auth.sign_in(DEMO_USERS["refuge"])
    response = client.get("/account")
    assert response.status_code == 200
    page = BeautifulSoup(response.get_data(as_text=True), "html.parser")
    details = {
        key.get_text(strip=True): value.get_text(" ", strip=True)
        for key, value in zip(
            page.select(".govuk-summary-list__key"), page.select(".govuk-summary-list__value"), strict=True
        )
    }
    assert details["Email address"] == DEMO_USERS["refuge"]
    assert details["Role"] == "Provider" and details["Organisation"] == "Refuge"
    assert details["Two-factor authentication"] == "Off"
    links = {a.get_text(" ", strip=True): a["href"] for a in page.select(".govuk-summary-list__actions a")}
    assert links.get("Change your password") == "/account/password"
    assert links.get("Manage two-factor authentication") == "/account/two-factor"
    assert [th.get_text(strip=True) for th in page.select("table.app-history thead th")] == [
        "When",
        "How",
        "Outcome",
        "Client address",
    ]
    # On a small screen each row is a card: every body cell names its column.
    assert "app-table--stacked" in page.select_one("table.app-history")["class"]
    assert {
        tuple(cell["data-label"] for cell in row.select("td"))
        for row in page.select("table.app-history tbody tr")
    } == {("When", "How", "Outcome", "Client address")}
    rows = history_rows(client)
    assert ["20 November 2013 at 9:05am", "Password", "Failed", "192.0.2.7"] in rows
    assert ["1 July 2013 at 12:30pm", "Password", "Signed in", "192.0.2.7"] in rows
    assert rows.index(["20 November 2013 at 9:05am", "Password", "Failed", "192.0.2.7"]) < rows.index(
        ["1 July 2013 at 12:30pm", "Password", "Signed in", "192.0.2.7"]
    )
    assert "Your account" in client.get("/contracts").get_data(as_text=True)


def test_sign_out_everywhere_ends_every_session(demo: Flask, client: FlaskClient, auth: Auth) -> None:
    laptop = demo.test_client()
    Auth(laptop).sign_in(DEMO_USERS["lbbd"])
    auth.sign_in(DEMO_USERS["lbbd"])
    assert laptop.get("/contracts").status_code == 200
    before = person(DEMO_USERS["lbbd"]).session_epoch
    done = client.post("/account/sign-out-everywhere")
    assert done.status_code == 302 and done.headers["Location"].startswith("/sign-in")
    assert "signed out everywhere" in client.get("/sign-in").get_data(as_text=True)
    assert client.get("/contracts").status_code == 302  # this session
    assert laptop.get("/contracts").status_code == 302  # and the other one
    lbbd = person(DEMO_USERS["lbbd"])
    assert lbbd.session_epoch == before + 1
    assert audit_rows("user", lbbd.id)[-1]["changes"]["session_epoch"] == [before, before + 1]
    outcomes = db.session.scalars(select(SignInEvent.outcome).where(SignInEvent.user_id == lbbd.id)).all()
    assert "signed_out_everywhere" in outcomes
    # Signing in again works, and the history says what happened.
    auth.sign_in(DEMO_USERS["lbbd"])
    assert client.get("/contracts").status_code == 200
    assert any(row[2] == "Signed out everywhere" for row in history_rows(client))
    # Real sign-ins are in it too, with the client's address.
    assert ["Password", "Signed in", "127.0.0.1"] in [row[1:] for row in history_rows(client)]


def test_revoking_your_own_api_token(demo: Flask, client: FlaskClient, auth: Auth) -> None:
    value, token_id = api_token(DEMO_USERS["lbbd"])
    _, someone_elses = api_token(DEMO_USERS["ccg"])
    auth.sign_in(DEMO_USERS["lbbd"])
    assert "Working" in client.get("/account").get_data(as_text=True)
    assert client.post(f"/account/api-tokens/{someone_elses}/revoke").status_code == 404
    assert client.post("/account/api-tokens/999999/revoke").status_code == 404
    assert client.post(f"/account/api-tokens/{token_id}/revoke").status_code == 302
    assert client.get(API_URL, headers=bearer(value)).status_code == 401
    assert "Revoked" in client.get("/account").get_data(as_text=True)
    assert audit_rows("api_token", token_id)[-1]["actor"] == DEMO_USERS["lbbd"]
