"""The register's forms, as a commissioner uses them in the browser."""

from __future__ import annotations

from collections.abc import Callable

from bs4 import BeautifulSoup
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from monitor.contracts.models import Contract
from monitor.db import db
from tests.conftest import DEMO_USERS, Auth


def _summary(response_text: str) -> list[tuple[str, str]]:
    page = BeautifulSoup(response_text, "html.parser")
    return [(a.get_text(strip=True), a["href"]) for a in page.select(".govuk-error-summary a")]


def test_new_contract_with_errors_shows_every_message(demo: Flask, client: FlaskClient, auth: Auth) -> None:
    auth.sign_in(DEMO_USERS["lbbd"])
    count = db.session.scalar(select(func.count(Contract.id)))
    response = client.post(
        "/contracts/new",
        data={
            "reference": "LBBD-DV-002",
            "title": "Duplicate",
            "service_type": "refuge",
            "category": "core",
            "agreement_type": "contract",
            "provider_id": "",
            "lead_commissioner_id": "1",
            "start_date": ["1", "4", "2014"],
            "end_date": ["31", "3", "2014"],
            "notice_period_months": "6",
            "annual_value": "-100",
            "initial_value": "lots",
        },
    )
    assert response.status_code == 400
    summary = dict(_summary(response.get_data(as_text=True)))
    assert "Choose the provider" in summary
    assert (
        summary["Enter value of the initial term in pounds as an amount in pounds, like 250000"]
        == "#initial_value"
    )
    db.session.remove()
    assert db.session.scalar(select(func.count(Contract.id))) == count


def test_service_rules_appear_beside_fields(demo: Flask, client: FlaskClient, auth: Auth) -> None:
    auth.sign_in(DEMO_USERS["lbbd"])
    provider = client.get("/contracts/new").get_data(as_text=True)
    page = BeautifulSoup(provider, "html.parser")
    refuge = next(o["value"] for o in page.select("#provider_id option") if o.get_text() == "Refuge")
    response = client.post(
        "/contracts/new",
        data={
            "reference": "lbbd-dv-002",
            "title": "Duplicate",
            "service_type": "refuge",
            "category": "core",
            "agreement_type": "contract",
            "provider_id": refuge,
            "lead_commissioner_id": page.select_one("#lead_commissioner_id option[selected]")["value"],
            "start_date": ["1", "4", "2014"],
            "end_date": ["31", "3", "2014"],
            "notice_period_months": "6",
            "annual_value": "-100",
            "initial_value": "100",
        },
    )
    summary = _summary(response.get_data(as_text=True))
    texts = [text for text, _ in summary]
    assert "A contract with the reference lbbd-dv-002 already exists; enter a different one" in texts
    assert ("The end date must be the same as or after the start date", "#end_date-day") in summary
    assert "The annual value cannot be negative" in texts


def test_exercise_extension_through_the_form(
    demo: Flask, client: FlaskClient, auth: Auth, contract_id: Callable[[str], int]
) -> None:
    auth.sign_in(DEMO_USERS["lbbd"])
    cid = contract_id("LBBD-DV-004")
    response = client.post(
        f"/contracts/{cid}/extend",
        data={
            "option_id": str(db.session.get_one(Contract, cid).options[0].id),
            "effective_date": ["2", "12", "2013"],
            "rationale": "Counselling continues while IAPT options are reviewed",
            "approved_by": "Health and Wellbeing Board",
        },
    )
    assert response.headers["Location"] == f"/contracts/{cid}/extend/check"  # answers checked first
    assert client.post(f"/contracts/{cid}/extend/check").status_code == 302
    page = client.get(f"/contracts/{cid}").get_data(as_text=True)
    assert "31 March 2015" in page
    # The change history of an extension: tests/contracts/test_history_page.py.


def test_filters_sorting_and_pagination(demo: Flask, client: FlaskClient, auth: Auth) -> None:
    auth.sign_in(DEMO_USERS["lbbd"])
    demo.config["REGISTER_PAGE_SIZE"] = 2
    first = BeautifulSoup(client.get("/contracts?sort=reference").get_data(as_text=True), "html.parser")
    refs = [a.get_text() for a in first.select("table.app-register tbody td:first-child a")]
    assert refs == ["LBBD-DV-001", "LBBD-DV-002"]
    assert first.select_one("#register-count").get_text().startswith("7 contracts, page 1 of 4")
    third = BeautifulSoup(
        client.get("/contracts?sort=reference&page=3").get_data(as_text=True), "html.parser"
    )
    assert [a.get_text() for a in third.select("table.app-register tbody td:first-child a")] == [
        "LBBD-DV-005",
        "LBBD-DV-006",
    ]
    core = client.get("/contracts?category=core&status=extended").get_data(as_text=True)
    assert "LBBD-DV-002" in core and "LBBD-DV-001" not in core
    ending = client.get("/contracts?ends_within=3").get_data(as_text=True)
    assert "LBBD-DV-001" in ending and "LBBD-DV-005" not in ending
    bad = client.get("/contracts?ends_within=soon")
    assert bad.status_code == 400 and "Enter a whole number of months" in bad.get_data(as_text=True)


def test_renewals_put_overdue_decisions_first(demo: Flask, client: FlaskClient, auth: Auth) -> None:
    auth.sign_in(DEMO_USERS["lbbd"])
    page = BeautifulSoup(client.get("/renewals").get_data(as_text=True), "html.parser")
    rows = page.select("tbody tr")
    overdue = ["app-row-overdue" in (row.get("class") or []) for row in rows]
    assert overdue[0] and overdue == sorted(overdue, reverse=True)
    assert "LBBD-DV-003" not in page.get_text()  # decommissioned


def test_funding_summary_shows_six_funders(demo: Flask, client: FlaskClient, auth: Auth) -> None:
    auth.sign_in(DEMO_USERS["bd_board"])
    page = BeautifulSoup(client.get("/funding?financial_year=2013/14").get_data(as_text=True), "html.parser")
    table = page.select_one("#by-funder")
    assert table is not None
    assert "£823,500" in table.select_one("tfoot").get_text()
    assert len(table.select("tbody tr")) == 6
    bad = client.get("/funding?financial_year=13-14")
    assert bad.status_code == 400 and "like 2013/14" in bad.get_data(as_text=True)
