"""Each role's main task from sign-in to done, at 1280px and at 375px wide,
counting the steps it takes.

A step is one page the person has to act on: a click that loads a page, or a
form they submit (downloading the template loads no page, so it is not one).
On every page of the way axe must find nothing serious or critical, a 375px
page must not scroll sideways, and a full-page screenshot is kept as
test-artifacts/journeys/<role>-<width>-<nn>-<page>.png.

    TEST_DATABASES=sqlite .venv/bin/pytest tests/e2e/test_role_journeys.py
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from playwright.sync_api import Page, expect

from etl.app import warehouse_url
from etl.run import run_etl
from monitor.clock import today
from monitor.db import db
from monitor.demo import DEMO_PASSWORD
from monitor.kpis.returns.template.filling import fill_template
from tests.conftest import DEMO_USERS
from tests.e2e.conftest import assert_accessible, assert_fits_the_window, sign_out
from tests.e2e.test_journeys import summary_value
from tests.e2e.test_returns_journey import GOOD, download

pytestmark = pytest.mark.e2e

# The README ("How many steps each main task takes") lists these counts. None
# may grow without a reason written there.
PROVIDER_SUBMITS_RETURN = 4
COMMISSIONER_ACCEPTS_RETURN = 6
COMMISSIONER_EXERCISES_EXTENSION = 6
BOARD_READS_LAST_QUARTER = 2

WIDTHS = (1280, 375)
SIGN_IN_PAGES = ("sign-in", "password")
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
REFUGE = "LBBD-DV-002"  # owes its Q2 2013/14 return on 2 December 2013
Q2 = "Q2 2013/14"
# Two contracts with an extension option still open, one for each width.
EXTENDABLE = {1280: "LBBD-DV-004", 375: "LBBD-DV-007"}


class Journey:
    """One person's walk at one width: counts the steps, and on every page
    checks accessibility (and, on a phone, the width) and keeps a screenshot."""

    def __init__(
        self,
        page: Page,
        axe: Callable[[], list[dict[str, Any]]],
        artifacts: Path,
        role: str,
        width: int,
        scanned: set[tuple[str, int]],
    ) -> None:
        self.page, self.axe, self.role, self.width = page, axe, role, width
        # The sign-in pages scanned at each width in this test: every person passes
        # them, and axe takes a second or so a page, so they are scanned once.
        self.scanned = scanned
        self.folder = artifacts / "journeys"
        self.folder.mkdir(exist_ok=True)
        self.steps = 0
        page.set_viewport_size({"width": width, "height": 812 if width < 641 else 900})

    def _arrived(self, slug: str) -> None:
        name = f"{self.role} at {self.width}px, page {self.steps}: {slug}"
        self.page.wait_for_load_state("load")
        if self.width < 641:
            assert_fits_the_window(self.page, name)
        if slug not in SIGN_IN_PAGES or (slug, self.width) not in self.scanned:
            assert_accessible(self.axe, name)
            self.scanned.add((slug, self.width))
        shot = self.folder / f"{self.role}-{self.width}-{self.steps:02d}-{slug}.png"
        self.page.screenshot(path=str(shot), full_page=True)

    def start(self, path: str, slug: str) -> None:
        """The page the person starts on (not a step: they have done nothing yet)."""
        self.page.goto(path)
        self._arrived(slug)

    def step(self, slug: str, act: Callable[[], Any]) -> None:
        """One step: `act` clicks or submits, and a new page loads."""
        with self.page.expect_navigation():
            act()
        self.steps += 1
        self._arrived(slug)

    def sign_in(self, email: str, lands_on: str) -> None:
        """Two steps: the email address, then the password."""
        page = self.page
        self.start("/sign-in", "sign-in")
        page.get_by_label("Email address").fill(email)
        self.step("password", page.get_by_role("button", name="Continue").click)
        page.get_by_label("Password", exact=True).fill(DEMO_PASSWORD)
        self.step(lands_on, page.get_by_role("button", name="Sign in").click)


def main_menu(page: Page, name: str) -> Callable[[], None]:
    """A link in the main menu, which a phone folds behind a Menu button (opening it loads no page)."""

    def click() -> None:
        toggle = page.get_by_role("button", name="Menu")
        if toggle.is_visible() and toggle.get_attribute("aria-expanded") != "true":
            toggle.click()
        page.get_by_role("navigation", name="Main menu").get_by_role("link", name=name, exact=True).click()

    return click


def load_warehouse(app: Flask) -> None:
    with app.app_context():
        run_etl(db.engine, warehouse_url(app), today=today())


def return_link(page: Page) -> Callable[[], None]:
    return page.get_by_role("link", name=f"{REFUGE} return for {Q2}").first.click


@pytest.mark.parametrize("width", WIDTHS)
def test_a_return_from_the_provider_to_the_board(
    returns_demo: Flask,
    page: Page,
    axe: Callable[[], list[dict[str, Any]]],
    artifacts: Path,
    width: int,
) -> None:
    """The provider submits its Q2 return, the commissioner accepts it, and a
    board member reads the last quarter's figures. (One width per test: each
    needs the return still owed.)"""
    # The provider, from sign-in to a submitted return.
    scanned: set[tuple[str, int]] = set()
    provider = Journey(page, axe, artifacts, "provider", width, scanned)
    provider.sign_in(DEMO_USERS["refuge"], "tasks")
    expect(page.locator("h1")).to_have_text("Your returns")
    provider.step("return", return_link(page))
    expect(page.locator("h1")).to_contain_text(f"Return for {Q2}")
    _, template = download(page, page.get_by_role("link", name=re.compile(r"^Download the workbook for")))
    page.get_by_label("Upload the completed workbook").set_input_files(
        {"name": "refuge-q2.xlsx", "mimeType": XLSX, "buffer": fill_template(template, GOOD)}
    )
    provider.step("submitted", page.get_by_role("button", name="Check and submit").click)
    expect(page.locator(".govuk-panel")).to_contain_text("Return submitted")
    expect(page.locator(".govuk-panel")).to_contain_text(f"{REFUGE} {Q2} version 1")
    expect(
        page.get_by_label("Upload the completed workbook")
    ).to_be_hidden()  # behind "Upload a corrected version"
    assert provider.steps == PROVIDER_SUBMITS_RETURN
    sign_out(page)

    # The commissioner, from sign-in to the accepted return.
    commissioner = Journey(page, axe, artifacts, "commissioner-accepts", width, scanned)
    commissioner.sign_in(DEMO_USERS["lbbd"], "decisions")
    expect(page.locator("h1")).to_have_text("Decisions due")
    commissioner.step("returns", main_menu(page, "Returns"))
    commissioner.step("review", return_link(page))
    page.get_by_label("Accept the return").check()
    commissioner.step("check", page.get_by_role("button", name="Continue").click)
    expect(page.locator("h1")).to_have_text("Check before you accept the return")
    commissioner.step("accepted", page.get_by_role("button", name="Accept and send").click)
    expect(page.locator(".govuk-notification-banner--success")).to_contain_text("Return accepted")
    assert commissioner.steps == COMMISSIONER_ACCEPTS_RETURN
    sign_out(page)

    # The worker loads the warehouse after an acceptance; here the test does.
    load_warehouse(returns_demo)

    # A board member, from sign-in to the last quarter's figures.
    board = Journey(page, axe, artifacts, "board", width, scanned)
    board.sign_in(DEMO_USERS["bd_board"], "performance")
    expect(page.locator("h1")).to_have_text("Performance")
    expect(page.get_by_label("Quarter")).to_have_value("2013-14-Q2")
    expect(page.locator("main")).to_contain_text(REFUGE)
    # The accepted figures themselves, rated, not "not available yet".
    expect(page.locator("main")).not_to_contain_text("Board figures are not available yet")
    refuge_row = page.locator("tbody tr").filter(has_text=REFUGE).first
    expect(refuge_row).to_contain_text(re.compile(r"\d of \d KPIs"))
    expect(refuge_row).not_to_contain_text("Not rated 5")
    assert board.steps == BOARD_READS_LAST_QUARTER
    sign_out(page)


def test_a_commissioner_exercises_an_extension(
    demo: Flask, page: Page, axe: Callable[[], list[dict[str, Any]]], artifacts: Path
) -> None:
    """From sign-in to an exercised extension, through the check-your-answers
    page, at each width (a different contract each time)."""
    scanned: set[tuple[str, int]] = set()
    for width in WIDTHS:
        reference = EXTENDABLE[width]
        journey = Journey(page, axe, artifacts, "commissioner-extends", width, scanned)
        journey.sign_in(DEMO_USERS["lbbd"], "decisions")
        journey.step("contract", page.get_by_role("link", name=reference, exact=True).first.click)
        expect(page.locator(".govuk-caption-l")).to_have_text(reference)
        journey.step("extend", page.get_by_role("link", name="Exercise an extension").click)
        option = page.get_by_role("group", name="Option to exercise").get_by_role("radio").first
        new_end = re.search(r"ends (\d+ \w+ \d{4})", option.evaluate("r => r.labels[0].textContent"))
        assert new_end, "the option does not say when the contract would end"
        option.check()
        decision_date = page.get_by_role("group", name="Date of the decision")
        decision_date.get_by_label("Day").fill("2")
        decision_date.get_by_label("Month").fill("12")
        decision_date.get_by_label("Year").fill("2013")
        page.get_by_label("Reason for extending").fill("Service review: extend while options are appraised")
        page.get_by_label("Approved by").fill("Health and Wellbeing Board")
        journey.step("check", page.get_by_role("button", name="Continue").click)
        expect(page.locator("h1")).to_have_text("Check your answers before exercising the extension")
        journey.step("extended", page.get_by_role("button", name="Exercise extension").click)
        expect(page.locator(".govuk-notification-banner--success")).to_contain_text(
            f"Extension exercised: the contract now ends on {new_end.group(1)}"
        )
        expect(summary_value(page, "Current end date")).to_have_text(new_end.group(1))
        assert journey.steps == COMMISSIONER_EXERCISES_EXTENSION
        sign_out(page)
