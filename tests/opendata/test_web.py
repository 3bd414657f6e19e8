"""The contract page: download links for what can be published, and for what
cannot, the missing field with a link to where it is filled in."""

from __future__ import annotations

import json

from bs4 import BeautifulSoup
from flask import Flask
from flask.testing import FlaskClient

from tests.conftest import DEMO_USERS, Auth
from tests.opendata.conftest import change_contract, contract_by_reference
from tests.opendata.test_exports import assert_valid_giving, assert_valid_ocds


def page(client: FlaskClient, url: str, status: int = 200) -> BeautifulSoup:
    response = client.get(url)
    assert response.status_code == status, response.get_data(as_text=True)[:500]
    return BeautifulSoup(response.get_data(as_text=True), "html.parser")


def links(soup: BeautifulSoup) -> dict[str, str]:
    return {a.get_text(" ", strip=True): str(a["href"]) for a in soup.select("a.govuk-link")}


def test_a_contract_page_offers_its_open_data(demo: Flask, client: FlaskClient, auth: Auth) -> None:
    auth.sign_in(DEMO_USERS["westminster"])
    tri = contract_by_reference("TRI-VAWG-01")
    soup = page(client, f"/contracts/{tri.id}")
    assert links(soup)["Download open contracting data (OCDS JSON)"] == f"/contracts/{tri.id}/ocds.json"
    assert "Download grant data (360Giving JSON)" not in links(soup)  # a contract, not a grant
    assert soup.select_one("#open-data") is None
    response = client.get(f"/contracts/{tri.id}/ocds.json")
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    assert response.headers["Content-Disposition"] == "attachment; filename=ocds-tri-vawg-01.json"
    document = json.loads(response.get_data(as_text=True))
    assert_valid_ocds(document)
    # Without SERVICE_URL the package is addressed where the request came in.
    assert document["uri"] == f"http://localhost/api/v1/contracts/{tri.id}/ocds"


def test_a_grant_page_offers_360giving_and_says_how_to_improve_it(
    demo: Flask, client: FlaskClient, auth: Auth
) -> None:
    auth.sign_in(DEMO_USERS["lbbd"])
    helpline = contract_by_reference("LBBD-DV-007")
    soup = page(client, f"/contracts/{helpline.id}")
    assert links(soup)["Download grant data (360Giving JSON)"] == f"/contracts/{helpline.id}/360giving.json"
    inset = soup.select_one(".govuk-inset-text")
    assert inset is not None and "East London Rape Crisis Centre has no charity" in inset.get_text()
    response = client.get(f"/contracts/{helpline.id}/360giving.json")
    assert response.status_code == 200
    assert_valid_giving(json.loads(response.get_data(as_text=True)))


def test_a_missing_award_date_is_named_with_a_link_to_fill_it_in(
    demo: Flask, client: FlaskClient, auth: Auth
) -> None:
    change_contract("LBBD-DV-004", award_date=None, description="")
    counselling = contract_by_reference("LBBD-DV-004")
    auth.sign_in(DEMO_USERS["lbbd"])
    soup = page(client, f"/contracts/{counselling.id}")
    assert "Download open contracting data (OCDS JSON)" not in links(soup)
    assert "Download grant data (360Giving JSON)" not in links(soup)
    warning = soup.select_one("#open-data")
    assert warning is not None
    assert "This contract cannot be published as open data yet." in warning.get_text(" ", strip=True)
    items = [li.get_text(" ", strip=True) for li in warning.select("li")]
    assert len(items) == 2  # the award date once, though both standards need it
    assert items[0].startswith(
        "Enter the award date under Change details on the contract page, like 30 9 2013"
    )
    assert items[1].startswith("Enter a description under Change details")
    fix = links(warning)
    assert fix["Change the award date"] == f"/contracts/{counselling.id}/edit#award_date"
    assert fix["Change the description"] == f"/contracts/{counselling.id}/edit#description"
    edit = page(client, f"/contracts/{counselling.id}/edit")
    assert edit.select_one("#award_date") is not None and edit.select_one("#description") is not None
    # Asking for the file anyway gives the page back with the reasons, not a broken file.
    refused = page(client, f"/contracts/{counselling.id}/ocds.json", status=422)
    summary = refused.select_one(".govuk-error-summary")
    assert summary is not None and "Enter the award date" in summary.get_text()
    assert refused.title is not None and refused.title.get_text().startswith("Error: ")


def test_readers_who_cannot_change_it_are_told_who_can(demo: Flask, client: FlaskClient, auth: Auth) -> None:
    change_contract("LBBD-DV-002", award_date=None)
    refuge = contract_by_reference("LBBD-DV-002")
    auth.sign_in(DEMO_USERS["refuge"])
    warning = page(client, f"/contracts/{refuge.id}").select_one("#open-data")
    assert warning is not None
    assert "Only the lead or a partner commissioner can fill in what is missing." in warning.get_text()
    assert not warning.select("a")


def test_a_contract_is_not_a_grant(demo: Flask, client: FlaskClient, auth: Auth) -> None:
    auth.sign_in(DEMO_USERS["lbbd"])
    refuge = contract_by_reference("LBBD-DV-002")
    refused = page(client, f"/contracts/{refuge.id}/360giving.json", status=422)
    summary = refused.select_one(".govuk-error-summary")
    assert summary is not None
    assert (
        "Only grants are published as 360Giving data and this is recorded as a contract" in summary.get_text()
    )


def test_a_download_the_schema_refuses_says_why(demo: Flask, client: FlaskClient, auth: Auth) -> None:
    """A problem only the schema catches (here a malformed SERVICE_URL) is shown like any other."""
    demo.config["SERVICE_URL"] = "https://monitor example"
    auth.sign_in(DEMO_USERS["westminster"])
    tri = contract_by_reference("TRI-VAWG-01")
    refused = page(client, f"/contracts/{tri.id}/ocds.json", status=422)
    summary = refused.select_one(".govuk-error-summary")
    assert summary is not None
    text = summary.get_text(" ", strip=True)
    assert "Check the open data settings SERVICE_URL" in text and "is not a 'uri'" in text
    for link in summary.select("a"):
        assert refused.select_one(str(link["href"])) is not None  # every link leads somewhere


def test_a_declined_option_shortens_the_published_maximum_extent(
    demo: Flask, client: FlaskClient, auth: Auth
) -> None:
    marac = contract_by_reference("LBBD-DV-005")  # to 31 March 2016, options 12 + 12
    second = marac.options[1].id
    auth.sign_in(DEMO_USERS["lbbd"])
    assert client.post(f"/contracts/{marac.id}/options/{second}/decline").status_code == 302
    document = json.loads(client.get(f"/contracts/{marac.id}/ocds.json").get_data(as_text=True))
    assert_valid_ocds(document)
    award, update = document["releases"]
    assert award["contracts"][0]["period"]["maxExtentDate"][:10] == "2018-03-31"
    assert update["id"] == f"ocds-demo00-{marac.id}-options-declined-{second}"
    assert update["tag"] == ["contractUpdate"]
    # Recorded (in the audit trail) today; the demo's today is pinned to 2 December 2013.
    assert update["date"][:10] == "2013-12-02"
    assert update["contracts"][0]["period"]["maxExtentDate"][:10] == "2017-03-31"
    assert update["contracts"][0]["period"]["endDate"][:10] == "2016-03-31"
