"""axe-core scans of every page, as the people who use them see them.

One test per database walks the service: signed out, as the Barking and
Dagenham commissioner, then as an administrator, scanning each page (and the
error state of each form) as a subtest. A page fails on any axe violation of
impact "serious" or "critical", or on a radio, checkbox or date group with no
legend (which axe does not check, but leaves the group without a name).
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
from playwright.sync_api import Page, expect

from tests.conftest import DEMO_USERS
from tests.e2e.conftest import LiveServer

pytestmark = pytest.mark.e2e

FAILING_IMPACTS = {"serious", "critical"}
CONTRACT = "LBBD-DV-004"

# Groups of inputs (fieldsets) must say what they are about.
UNNAMED_FIELDSETS = """() => [...document.querySelectorAll('fieldset')]
  .filter((fieldset) => {
    const legend = fieldset.querySelector(':scope > legend');
    return !legend || !legend.textContent.trim();
  })
  .map((fieldset) => fieldset.querySelector('input, select, textarea')?.id || fieldset.outerHTML.slice(0, 80))"""


def describe(violations: list[dict[str, Any]]) -> str:
    lines = []
    for violation in violations:
        lines.append(f"- {violation['id']} ({violation['impact']}): {violation['help']}")
        for node in violation["nodes"]:
            lines.append(f"    at {' '.join(node['target'])}")
    return "\n".join(lines)


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


def test_every_page_has_no_serious_accessibility_violations(
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
        submit_empty(page, "Sign in")
        scan.check("sign-in with errors")
        visit(page, "/no-such-page", status=404)
        scan.check("404 page, signed out")

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
            (f"{contract_path}/extend", "Exercise an extension", "Exercise extension"),
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
        visit(page, "/admin/users")
        scan.check("admin: users")
        submit_empty(page, "Add user")
        scan.check("admin: users with errors")
        sign_out(page)
    finally:
        scan.write(artifacts / f"axe-{backend}.json")
