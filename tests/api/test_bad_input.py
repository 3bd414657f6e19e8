"""Bad input: a specific message naming the field, the right status, no
change to the database (every table compared before and after), never a 500."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
from flask.testing import FlaskClient

from tests.api.conftest import Headers, error_fields, snapshot

IdOf = Callable[[str], int]


@dataclass
class World:
    """Ids of the demo records the cases refer to."""

    contract: IdOf
    org: IdOf
    body: Callable[..., dict[str, Any]]
    lines: dict[str, int] = field(default_factory=dict)


@pytest.fixture
def world(
    client: FlaskClient,
    headers: Headers,
    contract_id: IdOf,
    org_id: IdOf,
    contract_body: Callable[..., dict[str, Any]],
) -> World:
    refuge = client.get(f"/api/v1/contracts/{contract_id('LBBD-DV-002')}", headers=headers("lbbd"))
    lines = {line["funding_stream"]: line["id"] for line in refuge.get_json()["funding_lines"]}
    return World(contract_id, org_id, contract_body, lines)


def funding(world: World, **changes: Any) -> dict[str, Any]:
    body = {
        "funder_id": world.org("Metropolitan Police Service"),
        "funding_stream": "Police partnership funding",
        "financial_year": "2014/15",
        "amount": "5000.00",
    }
    body.update(changes)
    return body


def amendment(**changes: Any) -> dict[str, Any]:
    body = {
        "kind": "variation",
        "effective_date": "2013-12-01",
        "rationale": "A reason",
        "approved_by": "Cabinet",
    }
    body.update(changes)
    return body


def refuge(world: World, rest: str = "") -> str:
    return f"/api/v1/contracts/{world.contract('LBBD-DV-002')}{rest}"


# name -> (method, path, body, status, {field: words its message must contain})
Case = tuple[str, Callable[[World], str], Callable[[World], Any], int, dict[str, str]]
CASES: dict[str, Case] = {
    "end before start (create)": (
        "POST",
        lambda w: "/api/v1/contracts",
        lambda w: w.body(start_date="2014-04-01", end_date="2014-03-31"),
        422,
        {"end_date": "must be the same as or after the start date"},
    ),
    "end before start (change)": (
        "PATCH",
        lambda w: f"/api/v1/contracts/{w.contract('LBBD-DV-004')}",
        lambda w: {"end_date": "2012-03-31"},
        422,
        {"end_date": "must be the same as or after the start date"},
    ),
    "start moved after end (change)": (
        "PATCH",
        lambda w: f"/api/v1/contracts/{w.contract('LBBD-DV-004')}",
        lambda w: {"start_date": "2014-04-01"},
        422,
        {"end_date": "after the start date"},
    ),
    "negative annual value": (
        "POST",
        lambda w: "/api/v1/contracts",
        lambda w: w.body(annual_value=-1, total_value="-0.01"),
        422,
        {"annual_value": "cannot be negative", "total_value": "cannot be negative"},
    ),
    "negative funding amount": (
        "POST",
        lambda w: refuge(w, "/funding-lines"),
        lambda w: funding(w, amount=-100),
        422,
        {"amount": "cannot be negative"},
    ),
    "negative funding amount (change)": (
        "PATCH",
        lambda w: refuge(w, f"/funding-lines/{w.lines['Council general fund']}"),
        lambda w: {"amount": "-60000"},
        422,
        {"amount": "cannot be negative"},
    ),
    "negative new value": (
        "POST",
        lambda w: refuge(w, "/amendments"),
        lambda w: amendment(kind="value change", new_value=-5),
        422,
        {"new_value": "cannot be negative"},
    ),
    "unknown funder": (
        "POST",
        lambda w: refuge(w, "/funding-lines"),
        lambda w: funding(w, funder_id=987654),
        422,
        {"funder_id": "Choose the funder"},
    ),
    "a provider is not a funder": (
        "PATCH",
        lambda w: refuge(w, f"/funding-lines/{w.lines['Council general fund']}"),
        lambda w: {"funder_id": w.org("Refuge")},
        422,
        {"funder_id": "Choose the funder"},
    ),
    "unknown provider and partner": (
        "POST",
        lambda w: "/api/v1/contracts",
        lambda w: w.body(provider_id=987654, partner_commissioner_ids=[w.org("Refuge")]),
        422,
        {"provider_id": "provider", "partner_commissioner_ids": "commissioners"},
    ),
    "financial year with a dash": (
        "POST",
        lambda w: refuge(w, "/funding-lines"),
        lambda w: funding(w, financial_year="2014-15"),
        422,
        {"financial_year": "like 2013/14"},
    ),
    "financial year that is not consecutive": (
        "PATCH",
        lambda w: refuge(w, f"/funding-lines/{w.lines['Council general fund']}"),
        lambda w: {"financial_year": "2013/15"},
        422,
        {"financial_year": "like 2013/14"},
    ),
    "financial year as a number": (
        "POST",
        lambda w: refuge(w, "/funding-lines"),
        lambda w: funding(w, financial_year=2013),
        422,
        {"financial_year": "must be text"},
    ),
    "extension when none is left": (
        "POST",
        lambda w: refuge(w, "/amendments"),
        lambda w: amendment(kind="extension"),
        422,
        {"option_id": "There are no extension options left"},
    ),
    "extension of a decommissioned contract": (
        "POST",
        lambda w: f"/api/v1/contracts/{w.contract('LBBD-DV-003')}/amendments",
        lambda w: amendment(kind="extension"),
        422,
        {"option_id": "cannot be extended"},
    ),
    "extension with an option of another contract": (
        "POST",
        lambda w: f"/api/v1/contracts/{w.contract('LBBD-DV-004')}/amendments",
        lambda w: amendment(kind="extension", option_id=987654),
        422,
        {"option_id": "Choose one of the extension options that is still available"},
    ),
    "ending before the start": (
        "POST",
        lambda w: refuge(w, "/amendments"),
        lambda w: amendment(kind="termination", effective_date="2010-01-01"),
        422,
        {"effective_date": "cannot end before it starts"},
    ),
    "value change without a value": (
        "POST",
        lambda w: refuge(w, "/amendments"),
        lambda w: amendment(kind="value change"),
        422,
        {"new_value": "required for a value change"},
    ),
    "fields for another kind of amendment": (
        "POST",
        lambda w: refuge(w, "/amendments"),
        lambda w: amendment(kind="termination", new_value="1", option_id=1),
        422,
        {"new_value": "only for a value change", "option_id": "only for an extension"},
    ),
    "duplicate reference (create, any case)": (
        "POST",
        lambda w: "/api/v1/contracts",
        lambda w: w.body(reference="lbbd-dv-001"),
        422,
        {"reference": "already exists"},
    ),
    "duplicate reference (change)": (
        "PATCH",
        lambda w: f"/api/v1/contracts/{w.contract('LBBD-DV-004')}",
        lambda w: {"reference": "LBBD-DV-001"},
        422,
        {"reference": "already exists"},
    ),
    "duplicate funding line": (
        "POST",
        lambda w: refuge(w, "/funding-lines"),
        lambda w: funding(
            w,
            funder_id=w.org("London Borough of Barking and Dagenham"),
            funding_stream="council general fund",
            financial_year="2013/14",
        ),
        422,
        {"funding_stream": "already has a council general fund line for 2013/14"},
    ),
    "blank required text": (
        "POST",
        lambda w: refuge(w, "/amendments"),
        lambda w: amendment(rationale="   ", approved_by=""),
        422,
        {"rationale": "Enter the reason", "approved_by": "Enter who approved"},
    ),
    "every shape problem at once": (
        "POST",
        lambda w: "/api/v1/contracts",
        lambda w: {
            "reference": "X" * 41,
            "title": 12,
            "service_type": "knitting",
            "cohorts": ["aliens"],
            "provider_id": "11",
            "partner_commissioner_ids": [True],
            "award_date": "2013-02-30",
            "start_date": "04/11/2013",
            "annual_value": 12.345,
            "total_value": True,
            "notice_period_months": "six",
            "option_months": 12,
            "colour": "red",
        },
        422,
        {
            "reference": "40 characters or fewer",
            "title": "must be text",
            "service_type": "must be one of",
            "cohorts": "list of values from",
            "provider_id": "whole-number id",
            "partner_commissioner_ids": "list of whole-number ids",
            "award_date": "real date",
            "start_date": "written like 2013-11-04",
            "annual_value": "at most 2 decimal places",
            "total_value": "amount in pounds",
            "notice_period_months": "whole number",
            "option_months": "list of whole numbers",
            "colour": "not a field",
            "category": "required",
            "agreement_type": "required",
            "end_date": "required",
        },
    ),
    "NaN and Infinity": (
        "PATCH",
        lambda w: f"/api/v1/contracts/{w.contract('LBBD-DV-004')}",
        lambda w: "RAW:" + '{"annual_value": NaN, "total_value": -Infinity}',
        422,
        {"annual_value": "not NaN", "total_value": "not -Infinity"},
    ),
    "money with thousands separators": (
        "PATCH",
        lambda w: refuge(w, f"/funding-lines/{w.lines['Council general fund']}"),
        lambda w: {"amount": "60,000"},
        422,
        {"amount": "amount in pounds"},
    ),
    "money over a billion": (
        "PATCH",
        lambda w: refuge(w, f"/funding-lines/{w.lines['Council general fund']}"),
        lambda w: {"amount": 1e300},
        422,
        {"amount": "less than £1,000,000,000"},
    ),
    "null where a value is needed": (
        "PATCH",
        lambda w: f"/api/v1/contracts/{w.contract('LBBD-DV-004')}",
        lambda w: {"title": None, "start_date": None},
        422,
        {"title": "cannot be null", "start_date": "cannot be null"},
    ),
    "text too long for the database": (
        "POST",
        lambda w: refuge(w, "/amendments"),
        lambda w: amendment(approved_by="A" * 201, board_minute_reference="M" * 101),
        422,
        {"approved_by": "200 characters", "board_minute_reference": "100 characters"},
    ),
    "NUL character": (
        "PATCH",
        lambda w: f"/api/v1/contracts/{w.contract('LBBD-DV-004')}",
        lambda w: {"title": "Counselling\u0000"},
        422,
        {"title": "NUL"},
    ),
    "id too large": (
        "PATCH",
        lambda w: f"/api/v1/contracts/{w.contract('LBBD-DV-004')}",
        lambda w: {"provider_id": 2**63},
        422,
        {"provider_id": "whole-number id"},
    ),
    "too many options": (
        "POST",
        lambda w: "/api/v1/contracts",
        lambda w: w.body(option_months=[12] * 51),
        422,
        {"option_months": "at most 50 items"},
    ),
    "award after start": (
        "POST",
        lambda w: "/api/v1/contracts",
        lambda w: w.body(award_date="2014-04-02"),
        422,
        {"award_date": "on or before the start date"},
    ),
    "options on an existing contract": (
        "PATCH",
        lambda w: f"/api/v1/contracts/{w.contract('LBBD-DV-004')}",
        lambda w: {"option_months": [12]},
        422,
        {"option_months": "not a field"},
    ),
    "malformed JSON": (
        "POST",
        lambda w: refuge(w, "/funding-lines"),
        lambda w: 'RAW:{"amount": 5000,',
        400,
        {"body": "not valid JSON"},
    ),
    "JSON that is not an object": (
        "PATCH",
        lambda w: refuge(w),
        lambda w: "RAW:[1, 2, 3]",
        400,
        {"body": "must be a JSON object"},
    ),
    "empty body": (
        "POST",
        lambda w: refuge(w, "/amendments"),
        lambda w: "RAW:",
        400,
        {"body": "empty"},
    ),
    "not UTF-8": (
        "POST",
        lambda w: refuge(w, "/amendments"),
        lambda w: b'RAW:{"rationale": "\xff"}',
        400,
        {"body": "UTF-8"},
    ),
    "nested too deeply": (
        "POST",
        lambda w: "/api/v1/contracts",
        lambda w: "RAW:" + '{"title": ' + "[" * 100_000 + "]" * 100_000 + "}",
        400,
        {"body": "not valid JSON"},
    ),
    "huge integer": (
        "POST",
        lambda w: "/api/v1/contracts",
        lambda w: "RAW:" + '{"provider_id": ' + "9" * 5000 + "}",
        400,
        {"body": "not valid JSON"},
    ),
    "not sent as JSON": (
        "POST",
        lambda w: refuge(w, "/funding-lines"),
        lambda w: "FORM:amount=5",
        415,
        {"body": "application/json"},
    ),
}


def _send(client: FlaskClient, method: str, path: str, body: Any, auth: dict[str, str]) -> Any:
    if isinstance(body, bytes | str) and body[:4] in ("RAW:", b"RAW:"):
        return client.open(path, method=method, data=body[4:], content_type="application/json", headers=auth)
    if isinstance(body, str) and body.startswith("FORM:"):
        return client.open(
            path,
            method=method,
            data=body[5:],
            content_type="application/x-www-form-urlencoded",
            headers=auth,
        )
    return client.open(path, method=method, json=body, headers=auth)


@pytest.mark.parametrize("case", list(CASES))
def test_bad_input_is_named_and_changes_nothing(
    client: FlaskClient, headers: Headers, world: World, case: str
) -> None:
    method, path, make_body, status, expected = CASES[case]
    before = snapshot()
    response = _send(client, method, path(world), make_body(world), headers("lbbd"))
    assert response.status_code == status, response.get_data(as_text=True)[:500]
    assert response.mimetype == "application/json"
    fields = error_fields(response)
    assert set(fields) == set(expected), fields
    message = response.get_json()["message"]
    for name, words in expected.items():
        assert words in fields[name], (name, fields[name])
        assert name in message
    assert snapshot() == before


def test_oversized_request_is_413_json(
    app: Any, client: FlaskClient, headers: Headers, contract_body: Callable[..., dict[str, Any]]
) -> None:
    auth = headers("lbbd")
    before = snapshot()
    limit = app.config["MAX_CONTENT_LENGTH"]
    body = contract_body(description="x" * limit)
    response = client.post("/api/v1/contracts", json=body, headers=auth)
    assert response.status_code == 413
    assert response.mimetype == "application/json"
    assert response.get_json()["message"] == (
        "The request is larger than 5 MB; send less data. Nothing was changed."
    )
    assert snapshot() == before
    # The same contract, small enough, goes in.
    assert client.post("/api/v1/contracts", json=contract_body(), headers=auth).status_code == 201


def test_a_clash_the_checks_missed_is_409_and_changes_nothing(
    client: FlaskClient, headers: Headers, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    # As if another request added the same line between our check and our write:
    # the database's unique constraint refuses it and the transaction rolls back.
    from monitor.contracts import services

    monkeypatch.setattr(services, "_check_funding", lambda session, contract, fields, line_id: "2013/14")
    before = snapshot()
    response = client.post(
        refuge(world, "/funding-lines"),
        json=funding(
            world,
            funder_id=world.org("London Borough of Barking and Dagenham"),
            funding_stream="Council general fund",
            financial_year="2013/14",
        ),
        headers=headers("lbbd"),
    )
    assert response.status_code == 409
    assert set(response.get_json()) == {"message"}
    assert "Nothing was changed" in response.get_json()["message"]
    assert snapshot() == before


def test_an_unexpected_failure_is_500_json_without_a_trace(
    client: FlaskClient, headers: Headers, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    from monitor.api import serialise

    def broken(*_args: Any) -> Any:
        raise RuntimeError("internal detail that must not leak")

    monkeypatch.setattr(serialise, "contract_detail", broken)
    response = client.get(refuge(world), headers=headers("lbbd"))
    assert response.status_code == 500
    assert response.mimetype == "application/json"
    assert set(response.get_json()) == {"message"}
    assert "internal detail" not in response.get_data(as_text=True)
    assert "Traceback" not in response.get_data(as_text=True)


# Query parameters that break the OpenAPI document: refused before the view
# runs, by the one check every operation shares, with the status the document
# gives bad parameters (422, like any other bad input) and a message naming each one.
PARAMETER_CASES: dict[str, tuple[str, dict[str, str]]] = {
    "search longer than its maxLength": (
        "/api/v1/contracts?q=" + "x" * 101,
        {"q": "100 characters or fewer"},
    ),
    "empty financial year": ("/api/v1/funding?financial_year=", {"financial_year": "like 2013/14"}),
    "empty status": ("/api/v1/contracts?status=", {"status": "must be one of: pipeline"}),
    "empty sort and order": (
        "/api/v1/contracts?sort=&order=",
        {"sort": "must be one of: end_date", "order": "must be one of: asc, desc"},
    ),
    "page 0": ("/api/v1/contracts?page=0", {"page": "whole number from 1"}),
    "empty page size": ("/api/v1/contracts?per_page=", {"per_page": "whole number from 1 to 100"}),
    "empty organisation": ("/api/v1/contracts?provider=", {"provider": "whole-number id, like 12"}),
    "NUL in a scope": ("/api/v1/ocds?commissioner=Bark%00ing", {"commissioner": "NUL character"}),
    "every problem at once": (
        "/api/v1/contracts?q=" + "y" * 150 + "&ends_within=241&funder=0&colour=red",
        {
            "q": "100 characters or fewer",
            "ends_within": "whole number from 0 to 240",
            "funder": "whole-number id",
            "colour": "is not a filter; use status, category",
        },
    ),
}


@pytest.mark.parametrize("case", list(PARAMETER_CASES))
def test_parameters_that_break_the_document_are_refused(
    client: FlaskClient, headers: Headers, case: str
) -> None:
    url, expected = PARAMETER_CASES[case]
    response = client.get(url, headers=headers("lbbd"))
    assert response.status_code == 422, response.get_data(as_text=True)[:500]
    assert response.mimetype == "application/json"
    fields = error_fields(response)
    assert set(fields) == set(expected), fields
    message = response.get_json()["message"]
    for name, words in expected.items():
        assert words in fields[name], (name, fields[name])
        assert fields[name].startswith(name), fields[name]
        assert name in message


def test_a_quarter_in_the_path_is_checked_against_the_document(
    client: FlaskClient, headers: Headers, world: World
) -> None:
    response = client.get(refuge(world, "/returns/2013-14-Q7"), headers=headers("lbbd"))
    assert response.status_code == 422
    assert error_fields(response) == {
        "period": "period '2013-14-Q7' is not in the right form; write it like 2013-14-Q3"
    }


def test_a_token_is_checked_before_the_parameters(client: FlaskClient, headers: Headers) -> None:
    url = "/api/v1/contracts?q=" + "x" * 101
    response = client.get(url)
    assert response.status_code == 401
    # The same URL with a valid token is refused for its parameter, so the 401
    # above is the token being checked first, not a URL no one could use.
    response = client.get(url, headers=headers("lbbd"))
    assert response.status_code == 422, response.get_data(as_text=True)[:500]
    assert "100 characters or fewer" in error_fields(response)["q"]


@pytest.mark.parametrize("missing", [0, 2**31, 10**20])
@pytest.mark.parametrize("rest", ["", "/framework/{id}", "/funding-lines/{id}", "/amendments/{id}"])
def test_an_id_no_record_can_have_is_404_never_500(
    client: FlaskClient, headers: Headers, world: World, rest: str, missing: int
) -> None:
    # PostgreSQL's integers stop at 2**31 - 1; a larger id once reached it and
    # failed with a server error (framework items). The document's range for
    # every id in a path is checked before any view runs.
    for method in ("GET", "PATCH"):
        url = refuge(world, rest.format(id=missing)) if rest else f"/api/v1/contracts/{missing}"
        response = client.open(url, method=method, json={}, headers=headers("lbbd"))
        assert response.status_code == 404, (method, url, response.get_data(as_text=True)[:300])
        assert set(response.get_json()) == {"message"}
        assert str(missing) in response.get_json()["message"]
