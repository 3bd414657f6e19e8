"""A quarterly return from template to acceptance, in a real browser.

The refuge's provider downloads the Q2 2013/14 workbook, fills it in with
openpyxl (first with a blank cell and referrals that do not add up), uploads
it, reads the problems cell by cell, downloads the workbook with the problems
marked, corrects it and submits. The commissioner queries the return; the
provider reads the comment and resubmits (confirming a warning); the
commissioner accepts. Screenshots go to test-artifacts/.
"""

from __future__ import annotations

import io
import re
from collections.abc import Callable
from pathlib import Path

import openpyxl
import pytest
from flask import Flask
from playwright.sync_api import Locator, Page, expect

from monitor.kpis.returns.template.filling import InputKey, fill_template, input_rows
from monitor.kpis.returns.template.layout import CURRENT_LAYOUT
from tests.conftest import DEMO_USERS
from tests.e2e.conftest import open_corrected_upload

pytestmark = pytest.mark.e2e

CONTRACT = "LBBD-DV-002"  # the Barking and Dagenham refuge
QUARTER = "Q2 2013/14 (July to September 2013)"
QUARTER_TEXT = "Q2 2013/14"
ANNOTATED_ERROR_FILL = "FFC7CE"

CASELOAD: InputKey = ("CASELOAD", "", "value")
REFERRALS: InputKey = ("REF-RECEIVED", "", "total")
POLICE: InputKey = ("REF-RECEIVED", "Police", "breakdown")
# Every figure the refuge's Q2 workbook asks for; the referral sources add up to 42.
GOOD: dict[InputKey, int] = {
    ("ABUSE-STOPPED", "", "numerator"): 18,
    ("ABUSE-STOPPED", "", "denominator"): 25,
    ("FEEL-SAFER", "", "numerator"): 22,
    ("FEEL-SAFER", "", "denominator"): 25,
    CASELOAD: 21,
    POLICE: 15,
    ("REF-RECEIVED", "Children's social care", "breakdown"): 8,
    ("REF-RECEIVED", "MASH", "breakdown"): 5,
    ("REF-RECEIVED", "Health", "breakdown"): 4,
    ("REF-RECEIVED", "Education", "breakdown"): 2,
    ("REF-RECEIVED", "Self-referral", "breakdown"): 7,
    ("REF-RECEIVED", "Other", "breakdown"): 1,
    REFERRALS: 42,
    ("PLANNED-ENDING", "", "numerator"): 16,
    ("PLANNED-ENDING", "", "denominator"): 20,
}
QUERY = "Police referrals look low against the MARAC figures: please check them against the police log."


def value_cell(workbook: bytes, key: InputKey) -> str:
    """Where the figure for `key` goes on the KPIs sheet, found by the tags the importer reads."""
    table = CURRENT_LAYOUT.kpis
    sheet = openpyxl.load_workbook(io.BytesIO(workbook))[table.sheet]
    columns: dict[str, int] = {}
    for row in sheet.iter_rows():
        marker = row[0].value
        if marker == table.start_tag:
            columns = {str(cell.value): cell.column for cell in row[1:] if cell.value}
        elif marker == table.end_tag:
            break
        elif columns:
            found = tuple(
                str(sheet.cell(row=row[0].row, column=columns[name]).value or "")
                for name in ("kpi_code", "breakdown", "line")
            )
            if found == key:
                return str(sheet.cell(row=row[0].row, column=columns["value"]).coordinate)
    raise AssertionError(f"{key} is not on the KPIs sheet")


def download(page: Page, link: Locator) -> tuple[str, bytes]:
    """Click a link as a person would and keep what the browser downloads."""
    with page.expect_download() as started:
        link.click()
    saved = started.value
    assert saved.failure() is None, saved.failure()
    return saved.suggested_filename, Path(saved.path()).read_bytes()


def upload(page: Page, path: Path, content: bytes, button: str) -> None:
    path.write_bytes(content)
    open_corrected_upload(page)
    page.get_by_label("Upload the completed workbook").set_input_files(path)
    page.get_by_role("button", name=button).click()


def tags(page: Page) -> list[str]:
    """The return's state tags: under the heading on the provider's page, in
    the summary on the review page."""
    return page.locator("h1 + p .govuk-tag, #summary .govuk-tag").all_inner_texts()


def table_after(page: Page, heading_id: str) -> Locator:
    return page.locator(f"#{heading_id} ~ table").first


def cells(row: Locator) -> list[str]:
    return [text.strip() for text in row.locator("th, td").all_inner_texts()]


def open_return_from_calendar(page: Page) -> None:
    page.get_by_role("navigation", name="Main menu").get_by_role("link", name="Returns", exact=True).click()
    expect(page.locator("h1")).to_have_text("Returns")
    page.get_by_role("link", name=f"{CONTRACT} return for {QUARTER}", exact=True).click()
    # Reviewers get the review page; the provider the return page.
    expect(page.locator("h1")).to_have_text(
        re.compile(f"^(Review the return for {QUARTER_TEXT}|Return for {re.escape(QUARTER)})$")
    )
    expect(page.locator(".govuk-caption-l")).to_contain_text(CONTRACT)


def sign_out(page: Page) -> None:
    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url("**/sign-in")


def test_provider_sends_a_return_and_commissioner_queries_then_accepts_it(
    returns_demo: Flask,
    page: Page,
    sign_in: Callable[[str], None],
    artifacts: Path,
    backend: str,
    tmp_path: Path,
) -> None:
    # The provider finds the overdue return through the calendar.
    sign_in(DEMO_USERS["refuge"])
    open_return_from_calendar(page)
    assert tags(page) == ["Not started", "Missing"]
    expect(page.get_by_text("Nothing has been uploaded for this quarter yet.")).to_be_visible()

    # The workbook, downloaded through the browser.
    name, template = download(page, page.get_by_role("link", name=re.compile(r"^Download the workbook for")))
    assert name == f"{CONTRACT}-2013-14-Q2-return.xlsx"
    assert template.startswith(b"PK\x03\x04")
    assert set(input_rows(template)) == set(GOOD), "the refuge's Q2 workbook asks for other figures"

    # Filled in with the caseload left blank and referral sources adding up to 42, not 45.
    blank, mismatch = value_cell(template, CASELOAD), value_cell(template, REFERRALS)
    first_try = {key: value for key, value in GOOD.items() if key != CASELOAD} | {REFERRALS: 45}
    workbook = tmp_path / "refuge-q2.xlsx"
    upload(page, workbook, fill_template(template, first_try), "Check and submit")

    summary = page.locator(".govuk-error-summary")
    expect(summary).to_be_visible()
    expect(summary).to_be_focused()
    expect(page).to_have_title(re.compile(r"^Error: "))
    expect(summary.locator(".govuk-error-summary__list a")).to_have_text(
        [
            re.compile(rf"^KPIs {blank}: This cell is blank\. .*caseload"),
            re.compile(
                rf"^KPIs {mismatch}: The parts of referrals received add up to 42, but the total is 45"
            ),
        ]
    )
    expect(page.get_by_text("Nothing was saved. Correct these 2 problems in your workbook")).to_be_visible()
    problems = table_after(page, "workbook-problems").locator("tbody tr")
    expect(problems).to_have_count(2)
    assert cells(problems.nth(0))[:4] == ["KPIs", blank, "CASELOAD", "Error"]
    assert cells(problems.nth(1))[:4] == ["KPIs", mismatch, "REF-RECEIVED", "Error"]
    # Each summary link leads to its row of the table.
    for number in (1, 2):
        expect(summary.locator(f'a[href="#problem-{number}"]')).to_have_count(1)
        expect(page.locator(f"#problem-{number}")).to_have_count(1)
    assert tags(page) == ["Not started", "Missing"]
    page.screenshot(path=str(artifacts / f"e2e-return-errors-{backend}.png"), full_page=True)

    # The workbook back with the two cells marked, each with its message as a comment.
    name, annotated = download(
        page, page.get_by_role("link", name="Download your workbook with the problems marked")
    )
    assert name == "refuge-q2-with-problems-marked.xlsx"
    sheet = openpyxl.load_workbook(io.BytesIO(annotated))[CURRENT_LAYOUT.kpis.sheet]
    for coordinate, text in [
        (blank, "Error: This cell is blank."),
        (mismatch, "Error: The parts of referrals received add up to 42, but the total is 45."),
    ]:
        cell = sheet[coordinate]
        assert cell.fill.fill_type == "solid", coordinate
        assert str(cell.fill.fgColor.rgb).endswith(ANNOTATED_ERROR_FILL), cell.fill.fgColor.rgb
        assert cell.comment is not None and cell.comment.text.startswith(text), cell.comment
    assert sheet[value_cell(template, POLICE)].comment is None
    assert sheet[blank].value is None and sheet[mismatch].value == 45

    # Corrected in the marked copy and submitted: no warnings, so it is saved at once.
    upload(page, workbook, fill_template(annotated, {CASELOAD: 21, REFERRALS: 42}), "Check and submit")
    expect(page.locator(".govuk-panel")).to_contain_text("Return submitted")
    expect(page.locator(".govuk-panel")).to_contain_text(f"{QUARTER_TEXT} version 1")
    expect(page.locator(".govuk-error-summary")).to_have_count(0)
    assert tags(page) == ["Submitted"]
    expect(page.locator("#figures")).to_have_text("Figures in version 1")
    caseload = table_after(page, "figures").locator("tbody tr").filter(has_text="CASELOAD")
    assert cells(caseload)[1] == "21"
    sign_out(page)

    # The commissioner queries it.
    sign_in(DEMO_USERS["lbbd"])
    open_return_from_calendar(page)
    assert tags(page) == ["Submitted"]
    expect(page.locator("#review")).to_have_text("Your decision")
    page.get_by_label("Query the return").check()
    page.get_by_label("Comment for the provider").fill(QUERY)
    page.get_by_role("button", name="Continue").click()
    expect(page.locator(".govuk-notification-banner--success")).to_contain_text(
        "Return queried: the provider can see your comment"
    )
    assert tags(page) == ["Queried"]
    sign_out(page)

    # The provider reads the comment and sends a corrected workbook.
    sign_in(DEMO_USERS["refuge"])
    open_return_from_calendar(page)
    assert tags(page) == ["Queried"]
    banner = page.locator(".govuk-notification-banner").filter(
        has_text="The commissioner queried this return"
    )
    expect(banner).to_be_visible()
    expect(banner).to_contain_text(QUERY)
    expect(banner).to_contain_text("Chris Commissioner")

    # 30 more police referrals: well up on Q1, so a warning to confirm, not an error.
    corrected = GOOD | {POLICE: 45, REFERRALS: 72}
    upload(page, workbook, fill_template(template, corrected), "Check and submit")
    expect(page.locator("#warnings")).to_have_text("Check these warnings")
    expect(page.locator(".govuk-error-summary")).to_have_count(0)
    warnings = table_after(page, "warnings").locator("tbody tr")
    expect(warnings).to_have_count(1)
    assert cells(warnings.first)[2] == "REF-RECEIVED"
    expect(warnings.first).to_contain_text("last quarter to 72")
    assert tags(page) == ["Queried"]  # nothing saved yet
    page.get_by_label("I have read these warnings and want to submit anyway").check()
    page.get_by_role("button", name="Save the return").click()
    expect(page.locator(".govuk-panel")).to_contain_text(f"{QUARTER_TEXT} version 2")
    assert tags(page) == ["Resubmitted"]
    sign_out(page)

    # The commissioner accepts it.
    sign_in(DEMO_USERS["lbbd"])
    open_return_from_calendar(page)
    assert tags(page) == ["Resubmitted"]
    # One decision, then a page to check it before anything is written.
    page.get_by_label("Accept the return").check()
    page.get_by_role("button", name="Continue").click()
    expect(page.locator("h1")).to_have_text("Check before you accept the return")
    page.get_by_role("button", name="Accept and send").click()
    expect(page.locator(".govuk-notification-banner--success")).to_contain_text("Return accepted")
    assert tags(page) == ["Accepted"]
    expect(page.get_by_text("This return has been accepted, so it is locked.")).to_be_visible()
    expect(page.get_by_label("Why are you reopening this return?")).to_be_visible()
    expect(page.get_by_label("Accept the return")).to_have_count(0)

    # Both versions are kept, and the history tells the story.
    versions = table_after(page, "versions").locator("tbody tr")
    expect(versions).to_have_count(2)
    rows = [cells(versions.nth(i)) for i in range(2)]
    assert [row[0] for row in rows] == ["1", "2"]
    assert all(row[1] == "Priya Provider" for row in rows), rows
    assert rows[0][3] == "Yes"
    assert rows[1][3].split("\n")[0] == "Yes" and "Warnings acknowledged" in rows[1][3]
    history = table_after(page, "history").locator("tbody tr")
    assert [cells(history.nth(i))[1] for i in range(history.count())] == [
        "Submitted (version 1)",
        "Queried (version 1)",
        "Resubmitted (version 2)",
        "Accepted (version 2)",
    ]
    expect(history.filter(has_text="Queried")).to_contain_text(QUERY)
    page.screenshot(path=str(artifacts / f"e2e-return-accepted-{backend}.png"), full_page=True)

    # What changed between the versions.
    page.get_by_role("link", name="Compare with version 1").click()
    expect(page.locator("h1")).to_have_text("Compare versions")
    police = page.locator("table tbody tr").filter(has_text="REF-RECEIVED").filter(has_text="Police")
    assert cells(police)[2:] == ["15", "45", "+30"]

    sign_out(page)
