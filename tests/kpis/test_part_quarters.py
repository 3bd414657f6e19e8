"""Part quarters (issue 11, item 4): a contract that starts or ends inside a
quarter is judged on the days it was in force, and expects no return after
its last quarter. DV-001 expired on 31 January 2014, so January to March 2014
is 31 of its 90 days."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from decimal import Decimal

import pytest
from bs4 import BeautifulSoup
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from monitor.audit import Actor, acting_as
from monitor.auth.models import Role, User
from monitor.contracts.access import visible_contracts
from monitor.contracts.models import Contract
from monitor.db import db
from monitor.kpis.framework.history import items_in_force
from monitor.kpis.models import Kpi, Return
from monitor.kpis.performance.figures import performance_of, rate_figures
from monitor.kpis.performance.item_targets import item_target
from monitor.kpis.performance.rag import Rag
from monitor.kpis.performance.targets import days_in_force, last_day_in_force, quarter_target
from monitor.kpis.periods import Quarter
from monitor.kpis.returns.calendar import CalendarRules, expected_returns
from monitor.kpis.returns.reminders import Reminder, compose, outstanding
from tests.api.conftest import token_for
from tests.conftest import DEMO_USERS, Auth
from tests.kpis.conftest import add_framework
from tests.kpis.test_returns_builders import user

DV001 = "LBBD-DV-001"
DV001_START, DV001_LAST = date(2011, 2, 1), date(2014, 1, 31)
Q3 = Quarter(2013, 3)  # October to December 2013, a whole quarter for DV-001
Q4 = Quarter(2013, 4)  # January to March 2014: DV-001 ran 1 to 31 January
AFTER = Quarter(2014, 1)  # April to June 2014: DV-001 had ended
AS_AT = date(2014, 8, 1)
DV001_FRAMEWORK: dict[str, tuple[Decimal | None, str]] = {
    "REF-RECEIVED": (Decimal(60), "quarter"),  # a count: pro-rated
    "FEEL-SAFER": (Decimal(85), "quarter"),  # a percentage: not pro-rated
    "CASES-CLOSED": (Decimal(160), "year"),  # a yearly count: 40 a quarter, then pro-rated
}


def _target(amount: int, basis: str, unit: str, rollup: str, quarter: Quarter) -> object:
    return quarter_target(Decimal(amount), basis, unit, rollup, quarter, DV001_START, DV001_LAST)


def test_days_in_force_of_dv001s_last_quarter() -> None:
    days = days_in_force(Q4, DV001_START, DV001_LAST)
    assert days is not None
    assert (days.days, days.quarter_days, days.whole) == (31, 90, False)
    assert days.covers == "covers 1 to 31 January 2014"
    assert days.pro_rata == "pro-rated: 31 of 90 days"
    assert days_in_force(AFTER, DV001_START, DV001_LAST) is None
    # Halton's children's service started on 4 November 2013.
    halton = days_in_force(Q3, date(2013, 11, 4), date(2014, 11, 3))
    assert halton is not None and halton.covers == "covers 4 November to 31 December 2013"
    # A termination takes effect the day after the last day in force.
    assert last_day_in_force(date(2014, 3, 31), date(2013, 3, 31)) == date(2013, 3, 30)
    assert last_day_in_force(DV001_LAST, None) == DV001_LAST


@pytest.mark.parametrize(
    ("amount", "basis", "unit", "rollup", "quarter", "value", "note"),
    [
        (60, "quarter", "count", "sum", Q4, Decimal(21), "pro-rated: 31 of 90 days"),
        (60, "quarter", "count", "sum", Q3, Decimal(60), ""),
        (160, "year", "count", "sum", Q4, Decimal(14), "pro-rated: 31 of 90 days"),
        (9000, "quarter", "currency", "sum", Q4, Decimal("3100.00"), "pro-rated: 31 of 90 days"),
        # Rates, averages and snapshots are not pro-rated.
        (85, "quarter", "percentage", "mean", Q4, Decimal(85), ""),
        (15, "quarter", "days", "mean", Q4, Decimal(15), ""),
        (20, "quarter", "count", "latest", Q4, Decimal(20), ""),
        (300, "quarter", "currency", "mean", Q4, Decimal(300), ""),
    ],
)
def test_count_targets_are_pro_rated_by_days_in_force(
    amount: int, basis: str, unit: str, rollup: str, quarter: Quarter, value: Decimal, note: str
) -> None:
    target = _target(amount, basis, unit, rollup, quarter)
    assert target.value == value  # type: ignore[attr-defined]
    assert target.note == note  # type: ignore[attr-defined]


@pytest.fixture
def dv001(library: Flask, add_return: Callable[..., int]) -> Flask:
    """DV-001's framework from Q1 2013/14 and accepted returns for Q3 and Q4,
    with 25 referrals in its last month (below 60, above 60 x 31 / 90 = 20.67, so 21)."""
    add_framework(DV001, DV001_FRAMEWORK, "2013-14-Q1")
    add_return(DV001, str(Q3), {"REF-RECEIVED": 61, "FEEL-SAFER": 86, "CASES-CLOSED": 41})
    add_return(DV001, str(Q4), {"REF-RECEIVED": 25, "FEEL-SAFER": 86, "CASES-CLOSED": 14})
    db.session.remove()
    library.config["TODAY"] = AS_AT.isoformat()
    return library


def _contract(reference: str = DV001) -> Contract:
    return db.session.execute(select(Contract).where(Contract.reference == reference)).scalar_one()


def _kpi_id(code: str) -> int:
    return db.session.execute(select(Kpi.id).where(Kpi.code == code)).scalar_one()


def test_performance_judges_dv001s_last_quarter_on_its_days(dv001: Flask) -> None:
    (performance,) = performance_of(db.session(), [_contract()], AS_AT)
    assert performance.quarters[-1] == Q4
    rows = {row.kpi.code: row for row in performance.rows}
    referrals = rows["REF-RECEIVED"].cells[-1]
    assert (referrals.target, referrals.rag, referrals.target_note) == (
        Decimal(21),
        Rag.GREEN,
        "pro-rated: 31 of 90 days",
    )
    assert rows["REF-RECEIVED"].cells[-2].target == Decimal(60)
    assert rows["CASES-CLOSED"].cells[-1].target == Decimal(14)
    safer = rows["FEEL-SAFER"].cells[-1]
    assert (safer.target, safer.target_note) == (Decimal(85), "")


def test_the_returns_pages_rate_dv001s_last_quarter_on_its_days(dv001: Flask) -> None:
    cells = rate_figures(db.session(), _contract().id, Q4, {_kpi_id("REF-RECEIVED"): Decimal(25)})
    referrals = next(c for c in cells if c.kpi.code == "REF-RECEIVED")
    assert (referrals.target, referrals.rag) == (Decimal(21), Rag.GREEN)


def test_the_performance_page_shows_the_pro_rated_target(
    dv001: Flask, client: FlaskClient, auth: Auth
) -> None:
    auth.sign_in(DEMO_USERS["ccg"])
    page = client.get(f"/contracts/{_contract().id}/performance")
    assert page.status_code == 200
    soup = BeautifulSoup(page.data, "html.parser")
    cell = soup.select_one(f"#kpi-REF-RECEIVED td[data-quarter='{Q4}']")
    assert cell is not None
    text = cell.get_text(" ", strip=True)
    assert "Target 21 (pro-rated: 31 of 90 days)" in text
    assert "Green" in text


def test_the_api_gives_the_pro_rated_target_the_page_shows(
    dv001: Flask, client: FlaskClient, auth: Auth
) -> None:
    """Two surfaces, one figure: the performance API and page agree on DV-001's last quarter."""
    auth.sign_in(DEMO_USERS["ccg"])
    contract_id = _contract().id
    page = client.get(f"/contracts/{contract_id}/performance")
    cell = BeautifulSoup(page.data, "html.parser").select_one(f"#kpi-REF-RECEIVED td[data-quarter='{Q4}']")
    assert cell is not None
    bearer = {"Authorization": f"Bearer {token_for(DEMO_USERS['ccg'])}"}
    body = dv001.test_client().get(f"/api/v1/contracts/{contract_id}/performance", headers=bearer).get_json()
    row = next(r for r in body["kpis"] if r["code"] == "REF-RECEIVED")
    api_cell = next(c for c in row["quarters"] if c["quarter"] == str(Q4))
    assert (api_cell["target"], api_cell["target_note"]) == ("21.00", "pro-rated: 31 of 90 days")
    assert f"Target 21 ({api_cell['target_note']})" in cell.get_text(" ", strip=True)
    earlier = next(c for c in row["quarters"] if c["quarter"] == str(Q3))
    assert earlier["target_note"] is None


def _expected(on: date) -> dict[str, object]:
    found = expected_returns(db.session(), visible_contracts(user("ccg")), on, CalendarRules())
    return {e.period: e for e in found if e.contract.reference == DV001}


def add_stale_draft() -> None:
    """A draft for April to June 2014 left from before DV-001's end was known."""
    with acting_as(Actor(None, "test returns")), db.transaction() as session:
        contract = session.execute(select(Contract).where(Contract.reference == DV001)).scalar_one()
        session.add(
            Return(contract_id=contract.id, period=str(AFTER), state="draft", due_date=date(2014, 7, 21))
        )
    db.session.remove()


def test_no_return_is_expected_after_dv001s_last_quarter(dv001: Flask) -> None:
    # A draft left from before the contract ended is not owed, and not late.
    add_stale_draft()
    expected = _expected(AS_AT)
    assert str(Q4) in expected
    assert str(AFTER) not in expected
    assert expected[str(Q4)].covers == "covers 1 to 31 January 2014"  # type: ignore[attr-defined]
    assert expected[str(Q3)].covers == ""  # type: ignore[attr-defined]


def test_the_calendar_says_what_a_part_quarter_covers(dv001: Flask, client: FlaskClient, auth: Auth) -> None:
    auth.sign_in(DEMO_USERS["ccg"])
    page = client.get(f"/returns?quarter={Q4}")
    assert page.status_code == 200
    text = BeautifulSoup(page.data, "html.parser").get_text(" ", strip=True)
    assert "Covers 1 to 31 January 2014 only: the contract ended on 31 January 2014" in text


def test_the_target_a_framework_item_sets_dv001_for_a_quarter(dv001: Flask) -> None:
    """The call the return template's target column and the period check make."""
    contract = _contract()
    items = {i.kpi.code: i for i in items_in_force(db.session(), contract.id, Q4)}
    last = item_target(items["REF-RECEIVED"], contract, Q4)
    assert (last.value, last.full, last.note) == (Decimal(21), Decimal(60), "pro-rated: 31 of 90 days")
    assert last.days is not None and last.days.covers == "covers 1 to 31 January 2014"
    assert item_target(items["REF-RECEIVED"], contract, Q3).note == ""
    assert item_target(items["FEEL-SAFER"], contract, Q4).value == Decimal(85)


def test_reminders_stop_after_dv001s_last_quarter_and_say_what_it_covers(library: Flask) -> None:
    add_framework(DV001, DV001_FRAMEWORK, "2013-14-Q1")
    add_stale_draft()
    due = {
        (expected.period, rule.stage.value)
        for expected, rule in outstanding(db.session(), AS_AT, CalendarRules())
        if expected.contract.reference == DV001
    }
    assert (str(Q4), "missing") in due
    assert not any(period == str(AFTER) for period, _ in due)
    expected, rule = next(
        (e, r) for e, r in outstanding(db.session(), AS_AT, CalendarRules()) if e.period == str(Q4)
    )
    provider = next(u for u in db.session.scalars(select(User)) if u.role == Role.PROVIDER.value)
    _, body = compose(Reminder(expected, rule, provider, escalation=False), library.config, AS_AT)
    assert "The return covers Q4 2013/14: 1 January 2014 to 31 January 2014." in " ".join(body.split())
