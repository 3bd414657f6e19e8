"""Changing one's own password, and the change a temporary password forces."""

from __future__ import annotations

from bs4 import BeautifulSoup
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from werkzeug.test import TestResponse

from monitor.auth.models import User
from monitor.db import db
from monitor.demo import DEMO_PASSWORD
from tests.auth.test_password_reset import one_request_login  # noqa: F401 - an autouse fixture
from tests.conftest import DEMO_USERS, Auth

PERSON = DEMO_USERS["refuge"]
NEW_PASSWORD = "violet kettle harbour swim"
TEMPORARY = "temporary-password-from-ops"


def user_by_email(email: str) -> User:
    db.session.expire_all()
    return db.session.execute(select(User).where(User.email == email)).scalar_one()


def change(client: FlaskClient, current: str, new: str, confirm: str | None = None) -> TestResponse:
    return client.post(
        "/account/password",
        data={"current_password": current, "password": new, "confirm": new if confirm is None else confirm},
    )


def error_summary(html: str) -> str:
    summary = BeautifulSoup(html, "html.parser").select_one(".govuk-error-summary")
    assert summary is not None, html
    return summary.get_text()


def test_changing_a_password_keeps_this_session_and_ends_the_others(
    demo: Flask, client: FlaskClient, auth: Auth
) -> None:
    assert client.get("/account/password").status_code == 302  # signed-in people only
    elsewhere = demo.test_client()
    assert Auth(elsewhere).sign_in(PERSON).status_code == 302
    assert auth.sign_in(PERSON).status_code == 302

    page = client.get("/account/password")
    assert page.status_code == 200 and "Change your password" in page.get_data(as_text=True)
    assert "temporary password" not in page.get_data(as_text=True)

    done = client.post(
        "/account/password",
        data={"current_password": DEMO_PASSWORD, "password": NEW_PASSWORD, "confirm": NEW_PASSWORD},
        follow_redirects=True,
    )
    assert done.status_code == 200 and done.request.path == "/contracts"
    assert "Your password has been changed" in done.get_data(as_text=True)
    assert client.get("/contracts").status_code == 200  # this session carries on
    assert elsewhere.get("/contracts").status_code == 302  # the other one has ended
    assert user_by_email(PERSON).session_epoch == 1

    auth.sign_out()
    assert auth.sign_in(PERSON).status_code == 400
    assert auth.sign_in(PERSON, NEW_PASSWORD).status_code == 302


REFUSALS = [
    ("not-my-password", NEW_PASSWORD, None, "Enter your current password correctly"),
    (DEMO_PASSWORD, "short", None, "Enter a password of at least 12 characters"),
    (DEMO_PASSWORD, "password1234", None, "this one is commonly used"),
    (DEMO_PASSWORD, "provider-refuge-2014", None, "does not contain your name or email address"),
    (DEMO_PASSWORD, DEMO_PASSWORD, None, "different from your current one"),
    (DEMO_PASSWORD, NEW_PASSWORD, "something else entirely", "Enter the same password in both boxes"),
]


def test_a_refused_change_says_why_and_changes_nothing(demo: Flask, client: FlaskClient, auth: Auth) -> None:
    auth.sign_in(PERSON)
    for current, new, confirm, message in REFUSALS:
        response = change(client, current, new, confirm)
        assert response.status_code == 400, message
        assert message in error_summary(response.get_data(as_text=True))
    assert user_by_email(PERSON).session_epoch == 0
    assert client.get("/contracts").status_code == 200
    assert auth.sign_out().status_code == 302
    assert auth.sign_in(PERSON).status_code == 302  # the old password still works


def test_someone_who_signs_in_through_their_organisation_has_no_password_to_change(
    demo: Flask, client: FlaskClient, auth: Auth
) -> None:
    auth.sign_in(PERSON)
    user = user_by_email(PERSON)
    user.password_hash = None
    user.sso_issuer = "https://login.example.org/refuge"
    user.sso_subject = "abc-123"
    db.session.commit()
    for response in (client.get("/account/password"), change(client, "anything", NEW_PASSWORD)):
        assert response.status_code == 200
        text = response.get_data(as_text=True)
        assert (
            "You sign in through your organisation" in text and '<form method="post" novalidate>' not in text
        )
    assert user_by_email(PERSON).password_hash is None


def create_with_temporary_password(demo: Flask) -> str:
    email = "new.starter@refuge.demo.example"
    made = demo.test_cli_runner().invoke(
        args=[
            "users",
            "create",
            "--email",
            email,
            "--name",
            "New Starter",
            "--role",
            "provider",
            "--organisation",
            user_by_email(PERSON).organisation.name,  # type: ignore[union-attr]
            "--password-stdin",
        ],
        input=TEMPORARY + "\n",
    )
    assert made.exit_code == 0, made.output
    assert "must change this temporary password" in made.output
    assert TEMPORARY not in made.output
    return email


def test_a_temporary_password_must_be_changed_at_first_sign_in_then_is_not_asked_again(
    demo: Flask, client: FlaskClient, auth: Auth
) -> None:
    email = create_with_temporary_password(demo)
    assert user_by_email(email).must_change_password is True
    assert user_by_email(PERSON).must_change_password is False  # the demo's people are not forced

    auth.sign_in(email, TEMPORARY)
    for path in ("/contracts", "/forgot-password", "/admin/users"):
        forced = client.get(path)
        assert forced.status_code == 302 and forced.headers["Location"] == "/account/password", path
    page = client.get("/account/password")
    assert page.status_code == 200
    assert "You signed in with a temporary password that someone else chose" in page.get_data(as_text=True)
    assert client.get("/healthz").status_code in (200, 503)  # health checks are never redirected

    changed = change(client, TEMPORARY, NEW_PASSWORD)
    assert changed.status_code == 302 and changed.headers["Location"] == "/contracts"
    assert client.get("/contracts").status_code == 200
    assert user_by_email(email).must_change_password is False

    auth.sign_out()
    auth.sign_in(email, NEW_PASSWORD)
    assert client.get("/contracts").status_code == 200


def test_someone_forced_to_change_can_still_sign_out(demo: Flask, client: FlaskClient, auth: Auth) -> None:
    email = create_with_temporary_password(demo)
    auth.sign_in(email, TEMPORARY)
    signed_out = auth.sign_out()
    assert signed_out.status_code == 302 and signed_out.headers["Location"].startswith("/sign-in")
    assert client.get("/contracts").headers["Location"].startswith("/sign-in")
