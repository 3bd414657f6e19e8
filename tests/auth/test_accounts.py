"""Sign-in, lockout, sessions, CSRF and security headers."""

from __future__ import annotations

from pathlib import Path

import pytest
from bs4 import BeautifulSoup
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from monitor.auth.models import User
from monitor.config import ConfigError, load_config
from monitor.db import db
from tests.conftest import DEMO_USERS, Auth


def test_sign_in_and_out(demo: Flask, client: FlaskClient, auth: Auth) -> None:
    response = auth.sign_in(DEMO_USERS["lbbd"])
    assert response.status_code == 302 and response.headers["Location"] == "/"
    assert client.get("/contracts").status_code == 200
    assert auth.sign_out().status_code == 302
    assert client.get("/contracts").status_code == 302


def test_wrong_password_shows_the_error_summary(demo: Flask, client: FlaskClient, auth: Auth) -> None:
    response = auth.sign_in(DEMO_USERS["lbbd"], "not the password")
    assert response.status_code == 400
    page = BeautifulSoup(response.get_data(as_text=True), "html.parser")
    summary = page.select_one(".govuk-error-summary")
    assert summary is not None
    assert "Enter a correct email address and password" in summary.get_text()
    # The password step shows the address it is for; the message sits on the password.
    assert [a["href"] for a in summary.select("a")][:1] == ["#password"]
    assert page.title is not None and page.title.get_text().startswith("Error:")


def test_repeated_failures_lock_the_account(demo: Flask, client: FlaskClient, auth: Auth) -> None:
    for _ in range(demo.config["LOGIN_MAX_FAILURES"]):
        auth.sign_in(DEMO_USERS["refuge"], "guess-guess-guess")
    locked = auth.sign_in(DEMO_USERS["refuge"])  # the right password, too late
    assert locked.status_code == 400
    assert "locked" in locked.get_data(as_text=True)
    user = db.session.execute(select(User).where(User.email == DEMO_USERS["refuge"])).scalar_one()
    assert user.locked_until is not None
    # Another account is unaffected.
    assert auth.sign_in(DEMO_USERS["lbbd"]).status_code == 302


def test_unknown_email_gets_the_same_message(demo: Flask, auth: Auth) -> None:
    body = auth.sign_in("nobody@example.org", "whatever-whatever").get_data(as_text=True)
    assert "Enter a correct email address and password" in body


def test_next_parameter_cannot_leave_the_site(demo: Flask, client: FlaskClient) -> None:
    response = client.post(
        "/sign-in?next=//evil.example/steal",
        data={"email": DEMO_USERS["lbbd"], "password": "demo-password-2013"},
    )
    assert response.headers["Location"] == "/"


def test_security_headers(demo: Flask, client: FlaskClient) -> None:
    headers = client.get("/sign-in").headers
    csp = headers["Content-Security-Policy"]
    assert "default-src 'self'" in csp and "frame-ancestors 'none'" in csp and "unsafe-inline" not in csp
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["X-Frame-Options"] == "DENY"
    assert headers["Cache-Control"] == "no-store"


def test_session_cookie_is_http_only(demo: Flask, client: FlaskClient, auth: Auth) -> None:
    cookie = auth.sign_in(DEMO_USERS["lbbd"]).headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie


@pytest.fixture
def csrf_client(demo: Flask) -> FlaskClient:
    demo.config["WTF_CSRF_ENABLED"] = True
    return demo.test_client()


def test_forms_without_csrf_token_are_refused(csrf_client: FlaskClient) -> None:
    response = csrf_client.post(
        "/sign-in", data={"email": DEMO_USERS["lbbd"], "password": "demo-password-2013"}
    )
    assert response.status_code == 400
    assert "security token" in response.get_data(as_text=True)


def test_csrf_protects_changes_after_sign_in(csrf_client: FlaskClient, contract_id: object) -> None:
    page = BeautifulSoup(csrf_client.get("/sign-in").get_data(as_text=True), "html.parser")
    token_input = page.select_one("input[name=csrf_token]")
    assert token_input is not None
    token = token_input["value"]
    signed_in = csrf_client.post(
        "/sign-in", data={"email": DEMO_USERS["lbbd"], "password": "demo-password-2013", "csrf_token": token}
    )
    assert signed_in.status_code == 302
    refused = csrf_client.post("/contracts/new", data={"reference": "X-1"})
    assert refused.status_code == 400
    assert "Nothing was changed" in refused.get_data(as_text=True)


def test_oversized_request_is_refused_politely(demo: Flask, client: FlaskClient) -> None:
    demo.config["MAX_CONTENT_LENGTH"] = 1024
    response = client.post("/sign-in", data={"email": "x" * 5000, "password": "y"})
    assert response.status_code == 413
    assert "larger than" in response.get_data(as_text=True)


def test_production_refuses_a_missing_secret(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("SECRET_KEY", raising=False)
    monkeypatch.setenv("DATABASE_URL", "postgresql+psycopg://db/monitor")
    with pytest.raises(ConfigError, match="SECRET_KEY"):
        load_config(tmp_path, "production")
    monkeypatch.setenv("SECRET_KEY", "s" * 40)
    config = load_config(tmp_path, "production")
    assert config.SESSION_COOKIE_SECURE is True


def test_development_defaults_to_sqlite_under_instance(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.delenv("DATABASE_URL", raising=False)
    config = load_config(tmp_path, "development")
    assert config.DATABASE_URL == f"sqlite:///{tmp_path / 'monitor.sqlite3'}"


def test_admin_adds_a_partnership(demo: Flask, client: FlaskClient, auth: Auth) -> None:
    from monitor.auth.models import Organisation, Partnership

    auth.sign_in(DEMO_USERS["admin"])
    halton = db.session.execute(
        select(Organisation.id).where(Organisation.name == "Halton Borough Council")
    ).scalar_one()
    empty = client.post("/admin/partnerships", data={"partnership-name": "Halton Children's Trust"})
    assert empty.status_code == 400 and "Choose at least one commissioner" in empty.get_data(as_text=True)
    made = client.post(
        "/admin/partnerships",
        data={"partnership-name": "Halton Children's Trust", "partnership-member_ids": [str(halton)]},
    )
    assert made.status_code == 302
    trust = db.session.execute(
        select(Partnership).where(Partnership.name == "Halton Children's Trust")
    ).scalar_one()
    assert [m.name for m in trust.members] == ["Halton Borough Council"]


def test_the_old_users_page_sends_admins_to_people(demo: Flask, client: FlaskClient, auth: Auth) -> None:
    """It took a password chosen for someone else; people are now invited and choose their own."""
    auth.sign_in(DEMO_USERS["admin"])
    response = client.get("/admin/users")
    assert response.status_code == 301 and response.headers["Location"] == "/people"
    assert client.post("/admin/users", data={"email": "ann@example.org"}).status_code == 405


def test_invite_form_refuses_a_forged_organisation(demo: Flask, client: FlaskClient, auth: Auth) -> None:
    auth.sign_in(DEMO_USERS["admin"])
    response = client.post(
        "/people/invite",
        data={
            "name": "Ann",
            "email": "ann@example.org",
            "role": "provider",
            "organisation": "1 OR 1=1",
            "organisation_admin": "no",
        },
    )
    assert response.status_code == 400
    assert "govuk-error-summary" in response.get_data(as_text=True)
    assert db.session.scalar(select(User.id).where(User.email == "ann@example.org")) is None
