"""The framework and performance through the JSON API."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from etl.app import run_for_app, warehouse_url
from tests.api.conftest import error_fields, snapshot, token_for
from tests.conftest import DEMO_USERS, _drop_warehouse

REFUGE = "LBBD-DV-002"
Headers = Callable[[str], dict[str, str]]


@pytest.fixture
def headers(frameworks: Flask) -> Headers:
    issued: dict[str, dict[str, str]] = {}

    def make(who: str) -> dict[str, str]:
        if who not in issued:
            issued[who] = {"Authorization": f"Bearer {token_for(DEMO_USERS[who])}"}
        return issued[who]

    return make


def framework(
    client: FlaskClient, headers: Headers, contract: int, who: str = "lbbd"
) -> list[dict[str, Any]]:
    response = client.get(f"/api/v1/contracts/{contract}/framework", headers=headers(who))
    assert response.status_code == 200
    items: list[dict[str, Any]] = response.get_json()["items"]
    return items


def by_code(items: list[dict[str, Any]], code: str) -> list[dict[str, Any]]:
    return [i for i in items if i["kpi"]["code"] == code]


def test_reading_the_framework(
    client: FlaskClient, headers: Headers, contract_id: Callable[[str], int]
) -> None:
    items = framework(client, headers, contract_id(REFUGE), who="refuge")
    (marac,) = by_code(items, "MARAC-REPEAT")
    assert marac["target"] == "5.00" and marac["direction"] == "lower is better"
    assert marac["amber_tolerance_pct"] == "10.00" and marac["in_force_now"] is True
    assert (marac["effective_from"], marac["effective_to"]) == ("2013-14-Q1", None)
    one = client.get(
        f"/api/v1/contracts/{contract_id(REFUGE)}/framework/{marac['id']}", headers=headers("bd_board")
    )
    assert one.get_json() == marac


def test_adding_an_item(client: FlaskClient, headers: Headers, contract_id: Callable[[str], int]) -> None:
    refuge = contract_id(REFUGE)
    response = client.post(
        f"/api/v1/contracts/{refuge}/framework",
        headers=headers("ccg"),
        json={"kpi_code": "wait-days", "target": "4.5", "effective_from": "2013-14-Q4"},
    )
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert (
        body["target"] == "4.50"
        and body["target_basis"] == "quarter"
        and body["amber_tolerance_pct"] == "10.00"
    )
    assert response.headers["Location"] == f"/api/v1/contracts/{refuge}/framework/{body['id']}"


@pytest.mark.parametrize(
    ("body", "field", "message"),
    [
        ({"target": 5, "effective_from": "2013-14-Q4"}, "kpi_code", "kpi_code is required"),
        (
            {"kpi_code": "NOPE", "effective_from": "2013-14-Q4"},
            "kpi_code",
            "There is no KPI with the code NOPE",
        ),
        (
            {"kpi_code": "REF-RECEIVED", "effective_from": "2014-15-Q1"},
            "kpi_code",
            "REF-RECEIVED is already in",
        ),
        (
            {"kpi_code": "WAIT-DAYS", "effective_from": "Q4"},
            "effective_from",
            "Write the quarter like 2013-14-Q3",
        ),
        (
            {"kpi_code": "WAIT-DAYS", "effective_from": "2013-14-Q4", "target": "five"},
            "target",
            "target must be a number",
        ),
        (
            {"kpi_code": "WAIT-DAYS", "effective_from": "2013-14-Q4", "target": True},
            "target",
            "target must be a number",
        ),
        (
            {"kpi_code": "WAIT-DAYS", "effective_from": "2013-14-Q4", "target": -1},
            "target",
            "The target cannot be negative",
        ),
        (
            {
                "kpi_code": "FEEL-SAFER",
                "effective_from": "2012-13-Q1",
                "effective_to": "2012-13-Q4",
                "target": 101,
            },
            "target",
            "FEEL-SAFER is a percentage",
        ),
        (
            {"kpi_code": "WAIT-DAYS", "effective_from": "2013-14-Q4", "amber_tolerance_pct": 150},
            "amber_tolerance_pct",
            "Enter the amber tolerance as a percentage from 0 to 100",
        ),
        (
            {"kpi_code": "WAIT-DAYS", "effective_from": "2013-14-Q4", "colour": "red"},
            "colour",
            "colour is not a field",
        ),
    ],
)
def test_bad_items_are_refused(
    client: FlaskClient,
    headers: Headers,
    contract_id: Callable[[str], int],
    body: dict[str, Any],
    field: str,
    message: str,
) -> None:
    refuge = contract_id(REFUGE)
    headers("lbbd")
    before = snapshot()
    response = client.post(f"/api/v1/contracts/{refuge}/framework", headers=headers("lbbd"), json=body)
    assert response.status_code == 422
    assert error_fields(response)[field].startswith(message), error_fields(response)
    assert snapshot() == before


def test_changing_a_target_from_a_quarter_keeps_the_past(
    client: FlaskClient, headers: Headers, contract_id: Callable[[str], int]
) -> None:
    refuge = contract_id(REFUGE)
    (old,) = by_code(framework(client, headers, refuge), "REF-RECEIVED")
    response = client.patch(
        f"/api/v1/contracts/{refuge}/framework/{old['id']}",
        headers=headers("lbbd"),
        json={"target": 45, "from_quarter": "2014-15-Q1"},
    )
    assert response.status_code == 201
    new = response.get_json()
    assert (new["target"], new["effective_from"], new["effective_to"]) == ("45.00", "2014-15-Q1", None)
    assert response.headers["Location"].endswith(f"/framework/{new['id']}")
    items = by_code(framework(client, headers, refuge), "REF-RECEIVED")
    assert [(i["target"], i["effective_from"], i["effective_to"]) for i in items] == [
        ("40.00", "2013-14-Q1", "2013-14-Q4"),
        ("45.00", "2014-15-Q1", None),
    ]
    # A correction from the item's own first quarter changes it in place.
    fix = client.patch(
        f"/api/v1/contracts/{refuge}/framework/{new['id']}",
        headers=headers("lbbd"),
        json={"amber_tolerance_pct": "5", "direction": None, "from_quarter": "2014-15-Q1"},
    )
    assert fix.status_code == 200 and fix.get_json()["amber_tolerance_pct"] == "5.00"


def test_ending_an_item(client: FlaskClient, headers: Headers, contract_id: Callable[[str], int]) -> None:
    refuge = contract_id(REFUGE)
    (marac,) = by_code(framework(client, headers, refuge), "MARAC-REPEAT")
    response = client.patch(
        f"/api/v1/contracts/{refuge}/framework/{marac['id']}",
        headers=headers("lbbd"),
        json={"effective_to": "2013-14-Q3"},
    )
    assert response.status_code == 200 and response.get_json()["effective_to"] == "2013-14-Q3"


@pytest.mark.parametrize(
    ("body", "field", "message"),
    [
        ({"target": 45}, "from_quarter", "from_quarter is required with new terms"),
        ({"target": 45, "effective_to": "2014-15-Q1"}, "effective_to", "effective_to ends the item"),
        ({}, "body", "Send new terms with from_quarter"),
        ({"target": 40, "from_quarter": "2014-15-Q1"}, "target", "Nothing has changed"),
        (
            {"target": 45, "from_quarter": "2012-13-Q1"},
            "from_quarter",
            "This item came into force in 2013-14-Q1",
        ),
        ({"effective_to": "2012-13-Q1"}, "effective_to", "This item came into force in 2013-14-Q1"),
    ],
)
def test_bad_changes_are_refused(
    client: FlaskClient,
    headers: Headers,
    contract_id: Callable[[str], int],
    body: dict[str, Any],
    field: str,
    message: str,
) -> None:
    refuge = contract_id(REFUGE)
    (old,) = by_code(framework(client, headers, refuge), "REF-RECEIVED")
    before = snapshot()
    response = client.patch(
        f"/api/v1/contracts/{refuge}/framework/{old['id']}", headers=headers("lbbd"), json=body
    )
    assert response.status_code == 422
    assert error_fields(response)[field].startswith(message), error_fields(response)
    assert snapshot() == before


def test_performance(
    client: FlaskClient, headers: Headers, contract_id: Callable[[str], int], add_return: Callable[..., int]
) -> None:
    add_return(REFUGE, "2013-14-Q1", {"REF-RECEIVED": 42, "MARAC-REPEAT": 3}, state="accepted")
    add_return(REFUGE, "2013-14-Q2", {"REF-RECEIVED": 38, "MARAC-REPEAT": 7}, state="submitted")
    url = f"/api/v1/contracts/{contract_id(REFUGE)}/performance"
    body = client.get(url, headers=headers("lbbd")).get_json()
    assert body["quarters"][-1] == "2013-14-Q3"
    (referrals,) = [k for k in body["kpis"] if k["code"] == "REF-RECEIVED"]
    q2 = next(q for q in referrals["quarters"] if q["quarter"] == "2013-14-Q2")
    assert q2 == {
        "quarter": "2013-14-Q2",
        "actual": "38.00",
        "suppressed": False,
        "target": "40.00",
        "target_note": None,  # a whole quarter: not pro-rated
        "in_framework": True,
        "rag": "amber",
        "direction_of_travel": "worsening",
        "provisional": True,
        "marker": None,
        "awaiting_acceptance": False,
    }
    assert body["summary"] == {
        "quarter": "2013-14-Q2",
        "green": 0,
        "amber": 1,
        "red": 1,
        "procurement_rating": "Requires improvement",
        "provisional": True,
        "hidden": 0,
    }
    # Boards read the warehouse: accepted figures only, a small count hidden
    # with its rating and direction of travel.
    _drop_warehouse(warehouse_url())
    run_for_app(full=True)
    board = client.get(url, headers=headers("bd_board")).get_json()
    (marac,) = [k for k in board["kpis"] if k["code"] == "MARAC-REPEAT"]
    q1, q2 = (next(q for q in marac["quarters"] if q["quarter"] == p) for p in ("2013-14-Q1", "2013-14-Q2"))
    assert (q1["actual"], q1["suppressed"], q1["rag"], q1["direction_of_travel"]) == ("[c]", True, None, None)
    assert (q2["actual"], q2["rag"], q2["provisional"], q2["awaiting_acceptance"]) == (
        None,
        "not rated",
        False,
        True,
    )
