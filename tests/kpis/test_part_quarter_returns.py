"""Part quarters in returns (issue 11, item 4): DV-001 ended on 31 January 2014,
so its January to March 2014 return covers 31 of the quarter's 90 days, and its
count targets are pro-rated: 60 referrals become 60 x 31 / 90 = 20.67, so 21;
5 repeat MARAC referrals (lower is better) become 1.72, so 2. The return
template writes those targets, the period check judges against them and the
return page shows them, each saying it was pro-rated."""

from __future__ import annotations

import io
from collections.abc import Callable
from decimal import Decimal

import openpyxl
import pytest
from bs4 import BeautifulSoup
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from monitor.contracts.models import Contract
from monitor.db import db
from monitor.kpis.framework.history import items_in_force
from monitor.kpis.models import FrameworkItem, ReturnVersion
from monitor.kpis.periods import Quarter
from monitor.kpis.returns.ingest.cells import Commentary
from monitor.kpis.returns.ingest.period import check_period, is_off_target
from monitor.kpis.returns.ingest.result import FigureIn
from monitor.kpis.returns.services import version_figures
from monitor.kpis.returns.template import build_template
from monitor.kpis.returns.template.rows import quarterly_target, target_text
from tests.conftest import DEMO_USERS, Auth
from tests.kpis.conftest import add_framework
from tests.kpis.fixtures.workbooks import GENERATED_AT

DV001 = "LBBD-DV-001"
Q3 = Quarter(2013, 3)  # October to December 2013: DV-001 ran throughout
Q4 = Quarter(2013, 4)  # January to March 2014: DV-001 ran 1 to 31 January
NOTE = "pro-rated: 31 of 90 days"
FRAMEWORK: dict[str, tuple[Decimal | None, str]] = {
    "REF-RECEIVED": (Decimal(60), "quarter"),  # a count, higher is better: 21 in Q4
    "MARAC-REPEAT": (Decimal(5), "quarter"),  # a count, lower is better: 2 in Q4
    "FEEL-SAFER": (Decimal(85), "quarter"),  # a percentage: never pro-rated
}


@pytest.fixture
def dv001(library: Flask) -> Flask:
    add_framework(DV001, FRAMEWORK, "2013-14-Q1")
    db.session.remove()
    return library


def _contract() -> Contract:
    return db.session.execute(select(Contract).where(Contract.reference == DV001)).scalar_one()


def _items(quarter: Quarter) -> dict[str, FrameworkItem]:
    return {item.kpi.code: item for item in items_in_force(db.session(), _contract().id, quarter)}


def test_the_template_rows_give_the_pro_rated_target(dv001: Flask) -> None:
    contract = _contract()
    q4, q3 = _items(Q4), _items(Q3)
    assert quarterly_target(q4["REF-RECEIVED"], contract, Q4) == Decimal(21)
    assert quarterly_target(q3["REF-RECEIVED"], contract, Q3) == Decimal(60)
    assert target_text(q4["REF-RECEIVED"], contract, Q4) == f"21 or more ({NOTE})"
    assert target_text(q4["MARAC-REPEAT"], contract, Q4) == f"2 or fewer ({NOTE})"
    assert target_text(q4["FEEL-SAFER"], contract, Q4) == "85% or more"  # a rate is not pro-rated
    assert target_text(q3["REF-RECEIVED"], contract, Q3) == "60 or more"


def _sheet_rows(content: bytes, sheet: str) -> list[list[object]]:
    book = openpyxl.load_workbook(io.BytesIO(content))
    return [list(row) for row in book[sheet].iter_rows(values_only=True)]


def _row_of(rows: list[list[object]], code: str) -> list[object]:
    """Every cell of the KPI's rows (a KPI split into parts has a row for each)."""
    return [cell for row in rows if code in row for cell in row]


def test_the_template_writes_dv001s_pro_rated_targets_and_what_it_covers(dv001: Flask) -> None:
    content = build_template(db.session(), _contract(), Q4, generated_at=GENERATED_AT)
    kpis = _sheet_rows(content, "KPIs")
    assert f"21 or more ({NOTE})" in _row_of(kpis, "REF-RECEIVED")
    assert f"2 or fewer ({NOTE})" in _row_of(kpis, "MARAC-REPEAT")
    assert "85% or more" in _row_of(kpis, "FEEL-SAFER")
    assert any(
        isinstance(cell, str) and cell.startswith("KPIs for") and "covers 1 to 31 January 2014" in cell
        for row in kpis
        for cell in row
    )
    commentary = _sheet_rows(content, "Commentary")
    assert f"21 or more ({NOTE})" in _row_of(commentary, "REF-RECEIVED")
    cover = " ".join(str(cell) for row in _sheet_rows(content, "Cover") for cell in row if cell)
    assert "covers 1 to 31 January 2014" in cover
    # A whole quarter's template is as before.
    whole = _sheet_rows(build_template(db.session(), _contract(), Q3, generated_at=GENERATED_AT), "KPIs")
    assert "60 or more" in _row_of(whole, "REF-RECEIVED")
    assert not any(isinstance(cell, str) and "covers" in cell for row in whole for cell in row)


@pytest.mark.parametrize(
    ("code", "value", "quarter", "off"),
    [
        ("REF-RECEIVED", 20, Q4, True),  # below 21
        ("REF-RECEIVED", 21, Q4, False),
        ("REF-RECEIVED", 25, Q4, False),  # below 60, but 60 is not the target for 31 days
        ("REF-RECEIVED", 25, Q3, True),  # a whole quarter is still judged against 60
        ("MARAC-REPEAT", 3, Q4, True),  # above 2 (but not above 5)
        ("MARAC-REPEAT", 2, Q4, False),
        ("MARAC-REPEAT", 3, Q3, False),
    ],
)
def test_the_period_check_judges_a_part_quarter_against_its_pro_rated_target(
    dv001: Flask, code: str, value: int, quarter: Quarter, off: bool
) -> None:
    item = _items(quarter)[code]
    assert is_off_target(item, Decimal(value), _contract(), quarter) is off


def test_the_period_check_asks_why_dv001_missed_its_pro_rated_target(dv001: Flask) -> None:
    items = list(_items(Q4).values())
    figures = [
        FigureIn("REF-RECEIVED", "", Decimal(20)),
        FigureIn("MARAC-REPEAT", "", Decimal(3)),
        FigureIn("FEEL-SAFER", "", Decimal(90)),
    ]
    commentary = Commentary(cells={"REF-RECEIVED": "C5", "MARAC-REPEAT": "C6"})
    problems = check_period(figures, items, {}, commentary, "Commentary", 50, _contract(), Q4)
    found = {p.kpi: p for p in problems}
    assert sorted((p.kpi, p.cell, p.severity.value) for p in problems) == [
        ("MARAC-REPEAT", "C6", "error"),
        ("REF-RECEIVED", "C5", "error"),
    ]
    assert f"20 this quarter against a target of 21 or more ({NOTE})" in found["REF-RECEIVED"].message
    assert f"3 this quarter against a target of 2 or fewer ({NOTE})" in found["MARAC-REPEAT"].message
    # 25 referrals and 2 repeat referrals meet the pro-rated targets: nothing to explain.
    on_target = [FigureIn("REF-RECEIVED", "", Decimal(25)), FigureIn("MARAC-REPEAT", "", Decimal(2))]
    assert check_period(on_target, items, {}, commentary, "Commentary", 50, _contract(), Q4) == []


def test_the_return_page_shows_the_pro_rated_target_and_what_the_return_covers(
    dv001: Flask, add_return: Callable[..., int], client: FlaskClient, auth: Auth
) -> None:
    version_id = add_return(DV001, str(Q4), {"REF-RECEIVED": 25, "MARAC-REPEAT": 2, "FEEL-SAFER": 86})
    db.session.remove()
    contract = _contract()
    version = db.session.get(ReturnVersion, version_id)
    assert version is not None
    rows = {row.kpi.code: row for row in version_figures(db.session(), contract, Q4, version)}
    assert (rows["REF-RECEIVED"].target, rows["REF-RECEIVED"].target_note) == (Decimal(21), NOTE)
    assert (rows["FEEL-SAFER"].target, rows["FEEL-SAFER"].target_note) == (Decimal(85), "")
    auth.sign_in(DEMO_USERS["lbbd"])
    page = client.get(f"/contracts/{contract.id}/returns/{Q4}")
    assert page.status_code == 200
    soup = BeautifulSoup(page.data, "html.parser")
    row = next(
        tr for tr in soup.select("#figures ~ table tr") if "REF-RECEIVED" in tr.get_text(" ", strip=True)
    )
    cells = [td.get_text(" ", strip=True) for td in row.select("td")]
    assert cells[1] == f"21 ({NOTE})"
    assert "Green" in cells[2]
    text = " ".join(soup.get_text(" ", strip=True).split())
    assert "Covers 1 to 31 January 2014 only: the contract ended on 31 January 2014" in text
