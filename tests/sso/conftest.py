"""Single sign-on fixtures: one real OpenID provider for the session, and an
organisation whose people sign in through it."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from flask import Flask, g
from flask.testing import FlaskClient
from flask_login.utils import _create_identifier

from monitor.auth.models import Organisation, OrganisationKind, User
from monitor.db import db
from monitor.secret_box import encrypt
from monitor.sso.models import SsoDomain, SsoGroupRole, SsoSettings
from tests.oidc import CLIENT_ID, CLIENT_SECRET, TEST_REDIRECT_URI, OidcProvider, running_provider

DOMAIN = "refuge.example"
PROVIDERS_GROUP = "9f1c6b0e-providers"
PEOPLE_ADMINS_GROUP = "2d7a4c11-people-admins"
ACCOUNTS: dict[str, dict[str, Any]] = {
    "alice": {
        "sub": "sub-alice",
        "email": f"alice@{DOMAIN}",
        "name": "Alice Able",
        "groups": [PROVIDERS_GROUP],
    },
    "pat": {
        "sub": "sub-pat",
        "email": f"pat@{DOMAIN}",
        "name": "Pat People",
        "groups": ["unrelated", PEOPLE_ADMINS_GROUP],
    },
    "bob": {"sub": "sub-bob", "email": f"bob@{DOMAIN}", "name": "Bob Waiting", "groups": ["unrelated"]},
    "carol": {"sub": "sub-carol", "email": f"carol@{DOMAIN}", "name": "Carol Linked"},
    "outsider": {"sub": "sub-outsider", "email": "outsider@elsewhere.example", "name": "Out Sider"},
}


@pytest.fixture(autouse=True)
def _no_user_left_on_g(request: pytest.FixtureRequest) -> None:
    """The `app` fixture keeps one app context open for the whole test, so
    Flask-Login's user cached on `g` would outlive a request: forget it at the
    start of each, as a real server's fresh app context does."""
    if "app" not in request.fixturenames:
        return
    app: Flask = request.getfixturevalue("app")

    def forget_user() -> None:
        g.pop("_login_user", None)

    app.before_request_funcs.setdefault(None, []).insert(0, forget_user)


@pytest.fixture(scope="session")
def oidc_provider() -> Iterator[OidcProvider]:
    """The real `oidc-provider` under node, started once for the whole session."""
    with running_provider([TEST_REDIRECT_URI]) as provider:
        yield provider


@pytest.fixture
def provider(oidc_provider: OidcProvider) -> OidcProvider:
    oidc_provider.reset()
    oidc_provider.set_redirect_uris(TEST_REDIRECT_URI)
    oidc_provider.set_accounts(*ACCOUNTS.values())
    return oidc_provider


@dataclass
class SsoOrganisation:
    id: int
    name: str
    settings_id: int


def add_organisation(name: str, kind: str = OrganisationKind.PROVIDER) -> int:
    with db.transaction() as session:
        organisation = Organisation(name=name, kind=kind)
        session.add(organisation)
        session.flush()
        return organisation.id


def configure_sso(
    app: Flask, organisation_id: int, issuer: str, domains: list[str], mappings: list[tuple[str, str, bool]]
) -> int:
    with db.transaction() as session:
        settings = SsoSettings(
            organisation_id=organisation_id,
            issuer=issuer,
            client_id=CLIENT_ID,
            client_secret_encrypted=encrypt(CLIENT_SECRET, app.config),
            domains=[SsoDomain(domain=d) for d in domains],
            group_roles=[SsoGroupRole(group_value=g, role=r, organisation_admin=a) for g, r, a in mappings],
        )
        session.add(settings)
        session.flush()
        return settings.id


@pytest.fixture
def refuge(app: Flask, provider: OidcProvider) -> SsoOrganisation:
    """A provider organisation signing in through the test provider, with two mapped groups."""
    organisation_id = add_organisation("Refuge")
    settings_id = configure_sso(
        app,
        organisation_id,
        provider.issuer,
        [DOMAIN],
        [(PROVIDERS_GROUP, "provider", False), (PEOPLE_ADMINS_GROUP, "provider", True)],
    )
    db.session.remove()
    return SsoOrganisation(organisation_id, "Refuge", settings_id)


def add_user(**fields: Any) -> int:
    with db.transaction() as session:
        user = User(**fields)
        session.add(user)
        session.flush()
        return user.id


def sign_in_directly(app: Flask, client: FlaskClient, user_id: int) -> None:
    """Put `user_id` into the client's session as a completed sign-in would
    (the settings tests are about the settings page, not how admins sign in)."""
    user = db.session.get(User, user_id)
    assert user is not None
    with app.test_request_context(environ_base=client.environ_base):
        identifier = _create_identifier()
    with client.session_transaction() as session:
        session["_user_id"] = user.get_id()
        session["_fresh"] = True
        session["_id"] = identifier
    db.session.remove()
