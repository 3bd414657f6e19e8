"""Single sign-on against a real OpenID provider (tests/oidc/provider.mjs).

Each test goes through the whole redirect flow: the app's start route, the
provider's own sign-in form, and the app's callback. Every refusal must say
what went wrong and leave nobody signed in."""

from __future__ import annotations

import html
import time
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
from cryptography.fernet import Fernet
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select, update
from werkzeug.test import TestResponse

from monitor.auth.models import SignInEvent, User
from monitor.clock import real_utcnow as utcnow  # security timing keeps the real clock
from monitor.db import db
from monitor.sso.models import SsoLoginState
from monitor.sso.routing import sso_settings_for_email
from tests.oidc import OidcProvider
from tests.sso.conftest import (
    ACCOUNTS,
    DOMAIN,
    PROVIDERS_GROUP,
    SsoOrganisation,
    add_organisation,
    add_user,
    configure_sso,
)


def start(client: FlaskClient, organisation_id: int, email: str, next_path: str = "/contracts") -> str:
    response = client.get(f"/sso/{organisation_id}/start", query_string={"email": email, "next": next_path})
    assert response.status_code == 302, response.get_data(as_text=True)
    return response.headers["Location"]


def callback_path(provider: OidcProvider, authorize_url: str, email: str) -> str:
    back = provider.sign_in_at_provider(authorize_url, email)
    assert back.startswith("http://localhost/sso/callback?"), back
    return back.removeprefix("http://localhost")


def sign_in(
    client: FlaskClient, provider: OidcProvider, organisation: SsoOrganisation, who: str
) -> TestResponse:
    email = ACCOUNTS[who]["email"]
    return client.get(callback_path(provider, start(client, organisation.id, email), email))


def assert_signed_out(client: FlaskClient) -> None:
    with client.session_transaction() as session:
        assert "_user_id" not in session
    response = client.get("/contracts")
    assert response.status_code == 302
    assert urlsplit(response.headers["Location"]).path == "/sign-in"


def refusal(response: TestResponse) -> str:
    assert response.status_code == 400
    text = html.unescape(response.get_data(as_text=True))
    assert "You could not be signed in" in text
    return text


def user_by_email(email: str) -> User | None:
    db.session.expire_all()
    return db.session.scalar(select(User).where(User.email == email))


def test_a_mapped_group_signs_in_with_its_role(
    app: Flask, client: FlaskClient, provider: OidcProvider, refuge: SsoOrganisation
) -> None:
    authorize_url = start(client, refuge.id, ACCOUNTS["alice"]["email"])
    query = parse_qs(urlsplit(authorize_url).query)
    assert authorize_url.startswith(provider.issuer + "/auth?")
    assert query["code_challenge_method"] == ["S256"] and query["code_challenge"][0]
    assert query["nonce"][0] and query["state"][0]
    assert query["login_hint"] == [ACCOUNTS["alice"]["email"]]
    assert query["scope"] == ["openid email profile"]
    # Only the state's digest is stored.
    stored = db.session.scalars(select(SsoLoginState.state_hash)).all()
    assert query["state"][0] not in stored and len(stored) == 1

    response = client.get(callback_path(provider, authorize_url, ACCOUNTS["alice"]["email"]))

    assert response.status_code == 302
    assert response.headers["Location"] == "/contracts"
    alice = user_by_email(ACCOUNTS["alice"]["email"])
    assert alice is not None
    assert (alice.role, alice.organisation_id, alice.organisation_admin) == ("provider", refuge.id, False)
    assert (alice.sso_issuer, alice.sso_subject, alice.name) == (provider.issuer, "sub-alice", "Alice Able")
    assert alice.password_hash is None
    history = db.session.scalars(select(SignInEvent).where(SignInEvent.user_id == alice.id)).all()
    assert [(event.method, event.outcome) for event in history] == [("sso", "signed_in")]
    # Signed in, with no two-factor step: the provider owns that.
    page = client.get("/contracts")
    assert page.status_code == 200
    assert "Signed in as Alice Able" in page.get_data(as_text=True)


def test_an_organisation_admin_group_gives_the_flag(
    client: FlaskClient, provider: OidcProvider, refuge: SsoOrganisation
) -> None:
    response = sign_in(client, provider, refuge, "pat")
    assert response.status_code == 302
    pat = user_by_email(ACCOUNTS["pat"]["email"])
    assert pat is not None and (pat.role, pat.organisation_admin) == ("provider", True)


def test_no_mapped_group_waits_for_approval(
    client: FlaskClient, provider: OidcProvider, refuge: SsoOrganisation
) -> None:
    response = sign_in(client, provider, refuge, "bob")

    assert response.status_code == 200
    text = html.unescape(response.get_data(as_text=True))
    assert "waits for approval by an admin of Refuge" in text
    assert_signed_out(client)
    bob = user_by_email(ACCOUNTS["bob"]["email"])
    assert bob is not None and bob.role is None and bob.organisation_id == refuge.id
    # Signing in again finds the same account, still waiting, and no history of a sign-in.
    again = sign_in(client, provider, refuge, "bob")
    assert "waits for approval" in again.get_data(as_text=True)
    assert db.session.scalar(select(func.count(User.id)).where(User.email == bob.email)) == 1
    assert db.session.scalar(select(func.count(SignInEvent.id))) == 0
    assert_signed_out(client)


def test_a_waiting_account_gets_its_role_once_its_group_is_mapped(
    client: FlaskClient, provider: OidcProvider, refuge: SsoOrganisation
) -> None:
    assert "waits for approval" in html.unescape(
        sign_in(client, provider, refuge, "bob").get_data(as_text=True)
    )
    provider.set_accounts({**ACCOUNTS["bob"], "groups": PROVIDERS_GROUP})  # a single group, as a string

    response = sign_in(client, provider, refuge, "bob")

    assert response.status_code == 302
    bob = user_by_email(ACCOUNTS["bob"]["email"])
    assert bob is not None and (bob.role, bob.organisation_admin) == ("provider", False)


def test_a_secret_the_keys_cannot_read_is_refused(
    app: Flask, client: FlaskClient, provider: OidcProvider, refuge: SsoOrganisation
) -> None:
    email = ACCOUNTS["alice"]["email"]
    path = callback_path(provider, start(client, refuge.id, email), email)
    app.config["DATA_ENCRYPTION_KEYS"] = Fernet.generate_key().decode()  # the old key is gone

    assert "The client secret saved for Refuge cannot be read" in refusal(client.get(path))
    assert_signed_out(client)


def test_an_existing_account_of_the_organisation_is_linked(
    client: FlaskClient, provider: OidcProvider, refuge: SsoOrganisation
) -> None:
    carol_id = add_user(
        email=ACCOUNTS["carol"]["email"], name="Carol", role="provider", organisation_id=refuge.id
    )

    response = sign_in(client, provider, refuge, "carol")

    assert response.status_code == 302
    carol = user_by_email(ACCOUNTS["carol"]["email"])
    assert carol is not None and carol.id == carol_id
    assert (carol.sso_subject, carol.role) == ("sub-carol", "provider")


def test_an_address_held_in_another_organisation_is_refused(
    client: FlaskClient, provider: OidcProvider, refuge: SsoOrganisation
) -> None:
    other = add_organisation("Another charity")
    add_user(email=ACCOUNTS["carol"]["email"], name="Carol", role="provider", organisation_id=other)

    text = refusal(sign_in(client, provider, refuge, "carol"))

    assert "already exists and cannot be joined" in text
    assert_signed_out(client)


def test_a_deactivated_account_is_refused(
    client: FlaskClient, provider: OidcProvider, refuge: SsoOrganisation
) -> None:
    add_user(
        email=ACCOUNTS["alice"]["email"],
        name="Alice",
        role="provider",
        organisation_id=refuge.id,
        sso_issuer=provider.issuer,
        sso_subject="sub-alice",
        active=False,
    )
    text = refusal(sign_in(client, provider, refuge, "alice"))
    assert "Your account has been deactivated" in text
    assert_signed_out(client)


def test_an_address_off_the_organisations_domains_is_refused(
    client: FlaskClient, provider: OidcProvider, refuge: SsoOrganisation
) -> None:
    text = refusal(sign_in(client, provider, refuge, "outsider"))
    assert "is not on one of Refuge's email domains" in text
    assert user_by_email(ACCOUNTS["outsider"]["email"]) is None
    assert_signed_out(client)


def test_a_rotated_key_fetches_the_jwks_again(
    client: FlaskClient, app: Flask, provider: OidcProvider, refuge: SsoOrganisation
) -> None:
    before = provider.stats()["jwks"]
    assert sign_in(client, provider, refuge, "alice").status_code == 302
    assert sign_in(app.test_client(), provider, refuge, "alice").status_code == 302
    assert provider.stats()["jwks"] == before + 1  # the keys are cached between sign-ins

    old_kids = provider.stats()["kids"]
    new_kid = provider.rotate_key(keep_old=False)
    assert provider.stats()["kids"] == [new_kid] and new_kid not in old_kids

    fresh = app.test_client()
    response = sign_in(fresh, provider, refuge, "alice")
    assert response.status_code == 302, response.get_data(as_text=True)
    assert provider.stats()["jwks"] == before + 2
    assert fresh.get("/contracts").status_code == 200


def test_a_wrong_audience_is_refused(
    client: FlaskClient, provider: OidcProvider, refuge: SsoOrganisation, caplog: pytest.LogCaptureFixture
) -> None:
    provider.tamper_next_id_token({"aud": "some-other-service"})
    text = refusal(sign_in(client, provider, refuge, "alice"))
    assert "meant for a different service" in text
    [warning] = [r for r in caplog.records if r.getMessage() == "single sign-on refused"]
    assert (warning.levelname, vars(warning)["reason"], vars(warning)["organisation_id"]) == (
        "WARNING",
        "invalid_aud",
        refuge.id,
    )
    assert user_by_email(ACCOUNTS["alice"]["email"]) is None
    assert_signed_out(client)


def test_an_expired_id_token_is_refused(
    client: FlaskClient, provider: OidcProvider, refuge: SsoOrganisation
) -> None:
    now = int(time.time())
    provider.tamper_next_id_token({"iat": now - 900, "exp": now - 600})
    text = refusal(sign_in(client, provider, refuge, "alice"))
    assert "had expired" in text
    assert_signed_out(client)


def test_a_mismatched_nonce_is_refused(
    client: FlaskClient, provider: OidcProvider, refuge: SsoOrganisation
) -> None:
    provider.tamper_next_id_token({"nonce": "a-nonce-from-another-sign-in"})
    text = refusal(sign_in(client, provider, refuge, "alice"))
    assert "the nonce differs" in text
    assert_signed_out(client)


def test_a_token_signed_with_an_unpublished_key_is_refused(
    app: Flask, client: FlaskClient, provider: OidcProvider, refuge: SsoOrganisation
) -> None:
    before = provider.stats()["jwks"]
    provider.tamper_next_id_token(unpublished_key=True)
    text = refusal(sign_in(client, provider, refuge, "alice"))
    assert "signed with a key your organisation's provider does not publish" in text
    # The unknown key id fetched the keys again once (first fetch and one refresh)...
    assert provider.stats()["jwks"] == before + 2
    # ...and another unknown key id within the minute does not fetch them again.
    provider.tamper_next_id_token(unpublished_key=True)
    refusal(sign_in(app.test_client(), provider, refuge, "alice"))
    assert provider.stats()["jwks"] == before + 2
    assert_signed_out(client)


def test_a_replayed_callback_is_refused(
    app: Flask, client: FlaskClient, provider: OidcProvider, refuge: SsoOrganisation
) -> None:
    email = ACCOUNTS["alice"]["email"]
    path = callback_path(provider, start(client, refuge.id, email), email)
    assert client.get(path).status_code == 302

    attacker = app.test_client()
    text = refusal(attacker.get(path))
    assert "already been used" in text
    assert_signed_out(attacker)


def test_a_callback_started_in_another_browser_is_refused(
    app: Flask, client: FlaskClient, provider: OidcProvider, refuge: SsoOrganisation
) -> None:
    # Someone signs in at the provider as themselves, then gets another person
    # to open the callback: that person must not end up signed in as them.
    email = ACCOUNTS["alice"]["email"]
    path = callback_path(provider, start(client, refuge.id, email), email)

    victim = app.test_client()
    text = refusal(victim.get(path))
    assert "started in a different browser" in text
    assert_signed_out(victim)
    assert "already been used" in refusal(client.get(path))


def test_a_failed_callback_still_uses_up_its_state(
    client: FlaskClient, provider: OidcProvider, refuge: SsoOrganisation
) -> None:
    email = ACCOUNTS["alice"]["email"]
    provider.tamper_next_id_token({"aud": "some-other-service"})
    path = callback_path(provider, start(client, refuge.id, email), email)
    refusal(client.get(path))
    assert "already been used" in refusal(client.get(path))


def test_an_answer_naming_another_issuer_is_refused(client: FlaskClient, refuge: SsoOrganisation) -> None:
    state = parse_qs(urlsplit(start(client, refuge.id, ACCOUNTS["alice"]["email"])).query)["state"][0]
    response = client.get(
        "/sso/callback", query_string={"state": state, "code": "x", "iss": "https://attacker.example"}
    )
    assert "came from a different provider" in refusal(response)
    assert_signed_out(client)


def test_a_sign_in_older_than_ten_minutes_is_refused(
    client: FlaskClient, provider: OidcProvider, refuge: SsoOrganisation
) -> None:
    email = ACCOUNTS["alice"]["email"]
    path = callback_path(provider, start(client, refuge.id, email), email)
    with db.transaction() as session:
        session.execute(update(SsoLoginState).values(created_at=utcnow() - timedelta(minutes=11)))
    assert "took longer than 10 minutes" in refusal(client.get(path))
    assert_signed_out(client)


def test_an_unknown_state_is_refused(client: FlaskClient, refuge: SsoOrganisation) -> None:
    text = refusal(client.get("/sso/callback", query_string={"state": "made-up", "code": "x"}))
    assert "was not started by this service" in text
    assert "did not say which sign-in" in refusal(client.get("/sso/callback?code=x"))
    assert_signed_out(client)


def test_an_error_from_the_provider_is_shown(client: FlaskClient, refuge: SsoOrganisation) -> None:
    state = parse_qs(urlsplit(start(client, refuge.id, ACCOUNTS["alice"]["email"])).query)["state"][0]
    response = client.get(
        "/sso/callback",
        query_string={"state": state, "error": "access_denied", "error_description": "The user cancelled"},
    )
    text = refusal(response)
    assert "Refuge's sign-in service did not sign you in: The user cancelled" in text
    assert_signed_out(client)


def test_an_unreachable_provider_is_refused(app: Flask, client: FlaskClient) -> None:
    organisation_id = add_organisation("Offline charity")
    configure_sso(app, organisation_id, "http://127.0.0.1:9", ["offline.example"], [])
    response = client.get(f"/sso/{organisation_id}/start", query_string={"email": "x@offline.example"})
    assert "could not be reached" in refusal(response)
    assert_signed_out(client)


def test_next_must_be_a_path_on_this_site(
    client: FlaskClient, provider: OidcProvider, refuge: SsoOrganisation
) -> None:
    email = ACCOUNTS["alice"]["email"]
    path = callback_path(provider, start(client, refuge.id, email, next_path="//evil.example/x"), email)
    response = client.get(path)
    assert response.status_code == 302 and response.headers["Location"] == "/"


def test_start_refuses_an_organisation_without_single_sign_on(client: FlaskClient, app: Flask) -> None:
    organisation_id = add_organisation("No SSO")
    assert "not turned on" in refusal(client.get(f"/sso/{organisation_id}/start"))
    assert "not turned on" in refusal(client.get("/sso/999999/start"))


def test_the_domain_routes_to_the_organisation(app: Flask, refuge: SsoOrganisation) -> None:
    settings = sso_settings_for_email(db.session(), f"Someone@{DOMAIN.upper()}")
    assert settings is not None and settings.organisation_id == refuge.id
