"""Where each role's work starts, Decisions due, the register's and Renewals' date
filters, the contract page's "What you must decide", and the check-your-answers
step before each decision that cannot be undone (issue 14, items 2 and 7)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, timedelta
from io import BytesIO
from typing import Any

from bs4 import BeautifulSoup
from flask import Flask, url_for
from flask.testing import FlaskClient
from openpyxl import load_workbook
from sqlalchemy import func, select

from monitor.audit import AuditEvent
from monitor.auth.models import User
from monitor.clock import today
from monitor.contracts.access import visible_contracts
from monitor.contracts.dates import date_within, decisions_of, renewal_of
from monitor.contracts.models import Amendment, Contract
from monitor.contracts.renewal import (
    DateKind,
    Ending,
    Leads,
    Terms,
    end_dates_between,
    months_ahead,
    subtract_months,
    to_decide,
)
from monitor.db import db
from tests.conftest import DEMO_USERS, Auth


def _page(response: Any) -> BeautifulSoup:
    return BeautifulSoup(response.get_data(as_text=True), "html.parser")


def _text(page: BeautifulSoup, selector: str = "main") -> str:
    found = page.select_one(selector)
    assert found is not None, selector
    return found.get_text(" ", strip=True)


def _counts() -> tuple[int, int]:
    return (
        db.session.scalar(select(func.count(Amendment.id))) or 0,
        db.session.scalar(select(func.count(AuditEvent.id))) or 0,
    )


def _primary_buttons(page: BeautifulSoup) -> list[str]:
    return [
        b.get_text(strip=True)
        for b in page.select("main .govuk-button")
        if not {"govuk-button--secondary", "govuk-button--warning"} & set(b.get("class", []))
    ]


# -- the rules, pure ---------------------------------------------------------------------


def test_what_is_left_to_decide() -> None:
    terms = Terms(
        start_date=date(2011, 4, 1),
        end_date=date(2014, 3, 31),
        original_end_date=date(2014, 3, 31),
        notice_months=3,
        remaining_option_months=(12, 6),
    )
    before = to_decide(terms, date(2013, 10, 1), Leads(decision_lead_months=2))
    assert (before.decision_by, before.last_notice_date) == (date(2013, 10, 31), date(2013, 12, 31))
    assert [(o.months, o.would_end) for o in before.options] == [
        (12, date(2015, 3, 31)),
        (6, date(2015, 9, 30)),
    ]
    assert not before.overdue
    assert [(d.kind, d.on) for d in before.due_between(date(2013, 10, 1), date(2014, 1, 1))] == [
        (DateKind.DECISION, date(2013, 10, 31)),
        (DateKind.NOTICE, date(2013, 12, 31)),
    ]
    # A day after the decision date: overdue, though notice can still be served.
    late = to_decide(terms, date(2013, 11, 1), Leads(decision_lead_months=2))
    assert late.overdue and late.decision_overdue and not late.notice_passed
    # Notice served: nothing is left to decide, so nothing is due or overdue.
    ending = Ending(kind="termination", effective_date=date(2014, 3, 31))
    served = to_decide(
        Terms(**{**terms.__dict__, "ending": ending}), date(2013, 11, 1), Leads(decision_lead_months=2)
    )
    assert not served.awaiting and not served.overdue and served.dates == () and served.options == ()


def test_end_dates_between_match_the_rules_day_by_day() -> None:
    # Month ends and short months are where counting back clamps.
    first, last = date(2014, 1, 31), date(2014, 3, 1)
    for notice in (0, 1, 3, 6, 13):
        earliest, latest = end_dates_between(
            lambda end, n=notice: subtract_months(end, n), first, last, notice
        )
        day = first - timedelta(days=5)
        while day <= last + timedelta(days=31 * notice + 40):
            inside = first <= subtract_months(day, notice) <= last
            assert inside == (earliest <= day <= latest), (notice, day)
            day += timedelta(days=1)


# -- pages ---------------------------------------------------------------------------------


def _each_role_starts_where_their_work_does(
    demo: Flask, client: FlaskClient, auth: Auth, contract_id: Callable[[str], int]
) -> None:
    with demo.test_request_context():
        provider_home = (
            url_for("kpis.provider_tasks") if "kpis.provider_tasks" in demo.view_functions else "/contracts"
        )
        expected = {
            "lbbd": url_for("contracts.decisions"),
            "bd_board": url_for("kpis.performance"),
            "admin": url_for("contracts.register"),
            "refuge": provider_home,
        }
    for key, home in expected.items():
        signed_in = auth.sign_in(DEMO_USERS[key])
        assert signed_in.headers["Location"] == "/", key  # sign-in lands on the home page
        assert client.get("/").headers["Location"] == home, key
        auth.sign_out()


def _decisions_due_soonest_first_with_overdue_in_a_banner(
    demo: Flask, client: FlaskClient, auth: Auth, contract_id: Callable[[str], int]
) -> None:
    auth.sign_in(DEMO_USERS["lbbd"])
    page = _page(client.get("/decisions"))
    banner = page.select_one(".govuk-notification-banner")
    assert banner is not None and "govuk-notification-banner--success" not in banner["class"]
    overdue = [a.get_text(strip=True).split(":")[0] for a in banner.select("#overdue a")]
    # As at 2 December 2013: decisions on these were due by 31 May and 31 October 2013.
    assert overdue == ["LBBD-DV-001", "LBBD-DV-004", "LBBD-DV-007"]
    assert "3 contracts have a decision overdue" in banner.get_text(" ", strip=True)
    assert "The decision was due by 31 October 2013; the last day to serve notice is 31 December 2013" in (
        banner.get_text(" ", strip=True)
    )
    assert page.select_one("#within option[selected]")["value"] == "6"
    rows = [
        [cell.get_text(" ", strip=True) for cell in row.select("td, th")]
        for row in page.select("table tbody tr")
    ]
    assert _text(page, "#due-count") == f"{len(rows)} dates from today to 2 June 2014."
    days = [datetime.strptime(row[0], "%d %B %Y").date() for row in rows]
    assert days == sorted(days) and days[0] >= date(2013, 12, 2) and days[-1] <= date(2014, 6, 2)
    assert rows[0][:2] == ["31 December 2013", "Notice date"] and rows[0][2].startswith("LBBD-DV-004")
    assert rows[0][3] == "Last day to serve notice for the contract to end on 31 March 2014"
    assert [
        "31 March 2014",
        "Extension option date",
        rows[5][2],
        "Take up the next extension option (12 months, to 31 March 2015) or let it lapse",
    ] == rows[5]
    assert [
        "31 January 2014",
        "End date",
        rows[3][2],
        "No extension options remain: re-procure or end the contract by 31 January 2014",
    ] == rows[3]
    assert "HBC-CYP-DA-01" not in page.get_text()  # another council's contract
    # A shorter look-ahead: only what falls within three months; dates are in order.
    short = _page(client.get("/decisions?within=3"))
    short_dates = [r.select_one("td").get_text(strip=True) for r in short.select("table tbody tr")]
    assert 0 < len(short_dates) < len(rows) and "31 March 2014" not in short_dates
    # A value not offered: a message, the default, and no 500.
    bad = client.get("/decisions?within=7")
    assert bad.status_code == 400
    bad_page = _page(bad)
    assert _text(bad_page, ".govuk-error-summary") == "There is a problem Choose 3, 6, 12 or 18 months"
    assert bad_page.select_one("#within option[selected]")["value"] == "6"
    assert len(bad_page.select("table tbody tr")) == len(rows)


def _date_filters_agree_with_the_rules_for_every_demo_contract(
    demo: Flask, client: FlaskClient, auth: Auth, contract_id: Callable[[str], int]
) -> None:
    admin = db.session.execute(select(User).where(User.email == DEMO_USERS["admin"])).scalar_one()
    contracts = db.session.scalars(select(Contract).where(visible_contracts(admin))).all()
    now = today()
    for months in (3, 6, 12, 18):
        horizon = months_ahead(now, months)
        for kind in DateKind:
            matched = set(
                db.session.scalars(select(Contract.reference).where(date_within(kind, now, months))).all()
            )
            expected = set()
            for contract in contracts:
                renewal, decision = renewal_of(contract, now), decisions_of(contract, now)
                on = {
                    DateKind.DECISION: renewal.decision_by,
                    DateKind.NOTICE: renewal.last_notice_date,
                    DateKind.END: contract.end_date,
                    DateKind.OPTION: contract.end_date if decision.options else None,
                }[kind]
                if on is not None and now <= on <= horizon:
                    expected.add(contract.reference)
            assert matched == expected, (kind, months)
    # Something falls inside each window, so the comparison above is not of empty sets.
    assert db.session.scalar(select(func.count()).where(date_within(DateKind.DECISION, now, 18)))


def _register_renewals_and_export_filter_on_the_chosen_date(
    demo: Flask, client: FlaskClient, auth: Auth, contract_id: Callable[[str], int]
) -> None:
    auth.sign_in(DEMO_USERS["lbbd"])

    def refs(url: str) -> list[str]:
        page = _page(client.get(url))
        return sorted(a.get_text(strip=True) for a in page.select("table tbody tr a[href^='/contracts/']"))

    # Decision dates within 12 months of 2 December 2013: DV-002 (31 Jan 2014), DV-006 (31 Jul 2014).
    assert refs("/contracts?which_date=decision&ends_within=12") == ["LBBD-DV-002", "LBBD-DV-006"]
    assert refs("/renewals?which_date=decision&ends_within=12") == ["LBBD-DV-002", "LBBD-DV-006"]
    # Extension option dates within 6 months: the two contracts ending in March with an option open.
    assert refs("/contracts?which_date=option&ends_within=6") == ["LBBD-DV-004", "LBBD-DV-007"]
    assert refs("/contracts?ends_within=3") == ["LBBD-DV-001"]  # the end date, as before
    page = _page(client.get("/contracts?which_date=notice&ends_within=1"))
    assert page.select_one("#filter-which_date option[selected]")["value"] == "notice"
    assert _text(page, "#register-count").startswith("2 contracts")  # DV-004 and DV-007, 31 December

    bad = client.get("/renewals?which_date=award&ends_within=6")
    assert bad.status_code == 400
    assert "Choose which date: decision date, notice date, extension option date, end date" in _text(
        _page(bad), ".govuk-error-summary"
    )
    assert client.get("/contracts?which_date=award").status_code == 400

    export = client.get("/contracts/export.xlsx?which_date=decision&ends_within=12")
    assert export.status_code == 200
    book = load_workbook(BytesIO(export.data))
    texts = [str(c.value) for ws in book.worksheets for row in ws.iter_rows() for c in row if c.value]
    assert "Decision date within 12 months of 2 December 2013" in texts
    assert "LBBD-DV-002" in texts and "LBBD-DV-006" in texts and "LBBD-DV-004" not in texts
    assert client.get("/contracts/export.xlsx?which_date=soon&ends_within=3").status_code == 400


def _the_contract_page_opens_with_what_to_decide(
    demo: Flask, client: FlaskClient, auth: Auth, contract_id: Callable[[str], int]
) -> None:
    auth.sign_in(DEMO_USERS["lbbd"])
    page = _page(client.get(f"/contracts/{contract_id('LBBD-DV-004')}"))
    assert page.select_one("main h2").get_text(strip=True) == "What you must decide"
    summary = _text(page, "#decide-summary")
    assert "Decision needed by Overdue: the decision was due by 31 October 2013" in summary
    assert "Option 1: 12 months: the contract would end on 31 March 2015" in summary
    assert "Last day to serve notice 31 December 2013" in summary and "(passed)" not in summary
    # On a small screen the funding and options tables are cards: each cell names its column.
    amounts = page.select("#funding + table.app-table--stacked td[data-label='Amount']")
    assert amounts and all(cell.get_text(strip=True).startswith("£") for cell in amounts)
    lengths = page.select("#options + table.app-table--stacked td[data-label='Length']")
    assert [cell.get_text(strip=True) for cell in lengths][:1] == ["12 months"]

    # The demo's own day: DV-002's decision is overdue, said once, in words.
    demo.config["TODAY"] = "2014-05-06"
    page = _page(client.get(f"/contracts/{contract_id('LBBD-DV-002')}"))
    main = _text(page)
    assert main.lower().count("overdue") == 1
    assert "Overdue: the decision was due by 31 January 2014" in main
    assert "No extension options remain: re-procure or end the contract by 30 September 2014" in main
    assert "Last day to serve notice 31 March 2014 (passed)" in main
    # Nothing to exercise or decline is offered.
    assert not page.find("a", string="Exercise an extension")
    assert not page.select("a[href$='/decline']")


def _check_your_answers_before_exercising_an_extension(
    demo: Flask, client: FlaskClient, auth: Auth, contract_id: Callable[[str], int]
) -> None:
    auth.sign_in(DEMO_USERS["lbbd"])
    cid = contract_id("LBBD-DV-004")
    answers = {
        "option_id": str(db.session.get_one(Contract, cid).options[0].id),
        "effective_date": ["2", "12", "2013"],
        "rationale": "Counselling continues while the options are reviewed",
        "approved_by": "Health and Wellbeing Board",
    }
    before = _counts()
    answered = client.post(f"/contracts/{cid}/extend", data=answers)
    assert answered.headers["Location"] == f"/contracts/{cid}/extend/check"
    check = _page(client.get(f"/contracts/{cid}/extend/check"))
    rows = {
        r.select_one(".govuk-summary-list__key").get_text(strip=True): r
        for r in check.select(".govuk-summary-list__row")
    }
    assert rows["Option to exercise"].select_one(".govuk-summary-list__value").get_text(strip=True) == (
        "Option 1: 12 months: the contract would end on 31 March 2015"
    )
    assert (
        rows["Date of the decision"].select_one(".govuk-summary-list__value").get_text(strip=True)
        == "2 December 2013"
    )
    change = rows["Reason for extending"].select_one(".govuk-summary-list__actions a")["href"]
    assert change == f"/contracts/{cid}/extend?change=1#rationale"
    assert _primary_buttons(check) == ["Exercise extension"]
    db.session.remove()
    assert _counts() == before  # nothing written yet

    # Change: the form comes back with the answers given.
    again = _page(client.get(change.split("#")[0]))
    assert again.select_one("#rationale").get_text() == answers["rationale"]
    assert again.select_one("#effective_date-day")["value"] == "2"

    done = client.post(f"/contracts/{cid}/extend/check")
    assert done.headers["Location"] == f"/contracts/{cid}"
    db.session.remove()
    assert db.session.get_one(Contract, cid).end_date == date(2015, 3, 31)
    amendments, events = _counts()
    assert amendments == before[0] + 1 and events > before[1]  # one decision, audited
    # The answers are spent: the check page sends you back to the form.
    assert client.get(f"/contracts/{cid}/extend/check").headers["Location"] == f"/contracts/{cid}/extend"


def _check_your_answers_before_ending_a_contract_or_declining_options(
    demo: Flask, client: FlaskClient, auth: Auth, contract_id: Callable[[str], int]
) -> None:
    auth.sign_in(DEMO_USERS["lbbd"])
    cid = contract_id("LBBD-DV-005")
    before = _counts()

    # Declining option 1 takes option 2 with it: the check page says so before anything changes.
    first, second = db.session.get_one(Contract, cid).options
    check = _page(client.get(f"/contracts/{cid}/options/{first.id}/decline"))
    assert "Option 1: 12 months, Option 2: 12 months" in _text(check, ".govuk-summary-list")
    assert _primary_buttons(check) == ["Decline option 1"]
    db.session.remove()
    assert _counts() == before
    assert client.post(f"/contracts/{cid}/options/{first.id}/decline").status_code == 302
    db.session.remove()
    assert [o.state for o in db.session.get_one(Contract, cid).options] == ["declined", "declined"]
    # Declined already: not offered, and asking again changes nothing.
    assert not _page(client.get(f"/contracts/{cid}")).select("a[href$='/decline']")
    assert (
        client.get(f"/contracts/{cid}/options/{second.id}/decline").headers["Location"].endswith("#options")
    )

    # A termination is checked first; a variation is recorded at once, as before.
    termination = {
        "kind": "termination",
        "effective_date": ["31", "3", "2014"],
        "planned": "y",
        "rationale": "Service to be brought in house",
        "approved_by": "LBBD Cabinet",
    }
    middle = _counts()
    answered = client.post(f"/contracts/{cid}/amendments/new", data=termination)
    assert answered.headers["Location"] == f"/contracts/{cid}/amendments/check"
    check = _page(client.get(f"/contracts/{cid}/amendments/check"))
    assert _text(check, "h1") == "Check your answers before recording the termination"
    assert "Kind of amendment Termination" in _text(check, ".govuk-summary-list")
    assert _primary_buttons(check) == ["Record termination"]
    db.session.remove()
    assert _counts() == middle
    assert client.post(f"/contracts/{cid}/amendments/check").headers["Location"] == f"/contracts/{cid}"
    db.session.remove()
    ending = db.session.get_one(Contract, cid).ending
    assert ending is not None and ending.kind == "termination" and ending.effective_date == date(2014, 3, 31)
    assert renewal_of(db.session.get_one(Contract, cid), today()).status.value == "in notice"


# The demo is loaded twice, not once a check: once for the pages that only read it
# (the one that moves the clock on goes last) and once for the decisions written.
def test_pages_that_read_the_demo(
    demo: Flask, client: FlaskClient, auth: Auth, contract_id: Callable[[str], int]
) -> None:
    for check in (
        _each_role_starts_where_their_work_does,
        _decisions_due_soonest_first_with_overdue_in_a_banner,
        _date_filters_agree_with_the_rules_for_every_demo_contract,
        _register_renewals_and_export_filter_on_the_chosen_date,
        _the_contract_page_opens_with_what_to_decide,
    ):
        check(demo, client, auth, contract_id)
        auth.sign_out()


def test_check_your_answers_before_each_decision_that_cannot_be_undone(
    demo: Flask, client: FlaskClient, auth: Auth, contract_id: Callable[[str], int]
) -> None:
    _check_your_answers_before_exercising_an_extension(demo, client, auth, contract_id)
    auth.sign_out()
    _check_your_answers_before_ending_a_contract_or_declining_options(demo, client, auth, contract_id)
