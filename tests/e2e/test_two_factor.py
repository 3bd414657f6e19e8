"""Two-factor authentication in a real browser: a commissioner who must use it
sets it up at sign-in (QR code, secret, a wrong code, recovery codes), signs
out and back in with a code, with axe finding no serious or critical issue on
any page on the way."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pyotp
import pytest
from playwright.sync_api import Page, expect

from monitor.demo import DEMO_PASSWORD
from tests.conftest import DEMO_USERS, two_factor_code
from tests.e2e.conftest import FAILING_IMPACTS, LiveServer

pytestmark = pytest.mark.e2e


def test_a_commissioner_sets_up_two_factor_and_signs_in_with_a_code(
    page: Page, live_server: LiveServer, axe: Callable[[], list[dict[str, Any]]]
) -> None:
    live_server.app.config["REQUIRE_MFA"] = True
    email = DEMO_USERS["lbbd"]
    scanned: dict[str, list[str]] = {}

    def scan(name: str) -> None:
        scanned[name] = [f"{v['id']} ({v['impact']})" for v in axe() if v["impact"] in FAILING_IMPACTS]

    page.goto("/sign-in")
    scan("email question")
    page.get_by_role("button", name="Continue").click()
    expect(page.locator(".govuk-error-summary")).to_contain_text("Enter your email address")
    scan("email question with errors")
    page.get_by_label("Email address").fill(email)
    page.get_by_role("button", name="Continue").click()
    expect(page.locator("h1")).to_have_text("Enter your password")
    scan("password")
    page.get_by_label("Password", exact=True).fill("not the password")
    page.get_by_role("button", name="Sign in").click()
    expect(page.locator(".govuk-error-summary")).to_contain_text("Enter a correct email address and password")
    scan("password with errors")
    page.get_by_label("Password", exact=True).fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Sign in").click()

    page.wait_for_url("**/sign-in/two-factor/set-up")
    expect(page.get_by_role("img", name="QR code for your authenticator app")).to_be_visible()
    scan("set up")
    secret = page.locator("#secret").inner_text().replace(" ", "")
    page.get_by_label("Code from your authenticator app").fill("000000")
    page.get_by_role("button", name="Turn on two-factor authentication").click()
    expect(page.locator(".govuk-error-summary")).to_contain_text("The code is not correct")
    scan("set up with errors")
    page.get_by_label("Code from your authenticator app").fill(pyotp.TOTP(secret).now())
    page.get_by_role("button", name="Turn on two-factor authentication").click()
    expect(page.locator("h1")).to_have_text("Your recovery codes")
    expect(page.locator("#recovery-codes li")).to_have_count(10)
    scan("recovery codes")
    page.get_by_role("button", name="I have saved my recovery codes").click()
    page.wait_for_url("**/decisions")  # a commissioner's home page
    expect(page.get_by_text("Signed in as")).to_be_visible()

    page.goto("/account/two-factor")
    expect(page.locator("h1")).to_have_text("Two-factor authentication")
    scan("manage")
    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url("**/sign-in")

    page.get_by_label("Email address").fill(email)
    page.get_by_role("button", name="Continue").click()
    page.get_by_label("Password", exact=True).fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url("**/sign-in/two-factor")
    scan("code")
    page.get_by_role("link", name="Use a recovery code").click()
    expect(page.locator("h1")).to_have_text("Enter a recovery code")
    scan("recovery code")
    page.get_by_role("link", name="Use a code from your authenticator app instead").click()
    page.get_by_label("Code from your authenticator app").fill("000000")
    page.get_by_role("button", name="Continue").click()
    expect(page.locator(".govuk-error-summary")).to_contain_text("The code is not correct")
    scan("code with errors")
    page.get_by_label("Code from your authenticator app").fill(two_factor_code(email))
    page.get_by_role("button", name="Continue").click()
    page.wait_for_url("**/decisions")
    expect(page.get_by_text("Signed in as")).to_be_visible()

    assert {name: found for name, found in scanned.items() if found} == {}
    assert len(scanned) == 11


def test_the_demo_admin_signs_in_with_a_code(page: Page, sign_in: Callable[[str], None]) -> None:
    sign_in(DEMO_USERS["admin"])
    page.goto("/admin/users")
    expect(page.locator("h1")).to_be_visible()
