"""Every return page, requested as every role, for contracts each role can and
cannot see. Expectations come from the table below (who commissions, provides
and oversees each demo contract), not from the permission code under test."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from monitor.audit import AuditEvent
from monitor.db import db
from monitor.kpis.models import ReturnVersion
from tests.conftest import DEMO_USERS, Auth
from tests.kpis.test_returns_builders import HALTON, Q1, Q3, REFUGE, contract, upload

READERS = {
    REFUGE: {"admin", "lbbd", "ccg", "refuge", "refuge_admin", "bd_board"},
    HALTON: {"admin", "halton", "halton_provider", "halton_board"},
}
UPLOADERS = {REFUGE: {"lbbd", "ccg", "refuge", "refuge_admin"}, HALTON: {"halton", "halton_provider"}}
REVIEWERS = {REFUGE: {"lbbd", "ccg"}, HALTON: {"halton"}}
BOARDS = {"bd_board", "halton_board"}
PERIODS = {REFUGE: str(Q1), HALTON: str(Q3)}

# (method, path after /contracts/{c}/returns, who may) for one contract.
ROUTES = [
    ("GET", "", "read"),
    ("GET", "/{p}", "read"),
    ("GET", "/{p}/template.xlsx", "read"),
    ("POST", "/{p}/upload", "upload"),
    ("POST", "/{p}/confirm", "upload"),
    ("GET", "/{p}/reply", "upload"),
    ("POST", "/{p}/reply", "upload"),
    ("GET", "/{p}/versions/1/file", "figures"),
    ("GET", "/{p}/compare", "figures"),
    ("POST", "/{p}/query", "review"),
    ("POST", "/{p}/accept", "review"),
    ("POST", "/{p}/reopen", "review"),
    ("POST", "/{p}/decision", "review"),
]


def allowed(role: str, reference: str, need: str) -> bool:
    if need == "read":
        return role in READERS[reference]
    if need == "figures":
        return role in READERS[reference] and role not in BOARDS
    if need == "upload":
        return role in UPLOADERS[reference]
    return role in REVIEWERS[reference]


def audit_count() -> int:
    return db.session.scalar(select(func.count(AuditEvent.id))) or 0


def test_every_return_route_is_in_the_matrix(app: Flask) -> None:
    covered = {
        f"/contracts/<int:contract_id>/returns{path}".replace("{p}", "<period>") for _, path, _ in ROUTES
    }
    covered = {c.replace("/versions/1/", "/versions/<int:number>/") for c in covered}
    covered |= {"/contracts/<int:contract_id>/returns/<period>/annotated/<token>", "/returns", "/tasks"}
    rules = {
        rule.rule
        for rule in app.url_map.iter_rules()
        if rule.rule.startswith(("/returns", "/tasks", "/contracts/<int:contract_id>/returns"))
    }
    assert rules == covered


@pytest.mark.parametrize("role", sorted(DEMO_USERS))
def test_return_routes_by_role(
    frameworks: Flask, client: FlaskClient, auth: Auth, role: str, tmp_path: Path
) -> None:
    frameworks.instance_path = str(tmp_path)  # held uploads go here, not into the real instance folder
    upload("refuge", REFUGE, Q1)
    upload("halton_provider", HALTON, Q3, submit=False, figures=[], commentary={})
    assert auth.sign_in(DEMO_USERS[role]).status_code == 302
    for reference in (REFUGE, HALTON):
        item = contract(reference)
        base = f"/contracts/{item.id}/returns"
        for method, path, need in ROUTES:
            url = base + path.format(p=PERIODS[reference])
            before = audit_count()
            response = client.open(url, method=method, data={})
            body = response.get_data(as_text=True) if response.mimetype == "text/html" else ""
            if allowed(role, reference, need):
                assert response.status_code in (200, 302, 400), (role, method, url, response.status_code)
                continue
            expected = 404 if role not in READERS[reference] else 403
            assert response.status_code == expected, (role, method, url, response.status_code)
            assert item.title not in body and reference not in body, (role, url)
            assert audit_count() == before, f"{role} changed something through {method} {url}"
        # Annotated workbooks are found only by their token, for their uploader.
        annotated = client.get(f"{base}/{PERIODS[reference]}/annotated/{'x' * 32}")
        assert annotated.status_code == 404


@pytest.mark.parametrize("role", sorted(DEMO_USERS))
def test_calendar_shows_only_visible_returns(
    frameworks: Flask, client: FlaskClient, auth: Auth, role: str
) -> None:
    auth.sign_in(DEMO_USERS[role])
    response = client.get("/returns")
    assert response.status_code == 200
    body = response.get_data(as_text=True)
    # Only the refuge's returns have fallen due by 2 December 2013.
    assert (REFUGE in body) == (role in READERS[REFUGE])
    assert HALTON not in body
    # The task list is the providers' home; everyone else is sent to their own.
    tasks = client.get("/tasks")
    if role in ("refuge", "refuge_admin", "halton_provider"):
        assert tasks.status_code == 200
        assert (REFUGE in tasks.get_data(as_text=True)) == (role in READERS[REFUGE])
    else:
        assert tasks.status_code == 302 and tasks.headers["Location"] == "/"


def test_signed_out_users_are_sent_to_sign_in(frameworks: Flask, client: FlaskClient) -> None:
    base = f"/contracts/{contract(REFUGE).id}/returns"
    urls = [("GET", "/returns"), ("GET", "/tasks")] + [(m, base + p.format(p=str(Q1))) for m, p, _ in ROUTES]
    for method, url in urls:
        response = client.open(url, method=method, data={})
        assert response.status_code == 302, (method, url)
        assert response.headers["Location"].startswith("/sign-in")


def test_refused_uploads_store_nothing(frameworks: Flask, client: FlaskClient, auth: Auth) -> None:
    from tests.kpis.test_returns_builders import refuge_workbook

    url = f"/contracts/{contract(REFUGE).id}/returns/{Q1}/upload"
    workbook = refuge_workbook()
    for role in ("bd_board", "admin", "halton", "westminster", "halton_provider"):
        auth.sign_out()
        auth.sign_in(DEMO_USERS[role])
        data = {"file": (io.BytesIO(workbook), "return.xlsx"), "submit_return": "y"}
        response = client.post(url, data=data, content_type="multipart/form-data")
        assert response.status_code in (403, 404), role
    assert db.session.scalar(select(func.count(ReturnVersion.id))) == 0
