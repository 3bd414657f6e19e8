"""One truth for the statutory return: the page, the CSV, the spreadsheet and
the warehouse give the same figure for every line, after an ETL run over the
demo; a return accepted since the warehouse was loaded is flagged line by
line until the next run; a warehouse never built is said plainly. On SQLite
and PostgreSQL."""

from __future__ import annotations

import csv
from datetime import date
from io import BytesIO, StringIO
from pathlib import Path
from typing import Any

import openpyxl
from bs4 import BeautifulSoup
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from etl.app import ENGINE_KEY, run_for_app, warehouse_url
from monitor.audit import Actor, acting_as
from monitor.auth.models import User
from monitor.contracts.models import Contract
from monitor.db import db
from monitor.kpis.models import Return
from monitor.kpis.returns.services import accept_return
from monitor.statutory.reconcile import AGREES, NOT_BUILT, WAIT_FOR_RUN
from monitor.statutory.service import compile_return, kpi_library
from tests.conftest import DEMO_USERS, WAREHOUSE_AS_AT, Auth, Warehouse, _drop_warehouse

YEAR = "2013/14"


def _client(app: Flask) -> FlaskClient:
    client = app.test_client()
    assert Auth(client).sign_in(DEMO_USERS["lbbd"]).status_code == 302
    return client


def _lbbd_user() -> User:
    return db.session.execute(select(User).where(User.email == DEMO_USERS["lbbd"])).scalar_one()


def _page(client: FlaskClient) -> BeautifulSoup:
    response = client.get("/statutory-return")
    assert response.status_code == 200
    return BeautifulSoup(response.get_data(as_text=True), "html.parser")


def _page_lines(page: BeautifulSoup) -> dict[tuple[str, str], tuple[str, str, str]]:
    """(question, category) -> (figure shown, data-agrees, warehouse check text)."""
    lines = {}
    for table in page.select("table[id^=table-]"):
        number = str(table["id"]).removeprefix("table-")
        for row in table.select("tbody tr"):
            figure = row.select_one(".app-figure")
            check = row.select_one('td[data-label="Warehouse check"]')
            assert check is not None
            lines[(number, str(row["data-category"]))] = (
                figure.get_text(strip=True).replace(",", "") if figure else "",
                str(check["data-agrees"]),
                check.get_text(" ", strip=True),
            )
    return lines


def _body(rows: list[list[Any]]) -> tuple[dict[str, Any], list[list[Any]]]:
    start = next(index for index, row in enumerate(rows) if row and row[0] == "Question number")
    header = {row[0]: row[1] for row in rows[:start] if row and row[0]}
    return header, rows[start + 1 :]


def _csv(client: FlaskClient) -> tuple[dict[str, Any], list[list[Any]]]:
    response = client.get("/statutory-return/2013-14.csv")
    assert response.status_code == 200
    return _body(list(csv.reader(StringIO(response.data.decode("utf-8-sig")))))


def _xlsx(client: FlaskClient) -> tuple[dict[str, Any], list[list[Any]]]:
    response = client.get("/statutory-return/2013-14.xlsx")
    assert response.status_code == 200
    sheet = openpyxl.load_workbook(BytesIO(response.data)).active
    assert sheet is not None
    return _body([list(row) for row in sheet.iter_rows(values_only=True)])


def _warehouse_sum(warehouse: Warehouse, contract_ids: list[int], code: str, breakdown: str) -> float | None:
    """A summed KPI's year figure for the contracts, by hand from the warehouse's facts."""
    ids = ", ".join(str(int(contract_id)) for contract_id in contract_ids)
    sql = (
        "SELECT sum(f.actual) AS total, count(*) AS n FROM fact_kpi_result f "  # noqa: S608 - ids are ints
        "JOIN dim_kpi k ON k.kpi_id = f.kpi_id JOIN dim_period p ON p.period_key = f.period_key "
        "WHERE k.code = :code AND f.breakdown = :breakdown AND p.financial_year = :year "
        f"AND f.contract_id IN ({ids})"
    )
    found = warehouse.rows(sql, code=code, breakdown=breakdown, year=YEAR)[0]
    return None if found["n"] == 0 else float(found["total"])


def test_the_page_csv_spreadsheet_and_warehouse_agree_on_every_figure(returns_app: Flask) -> None:
    warehouse = Warehouse(returns_app, warehouse_url(returns_app))
    try:
        client = _client(returns_app)
        lines = _page_lines(_page(client))
        csv_header, csv_body = _csv(client)
        xlsx_header, xlsx_body = _xlsx(client)
        assert len(lines) == len(csv_body) == len(xlsx_body) > 20
        for (number, _q, category, figure, _m, _notes, check), xlsx_row in zip(
            csv_body, xlsx_body, strict=True
        ):
            shown, agrees, page_check = lines[(number, category)]
            assert figure == shown, (number, category)
            assert (xlsx_row[3] is None and figure == "") or xlsx_row[3] == float(figure), (number, category)
            assert agrees == "yes" and page_check == "Agrees", (number, category)
            assert check == xlsx_row[6] == AGREES, (number, category)
        for header in (csv_header, xlsx_header):
            assert str(header["Warehouse check"]).startswith(
                "Every figure agrees with the warehouse as loaded on "
            )
        # The warehouse's own facts, summed by hand, give the page's figures
        # for the counts summed over the year (individuals, households).
        user = _lbbd_user()
        assert user.organisation_id is not None
        compiled = compile_return(
            db.session(),
            user.organisation_id,
            YEAR,
            kpi_library(db.session()),
            date.fromisoformat(WAREHOUSE_AS_AT),
        )
        ids = [contract.id for contract in compiled.contracts]
        checked = 0
        for question, code in (("1", "SA-SUPPORTED"), ("4", "SA-ENDED")):
            for row in compiled.evaluated.question(question).categories:
                (term,) = row.category.formula.terms
                by_hand = _warehouse_sum(warehouse, ids, code, term.part or "")
                assert lines[(question, row.name)][0] == ("" if by_hand is None else f"{by_hand:.0f}")
                checked += by_hand is not None
        assert checked >= 5
        # The refuge's Q4 awaits review: neither the return nor the warehouse counts it.
        refuge = next(contract for contract in compiled.contracts if contract.reference == "LBBD-DV-002")
        q4 = warehouse.rows(
            "SELECT count(*) AS n FROM fact_kpi_result WHERE contract_id = :id AND period_key = '2013-14-Q4'",
            id=refuge.id,
        )
        assert q4[0]["n"] == 0
        assert any(
            source.period == "2013-14-Q4" and not source.counted
            for contract in compiled.sources
            if contract.contract.id == refuge.id
            for source in contract.quarters
        )
    finally:
        warehouse.engine.dispose()


def test_a_return_accepted_since_the_load_is_flagged_until_the_next_run(returns_app: Flask) -> None:
    client = _client(returns_app)
    before = _page_lines(_page(client))
    waiting = db.session.scalars(
        select(Return)
        .join(Contract)
        .where(Contract.reference == "LBBD-DV-002", Return.period == "2013-14-Q4")
    ).one()
    assert waiting.state == "submitted"
    person = _lbbd_user()
    with acting_as(Actor(person.id, person.email)), db.transaction() as session:
        ret = session.get(Return, waiting.id)
        assert ret is not None
        accept_return(session, person, ret)
    page = _page(client)
    after = _page_lines(page)
    changed = {key for key in after if after[key][0] != before[key][0]}
    assert changed, "accepting the refuge's Q4 changes some of the return's figures"
    # Exactly the lines whose figure changed differ from the warehouse, each with both figures.
    assert {key for key, line in after.items() if line[1] == "no"} == changed
    women = after[("1", "Women")]
    assert women[1] == "no"
    assert f"this return has {int(women[0]):,}, the warehouse {int(before[('1', 'Women')][0]):,}" in women[2]
    assert WAIT_FOR_RUN in women[2]
    summary = page.select_one("#warehouse-check")
    assert summary is not None and WAIT_FOR_RUN in summary.get_text(" ", strip=True)
    _header, body = _csv(client)
    flagged = {(row[0], row[2]) for row in body if row[6] != AGREES}
    assert flagged == changed
    # The next run brings the warehouse up to date, and every line agrees again.
    run_for_app()
    assert {line[1] for line in _page_lines(_page(client)).values()} == {"yes"}


def test_a_warehouse_never_built_is_said_plainly(returns_app: Flask) -> None:
    engine = returns_app.extensions.pop(ENGINE_KEY, None)
    if engine is not None:
        engine.dispose()
    _drop_warehouse(warehouse_url(returns_app))
    client = _client(returns_app)
    page = _page(client)
    summary = page.select_one("#warehouse-check")
    assert summary is not None and NOT_BUILT in summary.get_text(" ", strip=True)
    assert {line[1] for line in _page_lines(page).values()} == {"unknown"}
    for header, body in (_csv(client), _xlsx(client)):
        assert header["Warehouse check"] == NOT_BUILT
        assert {row[6] for row in body} == {"Not checked"}
    # The figures themselves are still the return's, from the app's accepted returns.
    assert _page_lines(page)[("1", "Women")][0] != ""
    # Nothing was left behind: looking did not create an empty warehouse.
    url = warehouse_url(returns_app)
    if url.startswith("sqlite"):
        assert not Path(url.removeprefix("sqlite:///")).exists()
