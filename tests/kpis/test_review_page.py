"""The commissioner's review page (issue 14, item 3) and the check before
accepting or reopening (item 7): the figures first, how late the return
came in working days, one decision with one primary button, and a write
only from the check page's button."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime

import pytest
from bs4 import BeautifulSoup
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from monitor.audit import AuditEvent
from monitor.db import db
from monitor.kpis.models import ReturnEvent, ReturnVersion
from monitor.kpis.periods import add_working_days, is_working_day, working_days_between
from monitor.kpis.returns.review_views import timeliness
from monitor.kpis.vocabulary import EventKind, ReturnState
from tests.conftest import DEMO_USERS, Auth
from tests.kpis.test_returns_builders import Q2, REFUGE, contract, stored, upload, user

# Working days, worked by hand from the calendar --------------------------------


@pytest.mark.parametrize(
    ("first", "last", "days"),
    [
        (date(2013, 7, 19), date(2013, 7, 19), 0),  # the same day
        (date(2013, 7, 19), date(2013, 7, 22), 1),  # Friday to Monday
        (date(2013, 7, 19), date(2013, 7, 20), 0),  # Friday to Saturday: no working day yet
        (date(2013, 7, 19), date(2013, 7, 26), 5),  # a week later
        (date(2013, 7, 19), date(2013, 7, 17), -2),  # Wednesday is 2 working days before Friday
        # Monday 26 August 2013 was the summer bank holiday.
        (date(2013, 8, 23), date(2013, 8, 27), 1),
        # 25 and 26 December and 1 January: 27, 30 and 31 December and 2 January remain.
        (date(2013, 12, 24), date(2014, 1, 2), 4),
        (date(2014, 1, 2), date(2013, 12, 24), -4),
    ],
)
def test_working_days_between(first: date, last: date, days: int) -> None:
    assert working_days_between(first, last) == days
    if is_working_day(last):
        assert add_working_days(first, days) == last  # the two functions agree


def test_timeliness_in_words() -> None:
    due = date(2013, 8, 23)
    assert timeliness(due, due) == "on time"
    assert timeliness(due, date(2013, 8, 21)) == "on time: 2 working days before the due date"
    assert timeliness(due, date(2013, 8, 27)) == "1 working day after the due date"
    assert timeliness(due, date(2013, 8, 30)) == "4 working days after the due date"
    assert timeliness(due, date(2013, 8, 24)) == "after the due date, on a day that was not a working day"


# The page ------------------------------------------------------------------------


@pytest.fixture
def reviewing(frameworks: Flask, add_return: Callable[..., int], client: FlaskClient, auth: Auth) -> str:
    """The refuge's Q2 2013/14 return submitted by the provider, after an
    accepted Q1; the LBBD commissioner signed in. Returns the page's address."""
    add_return(REFUGE, "2013-14-Q1", {"REF-RECEIVED": 38, "FEEL-SAFER": "81.94", "CASELOAD": 18})
    version = upload("refuge", quarter=Q2)
    # Received on Tuesday 29 October 2013 at 9:15am UTC (and GMT: the clocks went back on the 27th).
    db.session.execute(
        ReturnVersion.__table__.update()
        .where(ReturnVersion.id == version.id)
        .values(uploaded_at=datetime(2013, 10, 29, 9, 15))
    )
    db.session.commit()
    db.session.remove()
    assert auth.sign_in(DEMO_USERS["lbbd"]).status_code == 302
    return f"/contracts/{contract(REFUGE).id}/returns/{Q2}"


def soup(response: object) -> BeautifulSoup:
    return BeautifulSoup(response.get_data(as_text=True), "html.parser")  # type: ignore[attr-defined]


def errors(response: object) -> list[tuple[str, str]]:
    return [(a.get_text(strip=True), str(a["href"])) for a in soup(response).select(".govuk-error-summary a")]


def primary_buttons(html: BeautifulSoup) -> list[str]:
    return [
        b.get_text(strip=True)
        for b in html.select(".govuk-button")
        if not {"govuk-button--secondary", "govuk-button--warning"} & set(b.get("class") or [])
    ]


def revision() -> int:
    ret = stored(quarter=Q2)
    assert ret is not None
    return ret.revision


def test_the_figures_come_first_then_one_decision_and_bad_ones_change_nothing(
    client: FlaskClient, reviewing: str
) -> None:
    response = client.get(reviewing)
    assert response.status_code == 200
    html = soup(response)
    text = response.get_data(as_text=True)
    assert text.index('id="figures"') < text.index('id="versions"') < text.index('id="review"')
    summary = {
        row.dt.get_text(strip=True): row.dd.get_text(" ", strip=True)
        for row in html.select("#summary .govuk-summary-list__row")
    }
    assert summary["Quarter"].startswith("Q2 2013/14: 1 July 2013 to 30 September 2013")
    assert summary["Provider"] == contract(REFUGE).provider.name
    assert summary["State"] == "Submitted"
    # Q2 is due 15 working days after 30 September: Monday 21 October 2013. Received 6
    # working days later: 22 to 25 and 28 and 29 October.
    assert summary["Due date"] == "21 October 2013"
    assert summary["Received"] == "29 October 2013 at 9:15am (version 1): 6 working days after the due date"

    rows = {
        row["id"]: {cell["data-label"]: cell.get_text(" ", strip=True) for cell in row.select("th, td")}
        for row in html.select("#figures ~ table")[0].select("tbody tr")
    }
    assert rows["kpi-REF-RECEIVED"] == {
        "KPI": "REF-RECEIVED: Referrals received",
        "This quarter": "42",
        "Target": "40",
        "Rating": "Green: on target",
        "Last quarter": "38",
        "Change": "Up 4",
        "Provider's commentary": "None given",
    }
    safer = rows["kpi-FEEL-SAFER"]
    assert (safer["This quarter"], safer["Last quarter"]) == ("88.0% 22 of 25", "81.9%")
    assert safer["Change"] == "Up 6.1 percentage points"  # points, never "up 7%"
    assert rows["kpi-CASELOAD"]["Change"] == "No change"
    assert rows["kpi-CASELOAD"]["Provider's commentary"] == "Two bed spaces closed for repairs in May."
    assert rows["kpi-MARAC-REPEAT"]["Last quarter"] == "– none"  # no figure last quarter
    assert rows["kpi-MARAC-REPEAT"]["Change"] == "No figure to compare"
    for table in html.select("table.app-table--stacked"):
        assert all(cell.get("data-label") for cell in table.select("tbody th, tbody td"))

    # Versions link to their download; never the provider's upload form.
    assert html.select_one(f'a[href="{reviewing}/versions/1/file"]') is not None
    assert html.select_one(f'form[action="{reviewing}/upload"]') is None
    assert "Check and submit" not in text
    # One decision form, one primary button.
    form = html.select_one("#review ~ form")
    assert form is not None and form["action"] == f"{reviewing}/decision"
    assert [r["value"] for r in form.select('input[name="decision"]')] == ["accept", "query"]
    assert form.select_one("textarea[name='comment']") is not None
    assert primary_buttons(html) == ["Continue"]

    # Bad or stale decisions change nothing (one fixture for both halves keeps the test quick).
    seen = revision()
    nothing = client.post(f"{reviewing}/decision", data={"revision": seen})
    assert nothing.status_code == 400
    assert errors(nothing) == [("Select whether to accept the return or query it", "#decision")]
    assert soup(nothing).title.get_text().startswith("Error: ")  # type: ignore[union-attr]
    silent = client.post(
        f"{reviewing}/decision", data={"decision": "query", "comment": "  ", "revision": seen}
    )
    assert silent.status_code == 400
    assert errors(silent) == [("Enter a comment telling the provider what to check or correct", "#comment")]
    # A decision the state does not allow (reopening a submitted return) is not offered.
    assert (
        client.post(f"{reviewing}/decision", data={"decision": "reopen", "comment": "x"}).status_code == 400
    )
    stale = client.post(f"{reviewing}/decision", data={"decision": "accept", "revision": seen - 1})
    assert stale.status_code == 409
    assert revision() == seen and stored(quarter=Q2).state == ReturnState.SUBMITTED  # type: ignore[union-attr]

    # A query goes straight through: the provider answers it.
    comment = "Police referrals look high against the MASH log; please check."
    queried = client.post(
        f"{reviewing}/decision", data={"decision": "query", "comment": comment, "revision": seen}
    )
    assert queried.status_code == 302
    ret = stored(quarter=Q2)
    assert ret is not None and ret.state == ReturnState.QUERIED and ret.events[-1].comment == comment
    # Nothing to decide while it is with the provider; and boards and providers are refused.
    assert soup(client.get(reviewing)).select_one("#review ~ form") is None
    for who in ("refuge", "bd_board"):
        client.post("/sign-out")
        Auth(client).sign_in(DEMO_USERS[who])
        assert client.post(f"{reviewing}/decision", data={"decision": "accept"}).status_code == 403


def test_accepting_stops_at_a_check_page(client: FlaskClient, reviewing: str) -> None:
    seen = revision()
    note = "Figures agree with the MASH log."
    check = client.post(
        f"{reviewing}/decision", data={"decision": "accept", "comment": note, "revision": seen}
    )
    assert check.status_code == 200
    html = soup(check)
    assert stored(quarter=Q2).state == ReturnState.SUBMITTED  # type: ignore[union-attr]  # nothing written yet
    answers = {
        row.dt.get_text(strip=True): row.dd.get_text(" ", strip=True)
        for row in html.select("#answers .govuk-summary-list__row")
    }
    assert answers["Decision"] == "Accept the return"
    assert answers["Ratings"] == "1 Amber: near target; 4 Green: on target"
    assert answers["Comment for the provider"] == note
    change = html.select_one("#answers a")
    assert change is not None and change["href"] == f"{reviewing}?decision=accept#review"
    assert primary_buttons(html) == ["Accept and send"]
    # The Change link comes back with the decision chosen.
    back = soup(client.get(change["href"]))
    assert back.select_one('input[name="decision"][value="accept"]').has_attr("checked")  # type: ignore[union-attr]

    confirm = html.select_one(f'form[action="{reviewing}/accept"]')
    assert confirm is not None
    data = {i["name"]: i.get("value", "") for i in confirm.select("input")}
    assert data == {"accept-revision": str(seen), "accept-comment": note}
    sent = client.post(f"{reviewing}/accept", data=data)
    assert sent.status_code == 302 and sent.headers["Location"] == reviewing
    ret = stored(quarter=Q2)
    assert ret is not None and ret.state == ReturnState.ACCEPTED and ret.events[-1].comment == note
    # Audited in the same transaction, under the commissioner's name.
    audit = db.session.scalars(
        select(AuditEvent).where(AuditEvent.entity_type == "return", AuditEvent.entity_id == ret.id)
    ).all()
    assert any(
        a.changes.get("state") == ["submitted", "accepted"] and a.actor_id == user("lbbd").id for a in audit
    )

    # The same button pressed again (or a second tab) accepts nothing twice.
    again = client.post(f"{reviewing}/accept", data=data)
    assert again.status_code == 409
    assert errors(again)[0][0].startswith("Another version of this return was saved")
    kinds = db.session.scalars(select(ReturnEvent.kind).where(ReturnEvent.return_id == ret.id)).all()
    assert list(kinds).count(EventKind.ACCEPTED) == 1

    # Reopening an accepted return also stops at the check page, with the reason.
    page = soup(client.get(reviewing))
    assert primary_buttons(page) == ["Continue"]
    no_reason = client.post(f"{reviewing}/decision", data={"decision": "reopen", "comment": " "})
    assert no_reason.status_code == 400
    assert errors(no_reason) == [("Enter the reason for reopening the return", "#comment")]
    reason = "Caseload restated by the provider"
    check = soup(client.post(f"{reviewing}/decision", data={"decision": "reopen", "comment": reason}))
    assert stored(quarter=Q2).state == ReturnState.ACCEPTED  # type: ignore[union-attr]
    assert reason in check.select_one("#answers").get_text()  # type: ignore[union-attr]
    assert primary_buttons(check) == ["Reopen the return"]
    form = check.select_one(f'form[action="{reviewing}/reopen"]')
    data = {i["name"]: i.get("value", "") for i in form.select("input")}  # type: ignore[union-attr]
    assert client.post(f"{reviewing}/reopen", data=data).status_code == 302
    reopened = stored(quarter=Q2)
    assert reopened is not None and reopened.state == ReturnState.QUERIED
    assert reopened.events[-1].comment == reason
