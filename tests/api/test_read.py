"""Reading: the register with the UI's filters, one contract, funding totals."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal

import pytest
from flask.testing import FlaskClient

from monitor.demo import CCG
from tests.api.conftest import Headers, error_fields

BY_END_DATE = [
    "LBBD-DV-003",
    "LBBD-DV-001",
    "LBBD-DV-004",
    "LBBD-DV-007",
    "LBBD-DV-002",
    "LBBD-DV-006",
    "LBBD-DV-005",
]


def references(response: object) -> list[str]:
    return [c["reference"] for c in response.get_json()["contracts"]]  # type: ignore[attr-defined]


def test_list_is_the_users_register_with_status_and_key_dates(client: FlaskClient, headers: Headers) -> None:
    response = client.get("/api/v1/contracts", headers=headers("lbbd"))
    assert response.status_code == 200
    body = response.get_json()
    assert references(response) == BY_END_DATE
    assert (body["page"], body["per_page"], body["total"], body["pages"]) == (1, 25, 7, 1)
    idsva = body["contracts"][1]
    assert idsva["status"] == "live"
    assert idsva["annual_value"] == "250000.00"
    assert idsva["total_value"] == "750000.00"
    assert idsva["provider"]["name"] == "Refuge"
    assert idsva["lead_commissioner"]["name"] == CCG
    assert [o["name"] for o in idsva["partner_commissioners"]] == ["London Borough of Barking and Dagenham"]
    assert idsva["key_dates"] == {
        "end_date": "2014-01-31",
        "maximum_extent_date": "2014-01-31",
        "last_notice_date": "2013-07-31",
        "decision_by": "2013-05-31",
        "reprocurement_start": "2013-04-30",
        "next_key_date": {
            "key": "decision_by",
            "name": "Decision needed by",
            "on": "2013-05-31",
            "urgency": "overdue",
        },
        "decision_overdue": True,
        "days_to_end": 60,
    }
    # The detail-only parts stay out of the list.
    assert "funding_lines" not in idsva


@pytest.mark.parametrize(
    ("who", "expected"),
    [
        ("admin", 9),
        ("bd_board", 7),
        ("halton", 1),
        ("halton_board", 1),
        ("refuge", 4),
        ("westminster", 1),
    ],
)
def test_list_shows_only_what_the_user_may_see(
    client: FlaskClient, headers: Headers, who: str, expected: int
) -> None:
    body = client.get("/api/v1/contracts", headers=headers(who)).get_json()
    assert body["total"] == expected == len(body["contracts"])
    if who == "refuge":
        assert {c["provider"]["name"] for c in body["contracts"]} == {"Refuge"}


def test_pages_cover_every_contract_once(client: FlaskClient, headers: Headers) -> None:
    seen: list[str] = []
    for page in (1, 2, 3):
        response = client.get(f"/api/v1/contracts?per_page=3&page={page}", headers=headers("lbbd"))
        body = response.get_json()
        assert (body["page"], body["per_page"], body["total"], body["pages"]) == (page, 3, 7, 3)
        seen += references(response)
    assert seen == BY_END_DATE
    # Past the end gives the last page, saying so.
    last = client.get("/api/v1/contracts?per_page=3&page=99", headers=headers("lbbd")).get_json()
    assert last["page"] == 3
    assert [c["reference"] for c in last["contracts"]] == ["LBBD-DV-005"]


def test_filters_match_the_web_register(
    client: FlaskClient, headers: Headers, org_id: Callable[[str], int]
) -> None:
    def refs(query: str) -> list[str]:
        response = client.get(f"/api/v1/contracts?{query}", headers=headers("lbbd"))
        assert response.status_code == 200, response.get_json()
        return references(response)

    assert refs("status=extended") == ["LBBD-DV-002"]
    assert refs("status=decommissioned") == ["LBBD-DV-003"]
    assert refs("category=supporting") == ["LBBD-DV-007", "LBBD-DV-005"]
    assert refs("service_type=refuge") == ["LBBD-DV-002"]
    assert refs(f"provider={org_id('Refuge')}") == [
        "LBBD-DV-001",
        "LBBD-DV-002",
        "LBBD-DV-006",
        "LBBD-DV-005",
    ]
    assert refs(f"commissioner={org_id(CCG)}") == ["LBBD-DV-001", "LBBD-DV-002"]
    assert refs(f"funder={org_id('Mayor' + chr(39) + 's Office for Policing and Crime (MOPAC)')}") == [
        "LBBD-DV-007"
    ]
    assert refs("ends_within=4") == ["LBBD-DV-001", "LBBD-DV-004", "LBBD-DV-007"]
    assert refs("q=REFUGE") == ["LBBD-DV-002"]
    assert refs("sort=reference&order=desc") == sorted(BY_END_DATE, reverse=True)
    assert refs("sort=annual_value&per_page=2") == ["LBBD-DV-003", "LBBD-DV-004"]
    assert refs("status=live&category=core&service_type=refuge") == []
    live = client.get("/api/v1/contracts?status=live", headers=headers("lbbd")).get_json()["contracts"]
    assert {c["status"] for c in live} == {"live"}
    assert len(live) == 5


def test_bad_filters_are_422_naming_each_one(client: FlaskClient, headers: Headers) -> None:
    response = client.get(
        "/api/v1/contracts?status=open&sort=colour&order=sideways&per_page=500&provider=abc"
        "&ends_within=999&page=%C2%B2&colour=red",
        headers=headers("lbbd"),
    )
    assert response.status_code == 422
    fields = error_fields(response)
    assert set(fields) == {
        "status",
        "sort",
        "order",
        "per_page",
        "provider",
        "ends_within",
        "page",
        "colour",
    }
    assert fields["status"].startswith("status must be one of: pipeline")
    assert fields["per_page"] == "per_page must be a whole number from 1 to 100"
    assert fields["colour"].startswith("colour is not a filter")
    assert "per_page" in response.get_json()["message"]


@pytest.mark.parametrize(
    "query", ["provider=99999999999999999999", "q=a%00b", "per_page=0", "funder=-1", "page=1.5"]
)
def test_odd_filter_values_are_422_not_500(client: FlaskClient, headers: Headers, query: str) -> None:
    response = client.get(f"/api/v1/contracts?{query}", headers=headers("lbbd"))
    assert response.status_code == 422
    assert set(error_fields(response)) == {query.split("=")[0]}


def test_detail_of_the_extended_refuge_contract(
    client: FlaskClient, headers: Headers, contract_id: Callable[[str], int]
) -> None:
    response = client.get(f"/api/v1/contracts/{contract_id('LBBD-DV-002')}", headers=headers("lbbd"))
    assert response.status_code == 200
    body = response.get_json()
    assert body["reference"] == "LBBD-DV-002"
    assert body["status"] == "extended"
    assert (body["start_date"], body["original_end_date"], body["end_date"]) == (
        "2011-04-01",
        "2014-03-31",
        "2014-09-30",
    )
    assert body["key_dates"]["end_date"] == "2014-09-30"
    assert body["key_dates"]["maximum_extent_date"] == "2014-09-30"  # no options left
    assert body["key_dates"]["last_notice_date"] == "2014-03-31"
    assert body["extension_options"] == [
        {"id": body["extension_options"][0]["id"], "sequence": 1, "length_months": 6, "state": "exercised"}
    ]
    [extension] = body["amendments"]
    assert extension["kind"] == "extension"
    assert (extension["old_end_date"], extension["new_end_date"]) == ("2014-03-31", "2014-09-30")
    assert extension["effective_date"] == "2013-09-26"
    assert extension["board_minute_reference"] == "HWB 2013/09 item 7"
    assert extension["extension_option_id"] == body["extension_options"][0]["id"]
    lines = {
        (line["funder"]["name"], line["financial_year"], line["amount"]) for line in body["funding_lines"]
    }
    assert lines == {
        ("London Borough of Barking and Dagenham", "2013/14", "60000.00"),
        ("Barking and Dagenham Public Health", "2013/14", "138000.00"),
        ("Barking and Dagenham Housing Revenue Account", "2013/14", "72000.00"),
    }
    assert sum(Decimal(line["amount"]) for line in body["funding_lines"]) == Decimal("270000")
    assert body["milestones"] == []


def test_detail_includes_milestones(
    client: FlaskClient, headers: Headers, contract_id: Callable[[str], int]
) -> None:
    body = client.get(
        f"/api/v1/contracts/{contract_id('HBC-CYP-DA-01')}", headers=headers("halton")
    ).get_json()
    assert [m["title"] for m in body["milestones"]][-1] == "Service starts"
    assert body["milestones"][-1] == {
        "id": body["milestones"][-1]["id"],
        "title": "Service starts",
        "due_date": "2013-11-04",
        "met_on": "2013-11-04",
    }
    assert [o["state"] for o in body["extension_options"]] == ["available"]
    assert body["key_dates"]["maximum_extent_date"] == "2015-11-03"


@pytest.mark.parametrize("missing_id", [999999, 2**31, 10**20])
def test_missing_contract_is_404_json(client: FlaskClient, headers: Headers, missing_id: int) -> None:
    response = client.get(f"/api/v1/contracts/{missing_id}", headers=headers("admin"))
    assert response.status_code == 404
    assert set(response.get_json()) == {"message"}


@pytest.mark.parametrize("who", ["lbbd", "bd_board"])
def test_funding_2013_14_for_barking_and_dagenham(client: FlaskClient, headers: Headers, who: str) -> None:
    response = client.get("/api/v1/funding?financial_year=2013/14", headers=headers(who))
    assert response.status_code == 200
    body = response.get_json()
    assert body["financial_year"] == "2013/14"
    assert body["total"] == "823500.00"
    assert {row["funder"]: row["amount"] for row in body["by_funder"]} == {
        "Barking and Dagenham Housing Revenue Account": "72000.00",
        "Barking and Dagenham Public Health": "368000.00",
        "London Borough of Barking and Dagenham": "204500.00",
        "Mayor's Office for Policing and Crime (MOPAC)": "20000.00",
        "Metropolitan Police Service": "39000.00",
        "NHS Barking and Dagenham CCG": "120000.00",
    }
    assert {row["category"]: row["amount"] for row in body["by_category"]} == {
        "core": "620000.00",
        "supporting": "163000.00",
        "supplementary": "40500.00",
    }
    assert body["by_year"] == [{"financial_year": "2013/14", "amount": "823500.00"}]
    assert len(body["lines"]) == 11
    assert sum(Decimal(line["amount"]) for line in body["lines"]) == Decimal("823500")
    assert {line["contract_reference"] for line in body["lines"]} == {
        "LBBD-DV-001",
        "LBBD-DV-002",
        "LBBD-DV-004",
        "LBBD-DV-005",
        "LBBD-DV-006",
        "LBBD-DV-007",
    }


def test_funding_is_limited_to_visible_contracts(client: FlaskClient, headers: Headers) -> None:
    def total(who: str, query: str = "?financial_year=2013/14") -> str:
        body = client.get(f"/api/v1/funding{query}", headers=headers(who)).get_json()
        return str(body["total"])

    assert total("halton") == "62500.00"
    assert total("refuge") == "723000.00"
    assert total("admin") == "1306000.00"
    every_year = client.get("/api/v1/funding", headers=headers("halton")).get_json()
    assert every_year["financial_year"] is None
    assert every_year["by_year"] == [
        {"financial_year": "2013/14", "amount": "62500.00"},
        {"financial_year": "2014/15", "amount": "87500.00"},
    ]
    assert every_year["total"] == "150000.00"


@pytest.mark.parametrize("year", ["2013-14", "2013/15", "13/14", "2013/2014", "twenty"])
def test_funding_year_written_wrongly_is_422(client: FlaskClient, headers: Headers, year: str) -> None:
    response = client.get("/api/v1/funding", query_string={"financial_year": year}, headers=headers("lbbd"))
    assert response.status_code == 422
    assert set(error_fields(response)) == {"financial_year"}
    assert "like 2013/14" in response.get_json()["message"]


def test_funding_unknown_parameter_is_422(client: FlaskClient, headers: Headers) -> None:
    response = client.get("/api/v1/funding?year=2013/14", headers=headers("lbbd"))
    assert response.status_code == 422
    assert set(error_fields(response)) == {"year"}
