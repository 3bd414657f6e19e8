"""An invitation in a real browser: Refuge's organisation admin invites someone
(first getting the form wrong), the invitee opens the link from the email in the
outbox folder, chooses a password (first a common one), and signs in. axe scans
every page on the way."""

from __future__ import annotations

import re
from collections.abc import Callable
from email import message_from_bytes, policy
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from tests.conftest import DEMO_USERS
from tests.e2e.conftest import LiveServer, assert_accessible

pytestmark = pytest.mark.e2e

INVITEE = "new.advocate@refuge.demo.example"
NEW_PASSWORD = "harbour lantern meadow quill"


def invitation_link(outbox: Path) -> str:
    (mail,) = [message_from_bytes(p.read_bytes(), policy=policy.default) for p in outbox.glob("*.eml")]
    assert mail["To"] == INVITEE
    part = mail.get_body(("plain",))
    assert part is not None
    text = part.get_content()
    found = re.search(r"https?://\S+/invitation/\S+", text)
    assert found, text
    return found.group(0)


def test_an_organisation_admin_invites_someone_who_sets_a_password_and_signs_in(
    page: Page,
    live_server: LiveServer,
    sign_in: Callable[..., None],
    axe: Callable[[], list[dict[str, Any]]],
    tmp_path: Path,
) -> None:
    outbox = tmp_path / "outbox"
    live_server.app.config["OUTBOX_DIR"] = str(outbox)
    sign_in(DEMO_USERS["refuge_admin"])

    page.get_by_role("link", name="People", exact=True).click()
    expect(page.locator("h1")).to_have_text("People")
    expect(page.locator("table.app-people")).to_contain_text(DEMO_USERS["refuge"])
    expect(page.locator("table.app-people")).not_to_contain_text(DEMO_USERS["halton_provider"])
    assert_accessible(axe, "people")

    page.get_by_role("link", name="Invite someone").click()
    expect(page.locator("h1")).to_have_text("Invite someone")
    assert_accessible(axe, "invite")
    page.get_by_role("button", name="Send invitation").click()
    expect(page.locator(".govuk-error-summary")).to_contain_text("Enter the person's full name")
    expect(page.locator(".govuk-error-summary")).to_contain_text("Enter the person's email address")
    assert_accessible(axe, "invite, with errors")

    page.get_by_label("Full name").fill("Nadia Advocate")
    page.get_by_label("Email address").fill(INVITEE)
    page.get_by_role("button", name="Send invitation").click()
    expect(page.locator(".govuk-notification-banner")).to_contain_text(f"Invitation sent to {INVITEE}")
    expect(page.locator("h1")).to_have_text("Nadia Advocate")
    expect(page.locator(".govuk-summary-list")).to_contain_text("Invited")
    expect(page.locator(".govuk-summary-list")).to_contain_text("Invitation sent on")
    assert_accessible(axe, "the invited person")
    page.get_by_role("link", name="Deactivate account").click()
    expect(page.locator("h1")).to_have_text("Deactivate Nadia Advocate's account?")
    assert_accessible(axe, "deactivate, asking first")
    page.get_by_role("link", name="Cancel").click()
    page.get_by_role("button", name="Sign out").click()

    link = invitation_link(outbox)
    assert link.startswith(live_server.base_url)
    response = page.goto(link)
    assert response is not None and response.headers["referrer-policy"] == "no-referrer"
    expect(page.locator("h1")).to_have_text("Create your password")
    assert_accessible(axe, "create your password")
    page.get_by_label("Create a password").fill("password1234")
    page.get_by_label("Confirm the password").fill("password1234")
    page.get_by_role("button", name="Set password").click()
    expect(page.locator(".govuk-error-summary")).to_contain_text("commonly used")
    assert_accessible(axe, "create your password, with an error")
    page.get_by_label("Create a password").fill(NEW_PASSWORD)
    page.get_by_label("Confirm the password").fill(NEW_PASSWORD)
    page.get_by_role("button", name="Set password").click()
    expect(page.locator("h1")).to_have_text("Your account is ready")
    assert_accessible(axe, "your account is ready")

    page.goto(link)
    expect(page.locator("h1")).to_have_text("This invitation link has expired")
    assert_accessible(axe, "invitation link used")

    sign_in(INVITEE, NEW_PASSWORD)
    expect(page.get_by_text("Signed in as Nadia Advocate")).to_be_visible()
    page.get_by_role("link", name="Your account").click()
    expect(page.locator("h1")).to_have_text("Your account")
    expect(page.locator(".govuk-summary-list")).to_contain_text("Refuge")
    assert_accessible(axe, "your account")


def test_the_admin_navigation_stays_on_one_row_and_people_are_listed(
    page: Page, sign_in: Callable[..., None], axe: Callable[[], list[dict[str, Any]]]
) -> None:
    sign_in(DEMO_USERS["admin"])  # the page is 1280 px wide
    # An admin's own pages sit behind one "Admin" entry: the service name and menu share one row.
    page.get_by_role("navigation", name="Main menu").get_by_role("link", name="Admin").click()
    page.get_by_role("link", name="People", exact=True).click()
    expect(page.locator("h1")).to_have_text("People")
    expect(page.locator(".govuk-service-navigation a[aria-current]")).to_have_text("Admin")
    items = page.locator(".govuk-service-navigation__item")
    boxes = [items.nth(n).bounding_box() for n in range(items.count())]
    boxes.append(page.locator(".govuk-service-navigation__service-name").bounding_box())
    tops = {round(box["y"]) for box in boxes if box}
    assert items.count() == 7 and len(tops) == 1, tops
    expect(page.locator("table.app-people")).to_contain_text(DEMO_USERS["halton_provider"])
    page.get_by_label("Organisation").select_option(label="Refuge")
    page.get_by_role("button", name="Show people").click()
    expect(page.locator("#people-count")).to_have_text("2 people")
    assert_accessible(axe, "people, for an admin")
    page.get_by_role("link", name="Robin Refuge-Admin").click()
    expect(page.locator(".govuk-summary-list")).to_contain_text("Provider (organisation admin)")
    page.get_by_role("link", name="Change details").click()
    expect(page.get_by_label("Full name")).to_have_value("Robin Refuge-Admin")
    assert_accessible(axe, "change a person's details")
