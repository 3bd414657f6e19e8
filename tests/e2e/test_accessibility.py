"""axe-core scans of every page, as the people who use them see them.

One test per database walks the service: signed out, as the refuge's provider
(sending a quarterly return, with its problems and warnings), as the Barking
and Dagenham commissioner (reviewing it, and the framework and performance
pages), then as an administrator, scanning each page (and the error state of
each form) as a subtest. A page fails on any axe violation of
impact "serious" or "critical", on a radio, checkbox or date group with no
legend (which axe does not check, but leaves the group without a name), or on
an error summary link that leads nowhere on the page.
Every finding, whatever its impact, is also written to
test-artifacts/axe-<database>.json.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from playwright.sync_api import Page, expect

from monitor.kpis.returns.template.filling import fill_template
from tests.conftest import DEMO_USERS
from tests.e2e.conftest import FAILING_IMPACTS, LiveServer, describe, open_corrected_upload
from tests.e2e.test_returns_journey import CASELOAD, GOOD, POLICE, QUARTER, REFERRALS

pytestmark = pytest.mark.e2e

CONTRACT = "LBBD-DV-004"
REFUGE = "LBBD-DV-002"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

# Groups of inputs (fieldsets) must say what they are about.
UNNAMED_FIELDSETS = """() => [...document.querySelectorAll('fieldset')]
  .filter((fieldset) => {
    const legend = fieldset.querySelector(':scope > legend');
    return !legend || !legend.textContent.trim();
  })
  .map((fieldset) => fieldset.querySelector('input, select, textarea')?.id || fieldset.outerHTML.slice(0, 80))"""

# Each error summary link must lead to the field or problem it names.
DEAD_ERROR_LINKS = """() => [...document.querySelectorAll('.govuk-error-summary a')]
  .map((link) => link.getAttribute('href') || '')
  .filter((href) => !href.startsWith('#') || !document.getElementById(decodeURIComponent(href.slice(1))))"""


class Scanner:
    """Scans the current page and remembers every finding for the report."""

    def __init__(self, page: Page, axe: Callable[[], list[dict[str, Any]]], subtests: Any) -> None:
        self.page = page
        self.axe = axe
        self.subtests = subtests
        self.report: dict[str, list[dict[str, Any]]] = {}

    def check(self, name: str) -> None:
        with self.subtests.test(msg=name):
            violations = [
                {
                    "id": v["id"],
                    "impact": v["impact"],
                    "help": v["help"],
                    "helpUrl": v["helpUrl"],
                    "nodes": [
                        {"target": n["target"], "summary": n.get("failureSummary", "")} for n in v["nodes"]
                    ],
                }
                for v in self.axe()
            ]
            violations += [
                {
                    "id": "fieldset-legend (ours)",
                    "impact": "serious",
                    "help": "A group of radios, checkboxes or date boxes must have a <legend> naming it",
                    "helpUrl": "https://design-system.service.gov.uk/get-started/labels-legends-headings/",
                    "nodes": [{"target": [target], "summary": ""}],
                }
                for target in self.page.evaluate(UNNAMED_FIELDSETS)
            ]
            violations += [
                {
                    "id": "error-summary-link (ours)",
                    "impact": "serious",
                    "help": "An error summary link must lead to the field with the problem",
                    "helpUrl": "https://design-system.service.gov.uk/components/error-summary/",
                    "nodes": [{"target": [href], "summary": ""}],
                }
                for href in self.page.evaluate(DEAD_ERROR_LINKS)
            ]
            self.report[f"{name} ({self.page.url})"] = violations
            failing = [v for v in violations if v["impact"] in FAILING_IMPACTS]
            assert not failing, f"{name} ({self.page.url}) has accessibility violations:\n{describe(failing)}"

    def write(self, path: Path) -> None:
        path.write_text(json.dumps(self.report, indent=2) + "\n", encoding="utf-8")


def visit(page: Page, path: str, status: int = 200) -> None:
    response = page.goto(path)
    assert response is not None
    assert response.status == status, f"{path}: HTTP {response.status}, expected {status}"


def submit_empty(page: Page, button: str) -> None:
    page.get_by_role("button", name=button).click()
    expect(page.locator(".govuk-error-summary")).to_be_visible()


def sign_out(page: Page) -> None:
    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url("**/sign-in")


def path_of(page: Page) -> str:
    return re.sub(r"^https?://[^/]+", "", page.url).split("?")[0]


def upload(page: Page, content: bytes, button: str = "Check and submit") -> None:
    open_corrected_upload(page)
    page.get_by_label("Upload the completed workbook").set_input_files(
        {"name": "refuge-q2.xlsx", "mimeType": XLSX, "buffer": content}
    )
    page.get_by_role("button", name=button).click()


def test_every_page_has_no_serious_accessibility_violations(
    returns_demo: Flask,
    page: Page,
    live_server: LiveServer,
    sign_in: Callable[[str], None],
    axe: Callable[[], list[dict[str, Any]]],
    subtests: Any,
    artifacts: Path,
    backend: str,
) -> None:
    scan = Scanner(page, axe, subtests)
    try:
        # Signed out.
        visit(page, "/sign-in")
        scan.check("sign-in")
        submit_empty(page, "Continue")
        scan.check("sign-in with errors")
        page.get_by_label("Email address").fill(DEMO_USERS["refuge"])
        page.get_by_role("button", name="Continue").click()
        scan.check("sign-in, password step")
        submit_empty(page, "Sign in")
        scan.check("sign-in, password step with errors")
        visit(page, "/no-such-page", status=404)
        scan.check("404 page, signed out")

        # The refuge's provider sends its overdue Q2 return.
        sign_in(DEMO_USERS["refuge"])
        visit(page, "/returns")
        scan.check("returns calendar (provider)")
        page.get_by_role("link", name=f"{REFUGE} return for {QUARTER}", exact=True).click()
        return_path = path_of(page)
        refuge_path = return_path.split("/returns/")[0]
        expect(page.locator("h1")).to_have_text(f"Return for {QUARTER}")
        scan.check("return page, nothing uploaded (provider)")
        template = page.request.get(f"{return_path}/template.xlsx")
        assert template.ok, template.status
        workbook = template.body()
        submit_empty(page, "Check and submit")
        scan.check("return page with no file chosen")
        blank_and_wrong = {k: v for k, v in GOOD.items() if k != CASELOAD} | {REFERRALS: 45}
        upload(page, fill_template(workbook, blank_and_wrong))
        expect(page.locator("#workbook-problems")).to_be_visible()
        scan.check("return page with upload errors")
        upload(page, fill_template(workbook, GOOD | {POLICE: 45, REFERRALS: 72}))
        expect(page.locator("#warnings")).to_be_visible()
        scan.check("return page with warnings to confirm")
        submit_empty(page, "Save the return")
        scan.check("return page with warnings not confirmed")
        page.get_by_label("I have read these warnings and want to submit anyway").check()
        page.get_by_role("button", name="Save the return").click()
        expect(page.locator(".govuk-panel")).to_contain_text("version 1")
        upload(page, fill_template(workbook, GOOD))
        expect(page.locator(".govuk-panel")).to_contain_text("version 2")
        scan.check("return page, submitted with two versions (provider)")
        visit(page, f"{refuge_path}/returns")
        scan.check("contract's quarterly returns")
        sign_out(page)

        # A commissioner.
        sign_in(DEMO_USERS["lbbd"])
        scan.check("register")
        visit(page, "/contracts?ends_within=soon", status=400)
        expect(page.locator(".govuk-error-summary")).to_be_visible()
        scan.check("register with a filter error")

        visit(page, f"/contracts?q={CONTRACT}")
        page.get_by_role("link", name=CONTRACT, exact=True).click()
        contract_path = re.sub(r"^https?://[^/]+", "", page.url)
        assert re.fullmatch(r"/contracts/\d+", contract_path), contract_path
        scan.check("contract page")

        page.get_by_role("link", name=re.compile(r"^Change .+ 20\d\d.\d\d$")).first.click()
        expect(page.locator("h1")).to_have_text("Change a funding line")
        scan.check("funding line form (change)")

        for path, title, button in [
            (f"{contract_path}/edit", f"Change {CONTRACT}", "Save contract"),
            (f"{contract_path}/extend", "Exercise an extension", "Continue"),
            (f"{contract_path}/amendments/new", "Record an amendment", "Record amendment"),
            (f"{contract_path}/funding/new", "Add a funding line", "Save funding line"),
            (f"{contract_path}/milestones/new", "Add a milestone", "Add milestone"),
            ("/contracts/new", "Add a contract", "Save contract"),
        ]:
            visit(page, path)
            expect(page.locator("h1")).to_have_text(title)
            scan.check(f"{title} form")
            if path.endswith("/edit"):
                # An edit form starts full: empty a required field to see its error.
                page.get_by_label("Service title").fill("")
            submit_empty(page, button)
            scan.check(f"{title} form with errors")

        visit(page, "/renewals")
        scan.check("renewals")
        visit(page, "/funding")
        scan.check("funding summary")
        visit(page, "/funding?financial_year=next+year", status=400)
        scan.check("funding summary with an error")
        visit(page, "/contracts/999999", status=404)
        scan.check("404 page, signed in")

        # Returns, as the commissioner reviewing them.
        visit(page, "/returns")
        scan.check("returns calendar (commissioner)")
        visit(page, "/returns?quarter=last+quarter", status=400)
        expect(page.locator(".govuk-error-summary")).to_be_visible()
        scan.check("returns calendar with a filter error")
        visit(page, return_path)
        expect(page.locator("#review")).to_be_visible()
        scan.check("return page to review (commissioner)")
        submit_empty(page, "Continue")
        scan.check("return page with no decision chosen")
        page.get_by_label("Query the return").check()
        submit_empty(page, "Continue")
        scan.check("return page with a query error")
        page.get_by_role("link", name=re.compile(r"^Compare with version")).first.click()
        expect(page.locator("h1")).to_have_text("Compare versions")
        scan.check("compare versions")
        visit(page, f"{return_path}/compare?a=1&b=9", status=400)
        scan.check("compare versions with an error")
        visit(page, return_path)
        page.get_by_label("Accept the return").check()
        page.get_by_role("button", name="Continue").click()
        expect(page.locator("h1")).to_have_text("Check before you accept the return")
        scan.check("check before accepting a return")
        page.get_by_role("button", name="Accept and send").click()
        expect(page.locator(".govuk-notification-banner--success")).to_contain_text("Return accepted")
        scan.check("accepted return (reopen form)")
        submit_empty(page, "Continue")
        scan.check("accepted return with a reopen error")

        # The refuge's performance framework and its forms.
        visit(page, f"{refuge_path}/framework")
        scan.check("framework")
        page.get_by_role("link", name="Add a KPI").click()
        expect(page.locator("h1")).to_have_text("Add a KPI to the framework")
        scan.check("framework: add a KPI")
        submit_empty(page, "Add to the framework")
        scan.check("framework: add a KPI with errors")
        visit(page, f"{refuge_path}/framework")
        page.get_by_role("link", name=re.compile(r"^Change ")).first.click()
        expect(page.locator("h1")).to_have_text(re.compile(r"^Change "))
        scan.check("framework: change an item")
        page.get_by_label("Target", exact=True).fill("lots")
        page.get_by_label("First quarter the change applies to").fill("")
        submit_empty(page, "Save the change")
        scan.check("framework: change an item with errors")
        visit(page, f"{refuge_path}/framework")
        page.get_by_role("link", name=re.compile(r"^End ")).first.click()
        expect(page.locator("h1")).to_have_text(re.compile(r"^End "))
        scan.check("framework: end an item")
        page.get_by_label("Last quarter it applies to").fill("")
        submit_empty(page, "End this item")
        scan.check("framework: end an item with errors")

        # Performance, with the Q1 returns in.
        visit(page, "/performance")
        scan.check("performance")
        visit(page, f"{refuge_path}/performance")
        expect(page.locator("#performance")).to_be_visible()
        scan.check("contract performance")

        # The board pack: its form, and the form sent without a choice.
        visit(page, "/reports/board-pack")
        expect(page.locator("h1")).to_have_text("Board pack")
        scan.check("board pack")
        visit(page, "/reports/board-pack.xlsx", status=400)
        expect(page.locator(".govuk-error-summary")).to_be_visible()
        scan.check("board pack with errors")
        sign_out(page)

        # An administrator.
        sign_in(DEMO_USERS["admin"])
        visit(page, "/admin/organisations")
        scan.check("admin: organisations")
        submit_empty(page, "Add organisation")
        scan.check("admin: organisations with errors")
        visit(page, "/admin/organisations")
        submit_empty(page, "Add partnership")
        scan.check("admin: organisations with partnership errors")
        visit(page, "/people")
        scan.check("admin: people")
        visit(page, "/people/invite")
        scan.check("admin: invite someone")
        submit_empty(page, "Send invitation")
        scan.check("admin: invite someone with errors")
        visit(page, "/account")
        scan.check("admin: your account")
        visit(page, "/account/two-factor")
        scan.check("admin: two-factor authentication")
        visit(page, "/admin/organisations")
        page.get_by_role("link", name="Meetings of Barking and Dagenham Health and Wellbeing Board").click()
        expect(page.locator("h1")).to_have_text("Meetings")
        scan.check("admin: a partnership's meetings")
        submit_empty(page, "Add meeting")
        scan.check("admin: a partnership's meetings with errors")
        page.get_by_role("link", name="Remove the meeting on 13 May 2014").click()
        expect(page.locator("h1")).to_have_text("Remove the meeting on 13 May 2014?")
        scan.check("admin: remove a meeting")
        visit(page, "/kpis")
        scan.check("admin: KPI library")
        page.get_by_role("link", name="Add a KPI").click()
        expect(page.locator("h1")).to_have_text("Add a KPI")
        scan.check("admin: add a KPI")
        submit_empty(page, "Save KPI")
        scan.check("admin: add a KPI with errors")
        visit(page, "/kpis")
        page.get_by_role("link", name="Change REF-RECEIVED", exact=True).click()
        expect(page.locator("h1")).to_have_text("Change REF-RECEIVED")
        scan.check("admin: change a KPI")
        page.get_by_label("Name", exact=True).fill("")
        submit_empty(page, "Save KPI")
        scan.check("admin: change a KPI with errors")
        sign_out(page)

        # A board member reads board figures only; with no warehouse here,
        # the pages say why and accepted figures read [x].
        sign_in(DEMO_USERS["bd_board"])
        visit(page, "/performance")
        expect(page.locator("#board-figures")).to_be_visible()
        scan.check("performance (board)")
        visit(page, f"{refuge_path}/performance")
        expect(page.locator("#performance")).to_be_visible()
        page.screenshot(path=str(artifacts / f"board-performance-{backend}.png"), full_page=True)
        scan.check("contract performance (board)")
        sign_out(page)
    finally:
        scan.write(artifacts / f"axe-{backend}.json")
