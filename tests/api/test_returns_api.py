"""The returns API: list, template, upload (201 and 422 shapes), review, and
the same permissions as the web."""

from __future__ import annotations

import io
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from monitor.kpis.vocabulary import ReturnState
from tests.api.conftest import Headers, error_fields, snapshot
from tests.kpis.conftest import frameworks, library  # noqa: F401 - fixtures used below
from tests.kpis.test_returns_builders import Q2, REFUGE, contract, refuge_workbook, stored

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@pytest.fixture
def base(frameworks: Flask) -> str:  # noqa: F811 - the imported fixture
    return f"/api/v1/contracts/{contract(REFUGE).id}/returns"


def send(
    client: FlaskClient, url: str, who: str, headers: Headers, content: bytes | None = None, **fields: str
) -> Any:
    data: dict[str, Any] = dict(fields)
    data["file"] = (io.BytesIO(refuge_workbook() if content is None else content), "refuge-q1.xlsx")
    return client.post(url, data=data, content_type="multipart/form-data", headers=headers(who))


def test_list_each_expected_return(client: FlaskClient, headers: Headers, base: str) -> None:
    response = client.get(base, headers=headers("lbbd"))
    assert response.status_code == 200
    body = response.get_json()
    assert body["contract_id"] == contract(REFUGE).id
    assert [r["period"] for r in body["returns"]] == ["2013-14-Q3", "2013-14-Q2", "2013-14-Q1"]
    q1 = body["returns"][-1]
    assert q1 == {
        "period": "2013-14-Q1",
        "quarter": {"label": "Q1 2013/14 (April to June 2013)", "start": "2013-04-01", "end": "2013-06-30"},
        "due_date": "2013-07-19",
        "state": "not started",
        "late": True,
        "missing": True,
        "revision": None,
        "needs_resubmission": False,
        "resubmission_reason": "",
        "versions": [],
    }
    assert body["returns"][0]["late"] is False  # Q3 is still running


@pytest.mark.parametrize("who", ["halton", "westminster", "halton_provider", "halton_board"])
def test_other_organisations_get_404_and_no_data(
    client: FlaskClient, headers: Headers, base: str, who: str
) -> None:
    for url in (base, f"{base}/2013-14-Q1", f"{base}/2013-14-Q1/template"):
        response = client.get(url, headers=headers(who))
        assert response.status_code == 404, (who, url)
        assert REFUGE not in response.get_data(as_text=True)
    before = snapshot()
    assert send(client, f"{base}/2013-14-Q1", who, headers).status_code == 404
    assert client.post(f"{base}/2013-14-Q1/accept", json={}, headers=headers(who)).status_code == 404
    assert snapshot() == before


def test_template_download(client: FlaskClient, headers: Headers, base: str) -> None:
    response = client.get(f"{base}/2013-14-Q1/template", headers=headers("refuge"))
    assert response.status_code == 200
    assert response.mimetype == XLSX
    assert response.data.startswith(b"PK\x03\x04")


@pytest.mark.parametrize("period", ["2013-Q1", "2013-14-Q5", "2013-15-Q1", "13-14-Q1"])
def test_bad_period_is_422_naming_it(client: FlaskClient, headers: Headers, base: str, period: str) -> None:
    for method, url in (
        ("GET", f"{base}/{period}"),
        ("GET", f"{base}/{period}/template"),
        ("POST", f"{base}/{period}"),
    ):
        response = client.open(url, method=method, headers=headers("refuge"))
        assert response.status_code == 422, (method, url)
        assert period in response.get_json()["message"]
        assert "2013-14-Q3" in error_fields(response)["period"]


def test_a_quarter_the_contract_does_not_report_is_404(
    client: FlaskClient, headers: Headers, base: str
) -> None:
    response = client.get(f"{base}/2012-13-Q4", headers=headers("refuge"))
    assert response.status_code == 404
    assert response.get_json()["message"].startswith("period: LBBD-DV-002 has no return for 2012-13-Q4")


def test_upload_201(client: FlaskClient, headers: Headers, base: str) -> None:
    response = send(client, f"{base}/2013-14-Q1", "refuge", headers)
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert body["version"] == 1 and body["state"] == "submitted" and body["warnings"] == []
    assert response.headers["Location"] == f"{base}/2013-14-Q1"
    detail = client.get(response.headers["Location"], headers=headers("lbbd")).get_json()
    assert detail["state"] == "submitted" and len(detail["versions"]) == 1
    assert detail["versions"][0]["sha256"] == body["sha256"]
    assert {
        "kpi": "REF-RECEIVED",
        "breakdown": "",
        "value": "42.00",
        "numerator": None,
        "denominator": None,
    } in detail["figures"]
    assert [e["kind"] for e in detail["events"]] == ["submitted"]
    changed = refuge_workbook(**{"CASELOAD//value": 22})
    draft = send(client, f"{base}/2013-14-Q1", "refuge", headers, changed, submit="false")
    assert draft.get_json()["version"] == 2 and draft.get_json()["state"] == "submitted"  # still under review
    board = client.get(f"{base}/2013-14-Q1", headers=headers("bd_board")).get_json()
    assert board["figures"] is None and board["events"][0]["comment"] is None


def test_problems_are_422_and_store_nothing(client: FlaskClient, headers: Headers, base: str) -> None:
    before = snapshot()
    bad = refuge_workbook(**{"REF-RECEIVED//total": 30})
    response = send(client, f"{base}/2013-14-Q1", "refuge", headers, bad)
    assert response.status_code == 422
    body = response.get_json()
    assert body["message"].startswith("file: the workbook has ")
    assert body["errors"]
    for item in body["errors"]:
        assert set(item) == {"sheet", "cell", "kpi", "severity", "message"}
    assert any(e["kpi"] == "REF-RECEIVED" and e["severity"] == "error" and e["cell"] for e in body["errors"])
    assert snapshot() == before


def test_warnings_need_acknowledging(client: FlaskClient, headers: Headers, base: str) -> None:
    assert send(client, f"{base}/2013-14-Q1", "refuge", headers).status_code == 201
    # Last quarter is compared only once accepted.
    assert client.post(f"{base}/2013-14-Q1/accept", json={}, headers=headers("lbbd")).status_code == 200
    jump = refuge_workbook(Q2, **{"REF-RECEIVED/Police/breakdown": 43, "REF-RECEIVED//total": 70})
    before = snapshot()
    refused = send(client, f"{base}/2013-14-Q2", "refuge", headers, jump)
    assert refused.status_code == 422
    body = refused.get_json()
    assert body["message"].startswith("acknowledge_warnings: the workbook has 1 warning")
    assert [(e["severity"], e["kpi"]) for e in body["errors"]] == [("warning", "REF-RECEIVED")]
    assert snapshot() == before
    saved = send(client, f"{base}/2013-14-Q2", "refuge", headers, jump, acknowledge_warnings="true")
    assert saved.status_code == 201
    assert [w["kpi"] for w in saved.get_json()["warnings"]] == ["REF-RECEIVED"]
    assert stored(quarter=Q2).versions[0].warnings_acknowledged  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("kwargs", "status", "field"),
    [
        ({"json": {"file": "x"}}, 415, "file"),
        ({"data": {"submit": "true"}, "content_type": "multipart/form-data"}, 400, "file"),
        ({"data": {"submit": "perhaps"}}, 400, "submit"),
        ({"data": {"colour": "red"}}, 400, "colour"),
    ],
)
def test_malformed_uploads(
    client: FlaskClient, headers: Headers, base: str, kwargs: dict[str, Any], status: int, field: str
) -> None:
    if "data" in kwargs and "content_type" not in kwargs:  # a fresh file each time: the client closes it
        kwargs = {"data": {**kwargs["data"], "file": (io.BytesIO(b"PK\x03\x04"), "a.xlsx")}}
    response = client.post(f"{base}/2013-14-Q1", headers=headers("refuge"), **kwargs)
    assert response.status_code == status
    assert field in error_fields(response)


def test_not_a_workbook_is_422(client: FlaskClient, headers: Headers, base: str) -> None:
    response = send(client, f"{base}/2013-14-Q1", "refuge", headers, b"name,referrals\n")
    assert response.status_code == 422
    # The staged checks name what the file really is (issue 11), not a generic "not a workbook".
    assert response.get_json()["errors"][0]["message"].startswith("This is a CSV (comma-separated text) file")


@pytest.mark.parametrize("who", ["bd_board", "admin"])
def test_readers_who_may_not_upload_get_403(
    client: FlaskClient, headers: Headers, base: str, who: str
) -> None:
    before = snapshot()
    response = send(client, f"{base}/2013-14-Q1", who, headers)
    assert response.status_code == 403
    assert snapshot() == before


def test_review_through_the_api(client: FlaskClient, headers: Headers, base: str) -> None:
    url = f"{base}/2013-14-Q1"
    assert client.post(f"{url}/accept", json={}, headers=headers("lbbd")).status_code == 409  # nothing yet
    send(client, url, "refuge", headers)
    assert client.post(f"{url}/accept", json={}, headers=headers("refuge")).status_code == 403
    assert client.post(f"{url}/query", json={"comment": "x"}, headers=headers("bd_board")).status_code == 403
    missing = client.post(f"{url}/query", json={}, headers=headers("lbbd"))
    assert missing.status_code == 422 and "comment" in error_fields(missing)
    queried = client.post(f"{url}/query", json={"comment": "Check the caseload"}, headers=headers("lbbd"))
    assert queried.status_code == 200
    assert queried.get_json()["state"] == "queried"
    assert queried.get_json()["events"][-1] == {
        "kind": "queried",
        "at": queried.get_json()["events"][-1]["at"],
        "by": "Chris Commissioner",
        "version": 1,
        "comment": "Check the caseload",
    }
    corrected = refuge_workbook(**{"CASELOAD//value": 22})
    assert send(client, url, "refuge", headers, corrected).get_json()["state"] == "resubmitted"
    revision = client.get(url, headers=headers("ccg")).get_json()["revision"]
    stale = client.post(f"{url}/accept", json={"revision": revision - 1}, headers=headers("ccg"))
    assert stale.status_code == 409
    accepted = client.post(f"{url}/accept", json={"revision": revision}, headers=headers("ccg"))
    assert accepted.status_code == 200 and accepted.get_json()["state"] == "accepted"
    locked = send(client, url, "refuge", headers)
    assert locked.status_code == 422
    assert "reopen it first" in locked.get_json()["message"]
    assert locked.get_json()["errors"][0]["field"] == "state"
    no_reason = client.post(f"{url}/reopen", json={"reason": ""}, headers=headers("lbbd"))
    assert no_reason.status_code == 422
    reopened = client.post(f"{url}/reopen", json={"reason": "Restated"}, headers=headers("lbbd"))
    assert reopened.status_code == 200 and reopened.get_json()["state"] == ReturnState.QUERIED.value


def test_template_for_a_quarter_without_kpis_is_409(client: FlaskClient, headers: Headers, base: str) -> None:
    from tests.kpis.fixtures.workbooks import add_return

    add_return(REFUGE, "2012-13-Q4", {})
    response = client.get(f"{base}/2012-13-Q4/template", headers=headers("refuge"))
    assert response.status_code == 409
    assert "has no KPIs in force" in response.get_json()["message"]
