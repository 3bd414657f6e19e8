"""The sign-in page: email first, the lockout (warning, minutes, the same answer
for unknown and real addresses), sign-in history, idle timeout and epochs."""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select, update

from monitor import secret_box
from monitor.auth.lockout import Throttle, lock_state_from, minutes_left, unlock_account
from monitor.auth.models import LoginFailure, Organisation, User
from monitor.clock import real_utcnow as utcnow  # security timing keeps the real clock
from monitor.db import db
from monitor.demo import DEMO_PASSWORD
from monitor.sso.models import SsoDomain, SsoSettings
from tests.auth.helpers import first_error, page_of, sign_in_history, user_row
from tests.conftest import DEMO_USERS, Auth

UNKNOWN = "nobody-here@lbbd.demo.example"


def _age_failures(email: str, by: timedelta) -> None:
    """Move an address's failed attempts into the past, as if time had passed."""
    failures = db.session.scalars(select(LoginFailure).where(LoginFailure.email == email)).all()
    for failure in failures:
        failure.at = failure.at - by
    db.session.commit()


def test_the_page_asks_for_the_email_address_first(demo: Flask, client: FlaskClient) -> None:
    page = page_of(client.get("/sign-in"))
    assert page.select_one("h1").get_text(strip=True) == "Sign in"
    assert page.select_one("label[for=email]").get_text(strip=True) == "Email address"
    assert page.select_one("button").get_text(strip=True) == "Continue"
    assert page.select_one("input[name=password]") is None
    assert page.find("a", string="Forgot your password?")["href"] == "/forgot-password"

    answer = client.post("/sign-in?next=/renewals", data={"email": " Commissioner@LBBD.demo.example "})
    assert answer.status_code == 200
    page = page_of(answer)
    assert page.select_one("h1").get_text(strip=True) == "Enter your password"
    assert DEMO_USERS["lbbd"] in page.select_one(".govuk-summary-list").get_text()
    change = page.select_one(".govuk-summary-list__actions a")["href"]
    assert parse_qs(urlsplit(change).query) == {"email": [DEMO_USERS["lbbd"]], "next": ["/renewals"]}
    assert page.select_one("input[name=email]")["type"] == "hidden"
    assert page.select_one("input[name=password]") is not None
    assert page.find("a", string="Forgot your password?") is not None
    # Change: the email question again, filled in.
    assert page_of(client.get(change)).select_one("input[name=email]")["value"] == DEMO_USERS["lbbd"]

    signed_in = client.post(
        "/sign-in?next=/renewals", data={"email": DEMO_USERS["lbbd"], "password": DEMO_PASSWORD}
    )
    assert signed_in.status_code == 302 and signed_in.headers["Location"] == "/renewals"


def test_an_empty_email_is_asked_for_again(demo: Flask, client: FlaskClient) -> None:
    response = client.post("/sign-in", data={"email": "  "})
    assert response.status_code == 400
    assert first_error(response) == "Enter your email address"


def test_an_address_whose_domain_uses_single_sign_on_gets_a_link_to_it(
    demo: Flask, client: FlaskClient
) -> None:
    organisation = db.session.execute(
        select(Organisation).where(Organisation.name == "Halton Borough Council")
    ).scalar_one()
    settings = SsoSettings(
        organisation_id=organisation.id,
        issuer="https://login.example.org/halton",
        client_id="monitor",
        client_secret_encrypted=secret_box.encrypt("client-secret"),
        domains=[SsoDomain(domain="halton.gov.example")],
    )
    db.session.add(settings)
    db.session.commit()

    response = client.post("/sign-in?next=/renewals", data={"email": "Jo.Bloggs@Halton.gov.example"})
    assert response.status_code == 200
    page = page_of(response)
    link = page.find("a", string="Continue to Halton Borough Council sign-in")
    assert link is not None
    target = urlsplit(link["href"])
    assert target.path == f"/sso/{organisation.id}/start"
    assert parse_qs(target.query) == {"email": ["jo.bloggs@halton.gov.example"], "next": ["/renewals"]}
    assert page.select_one("input[name=password]") is None
    # A crafted next is not passed on.
    crafted = page_of(client.post("/sign-in?next=//evil.example", data={"email": "jo@halton.gov.example"}))
    href = crafted.find("a", string="Continue to Halton Borough Council sign-in")["href"]
    assert parse_qs(urlsplit(href).query)["next"] == ["/"]
    # Other domains still get the password step.
    other = page_of(client.post("/sign-in", data={"email": DEMO_USERS["lbbd"]}))
    assert other.select_one("input[name=password]") is not None


def test_a_wrong_password_and_an_unknown_address_get_the_same_answer(demo: Flask, auth: Auth) -> None:
    known = auth.sign_in(DEMO_USERS["refuge"], "guess-guess-guess")
    unknown = auth.sign_in(UNKNOWN, "guess-guess-guess")
    assert known.status_code == unknown.status_code == 400
    assert first_error(known) == first_error(unknown) == "Enter a correct email address and password"
    assert sign_in_history(DEMO_USERS["refuge"]) == [("password", "failed")]


def test_a_warning_when_one_attempt_is_left_then_the_lock_with_its_minutes(demo: Flask, auth: Auth) -> None:
    assert demo.config["LOGIN_MAX_FAILURES"] == 5 and demo.config["LOGIN_LOCKOUT_MINUTES"] == 15
    answers: dict[str, list[str]] = {}
    for email in (DEMO_USERS["refuge"], UNKNOWN):
        answers[email] = [first_error(auth.sign_in(email, "guess-guess-guess")) for _ in range(6)]
        # The right password during the lock is refused the same way.
        answers[email].append(first_error(auth.sign_in(email)))
    assert answers[DEMO_USERS["refuge"]] == answers[UNKNOWN]
    messages = answers[UNKNOWN]
    assert messages[:3] == ["Enter a correct email address and password"] * 3
    assert messages[3] == (
        "Enter a correct email address and password. You have one more attempt: after another wrong one, "
        "signing in with this email address will be locked for 15 minutes."
    )
    locked = "Signing in with this email address is locked after too many failed attempts. Try again in 15 minutes."
    assert messages[4:] == [locked] * 3

    user = user_row(DEMO_USERS["refuge"])
    assert user.locked_until is not None and user.failed_logins == 0
    assert (
        sign_in_history(DEMO_USERS["refuge"]) == [("password", "failed")] * 4 + [("password", "locked")] * 3
    )

    # Half a minute on: still 15 (14.5 rounded up); 14 minutes 30 seconds on: 1.
    for email in (DEMO_USERS["refuge"], UNKNOWN):
        _age_failures(email, timedelta(seconds=30))
    assert "Try again in 15 minutes." in first_error(auth.sign_in(UNKNOWN))
    for email in (DEMO_USERS["refuge"], UNKNOWN):
        _age_failures(email, timedelta(minutes=14))
    assert first_error(auth.sign_in(DEMO_USERS["refuge"])).endswith("Try again in 1 minute.")
    assert first_error(auth.sign_in(UNKNOWN)).endswith("Try again in 1 minute.")
    for email in (DEMO_USERS["refuge"], UNKNOWN):
        _age_failures(email, timedelta(minutes=1))
    assert auth.sign_in(DEMO_USERS["refuge"]).status_code == 302
    user = user_row(DEMO_USERS["refuge"])
    assert user.locked_until is None and user.failed_logins == 0
    assert sign_in_history(DEMO_USERS["refuge"])[-1] == ("password", "signed_in")


def test_other_addresses_are_not_locked_and_the_network_throttle_stays(demo: Flask, auth: Auth) -> None:
    for _ in range(5):
        auth.sign_in(DEMO_USERS["refuge"], "guess-guess-guess")
    assert auth.sign_in(DEMO_USERS["lbbd"]).status_code == 302
    auth.sign_out()
    # Twenty failures from one client address stop every address from it.
    for number in range(15):
        auth.sign_in(f"someone{number}@example.org", "guess-guess-guess")
    assert "from this network" in first_error(auth.sign_in(DEMO_USERS["ccg"]))


def test_unlocking_clears_the_lock_and_the_count(demo: Flask, auth: Auth) -> None:
    for _ in range(5):
        auth.sign_in(DEMO_USERS["refuge"], "guess-guess-guess")
    user = user_row(DEMO_USERS["refuge"])
    assert user.locked_until is not None
    unlock_account(db.session(), user)
    db.session.commit()
    user = user_row(DEMO_USERS["refuge"])
    assert user.locked_until is None and user.failed_logins == 0
    assert auth.sign_in(DEMO_USERS["refuge"]).status_code == 302


def test_failed_logins_mirror_the_count(demo: Flask, auth: Auth) -> None:
    for _ in range(3):
        auth.sign_in(DEMO_USERS["refuge"], "guess-guess-guess")
    assert user_row(DEMO_USERS["refuge"]).failed_logins == 3
    assert auth.sign_in(DEMO_USERS["refuge"]).status_code == 302
    assert user_row(DEMO_USERS["refuge"]).failed_logins == 0


@pytest.mark.parametrize("state", ["awaiting approval", "deactivated", "no password"])
def test_accounts_that_cannot_sign_in_get_the_generic_refusal(demo: Flask, auth: Auth, state: str) -> None:
    email = DEMO_USERS["refuge"]
    states: dict[str, dict[str, object]] = {
        "awaiting approval": {"role": None},
        "deactivated": {"active": False},
        "no password": {"password_hash": None},
    }
    values = states[state]
    db.session.execute(update(User).where(User.email == email).values(**values))
    db.session.commit()
    response = auth.sign_in(email)  # the demo password, right for the others
    assert response.status_code == 400
    assert first_error(response) == "Enter a correct email address and password"
    assert sign_in_history(email) == [("password", "failed")]


def test_minutes_round_up_and_a_lock_is_not_extended() -> None:
    assert minutes_left(timedelta(minutes=15)) == 15
    assert minutes_left(timedelta(minutes=14, seconds=1)) == 15
    assert minutes_left(timedelta(minutes=14)) == 14
    assert minutes_left(timedelta(seconds=5)) == 1
    throttle = Throttle(max_failures=3, window=timedelta(minutes=15), lockout=timedelta(minutes=10))
    start = utcnow()
    minute = timedelta(minutes=1)
    times = [start, start + minute, start + 2 * minute, start + 5 * minute]  # the last while locked
    state = lock_state_from(times, start + 6 * minute, throttle)
    assert state.locked_until == start + 12 * minute
    # After the lock, the count starts again.
    after = lock_state_from(times, start + 13 * minute, throttle)
    assert after.locked_until is None and after.failures == 0
    assert lock_state_from([start, start + 20 * minute], start + 21 * minute, throttle).failures == 1


def test_a_session_ends_after_the_idle_time(demo: Flask, client: FlaskClient, auth: Auth) -> None:
    assert auth.sign_in(DEMO_USERS["lbbd"]).status_code == 302
    idle = demo.config["SESSION_IDLE_MINUTES"]
    with client.session_transaction() as session:
        session["last_seen"] -= (idle - 1) * 60
    assert client.get("/renewals").status_code == 200  # a request resets the clock
    with client.session_transaction() as session:
        session["last_seen"] -= idle * 60 + 1
    response = client.get("/renewals?page=2")
    assert response.status_code == 302
    target = urlsplit(response.headers["Location"])
    assert target.path == "/sign-in" and parse_qs(target.query) == {"next": ["/renewals?page=2"]}
    page = page_of(client.get(response.headers["Location"]))
    assert f"You were signed out after {idle} minutes without activity" in page.get_text()
    assert client.get("/contracts").status_code == 302


def test_moving_the_epoch_ends_every_session(demo: Flask, auth: Auth) -> None:
    first, second = demo.test_client(), demo.test_client()
    assert Auth(first).sign_in(DEMO_USERS["lbbd"]).status_code == 302
    assert Auth(second).sign_in(DEMO_USERS["lbbd"]).status_code == 302
    assert second.get("/contracts").status_code == 200
    # What "Sign out everywhere" does, from the first client's account page.
    db.session.execute(
        update(User).where(User.email == DEMO_USERS["lbbd"]).values(session_epoch=User.session_epoch + 1)
    )
    db.session.commit()
    for client in (first, second):
        response = client.get("/contracts")
        assert response.status_code == 302 and response.headers["Location"].startswith("/sign-in")
    assert Auth(second).sign_in(DEMO_USERS["lbbd"]).status_code == 302
    assert second.get("/contracts").status_code == 200
