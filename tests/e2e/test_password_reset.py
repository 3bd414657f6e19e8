"""A forgotten password, reset in a real browser: ask for a link, read the email
from the outbox folder, follow the link, get the password wrong then right,
and sign in with it. axe scans every page on the way."""

from __future__ import annotations

import email
import re
from collections.abc import Callable
from email.policy import default
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from tests.conftest import DEMO_USERS
from tests.e2e.conftest import LiveServer, assert_accessible

pytestmark = pytest.mark.e2e

PERSON = DEMO_USERS["refuge"]
NEW_PASSWORD = "violet kettle harbour swim"


def reset_link_from_outbox(outbox: Path) -> str:
    (mail,) = [email.message_from_bytes(p.read_bytes(), policy=default) for p in outbox.glob("*.eml")]
    assert mail["To"] == PERSON
    part = mail.get_body(("plain",))
    assert part is not None
    text = part.get_content()
    found = re.search(r"https?://\S+/reset-password/\S+", text)
    assert found, text
    return found.group(0)


# A provider's home page: their tasks, or the register where that page is not there.
PROVIDER_HOME = re.compile(r"/(tasks|contracts)$")


def sign_in(page: Page, address: str, password: str, lands_on: str | re.Pattern[str] = PROVIDER_HOME) -> None:
    """Through the sign-in page, whether it asks for the password with the address or after it."""
    page.get_by_label("Email address").fill(address)
    if page.get_by_label("Password", exact=True).count() == 0:
        page.get_by_role("button", name="Continue").click()
    page.get_by_label("Password", exact=True).fill(password)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(lands_on)
    expect(page.get_by_text("Signed in as")).to_be_visible()


def test_a_forgotten_password_is_reset_through_the_emailed_link(
    page: Page, live_server: LiveServer, axe: Callable[[], list[dict[str, Any]]], tmp_path: Path
) -> None:
    outbox = tmp_path / "outbox"
    live_server.app.config["OUTBOX_DIR"] = str(outbox)

    page.goto("/forgot-password")
    expect(page.locator("h1")).to_have_text("Reset your password")
    assert_accessible(axe, "forgot password")
    page.get_by_role("button", name="Send me a link").click()
    expect(page.locator(".govuk-error-summary")).to_contain_text("Enter your email address")
    assert_accessible(axe, "forgot password, with an error")
    page.get_by_label("Email address").fill(PERSON)
    page.get_by_role("button", name="Send me a link").click()
    expect(page.locator("h1")).to_have_text("Check your email")
    expect(page.locator("main")).to_contain_text(f"If an account exists for {PERSON}, we have sent a link")
    assert_accessible(axe, "check your email")

    link = reset_link_from_outbox(outbox)
    assert link.startswith(live_server.base_url)
    response = page.goto(link)
    assert response is not None and response.headers["referrer-policy"] == "no-referrer"
    expect(page.locator("h1")).to_have_text("Choose a new password")
    assert_accessible(axe, "choose a new password")

    page.get_by_label("New password", exact=True).fill("password1234")
    page.get_by_label("Confirm new password").fill("password1234")
    page.get_by_role("button", name="Save new password").click()
    expect(page.locator(".govuk-error-summary")).to_contain_text("commonly used")
    assert_accessible(axe, "choose a new password, with an error")

    page.get_by_label("New password", exact=True).fill(NEW_PASSWORD)
    page.get_by_label("Confirm new password").fill(NEW_PASSWORD)
    page.get_by_role("button", name="Save new password").click()
    expect(page.locator("h1")).to_have_text("Your password has been changed")
    assert_accessible(axe, "password changed")

    page.get_by_role("link", name="Sign in with your new password").click()
    sign_in(page, PERSON, NEW_PASSWORD)

    page.goto(link)
    expect(page.locator("h1")).to_have_text("This link has expired or has already been used")
    assert_accessible(axe, "link used")
    page.get_by_role("link", name="Ask for a new link").click()
    expect(page.locator("h1")).to_have_text("Reset your password")


def test_a_temporary_password_is_changed_at_first_sign_in(
    page: Page, live_server: LiveServer, axe: Callable[[], list[dict[str, Any]]]
) -> None:
    temporary, starter = "temporary-password-from-ops", "new.starter@refuge.demo.example"
    made = live_server.app.test_cli_runner().invoke(
        args=[
            *("users", "create", "--email", starter, "--name", "New Starter"),
            *("--role", "provider", "--organisation", "Refuge", "--password-stdin"),
        ],
        input=temporary + "\n",
    )
    assert made.exit_code == 0, made.output

    page.goto("/sign-in")
    # Signing in goes to the register, which sends them on to change the password first.
    sign_in(page, starter, temporary, lands_on="**/account/password")
    expect(page.locator(".govuk-warning-text")).to_contain_text("temporary password that someone else chose")
    assert_accessible(axe, "change a temporary password")

    page.get_by_label("Current password").fill(temporary)
    page.get_by_label("New password", exact=True).fill(NEW_PASSWORD)
    page.get_by_label("Confirm new password").fill("not the same")
    page.get_by_role("button", name="Change password").click()
    expect(page.locator(".govuk-error-summary")).to_contain_text("Enter the same password in both boxes")
    assert_accessible(axe, "change password, with an error")

    page.get_by_label("Current password").fill(temporary)
    page.get_by_label("New password", exact=True).fill(NEW_PASSWORD)
    page.get_by_label("Confirm new password").fill(NEW_PASSWORD)
    page.get_by_role("button", name="Change password").click()
    page.wait_for_url("**/contracts")
    expect(page.locator(".govuk-notification-banner")).to_contain_text("Your password has been changed")
    page.goto("/renewals")
    expect(page.locator("h1")).not_to_have_text("Change your password")
