"""Benchmarking in a real browser: an administrator records a partnership's
decision to be compared (first leaving the form empty) and creates a
similar-areas group (first with one area), with CSRF protection on. axe scans
every page and error state on the way."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask
from playwright.sync_api import Page, expect

from tests.conftest import DEMO_USERS
from tests.e2e.conftest import LiveServer, assert_accessible

pytestmark = pytest.mark.e2e

BARKING = "Barking and Dagenham Health and Wellbeing Board"
TRI_BOROUGH = "Tri-borough VAWG Partnership"


def test_an_administrator_records_an_opt_in_and_creates_a_group(
    demo: Flask,
    page: Page,
    live_server: LiveServer,
    sign_in: Callable[..., None],
    axe: Callable[[], list[dict[str, Any]]],
) -> None:
    sign_in(DEMO_USERS["admin"])
    page.goto("/admin/benchmarking")
    expect(page.locator("h1")).to_have_text("Benchmarking")
    # The demo has not recorded the tri-borough partnership's decision.
    undecided_row = page.locator("table#partnerships tbody tr", has_text=TRI_BOROUGH)
    expect(undecided_row).to_contain_text("Not decided")
    assert_accessible(axe, "benchmarking")

    page.get_by_role("link", name=f"Decisions of {TRI_BOROUGH}").click()
    expect(page.locator("h1")).to_have_text("Decision to be compared")
    assert_accessible(axe, "decision")
    page.get_by_role("button", name="Record decision").click()
    summary = page.locator(".govuk-error-summary")
    expect(summary).to_contain_text("Choose whether the partnership opted in or opted out")
    expect(summary).to_contain_text("Enter the date the partnership decided")
    assert_accessible(axe, "decision, with errors")
    # The summary's link leads to the field it is about.
    summary.get_by_role("link", name="Enter the date the partnership decided").click()
    expect(page.locator("#decided_on-day")).to_be_focused()

    page.get_by_label("Opted in: its figures may be compared").check()
    page.get_by_label("Day").fill("27")
    page.get_by_label("Month").fill("3")
    page.get_by_label("Year").fill("2013")
    page.get_by_label("Approved by").fill("Cllr Alex Morgan")
    page.get_by_label("Their role (optional)").fill("Chair of the partnership")
    page.get_by_role("button", name="Record decision").click()
    expect(page.locator(".govuk-notification-banner")).to_contain_text(
        f"Recorded: {TRI_BOROUGH} opted in on 27 March 2013"
    )
    expect(page.locator("#history tbody tr")).to_have_count(1)
    expect(page.locator("#history tbody tr").first).to_contain_text("Cllr Alex Morgan")
    assert_accessible(axe, "decision, recorded")

    page.get_by_role("link", name="Back to benchmarking").click()
    expect(undecided_row).to_contain_text("Opted in")
    expect(undecided_row).to_contain_text("27 March 2013, by Cllr Alex Morgan")

    page.get_by_role("button", name="Create a group").click()
    expect(page.locator("h1")).to_have_text("Create a group")
    assert_accessible(axe, "create a group")
    page.get_by_label("Group name").fill("London partnerships")
    page.get_by_label(BARKING).check()
    page.get_by_role("button", name="Save group").click()
    expect(page.locator(".govuk-error-summary")).to_contain_text("Choose at least 2 areas for the group")
    assert_accessible(axe, "create a group, with errors")
    # What was typed and ticked is kept.
    expect(page.get_by_label("Group name")).to_have_value("London partnerships")
    expect(page.get_by_label(BARKING)).to_be_checked()
    page.get_by_label(TRI_BOROUGH).check()
    page.get_by_role("button", name="Save group").click()

    expect(page.locator(".govuk-notification-banner")).to_contain_text(
        "Group London partnerships created with 2 areas"
    )
    expect(page.locator("table#groups tbody tr", has_text="London partnerships")).to_contain_text(
        f"{BARKING}, {TRI_BOROUGH}"
    )
    barking_row = page.locator("table#partnerships tbody tr", has_text=BARKING)
    expect(barking_row).to_contain_text("London partnerships")
    assert_accessible(axe, "benchmarking, with a group")
