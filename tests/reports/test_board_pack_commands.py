"""`flask reports board-pack` and the download page: exit codes, messages,
files, and who may have which pack."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from bs4 import BeautifulSoup
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from monitor.auth.models import Organisation, Partnership
from monitor.db import db
from tests.conftest import DEMO_USERS, WAREHOUSE_AS_AT, Auth, Warehouse, make_app
from tests.reports.conftest import dispose_pack_engine
from tests.reports.xlsx import open_pack, tables

LBBD = "London Borough of Barking and Dagenham"
BD_BOARD = "Barking and Dagenham Health and Wellbeing Board"
HALTON = "Halton Borough Council"
HALTON_FORUM = "Halton Domestic Abuse Forum"
WESTMINSTER = "Westminster City Council"


def _run(app: Flask, *args: str) -> tuple[int, str]:
    # Commands run in the current app context if there is one, so make it this app's.
    with app.app_context():
        result = app.test_cli_runner().invoke(args=["reports", "board-pack", *args])
    return result.exit_code, result.output


def test_the_command_writes_a_commissioners_pack(board_warehouse: Warehouse, tmp_path: Path) -> None:
    target = tmp_path / "pack.xlsx"
    code, output = _run(
        board_warehouse.app, "--commissioner", LBBD, "--period", "2013-14-Q4", "-o", str(target)
    )
    assert code == 0, output
    assert f"board pack: {LBBD}, Q4 2013/14 (January to March 2014)" in output
    assert str(target) in output
    workbook = open_pack(target.read_bytes())
    assert workbook["Summary"]["A1"].value == f"Board pack: {LBBD}"
    assert "Exceptions" in tables(workbook)


def test_the_command_takes_ids_and_partnerships(
    board_warehouse: Warehouse, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    board = db.session.scalars(select(Partnership).where(Partnership.name == BD_BOARD)).one()
    monkeypatch.chdir(tmp_path)
    code, output = _run(board_warehouse.app, "--partnership", str(board.id), "--period", "2013-14-Q3")
    assert code == 0, output
    # Without -o the file is named after the board and quarter, in the current folder.
    written = tmp_path / "board-pack-barking-and-dagenham-health-and-wellbeing-board-2013-14-Q3.xlsx"
    assert open_pack(written.read_bytes())["Summary"]["A2"].value == "Q3 2013/14 (October to December 2013)"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["--commissioner", "Nowhere Council"],
            'No commissioning organisation is called "Nowhere Council" or has that id',
        ),
        # A provider is not a commissioner.
        (["--commissioner", "Refuge"], 'No commissioning organisation is called "Refuge"'),
        (["--partnership", "999"], 'No partnership is called "999" or has that id'),
        (
            ["--partnership", "Halton"],
            '"Halton" matches more than one partnership (Halton Domestic Abuse Forum; '
            "Halton Health and Wellbeing Board). Give the full name or id",
        ),
    ],
)
def test_the_command_names_an_unknown_audience(
    board_warehouse: Warehouse, tmp_path: Path, args: list[str], message: str
) -> None:
    target = tmp_path / "pack.xlsx"
    code, output = _run(board_warehouse.app, *args, "--period", "2013-14-Q4", "-o", str(target))
    assert code == 1
    assert f"Error: {message}" in output
    assert not target.exists()


@pytest.mark.parametrize(
    ("period", "message"),
    [
        (
            "2013-Q4",
            '"2013-Q4" is not a quarter. Write the quarter as the financial year and quarter, like 2013-14-Q4',
        ),
        ("2013-15-Q4", '"2013-15-Q4" is not a quarter.'),
        (
            "2019-20-Q1",
            "The warehouse has no figures for Q1 2019/20 (April to June 2019). Choose a quarter from",
        ),
    ],
)
def test_the_command_explains_a_bad_period(
    board_warehouse: Warehouse, tmp_path: Path, period: str, message: str
) -> None:
    target = tmp_path / "pack.xlsx"
    code, output = _run(board_warehouse.app, "--commissioner", LBBD, "--period", period, "-o", str(target))
    assert code == 1
    assert message in output
    assert not target.exists()


def test_the_command_needs_exactly_one_audience(board_warehouse: Warehouse) -> None:
    for args in ([], ["--commissioner", LBBD, "--partnership", BD_BOARD]):
        code, output = _run(board_warehouse.app, *args, "--period", "2013-14-Q4")
        assert code == 2
        assert "Give either --commissioner or --partnership (one of them, not both)" in output
    code, output = _run(board_warehouse.app, "--commissioner", LBBD)
    assert code == 2 and "Missing option '--period'" in output


def _second_app(board_warehouse: Warehouse, **overrides: object) -> Flask:
    """Another app on the same database and warehouse. Requests to it get an
    app context (and so a `g`, where Flask-Login keeps the signed-in user) of
    their own, as in production, instead of sharing the fixture's."""
    return make_app(board_warehouse.app.config["DATABASE_URL"], TODAY=WAREHOUSE_AS_AT, **overrides)


@pytest.fixture
def no_warehouse(board_warehouse: Warehouse, tmp_path: Path) -> Iterator[Flask]:
    """An app pointed at a warehouse that was never built."""
    app = _second_app(board_warehouse, WAREHOUSE_URL=f"sqlite:///{tmp_path / 'never-built.sqlite3'}")
    yield app
    dispose_pack_engine(app)


def test_before_the_warehouse_is_built_the_command_says_what_to_run(
    no_warehouse: Flask, tmp_path: Path
) -> None:
    code, output = _run(
        no_warehouse, "--commissioner", LBBD, "--period", "2013-14-Q4", "-o", str(tmp_path / "p.xlsx")
    )
    assert code == 1
    assert "The warehouse has not been loaded yet, or cannot be reached. Run `flask etl run --full`" in output
    assert not (tmp_path / "never-built.sqlite3").exists(), "asking must not leave an empty warehouse behind"


# --- the web page and download ---------------------------------------------------------

# Whose packs each demo user may download: their own organisation's or board's; admins any.
OWN = {"lbbd": LBBD, "ccg": "NHS Barking and Dagenham CCG", "halton": HALTON, "westminster": WESTMINSTER}
BOARDS = {"bd_board": BD_BOARD, "halton_board": HALTON_FORUM}
PROVIDERS = {"refuge", "refuge_admin", "halton_provider"}


@pytest.fixture
def web(board_warehouse: Warehouse) -> Iterator[FlaskClient]:
    app = _second_app(board_warehouse)
    yield app.test_client()
    dispose_pack_engine(app)


def _viewer(name: str) -> str:
    organisation = db.session.scalars(select(Organisation).where(Organisation.name == name)).first()
    if organisation is not None:
        return f"organisation:{organisation.id}"
    return f"partnership:{db.session.scalars(select(Partnership).where(Partnership.name == name)).one().id}"


def _download(client: FlaskClient, viewer: str | None = None, period: str = "2013-14-Q4") -> object:
    query = {"period": period} | ({"viewer": viewer} if viewer else {})
    return client.get("/reports/board-pack.xlsx", query_string=query)


@pytest.mark.parametrize("role", sorted(DEMO_USERS))
def test_who_may_download_which_pack(board_warehouse: Warehouse, web: FlaskClient, role: str) -> None:
    auth = Auth(web)
    assert auth.sign_in(DEMO_USERS[role]).status_code == 302
    everyone = [LBBD, HALTON, WESTMINSTER, BD_BOARD, HALTON_FORUM]
    for name in everyone:
        response = _download(web, _viewer(name))
        if role in PROVIDERS:
            expected = 403  # providers never get a pack: it covers other providers' services
        elif role == "admin" or OWN.get(role) == name or BOARDS.get(role) == name:
            expected = 200
        else:
            expected = 404  # another organisation's pack is not found, not forbidden
        assert response.status_code == expected, (role, name, response.status_code)
        if expected == 200:
            assert response.mimetype == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
            assert open_pack(response.data)["Summary"]["A1"].value == f"Board pack: {name}"
        else:
            assert b"Board pack:" not in response.data
    own = OWN.get(role) or BOARDS.get(role)
    response = _download(web)
    if own:
        # Without a choice, a commissioner or board user gets their own pack.
        assert response.status_code == 200
        assert open_pack(response.data)["Summary"]["A1"].value == f"Board pack: {own}"
        assert "attachment" in response.headers["Content-Disposition"]
    else:
        assert response.status_code == (403 if role in PROVIDERS else 400)


def test_unknown_or_malformed_audiences_are_not_found(board_warehouse: Warehouse, web: FlaskClient) -> None:
    Auth(web).sign_in(DEMO_USERS["admin"])
    for viewer in ["organisation:999999", "partnership:999999", "organisation:abc", "contract:1", "nonsense"]:
        assert _download(web, viewer).status_code == 404, viewer
    # A provider organisation has no pack, even for an administrator.
    refuge = db.session.scalars(select(Organisation).where(Organisation.name == "Refuge")).one()
    assert _download(web, f"organisation:{refuge.id}").status_code == 404


def _errors(response: object) -> list[str]:
    page = BeautifulSoup(response.get_data(as_text=True), "html.parser")  # type: ignore[attr-defined]
    summary = page.select(".govuk-error-summary__list a")
    return [a.get_text(" ", strip=True) for a in summary]


def test_mistakes_are_explained_on_the_page(board_warehouse: Warehouse, web: FlaskClient) -> None:
    Auth(web).sign_in(DEMO_USERS["lbbd"])
    response = _download(web, period="")
    assert response.status_code == 400
    assert _errors(response) == ["Choose the quarter the pack covers"]
    response = _download(web, period="2030-31-Q1")
    assert response.status_code == 400
    (error,) = _errors(response)
    assert error.startswith("The warehouse has no figures for Q1 2030/31 (April to June 2030)")
    Auth(web).sign_out()
    Auth(web).sign_in(DEMO_USERS["admin"])
    response = _download(web)
    assert response.status_code == 400
    assert _errors(response) == ["Choose the organisation or board the pack is for"]


def test_the_page_offers_the_quarters_and_admins_whom(board_warehouse: Warehouse, web: FlaskClient) -> None:
    Auth(web).sign_in(DEMO_USERS["admin"])
    page = BeautifulSoup(web.get("/reports/board-pack").get_data(as_text=True), "html.parser")
    quarters = [o["value"] for o in page.select("select#period option")]
    assert quarters == ["2013-14-Q4", "2013-14-Q3", "2013-14-Q2", "2013-14-Q1"]
    audiences = [o.get_text() for o in page.select("select#viewer option")]
    assert f"{LBBD} (commissioner)" in audiences and f"{BD_BOARD} (board)" in audiences
    assert page.select_one("form#board-pack-form")["action"] == "/reports/board-pack.xlsx"
    assert "Refuge (commissioner)" not in audiences


@pytest.mark.parametrize("role", sorted(DEMO_USERS))
def test_the_performance_page_offers_the_pack(
    board_warehouse: Warehouse, web: FlaskClient, role: str
) -> None:
    Auth(web).sign_in(DEMO_USERS[role])
    page = BeautifulSoup(web.get("/performance").get_data(as_text=True), "html.parser")
    button = page.select_one("#board-pack a.govuk-button")
    if role in PROVIDERS:
        assert button is None
        assert web.get("/reports/board-pack").status_code == 403
        return
    assert button is not None
    if role == "admin":
        assert (button["href"], button.get_text(strip=True)) == ("/reports/board-pack", "Make a board pack")
        return
    assert button.get_text(strip=True) == "Download the board pack for Q4 2013/14 (Excel)"
    response = web.get(button["href"])
    assert response.status_code == 200
    assert open_pack(response.data)["Summary"]["A1"].value == f"Board pack: {OWN.get(role) or BOARDS[role]}"


def test_before_the_warehouse_is_built_the_page_says_so(no_warehouse: Flask) -> None:
    client = no_warehouse.test_client()
    Auth(client).sign_in(DEMO_USERS["lbbd"])
    page = BeautifulSoup(client.get("/performance").get_data(as_text=True), "html.parser")
    assert page.select_one("#board-pack") is None
    response = client.get("/reports/board-pack")
    assert response.status_code == 200
    assert "The warehouse has not been loaded yet" in response.get_data(as_text=True)
    response = _download(client)
    assert response.status_code == 503
    assert _errors(response)[0].startswith("The warehouse has not been loaded yet")
