"""Commissioners' writes: contracts, funding lines and amendments, each audited."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

from flask.testing import FlaskClient
from sqlalchemy import select

from monitor.audit import AuditEvent
from monitor.db import db
from tests.api.conftest import Headers, error_fields, snapshot
from tests.conftest import DEMO_USERS, Auth

IdOf = Callable[[str], int]


def audit_events(contract: int) -> list[AuditEvent]:
    return list(
        db.session.scalars(
            select(AuditEvent).where(AuditEvent.contract_id == contract).order_by(AuditEvent.id)
        )
    )


def test_create_contract(
    client: FlaskClient,
    headers: Headers,
    contract_body: Callable[..., dict[str, Any]],
    user_id: IdOf,
    org_id: IdOf,
) -> None:
    response = client.post("/api/v1/contracts", json=contract_body(), headers=headers("lbbd"))
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert response.headers["Location"] == f"/api/v1/contracts/{body['id']}"
    assert client.get(response.headers["Location"], headers=headers("lbbd")).get_json() == body
    assert body["reference"] == "LBBD-DV-100"
    assert body["cohorts"] == ["adults", "older people"]
    assert body["partner_commissioners"] == [
        {"id": org_id("NHS Barking and Dagenham CCG"), "name": "NHS Barking and Dagenham CCG"}
    ]
    assert (body["annual_value"], body["total_value"]) == ("45000.00", "45000.50")
    assert body["status"] == "mobilising"  # awarded, starting in April
    assert [(o["sequence"], o["length_months"], o["state"]) for o in body["extension_options"]] == [
        (1, 12, "available"),
        (2, 6, "available"),
    ]
    assert body["key_dates"]["maximum_extent_date"] == "2016-09-30"
    [event] = [e for e in audit_events(body["id"]) if e.entity_type == "contract"]
    assert (event.action, event.actor_id, event.actor_label) == (
        "create",
        user_id("lbbd"),
        DEMO_USERS["lbbd"],
    )
    # The partner can see it too; Halton cannot.
    assert client.get(response.headers["Location"], headers=headers("ccg")).status_code == 200
    assert client.get(response.headers["Location"], headers=headers("halton")).status_code == 404


def test_create_with_only_required_fields_defaults_the_rest(
    client: FlaskClient, headers: Headers, contract_body: Callable[..., dict[str, Any]], org_id: IdOf
) -> None:
    body = contract_body(
        reference="HBC-DA-02",
        lead_commissioner_id=...,
        partner_commissioner_ids=...,
        description=...,
        cohorts=...,
        award_date=...,
        notice_period_months=...,
        contract_manager=...,
        option_months=...,
    )
    response = client.post("/api/v1/contracts", json=body, headers=headers("halton"))
    assert response.status_code == 201, response.get_json()
    created = response.get_json()
    assert created["lead_commissioner"]["id"] == org_id("Halton Borough Council")
    assert created["notice_period_months"] == 6
    assert (created["award_date"], created["description"], created["cohorts"]) == (None, "", [])
    assert created["extension_options"] == []
    assert created["status"] == "pipeline"


def test_patch_changes_only_the_fields_sent_and_is_audited(
    client: FlaskClient, headers: Headers, contract_id: IdOf, user_id: IdOf, auth: Auth
) -> None:
    cid = contract_id("LBBD-DV-002")
    url = f"/api/v1/contracts/{cid}"
    before = client.get(url, headers=headers("lbbd")).get_json()
    # Signed in on the web as someone else: the token's user is still the actor.
    auth.sign_in(DEMO_USERS["westminster"])
    response = client.patch(
        url, json={"title": "Refuge accommodation", "annual_value": "275000.5"}, headers=headers("ccg")
    )
    assert response.status_code == 200, response.get_json()
    after = response.get_json()
    assert after["title"] == "Refuge accommodation"
    assert after["annual_value"] == "275000.50"
    unchanged = {k: v for k, v in before.items() if k not in ("title", "annual_value", "total_value")}
    assert {k: after[k] for k in unchanged} == unchanged
    # The total of the terms in force follows: the initial term's £810,000,
    # and the six months' extension at the new annual value.
    assert Decimal(after["total_value"]) == Decimal("810000") + Decimal("275000.50") / 2
    # The extended end date stands: the initial term was not touched.
    assert (after["original_end_date"], after["end_date"]) == ("2014-03-31", "2014-09-30")
    event = audit_events(cid)[-1]
    assert (event.action, event.entity_type, event.actor_id) == ("update", "contract", user_id("ccg"))
    assert event.changes["title"] == ["Refuge supported accommodation", "Refuge accommodation"]
    assert [Decimal(v) for v in event.changes["annual_value"]] == [Decimal("270000"), Decimal("275000.50")]


def test_patch_can_move_the_end_of_an_unextended_term(
    client: FlaskClient, headers: Headers, contract_id: IdOf
) -> None:
    url = f"/api/v1/contracts/{contract_id('LBBD-DV-004')}"
    response = client.patch(url, json={"end_date": "2014-06-30", "award_date": None}, headers=headers("lbbd"))
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert (body["original_end_date"], body["end_date"], body["award_date"]) == (
        "2014-06-30",
        "2014-06-30",
        None,
    )


def test_patch_cannot_move_the_end_after_an_extension(
    client: FlaskClient, headers: Headers, contract_id: IdOf
) -> None:
    before = snapshot()
    response = client.patch(
        f"/api/v1/contracts/{contract_id('LBBD-DV-002')}",
        json={"end_date": "2014-12-31"},
        headers=headers("lbbd"),
    )
    assert response.status_code == 422
    assert error_fields(response)["end_date"].startswith("The end date cannot be edited after an extension")
    assert snapshot() == before


def test_funding_line_add_change_remove(
    client: FlaskClient, headers: Headers, contract_id: IdOf, org_id: IdOf, user_id: IdOf
) -> None:
    cid = contract_id("LBBD-DV-004")
    added = client.post(
        f"/api/v1/contracts/{cid}/funding-lines",
        json={
            "funder_id": org_id("Barking and Dagenham Public Health"),
            "funding_stream": "Public Health Grant",
            "financial_year": " 2014/15 ",
            "amount": 20250.5,
        },
        headers=headers("lbbd"),
    )
    assert added.status_code == 201, added.get_json()
    line = added.get_json()
    assert (line["financial_year"], line["amount"], line["funder"]["name"]) == (
        "2014/15",
        "20250.50",
        "Barking and Dagenham Public Health",
    )
    location = added.headers["Location"]
    assert location == f"/api/v1/contracts/{cid}/funding-lines/{line['id']}"
    assert client.get(location, headers=headers("bd_board")).get_json() == line

    changed = client.patch(location, json={"amount": "21000"}, headers=headers("lbbd"))
    assert changed.status_code == 200
    assert changed.get_json() == {**line, "amount": "21000.00"}

    removed = client.delete(location, headers=headers("lbbd"))
    assert removed.status_code == 204
    assert removed.data == b""
    assert client.get(location, headers=headers("lbbd")).status_code == 404
    detail = client.get(f"/api/v1/contracts/{cid}", headers=headers("lbbd")).get_json()
    assert [x["financial_year"] for x in detail["funding_lines"]] == ["2013/14"]

    events = [e for e in audit_events(cid) if e.entity_type == "funding line"]
    assert [e.action for e in events][-3:] == ["create", "update", "delete"]
    assert {e.actor_id for e in events[-3:]} == {user_id("lbbd")}


def test_exercise_the_next_extension_option(client: FlaskClient, headers: Headers, contract_id: IdOf) -> None:
    cid = contract_id("LBBD-DV-004")
    response = client.post(
        f"/api/v1/contracts/{cid}/amendments",
        json={
            "kind": "extension",
            "effective_date": "2013-12-01",
            "rationale": "Keep counselling going while the review concludes",
            "approved_by": "Health and Wellbeing Board",
            "board_minute_reference": "HWB 2013/12 item 4",
        },
        headers=headers("lbbd"),
    )
    assert response.status_code == 201, response.get_json()
    amendment = response.get_json()
    assert (amendment["old_end_date"], amendment["new_end_date"]) == ("2014-03-31", "2015-03-31")
    assert response.headers["Location"] == f"/api/v1/contracts/{cid}/amendments/{amendment['id']}"
    assert client.get(response.headers["Location"], headers=headers("lbbd")).get_json() == amendment
    detail = client.get(f"/api/v1/contracts/{cid}", headers=headers("lbbd")).get_json()
    assert (detail["status"], detail["end_date"], detail["original_end_date"]) == (
        "extended",
        "2015-03-31",
        "2014-03-31",
    )
    assert [o["state"] for o in detail["extension_options"]] == ["exercised"]


def test_options_are_exercised_in_order(client: FlaskClient, headers: Headers, contract_id: IdOf) -> None:
    cid = contract_id("LBBD-DV-005")
    url = f"/api/v1/contracts/{cid}"
    first, second = (
        o["id"] for o in client.get(url, headers=headers("lbbd")).get_json()["extension_options"]
    )
    body = {
        "kind": "extension",
        "effective_date": "2013-12-01",
        "rationale": "Good value",
        "approved_by": "Cabinet",
    }
    before = snapshot()
    out_of_order = client.post(
        f"{url}/amendments", json={**body, "option_id": second}, headers=headers("lbbd")
    )
    assert out_of_order.status_code == 422
    assert error_fields(out_of_order) == {"option_id": "Exercise option 1 first; options are taken in order"}
    assert snapshot() == before
    in_order = client.post(f"{url}/amendments", json={**body, "option_id": first}, headers=headers("lbbd"))
    assert in_order.status_code == 201
    assert in_order.get_json()["new_end_date"] == "2017-03-31"


def test_value_change_and_termination(
    client: FlaskClient, headers: Headers, contract_id: IdOf, user_id: IdOf
) -> None:
    cid = contract_id("LBBD-DV-006")
    url = f"/api/v1/contracts/{cid}"
    change = client.post(
        f"{url}/amendments",
        json={
            "kind": "value change",
            "effective_date": "2013-12-01",
            "rationale": "Second MASH advocate",
            "approved_by": "Director of Children's Services",
            "new_value": "230000",
        },
        headers=headers("lbbd"),
    )
    assert change.status_code == 201, change.get_json()
    assert (change.get_json()["old_value"], change.get_json()["new_value"]) == ("200000.00", "230000.00")
    end = client.post(
        f"{url}/amendments",
        json={
            "kind": "termination",
            "effective_date": "2014-06-30",
            "rationale": "Service to be brought in house",
            "approved_by": "Cabinet",
            # Agreed now to take effect after today.
            "planned": True,
        },
        headers=headers("lbbd"),
    )
    assert end.status_code == 201, end.get_json()
    detail = client.get(url, headers=headers("lbbd")).get_json()
    # £230,000 for the two years to March 2015, less the nine months after
    # the ending at £100,000 a year.
    assert detail["total_value"] == "155000.00"
    assert detail["status"] == "in notice"
    assert detail["key_dates"]["end_date"] == "2014-06-30"
    assert [o["state"] for o in detail["extension_options"]] == ["lapsed"]
    recorded = [e for e in audit_events(cid) if e.entity_type == "amendment"]
    assert len(recorded) == 2
    assert {e.actor_id for e in recorded} == {user_id("lbbd")}


def test_correct_the_record_of_an_amendment(client: FlaskClient, headers: Headers, contract_id: IdOf) -> None:
    cid = contract_id("LBBD-DV-002")
    detail = client.get(f"/api/v1/contracts/{cid}", headers=headers("lbbd")).get_json()
    extension = detail["amendments"][0]
    url = f"/api/v1/contracts/{cid}/amendments/{extension['id']}"
    corrected = client.patch(
        url, json={"board_minute_reference": "HWB 2013/09 item 8"}, headers=headers("lbbd")
    )
    assert corrected.status_code == 200, corrected.get_json()
    # A correction is recorded beside the original, which stays as it was.
    body = corrected.get_json()
    assert (body["kind"], body["corrects_id"]) == ("correction", extension["id"])
    assert body["board_minute_reference"] == "HWB 2013/09 item 8"
    assert body["rationale"] == extension["rationale"]
    recorded = [e for e in audit_events(cid) if e.entity_type == "amendment"]
    assert [e.action for e in recorded][-1] == "create"

    before = snapshot()
    moved = client.patch(url, json={"new_end_date": "2015-03-31"}, headers=headers("lbbd"))
    assert moved.status_code == 422 and "new_end_date" in error_fields(moved)
    blank = client.patch(url, json={"approved_by": "  "}, headers=headers("lbbd"))
    assert blank.status_code == 422 and set(error_fields(blank)) == {"approved_by"}
    provider = client.patch(url, json={"rationale": "x"}, headers=headers("refuge"))
    assert provider.status_code == 403
    assert snapshot() == before
