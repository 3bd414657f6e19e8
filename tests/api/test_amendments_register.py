"""Amendments through the API keep the register true (issue 11, item 5): every
problem named at once with 422, planned dates said so, corrections kept beside
the amendment they correct."""

from __future__ import annotations

from collections.abc import Callable

from flask.testing import FlaskClient

from tests.api.conftest import Headers, error_fields, snapshot

ContractId = Callable[[str], int]


def test_extension_refuses_a_future_date_and_empty_words_all_at_once(
    client: FlaskClient, headers: Headers, contract_id: ContractId
) -> None:
    url = f"/api/v1/contracts/{contract_id('LBBD-DV-004')}/amendments"
    before = snapshot()
    response = client.post(
        url,
        json={"kind": "extension", "effective_date": "2030-01-01", "rationale": "x", "approved_by": "x"},
        headers=headers("lbbd"),
    )
    assert response.status_code == 422
    errors = error_fields(response)
    assert set(errors) == {"effective_date", "rationale", "approved_by"}
    assert "within the contract's life" in errors["effective_date"]
    assert snapshot() == before


def test_a_malformed_field_does_not_hide_the_rules(
    client: FlaskClient, headers: Headers, contract_id: ContractId
) -> None:
    url = f"/api/v1/contracts/{contract_id('LBBD-DV-005')}/amendments"
    response = client.post(
        url,
        json={"kind": "variation", "effective_date": "2013-02-31", "rationale": "x", "approved_by": "x"},
        headers=headers("lbbd"),
    )
    assert response.status_code == 422
    assert set(error_fields(response)) == {"effective_date", "rationale", "approved_by"}


def test_a_future_ending_must_be_marked_planned(
    client: FlaskClient, headers: Headers, contract_id: ContractId
) -> None:
    url = f"/api/v1/contracts/{contract_id('LBBD-DV-006')}/amendments"
    body = {
        "kind": "termination",
        "effective_date": "2014-06-30",
        "rationale": "Service to be brought in house",
        "approved_by": "LBBD Cabinet",
    }
    unplanned = client.post(url, json=body, headers=headers("lbbd"))
    assert unplanned.status_code == 422
    assert "record it as planned" in error_fields(unplanned)["effective_date"]
    wrong = client.post(url, json={**body, "planned": "yes"}, headers=headers("lbbd"))
    assert wrong.status_code == 422 and "true or false" in error_fields(wrong)["planned"]
    planned = client.post(url, json={**body, "planned": True}, headers=headers("lbbd"))
    assert planned.status_code == 201, planned.get_json()
    assert planned.get_json()["planned"] is True
    detail = client.get(f"/api/v1/contracts/{contract_id('LBBD-DV-006')}", headers=headers("lbbd")).get_json()
    assert detail["status"] == "in notice"
    assert detail["total_value"] == "125000.00"  # nine months of £100,000 a year no longer in force


def test_a_correction_is_a_new_amendment_naming_the_original(
    client: FlaskClient, headers: Headers, contract_id: ContractId
) -> None:
    cid = contract_id("LBBD-DV-002")
    detail = client.get(f"/api/v1/contracts/{cid}", headers=headers("lbbd")).get_json()
    [extension] = detail["amendments"]
    url = f"/api/v1/contracts/{cid}/amendments/{extension['id']}"
    corrected = client.patch(
        url, json={"board_minute_reference": "HWB 2013/09 item 8"}, headers=headers("lbbd")
    )
    assert corrected.status_code == 200, corrected.get_json()
    correction = corrected.get_json()
    assert correction["kind"] == "correction"
    assert correction["corrects_id"] == extension["id"]
    assert correction["board_minute_reference"] == "HWB 2013/09 item 8"
    assert correction["rationale"] == extension["rationale"]

    original = client.get(url, headers=headers("lbbd")).get_json()
    assert original["board_minute_reference"] == "HWB 2013/09 item 7"
    assert original["correction_ids"] == [correction["id"]]
    detail = client.get(f"/api/v1/contracts/{cid}", headers=headers("lbbd")).get_json()
    assert [a["id"] for a in detail["amendments"]] == [extension["id"], correction["id"]]
    assert detail["key_dates"]["end_date"] == "2014-09-30"

    before = snapshot()
    refused = client.patch(url, json={"rationale": "x", "approved_by": "x"}, headers=headers("lbbd"))
    assert refused.status_code == 422 and set(error_fields(refused)) == {"rationale", "approved_by"}
    nested = client.patch(
        f"/api/v1/contracts/{cid}/amendments/{correction['id']}",
        json={"approved_by": "LBBD Cabinet"},
        headers=headers("lbbd"),
    )
    assert nested.status_code == 422 and "original amendment" in error_fields(nested)["amendment_id"]
    as_new = client.post(
        f"/api/v1/contracts/{cid}/amendments",
        json={
            "kind": "correction",
            "effective_date": "2013-09-26",
            "rationale": "A reason",
            "approved_by": "HWB",
        },
        headers=headers("lbbd"),
    )
    assert as_new.status_code == 422 and "PATCH" in error_fields(as_new)["kind"]
    assert snapshot() == before
