"""The consistency rules' admin pages: administrators choose, per rule, whether
a return that breaks it is refused or warned; each change is audited."""

from __future__ import annotations

import pytest
from bs4 import BeautifulSoup
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from monitor.audit import AuditEvent
from monitor.db import db
from monitor.demo import DEMO_PASSWORD
from monitor.kpis.library.relations import RuleKind
from monitor.kpis.library.rules import ConsistencyRule
from monitor.kpis.models import Kpi
from monitor.kpis.returns.ingest import check_workbook
from tests.conftest import DEMO_USERS, Auth
from tests.kpis.fixtures.workbooks import Q3, SETTINGS, contract, fill, template
from tests.kpis.test_library_admin import errors_on, kpi_form


def rule(kind: RuleKind, code: str) -> ConsistencyRule:
    db.session.expire_all()
    return db.session.execute(
        select(ConsistencyRule)
        .join(Kpi, ConsistencyRule.kpi_id == Kpi.id)
        .where(ConsistencyRule.kind == kind.value, Kpi.code == code)
    ).scalar_one()


def audited() -> int:
    return db.session.scalar(select(func.count(AuditEvent.id))) or 0


@pytest.mark.parametrize("role", sorted(set(DEMO_USERS) - {"admin"}))
def test_only_admins_see_or_change_the_rules(
    library: Flask, client: FlaskClient, auth: Auth, role: str
) -> None:
    auth.sign_in(DEMO_USERS[role])
    accepted = rule(RuleKind.PART_OF, "REF-ACCEPTED")
    before = audited()
    for method, url in [
        ("GET", "/kpis/rules"),
        ("GET", f"/kpis/rules/{accepted.id}/edit"),
        ("POST", f"/kpis/rules/{accepted.id}/edit"),
        ("GET", "/kpis/rules/new"),
        ("POST", "/kpis/rules/new"),
    ]:
        data = {"severity": "warning", "kind": "part of", "kpi_id": accepted.related_kpi_id}
        response = client.open(url, method=method, data={**data, "related_kpi_id": accepted.kpi_id})
        assert response.status_code == 403, (role, method, url)
        assert "Referrals accepted" not in response.get_data(as_text=True)
    assert rule(RuleKind.PART_OF, "REF-ACCEPTED").severity == "error"
    assert (
        db.session.scalar(
            select(func.count(ConsistencyRule.id)).where(ConsistencyRule.kpi_id == accepted.related_kpi_id)
        )
        == 1
    )
    assert audited() == before


def test_admin_lists_every_rule_with_its_severity(library: Flask, client: FlaskClient, auth: Auth) -> None:
    auth.sign_in(DEMO_USERS["admin"])
    library_page = BeautifulSoup(client.get("/kpis").get_data(as_text=True), "html.parser")
    assert library_page.select_one("a[href='/kpis/rules']") is not None
    soup = BeautifulSoup(client.get("/kpis/rules").get_data(as_text=True), "html.parser")
    table = soup.select_one("table#consistency-rules")
    assert table is not None and table.caption is not None
    assert [th.get_text(strip=True) for th in table.select("thead th")][:4] == [
        "KPI",
        "Rule",
        "Checked against",
        "A return that breaks it",
    ]
    rows = table.select("tbody tr")
    assert len(rows) == db.session.scalar(select(func.count(ConsistencyRule.id)))
    accepted = soup.select_one(f"tr#rule-{rule(RuleKind.PART_OF, 'REF-ACCEPTED').id}")
    assert accepted is not None
    text = " ".join(accepted.get_text(" ", strip=True).split())
    assert "Referrals accepted" in text and "is at most" in text and "Referrals received" in text
    assert "Is refused" in text
    contact = soup.select_one(f"tr#rule-{rule(RuleKind.DENOMINATOR, 'CONTACT-2WD').id}")
    assert contact is not None
    assert "is a percentage out of Referrals accepted" in " ".join(contact.get_text(" ", strip=True).split())


def test_admin_makes_a_rule_a_warning_and_it_is_audited(
    library: Flask, client: FlaskClient, auth: Auth
) -> None:
    auth.sign_in(DEMO_USERS["admin"])
    accepted = rule(RuleKind.PART_OF, "REF-ACCEPTED")
    page = BeautifulSoup(client.get(f"/kpis/rules/{accepted.id}/edit").get_data(as_text=True), "html.parser")
    checked = page.select_one("input[name=severity][checked]")
    assert checked is not None and checked["value"] == "error"
    response = client.post(f"/kpis/rules/{accepted.id}/edit", data={"severity": "warning"})
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/kpis/rules#rule-{accepted.id}")
    assert rule(RuleKind.PART_OF, "REF-ACCEPTED").severity == "warning"
    events = db.session.scalars(
        select(AuditEvent).where(
            AuditEvent.entity_type == "consistency rule",
            AuditEvent.entity_id == accepted.id,
            AuditEvent.action == "update",
        )
    ).all()
    assert [(e.action, e.actor_label, e.changes) for e in events] == [
        ("update", DEMO_USERS["admin"], {"severity": ["error", "warning"]})
    ]


@pytest.mark.parametrize("severity", [None, "", "fatal"])
def test_a_rule_needs_a_severity_from_the_list(
    library: Flask, client: FlaskClient, auth: Auth, severity: str | None
) -> None:
    auth.sign_in(DEMO_USERS["admin"])
    accepted = rule(RuleKind.PART_OF, "REF-ACCEPTED")
    before = audited()
    data = {} if severity is None else {"severity": severity}
    response = client.post(f"/kpis/rules/{accepted.id}/edit", data=data)
    assert response.status_code == 400
    body = response.get_data(as_text=True)
    assert errors_on(body) == {
        "severity": "Choose whether a return that breaks the rule is refused or warned"
    }
    assert "Error: Change a consistency rule" in body  # the page title says so too
    assert rule(RuleKind.PART_OF, "REF-ACCEPTED").severity == "error"
    assert audited() == before


def test_changing_a_rule_needs_the_forms_security_token(library: Flask, auth: Auth) -> None:
    library.config["WTF_CSRF_ENABLED"] = True
    client = library.test_client()
    page = BeautifulSoup(client.get("/sign-in").get_data(as_text=True), "html.parser")
    token = page.select_one("input[name=csrf_token]")
    assert token is not None
    client.post(
        "/sign-in",
        data={"email": DEMO_USERS["admin"], "password": DEMO_PASSWORD, "csrf_token": token["value"]},
    )
    accepted = rule(RuleKind.PART_OF, "REF-ACCEPTED")
    refused = client.post(f"/kpis/rules/{accepted.id}/edit", data={"severity": "warning"})
    assert refused.status_code == 400
    assert rule(RuleKind.PART_OF, "REF-ACCEPTED").severity == "error"


def test_changing_a_missing_rule_is_not_found(library: Flask, client: FlaskClient, auth: Auth) -> None:
    auth.sign_in(DEMO_USERS["admin"])
    assert client.get("/kpis/rules/999999/edit").status_code == 404


def test_a_kpi_added_with_breakdowns_gets_a_rule_that_they_add_up(
    library: Flask, client: FlaskClient, auth: Auth
) -> None:
    auth.sign_in(DEMO_USERS["admin"])
    assert client.post("/kpis/new", data=kpi_form()).status_code == 302
    added = rule(RuleKind.BREAKDOWN, "ISVA-COURT")
    assert (added.related_kpi.code, added.severity) == ("ISVA-COURT", "error")
    # Without breakdowns there is nothing to add up, so the rule goes.
    kpi_id = added.kpi_id
    assert client.post(f"/kpis/{kpi_id}/edit", data=kpi_form(breakdowns="")).status_code == 302
    db.session.expire_all()
    assert (
        db.session.scalar(select(func.count(ConsistencyRule.id)).where(ConsistencyRule.kpi_id == kpi_id)) == 0
    )


def kpi_id(code: str) -> int:
    return db.session.execute(select(Kpi.id).where(Kpi.code == code)).scalar_one()


def test_admin_adds_a_rule_and_returns_are_checked_against_it(
    frameworks: Flask, client: FlaskClient, auth: Auth
) -> None:
    auth.sign_in(DEMO_USERS["admin"])
    form = BeautifulSoup(client.get("/kpis/rules/new").get_data(as_text=True), "html.parser")
    assert form.select_one("input[name=severity][value=error][checked]") is not None
    # Made up for the test: every accepted referral closed in the quarter.
    response = client.post(
        "/kpis/rules/new",
        data={
            "kind": "part of",
            "kpi_id": kpi_id("REF-ACCEPTED"),
            "related_kpi_id": kpi_id("CASES-CLOSED"),
            "severity": "warning",
        },
    )
    assert response.status_code == 302
    added = db.session.execute(
        select(ConsistencyRule).where(
            ConsistencyRule.kpi_id == kpi_id("REF-ACCEPTED"),
            ConsistencyRule.related_kpi_id == kpi_id("CASES-CLOSED"),
        )
    ).scalar_one()
    assert response.headers["Location"].endswith(f"/kpis/rules#rule-{added.id}")
    events = db.session.scalars(
        select(AuditEvent).where(
            AuditEvent.entity_type == "consistency rule", AuditEvent.entity_id == added.id
        )
    ).all()
    assert [(e.action, e.actor_label) for e in events] == [("create", DEMO_USERS["admin"])]

    result = check_workbook(
        db.session(),
        fill(template()),
        "return.xlsx",
        contract=contract("HBC-CYP-DA-01"),
        quarter=Q3,
        user=None,
        settings=SETTINGS,
    )
    assert [(m.severity.value, m.cell, m.kpi) for m in result.messages] == [
        ("warning", "H12", "REF-ACCEPTED")
    ]
    assert result.messages[0].message.startswith("Referrals accepted (28) is more than cases closed (18)")


@pytest.mark.parametrize(
    ("data", "errors"),
    [
        (
            {},
            {
                "kind": "Choose whether one KPI is part of another, or a percentage is out of a count",
                "kpi_id": "Choose the KPI the rule checks",
                "related_kpi_id": "Choose the KPI it is checked against",
                "severity": "Choose whether a return that breaks the rule is refused or warned",
            },
        ),
        (
            {"kind": "part of", "kpi_id": "CONTACT-2WD", "related_kpi_id": "REF-RECEIVED"},
            {"kpi_id": "CONTACT-2WD is not a count: a part and the whole it is part of are both counts"},
        ),
        (
            {"kind": "denominator", "kpi_id": "REF-RECEIVED", "related_kpi_id": "FEEL-SAFER"},
            {
                "kpi_id": "REF-RECEIVED is not a percentage with a numerator and denominator: choose one that is",
                "related_kpi_id": "FEEL-SAFER is not a count: a percentage's denominator is a count",
            },
        ),
        (
            {"kind": "part of", "kpi_id": "REF-RECEIVED", "related_kpi_id": "REF-RECEIVED"},
            {"related_kpi_id": "Choose a different KPI to check it against"},
        ),
        (
            {"kind": "part of", "kpi_id": "REF-ACCEPTED", "related_kpi_id": "REF-RECEIVED"},
            {"related_kpi_id": "The library already has this rule"},
        ),
        (
            {"kind": "denominator", "kpi_id": "CONTACT-2WD", "related_kpi_id": "CASES-CLOSED"},
            {"kpi_id": "CONTACT-2WD's denominator is already the same as another count"},
        ),
        (
            {"kind": "breakdown", "kpi_id": "REF-RECEIVED", "related_kpi_id": "REF-RECEIVED"},
            {"kind": "Choose whether one KPI is part of another, or a percentage is out of a count"},
        ),
    ],
)
def test_a_rule_must_make_sense(
    library: Flask, client: FlaskClient, auth: Auth, data: dict[str, str], errors: dict[str, str]
) -> None:
    auth.sign_in(DEMO_USERS["admin"])
    before = (db.session.scalar(select(func.count(ConsistencyRule.id))), audited())
    posted = {key: (str(kpi_id(value)) if key.endswith("kpi_id") else value) for key, value in data.items()}
    if data:
        posted["severity"] = "error"
    response = client.post("/kpis/rules/new", data=posted)
    assert response.status_code == 400
    body = response.get_data(as_text=True)
    assert errors_on(body) == errors
    assert "Error: Add a consistency rule" in body
    assert (db.session.scalar(select(func.count(ConsistencyRule.id))), audited()) == before
