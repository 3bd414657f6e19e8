"""A contract's change history on its own page: sentences naming people,
organisations, KPIs and values, 25 entries a page, seen only by those who
could see it on the contract page (can_see_audit)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from decimal import Decimal

from bs4 import BeautifulSoup
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from monitor.audit import Actor, AuditEvent, acting_as
from monitor.auth.models import User
from monitor.contracts import services
from monitor.contracts.models import Contract
from monitor.db import db
from monitor.kpis.models import FrameworkItem, Kpi, Return
from monitor.kpis.returns.services import add_event
from tests.conftest import DEMO_USERS, Auth

CONTRACT = "LBBD-DV-004"  # counselling; one 12-month option; ends 31 March 2014


def _person(key: str) -> User:
    return db.session.execute(select(User).where(User.email == DEMO_USERS[key])).scalar_one()


def _as(key: str) -> tuple[User, Actor]:
    person = _person(key)
    return person, Actor(person.id, person.email)


def _page(client: FlaskClient, url: str) -> BeautifulSoup:
    response = client.get(url)
    assert response.status_code == 200, url
    return BeautifulSoup(response.get_data(as_text=True), "html.parser")


def _entries(page: BeautifulSoup) -> list[dict[str, str]]:
    return [
        {
            "what": entry.select_one(".app-timeline__what").get_text(" ", strip=True),  # type: ignore[union-attr]
            "all": entry.get_text(" ", strip=True),
            "when": entry.select_one(".app-timeline__when").get_text(" ", strip=True),  # type: ignore[union-attr]
        }
        for entry in page.select(".app-timeline > li")
    ]


def test_each_change_is_a_sentence_naming_who_and_what(
    demo: Flask, client: FlaskClient, auth: Auth, contract_id: Callable[[str], int]
) -> None:
    cid = contract_id(CONTRACT)
    person, actor = _as("lbbd")
    with acting_as(actor), db.transaction() as session:
        contract = session.get_one(Contract, cid)
        fields = services.AmendmentFields(
            kind="extension",
            effective_date=date(2013, 12, 2),
            rationale="Counselling continues while options are reviewed",
            approved_by="Health and Wellbeing Board",
        )
        services.exercise_extension(session, person, contract, None, fields)
    with acting_as(actor), db.transaction() as session:
        kpi = Kpi(
            code="SAFER",
            name="Women feeling safer",
            definition="Share of women who feel safer at closure",
            unit="percentage",
            direction="higher is better",
            category="outcome",
            rollup="mean",
        )
        session.add(kpi)
        session.flush()
        item = FrameworkItem(contract_id=cid, kpi_id=kpi.id, target=Decimal(75), effective_from="2013-14-Q3")
        session.add(item)
        ret = Return(contract_id=cid, period="2013-14-Q2", state="queried", due_date=date(2013, 10, 21))
        session.add(ret)
        session.flush()
        add_event(session, person, ret, "queried", "Please check the referral figures", version=1)
    with acting_as(actor), db.transaction() as session:
        session.get_one(FrameworkItem, item.id).target = Decimal(80)

    auth.sign_in(DEMO_USERS["lbbd"])
    contract_page = _page(client, f"/contracts/{cid}")
    link = contract_page.find("a", string=lambda text: bool(text and text.startswith("Change history")))
    assert link is not None and link["href"] == f"/contracts/{cid}/history"
    assert contract_page.select("table.app-history") == []  # the history no longer fills the contract page

    page = _page(client, f"/contracts/{cid}/history")
    entries = _entries(page)
    whats = [entry["what"] for entry in entries]
    assert (
        whats[0]
        == "Changed the target of the framework's Women feeling safer from Q3 2013/14 from 75.0% to 80.0%"
    )
    assert "Queried the Q2 2013/14 return (version 1)" in whats
    assert "Added the framework's Women feeling safer from Q3 2013/14" in whats
    assert "Added the extension amendment" in whats
    text = page.get_text(" ", strip=True)
    assert "Changed the end date from 31 March 2014 to 31 March 2015" in text
    assert "Changed the state of extension option 1 (12 months) from available to exercised" in text
    assert "Comment Please check the referral figures" in text
    # Values resolved: the option by its label, the KPI by its name, money and yes/no in words.
    extension = next(entry["all"] for entry in entries if entry["what"] == "Added the extension amendment")
    assert "Extension option Option 1: 12 months" in extension
    assert "End date after 31 March 2015" in extension
    assert "Recorded ahead of its date No" in extension
    framework = next(entry["all"] for entry in entries if entry["what"].startswith("Added the framework's"))
    assert "KPI Women feeling safer" in framework and "Target 75.0%" in framework
    # Who, by name and organisation; when, in UK time (GMT on 2 December), never an id.
    assert entries[0]["when"].startswith("2 December 2013 at ")
    assert entries[0]["when"].endswith(f"by {person.name}, London Borough of Barking and Dagenham")
    assert "By id" not in text and "kpi id" not in text.lower() and "(none)" not in text
    # The contract as first loaded, its provider and commissioner by name.
    created = next(entry["all"] for entry in entries if entry["what"] == "Added the contract")
    assert "Provider The Woman's Trust" in created
    assert "Lead commissioner London Borough of Barking and Dagenham" in created
    assert "Annual value £40,500" in created


def test_twenty_five_a_page_newest_first_and_any_page_number_is_safe(
    demo: Flask, client: FlaskClient, auth: Auth, contract_id: Callable[[str], int]
) -> None:
    cid = contract_id(CONTRACT)
    person, actor = _as("lbbd")
    with acting_as(actor), db.transaction() as session:
        contract = session.get_one(Contract, cid)
        for number in range(1, 27):
            services.add_milestone(session, person, contract, f"Milestone {number}", date(2014, 1, number))
            session.flush()
    auth.sign_in(DEMO_USERS["lbbd"])

    first = _page(client, f"/contracts/{cid}/history")
    assert len(_entries(first)) == 25
    assert _entries(first)[0]["what"] == "Added the milestone “Milestone 26”"
    assert "Page 1 of 2" in first.select_one("#history-count").get_text()  # type: ignore[union-attr]
    pagination = first.select_one("nav.govuk-pagination")
    assert pagination is not None
    assert pagination.select_one(".govuk-pagination__next a")["href"].endswith("/history?page=2")  # type: ignore[index]
    total = db.session.scalar(select(func.count()).where(AuditEvent.contract_id == cid))
    second = _page(client, f"/contracts/{cid}/history?page=2")
    whats = [entry["what"] for entry in _entries(second)]
    assert len(whats) == total - 25 and whats[-1] == "Added the contract"  # the oldest last
    assert "Added the milestone “Milestone 1”" in whats
    assert "Milestone 26" not in second.get_text()
    # A page number that is not one shows the first page; one past the end is not found: never an error.
    for bad in ("abc", "0", "-1", "1.5", "99999999999999999999"):
        assert _entries(_page(client, f"/contracts/{cid}/history?page={bad}")) == _entries(first), bad
    assert client.get(f"/contracts/{cid}/history?page=3").status_code == 404


def test_only_those_who_saw_the_history_before_see_the_page(
    demo: Flask, client: FlaskClient, auth: Auth, contract_id: Callable[[str], int]
) -> None:
    cid = contract_id("LBBD-DV-002")
    assert client.get(f"/contracts/{cid}/history").status_code == 302  # signed out: to sign in
    for key, status in (("refuge", 403), ("bd_board", 403), ("halton", 404), ("admin", 200)):
        auth.sign_in(DEMO_USERS[key])
        assert client.get(f"/contracts/{cid}/history").status_code == status, key
        linked = f"/contracts/{cid}/history" in client.get(f"/contracts/{cid}").get_data(as_text=True)
        assert linked == (status == 200), key
        auth.sign_out()
    auth.sign_in(DEMO_USERS["admin"])
    assert client.get(f"/contracts/{2**31}/history").status_code == 404
    assert client.get("/contracts/999999/history").status_code == 404
