"""Every KPI library, framework and performance route, web and API, requested
as every demo role against contracts they do and do not work on.

Expectations come from the tables below (who commissions, provides and
oversees each contract), not from the permission code under test. A refusal
must carry none of the contract's data and change nothing.
"""

from __future__ import annotations

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from monitor.contracts.models import Contract
from monitor.db import db
from monitor.kpis.library.rules import ConsistencyRule
from monitor.kpis.models import FrameworkItem, Kpi
from tests.api.conftest import snapshot, token_for
from tests.conftest import DEMO_USERS, Auth

READERS = {
    "LBBD-DV-002": {"admin", "lbbd", "ccg", "refuge", "refuge_admin", "bd_board"},
    "HBC-CYP-DA-01": {"admin", "halton", "halton_provider", "halton_board"},
}
CHANGERS = {"LBBD-DV-002": {"lbbd", "ccg"}, "HBC-CYP-DA-01": {"halton"}}
# Words from each contract's framework that only its readers may see.
SECRETS = {"LBBD-DV-002": "Repeat MARAC referrals", "HBC-CYP-DA-01": "Children with reliable improvement"}

READ, CHANGE, ADMIN = "read", "change", "admin"
# (who may, method, url template); {c} contract, {item} one of its framework items, {kpi} a KPI,
# {rule} one of the library's consistency rules.
WEB_ROUTES = [
    (ADMIN, "GET", "/kpis"),
    (ADMIN, "GET", "/kpis/new"),
    (ADMIN, "POST", "/kpis/new"),
    (ADMIN, "GET", "/kpis/{kpi}/edit"),
    (ADMIN, "POST", "/kpis/{kpi}/edit"),
    (ADMIN, "GET", "/kpis/rules"),
    (ADMIN, "GET", "/kpis/rules/new"),
    (ADMIN, "POST", "/kpis/rules/new"),
    (ADMIN, "GET", "/kpis/rules/{rule}/edit"),
    (ADMIN, "POST", "/kpis/rules/{rule}/edit"),
    (ADMIN, "GET", "/kpis/rules/{rule}/delete"),
    (ADMIN, "POST", "/kpis/rules/{rule}/delete"),
    (READ, "GET", "/contracts/{c}/framework"),
    (CHANGE, "GET", "/contracts/{c}/framework/new"),
    (CHANGE, "POST", "/contracts/{c}/framework/new"),
    (CHANGE, "GET", "/contracts/{c}/framework/{item}/change"),
    (CHANGE, "POST", "/contracts/{c}/framework/{item}/change"),
    (CHANGE, "GET", "/contracts/{c}/framework/{item}/end"),
    (CHANGE, "POST", "/contracts/{c}/framework/{item}/end"),
    (READ, "GET", "/contracts/{c}/performance"),
]
API_ROUTES = [
    (READ, "GET", "/api/v1/contracts/{c}/framework"),
    (READ, "GET", "/api/v1/contracts/{c}/framework/{item}"),
    (CHANGE, "POST", "/api/v1/contracts/{c}/framework"),
    (CHANGE, "PATCH", "/api/v1/contracts/{c}/framework/{item}"),
    (READ, "GET", "/api/v1/contracts/{c}/performance"),
]
OVERVIEW = "/performance"
MY_MODULES = {
    "monitor.kpis.library.views",
    "monitor.kpis.framework.views",
    "monitor.kpis.performance.views",
    "monitor.api.framework",
}


def _ids(reference: str) -> dict[str, int]:
    contract = db.session.execute(select(Contract).where(Contract.reference == reference)).scalar_one()
    item = db.session.scalars(
        select(FrameworkItem).where(FrameworkItem.contract_id == contract.id).order_by(FrameworkItem.id)
    ).first()
    kpi = db.session.execute(select(Kpi.id).where(Kpi.code == "REF-RECEIVED")).scalar_one()
    rule = db.session.scalars(select(ConsistencyRule.id).order_by(ConsistencyRule.id)).first()
    assert item is not None and rule is not None
    return {"c": contract.id, "item": item.id, "kpi": kpi, "rule": rule}


def _web_data(kpi: int) -> dict[str, str]:
    """Valid for every form, so a wrongly allowed request would really write."""
    return {
        "kpi_id": str(kpi),
        "code": "REF-RECEIVED",
        "name": "Renamed",
        "definition": "Changed",
        "unit": "count",
        "direction": "higher is better",
        "category": "output",
        "rollup": "sum",
        "target": "99",
        "target_basis": "quarter",
        "amber_tolerance_pct": "10",
        "effective_from": "2014-15-Q1",
        "from_quarter": "2014-15-Q1",
        "effective_to": "2014-15-Q1",
    }


def _allowed(who_may: str, role: str, reference: str) -> bool:
    if who_may == ADMIN:
        return role == "admin"
    return role in (CHANGERS if who_may == CHANGE else READERS)[reference]


def test_every_route_is_in_the_matrix(app: Flask) -> None:
    mine = {
        rule.rule
        for rule in app.url_map.iter_rules()
        if getattr(app.view_functions[rule.endpoint], "__module__", "") in MY_MODULES
    }
    listed = {url for _, _, url in WEB_ROUTES + API_ROUTES} | {OVERVIEW}
    normalised = {
        url.replace("{c}", "<int:contract_id>")
        .replace("{item}", "<int:item_id>")
        .replace("{kpi}", "<int:kpi_id>")
        .replace("{rule}", "<int:rule_id>")
        for url in listed
    }
    assert mine == normalised


@pytest.mark.parametrize("role", sorted(DEMO_USERS))
def test_web_routes_refuse_without_data(
    frameworks: Flask, client: FlaskClient, auth: Auth, role: str
) -> None:
    assert auth.sign_in(DEMO_USERS[role]).status_code == 302
    for reference in READERS:
        ids = _ids(reference)
        for who_may, method, template in WEB_ROUTES:
            url = template.format(**ids)
            before = snapshot()
            response = client.open(url, method=method, data=_web_data(ids["kpi"]))
            if _allowed(who_may, role, reference):
                assert response.status_code in (200, 302, 400), (role, method, url, response.status_code)
                continue
            readable = who_may != ADMIN and role in READERS[reference]
            expected = 403 if readable or who_may == ADMIN else 404
            assert response.status_code == expected, (role, method, url, response.status_code)
            body = response.get_data(as_text=True)
            assert reference not in body and SECRETS[reference] not in body, (role, url)
            assert "Referrals received" not in body, (role, url)
            assert snapshot() == before, f"{role} changed something through {method} {url}"


@pytest.mark.parametrize("role", sorted(DEMO_USERS))
def test_api_routes_refuse_without_data(frameworks: Flask, client: FlaskClient, role: str) -> None:
    headers = {"Authorization": f"Bearer {token_for(DEMO_USERS[role])}"}
    for reference in READERS:
        ids = _ids(reference)
        bodies = {
            "POST": {"kpi_code": "WAIT-DAYS", "target": 5, "effective_from": "2014-15-Q1"},
            "PATCH": {"target": 99, "from_quarter": "2014-15-Q1"},
        }
        for who_may, method, template in API_ROUTES:
            url = template.format(**ids)
            before = snapshot()
            response = client.open(url, method=method, headers=headers, json=bodies.get(method))
            if _allowed(who_may, role, reference):
                assert response.status_code in (200, 201), (role, method, url, response.get_json())
                continue
            expected = 403 if role in READERS[reference] else 404
            assert response.status_code == expected, (role, method, url, response.status_code)
            body = response.get_data(as_text=True)
            assert reference not in body and SECRETS[reference] not in body and "target" not in body, (
                role,
                url,
            )
            assert snapshot() == before, f"{role} changed something through {method} {url}"


@pytest.mark.parametrize("role", sorted(DEMO_USERS))
def test_the_overview_shows_only_visible_contracts(
    frameworks: Flask, client: FlaskClient, auth: Auth, role: str
) -> None:
    auth.sign_in(DEMO_USERS[role])
    response = client.get(OVERVIEW)
    assert response.status_code == 200
    body = response.get_data(as_text=True)
    for reference, readers in READERS.items():
        assert (reference in body) == (role in readers), (role, reference)
    assert ("TRI-VAWG-01" in body) == (role in {"admin", "westminster"})


def test_signed_out_people_are_sent_to_sign_in_or_refused(frameworks: Flask, client: FlaskClient) -> None:
    ids = _ids("LBBD-DV-002")
    for _, method, template in [*WEB_ROUTES, (READ, "GET", OVERVIEW)]:
        response = client.open(template.format(**ids), method=method, data={})
        assert response.status_code == 302 and response.headers["Location"].startswith("/sign-in"), template
    for _, method, template in API_ROUTES:
        response = client.open(template.format(**ids), method=method, json={})
        assert response.status_code == 401, template
