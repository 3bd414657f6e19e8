"""The Excel exports: real tables, frozen headers, £ and date formats, and the
same rows (and permissions) as the register and funding pages."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from io import BytesIO
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from openpyxl import Workbook, load_workbook
from openpyxl.worksheet.worksheet import Worksheet

from monitor.contracts.export import DATE_FORMAT, MONEY_FORMAT, XLSX_MIMETYPE
from tests.conftest import DEMO_USERS, Auth

HEADERS = [
    "Reference",
    "Service",
    "Service type",
    "Category",
    "Agreement",
    "Provider",
    "Lead commissioner",
    "Partner commissioners",
    "Status",
    "Start date",
    "End date",
    "Maximum extent",
    "Last notice date",
    "Decision by",
    "Notice (months)",
    "Annual value",
    "Total value of terms in force",
    "Funding recorded",
    "Contract manager",
]
MONEY_HEADERS = ["Annual value", "Total value of terms in force", "Funding recorded"]
DATE_HEADERS = ["Start date", "End date", "Maximum extent", "Last notice date", "Decision by"]
LBBD_REFERENCES = {f"LBBD-DV-00{n}" for n in range(1, 8)}
BD_FUNDERS_2013 = {
    "Barking and Dagenham Public Health": 368_000,
    "NHS Barking and Dagenham CCG": 120_000,
    "London Borough of Barking and Dagenham": 204_500,
    "Barking and Dagenham Housing Revenue Account": 72_000,
    "Metropolitan Police Service": 39_000,
    "Mayor's Office for Policing and Crime (MOPAC)": 20_000,
}


def download(client: FlaskClient, url: str) -> tuple[Any, Workbook]:
    response = client.get(url)
    assert response.status_code == 200, response.get_data(as_text=True)[:500]
    assert response.mimetype == XLSX_MIMETYPE
    assert response.headers["Content-Disposition"].startswith("attachment;")
    return response, load_workbook(BytesIO(response.data))


def table_rows(sheet: Worksheet, name: str) -> list[dict[str, Any]]:
    """The table's data rows as dicts of cells keyed by header (no total row)."""
    table = sheet.tables[name]
    cells = list(sheet[table.ref])
    header = [cell.value for cell in cells[0]]
    body = cells[1 : len(cells) - (table.totalsRowCount or 0)]
    return [dict(zip(header, row, strict=True)) for row in body]


@pytest.fixture
def lbbd(demo: Flask, auth: Auth) -> FlaskClient:
    auth.sign_in(DEMO_USERS["lbbd"])
    return auth.client


def test_register_export_is_an_excel_table(lbbd: FlaskClient, artifacts: Path) -> None:
    response, book = download(lbbd, "/contracts/export.xlsx")
    (artifacts / "contract-register.xlsx").write_bytes(response.data)

    assert book.sheetnames == ["Contracts", "About"]
    sheet = book["Contracts"]
    assert list(sheet.tables) == ["ContractRegister"]
    table = sheet.tables["ContractRegister"]
    assert table.ref == "A1:S8"  # header and LBBD's seven contracts
    assert table.autoFilter is not None and table.autoFilter.ref == "A1:S8"
    assert table.tableStyleInfo is not None and table.tableStyleInfo.name == "TableStyleMedium2"
    assert [column.name for column in table.tableColumns] == HEADERS
    assert [cell.value for cell in sheet[1]] == HEADERS
    assert sheet.freeze_panes == "A2"
    # Fitted to the content: long service names get a wide column, capped at 60.
    assert 40 < sheet.column_dimensions["B"].width <= 61
    assert 10 < sheet.column_dimensions["A"].width < 20

    rows = table_rows(sheet, "ContractRegister")
    assert {row["Reference"].value for row in rows} == LBBD_REFERENCES
    for row in rows:
        for header in MONEY_HEADERS:
            assert row[header].number_format == MONEY_FORMAT
            assert isinstance(row[header].value, int | float)
        for header in DATE_HEADERS:
            assert row[header].number_format == DATE_FORMAT
            assert isinstance(row[header].value, datetime)
        assert isinstance(row["Notice (months)"].value, int)

    refuge = next(row for row in rows if row["Reference"].value == "LBBD-DV-002")
    assert refuge["Status"].value == "Extended"
    assert refuge["Start date"].value == datetime(2011, 4, 1)
    assert refuge["End date"].value == datetime(2014, 9, 30)  # extended six months
    assert refuge["Last notice date"].value == datetime(2014, 3, 31)
    assert refuge["Annual value"].value == 270_000
    # Three years at £270,000 and the six-month extension: the terms in force.
    assert refuge["Total value of terms in force"].value == 945_000
    assert refuge["Funding recorded"].value == 270_000
    assert refuge["Provider"].value == "Refuge"
    assert refuge["Partner commissioners"].value == "NHS Barking and Dagenham CCG"

    about = [row for row in book["About"].iter_rows(values_only=True) if any(row)]
    facts = {row[0]: row[1] for row in about}
    assert facts["Generated as at"] == datetime(2013, 12, 2)
    assert facts["Filters"] == "None: every contract you can see"
    assert "aggregate" in facts["Note"]


def test_register_export_follows_the_filters(lbbd: FlaskClient) -> None:
    _, book = download(lbbd, "/contracts/export.xlsx?category=core&page=2")
    sheet = book["Contracts"]
    assert sheet.tables["ContractRegister"].ref == "A1:S4"
    rows = table_rows(sheet, "ContractRegister")
    assert {row["Reference"].value for row in rows} == {"LBBD-DV-001", "LBBD-DV-002", "LBBD-DV-006"}
    assert {row["Category"].value for row in rows} == {"Core"}
    # Sorted as on the page (by end date), and not cut to one page.
    ends = [row["End date"].value for row in rows]
    assert ends == sorted(ends)
    facts = {row[0]: row[1] for row in book["About"].iter_rows(values_only=True) if row[0]}
    assert facts["Filters"] == "Category: core"
    assert facts["Sorted by"] == "End date, ascending"


def test_register_export_with_no_matches_is_still_a_table(lbbd: FlaskClient) -> None:
    _, book = download(lbbd, "/contracts/export.xlsx?q=no-such-service")
    sheet = book["Contracts"]
    assert sheet.tables["ContractRegister"].ref == "A1:S2"  # header and one blank row
    assert [cell.value for cell in sheet[1]] == HEADERS
    assert all(cell.value is None for cell in sheet[2])
    assert sheet["A4"].value == "No contracts match these filters."
    facts = {row[0]: row[1] for row in book["About"].iter_rows(values_only=True) if row[0]}
    assert facts["Contracts"] == "0 contracts you can see"
    assert facts["Filters"] == "Reference or service contains “no-such-service”"


def test_provider_only_exports_their_own_contracts(demo: Flask, auth: Auth) -> None:
    auth.sign_in(DEMO_USERS["refuge"])
    _, book = download(auth.client, "/contracts/export.xlsx")
    rows = table_rows(book["Contracts"], "ContractRegister")
    assert {row["Reference"].value for row in rows} == {
        "LBBD-DV-001",
        "LBBD-DV-002",
        "LBBD-DV-005",
        "LBBD-DV-006",
    }
    assert {row["Provider"].value for row in rows} == {"Refuge"}


def test_bad_filter_shows_the_page_with_the_error(lbbd: FlaskClient) -> None:
    response = lbbd.get("/contracts/export.xlsx?ends_within=abc")
    assert response.status_code == 400
    assert response.mimetype == "text/html"
    assert "Enter a whole number of months, like 6" in response.get_data(as_text=True)


def test_export_needs_sign_in(demo: Flask, client: FlaskClient) -> None:
    for url in ("/contracts/export.xlsx", "/funding/export.xlsx"):
        response = client.get(url)
        assert response.status_code in (302, 401)
        assert response.mimetype != XLSX_MIMETYPE


def test_funding_export_for_2013_14(lbbd: FlaskClient, artifacts: Path) -> None:
    response, book = download(lbbd, "/funding/export.xlsx?financial_year=2013/14")
    (artifacts / "funding-summary-2013-14.xlsx").write_bytes(response.data)
    assert "funding-summary-2013-14.xlsx" in response.headers["Content-Disposition"]
    assert book.sheetnames == ["By funder", "By category", "Funding lines", "About"]

    by_funder = book["By funder"]
    table = by_funder.tables["FundingByFunder"]
    assert table.ref == "A1:C8"  # header, six funders, total row
    assert table.totalsRowCount == 1
    assert by_funder.freeze_panes == "A2"
    assert [cell.value for cell in by_funder[1]] == ["Funder", "2013/14", "Total"]
    rows = table_rows(by_funder, "FundingByFunder")
    assert {row["Funder"].value: row["2013/14"].value for row in rows} == BD_FUNDERS_2013
    for row in rows:
        assert row["2013/14"].number_format == MONEY_FORMAT
        assert row["Total"].value == row["2013/14"].value
    assert sum(row["2013/14"].value for row in rows) == 823_500
    # The total row is a live SUBTOTAL formula that already holds its result.
    assert by_funder["A8"].value == "Total"
    assert "SUBTOTAL(109" in by_funder["B8"].value
    assert by_funder["B8"].number_format == MONEY_FORMAT
    cached = load_workbook(BytesIO(response.data), data_only=True)["By funder"]
    assert cached["B8"].value == 823_500
    assert cached["C8"].value == 823_500

    by_category = book["By category"]
    assert by_category.freeze_panes == "A2"
    categories = table_rows(by_category, "FundingByCategory")
    assert {row["Category"].value: row["2013/14"].value for row in categories} == {
        "Core": 620_000,
        "Supporting": 163_000,
        "Supplementary": 40_500,
    }

    lines_sheet = book["Funding lines"]
    assert lines_sheet.freeze_panes == "A2"
    lines = table_rows(lines_sheet, "FundingLines")
    assert [cell.value for cell in lines_sheet[1]] == [
        "Financial year",
        "Contract reference",
        "Service",
        "Funder",
        "Funding stream",
        "Amount",
    ]
    assert len(lines) == 11
    assert {line["Financial year"].value for line in lines} == {"2013/14"}
    assert {line["Contract reference"].value for line in lines} == LBBD_REFERENCES - {"LBBD-DV-003"}
    assert all(line["Amount"].number_format == MONEY_FORMAT for line in lines)
    assert sum(Decimal(str(line["Amount"].value)) for line in lines) == 823_500


def test_funding_export_all_years_and_empty_year(demo: Flask, auth: Auth) -> None:
    auth.sign_in(DEMO_USERS["halton"])
    _, book = download(auth.client, "/funding/export.xlsx")
    rows = table_rows(book["By funder"], "FundingByFunder")
    assert [(row["Funder"].value, row["2013/14"].value, row["2014/15"].value) for row in rows] == [
        ("Halton Borough Council", 62_500, 87_500)
    ]
    assert rows[0]["Total"].value == 150_000

    _, empty = download(auth.client, "/funding/export.xlsx?financial_year=2020/21")
    sheet = empty["By funder"]
    assert sheet.tables["FundingByFunder"].ref == "A1:B3"  # header, blank row, total row
    assert sheet["A5"].value == "No funding recorded."


def test_funding_export_rejects_a_bad_year(lbbd: FlaskClient) -> None:
    response = lbbd.get("/funding/export.xlsx?financial_year=2013-2014")
    assert response.status_code == 400
    assert response.mimetype == "text/html"
