"""Open data through the API: token-protected, scoped to what the user may
see, validated before it is served, and 422 naming each field to fill in."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from flask import Flask
from flask.testing import FlaskClient

from tests.api.conftest import Headers, error_fields
from tests.opendata.conftest import change_contract
from tests.opendata.test_exports import assert_valid_giving, assert_valid_ocds

ContractId = Callable[[str], int]


def body(response: Any) -> dict[str, Any]:
    assert response.status_code == 200, response.get_data(as_text=True)[:500]
    assert response.mimetype == "application/json"
    document: dict[str, Any] = response.get_json()
    return document


def test_a_contract_as_ocds(
    demo: Flask, client: FlaskClient, headers: Headers, contract_id: ContractId
) -> None:
    tri = contract_id("TRI-VAWG-01")
    document = body(client.get(f"/api/v1/contracts/{tri}/ocds", headers=headers("westminster")))
    assert_valid_ocds(document)
    assert document["uri"] == f"http://localhost/api/v1/contracts/{tri}/ocds"
    assert [r["tag"] for r in document["releases"]] == [["award", "contract"], ["contractAmendment"]]
    # Money is a JSON number here (OCDS says so), unlike the rest of the API.
    assert document["releases"][0]["contracts"][0]["value"] == {"amount": 840000, "currency": "GBP"}
    demo.config["SERVICE_URL"] = "https://monitor.example.gov.uk"
    document = body(client.get(f"/api/v1/contracts/{tri}/ocds", headers=headers("westminster")))
    assert document["uri"] == f"https://monitor.example.gov.uk/api/v1/contracts/{tri}/ocds"


def test_open_data_needs_a_token_and_a_readable_contract(
    demo: Flask, client: FlaskClient, headers: Headers, contract_id: ContractId
) -> None:
    tri = contract_id("TRI-VAWG-01")
    for url in (f"/api/v1/contracts/{tri}/ocds", f"/api/v1/contracts/{tri}/360giving", "/api/v1/ocds"):
        assert client.get(url).status_code == 401
    hidden = client.get(f"/api/v1/contracts/{tri}/ocds", headers=headers("lbbd"))
    assert hidden.status_code == 404 and "Tri-borough" not in hidden.get_data(as_text=True)
    assert client.get("/api/v1/contracts/999999/ocds", headers=headers("admin")).status_code == 404


def test_the_register_is_what_the_user_can_see(
    demo: Flask, client: FlaskClient, headers: Headers, contract_id: ContractId
) -> None:
    refuge = body(client.get("/api/v1/ocds", headers=headers("refuge")))
    assert_valid_ocds(refuge)
    refuge_ocids = {r["ocid"] for r in refuge["releases"]}
    assert refuge_ocids == {
        f"ocds-demo00-{contract_id(ref)}"
        for ref in ("LBBD-DV-001", "LBBD-DV-002", "LBBD-DV-005", "LBBD-DV-006")
    }
    board = body(
        client.get(
            "/api/v1/ocds",
            query_string={"partnership": "Barking and Dagenham Health and Wellbeing Board"},
            headers=headers("bd_board"),
        )
    )
    assert len({r["ocid"] for r in board["releases"]}) == 7
    assert board["uri"].startswith("http://localhost/api/v1/ocds?partnership=")
    grants = body(client.get("/api/v1/360giving", headers=headers("lbbd")))
    assert_valid_giving(grants)
    assert {g["id"] for g in grants["grants"]} == {
        f"360G-demo-{contract_id('LBBD-DV-004')}",
        f"360G-demo-{contract_id('LBBD-DV-007')}",
    }
    one = body(
        client.get(f"/api/v1/contracts/{contract_id('LBBD-DV-004')}/360giving", headers=headers("lbbd"))
    )
    assert [g["title"] for g in one["grants"]] == ["Specialist counselling for women (up to 18 weeks)"]
    # Westminster can see no grants, and the Halton board none of Westminster's contracts.
    nothing = client.get("/api/v1/360giving", headers=headers("westminster"))
    assert nothing.status_code == 404
    assert nothing.get_json()["message"] == (
        "Nothing to publish from the contracts you can see: none of them is paid as a grant, and 360Giving "
        "data covers grants only (the agreement type under Change details)"
    )
    elsewhere = client.get(
        "/api/v1/ocds",
        query_string={"commissioner": "Westminster City Council"},
        headers=headers("halton_board"),
    )
    # A commissioner the board may not see is answered as one that does not exist.
    assert elsewhere.status_code == 422
    assert elsewhere.get_json()["errors"][0]["message"].startswith(
        'No commissioning organisation is called "Westminster City Council"'
    )
    assert "Tri-borough" not in elsewhere.get_data(as_text=True)


def test_a_contract_that_cannot_be_published_names_each_field(
    demo: Flask, client: FlaskClient, headers: Headers, contract_id: ContractId
) -> None:
    change_contract("LBBD-DV-007", award_date=None, description="")
    helpline = contract_id("LBBD-DV-007")
    ocds = client.get(f"/api/v1/contracts/{helpline}/ocds", headers=headers("lbbd"))
    assert ocds.status_code == 422
    assert list(error_fields(ocds)) == ["award_date"]
    assert error_fields(ocds)["award_date"].startswith("Enter the award date under Change details")
    grant = client.get(f"/api/v1/contracts/{helpline}/360giving", headers=headers("lbbd"))
    assert grant.status_code == 422 and list(error_fields(grant)) == ["award_date", "description"]
    register = client.get("/api/v1/ocds", headers=headers("lbbd"))
    assert register.status_code == 422
    assert error_fields(register) == {
        "LBBD-DV-007 award_date": "LBBD-DV-007: Enter the award date under Change details on the contract "
        "page, like 30 9 2013: the award release is dated with it"
    }
    not_a_grant = client.get(
        f"/api/v1/contracts/{contract_id('LBBD-DV-002')}/360giving", headers=headers("lbbd")
    )
    assert not_a_grant.status_code == 422 and list(error_fields(not_a_grant)) == ["agreement_type"]


def test_bad_scope_parameters_are_refused_plainly(demo: Flask, client: FlaskClient, headers: Headers) -> None:
    for query, field in (
        ({"financial_year": "2013/14"}, "financial_year"),
        ({"partnership": ""}, "partnership"),
        ({"partnership": "x" * 300}, "partnership"),
        ({"commissioner": "No Such Council"}, "commissioner"),
        ({"partnership": "1", "commissioner": "1"}, "commissioner"),
    ):
        for url in ("/api/v1/ocds", "/api/v1/360giving"):
            response = client.get(url, query_string=query, headers=headers("admin"))
            assert response.status_code == 422, (url, query, response.get_data(as_text=True))
            assert field in error_fields(response), (url, query)
    unknown = client.get(
        "/api/v1/ocds", query_string={"commissioner": "No Such Council"}, headers=headers("admin")
    )
    assert 'No commissioning organisation is called "No Such Council"' in unknown.get_json()["message"]


def test_a_problem_only_the_schema_catches_is_a_422_too(
    demo: Flask, client: FlaskClient, headers: Headers, contract_id: ContractId
) -> None:
    demo.config["SERVICE_URL"] = "https://monitor example"
    response = client.get(f"/api/v1/contracts/{contract_id('TRI-VAWG-01')}/ocds", headers=headers("admin"))
    assert response.status_code == 422
    assert list(error_fields(response)) == ["settings"]
    assert "SERVICE_URL" in error_fields(response)["settings"]


def test_changes_made_through_the_api_are_published_as_they_happen(
    demo: Flask, client: FlaskClient, headers: Headers, contract_id: ContractId
) -> None:
    """LBBD-DV-005 (to 31 March 2016, £309,000 at £103,000 a year, options 12 + 12):
    extend it, then change its value."""
    marac = contract_id("LBBD-DV-005")
    url = f"/api/v1/contracts/{marac}/amendments"
    extended = client.post(
        url,
        json={
            "kind": "extension",
            "effective_date": "2013-11-20",
            "rationale": "Extended early to align with the police partnership funding cycle.",
            "approved_by": "LBBD Cabinet",
            "board_minute_reference": "Cabinet 2013/11 item 4",
        },
        headers=headers("lbbd"),
    )
    assert extended.status_code == 201, extended.get_data(as_text=True)
    changed = client.post(
        url,
        json={
            "kind": "value change",
            "effective_date": "2013-11-25",
            "rationale": "Extra year priced in.",
            "approved_by": "LBBD Cabinet",
            "new_value": "420000.00",
        },
        headers=headers("lbbd"),
    )
    assert changed.status_code == 201, changed.get_data(as_text=True)
    document = body(client.get(f"/api/v1/contracts/{marac}/ocds", headers=headers("lbbd")))
    assert_valid_ocds(document)
    award, extension, value_change = document["releases"]
    assert [r["tag"] for r in document["releases"]] == [
        ["award", "contract"],
        ["contractAmendment"],
        ["contractAmendment"],
    ]
    assert award["contracts"][0]["period"]["endDate"][:10] == "2016-03-31"
    assert extension["contracts"][0]["period"]["endDate"][:10] == "2017-03-31"
    for release in document["releases"]:
        assert release["contracts"][0]["period"]["maxExtentDate"][:10] == "2018-03-31"
    # The extension adds its year at the annual value; the value change sets the total.
    assert extension["contracts"][0]["value"]["amount"] == 412000
    assert value_change["contracts"][0]["value"]["amount"] == 420000
    assert [a["releaseID"] for a in value_change["contracts"][0]["amendments"]] == [
        extension["id"],
        value_change["id"],
    ]
    assert "Cabinet 2013/11 item 4" not in json.dumps(document)  # the approval stays in the register
