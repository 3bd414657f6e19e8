"""A return a framework change left incomplete says so wherever its state is
shown (issue 11): the contract's returns list and the returns calendar lead
with a "Needs resubmission" tag and link to the reason. A queried return is
marked too; an accepted one stays locked and unmarked, and the commissioner
who added the KPI is told it lacks it and can be reopened."""

from __future__ import annotations

from pathlib import Path

from bs4 import BeautifulSoup, Tag
from flask import Flask
from flask.testing import FlaskClient

from monitor.audit import Actor, acting_as
from monitor.db import db
from monitor.kpis.models import Return
from monitor.kpis.returns.services import accept_return, query_return
from tests.conftest import DEMO_USERS, Auth
from tests.kpis.test_return_command_resubmission import add, mails, new_kpi, outbox  # noqa: F401 - fixture
from tests.kpis.test_returns_builders import Q1, Q2, REFUGE, contract, stored, upload, user


def _row(page: str, quarter_label: str) -> Tag:
    soup = BeautifulSoup(page, "html.parser")
    for row in soup.select("tbody tr"):
        if quarter_label in row.get_text(" ", strip=True):
            return row
    raise AssertionError(f"no row for {quarter_label}")


def _tags(row: Tag) -> list[str]:
    return [tag.get_text(strip=True) for tag in row.select("strong.govuk-tag")]


def _review(action: str) -> None:
    record = stored()
    assert record is not None
    person = user("lbbd")
    with acting_as(Actor(person.id, person.email)), db.transaction() as session:
        ret = session.get(Return, record.id)
        assert ret is not None
        if action == "query":
            query_return(session, person, ret, "Check the caseload figure against your case system")
        else:
            accept_return(session, person, ret)


def test_the_returns_list_and_calendar_show_it(
    frameworks: Flask,
    outbox: Path,  # noqa: F811 - the imported fixture
    client: FlaskClient,
    auth: Auth,
) -> None:
    upload("refuge", quarter=Q1)
    upload("refuge", quarter=Q2)
    add(new_kpi(), "2013-14-Q2")  # Q2's return lacks it, Q1's does not
    refuge = contract(REFUGE).id
    auth.sign_in(DEMO_USERS["refuge"])
    link = f"/contracts/{refuge}/returns/2013-14-Q2#needs-resubmission"

    listing = client.get(f"/contracts/{refuge}/returns").get_data(as_text=True)
    marked, clear = _row(listing, Q2.label), _row(listing, Q1.label)
    assert _tags(marked) == ["Needs resubmission", "Submitted"]
    assert marked.select_one("strong.govuk-tag--red") is not None
    assert marked.select_one(f'a[href="{link}"]') is not None
    assert _tags(clear) == ["Submitted"]

    calendar = client.get("/returns").get_data(as_text=True)
    assert _tags(_row(calendar, Q2.label)) == ["Needs resubmission", "Submitted"]
    assert _row(calendar, Q2.label).select_one(f'a[href="{link}"]') is not None
    assert _tags(_row(calendar, Q1.label)) == ["Submitted"]
    glance = BeautifulSoup(calendar, "html.parser").select_one("dl.govuk-summary-list")
    assert glance is not None and "Needs resubmission 1:" in glance.get_text(" ", strip=True)

    only = client.get("/returns?state=needs+resubmission")
    assert only.status_code == 200
    rows = BeautifulSoup(only.data, "html.parser").select("tbody tr")
    assert [Q2.label in r.get_text(" ", strip=True) for r in rows] == [True]

    # The reason is on the return page the tag links to.
    record = stored(quarter=Q2)
    assert record is not None
    page = client.get(link.split("#")[0]).get_data(as_text=True)
    assert 'id="needs-resubmission"' in page and record.resubmission_reason in page
    # and the page's own status line carries the tag beside the state.
    status = BeautifulSoup(page, "html.parser").select_one("main p.govuk-body")
    assert status is not None and [t.get_text(strip=True) for t in status.select("strong.govuk-tag")][:2] == [
        "Needs resubmission",
        "Submitted",
    ]


def test_a_queried_return_is_marked_with_what_else_is_missing(
    frameworks: Flask,
    outbox: Path,  # noqa: F811 - the imported fixture
) -> None:
    upload("refuge")
    _review("query")
    kpi = new_kpi()
    add(kpi, "2013-14-Q1")
    record = stored()
    assert record is not None and record.state == "queried" and record.needs_resubmission
    assert f"{kpi.name} ({kpi.code})" in record.resubmission_reason
    assert "answer the commissioner's query" in record.resubmission_reason
    # Every provider user of Refuge is told: its provider and its organisation admin.
    assert sorted(m["To"] for m in mails(outbox)) == sorted(
        [DEMO_USERS["refuge"], DEMO_USERS["refuge_admin"]]
    )


def test_an_accepted_return_stays_locked_and_the_commissioner_is_told(
    frameworks: Flask,
    outbox: Path,  # noqa: F811 - the imported fixture
    client: FlaskClient,
    auth: Auth,
) -> None:
    upload("refuge", quarter=Q1)
    _review("accept")
    upload("refuge", quarter=Q2)  # under review: marked, not named as accepted
    kpi = new_kpi()
    auth.sign_in(DEMO_USERS["lbbd"])
    response = client.post(
        f"/contracts/{contract(REFUGE).id}/framework/new",
        data={
            "kpi_id": str(kpi.id),
            "target": "5",
            "target_basis": "quarter",
            "amber_tolerance_pct": "10",
            "direction": "",
            "effective_from": "2013-14-Q1",
            "effective_to": "",
        },
        follow_redirects=True,
    )
    assert response.status_code == 200
    banner = BeautifulSoup(response.data, "html.parser").select_one(".govuk-notification-banner__heading")
    assert banner is not None
    assert banner.get_text(" ", strip=True) == (
        f"{kpi.code} added to the framework from 2013-14-Q1. The accepted return for {Q1.label} does not give "
        f"{kpi.code} and stays accepted. To ask the provider for it, reopen it from the return page"
    )

    accepted, under_review = stored(quarter=Q1), stored(quarter=Q2)
    assert accepted is not None and accepted.state == "accepted" and not accepted.needs_resubmission
    assert under_review is not None and under_review.needs_resubmission
