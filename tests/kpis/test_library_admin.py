"""The KPI library pages: administrators only; every rule has its own message."""

from __future__ import annotations

from typing import Any

import pytest
from bs4 import BeautifulSoup
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from monitor.audit import AuditEvent
from monitor.db import db
from monitor.kpis.models import Kpi
from tests.conftest import DEMO_USERS, Auth


def kpi_form(**changes: Any) -> dict[str, Any]:
    data = {
        "code": "ISVA-COURT",
        "name": "Clients supported at court",
        "definition": "Clients the ISVA supported at a criminal court hearing in the quarter.",
        "unit": "count",
        "direction": "higher is better",
        "category": "output",
        "rollup": "sum",
        "breakdowns": "Magistrates' court\r\nCrown court\r\n\r\n",
        "numerator_label": "",
        "denominator_label": "",
        "active": "y",
    }
    data.update(changes)
    return {k: v for k, v in data.items() if v is not None}


def errors_on(body: str) -> dict[str, str]:
    """The error summary as {field id: message}."""
    soup = BeautifulSoup(body, "html.parser")
    summary = soup.select_one(".govuk-error-summary")
    assert summary is not None, "no error summary"
    return {str(a["href"]).lstrip("#"): a.get_text(strip=True) for a in summary.select("a")}


def kpi(code: str) -> Kpi | None:
    return db.session.execute(select(Kpi).where(Kpi.code == code)).scalar_one_or_none()


@pytest.mark.parametrize("role", sorted(set(DEMO_USERS) - {"admin"}))
def test_only_admins_see_or_change_the_library(
    library: Flask, client: FlaskClient, auth: Auth, role: str
) -> None:
    auth.sign_in(DEMO_USERS[role])
    referrals = kpi("REF-RECEIVED")
    assert referrals is not None
    audited = db.session.scalar(select(func.count(AuditEvent.id)))
    for method, url in [
        ("GET", "/kpis"),
        ("GET", "/kpis/new"),
        ("POST", "/kpis/new"),
        ("GET", f"/kpis/{referrals.id}/edit"),
        ("POST", f"/kpis/{referrals.id}/edit"),
    ]:
        response = client.open(url, method=method, data=kpi_form(name="Renamed by a stranger"))
        assert response.status_code == 403, (role, method, url)
        assert "Referrals received" not in response.get_data(as_text=True)
    assert kpi("ISVA-COURT") is None
    assert db.session.scalar(select(func.count(AuditEvent.id))) == audited


def test_admin_lists_every_kpi(library: Flask, client: FlaskClient, auth: Auth) -> None:
    auth.sign_in(DEMO_USERS["admin"])
    soup = BeautifulSoup(client.get("/kpis").get_data(as_text=True), "html.parser")
    table = soup.select_one("table#kpi-library")
    assert table is not None and table.caption is not None
    assert [th.get_text(strip=True) for th in table.select("thead th")][:6] == [
        "Code",
        "Name and definition",
        "Unit",
        "Better when",
        "Category",
        "Year from quarters",
    ]
    row = soup.select_one("tr#kpi-REF-RECEIVED")
    assert row is not None and "Police" in row.get_text() and "Self-referral" in row.get_text()
    feel_safer = soup.select_one("tr#kpi-FEEL-SAFER")
    assert feel_safer is not None and "out of Clients asked at closure" in feel_safer.get_text()
    assert all(th.get("scope") == "row" for th in soup.select("tbody th"))


def test_admin_adds_a_kpi_with_breakdowns_one_per_line(
    library: Flask, client: FlaskClient, auth: Auth
) -> None:
    auth.sign_in(DEMO_USERS["admin"])
    response = client.post("/kpis/new", data=kpi_form())
    assert response.status_code == 302
    added = kpi("ISVA-COURT")
    assert added is not None
    assert [b.label for b in added.breakdowns] == ["Magistrates' court", "Crown court"]
    assert added.active
    audit = db.session.scalars(
        select(AuditEvent).where(AuditEvent.entity_type == "kpi", AuditEvent.entity_id == added.id)
    )
    assert [(event.action, event.actor_label) for event in audit] == [("create", DEMO_USERS["admin"])]


def test_admin_changes_a_kpi_and_its_breakdowns(library: Flask, client: FlaskClient, auth: Auth) -> None:
    auth.sign_in(DEMO_USERS["admin"])
    referrals = kpi("REF-RECEIVED")
    assert referrals is not None
    page = client.get(f"/kpis/{referrals.id}/edit").get_data(as_text=True)
    assert "Children&#39;s social care\nMASH" in page  # breakdowns shown one per line
    # Reordering and renaming must not trip the unique (kpi, position) rule.
    labels = "MASH\r\nPolice\r\nHealth visitor\r\n"
    response = client.post(
        f"/kpis/{referrals.id}/edit",
        data=kpi_form(code="REF-RECEIVED", name="Referrals received (all sources)", breakdowns=labels),
    )
    assert response.status_code == 302
    db.session.expire_all()
    changed = kpi("REF-RECEIVED")
    assert changed is not None and changed.name == "Referrals received (all sources)"
    assert [b.label for b in changed.breakdowns] == ["MASH", "Police", "Health visitor"]


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"code": ""}, "code", "Enter a code for the KPI, like REF-RECEIVED"),
        ({"code": "REF RECEIVED!"}, "code", "The code can only use letters, numbers and single hyphens"),
        ({"code": "ref-received"}, "code", "A KPI with the code REF-RECEIVED already exists"),
        ({"name": "  "}, "name", "Enter the KPI's name"),
        ({"definition": ""}, "definition", "Enter a plain-English definition"),
        ({"unit": None}, "unit", "Choose the unit"),
        ({"unit": "furlongs"}, "unit", "Choose the unit"),
        ({"direction": None}, "direction", "Choose whether higher or lower is better"),
        ({"category": None}, "category", "Choose output, outcome, quality or finance"),
        ({"rollup": None}, "rollup", "Choose how quarters add up to a year"),
        ({"breakdowns": "Police\nPOLICE"}, "breakdowns", "Enter each breakdown once"),
        ({"breakdowns": "x" * 101}, "breakdowns", "Each breakdown must be 100 characters or fewer"),
        (
            {"unit": "percentage", "numerator_label": "Clients at court"},
            "denominator_label",
            "Enter both the numerator and the denominator, or neither",
        ),
        (
            {"numerator_label": "Clients at court", "denominator_label": "Clients"},
            "numerator_label",
            "Only a percentage KPI can have a numerator and denominator",
        ),
    ],
)
def test_bad_kpis_are_refused_with_a_message(
    library: Flask, client: FlaskClient, auth: Auth, changes: dict[str, Any], field: str, message: str
) -> None:
    auth.sign_in(DEMO_USERS["admin"])
    before = db.session.scalar(select(func.count(Kpi.id)))
    response = client.post("/kpis/new", data=kpi_form(**changes))
    assert response.status_code == 400
    body = response.get_data(as_text=True)
    errors = errors_on(body)
    assert field in errors, errors
    assert errors[field].startswith(message), errors
    assert "Error: Add a KPI" in body  # the page title says so too
    assert db.session.scalar(select(func.count(Kpi.id))) == before


def test_editing_a_missing_kpi_is_not_found(library: Flask, client: FlaskClient, auth: Auth) -> None:
    auth.sign_in(DEMO_USERS["admin"])
    assert client.get("/kpis/999999/edit").status_code == 404
