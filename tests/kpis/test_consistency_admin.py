"""The consistency rules' admin pages: administrators add rules, choose, per
rule, whether a return that breaks it is refused or warned, and delete rules;
each change is audited."""

from __future__ import annotations

import pytest
from bs4 import BeautifulSoup
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from monitor.audit import AuditEvent
from monitor.auth.models import User
from monitor.db import db
from monitor.demo import DEMO_PASSWORD
from monitor.errors import Forbidden
from monitor.kpis.library.definitions import delete_rule, load_library
from monitor.kpis.library.relations import RuleKind
from monitor.kpis.library.rules import ConsistencyRule
from monitor.kpis.models import Kpi
from monitor.kpis.returns.ingest import check_workbook
from monitor.kpis.returns.ingest.result import Severity
from tests.conftest import DEMO_USERS, Auth, two_factor_code
from tests.kpis.fixtures.workbooks import Q3, SETTINGS, contract, fill, template
from tests.kpis.test_consistency_rules import check, halton
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
        ("GET", f"/kpis/rules/{accepted.id}/delete"),
        ("POST", f"/kpis/rules/{accepted.id}/delete"),
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


def _admin_with_csrf(library: Flask) -> FlaskClient:
    """A client signed in as the admin, with forms' security tokens checked."""
    library.config["WTF_CSRF_ENABLED"] = True
    client = library.test_client()
    page = BeautifulSoup(client.get("/sign-in").get_data(as_text=True), "html.parser")
    token = page.select_one("input[name=csrf_token]")
    assert token is not None
    signed = client.post(
        "/sign-in",
        data={"email": DEMO_USERS["admin"], "password": DEMO_PASSWORD, "csrf_token": token["value"]},
    )
    assert signed.headers["Location"] == "/sign-in/two-factor"  # admins give a code too
    page = BeautifulSoup(client.get("/sign-in/two-factor").get_data(as_text=True), "html.parser")
    token = page.select_one("input[name=csrf_token]")
    assert token is not None
    code = {"code": two_factor_code(DEMO_USERS["admin"]), "csrf_token": token["value"]}
    answered = client.post("/sign-in/two-factor", data=code)
    assert answered.status_code == 302, answered.get_data(as_text=True)[-3000:]
    return client


def test_changing_a_rule_needs_the_forms_security_token(library: Flask, auth: Auth) -> None:
    client = _admin_with_csrf(library)
    accepted = rule(RuleKind.PART_OF, "REF-ACCEPTED")
    refused = client.post(f"/kpis/rules/{accepted.id}/edit", data={"severity": "warning"})
    assert refused.status_code == 400
    assert rule(RuleKind.PART_OF, "REF-ACCEPTED").severity == "error"


def test_changing_a_missing_rule_is_not_found(library: Flask, client: FlaskClient, auth: Auth) -> None:
    auth.sign_in(DEMO_USERS["admin"])
    # A rule that exists can be changed, so the 404 below is about the id.
    existing = rule(RuleKind.PART_OF, "REF-ACCEPTED")
    assert client.get(f"/kpis/rules/{existing.id}/edit").status_code == 200
    assert db.session.get(ConsistencyRule, 999999) is None
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


# -- deleting a rule ------------------------------------------------------------


def rule_exists(kind: RuleKind, code: str) -> bool:
    db.session.expire_all()
    found = db.session.scalar(
        select(func.count(ConsistencyRule.id))
        .join(Kpi, ConsistencyRule.kpi_id == Kpi.id)
        .where(ConsistencyRule.kind == kind.value, Kpi.code == code)
    )
    return found == 1


def page_text(soup: BeautifulSoup) -> str:
    return " ".join(soup.get_text(" ", strip=True).split())


def test_admin_deletes_a_rule_and_it_is_audited(library: Flask, client: FlaskClient, auth: Auth) -> None:
    auth.sign_in(DEMO_USERS["admin"])
    accepted = rule(RuleKind.PART_OF, "REF-ACCEPTED")
    delete_url = f"/kpis/rules/{accepted.id}/delete"
    listing = BeautifulSoup(client.get("/kpis/rules").get_data(as_text=True), "html.parser")
    assert listing.select_one(f"tr#rule-{accepted.id} a[href='{delete_url}']") is not None
    edit = BeautifulSoup(client.get(f"/kpis/rules/{accepted.id}/edit").get_data(as_text=True), "html.parser")
    assert edit.select_one(f"a[href='{delete_url}']") is not None

    confirm = client.get(delete_url)
    assert confirm.status_code == 200
    soup = BeautifulSoup(confirm.get_data(as_text=True), "html.parser")
    text = page_text(soup)
    assert "Referrals accepted" in text and "It is at most REF-RECEIVED: Referrals received" in text
    assert "Returns already checked are not changed" in text
    assert "Returns checked from now on, for every contract, will not be checked against this rule" in text
    button = soup.select_one("form[method=post] button.govuk-button--warning")
    assert button is not None and button.get_text(strip=True) == "Delete rule"

    response = client.post(delete_url, data={})
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/kpis/rules")
    assert not rule_exists(RuleKind.PART_OF, "REF-ACCEPTED")
    banner = BeautifulSoup(client.get("/kpis/rules").get_data(as_text=True), "html.parser").select_one(
        ".govuk-notification-banner--success"
    )
    assert banner is not None
    assert "Rule deleted: REF-ACCEPTED part of REF-RECEIVED" in banner.get_text(" ", strip=True)
    events = db.session.scalars(
        select(AuditEvent).where(
            AuditEvent.entity_type == "consistency rule",
            AuditEvent.entity_id == accepted.id,
            AuditEvent.action == "delete",
        )
    ).all()
    assert [(e.action, e.actor_label, e.entity_label) for e in events] == [
        ("delete", DEMO_USERS["admin"], "REF-ACCEPTED part of REF-RECEIVED")
    ]
    assert events[0].changes["kind"] == ["part of", None]
    assert events[0].changes["severity"] == ["error", None]


def test_a_non_admin_cannot_delete_a_rule_through_the_service(library: Flask) -> None:
    provider = db.session.execute(select(User).where(User.email == DEMO_USERS["refuge"])).scalar_one()
    accepted = rule(RuleKind.PART_OF, "REF-ACCEPTED")
    before = audited()
    with pytest.raises(Forbidden), db.transaction() as session:
        delete_rule(session, provider, accepted)
    assert rule_exists(RuleKind.PART_OF, "REF-ACCEPTED")
    assert audited() == before


def test_deleting_a_rule_needs_the_forms_security_token(library: Flask, auth: Auth) -> None:
    client = _admin_with_csrf(library)
    accepted = rule(RuleKind.PART_OF, "REF-ACCEPTED")
    before = audited()
    confirm = BeautifulSoup(
        client.get(f"/kpis/rules/{accepted.id}/delete").get_data(as_text=True), "html.parser"
    )
    assert confirm.select_one("form[method=post] input[name=csrf_token]") is not None
    refused = client.post(f"/kpis/rules/{accepted.id}/delete", data={})
    assert refused.status_code == 400
    assert rule_exists(RuleKind.PART_OF, "REF-ACCEPTED")
    assert audited() == before


def test_deleting_a_missing_rule_is_not_found(library: Flask, client: FlaskClient, auth: Auth) -> None:
    auth.sign_in(DEMO_USERS["admin"])
    accepted = rule(RuleKind.PART_OF, "REF-ACCEPTED")
    assert client.get(f"/kpis/rules/{accepted.id}/delete").status_code == 200
    before = audited()
    assert client.get("/kpis/rules/999999/delete").status_code == 404
    assert client.post("/kpis/rules/999999/delete", data={}).status_code == 404
    assert audited() == before


def test_a_breakdown_rule_follows_its_kpi_and_is_not_deleted(
    library: Flask, client: FlaskClient, auth: Auth
) -> None:
    auth.sign_in(DEMO_USERS["admin"])
    breakdowns = rule(RuleKind.BREAKDOWN, "REF-RECEIVED")
    delete_url = f"/kpis/rules/{breakdowns.id}/delete"
    listing = BeautifulSoup(client.get("/kpis/rules").get_data(as_text=True), "html.parser")
    assert listing.select_one(f"a[href='{delete_url}']") is None
    confirm = client.get(delete_url)
    assert confirm.status_code == 200
    soup = BeautifulSoup(confirm.get_data(as_text=True), "html.parser")
    assert soup.select_one("button.govuk-button--warning") is None
    assert "remove the breakdowns from the KPI" in page_text(soup)
    assert soup.select_one(f"a[href='/kpis/{breakdowns.kpi_id}/edit']") is not None
    before = audited()
    refused = client.post(delete_url, data={})
    assert refused.status_code == 400
    assert errors_on(refused.get_data(as_text=True)) == {
        "submit": "The breakdowns of REF-RECEIVED always have a rule that they add up to its total. "
        "To stop checking them, remove the breakdowns from the KPI"
    }
    assert rule_exists(RuleKind.BREAKDOWN, "REF-RECEIVED")
    assert audited() == before


def test_a_deleted_rule_no_longer_checks_returns(frameworks: Flask, client: FlaskClient, auth: Auth) -> None:
    # More accepted than received (33 of 32) breaks the standard part-of rule.
    figures = halton(
        **{"REF-ACCEPTED//value": 33, "CONTACT-2WD//denominator": 33, "CONTACT-2WD//numerator": 31}
    )
    before = check(fill(template(), figures))
    assert [(m.severity, m.kpi) for m in before.messages] == [(Severity.ERROR, "REF-ACCEPTED")]
    auth.sign_in(DEMO_USERS["admin"])
    accepted = rule(RuleKind.PART_OF, "REF-ACCEPTED")
    assert client.post(f"/kpis/rules/{accepted.id}/delete", data={}).status_code == 302
    db.session.remove()
    after = check(fill(template(), figures))
    assert after.ok and after.messages == []


def test_a_deleted_standard_rule_stays_deleted_when_the_library_is_loaded_again(
    library: Flask, client: FlaskClient, auth: Auth
) -> None:
    auth.sign_in(DEMO_USERS["admin"])
    accepted = rule(RuleKind.PART_OF, "REF-ACCEPTED")
    assert client.post(f"/kpis/rules/{accepted.id}/delete", data={}).status_code == 302
    with db.transaction() as session:
        assert load_library(session) == 0
    assert not rule_exists(RuleKind.PART_OF, "REF-ACCEPTED")
    # The other standard rules, and the breakdown rules, are all still there.
    assert rule_exists(RuleKind.PART_OF, "PERP-COMPLETIONS")
    assert rule_exists(RuleKind.BREAKDOWN, "REF-RECEIVED")
