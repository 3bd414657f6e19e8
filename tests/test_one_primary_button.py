"""One green (primary) button a page: on the admin, KPI library, framework,
people, account and single sign-on pages every other button is secondary,
or warning when it destroys something. And an admin's own pages sit behind
the one "Admin" menu entry, which is marked as the current one."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from decimal import Decimal

from bs4 import BeautifulSoup
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from monitor.audit import Actor, acting_as
from monitor.auth.models import Organisation, Partnership, User
from monitor.db import db
from monitor.kpis.library.definitions import load_library
from monitor.kpis.library.rules import ConsistencyRule
from monitor.kpis.models import FrameworkItem, Kpi
from monitor.reports.meetings import add_meeting
from monitor.reports.models import PartnershipMeeting
from tests.conftest import DEMO_USERS, Auth
from tests.kpis.conftest import add_framework

NOT_PRIMARY = ("govuk-button--secondary", "govuk-button--warning", "govuk-button--inverse")


def _primary_buttons(html: str) -> list[str]:
    page = BeautifulSoup(html, "html.parser")
    return [
        button.get_text(" ", strip=True)
        for button in page.select(".govuk-button")
        if not any(kind in (button.get("class") or []) for kind in NOT_PRIMARY)
    ]


def _first_id(model: type) -> int:
    found = db.session.scalar(select(model.id).order_by(model.id))  # type: ignore[attr-defined]
    assert found is not None, f"the demo has no {model.__name__}"
    return int(found)


def _current_menu_entry(html: str) -> list[str]:
    page = BeautifulSoup(html, "html.parser")
    return [a.get_text(strip=True) for a in page.select(".govuk-service-navigation a[aria-current]")]


def test_admin_pages_have_one_primary_button_and_sit_under_admin(
    demo: Flask, client: FlaskClient, auth: Auth, contract_id: Callable[[str], int]
) -> None:
    refuge = contract_id("LBBD-DV-002")
    with db.transaction() as session:
        load_library(session)
    add_framework("LBBD-DV-002", {"REF-RECEIVED": (Decimal(40), "quarter")}, "2013-14-Q1")
    with acting_as(Actor(None, "test")), db.transaction() as session:
        board = session.get_one(Partnership, _first_id(Partnership))
        add_meeting(session, board, date(2014, 1, 20), "Quarterly performance meeting", date(2013, 12, 2))
        # Someone who signed in through single sign-on and waits for approval.
        refuge_id = session.scalar(select(Organisation.id).where(Organisation.name == "Refuge"))
        session.add(User(email="waiting@refuge.demo.example", name="Wren Waiting", organisation_id=refuge_id))
    person = db.session.scalar(select(User.id).where(User.email == DEMO_USERS["refuge_admin"]))
    waiting = db.session.scalar(select(User.id).where(User.email == "waiting@refuge.demo.example"))
    organisation = _first_id(Organisation)
    partnership = _first_id(Partnership)
    meeting = db.session.scalar(
        select(PartnershipMeeting.id).where(PartnershipMeeting.partnership_id == partnership)
    )
    admin_pages = [
        "/admin",
        "/admin/organisations",
        f"/admin/partnerships/{partnership}/meetings",
        "/admin/benchmarking",
        "/admin/benchmarking/groups/new",
        f"/admin/benchmarking/partnerships/{partnership}/decisions",
        f"/admin/benchmarking/partnerships/{partnership}/region",
        f"/admin/organisations/{organisation}/sign-in",
        "/kpis",
        "/kpis/new",
        f"/kpis/{_first_id(Kpi)}/edit",
        "/kpis/rules",
        "/kpis/rules/new",
        f"/kpis/rules/{_first_id(ConsistencyRule)}/edit",
        f"/kpis/rules/{_first_id(ConsistencyRule)}/delete",
        "/people",
        "/people/invite",
        f"/people/{person}",
        f"/people/{person}/edit",
        f"/people/{person}/deactivate",
        f"/people/{waiting}",
        f"/admin/partnerships/{partnership}/meetings/{meeting}/remove",
    ]
    item = db.session.scalar(select(FrameworkItem.id).where(FrameworkItem.contract_id == refuge))
    # Changing a framework is the commissioners' work: their view of the framework pages.
    commissioner_pages = [
        f"/contracts/{refuge}/framework",
        f"/contracts/{refuge}/framework/new",
        f"/contracts/{refuge}/framework/{item}/change",
        f"/contracts/{refuge}/framework/{item}/end",
    ]

    too_many: dict[str, list[str]] = {}
    auth.sign_in(DEMO_USERS["admin"])
    for url in [*admin_pages, "/account"]:
        response = client.get(url)
        assert response.status_code == 200, url
        html = response.get_data(as_text=True)
        if len(_primary_buttons(html)) > 1:
            too_many[url] = _primary_buttons(html)
        if url in admin_pages:
            assert _current_menu_entry(html) == ["Admin"], url
    auth.sign_out()
    auth.sign_in(DEMO_USERS["lbbd"])
    for url in commissioner_pages:
        response = client.get(url)
        assert response.status_code == 200, url
        if len(_primary_buttons(response.get_data(as_text=True))) > 1:
            too_many[url] = _primary_buttons(response.get_data(as_text=True))
    assert too_many == {}
