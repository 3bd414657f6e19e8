"""No web request runs the ETL (issue 12): a journey through the pages, from a
provider's draft to a funding change, runs it never; the changes the
warehouse reads leave outbox rows, and draining them runs it once, outside
any request."""

from __future__ import annotations

import io
import sys
from collections.abc import Callable
from typing import Any

import pytest
from bs4 import BeautifulSoup
from flask import Flask, has_request_context
from flask.testing import FlaskClient
from sqlalchemy import select

import etl.run
from etl.app import drain_outbox, run_for_app
from monitor.contracts.models import Contract, FundingLine
from monitor.db import db
from tests.conftest import DEMO_USERS, Auth
from tests.kpis.test_returns_builders import REFUGE, refuge_workbook
from tests.worker.helpers import pending


class Recorder:
    """Stands in for etl.run.run_etl wherever it was imported, noting for each
    call whether it came inside a web request, then runs the real one."""

    def __init__(self, real: Callable[..., Any]) -> None:
        self.real = real
        self.in_request: list[bool] = []

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        self.in_request.append(has_request_context())
        return self.real(*args, **kwargs)


@pytest.fixture
def recorder(monkeypatch: pytest.MonkeyPatch) -> Recorder:
    real = etl.run.run_etl
    recorder = Recorder(real)
    sites = [m for m in list(sys.modules.values()) if getattr(m, "run_etl", None) is real]
    assert etl.run in sites and sys.modules["etl.app"] in sites
    for module in sites:
        monkeypatch.setattr(module, "run_etl", recorder)
    return recorder


def _form(client: FlaskClient, url: str, **changes: str) -> dict[str, Any]:
    """The form on `url` as the browser would send it, with `changes`."""
    page = BeautifulSoup(client.get(url).get_data(as_text=True), "html.parser")
    form = page.select_one("main form[method=post], main form[method=POST]")
    assert form is not None, url
    data: dict[str, list[str]] = {}
    for field in form.select("input[name], select[name], textarea[name]"):
        name = str(field["name"])
        if field.name == "select":
            chosen = field.select_one("option[selected]") or field.select_one("option")
            value = str(chosen.get("value", "")) if chosen else ""
        elif field.name == "textarea":
            value = field.get_text()
        elif field.get("type") == "submit" or (
            field.get("type") in {"checkbox", "radio"} and not field.has_attr("checked")
        ):
            continue
        else:
            value = str(field.get("value", ""))
        data.setdefault(name, []).append(value)
    for name, value in changes.items():
        data[name] = [value]
    return data


def test_a_journey_through_the_pages_never_runs_the_etl(
    frameworks: Flask, client: FlaskClient, auth: Auth, recorder: Recorder, tmp_path: Any
) -> None:
    frameworks.instance_path = str(tmp_path)  # held uploads go here
    run_for_app(full=True)  # a built warehouse, as in production
    assert recorder.in_request == [False] and pending() == []

    def sign_in(who: str) -> None:
        auth.sign_out()
        assert auth.sign_in(DEMO_USERS[who]).status_code == 302

    contract = db.session.scalars(select(Contract).where(Contract.reference == REFUGE)).one()
    url = f"/contracts/{contract.id}/returns/2013-14-Q1"

    def upload(*, submit: bool) -> None:
        button = "submit_return" if submit else "save_draft"
        data = {"file": (io.BytesIO(refuge_workbook()), "return.xlsx"), button: "y"}
        response = client.post(f"{url}/upload", data=data, content_type="multipart/form-data")
        assert response.status_code == 302, response.get_data(as_text=True)[:2000]

    sign_in("refuge")
    upload(submit=False)
    assert pending() == []  # a draft
    upload(submit=True)
    assert pending() == []  # an upload

    sign_in("lbbd")
    page = BeautifulSoup(client.get(url).get_data(as_text=True), "html.parser")
    revision = page.select_one('input[name="revision"]')  # the review page's decision form
    assert revision is not None
    assert client.post(f"{url}/accept", data={"accept-revision": revision["value"]}).status_code == 302
    assert len(pending()) == 1

    edit = f"/contracts/{contract.id}/edit"
    response = client.post(edit, data=_form(client, edit, title=contract.title + " (renamed)"))
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    assert len(pending()) == 2

    line = db.session.scalars(select(FundingLine).where(FundingLine.contract_id == contract.id)).first()
    assert line is not None
    funding = f"/contracts/{contract.id}/funding/{line.id}/edit"
    response = client.post(funding, data=_form(client, funding, amount="1000"))
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]

    reasons = [row.reason.split(" ")[0] for row in pending()]
    assert reasons == ["return", "contract", "funding"]
    assert recorder.in_request == [False], "a web request ran the ETL"

    drained = drain_outbox()
    assert drained.events == 3 and drained.result is not None
    assert recorder.in_request == [False, False]
    assert pending() == []
