"""Managing people: scope of organisation admins, editing, deactivation, unlocking,
API tokens and approval of single sign-on accounts, each audited."""

from __future__ import annotations

import pyotp
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from monitor.auth import mfa
from monitor.auth.models import ApiToken, RecoveryCode, User
from monitor.auth.services import issue_api_token
from monitor.db import db
from tests.conftest import DEMO_USERS, Auth
from tests.people.helpers import audit_rows, organisation_id, partnership_id, person
from tests.people.test_invitations import error_summary

API_URL = "/api/v1/contracts"


def api_token(email: str) -> tuple[str, int]:
    with db.transaction() as session:
        user = session.execute(select(User).where(User.email == email)).scalar_one()
        value = issue_api_token(session, user)
    token_id = db.session.scalars(select(ApiToken.id).order_by(ApiToken.id.desc())).first()
    assert token_id is not None
    return value, token_id


def bearer(value: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {value}"}


def test_organisation_admin_sees_and_manages_only_their_own_organisation(
    demo: Flask, client: FlaskClient, auth: Auth
) -> None:
    auth.sign_in(DEMO_USERS["refuge_admin"])
    listing = client.get("/people").get_data(as_text=True)
    assert DEMO_USERS["refuge"] in listing and DEMO_USERS["refuge_admin"] in listing
    for outsider in ("halton_provider", "lbbd", "admin", "bd_board"):
        assert DEMO_USERS[outsider] not in listing, outsider
        other = person(DEMO_USERS[outsider])
        assert client.get(f"/people/{other.id}").status_code == 404, outsider
        assert client.post(f"/people/{other.id}/edit", data={"name": "Renamed"}).status_code == 404
        assert client.post(f"/people/{other.id}/deactivate").status_code == 404
        assert person(DEMO_USERS[outsider]).active and person(DEMO_USERS[outsider]).name != "Renamed"
    # The admins' organisation filter is not a way round the scope.
    halton_org = organisation_id("Halton Children's Recovery Service (illustrative)")
    assert DEMO_USERS["halton_provider"] not in client.get(f"/people?organisation={halton_org}").get_data(
        as_text=True
    )
    # Inviting outside their organisation or role is refused, never quietly changed.
    forged = client.post(
        "/people/invite",
        data={
            "name": "Cat Commissioner",
            "email": "cat@halton.example",
            "role": "commissioner",
            "organisation": str(organisation_id("Halton Borough Council")),
            "organisation_admin": "no",
        },
    )
    assert forged.status_code == 400
    assert db.session.scalar(select(User.id).where(User.email == "cat@halton.example")) is None
    # They change a name and the admin flag of their own people, but not a role.
    refuge = person(DEMO_USERS["refuge"])
    renamed = client.post(
        f"/people/{refuge.id}/edit", data={"name": "Pat Provider-Smith", "organisation_admin": "yes"}
    )
    assert renamed.status_code == 302, error_summary(renamed)
    refuge = person(DEMO_USERS["refuge"])
    assert (refuge.name, refuge.organisation_admin, refuge.role) == ("Pat Provider-Smith", True, "provider")
    promoted = client.post(
        f"/people/{refuge.id}/edit", data={"name": "Pat", "role": "admin", "organisation_admin": "no"}
    )
    assert promoted.status_code == 400 and person(DEMO_USERS["refuge"]).role == "provider"
    changes = audit_rows("user", refuge.id)[-1]
    assert changes["actor"] == DEMO_USERS["refuge_admin"]
    assert changes["changes"]["organisation_admin"] == [False, True]
    # Nobody removes their own admin rights, so an organisation admin cannot
    # leave their organisation without one.
    me = person(DEMO_USERS["refuge_admin"])
    kept = client.post(f"/people/{me.id}/edit", data={"name": me.name, "organisation_admin": "no"})
    assert kept.status_code == 400 and "your own organisation admin rights" in error_summary(kept)


def test_people_who_are_not_managers_cannot_use_the_people_pages(
    demo: Flask, client: FlaskClient, auth: Auth
) -> None:
    refuge = person(DEMO_USERS["refuge"])
    for role in ("lbbd", "refuge", "bd_board"):
        auth.sign_in(DEMO_USERS[role])
        assert client.get("/people").status_code == 403
        assert client.get("/people/invite").status_code == 403
        assert client.post(f"/people/{refuge.id}/deactivate").status_code == 403
        auth.sign_out()
    assert person(DEMO_USERS["refuge"]).active


def test_admin_edits_role_and_scope_and_a_misfit_is_an_error(
    demo: Flask, client: FlaskClient, auth: Auth
) -> None:
    auth.sign_in(DEMO_USERS["admin"])
    refuge = person(DEMO_USERS["refuge"])
    board = partnership_id("Barking and Dagenham Health and Wellbeing Board")
    misfit = client.post(
        f"/people/{refuge.id}/edit",
        data={
            "name": refuge.name,
            "role": "provider",
            "organisation": str(refuge.organisation_id),
            "partnership": str(board),
            "organisation_admin": "no",
        },
    )
    assert misfit.status_code == 400 and "not a partnership" in error_summary(misfit)
    assert person(DEMO_USERS["refuge"]).partnership_id is None
    moved = client.post(
        f"/people/{refuge.id}/edit",
        data={"name": refuge.name, "role": "board", "partnership": str(board), "organisation_admin": "no"},
    )
    assert moved.status_code == 302, error_summary(moved)
    changed = person(DEMO_USERS["refuge"])
    assert (changed.role, changed.partnership_id, changed.organisation_id) == ("board", board, None)
    assert audit_rows("user", refuge.id)[-1]["changes"]["role"] == ["provider", "board"]
    admin = person(DEMO_USERS["admin"])
    demoted = client.post(
        f"/people/{admin.id}/edit",
        data={
            "name": admin.name,
            "role": "provider",
            "organisation": str(organisation_id("Refuge")),
            "organisation_admin": "no",
        },
    )
    assert demoted.status_code == 400 and "your own admin role" in error_summary(demoted)
    # Ids that match nobody, however large, are not found, never an error.
    for big in ("999999", "99999999999999999999"):
        assert client.get(f"/people/{big}").status_code == 404
        assert client.get(f"/people/{big}/edit").status_code == 404
        assert client.post(f"/people/{refuge.id}/api-tokens/{big}/revoke").status_code == 404
        assert client.post(f"/account/api-tokens/{big}/revoke").status_code == 404
    for chosen in ("99999999999999999999", "²", "abc"):
        assert client.get(f"/people?organisation={chosen}").status_code == 200


def test_deactivation_ends_sessions_and_api_tokens_at_once(
    demo: Flask, client: FlaskClient, auth: Auth
) -> None:
    other = demo.test_client()
    Auth(other).sign_in(DEMO_USERS["refuge"])
    assert other.get("/contracts").status_code == 200
    value, token_id = api_token(DEMO_USERS["refuge"])
    assert client.get(API_URL, headers=bearer(value)).status_code == 200

    auth.sign_in(DEMO_USERS["refuge_admin"])
    refuge = person(DEMO_USERS["refuge"])
    confirm = client.get(f"/people/{refuge.id}/deactivate")
    assert confirm.status_code == 200 and "signed out at once" in confirm.get_data(as_text=True)
    assert person(DEMO_USERS["refuge"]).active  # asking changes nothing
    assert client.post(f"/people/{refuge.id}/deactivate").status_code == 302

    assert other.get("/contracts").status_code == 302  # that session has ended
    assert client.get(API_URL, headers=bearer(value)).status_code == 401
    assert Auth(demo.test_client()).sign_in(DEMO_USERS["refuge"]).status_code != 302
    row = audit_rows("user", refuge.id)[-1]
    assert row["changes"]["active"] == [True, False] and row["actor"] == DEMO_USERS["refuge_admin"]
    assert row["changes"]["session_epoch"][1] == row["changes"]["session_epoch"][0] + 1
    assert audit_rows("api_token", token_id)[-1]["changes"] == {"revoked": [False, True]}
    assert "Deactivated" in client.get("/people").get_data(as_text=True)

    # Nobody deactivates themselves.
    me = person(DEMO_USERS["refuge_admin"])
    refused = client.post(f"/people/{me.id}/deactivate")
    assert refused.status_code == 409 and "your own account" in refused.get_data(as_text=True)
    assert person(DEMO_USERS["refuge_admin"]).active

    assert client.post(f"/people/{refuge.id}/reactivate").status_code == 302
    assert person(DEMO_USERS["refuge"]).active
    assert audit_rows("user", refuge.id)[-1]["changes"]["active"] == [False, True]
    assert Auth(other).sign_in(DEMO_USERS["refuge"]).status_code == 302
    assert other.get("/contracts").status_code == 200
    # Its old token stays revoked: reactivation brings back the person, not their keys.
    assert client.get(API_URL, headers=bearer(value)).status_code == 401


def test_unlocking_a_locked_account(demo: Flask, client: FlaskClient, auth: Auth) -> None:
    stranger = Auth(demo.test_client())
    for _ in range(demo.config["LOGIN_MAX_FAILURES"]):
        stranger.sign_in(DEMO_USERS["refuge"], "guess-guess-guess")
    assert stranger.sign_in(DEMO_USERS["refuge"]).status_code != 302
    auth.sign_in(DEMO_USERS["refuge_admin"])
    refuge = person(DEMO_USERS["refuge"])
    page = client.get(f"/people/{refuge.id}").get_data(as_text=True)
    assert "Locked" in page and "Unlock account" in page
    assert client.post(f"/people/{refuge.id}/unlock").status_code == 302
    assert person(DEMO_USERS["refuge"]).locked_until is None
    assert audit_rows("user", refuge.id)[-1]["changes"] == {"locked": [True, False]}
    assert stranger.sign_in(DEMO_USERS["refuge"]).status_code == 302


def test_api_tokens_are_listed_and_revoked(demo: Flask, client: FlaskClient, auth: Auth) -> None:
    value, token_id = api_token(DEMO_USERS["refuge"])
    auth.sign_in(DEMO_USERS["refuge_admin"])
    refuge = person(DEMO_USERS["refuge"])
    page = client.get(f"/people/{refuge.id}").get_data(as_text=True)
    assert "Working" in page and "Never" in page  # created, not used yet
    assert client.get(API_URL, headers=bearer(value)).status_code == 200
    assert "Never" not in client.get(f"/people/{refuge.id}").get_data(as_text=True)
    # A token belongs to one person: another's id is not found.
    halton_value, halton_token = api_token(DEMO_USERS["halton_provider"])
    assert client.post(f"/people/{refuge.id}/api-tokens/{halton_token}/revoke").status_code == 404
    assert client.post(f"/people/{refuge.id}/api-tokens/{token_id}/revoke").status_code == 302
    assert client.get(API_URL, headers=bearer(value)).status_code == 401
    assert client.get(API_URL, headers=bearer(halton_value)).status_code == 200
    assert "Revoked" in client.get(f"/people/{refuge.id}").get_data(as_text=True)
    again = client.post(f"/people/{refuge.id}/api-tokens/{token_id}/revoke")
    assert again.status_code == 400 and "already revoked" in error_summary(again)
    assert audit_rows("api_token", token_id)[-1]["actor"] == DEMO_USERS["refuge_admin"]


def test_approving_a_single_sign_on_account(demo: Flask, client: FlaskClient, auth: Auth) -> None:
    with db.transaction() as session:
        session.add(
            User(
                email="new@refuge.example",
                name="Nia New",
                role=None,
                organisation_id=organisation_id("Refuge"),
                sso_issuer="https://login.example/refuge",
                sso_subject="subject-1",
            )
        )
    pending = person("new@refuge.example")
    auth.sign_in(DEMO_USERS["refuge_admin"])
    listing = client.get("/people").get_data(as_text=True)
    assert "Nia New" in listing and "Awaiting approval" in listing
    renamed = client.post(
        f"/people/{pending.id}/edit", data={"name": "Nia Newcomer", "organisation_admin": "no"}
    )
    assert renamed.status_code == 302, error_summary(renamed)
    assert person("new@refuge.example").name == "Nia Newcomer"
    assert client.post(f"/people/{pending.id}/approve").status_code == 302
    assert person("new@refuge.example").role == "provider"
    assert audit_rows("user", pending.id)[-1]["changes"]["role"] == [None, "provider"]
    again = client.post(f"/people/{pending.id}/approve")
    assert again.status_code == 400 and "already has a role" in error_summary(again)
    auth.sign_out()
    # Halton's pending people are not Refuge's to approve.
    with db.transaction() as session:
        session.add(
            User(
                email="new@halton.example",
                name="Hal New",
                role=None,
                organisation_id=organisation_id("Halton Children's Recovery Service (illustrative)"),
            )
        )
    auth.sign_in(DEMO_USERS["refuge_admin"])
    assert client.post(f"/people/{person('new@halton.example').id}/approve").status_code == 404
    assert person("new@halton.example").role is None


def test_resetting_someones_lost_two_factor(demo: Flask, client: FlaskClient, auth: Auth) -> None:
    """Someone who lost their authenticator and recovery codes: their organisation
    admin resets it, their sessions end, and they sign in with their password alone."""
    secret = pyotp.random_base32()
    with db.transaction() as session:
        refuge = session.execute(select(User).where(User.email == DEMO_USERS["refuge"])).scalar_one()
        assert mfa.enable(session, refuge, secret, pyotp.TOTP(secret).now())
    own_session = Auth(demo.test_client())
    assert own_session.sign_in(DEMO_USERS["refuge"]).status_code == 302  # the helper gives the code
    assert own_session.client.get("/contracts").status_code == 200
    auth.sign_in(DEMO_USERS["refuge_admin"])
    refuge = person(DEMO_USERS["refuge"])
    assert "Reset two-factor authentication" in client.get(f"/people/{refuge.id}").get_data(as_text=True)
    assert client.post(f"/people/{refuge.id}/reset-two-factor").status_code == 302
    after = person(DEMO_USERS["refuge"])
    assert after.mfa_secret is None and not after.mfa_enabled
    assert (
        db.session.scalar(select(func.count(RecoveryCode.id)).where(RecoveryCode.user_id == refuge.id)) == 0
    )
    assert "mfa_enabled_at" in audit_rows("user", refuge.id)[-1]["changes"]
    assert own_session.client.get("/contracts").status_code == 302  # signed out at once
    response = Auth(demo.test_client()).sign_in(DEMO_USERS["refuge"])
    assert response.status_code == 302 and "two-factor" not in response.location
    # Nothing to reset now, and nobody resets their own here.
    again = client.post(f"/people/{refuge.id}/reset-two-factor")
    assert again.status_code == 400 and "does not use two-factor" in again.get_data(as_text=True)
