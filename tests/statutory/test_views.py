"""The statutory return's pages and downloads, signed in as the demo's people."""

from __future__ import annotations

import csv
from collections.abc import Callable
from io import BytesIO, StringIO
from typing import Any

import openpyxl
import pytest
from bs4 import BeautifulSoup
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from monitor.auth.models import User
from monitor.db import db
from monitor.statutory.models import SafeAccommodationContract
from monitor.statutory.service import compile_return, kpi_library
from tests.conftest import DEMO_USERS, WAREHOUSE_AS_AT, Auth

YEAR = "2013/14"


def _signed_in(app: Flask, key: str) -> FlaskClient:
    client = app.test_client()
    response = Auth(client).sign_in(DEMO_USERS[key])
    assert response.status_code == 302, response.get_data(as_text=True)[:500]
    return client


def _lbbd() -> int:
    user = db.session.execute(select(User).where(User.email == DEMO_USERS["lbbd"])).scalar_one()
    assert user.organisation_id is not None
    return user.organisation_id


def _page(response: Any) -> BeautifulSoup:
    return BeautifulSoup(response.get_data(as_text=True), "html.parser")


def _compiled() -> Any:
    from datetime import date

    return compile_return(
        db.session(), _lbbd(), YEAR, kpi_library(db.session()), date.fromisoformat(WAREHOUSE_AS_AT)
    )


def _page_figures(page: BeautifulSoup) -> dict[tuple[str, str], str]:
    figures: dict[tuple[str, str], str] = {}
    for table in page.select("table[id^=table-]"):
        number = str(table["id"]).removeprefix("table-")
        for row in table.select("tbody tr"):
            figure = row.select_one(".app-figure")
            figures[(str(number), str(row["data-category"]))] = figure.get_text(strip=True) if figure else ""
    return figures


def test_the_commissioner_sees_the_illustrative_return_with_its_sources(returns_app: Flask) -> None:
    client = _signed_in(returns_app, "lbbd")
    response = client.get("/statutory-return")
    assert response.status_code == 200
    page = _page(response)
    assert page.select_one("#year option[selected]")["value"] == "2013-14"  # type: ignore[index]
    text = page.get_text(" ", strip=True)
    assert "Illustrative: the duty began in 2021/22, so no real return exists for 2013/14." in text
    assert "no return existed for 2013/14" in text  # the definition's notes
    summary = page.select_one("#summary-list").get_text(" ", strip=True)  # type: ignore[union-attr]
    assert "2 contracts count as relevant safe accommodation in 2013/14" in summary
    assert "6 quarterly returns accepted" in summary
    assert "1 quarterly return not yet accepted" in summary
    assert "1 quarterly return missing (not sent)" in summary
    # Questions in the definition's order, every body cell labelled for narrow screens.
    assert [table["id"] for table in page.select("table[id^=table-]")] == [
        "table-1",
        "table-2",
        "table-3",
        "table-4",
        "table-5",
    ]
    for table in page.select("table.app-table--stacked"):
        for cell in table.select("tbody td, tbody th"):
            assert cell.get("data-label"), cell
    compiled = _compiled()
    women = next(row for row in compiled.rows if row.category == "Women")
    assert _page_figures(page)[("1", "Women")] == women.figure_text != ""
    # The refuge's Q4 awaits review and links to its return; the scheme's was never sent.
    refuge_q4 = page.select_one('tr[data-source="LBBD-DV-002 2013-14-Q4"]')
    assert refuge_q4 is not None
    assert "Awaiting review" in refuge_q4.get_text()
    link = refuge_q4.select_one("a")
    assert link is not None and str(link["href"]).endswith("/returns/2013-14-Q4")
    scheme_q4 = page.select_one('tr[data-source="LBBD-DV-005 2013-14-Q4"]')
    assert scheme_q4 is not None and scheme_q4.select_one(".govuk-tag--red") is not None


def test_a_year_with_no_definition_lists_the_years_that_have_one(returns_app: Flask) -> None:
    client = _signed_in(returns_app, "lbbd")
    response = client.get("/statutory-return?year=2015-16")
    assert response.status_code == 400
    summary = _page(response).select_one(".govuk-error-summary")
    assert summary is not None
    assert "no statutory return definition for 2015/16; the years with one are 2013/14 and 2024/25" in (
        summary.get_text(" ", strip=True)
    )


def test_choosing_contracts_saves_and_shows_a_banner(
    returns_app: Flask, contract_id: Callable[[str], int]
) -> None:
    client = _signed_in(returns_app, "lbbd")
    form = _page(client.get("/statutory-return/2013-14/contracts"))
    ticked = {str(box["value"]) for box in form.select("input[name=contract_ids][checked]")}
    assert ticked == {str(contract_id("LBBD-DV-002")), str(contract_id("LBBD-DV-005"))}
    response = client.post(
        "/statutory-return/2013-14/contracts", data={"contract_ids": [str(contract_id("LBBD-DV-002"))]}
    )
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/statutory-return?year=2013-14")
    page = _page(client.get(response.headers["Location"]))
    assert "1 contract counts towards the 2013/14 return" in page.get_text(" ", strip=True)
    db.session.expire_all()
    flagged = db.session.scalars(select(SafeAccommodationContract.contract_id)).all()
    assert flagged == [contract_id("LBBD-DV-002")]


def test_a_contract_not_offered_is_refused_with_a_message(
    returns_app: Flask, contract_id: Callable[[str], int]
) -> None:
    client = _signed_in(returns_app, "lbbd")
    halton_contract = contract_id("HBC-CYP-DA-01")
    response = client.post(
        "/statutory-return/2013-14/contracts", data={"contract_ids": [str(halton_contract)]}
    )
    assert response.status_code == 400
    summary = _page(response).select_one(".govuk-error-summary")
    assert summary is not None and "HBC-CYP-DA-01 cannot count towards this return" in summary.get_text()
    db.session.expire_all()
    assert len(db.session.scalars(select(SafeAccommodationContract)).all()) == 2


def test_the_post_without_its_csrf_token_is_refused(
    returns_app: Flask, contract_id: Callable[[str], int]
) -> None:
    client = _signed_in(returns_app, "lbbd")
    returns_app.config["WTF_CSRF_ENABLED"] = True
    try:
        response = client.post("/statutory-return/2013-14/contracts", data={"contract_ids": []})
    finally:
        returns_app.config["WTF_CSRF_ENABLED"] = False
    assert response.status_code == 400
    db.session.expire_all()
    assert len(db.session.scalars(select(SafeAccommodationContract)).all()) == 2


ROUTES = (
    ("get", "/statutory-return?authority={lbbd}"),
    ("get", "/statutory-return/2013-14/contracts?authority={lbbd}"),
    ("post", "/statutory-return/2013-14/contracts?authority={lbbd}"),
    ("get", "/statutory-return/2013-14.xlsx?authority={lbbd}"),
    ("get", "/statutory-return/2013-14.csv?authority={lbbd}"),
)


@pytest.mark.parametrize("who", ["refuge", "bd_board", "halton"])
def test_others_are_refused_on_every_route(returns_app: Flask, who: str) -> None:
    client = _signed_in(returns_app, who)
    lbbd = _lbbd()
    for method, route in ROUTES:
        response = getattr(client, method)(route.format(lbbd=lbbd), data={"contract_ids": []})
        assert response.status_code in (403, 404), (who, route, response.status_code)
    # Without naming an authority too: providers and boards have none.
    if who != "halton":
        for method, route in ROUTES:
            response = getattr(client, method)(route.split("?")[0], data={"contract_ids": []})
            assert response.status_code in (403, 404), (who, route, response.status_code)
    db.session.expire_all()
    assert len(db.session.scalars(select(SafeAccommodationContract)).all()) == 2


def test_the_admin_chooses_an_authority(returns_app: Flask) -> None:
    client = _signed_in(returns_app, "admin")
    page = _page(client.get("/statutory-return"))
    assert "Choose an authority to see its return." in page.get_text(" ", strip=True)
    response = client.get(f"/statutory-return?authority={_lbbd()}")
    assert response.status_code == 200
    assert "2 contracts count" in _page(response).get_text(" ", strip=True)


def test_the_spreadsheet_has_the_questions_in_order(returns_app: Flask) -> None:
    client = _signed_in(returns_app, "lbbd")
    response = client.get("/statutory-return/2013-14.xlsx")
    assert response.status_code == 200
    sheet = openpyxl.load_workbook(BytesIO(response.data)).active
    assert sheet is not None
    rows = list(sheet.iter_rows(values_only=True))
    header = {row[0]: row[1] for row in rows[:8] if row[0]}
    assert header["Authority"] == "London Borough of Barking and Dagenham" or "Barking" in str(
        header["Authority"]
    )
    assert header["Reporting year"] == "2013/14"
    assert header["Definition version"] == "1"
    assert "Illustrative" in header
    assert str(header["Compiled"]).endswith("(UK time)")
    start = next(index for index, row in enumerate(rows) if row[0] == "Question number")
    body = rows[start + 1 :]
    compiled = _compiled()
    assert [(row[0], row[2]) for row in body] == [(row.number, row.category) for row in compiled.rows]
    numbers = [row[0] for row in body]
    assert numbers == sorted(numbers, key=int)
    for cells, row in zip(body, compiled.rows, strict=True):
        assert cells[3] == row.value  # blank (None) when not available, never 0


def test_the_csv_matches_the_page(returns_app: Flask) -> None:
    client = _signed_in(returns_app, "lbbd")
    page_figures = _page_figures(_page(client.get("/statutory-return")))
    response = client.get("/statutory-return/2013-14.csv")
    assert response.status_code == 200
    rows = list(csv.reader(StringIO(response.data.decode("utf-8-sig"))))
    start = next(index for index, row in enumerate(rows) if row and row[0] == "Question number")
    body = rows[start + 1 :]
    assert len(body) == len(page_figures)
    for number, _question, category, figure, _mandatory, _notes, _check in body:
        shown = page_figures[(number, category)].replace(",", "")
        assert figure == shown, (number, category)


def test_categories_that_do_not_add_up_are_flagged(returns_app: Flask) -> None:
    from monitor.contracts.models import Contract
    from monitor.kpis.models import Kpi, Return, ReturnValue

    # The refuge's accepted Q3 says five more women than its total allows.
    q3 = db.session.scalars(
        select(Return)
        .join(Contract)
        .where(Contract.reference == "LBBD-DV-002", Return.period == "2013-14-Q3")
    ).one()
    assert q3.state == "accepted"
    version = [v for v in q3.versions if v.submitted][-1]
    women = db.session.scalars(
        select(ReturnValue)
        .join(Kpi)
        .where(
            ReturnValue.version_id == version.id, Kpi.code == "SA-SUPPORTED", ReturnValue.breakdown == "Women"
        )
    ).one()
    with db.transaction() as session:
        session.get(ReturnValue, women.id).value += 5  # type: ignore[union-attr]
    client = _signed_in(returns_app, "lbbd")
    page = _page(client.get("/statutory-return"))
    compiled = _compiled()
    question = compiled.evaluated.question("1")
    assert question.adds_up is False and question.difference == 5
    warning = page.select_one("#question-1 ~ .govuk-warning-text")
    assert warning is not None and "The categories add up to" in warning.get_text()
    assert compiled.evaluated.question("3").adds_up is not False
    csv_rows = list(
        csv.reader(StringIO(client.get("/statutory-return/2013-14.csv").data.decode("utf-8-sig")))
    )
    total = next(row for row in csv_rows if row[:1] == ["1"] and row[2] == "Total")
    assert "The categories add up to" in total[5]


def test_the_admin_chooses_contracts_for_an_authority(
    returns_app: Flask, contract_id: Callable[[str], int]
) -> None:
    client = _signed_in(returns_app, "admin")
    lbbd = _lbbd()
    assert client.get("/statutory-return/2013-14/contracts").status_code == 404
    response = client.post(
        f"/statutory-return/2013-14/contracts?authority={lbbd}",
        data={"contract_ids": [str(contract_id("LBBD-DV-005"))]},
    )
    assert response.status_code == 302
    assert f"authority={lbbd}" in response.headers["Location"]
    db.session.expire_all()
    assert db.session.scalars(select(SafeAccommodationContract.contract_id)).all() == [
        contract_id("LBBD-DV-005")
    ]
