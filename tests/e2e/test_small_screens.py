"""No page is wider than a phone: at 375 by 812 pixels, each role's main pages
fit the window, so nothing makes the whole page scroll sideways (a wide table
either stacks into cards or scrolls inside its own .app-table-wrapper).

One test per database signs in as each role in turn and opens the pages that
role can reach, with a return that has two versions so the comparison has a
table. Every page that is too wide is named, with the elements that stick out.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

import pytest
from flask import Flask
from playwright.sync_api import Page

from monitor.kpis.periods import Quarter
from tests.conftest import DEMO_USERS
from tests.e2e.conftest import FITS_THE_WINDOW, sign_in_with_browser, sign_out, widest_elements
from tests.kpis.test_returns_builders import refuge_figures, upload

pytestmark = pytest.mark.e2e

PHONE = {"width": 375, "height": 812}
REFUGE = "LBBD-DV-002"
COUNSELLING = "LBBD-DV-004"
Q2 = Quarter(2013, 2)
REFUGE_KPIS = {"REF-RECEIVED", "CASELOAD", "FEEL-SAFER", "ABUSE-STOPPED"}  # in its framework


def pages_for(contract_id: Callable[[str], int]) -> dict[str, list[tuple[str, str]]]:
    """(name, path) of each page, by the demo user who can see it."""
    refuge = f"/contracts/{contract_id(REFUGE)}"
    counselling = f"/contracts/{contract_id(COUNSELLING)}"
    return_page = f"{refuge}/returns/{Q2}"
    return {
        "refuge": [
            ("home", "/"),
            ("returns list", "/returns"),
            ("a return", return_page),
            ("versions compared", f"{return_page}/compare"),
            ("the contract's returns", f"{refuge}/returns"),
            ("register", "/contracts"),
            ("a contract", refuge),
            ("renewals", "/renewals"),
            ("performance", "/performance"),
            ("a contract's performance", f"{refuge}/performance"),
            ("your account", "/account"),
        ],
        "lbbd": [
            ("home", "/"),
            ("register", "/contracts"),
            ("a contract", counselling),
            ("a contract's change history", f"{counselling}/history"),
            ("exercise an extension", f"{counselling}/extend"),
            ("renewals", "/renewals"),
            ("funding", "/funding"),
            ("returns list", "/returns"),
            ("a return to review", return_page),
            ("versions compared", f"{return_page}/compare"),
            ("performance", "/performance"),
            ("a contract's performance", f"{refuge}/performance"),
            ("a contract's framework", f"{refuge}/framework"),
            ("board pack", "/reports/board-pack"),
        ],
        "bd_board": [
            ("home", "/"),
            ("performance", "/performance"),
            ("a contract's performance", f"{refuge}/performance"),
            ("register", "/contracts"),
            ("a contract", counselling),
            ("renewals", "/renewals"),
        ],
        "admin": [
            ("home", "/"),
            ("register", "/contracts"),
            ("admin", "/admin"),
            ("people", "/people"),
            ("organisations", "/admin/organisations"),
            ("KPI library", "/kpis"),
            ("KPI rules", "/kpis/rules"),
            ("your account", "/account"),
        ],
    }


def test_no_page_is_wider_than_a_phone(
    returns_demo: Flask, page: Page, contract_id: Callable[[str], int]
) -> None:
    # Two versions of the refuge's Q2 return, so the comparison shows its table.
    for referrals in (40, 45):
        figures = [f for f in refuge_figures(referrals) if f.kpi_code in REFUGE_KPIS]
        upload("refuge", REFUGE, Q2, figures=figures, today=date(2013, 10, 20))
    page.set_viewport_size(PHONE)
    too_wide: list[str] = []

    def check(who: str, name: str) -> None:
        if not page.evaluate(FITS_THE_WINDOW):
            too_wide.append(f"{who}: {name} ({page.url}) sticks out: {widest_elements(page)}")

    page.goto("/sign-in")
    check("signed out", "sign-in")
    for who, pages in pages_for(contract_id).items():
        sign_in_with_browser(page, DEMO_USERS[who])
        for name, path in pages:
            response = page.goto(path)
            assert response is not None and response.status == 200, f"{who}: {name} {path}"
            check(who, name)
        sign_out(page)
    assert not too_wide, "Pages wider than a 375px phone:\n" + "\n".join(too_wide)
