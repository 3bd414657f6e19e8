"""A commissioner's journey through the register in a real browser.

Sign in, filter the register, open a contract, exercise its extension option
(and first get the form wrong), see the new end date and the change history,
then sign out. Screenshots go to test-artifacts/ for people to look at.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import pytest
from playwright.sync_api import Locator, Page, expect

from tests.conftest import DEMO_USERS

pytestmark = pytest.mark.e2e

CONTRACT = "LBBD-DV-004"  # counselling; one 12-month option; ends 31 March 2014


def register_references(page: Page) -> list[str]:
    return page.locator("table.app-register tbody tr td:first-child").all_inner_texts()


def summary_value(page: Page, key: str) -> Locator:
    row = page.locator(".govuk-summary-list__row").filter(
        has=page.locator(".govuk-summary-list__key", has_text=re.compile(rf"^\s*{key}\s*$"))
    )
    return row.locator(".govuk-summary-list__value")


def history_rows(page: Page) -> Locator:
    return page.locator("table.app-history tbody tr")


def open_contract_from_register(page: Page, reference: str) -> None:
    page.get_by_role("link", name=reference, exact=True).click()
    expect(page.locator("h1")).to_contain_text("Specialist counselling for women")
    expect(page.locator(".govuk-caption-l")).to_have_text(reference)


def test_commissioner_filters_register_and_exercises_extension(
    page: Page, sign_in: Callable[[str], None], artifacts: Path, backend: str
) -> None:
    sign_in(DEMO_USERS["lbbd"])

    # The register, unfiltered: all seven Barking and Dagenham contracts.
    expect(page.locator("h1")).to_have_text("Contracts")
    expect(page.locator("#register-count")).to_contain_text("7 contracts")
    assert CONTRACT in register_references(page)
    assert "LBBD-DV-001" in register_references(page)

    # Filter to supplementary services through the form.
    page.get_by_label("Category").select_option(label="Supplementary")
    page.get_by_role("button", name="Apply filters").click()
    page.wait_for_url(re.compile(r"category=supplementary"))
    expect(page.locator("#register-count")).to_contain_text("2 contracts")
    assert sorted(register_references(page)) == ["LBBD-DV-003", CONTRACT]
    expect(page.get_by_label("Category")).to_have_value("supplementary")
    page.screenshot(path=str(artifacts / f"e2e-register-filtered-{backend}.png"), full_page=True)

    # The contract, before the extension.
    open_contract_from_register(page, CONTRACT)
    expect(summary_value(page, "Current end date")).to_have_text("31 March 2014")
    options = page.locator("table", has=page.locator("caption", has_text="Extension options"))
    expect(options.locator("tbody tr")).to_have_count(1)
    expect(options.locator("tbody tr")).to_contain_text("Available")
    history_before = history_rows(page).count()

    # Exercise the option through the form.
    page.get_by_role("link", name="Exercise an extension").click()
    expect(page.locator("h1")).to_have_text("Exercise an extension")
    option = page.get_by_role("group", name="Option to exercise").get_by_role("radio")
    expect(option).to_have_count(1)
    expect(option).to_be_checked()
    expect(option).to_have_accessible_name("Option 1: 12 months: ends 31 March 2015")
    decision_date = page.get_by_role("group", name="Date of the decision")
    decision_date.get_by_label("Day").fill("2")
    decision_date.get_by_label("Month").fill("12")
    decision_date.get_by_label("Year").fill("2013")
    page.get_by_label("Reason for extending").fill("Service review: extend while options are appraised")
    page.get_by_label("Approved by").fill("Health and Wellbeing Board")
    page.get_by_label("Board minute reference (optional)").fill("HWB 37")
    page.get_by_role("button", name="Exercise extension").click()

    # Back on the contract: the new end date, the exercised option and the audit trail.
    expect(page.locator(".govuk-notification-banner--success")).to_contain_text(
        "Extension exercised: the contract now ends on 31 March 2015"
    )
    expect(summary_value(page, "Current end date")).to_have_text("31 March 2015")
    expect(summary_value(page, "End of initial term")).to_have_text("31 March 2014")
    expect(options.locator("tbody tr")).to_contain_text("Exercised")
    amendments = page.locator("table", has=page.locator("caption", has_text="Amendment history"))
    expect(amendments.locator("tbody tr")).to_have_count(1)
    expect(amendments.locator("tbody tr")).to_contain_text("End date 31 March 2014 to 31 March 2015")
    expect(amendments.locator("tbody tr")).to_contain_text("Health and Wellbeing Board (minute HWB 37)")

    history = history_rows(page)
    assert history.count() > history_before
    created = history.filter(has_text="Created amendment")
    expect(created).to_have_count(1)
    expect(created).to_contain_text("commissioner@lbbd.demo.example")
    updated = history.filter(has_text="Updated contract").filter(has_text="end date")
    expect(updated).to_have_count(1)
    expect(updated).to_contain_text("2014-03-31")
    expect(updated).to_contain_text("2015-03-31")
    page.screenshot(path=str(artifacts / f"e2e-contract-extended-{backend}.png"), full_page=True)

    # The option is used up: no button offers it, and the form says so instead of offering it again.
    expect(page.get_by_role("link", name="Exercise an extension")).to_have_count(0)
    page.goto(re.sub(r"(/contracts/\d+).*", r"\1/extend", page.url))
    expect(page.get_by_text("There are no extension options left on this contract.")).to_be_visible()

    # Sign out: back to the sign-in page, and the register is out of reach.
    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url("**/sign-in")
    expect(page.locator(".govuk-notification-banner--success")).to_contain_text("You have signed out")
    expect(page.get_by_text("Signed in as")).to_have_count(0)
    page.goto("/contracts")
    page.wait_for_url(re.compile(r"/sign-in\?next="))
    expect(page.locator("h1")).to_have_text("Sign in")


def test_empty_extension_form_shows_error_summary_and_changes_nothing(
    page: Page, sign_in: Callable[[str], None], artifacts: Path, backend: str
) -> None:
    sign_in(DEMO_USERS["lbbd"])
    open_contract_from_register(page, CONTRACT)
    history_before = history_rows(page).all_inner_texts()
    page.get_by_role("link", name="Exercise an extension").click()

    page.get_by_role("button", name="Exercise extension").click()

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
    assert history_rows(page).all_inner_texts() == history_before

    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url("**/sign-in")
