"""The web's permission rules, through the API: who may read and who may write.

LBBD-DV-002 (the refuge) is led by LBBD with the CCG as partner, run by
Refuge and overseen by the Barking and Dagenham board. Halton, Westminster
and their providers and boards have nothing to do with it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from flask.testing import FlaskClient

from tests.api.conftest import Headers, snapshot

READERS = {"lbbd": 200, "ccg": 200, "bd_board": 200, "refuge": 200, "admin": 200}
STRANGERS = ("halton", "westminster", "halton_provider", "halton_board")
WRITERS = ("lbbd", "ccg")
READ_ONLY = ("bd_board", "refuge", "admin")


def _refuge_ids(contract_id: Callable[[str], int], client: FlaskClient, headers: Headers) -> dict[str, int]:
    cid = contract_id("LBBD-DV-002")
    detail = client.get(f"/api/v1/contracts/{cid}", headers=headers("lbbd")).get_json()
    return {
        "contract": cid,
        "line": detail["funding_lines"][0]["id"],
        "amendment": detail["amendments"][0]["id"],
    }


def _writes(org_id: Callable[[str], int]) -> dict[str, tuple[str, str, Any, int]]:
    """name -> (method, path template, body, status when allowed)."""
    return {
        "patch contract": ("PATCH", "/api/v1/contracts/{contract}", {"title": "Refuge (renamed)"}, 200),
        "add funding line": (
            "POST",
            "/api/v1/contracts/{contract}/funding-lines",
            {
                "funder_id": org_id("Metropolitan Police Service"),
                "funding_stream": "Police partnership funding",
                "financial_year": "2014/15",
                "amount": "1000.00",
            },
            201,
        ),
        "change funding line": (
            "PATCH",
            "/api/v1/contracts/{contract}/funding-lines/{line}",
            {"amount": 61000},
            200,
        ),
        "remove funding line": ("DELETE", "/api/v1/contracts/{contract}/funding-lines/{line}", None, 204),
        "record amendment": (
            "POST",
            "/api/v1/contracts/{contract}/amendments",
            {
                "kind": "variation",
                "effective_date": "2013-12-01",
                "rationale": "Two more bed spaces",
                "approved_by": "Director of Housing",
            },
            201,
        ),
    }


READS = {
    "contract": "/api/v1/contracts/{contract}",
    "funding line": "/api/v1/contracts/{contract}/funding-lines/{line}",
    "amendment": "/api/v1/contracts/{contract}/amendments/{amendment}",
}


@pytest.mark.parametrize("who", [*READERS, *STRANGERS])
def test_who_can_read_the_refuge_contract(
    client: FlaskClient, headers: Headers, contract_id: Callable[[str], int], who: str
) -> None:
    ids = _refuge_ids(contract_id, client, headers)
    for path in READS.values():
        response = client.get(path.format(**ids), headers=headers(who))
        if who in READERS:
            assert response.status_code == 200
        else:
            # Exactly as if there were no such contract: a message and nothing else.
            assert response.status_code == 404
            body = response.get_json()
            assert set(body) == {"message"}
            assert "Refuge" not in body["message"] and "LBBD" not in body["message"]


@pytest.mark.parametrize("write", ["patch contract", "add funding line", "change funding line",
                                   "remove funding line", "record amendment"])  # fmt: skip
@pytest.mark.parametrize("who", [*READ_ONLY, *STRANGERS])
def test_refused_writes_change_nothing(
    client: FlaskClient,
    headers: Headers,
    contract_id: Callable[[str], int],
    org_id: Callable[[str], int],
    who: str,
    write: str,
) -> None:
    ids = _refuge_ids(contract_id, client, headers)
    method, path, body, _allowed = _writes(org_id)[write]
    before = snapshot()
    response = client.open(path.format(**ids), method=method, json=body, headers=headers(who))
    expected = 403 if who in READ_ONLY else 404
    assert response.status_code == expected
    assert set(response.get_json()) == {"message"}
    if expected == 403:
        assert response.get_json()["message"] == (
            "Only the lead or a partner commissioner can change this contract"
        )
    assert snapshot() == before


@pytest.mark.parametrize("write", ["patch contract", "add funding line", "change funding line",
                                   "remove funding line", "record amendment"])  # fmt: skip
@pytest.mark.parametrize("who", WRITERS)
def test_lead_and_partner_commissioners_can_write(
    client: FlaskClient,
    headers: Headers,
    contract_id: Callable[[str], int],
    org_id: Callable[[str], int],
    who: str,
    write: str,
) -> None:
    ids = _refuge_ids(contract_id, client, headers)
    method, path, body, allowed = _writes(org_id)[write]
    before = snapshot()
    response = client.open(path.format(**ids), method=method, json=body, headers=headers(who))
    assert response.status_code == allowed, response.get_json()
    assert snapshot() != before


@pytest.mark.parametrize("who", ["admin", "refuge", "bd_board", "halton_board", "halton_provider"])
def test_only_commissioners_can_create_contracts(
    client: FlaskClient, headers: Headers, contract_body: Callable[..., dict[str, Any]], who: str
) -> None:
    before = snapshot()
    response = client.post("/api/v1/contracts", json=contract_body(), headers=headers(who))
    assert response.status_code == 403
    assert response.get_json() == {"message": "Only commissioners can record contracts"}
    assert snapshot() == before


def test_a_commissioner_cannot_create_for_another_council(
    client: FlaskClient,
    headers: Headers,
    contract_body: Callable[..., dict[str, Any]],
) -> None:
    before = snapshot()
    response = client.post("/api/v1/contracts", json=contract_body(), headers=headers("halton"))
    assert response.status_code == 422
    errors = {e["field"]: e["message"] for e in response.get_json()["errors"]}
    assert errors["lead_commissioner_id"] == (
        "Your organisation must be the lead or a partner commissioner of contracts you record"
    )
    assert snapshot() == before


def test_other_councils_contract_id_reveals_nothing(
    client: FlaskClient, headers: Headers, contract_id: Callable[[str], int]
) -> None:
    # Halton's commissioner asks for LBBD's contract and for one that does not exist.
    real = client.get(f"/api/v1/contracts/{contract_id('LBBD-DV-002')}", headers=headers("halton"))
    made_up = client.get("/api/v1/contracts/424242", headers=headers("halton"))
    assert real.status_code == made_up.status_code == 404
    assert real.get_json()["message"].replace(str(contract_id("LBBD-DV-002")), "N") == made_up.get_json()[
        "message"
    ].replace("424242", "N")


def test_provider_of_refuge_cannot_read_haltons_contract(
    client: FlaskClient, headers: Headers, contract_id: Callable[[str], int]
) -> None:
    response = client.get(f"/api/v1/contracts/{contract_id('HBC-CYP-DA-01')}", headers=headers("refuge"))
    assert response.status_code == 404
    text = response.get_data(as_text=True)
    assert set(response.get_json()) == {"message"}
    for leak in ("Halton", "HBC-CYP-DA-01", "children", "150000"):
        assert leak not in text
