"""Boards read one truth: the performance pages, the API and the board pack
show a board exactly the warehouse's disclosure-controlled rows, from
accepted returns only, on SQLite and PostgreSQL."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from bs4 import BeautifulSoup
from flask.testing import FlaskClient
from sqlalchemy import select

from monitor.access.viewers import organisation_key, partnership_key
from monitor.auth.models import Partnership, User
from monitor.contracts.models import Contract
from monitor.db import db
from monitor.disclosure.suppression import CONFIDENTIAL
from monitor.formatting import mid_sentence
from monitor.kpis.models import Return
from monitor.kpis.vocabulary import ReturnState
from monitor.reports.audience import Audience
from monitor.reports.service import make_board_pack, pack_warehouse
from tests.api.conftest import token_for
from tests.conftest import DEMO_USERS, Auth, Warehouse
from tests.kpis.fixtures.warehouse import build_demo_warehouse

BOARDS = ("bd_board", "halton_board")
COMMISSIONERS = ("lbbd", "ccg", "halton", "westminster")


@pytest.fixture(scope="module")
def built(database_url: str) -> Iterator[Warehouse]:
    """The demo as at 6 May 2014 with its warehouse; these tests only read."""
    yield from build_demo_warehouse(database_url)


def _email(who: str) -> str:
    """A demo user's email by its short name, or an email as it is."""
    return DEMO_USERS.get(who, who)


def _user(email: str) -> User:
    return db.session.execute(select(User).where(User.email == email)).scalar_one()


def _api(client: FlaskClient, who: str, contract_id: int) -> dict[str, Any]:
    token = token_for(_email(who))
    response = client.get(
        f"/api/v1/contracts/{contract_id}/performance", headers={"Authorization": f"Bearer {token}"}
    )
    assert response.status_code == 200, response.data
    body: dict[str, Any] = response.get_json()
    return body


def _visible_contracts(client: FlaskClient, who: str) -> list[int]:
    token = token_for(_email(who))
    response = client.get("/api/v1/contracts?per_page=100", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200, response.data
    return [c["id"] for c in response.get_json()["contracts"]]


def _page_cells(client: FlaskClient, contract_id: int) -> dict[tuple[str, str], str]:
    """(KPI code, quarter) -> the figure as the page shows it to the signed-in
    user ('' when none)."""
    response = client.get(f"/contracts/{contract_id}/performance?quarters=all")
    assert response.status_code == 200
    soup = BeautifulSoup(response.get_data(as_text=True), "html.parser")
    cells = {}
    for row in soup.select("table#performance tbody tr"):
        code = row["id"].removeprefix("kpi-")
        for cell in row.select("td"):
            figure = cell.select_one(".govuk-\\!-font-weight-bold")
            cells[(code, cell["data-quarter"])] = figure.get_text(strip=True) if figure else ""
    return cells


def _board_rows(warehouse: Warehouse, viewer: str) -> dict[tuple[int, str, str], Any]:
    rows = warehouse.rows(
        "SELECT contract_id, kpi_code, period_key, actual, actual_display, marker, rag FROM mart_board_performance "
        "WHERE viewer = :viewer AND scope = 'service' AND breakdown = ''",
        viewer=viewer,
    )
    return {(int(r["contract_id"]), r["kpi_code"], r["period_key"]): r for r in rows}


def _viewer_of(who: str) -> str:
    user = _user(_email(who))
    assert user.partnership is not None
    return partnership_key(user.partnership.id)


def compare_surfaces(warehouse: Warehouse, client: FlaskClient, who: str, viewer: str) -> tuple[int, int]:
    """Every figure `who` sees on the performance pages and through the API
    against the viewer's warehouse rows: the same value written the same
    way, or the same marker; nothing the warehouse does not hold. Boards see
    no provisional figure; a commissioner's provisional figures are not yet
    in the warehouse. Returns (figures compared, of which hidden)."""
    board = viewer.startswith("partnership:")
    mart = _board_rows(warehouse, viewer)
    contracts = _visible_contracts(client, who)
    assert contracts
    compared = hidden = 0
    pages = {}
    auth = Auth(client)
    auth.sign_in(_email(who))
    for contract_id in contracts:
        pages[contract_id] = _page_cells(client, contract_id)
    auth.sign_out()
    for contract_id in contracts:
        body = _api(client, who, contract_id)
        page = pages[contract_id]
        for kpi in body["kpis"]:
            for cell in kpi["quarters"]:
                key = (contract_id, kpi["code"], cell["quarter"])
                shown_on_page = page[(kpi["code"], cell["quarter"])]
                row = mart.get(key)
                assert not (board and cell["provisional"]), key
                if cell["provisional"]:
                    assert row is None, key
                    continue
                if row is None:
                    # Nothing in the warehouse: nothing shown.
                    assert cell["actual"] is None and shown_on_page == "", key
                    continue
                compared += 1
                if row["marker"]:
                    hidden += row["marker"] == CONFIDENTIAL
                    assert board or row["marker"] != CONFIDENTIAL, (
                        f"a commissioner's figures are exact: {key}"
                    )
                    assert cell["actual"] == row["marker"] == shown_on_page, key
                    assert cell["rag"] is None and cell["direction_of_travel"] is None, key
                    continue
                assert Decimal(cell["actual"]) == Decimal(str(round(row["actual"], 2))), key
                # Written the same way as on the dashboards.
                assert shown_on_page == row["actual_display"], key
                assert cell["rag"] == row["rag"], key
    return compared, hidden


@pytest.mark.parametrize("who", BOARDS)
def test_board_pages_and_api_show_the_warehouse_rows_and_nothing_else(built: Warehouse, who: str) -> None:
    app = built.app
    client = app.test_client()
    with app.app_context():
        compared, hidden = compare_surfaces(built, client, who, _viewer_of(who))
        # The comparison covered real figures, hidden ones among them.
        if who == "bd_board":
            assert compared > 20 and hidden > 0
        else:
            assert compared > 5


@pytest.mark.parametrize("who", COMMISSIONERS)
def test_commissioners_pages_and_api_show_their_own_rows_exactly(built: Warehouse, who: str) -> None:
    app = built.app
    client = app.test_client()
    with app.app_context():
        user = _user(_email(who))
        assert user.organisation_id is not None
        compared, hidden = compare_surfaces(built, client, who, organisation_key(user.organisation_id))
        assert compared > 5 and hidden == 0


@pytest.mark.parametrize("who", BOARDS)
def test_boards_never_see_figures_from_returns_not_yet_accepted(built: Warehouse, who: str) -> None:
    app = built.app
    client = app.test_client()
    with app.app_context():
        contracts = set(_visible_contracts(client, who))
        pending = db.session.execute(
            select(Return.contract_id, Return.period).where(
                Return.contract_id.in_(contracts),
                Return.state.in_([ReturnState.SUBMITTED.value, ReturnState.RESUBMITTED.value]),
            )
        ).all()
        assert pending, "the demo has returns awaiting review for this board"
        for contract_id, period in pending:
            body = _api(client, who, contract_id)
            cells = [c for k in body["kpis"] for c in k["quarters"] if c["quarter"] == period]
            assert cells and all(c["actual"] is None and c["awaiting_acceptance"] for c in cells)
            auth = Auth(client)
            auth.sign_in(_email(who))
            soup = BeautifulSoup(
                client.get(f"/contracts/{contract_id}/performance?quarters=all").get_data(as_text=True),
                "html.parser",
            )
            auth.sign_out()
            column = soup.select(f"td[data-quarter='{period}']")
            assert column and all("Return not yet accepted" in td.get_text() for td in column)
            assert "Provisional" not in soup.get_text()
        # A commissioner of the same contracts sees them, marked provisional.
        contract_id, period = pending[0]
        lead = db.session.get(Contract, contract_id)
        assert lead is not None
        commissioner = next(
            who for who in COMMISSIONERS if _user(_email(who)).organisation_id == lead.lead_commissioner_id
        )
        own = _api(client, commissioner, contract_id)
        cells = [c for k in own["kpis"] for c in k["quarters"] if c["quarter"] == period and c["actual"]]
        assert cells and all(c["provisional"] for c in cells)


def test_a_hidden_figure_hides_its_rating_and_the_next_quarters_travel(built: Warehouse) -> None:
    app = built.app
    client = app.test_client()
    with app.app_context():
        found = 0
        for contract_id in _visible_contracts(client, "bd_board"):
            for kpi in _api(client, "bd_board", contract_id)["kpis"]:
                cells = kpi["quarters"]
                for before, after in itertools.pairwise(cells):
                    if before["actual"] == CONFIDENTIAL:
                        found += 1
                        assert before["rag"] is None and before["suppressed"]
                        assert after["direction_of_travel"] in (None, "no previous")
        assert found > 0


@pytest.mark.parametrize("who", BOARDS)
def test_the_board_pack_shows_what_the_pages_show(built: Warehouse, who: str) -> None:
    app = built.app
    client = app.test_client()
    with app.app_context():
        partnership = _user(_email(who)).partnership
        assert isinstance(partnership, Partnership)
        pack = make_board_pack(
            db.session(),
            pack_warehouse(),
            Audience("partnership", partnership.id, partnership.name),
            "2013-14-Q4",
            threshold=int(app.config["DISCLOSURE_THRESHOLD"]),
            produced_on=date(2014, 5, 6),
        )
        compared = 0
        api_cells: dict[tuple[int, str, str], Any] = {}
        for contract_id in _visible_contracts(client, who):
            for kpi in _api(client, who, contract_id)["kpis"]:
                for cell in kpi["quarters"]:
                    api_cells[(contract_id, kpi["code"], cell["quarter"])] = cell
        for row in pack.data.performance.to_dict("records"):
            cell = api_cells[(int(row["contract_id"]), row["kpi_code"], row["period_key"])]
            if row["marker"]:
                assert cell["actual"] == row["marker"]
            else:
                assert Decimal(cell["actual"]) == Decimal(str(round(row["actual"], 2)))
            compared += 1
        assert compared > 5


def test_a_boards_summary_counts_hidden_ratings_and_never_describes_them(built: Warehouse) -> None:
    """The paragraph per contract reads the board's figures: a [c] figure is
    counted as hidden, and neither it nor the change to the next quarter is
    described; the quarter's table compares nothing with it."""
    app = built.app
    client = app.test_client()
    with app.app_context():
        hidden = None
        for contract_id in _visible_contracts(client, "bd_board"):
            for kpi in _api(client, "bd_board", contract_id)["kpis"]:
                for before, after in itertools.pairwise(kpi["quarters"]):
                    if before["actual"] == CONFIDENTIAL and after["actual"] not in (None, CONFIDENTIAL):
                        hidden = (contract_id, kpi, before["quarter"], after["quarter"])
                        break
                if hidden:
                    break
            if hidden:
                break
        assert hidden, "the demo hides a board figure followed by one it shows"
        contract_id, kpi, hidden_in, shown_in = hidden
        name = mid_sentence(kpi["name"])
        Auth(client).sign_in(DEMO_USERS["bd_board"])
        url = f"/contracts/{contract_id}/performance"
        page = BeautifulSoup(client.get(f"{url}?quarter={hidden_in}").get_data(as_text=True), "html.parser")
        tags = [t.get_text(strip=True) for t in page.select("#summary .govuk-tag")]
        assert tags[:3] and [t.split()[0] for t in tags[:3]] == ["Red", "Amber", "Green"]
        assert any(t.startswith("Hidden ") for t in tags), tags
        text = page.select_one("#summary-text").get_text(strip=True)  # type: ignore[union-attr]
        assert "hidden to protect privacy" in text and name not in text
        row = page.select_one(f"#quarter-kpis tr#quarter-kpi-{kpi['code']}")
        assert row is not None and CONFIDENTIAL in row.get_text() and "Not compared" in row.get_text()
        # The quarter after: the figure is shown, but no change from the hidden one.
        response = client.get(f"{url}?quarter={shown_in}")
        assert response.status_code == 200
        after = BeautifulSoup(response.get_data(as_text=True), "html.parser")
        assert name not in after.select_one("#summary-text").get_text(strip=True)  # type: ignore[union-attr]
        row = after.select_one(f"#quarter-kpis tr#quarter-kpi-{kpi['code']}")
        assert row is not None and "Not compared" in row.get_text()
        # The overview counts the hidden rating for that quarter too.
        overview = BeautifulSoup(
            client.get(f"/performance?quarter={hidden_in}").get_data(as_text=True), "html.parser"
        )
        assert any(
            t.get_text(strip=True).startswith("Hidden ")
            for t in overview.select("#performance-summary .govuk-tag")
        )
