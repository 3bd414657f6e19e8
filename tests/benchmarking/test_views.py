"""The benchmarking admin pages, signed in as the demo's people, on SQLite and
PostgreSQL: the overview, recording decisions, regions and similar-areas
groups; bad input shown beside its field and changing nothing; everyone but
administrators refused."""

from __future__ import annotations

import re
from datetime import date
from typing import Any

import pytest
from bs4 import BeautifulSoup
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import delete, func, select

from monitor.audit import Actor, AuditEvent, acting_as
from monitor.auth.models import Partnership, User
from monitor.benchmarking.models import (
    AreaRegion,
    BenchmarkingDecision,
    ComparisonGroup,
    ComparisonGroupMember,
)
from monitor.benchmarking.service import create_group, record_decision, set_region
from monitor.db import db
from tests.conftest import DEMO_USERS, Auth

BARKING = "Barking and Dagenham Health and Wellbeing Board"
HALTON = "Halton Health and Wellbeing Board"
HALTON_FORUM = "Halton Domestic Abuse Forum"
TRI_BOROUGH = "Tri-borough VAWG Partnership"
APRIL = date(2013, 4, 1)


@pytest.fixture
def admin_app(demo: Flask) -> Flask:
    """The demo without its own benchmarking (monitor/benchmarking/demo.py),
    so each test sets up exactly the decisions, regions and groups it reads."""
    with demo.app_context(), db.transaction() as session:
        for model in (ComparisonGroupMember, ComparisonGroup, AreaRegion, BenchmarkingDecision):
            session.execute(delete(model))
    return demo


def _signed_in(app: Flask, key: str) -> FlaskClient:
    client = app.test_client()
    response = Auth(client).sign_in(DEMO_USERS[key])
    assert response.status_code == 302, response.get_data(as_text=True)[:500]
    return client


def _page(response: Any) -> BeautifulSoup:
    return BeautifulSoup(response.get_data(as_text=True), "html.parser")


def _id(name: str) -> int:
    return db.session.execute(select(Partnership.id).where(Partnership.name == name)).scalar_one()


def _admin() -> User:
    return db.session.execute(select(User).where(User.email == DEMO_USERS["admin"])).scalar_one()


def _audit_count(entity_type: str | None = None) -> int:
    query = select(func.count(AuditEvent.id))
    if entity_type is not None:
        query = query.where(AuditEvent.entity_type == entity_type)
    return db.session.scalar(query) or 0


def _count(model: type) -> int:
    db.session.expire_all()
    return db.session.scalar(select(func.count()).select_from(model)) or 0


def _error_summary(page: BeautifulSoup) -> dict[str, str]:
    """The error summary's links: where each leads, and its message."""
    summary = page.select_one(".govuk-error-summary")
    assert summary is not None, "no error summary"
    return {str(a["href"]): a.get_text(" ", strip=True) for a in summary.select("a")}


def _field_error(page: BeautifulSoup, field_id: str) -> str:
    """The message shown beside the field (GOV.UK's error message element)."""
    element = page.select_one(f"#{field_id}-error")
    assert element is not None, f"no message beside {field_id}"
    return element.get_text(" ", strip=True).removeprefix("Error:").strip()


def _rows(page: BeautifulSoup, table_id: str) -> dict[str, list[str]]:
    """A table's body rows by their row header, each as its cells' text."""
    table = page.select_one(f"table#{table_id}")
    assert table is not None, f"no table {table_id}"
    rows = {}
    for row in table.select("tbody tr"):
        header = row.select_one("th")
        assert header is not None
        rows[header.get_text(" ", strip=True)] = [cell.get_text(" ", strip=True) for cell in row.select("td")]
    return rows


def _set_up_benchmarking() -> int:
    """Barking opted in (and is in London), Halton opted out, the forum
    undecided; Barking and the tri-borough partnership make a group."""
    admin = _admin()
    with acting_as(Actor(admin.id, admin.email)), db.transaction() as session:
        record_decision(session, admin, _id(BARKING), True, APRIL, "Cllr Alex Morgan", "Chair")
        record_decision(session, admin, _id(HALTON), False, date(2013, 5, 2), "Cllr Jo Patel")
        set_region(session, admin, _id(BARKING), "London")
        group = create_group(
            session, admin, "Outer London boroughs", "Similar deprivation", [_id(BARKING), _id(TRI_BOROUGH)]
        )
    return group.id


# ---------------------------------------------------------------- the overview


def test_the_overview_shows_each_partnerships_decision_region_and_groups(admin_app: Flask) -> None:
    group_id = _set_up_benchmarking()
    response = _signed_in(admin_app, "admin").get("/admin/benchmarking")
    assert response.status_code == 200
    page = _page(response)
    rows = _rows(page, "partnerships")
    assert rows[BARKING][:4] == [
        "Opted in",
        "1 April 2013, by Cllr Alex Morgan (Chair)",
        "London",
        "Outer London boroughs",
    ]
    assert rows[HALTON][:4] == ["Opted out", "2 May 2013, by Cllr Jo Patel", "None", "None"]
    assert rows[HALTON_FORUM][:4] == ["Not decided", "No decision recorded", "None", "None"]
    assert set(rows) == set(db.session.scalars(select(Partnership.name)))
    headers = [th.get_text(strip=True) for th in page.select("table#partnerships thead th")]
    assert headers[:5] == [
        "Partnership",
        "Decision",
        "Decided and approved",
        "Region",
        "Similar-areas groups",
    ]
    groups = _rows(page, "groups")
    assert groups["Outer London boroughs Similar deprivation"][0] == f"{BARKING}, {TRI_BOROUGH}"
    links = {str(a["href"]) for a in page.select("table#groups a")}
    assert links == {
        f"/admin/benchmarking/groups/{group_id}",
        f"/admin/benchmarking/groups/{group_id}/delete",
    }


def test_a_decision_in_force_is_the_latest_on_or_before_today(admin_app: Flask) -> None:
    """The demo's day is 2 December 2013: a change of mind that day is in force."""
    admin = _admin()
    with acting_as(Actor(admin.id, admin.email)), db.transaction() as session:
        record_decision(session, admin, _id(BARKING), True, APRIL, "Cllr Alex Morgan")
        record_decision(session, admin, _id(BARKING), False, date(2013, 12, 2), "Cllr Alex Morgan")
    page = _page(_signed_in(admin_app, "admin").get("/admin/benchmarking"))
    assert _rows(page, "partnerships")[BARKING][0] == "Opted out"


# ---------------------------------------------------------------- decisions


def _decision(opted: str = "opted-in", day: tuple[str, str, str] = ("27", "3", "2013"), **extra: str) -> Any:
    return {
        "opted_in": opted,
        "decided_on": list(day),
        "approver_name": "Cllr Alex Morgan",
        "approver_role": "Chair of the board",
    } | extra


def test_a_decision_recorded_shows_in_the_history_newest_first_and_is_audited(admin_app: Flask) -> None:
    client = _signed_in(admin_app, "admin")
    url = f"/admin/benchmarking/partnerships/{_id(BARKING)}/decisions"
    before = _audit_count("benchmarking decision")
    response = client.post(url, data=_decision())
    assert response.status_code == 302 and response.headers["Location"] == url
    client.get(url)  # shows (and so uses up) the first decision's banner
    later = client.post(
        url, data=_decision("opted-out", ("4", "11", "2013"), approver_role=""), follow_redirects=True
    )
    assert later.status_code == 200
    page = _page(later)
    banner = page.select_one(".govuk-notification-banner")
    assert banner is not None and f"Recorded: {BARKING} opted out on 4 November 2013" in banner.get_text()
    history = [
        [cell.get_text(" ", strip=True) for cell in row.select("td")]
        for row in page.select("#history tbody tr")
    ]
    assert [row[:3] for row in history] == [
        ["4 November 2013", "Opted out", "Cllr Alex Morgan"],
        ["27 March 2013", "Opted in", "Cllr Alex Morgan, Chair of the board"],
    ]
    # Recorded on the service's (pinned) day, at the real time of day, by whom.
    recorded = re.compile(rf"2 December 2013 at \d{{1,2}}:\d\d[ap]m by {_admin().name}")
    assert all(recorded.fullmatch(row[3]) for row in history), history
    assert "never changed once recorded" in page.get_text()
    assert _audit_count("benchmarking decision") == before + 2
    db.session.expire_all()
    stored = db.session.scalars(select(BenchmarkingDecision).order_by(BenchmarkingDecision.decided_on)).all()
    assert [(d.opted_in, d.decided_on, d.recorded_by_id) for d in stored] == [
        (True, date(2013, 3, 27), _admin().id),
        (False, date(2013, 11, 4), _admin().id),
    ]
    # The radios' values never reach the page as a form to edit a decision: only a new one.
    assert page.select("#history form") == []


@pytest.mark.parametrize(
    ("data", "field", "href", "message"),
    [
        (
            _decision(approver_name="  "),
            "approver_name",
            "#approver_name",
            "Enter the name of the person who approved the decision, like Cllr Alex Morgan",
        ),
        (
            _decision(day=("3", "12", "2013")),
            "decided_on",
            "#decided_on-day",
            "The decision date, 3 December 2013, is in the future. Enter the day "
            f"{BARKING} decided, today (2 December 2013) or earlier",
        ),
        (
            _decision(day=("", "", "")),
            "decided_on",
            "#decided_on-day",
            "Enter the date the partnership decided",
        ),
        (
            _decision(day=("31", "2", "2013")),
            "decided_on",
            "#decided_on-day",
            "Date decided must be a real date, like 4 11 2013",
        ),
        (
            _decision(opted=""),
            "opted_in",
            "#opted_in",
            "Choose whether the partnership opted in or opted out",
        ),
    ],
    ids=["no approver", "future date", "no date", "impossible date", "no choice"],
)
def test_a_bad_decision_is_shown_beside_its_field_and_changes_nothing(
    admin_app: Flask, data: dict[str, Any], field: str, href: str, message: str
) -> None:
    client = _signed_in(admin_app, "admin")
    before = _audit_count()
    response = client.post(f"/admin/benchmarking/partnerships/{_id(BARKING)}/decisions", data=data)
    assert response.status_code == 400
    page = _page(response)
    assert _error_summary(page) == {href: message}
    assert _field_error(page, field) == message
    assert page.title is not None and page.title.get_text().startswith("Error: ")
    assert _count(BenchmarkingDecision) == 0
    assert _audit_count() == before


def test_a_second_decision_on_the_same_day_is_refused(admin_app: Flask) -> None:
    client = _signed_in(admin_app, "admin")
    url = f"/admin/benchmarking/partnerships/{_id(BARKING)}/decisions"
    assert client.post(url, data=_decision()).status_code == 302
    response = client.post(url, data=_decision("opted-out"))
    assert response.status_code == 400
    assert "already has a decision recorded for 27 March 2013" in _field_error(_page(response), "decided_on")
    assert _count(BenchmarkingDecision) == 1


# ---------------------------------------------------------------- regions


def test_a_region_is_set_changed_and_removed_and_audited(admin_app: Flask) -> None:
    client = _signed_in(admin_app, "admin")
    halton = _id(HALTON)
    url = f"/admin/benchmarking/partnerships/{halton}/region"
    before = _audit_count("area region")
    response = client.post(url, data={"region": "North West"}, follow_redirects=True)
    assert response.status_code == 200
    assert f"{HALTON} is now in North West" in response.get_data(as_text=True)
    assert _rows(_page(response), "partnerships")[HALTON][2] == "North West"
    # The page offers the region it has now.
    selected = _page(client.get(url)).select_one("#region option[selected]")
    assert selected is not None and selected.get_text() == "North West"
    assert client.post(url, data={"region": ""}).status_code == 302
    assert _count(AreaRegion) == 0
    assert _audit_count("area region") == before + 2


def test_an_unknown_region_is_refused_with_the_services_message(admin_app: Flask) -> None:
    client = _signed_in(admin_app, "admin")
    response = client.post(
        f"/admin/benchmarking/partnerships/{_id(HALTON)}/region", data={"region": "Atlantis"}
    )
    assert response.status_code == 400
    page = _page(response)
    message = _field_error(page, "region")
    assert message.startswith(f"'Atlantis' is not a region {HALTON} can be in. Choose one of North East,")
    assert _error_summary(page) == {"#region": message}
    assert _count(AreaRegion) == 0


# ---------------------------------------------------------------- similar-areas groups


def test_a_group_is_created_changed_and_deleted_after_asking(admin_app: Flask) -> None:
    client = _signed_in(admin_app, "admin")
    barking, halton, forum = _id(BARKING), _id(HALTON), _id(HALTON_FORUM)
    form = _page(client.get("/admin/benchmarking/groups/new"))
    offered = {str(box["value"]) for box in form.select("input[name=members]")}
    assert offered == {str(p) for p in db.session.scalars(select(Partnership.id))}
    created = client.post(
        "/admin/benchmarking/groups/new",
        data={"name": " Northern boroughs ", "description": "", "members": [str(halton), str(forum)]},
        follow_redirects=True,
    )
    assert created.status_code == 200
    assert "Group Northern boroughs created with 2 areas" in created.get_data(as_text=True)
    group = db.session.execute(select(ComparisonGroup)).scalar_one()
    assert group.member_ids == {halton, forum}

    url = f"/admin/benchmarking/groups/{group.id}"
    shown = _page(client.get(url))
    name_input = shown.select_one("#name")
    assert name_input is not None and name_input["value"] == "Northern boroughs"
    assert {str(box["value"]) for box in shown.select("input[name=members][checked]")} == {
        str(halton),
        str(forum),
    }
    changed = client.post(
        url,
        data={
            "name": "Unitary councils",
            "description": "Alike in size",
            "members": [str(halton), str(barking)],
        },
    )
    assert changed.status_code == 302
    db.session.expire_all()
    group = db.session.execute(select(ComparisonGroup)).scalar_one()
    assert (group.name, group.description, group.member_ids) == (
        "Unitary councils",
        "Alike in size",
        {halton, barking},
    )

    ask = client.get(f"{url}/delete")
    assert ask.status_code == 200
    question = _page(ask)
    assert (
        question.h1 is not None and question.h1.get_text(strip=True) == "Delete the group Unitary councils?"
    )
    assert _count(ComparisonGroup) == 1
    before = _audit_count("comparison group")
    deleted = client.post(f"{url}/delete", follow_redirects=True)
    assert "Group Unitary councils deleted" in deleted.get_data(as_text=True)
    assert _count(ComparisonGroup) == 0
    assert _audit_count("comparison group") == before + 1
    assert client.get(url).status_code == 404


@pytest.mark.parametrize(
    ("data", "href", "message"),
    [
        (
            {"name": "Lonely", "members": ["{barking}"]},
            "#members",
            "Choose at least 2 areas for the group: an area is compared with the others in it",
        ),
        (
            {"name": "", "members": ["{barking}", "{halton}"]},
            "#name",
            "Enter a name for the group, like Outer London boroughs",
        ),
        (
            {"name": "outer london boroughs", "members": ["{barking}", "{halton}"]},
            "#name",
            "There is already a group called Outer London boroughs. Give this group a different name",
        ),
        (
            {"name": "Forged", "members": ["{barking}", "999999"]},
            "#members",
            "There is no partnership 999999. Choose the group's areas from the list",
        ),
        (
            {"name": "Forged", "members": ["{barking}", "x"]},
            "#members",
            "Choose the group's areas from the list",
        ),
    ],
    ids=["group of one", "no name", "name taken", "unknown area", "not an id"],
)
def test_a_bad_group_is_shown_beside_its_field_and_changes_nothing(
    admin_app: Flask, data: dict[str, Any], href: str, message: str
) -> None:
    _set_up_benchmarking()
    client = _signed_in(admin_app, "admin")
    ids = {"barking": _id(BARKING), "halton": _id(HALTON)}
    posted = {**data, "members": [member.format(**ids) for member in data["members"]]}
    before = _audit_count()
    response = client.post("/admin/benchmarking/groups/new", data=posted)
    assert response.status_code == 400
    assert _error_summary(_page(response)) == {href: message}
    assert _count(ComparisonGroup) == 1
    assert _audit_count() == before


def test_a_change_to_a_group_is_checked_whole_and_refused_whole(admin_app: Flask) -> None:
    group_id = _set_up_benchmarking()
    client = _signed_in(admin_app, "admin")
    response = client.post(
        f"/admin/benchmarking/groups/{group_id}", data={"name": "", "members": [str(_id(BARKING))]}
    )
    assert response.status_code == 400
    assert set(_error_summary(_page(response))) == {"#name", "#members"}
    db.session.expire_all()
    group = db.session.get_one(ComparisonGroup, group_id)
    assert (group.name, group.member_ids) == ("Outer London boroughs", {_id(BARKING), _id(TRI_BOROUGH)})


# ---------------------------------------------------------------- who may


# {p} a partnership, {g} a similar-areas group.
ROUTES = [
    ("GET", "/admin/benchmarking"),
    ("GET", "/admin/benchmarking/partnerships/{p}/decisions"),
    ("POST", "/admin/benchmarking/partnerships/{p}/decisions"),
    ("GET", "/admin/benchmarking/partnerships/{p}/region"),
    ("POST", "/admin/benchmarking/partnerships/{p}/region"),
    ("GET", "/admin/benchmarking/groups/new"),
    ("POST", "/admin/benchmarking/groups/new"),
    ("GET", "/admin/benchmarking/groups/{g}"),
    ("POST", "/admin/benchmarking/groups/{g}"),
    ("GET", "/admin/benchmarking/groups/{g}/delete"),
    ("POST", "/admin/benchmarking/groups/{g}/delete"),
]


def _routes() -> list[tuple[str, str]]:
    group_id = _set_up_benchmarking()
    return [(method, url.format(p=_id(BARKING), g=group_id)) for method, url in ROUTES]


SNEAKY = {
    "opted_in": "opted-in",
    "decided_on": ["1", "4", "2013"],
    "approver_name": "Sneaky",
    "region": "London",
    "name": "Sneaky group",
    "members": [],
}


def test_every_benchmarking_route_is_in_this_matrix(admin_app: Flask) -> None:
    """So a new page cannot be added without its refusals being tested."""
    answered = {
        (method, rule.rule.replace("<int:partnership_id>", "{p}").replace("<int:group_id>", "{g}"))
        for rule in admin_app.url_map.iter_rules()
        if rule.endpoint.startswith("benchmarking.")
        for method in rule.methods or ()
        if method not in ("HEAD", "OPTIONS")
    }
    assert answered == set(ROUTES)


@pytest.mark.parametrize("who", sorted(set(DEMO_USERS) - {"admin"}))
def test_everyone_but_administrators_is_refused(admin_app: Flask, who: str) -> None:
    routes = _routes()
    client = _signed_in(admin_app, who)
    before = _audit_count()
    for method, url in routes:
        response = client.open(url, method=method, data=SNEAKY)
        assert response.status_code == 403, (who, method, url, response.status_code)
        assert "Sneaky" not in response.get_data(as_text=True)
    assert _audit_count() == before
    assert _count(ComparisonGroup) == 1


def test_signed_out_people_are_sent_to_sign_in(admin_app: Flask) -> None:
    routes = _routes()
    client = admin_app.test_client()
    for method, url in routes:
        response = client.open(url, method=method, data=SNEAKY)
        assert response.status_code == 302, (method, url)
        assert response.headers["Location"].startswith("/sign-in"), url


def test_the_administrator_reaches_every_page_and_unknown_ids_are_not_found(admin_app: Flask) -> None:
    routes = _routes()
    client = _signed_in(admin_app, "admin")
    for method, url in routes:
        if method == "GET":
            assert client.get(url).status_code == 200, url
    for url in [
        "/admin/benchmarking/partnerships/999999/decisions",
        "/admin/benchmarking/partnerships/999999/region",
        "/admin/benchmarking/groups/999999",
        "/admin/benchmarking/groups/999999/delete",
    ]:
        assert client.get(url).status_code == 404, url
        assert client.post(url, data=SNEAKY).status_code == 404, url


def test_a_post_without_its_csrf_token_is_refused(admin_app: Flask) -> None:
    group_id = _set_up_benchmarking()
    client = _signed_in(admin_app, "admin")
    admin_app.config["WTF_CSRF_ENABLED"] = True
    try:
        responses = [
            client.post(f"/admin/benchmarking/partnerships/{_id(HALTON)}/decisions", data=_decision()),
            client.post(f"/admin/benchmarking/partnerships/{_id(HALTON)}/region", data={"region": "London"}),
            client.post(f"/admin/benchmarking/groups/{group_id}/delete"),
        ]
    finally:
        admin_app.config["WTF_CSRF_ENABLED"] = False
    assert [response.status_code for response in responses] == [400, 400, 400]
    assert _count(BenchmarkingDecision) == 2
    assert _count(ComparisonGroup) == 1
    assert db.session.get(AreaRegion, _id(HALTON)) is None


def test_each_page_has_one_primary_button(admin_app: Flask) -> None:
    routes = _routes()
    client = _signed_in(admin_app, "admin")
    for method, url in routes:
        if method != "GET":
            continue
        page = _page(client.get(url))
        primary = [
            button.get_text(" ", strip=True)
            for button in page.select(".govuk-button")
            if not {"govuk-button--secondary", "govuk-button--warning"} & set(button.get("class") or [])
        ]
        assert len(primary) <= 1, (url, primary)
