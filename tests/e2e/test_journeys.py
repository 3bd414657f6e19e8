"""A commissioner gets the extension form wrong, in a real browser: the error
summary, its links to the fields, and nothing changed. (Exercising an
extension from sign-in to done is walked, and its steps counted, in
test_role_journeys.py.) Screenshots go to test-artifacts/ for people to look at.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import pytest
from playwright.sync_api import Locator, Page, expect

from tests.conftest import DEMO_USERS
from tests.e2e.conftest import sign_out

pytestmark = pytest.mark.e2e

CONTRACT = "LBBD-DV-004"  # counselling; one 12-month option; ends 31 March 2014


def summary_value(page: Page, key: str) -> Locator:
    row = page.locator(".govuk-summary-list__row").filter(
        has=page.locator(".govuk-summary-list__key", has_text=re.compile(rf"^\s*{key}\s*$"))
    )
    return row.locator(".govuk-summary-list__value")


def open_contract_from_register(page: Page, reference: str) -> None:
    page.get_by_role("link", name=reference, exact=True).click()
    expect(page.locator("h1")).to_contain_text("Specialist counselling for women")
    expect(page.locator(".govuk-caption-l")).to_have_text(reference)


def test_empty_extension_form_shows_error_summary_and_changes_nothing(
    page: Page, sign_in: Callable[[str], None], artifacts: Path, backend: str
) -> None:
    sign_in(DEMO_USERS["lbbd"])
    page.goto("/contracts")
    open_contract_from_register(page, CONTRACT)
    page.get_by_role("link", name="Exercise an extension").click()

    page.get_by_role("button", name="Continue").click()

    # The GOV.UK error summary: focused, titled, one link per missing field.
    summary = page.locator(".govuk-error-summary")
    expect(summary).to_be_visible()
    expect(summary).to_be_focused()
    expect(summary.locator(".govuk-error-summary__title")).to_have_text("There is a problem")
    expect(page).to_have_title(re.compile(r"^Error: "))
    links = summary.locator(".govuk-error-summary__list a")
    hrefs = [links.nth(i).get_attribute("href") for i in range(links.count())]
    assert hrefs == ["#effective_date-day", "#rationale", "#approved_by"], hrefs
    for i, href in enumerate(hrefs):
        assert href is not None
        expect(page.locator(href)).to_have_count(1)
        # Each field shows its own message too.
        message = links.nth(i).inner_text()
        expect(page.locator(".govuk-error-message").filter(has_text=message)).to_have_count(1)
    page.screenshot(path=str(artifacts / f"e2e-extension-errors-{backend}.png"), full_page=True)

    # A summary link takes keyboard focus to its field.
    links.filter(has_text="Reason").first.click()
    expect(page.locator("#rationale")).to_be_focused()
    links.first.click()
    expect(page.locator("#effective_date-day")).to_be_focused()

    # Nothing changed.
    page.get_by_role("link", name="Back").click()
    expect(summary_value(page, "Current end date")).to_have_text("31 March 2014")
    expect(page.get_by_text("No amendments recorded.")).to_be_visible()

    sign_out(page)
