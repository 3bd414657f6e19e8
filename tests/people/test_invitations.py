"""Invitations: invite, accept by choosing a password, sign in; and what is refused."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from bs4 import BeautifulSoup
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from monitor.auth.models import AccountToken, User
from monitor.db import db
from tests.conftest import DEMO_USERS, Auth
from tests.people.helpers import (
    audit_rows,
    invitation_link,
    invitation_path,
    invite_data,
    mails,
    organisation_id,
    partnership_id,
    person,
)

NEW_PASSWORD = "kettle marble orchard lantern"


@pytest.fixture
def outbox(demo: Flask, tmp_path: Path) -> Path:
    folder = tmp_path / "outbox"
    demo.config["OUTBOX_DIR"] = str(folder)
    demo.config["SERVICE_URL"] = "https://monitor.example"
    return folder


def error_summary(response: object) -> str:
    page = BeautifulSoup(response.get_data(as_text=True), "html.parser")  # type: ignore[attr-defined]
    summary = page.select_one(".govuk-error-summary")
    return summary.get_text(" ", strip=True) if summary else ""


def test_organisation_admin_invites_and_the_person_sets_a_password_and_signs_in(
    outbox: Path, client: FlaskClient, auth: Auth
) -> None:
    assert auth.sign_in(DEMO_USERS["refuge_admin"]).status_code == 302
    form = client.get("/people/invite")
    assert form.status_code == 200 and "Refuge" in form.get_data(as_text=True)
    # An organisation admin is not offered a role or organisation: theirs is used.
    sent = client.post(
        "/people/invite",
        data={"name": "Sam Newcomer", "email": "Sam@Refuge.example", "organisation_admin": "no"},
    )
    assert sent.status_code == 302, error_summary(sent)
    sam = person("sam@refuge.example")
    assert (sam.role, sam.organisation.name if sam.organisation else None) == ("provider", "Refuge")
    assert sam.password_hash is None and not sam.organisation_admin
    created = audit_rows("user", sam.id)
    assert created[0]["action"] == "create" and created[0]["actor"] == DEMO_USERS["refuge_admin"]
    assert created[0]["changes"]["role"] == [None, "provider"]

    listing = client.get("/people").get_data(as_text=True)
    assert "Sam Newcomer" in listing and "Invited" in listing
    assert "Invitation sent on" in listing and "expires" in listing

    [message] = mails(outbox)
    assert message["To"] == "sam@refuge.example"
    link = invitation_link(outbox, "sam@refuge.example")
    assert link.startswith("https://monitor.example/invitation/")
    auth.sign_out()

    path = invitation_path(outbox, "sam@refuge.example")
    page = client.get(path)
    assert page.status_code == 200 and "Create your password" in page.get_data(as_text=True)
    assert page.headers["Referrer-Policy"] == "no-referrer"  # the token is in the address
    weak = client.post(path, data={"password": "password1234", "confirm": "password1234"})
    assert weak.status_code == 400 and "commonly used" in error_summary(weak)
    short = client.post(path, data={"password": "short", "confirm": "short"})
    assert "at least 12 characters" in error_summary(short)
    mismatch = client.post(path, data={"password": NEW_PASSWORD, "confirm": NEW_PASSWORD + "x"})
    assert mismatch.status_code == 400 and "Enter the same password in both boxes" in error_summary(mismatch)
    assert person("sam@refuge.example").password_hash is None

    done = client.post(path, data={"password": NEW_PASSWORD, "confirm": NEW_PASSWORD})
    assert done.status_code == 200
    assert "Your account is ready" in done.get_data(as_text=True)
    # Not signed in by accepting: they sign in like anyone else.
    assert client.get("/contracts").status_code == 302
    assert client.get(path).status_code == 410
    assert client.post(path, data={"password": NEW_PASSWORD, "confirm": NEW_PASSWORD}).status_code == 410
    assert auth.sign_in("sam@refuge.example", NEW_PASSWORD).status_code == 302
    assert client.get("/contracts").status_code == 200
    assert audit_rows("user", sam.id)[-1]["changes"] == {"invitation": ["sent", "accepted"]}


def test_unknown_and_expired_links_get_one_clear_page(outbox: Path, client: FlaskClient, auth: Auth) -> None:
    auth.sign_in(DEMO_USERS["admin"])
    data = invite_data(organisation=str(organisation_id("Refuge")))
    assert client.post("/people/invite", data=data).status_code == 302
    path = invitation_path(outbox, "sam@refuge.example")
    auth.sign_out()
    for bad in ["/invitation/not-a-real-token", "/invitation/" + "x" * 400]:
        response = client.get(bad)
        assert response.status_code == 410
        assert "This invitation link has expired" in response.get_data(as_text=True)
    with db.transaction() as session:
        for token in session.scalars(select(AccountToken)):
            token.expires_at = token.created_at - timedelta(seconds=1)
    expired = client.get(path)
    assert expired.status_code == 410 and "ask the person who invited you" in expired.get_data(as_text=True)


def test_resending_an_invitation_replaces_the_link(outbox: Path, client: FlaskClient, auth: Auth) -> None:
    auth.sign_in(DEMO_USERS["refuge_admin"])
    client.post(
        "/people/invite",
        data={"name": "Sam Newcomer", "email": "sam@refuge.example", "organisation_admin": "no"},
    )
    first = invitation_path(outbox, "sam@refuge.example")
    sam = person("sam@refuge.example")
    assert client.post(f"/people/{sam.id}/resend-invitation").status_code == 302
    second = invitation_path(outbox, "sam@refuge.example")
    assert first != second and len(mails(outbox)) == 2
    assert client.get(first).status_code == 410
    assert client.get(second).status_code == 200
    # Someone who has a password already cannot be sent one.
    refuge = person(DEMO_USERS["refuge"])
    refused = client.post(f"/people/{refuge.id}/resend-invitation")
    assert refused.status_code == 400 and "already set a password" in error_summary(refused)
    assert len(mails(outbox)) == 2


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        # The finding in issue 13: a partnership chosen for a provider was silently dropped.
        (
            {"role": "provider", "organisation": "Refuge", "partnership": "bd"},
            "partnership",
            "not a partnership",
        ),
        (
            {"role": "provider", "organisation": "Halton Borough Council"},
            "organisation",
            "provider organisation",
        ),
        ({"role": "provider"}, "organisation", "must belong to a provider organisation"),
        ({"role": "board"}, "partnership", "must belong to a partnership"),
        (
            {"role": "board", "partnership": "bd", "organisation": "Refuge"},
            "organisation",
            "not an organisation",
        ),
        ({"role": "admin", "organisation": "Refuge"}, "organisation", "choose no organisation"),
        ({"role": "admin", "partnership": "bd"}, "partnership", "choose no partnership"),
        (
            {"role": "board", "partnership": "bd", "organisation_admin": "yes"},
            "organisation_admin",
            "choose No",
        ),
        ({"email": "not-an-address", "organisation": "Refuge"}, "email", "correct format"),
        ({"email": DEMO_USERS["refuge"], "organisation": "Refuge"}, "email", "already has an account"),
        ({"organisation": "1 OR 1=1"}, "organisation", "from the list"),
        ({"role": "superuser", "organisation": "Refuge"}, "role", "Choose one of the role options"),
        ({"name": "", "organisation": "Refuge"}, "name", "Enter the person's full name"),
    ],
)
def test_invitations_that_do_not_fit_the_role_are_refused(
    outbox: Path, client: FlaskClient, auth: Auth, fields: dict[str, str], field: str, message: str
) -> None:
    auth.sign_in(DEMO_USERS["admin"])
    names = {"Refuge", "Halton Borough Council"}
    data = invite_data(**fields)
    if data["organisation"] in names:
        data["organisation"] = str(organisation_id(data["organisation"]))
    if data["partnership"] == "bd":
        data["partnership"] = str(partnership_id("Barking and Dagenham Health and Wellbeing Board"))
    users_before = db.session.scalar(select(func.count(User.id)))
    response = client.post("/people/invite", data=data)
    assert response.status_code == 400
    page = BeautifulSoup(response.get_data(as_text=True), "html.parser")
    summary = page.select_one(".govuk-error-summary")
    assert summary is not None and message in summary.get_text(), summary.get_text() if summary else ""
    assert any(a["href"] == f"#{field}" for a in summary.select("a")), [
        a["href"] for a in summary.select("a")
    ]
    assert db.session.scalar(select(func.count(User.id))) == users_before
    assert mails(outbox) == []


def test_admin_invites_a_board_member_and_an_organisation_admin(
    outbox: Path, client: FlaskClient, auth: Auth
) -> None:
    auth.sign_in(DEMO_USERS["admin"])
    board = partnership_id("Barking and Dagenham Health and Wellbeing Board")
    made = client.post(
        "/people/invite", data=invite_data(email="chair@hwb.example", role="board", partnership=str(board))
    )
    assert made.status_code == 302
    chair = person("chair@hwb.example")
    assert (chair.role, chair.partnership_id, chair.organisation_id) == ("board", board, None)
    lead = client.post(
        "/people/invite",
        data=invite_data(
            email="lead@halton.example",
            role="commissioner",
            organisation=str(organisation_id("Halton Borough Council")),
            organisation_admin="yes",
        ),
    )
    assert lead.status_code == 302
    assert person("lead@halton.example").organisation_admin
    assert {m["To"] for m in mails(outbox)} == {"chair@hwb.example", "lead@halton.example"}
