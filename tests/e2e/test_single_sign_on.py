"""Single sign-on in a real browser, against the real test provider (tests/oidc/provider.mjs).

Refuge is set up to sign its people in through the provider. A new member of
its mapped group enters their email address at /sign-in, follows "Continue to
Refuge sign-in", signs in at the provider and lands signed in, with a new
account. Every page of the service on the way is scanned with axe (no serious
or critical finding)."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select

from monitor.auth.models import Organisation, User
from monitor.db import db
from monitor.secret_box import encrypt
from monitor.sso.models import SsoDomain, SsoGroupRole, SsoSettings
from tests.e2e.conftest import LiveServer, assert_accessible, sign_in_with_browser
from tests.oidc import CLIENT_ID, CLIENT_SECRET, TEST_REDIRECT_URI, OidcProvider, running_provider

pytestmark = pytest.mark.e2e

GROUP = "refuge-monitor-users"
WAITING: dict[str, Any] = {
    "sub": "sub-waiting",
    "email": "waiting@refuge.demo.example",
    "name": "Wyn Waiting",
}
PERSON: dict[str, Any] = {
    "sub": "sub-new-person",
    "email": "new.person@refuge.demo.example",
    "name": "Nia Newcomer",
    "groups": [GROUP],
}


@pytest.fixture(scope="module")
def identity_provider() -> Iterator[OidcProvider]:
    with running_provider([TEST_REDIRECT_URI]) as provider:
        yield provider


@pytest.fixture
def refuge_signs_in_through_provider(
    live_server: LiveServer, identity_provider: OidcProvider
) -> OidcProvider:
    identity_provider.reset()
    identity_provider.set_redirect_uris(live_server.url("/sso/callback"))
    identity_provider.set_accounts(PERSON, WAITING)
    with live_server.app.app_context(), db.transaction() as session:
        refuge = session.scalars(select(Organisation).where(Organisation.name == "Refuge")).first()
        assert refuge is not None, "the demo has a Refuge organisation"
        session.add(
            SsoSettings(
                organisation_id=refuge.id,
                issuer=identity_provider.issuer,
                client_id=CLIENT_ID,
                client_secret_encrypted=encrypt(CLIENT_SECRET, live_server.app.config),
                domains=[SsoDomain(domain="refuge.demo.example")],
                group_roles=[SsoGroupRole(group_value=GROUP, role="provider")],
            )
        )
    db.session.remove()
    return identity_provider


def test_a_new_person_signs_in_through_their_organisations_provider(
    page: Page,
    live_server: LiveServer,
    refuge_signs_in_through_provider: OidcProvider,
    axe: Callable[[], list[dict[str, Any]]],
) -> None:
    page.goto("/sign-in")
    assert_accessible(axe, "sign-in page")
    page.get_by_label(re.compile("email address", re.IGNORECASE)).fill(PERSON["email"])
    page.get_by_role("button", name="Continue").click()

    link = page.locator("a", has_text=re.compile(r"Continue to Refuge.* sign-in"))
    expect(link).to_be_visible()
    assert_accessible(axe, "the page sending people to their organisation's sign-in")
    link.click()

    page.wait_for_url(f"{refuge_signs_in_through_provider.issuer}/interaction/**")
    page.get_by_label("Email address").fill(PERSON["email"])
    page.get_by_role("button", name="Sign in at the provider").click()

    page.wait_for_url(re.compile("^" + re.escape(live_server.base_url) + "/"))
    expect(page.get_by_text("Signed in as Nia Newcomer")).to_be_visible()
    assert_accessible(axe, "the first page after signing in")

    with live_server.app.app_context():
        person = db.session.scalar(select(User).where(User.email == PERSON["email"]))
        assert person is not None and person.role == "provider" and person.sso_subject == PERSON["sub"]
        db.session.remove()


def test_a_person_in_no_mapped_group_is_told_to_wait_for_approval(
    page: Page,
    live_server: LiveServer,
    refuge_signs_in_through_provider: OidcProvider,
    axe: Callable[[], list[dict[str, Any]]],
) -> None:
    page.goto("/sign-in")
    page.get_by_label(re.compile("email address", re.IGNORECASE)).fill(WAITING["email"])
    page.get_by_role("button", name="Continue").click()
    page.locator("a", has_text=re.compile(r"Continue to Refuge.* sign-in")).click()
    page.get_by_label("Email address").fill(WAITING["email"])
    page.get_by_role("button", name="Sign in at the provider").click()

    expect(page.get_by_role("heading", name="Your account waits for approval")).to_be_visible()
    expect(page.get_by_text("waits for approval by an admin of Refuge")).to_be_visible()
    assert_accessible(axe, "the waiting-for-approval page")
    expect(page.get_by_text("Signed in as")).to_have_count(0)


def test_the_settings_page_is_accessible_with_and_without_errors(
    page: Page, live_server: LiveServer, axe: Callable[[], list[dict[str, Any]]]
) -> None:
    signed_in_as_admin(page, live_server)
    with live_server.app.app_context():
        refuge = db.session.scalar(select(Organisation.id).where(Organisation.name == "Refuge"))
        db.session.remove()
    page.goto(f"/admin/organisations/{refuge}/sign-in")
    expect(page.get_by_role("heading", name="Single sign-on")).to_be_visible()
    assert_accessible(axe, "the single sign-on settings page")

    page.get_by_label("Issuer").fill("http://idp.example.com")
    page.get_by_label("Email domains").fill("not a domain")
    page.get_by_role("button", name="Save sign-in settings").click()
    expect(page.get_by_text("There is a problem")).to_be_visible()
    assert_accessible(axe, "the single sign-on settings page with errors")
    for link in page.locator(".govuk-error-summary a").all():
        target = (link.get_attribute("href") or "").removeprefix("#")
        assert page.locator(f"[id='{target}']").count() == 1, target


def signed_in_as_admin(page: Page, live_server: LiveServer) -> None:
    """The demo admin, signed in through the sign-in pages with their two-factor code."""
    sign_in_with_browser(page, "admin@demo.example")
    page.wait_for_url("**/contracts")
