"""The reporting calendar: which returns are due for the demo contracts, when,
and which are late or missing."""

from __future__ import annotations

from datetime import date

import pytest
from flask import Flask

from monitor.contracts.access import visible_contracts
from monitor.db import db
from monitor.kpis.periods import Quarter
from monitor.kpis.returns.calendar import (
    CalendarRules,
    ExpectedReturn,
    count,
    expected_return,
    expected_returns,
    last_live_day,
)
from monitor.kpis.returns.calendar import reporting_quarters as quarters_for
from monitor.kpis.vocabulary import ReturnState
from tests.kpis.test_returns_builders import HALTON, Q1, Q2, Q3, REFUGE, contract, upload, user

DEMO_DAY = date(2013, 12, 2)
RULES = CalendarRules(due_working_days=15)


def listed(who: str, on: date = DEMO_DAY, **kwargs: bool) -> dict[tuple[str, str], ExpectedReturn]:
    expected = expected_returns(db.session(), visible_contracts(user(who)), on, RULES, **kwargs)
    return {(e.contract.reference, e.period): e for e in expected}


def test_due_dates_are_working_days_after_the_quarter() -> None:
    # Q1 ends Sunday 30 June 2013; 15 working days later is Friday 19 July.
    assert RULES.due(Q1) == date(2013, 7, 19)
    # Q2 ends Monday 30 September 2013.
    assert RULES.due(Q2) == date(2013, 10, 21)
    # Q3 ends 31 December; New Year's Day is not a working day.
    assert RULES.due(Q3) == date(2014, 1, 22)
    # Missing once more than 10 working days late: 21 Oct + 10 working days is 4 Nov.
    assert RULES.missing_from(Q2) == date(2013, 11, 5)


def test_refuge_returns_as_at_the_demo_day(frameworks: Flask) -> None:
    returns = listed("lbbd")
    refuge = {period: e for (reference, period), e in returns.items() if reference == REFUGE}
    # Q1 and Q2 have ended; Q3 (October to December) has not.
    assert set(refuge) == {"2013-14-Q1", "2013-14-Q2"}
    for expected in refuge.values():
        assert expected.state == ReturnState.NOT_STARTED
        assert expected.late and expected.missing
        assert expected.lateness == "missing"
        assert "more than 10 working days late" in expected.timing
    assert refuge["2013-14-Q1"].due_date == date(2013, 7, 19)
    # No other LBBD contract has a framework, so none is expected to report.
    assert {reference for reference, _ in returns} == {REFUGE}


def test_late_before_missing(frameworks: Flask) -> None:
    returns = listed("lbbd", on=date(2013, 10, 28))
    q2 = returns[(REFUGE, "2013-14-Q2")]
    assert q2.late and not q2.missing and q2.lateness == "late"
    on_due_day = listed("lbbd", on=date(2013, 10, 21))[(REFUGE, "2013-14-Q2")]
    assert not on_due_day.late and on_due_day.timing == "Due"


def test_halton_quarter_three_is_not_due_yet(frameworks: Flask) -> None:
    # Halton's service started on 4 November 2013 with a framework from Q3.
    assert listed("halton") == {}
    current = listed("halton", include_current=True)
    q3 = current[(HALTON, "2013-14-Q3")]
    assert not q3.quarter_ended and not q3.late
    assert q3.timing == "Quarter in progress: not due yet"
    assert q3.due_date == date(2014, 1, 22)
    # Nothing for Q2: the service had not started, and the framework began in Q3.
    assert expected_return(db.session(), contract(HALTON), Q2, DEMO_DAY, RULES) is None


def test_each_role_sees_its_own_returns(frameworks: Flask) -> None:
    assert {r for r, _ in listed("refuge")} == {REFUGE}
    assert {r for r, _ in listed("ccg")} == {REFUGE}  # partner commissioner
    assert {r for r, _ in listed("bd_board")} == {REFUGE}
    assert listed("halton_board") == {}
    assert listed("westminster") == {}
    assert listed("halton_provider", include_current=True).keys() == {(HALTON, "2013-14-Q3")}


def test_state_follows_the_stored_return(frameworks: Flask) -> None:
    upload("refuge", quarter=Q1, submit=False)
    upload("refuge", quarter=Q2, submit=True)
    returns = listed("lbbd")
    q1, q2 = returns[(REFUGE, "2013-14-Q1")], returns[(REFUGE, "2013-14-Q2")]
    assert q1.state == ReturnState.DRAFT and q1.missing
    assert q2.state == ReturnState.SUBMITTED and not q2.late and q2.awaiting_review
    totals = count(returns.values())
    assert (totals.total, totals.outstanding, totals.late, totals.missing, totals.awaiting_review) == (
        2,
        1,
        1,
        1,
        1,
    )
    assert [e.matches("missing") for e in (q1, q2)] == [True, False]
    assert [e.matches("submitted") for e in (q1, q2)] == [False, True]


@pytest.mark.parametrize(
    ("reference", "expected_last"),
    [
        ("LBBD-DV-003", date(2013, 3, 30)),  # decommissioned from 31 March 2013
        ("LBBD-DV-002", date(2014, 9, 30)),  # extended six months
        ("HBC-CYP-DA-01", date(2014, 11, 3)),
    ],
)
def test_last_live_day(demo: Flask, reference: str, expected_last: date) -> None:
    assert last_live_day(contract(reference)) == expected_last


def test_no_returns_after_a_contract_ends(demo: Flask) -> None:
    dvip = contract("LBBD-DV-003")
    quarters = quarters_for(dvip, [("2012-13-Q1", None)], DEMO_DAY)
    assert quarters == [Quarter(2012, n) for n in (1, 2, 3, 4)]
    # A framework that ended before a quarter means no return for it.
    assert quarters_for(dvip, [("2012-13-Q1", "2012-13-Q2")], DEMO_DAY) == [
        Quarter(2012, 1),
        Quarter(2012, 2),
    ]
    assert quarters_for(dvip, [], DEMO_DAY) == []
