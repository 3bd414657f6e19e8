"""Password reset by email: the same answer for every address, throttling,
single-use links stored only as digests, the password rule, and what a reset ends."""

from __future__ import annotations

import email
import hashlib
import logging
import re
from datetime import timedelta
from email.message import EmailMessage
from email.policy import default
from pathlib import Path
from typing import Any

import pytest
from bs4 import BeautifulSoup
from flask import Flask, g
from flask.testing import FlaskClient
from sqlalchemy import func, select
from werkzeug.test import TestResponse

from monitor.auth.models import AccountToken, LoginFailure, PasswordResetRequest, TokenPurpose, User
from monitor.clock import real_utcnow as utcnow  # security timing keeps the real clock
from monitor.db import db
from tests.conftest import DEMO_USERS, Auth

PERSON = DEMO_USERS["refuge"]
NEW_PASSWORD = "violet kettle harbour swim"


class OneRequestLoginClient(FlaskClient):
    """A test client whose every request loads the signed-in user afresh.

    The tests hold one app context, so Flask-Login's cached user in `g` would
    otherwise carry from one client's request to another's."""

    def open(self, *args: Any, **kwargs: Any) -> TestResponse:
        g.pop("_login_user", None)
        return super().open(*args, **kwargs)


@pytest.fixture(autouse=True)
def one_request_login(app: Flask) -> None:
    app.test_client_class = OneRequestLoginClient


@pytest.fixture
def outbox(demo: Flask, tmp_path: Path) -> Path:
    folder = tmp_path / "outbox"
    demo.config["OUTBOX_DIR"] = str(folder)
    return folder


def mails(outbox: Path) -> list[EmailMessage]:
    if not outbox.is_dir():
        return []
    return [
        email.message_from_bytes(path.read_bytes(), policy=default) for path in sorted(outbox.glob("*.eml"))
    ]


def body(message: EmailMessage) -> str:
    part = message.get_body(("plain",))
    assert part is not None
    return part.get_content()


def reset_path(message: EmailMessage) -> str:
    found = re.search(r"https?://[^/\s]+(/reset-password/\S+)", body(message))
    assert found, body(message)
    return found.group(1)


def ask_for_link(client: FlaskClient, address: str, client_address: str = "192.0.2.1") -> str:
    response = client.post(
        "/forgot-password", data={"email": address}, environ_base={"REMOTE_ADDR": client_address}
    )
    assert response.status_code == 200
    return response.get_data(as_text=True)


def main_text(html: str) -> str:
    main = BeautifulSoup(html, "html.parser").select_one("main")
    assert main is not None
    return " ".join(main.get_text().split())


def person() -> User:
    return db.session.execute(select(User).where(User.email == PERSON)).scalar_one()


def test_the_same_page_for_known_and_unknown_addresses_and_only_a_real_account_gets_mail(
    demo: Flask, client: FlaskClient, outbox: Path
) -> None:
    form = client.get("/forgot-password")
    assert form.status_code == 200 and "Reset your password" in form.get_data(as_text=True)
    known = main_text(ask_for_link(client, PERSON))
    unknown = main_text(ask_for_link(client, "nobody@refuge.demo.example"))
    assert known.replace(PERSON, "ADDRESS") == unknown.replace("nobody@refuge.demo.example", "ADDRESS")
    assert f"If an account exists for {PERSON}, we have sent a link" in known
    assert f"It lasts {demo.config['PASSWORD_RESET_HOURS']} hours" in known

    sent = mails(outbox)
    assert [m["To"] for m in sent] == [PERSON]
    assert "Choose a new password" in sent[0]["Subject"]
    assert "works once" in body(sent[0])


def test_an_address_in_the_wrong_format_is_refused_on_the_form(app: Flask, client: FlaskClient) -> None:
    response = client.post("/forgot-password", data={"email": "not an address"})
    assert response.status_code == 400
    summary = BeautifulSoup(response.get_data(as_text=True), "html.parser").select_one(".govuk-error-summary")
    assert summary is not None and "Enter an email address in the correct format" in summary.get_text()


def test_the_link_in_the_email_works_once_and_signs_nobody_in(
    demo: Flask, client: FlaskClient, auth: Auth, outbox: Path
) -> None:
    ask_for_link(client, PERSON)
    path = reset_path(mails(outbox)[0])

    page = client.get(path)
    assert page.status_code == 200
    assert page.headers["Referrer-Policy"] == "no-referrer"
    assert "Choose a new password" in page.get_data(as_text=True)

    done = client.post(path, data={"password": NEW_PASSWORD, "confirm": NEW_PASSWORD})
    assert done.status_code == 200
    assert "Your password has been changed" in done.get_data(as_text=True)
    assert 'href="/sign-in"' in done.get_data(as_text=True)
    assert client.get("/contracts").status_code == 302  # not signed in by the reset

    again = client.get(path)
    assert again.status_code == 410
    assert again.headers["Referrer-Policy"] == "no-referrer"
    assert "This link has expired or has already been used" in again.get_data(as_text=True)
    assert 'href="/forgot-password"' in again.get_data(as_text=True)
    assert client.post(path, data={"password": "another long passphrase", "confirm": "x"}).status_code == 410

    assert auth.sign_in(PERSON).status_code == 400  # the old password no longer works
    assert auth.sign_in(PERSON, NEW_PASSWORD).status_code == 302


def test_only_the_digest_of_the_token_is_stored(demo: Flask, client: FlaskClient, outbox: Path) -> None:
    ask_for_link(client, PERSON)
    token = reset_path(mails(outbox)[0]).rsplit("/", 1)[1]
    stored = db.session.scalars(select(AccountToken)).all()
    assert len(stored) == 1
    assert stored[0].purpose == TokenPurpose.PASSWORD_RESET
    assert stored[0].token_hash != token
    assert stored[0].token_hash == hashlib.sha256(token.encode()).hexdigest()
    lifetime = stored[0].expires_at - stored[0].created_at
    assert lifetime == timedelta(hours=demo.config["PASSWORD_RESET_HOURS"])


def test_an_expired_unknown_or_replaced_link_shows_one_clear_page(
    demo: Flask, client: FlaskClient, outbox: Path
) -> None:
    ask_for_link(client, PERSON)
    first = reset_path(mails(outbox)[0])
    ask_for_link(client, PERSON)
    second = reset_path(mails(outbox)[1])
    assert client.get(first).status_code == 410  # a newer link replaces an older one
    assert client.get(second).status_code == 200

    token = db.session.scalars(select(AccountToken).where(AccountToken.used_at.is_(None))).one()
    token.expires_at = utcnow() - timedelta(seconds=1)
    db.session.commit()
    expired = client.get(second)
    assert expired.status_code == 410
    assert "This link has expired or has already been used" in expired.get_data(as_text=True)
    refused = client.post(second, data={"password": NEW_PASSWORD, "confirm": NEW_PASSWORD})
    assert refused.status_code == 410
    assert client.get("/reset-password/made-up-token").status_code == 410
    db.session.expire_all()
    assert person().must_change_password is False and person().session_epoch == 0


POLICY_REFUSALS = [
    ("short-one", "short-one", "Enter a password of at least 12 characters"),
    ("password1234", "password1234", "this one is commonly used"),
    ("my-provider-word-99", "my-provider-word-99", "does not contain your name or email address"),
    (NEW_PASSWORD, NEW_PASSWORD + "x", "Enter the same password in both boxes"),
]


def test_the_password_rule_is_shown_in_the_error_summary_and_the_link_still_works(
    demo: Flask, client: FlaskClient, outbox: Path
) -> None:
    ask_for_link(client, PERSON)
    path = reset_path(mails(outbox)[0])
    for password, confirm, message in POLICY_REFUSALS:
        response = client.post(path, data={"password": password, "confirm": confirm})
        assert response.status_code == 400, password
        page = BeautifulSoup(response.get_data(as_text=True), "html.parser")
        summary = page.select_one(".govuk-error-summary")
        assert summary is not None and message in summary.get_text(), password
        assert page.title is not None and page.title.get_text().startswith("Error:")
        assert PERSON in main_text(str(page))
    assert client.post(path, data={"password": NEW_PASSWORD, "confirm": NEW_PASSWORD}).status_code == 200


def test_a_reset_ends_every_session_unlocks_the_account_and_clears_a_forced_change(
    demo: Flask, client: FlaskClient, auth: Auth, outbox: Path
) -> None:
    elsewhere = demo.test_client()
    assert Auth(elsewhere).sign_in(PERSON).status_code == 302
    assert elsewhere.get("/contracts").status_code == 200

    # Locked after failed sign-ins (set directly: the sign-in rules are tested with sign-in).
    user = person()
    user.locked_until = utcnow() + timedelta(minutes=15)
    user.failed_logins = 2
    user.must_change_password = True
    db.session.add_all(
        LoginFailure(email=PERSON, client_address="192.0.2.9", at=utcnow())
        for _ in range(demo.config["LOGIN_MAX_FAILURES"])
    )
    db.session.commit()
    locked = auth.sign_in(PERSON)
    assert locked.status_code == 400, locked.headers.get("Location")

    ask_for_link(client, PERSON)
    path = reset_path(mails(outbox)[0])
    assert client.post(path, data={"password": NEW_PASSWORD, "confirm": NEW_PASSWORD}).status_code == 200

    gone = elsewhere.get("/contracts")
    assert gone.status_code == 302 and gone.headers["Location"].startswith("/sign-in")
    db.session.expire_all()
    user = person()
    assert user.locked_until is None and user.failed_logins == 0
    assert db.session.scalar(select(func.count(LoginFailure.id)).where(LoginFailure.email == PERSON)) == 0
    assert user.must_change_password is False
    assert user.session_epoch == 1
    assert auth.sign_in(PERSON, NEW_PASSWORD).status_code == 302
    assert client.get("/contracts").status_code == 200  # no forced change any more


def test_requests_are_throttled_by_address_and_by_client(
    demo: Flask, client: FlaskClient, outbox: Path, caplog: pytest.LogCaptureFixture
) -> None:
    demo.config["PASSWORD_RESET_REQUESTS_PER_HOUR"] = 2
    confirmations = {main_text(ask_for_link(client, PERSON)) for _ in range(3)}
    assert len(confirmations) == 1  # the same page, throttled or not
    assert len(mails(outbox)) == 2
    throttled = [r for r in caplog.records if r.getMessage() == "password reset request throttled"]
    assert len(throttled) == 1 and throttled[0].levelno == logging.WARNING
    assert throttled[0].email == PERSON  # type: ignore[attr-defined]

    # One client may ask for ten times as many addresses, then nothing more is sent from it.
    other = DEMO_USERS["lbbd"]
    for n in range(20 - 2):
        ask_for_link(client, f"nobody{n}@example.org")
    ask_for_link(client, other)
    assert len(mails(outbox)) == 2
    ask_for_link(client, other, client_address="198.51.100.7")
    assert [m["To"] for m in mails(outbox)][-1] == other

    # Requests older than an hour no longer count, and are forgotten.
    for request in db.session.scalars(select(PasswordResetRequest)):
        request.at = utcnow() - timedelta(hours=1, seconds=1)
    db.session.commit()
    ask_for_link(client, PERSON)
    assert len(mails(outbox)) == 4
    assert db.session.scalar(select(func.count(PasswordResetRequest.id))) == 1


def test_a_person_who_signs_in_through_their_organisation_is_told_so(
    demo: Flask, client: FlaskClient, outbox: Path
) -> None:
    user = person()
    user.password_hash = None
    user.sso_issuer = "https://login.example.org/refuge"
    user.sso_subject = "abc-123"
    db.session.commit()
    ask_for_link(client, PERSON)
    sent = mails(outbox)
    assert [m["To"] for m in sent] == [PERSON]
    assert "reset-password" not in body(sent[0])
    assert "you sign in through your organisation" in body(sent[0])
    assert db.session.scalar(select(func.count(AccountToken.id))) == 0


def test_an_inactive_account_gets_no_mail(demo: Flask, client: FlaskClient, outbox: Path) -> None:
    person().active = False
    db.session.commit()
    assert f"If an account exists for {PERSON}" in main_text(ask_for_link(client, PERSON))
    assert mails(outbox) == []


def test_an_operator_can_send_a_reset_link_without_seeing_it(demo: Flask, outbox: Path) -> None:
    runner = demo.test_cli_runner()
    demo.config["SERVICE_URL"] = ""
    refused = runner.invoke(args=["users", "reset-link", PERSON])
    assert refused.exit_code == 2 and "SERVICE_URL" in refused.output
    assert mails(outbox) == []

    demo.config["SERVICE_URL"] = "https://monitor.example.org"
    sent = runner.invoke(args=["users", "reset-link", PERSON.upper()])
    assert sent.exit_code == 0, sent.output
    message = mails(outbox)[0]
    assert message["To"] == PERSON
    link = re.search(r"https://monitor\.example\.org/reset-password/(\S+)", body(message))
    assert link is not None
    assert link.group(1) not in sent.output
    assert "sent" in sent.output

    unknown = runner.invoke(args=["users", "reset-link", "nobody@example.org"])
    assert unknown.exit_code == 2 and "no active user" in unknown.output
    assert len(mails(outbox)) == 1
    db.session.remove()
    client = demo.test_client()
    assert client.get(f"/reset-password/{link.group(1)}").status_code == 200
