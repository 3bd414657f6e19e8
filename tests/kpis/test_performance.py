"""Performance: reported figures against the framework in force, on the
contract page, the overview and through rate_version for the returns pages.

The refuge (LBBD-DV-002) framework from 2013-14-Q1: referrals 40 a quarter,
caseload 20, feeling safer 85%, abuse stopped 70%, repeat MARAC 5 (lower is
better). Today is 2 December 2013, in 2013-14-Q3.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal

import pandas as pd
import pytest
from bs4 import BeautifulSoup, Tag
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from etl.app import warehouse_url
from monitor.auth.models import User
from monitor.clock import today
from monitor.contracts.models import Contract
from monitor.db import db
from monitor.disclosure.suppression import display_column
from monitor.formatting import format_figure
from monitor.kpis.framework import services
from monitor.kpis.models import Kpi, Return, ReturnVersion
from monitor.kpis.performance.figures import ContractPerformance, performance_of, rate_version
from monitor.kpis.performance.rag import Rag, Travel
from monitor.kpis.performance.service import BOARD_FIGURES_MISSING
from monitor.kpis.periods import Quarter
from tests.api.conftest import token_for
from tests.conftest import DEMO_USERS, Auth, _drop_warehouse
from tests.kpis.test_framework_rules import item, run

REFUGE = "LBBD-DV-002"
AddReturn = Callable[..., int]


@pytest.fixture
def reported(frameworks: Flask, add_return: AddReturn) -> Flask:
    add_return(
        REFUGE,
        "2013-14-Q1",
        {"REF-RECEIVED": 42, "CASELOAD": 17, "FEEL-SAFER": 80, "MARAC-REPEAT": 7},
        state="accepted",
    )
    add_return(
        REFUGE,
        "2013-14-Q2",
        {"REF-RECEIVED": 38, "CASELOAD": 16, "FEEL-SAFER": "88.5", "MARAC-REPEAT": 4},
        state="submitted",
    )
    # Not counted: a draft, and a return sent back with questions.
    add_return(REFUGE, "2013-14-Q3", {"REF-RECEIVED": 99}, state="draft", submitted=False)
    add_return(REFUGE, "2012-13-Q4", {"REF-RECEIVED": 1}, state="queried")
    return frameworks


def performance(reference: str = REFUGE) -> ContractPerformance:
    contract = db.session.execute(select(Contract).where(Contract.reference == reference)).scalar_one()
    return performance_of(db.session(), [contract], today())[0]


def _kpi(code: str) -> int:
    return db.session.execute(select(Kpi.id).where(Kpi.code == code)).scalar_one()


def cell(perf: ContractPerformance, code: str, period: str) -> object:
    row = next(r for r in perf.rows if r.kpi.code == code)
    return next(c for c in row.cells if str(c.quarter) == period)


def test_quarters_run_from_the_start_up_to_today(reported: Flask) -> None:
    perf = performance()
    assert str(perf.quarters[0]) == "2011-12-Q1" and str(perf.quarters[-1]) == "2013-14-Q3"
    assert [str(q) for q in perf.window(4).quarters] == [
        "2012-13-Q4",
        "2013-14-Q1",
        "2013-14-Q2",
        "2013-14-Q3",
    ]


def test_figures_are_judged_against_their_targets(reported: Flask) -> None:
    perf = performance()
    q1 = {
        code: cell(perf, code, "2013-14-Q1")
        for code in ("REF-RECEIVED", "CASELOAD", "FEEL-SAFER", "MARAC-REPEAT")
    }
    assert {code: (c.actual, c.target, c.rag) for code, c in q1.items()} == {  # type: ignore[attr-defined]
        "REF-RECEIVED": (Decimal(42), Decimal(40), Rag.GREEN),
        "CASELOAD": (Decimal(17), Decimal(20), Rag.RED),
        "FEEL-SAFER": (Decimal(80), Decimal(85), Rag.AMBER),
        "MARAC-REPEAT": (Decimal(7), Decimal(5), Rag.RED),  # lower is better
    }
    assert not any(c.provisional for c in q1.values())  # type: ignore[attr-defined]
    q2 = cell(perf, "MARAC-REPEAT", "2013-14-Q2")
    assert (q2.rag, q2.travel, q2.provisional) == (Rag.GREEN, Travel.IMPROVING, True)  # type: ignore[attr-defined]
    assert cell(perf, "REF-RECEIVED", "2013-14-Q2").travel == Travel.WORSENING  # type: ignore[attr-defined]


def test_only_submitted_versions_of_reported_returns_count(reported: Flask, add_return: AddReturn) -> None:
    perf = performance()
    assert cell(perf, "REF-RECEIVED", "2013-14-Q3").actual is None  # type: ignore[attr-defined]
    assert cell(perf, "REF-RECEIVED", "2012-13-Q4").actual is None  # type: ignore[attr-defined]
    # A later draft version does not replace the submitted figures...
    add_return(REFUGE, "2013-14-Q1", {"REF-RECEIVED": 10}, state="accepted", submitted=False)
    assert cell(performance(), "REF-RECEIVED", "2013-14-Q1").actual == Decimal(42)  # type: ignore[attr-defined]
    # ...but a later submitted version does.
    add_return(REFUGE, "2013-14-Q1", {"REF-RECEIVED": 41}, state="resubmitted")
    latest = cell(performance(), "REF-RECEIVED", "2013-14-Q1")
    assert (latest.actual, latest.provisional) == (Decimal(41), True)  # type: ignore[attr-defined]


def test_a_new_target_does_not_rejudge_past_quarters(reported: Flask) -> None:
    refuge = db.session.execute(select(Contract).where(Contract.reference == REFUGE)).scalar_one()
    commissioner = db.session.execute(select(User).where(User.email == DEMO_USERS["lbbd"])).scalar_one()
    old = item(REFUGE, "REF-RECEIVED", "2013-14-Q1")
    run(lambda s: services.change_target(s, commissioner, refuge, old, Decimal(45), "2013-14-Q2"))
    perf = performance()
    q1, q2 = cell(perf, "REF-RECEIVED", "2013-14-Q1"), cell(perf, "REF-RECEIVED", "2013-14-Q2")
    assert (q1.target, q1.rag) == (Decimal(40), Rag.GREEN)  # type: ignore[attr-defined]
    assert (q2.target, q2.rag) == (Decimal(45), Rag.RED)  # type: ignore[attr-defined]


def test_a_yearly_target_is_shared_over_the_quarters(reported: Flask, add_return: AddReturn) -> None:
    refuge = db.session.execute(select(Contract).where(Contract.reference == REFUGE)).scalar_one()
    commissioner = db.session.execute(select(User).where(User.email == DEMO_USERS["lbbd"])).scalar_one()
    fields = services.ItemFields(
        kpi_id=_kpi("CASES-CLOSED"),
        terms=services.ItemTerms(target=Decimal(60), target_basis="year"),
        effective_from="2013-14-Q1",
    )
    run(lambda s: services.add_item(s, commissioner, refuge, fields))
    add_return(REFUGE, "2013-14-Q1", {"REF-RECEIVED": 42, "CASES-CLOSED": 14})
    q1 = cell(performance(), "CASES-CLOSED", "2013-14-Q1")
    assert (q1.target, q1.rag) == (Decimal(15), Rag.AMBER)  # type: ignore[attr-defined]


def test_the_summary_is_the_latest_rated_quarter(reported: Flask) -> None:
    summary = performance().summary()
    assert summary.quarter == Quarter(2013, 2)
    assert (summary.green, summary.amber, summary.red) == (2, 1, 1)
    # The caseload was red two quarters running.
    assert summary.rating == "Inadequate" and summary.provisional


def test_rate_version_for_the_returns_pages(reported: Flask) -> None:
    q2 = db.session.scalars(select(ReturnVersion).join(Return).where(Return.period == "2013-14-Q2")).one()
    cells = {c.kpi.code: c for c in rate_version(db.session(), q2)}
    assert set(cells) == {"REF-RECEIVED", "CASELOAD", "FEEL-SAFER", "ABUSE-STOPPED", "MARAC-REPEAT"}
    assert (cells["FEEL-SAFER"].actual, cells["FEEL-SAFER"].rag) == (Decimal("88.5"), Rag.GREEN)
    assert cells["FEEL-SAFER"].travel == Travel.IMPROVING  # on the accepted Q1 figure
    assert (cells["ABUSE-STOPPED"].actual, cells["ABUSE-STOPPED"].rag) == (None, Rag.NONE)


@pytest.mark.parametrize(
    ("value", "unit", "text"),
    [
        (Decimal("32.00"), "count", "32"),
        (Decimal("1250"), "count", "1,250"),
        (Decimal("87.50"), "percentage", "87.5%"),
        (Decimal("90.00"), "percentage", "90.0%"),
        (Decimal("68.18"), "percentage", "68.2%"),
        (Decimal("68.25"), "percentage", "68.3%"),
        (Decimal("1250.5"), "currency", "£1,251"),
        (Decimal("120"), "currency", "£120"),
        (Decimal("4.5"), "days", "4.5 days"),
        (Decimal("1"), "days", "1.0 days"),
        (Decimal("12"), "score", "12.0"),
        (None, "count", ""),
    ],
)
def test_figures_are_written_plainly(value: Decimal | None, unit: str, text: str) -> None:
    assert format_figure(value, unit) == text
    # The warehouse writes the same figure the same way for the dashboards.
    if value is not None:
        shown = display_column(pd.Series([float(value)]), unit, pd.Series([False]))
        assert shown.tolist() == [text]


def soup_of(client: FlaskClient, url: str) -> BeautifulSoup:
    response = client.get(url)
    assert response.status_code == 200, url
    return BeautifulSoup(response.get_data(as_text=True), "html.parser")


def test_the_contract_page_shows_actual_target_rag_and_travel(
    reported: Flask, client: FlaskClient, auth: Auth, contract_id: Callable[[str], int]
) -> None:
    auth.sign_in(DEMO_USERS["lbbd"])
    soup = soup_of(client, f"/contracts/{contract_id(REFUGE)}/performance")
    table = soup.select_one("table#performance")
    assert table is not None and table.caption is not None
    headers = [th.get_text(" ", strip=True) for th in table.select("thead th")]
    assert headers[0] == "KPI" and headers[2].startswith("Q1 2013/14 Apr to Jun 2013")
    assert all(th["scope"] == "col" for th in table.select("thead th"))
    assert all(th["scope"] == "row" for th in table.select("tbody th"))
    referrals = table.select_one("tr#kpi-REF-RECEIVED td[data-quarter='2013-14-Q2']")
    assert referrals is not None
    text = referrals.get_text(" ", strip=True)
    for part in ("38", "Provisional", "Target 40", "Amber: near target", "Worse than the quarter before"):
        assert part in text, (part, text)
    tag = referrals.select_one(".govuk-tag--yellow")
    assert tag is not None and tag.get_text(strip=True) == "Amber: near target"
    feel_safer = table.select_one("tr#kpi-FEEL-SAFER td[data-quarter='2013-14-Q2']")
    assert feel_safer is not None and "88.5%" in feel_safer.get_text()
    # The summary is of the latest quarter with accepted figures (see the quarter selector's test).
    summary = soup.select_one("#summary")
    assert summary is not None and "Requires improvement" in summary.get_text()
    assert "Show all 11 quarters" in soup.get_text()
    everything = soup_of(client, f"/contracts/{contract_id(REFUGE)}/performance?quarters=all")
    assert len(everything.select("table#performance thead th")) == 12


def test_boards_see_no_figures_until_the_warehouse_has_them(
    reported: Flask, client: FlaskClient, auth: Auth, contract_id: Callable[[str], int]
) -> None:
    """Board figures come only from the warehouse's disclosure-controlled rows
    (tests/kpis/test_board_performance.py); before it is loaded there are none."""
    _drop_warehouse(warehouse_url(reported))
    url = f"/contracts/{contract_id(REFUGE)}/performance"
    selector = "tr#kpi-MARAC-REPEAT td[data-quarter='2013-14-Q2'] .govuk-\\!-font-weight-bold"
    auth.sign_in(DEMO_USERS["lbbd"])
    shown = soup_of(client, url).select_one(selector)
    assert shown is not None and shown.get_text(strip=True) == "4"
    auth.sign_out()
    auth.sign_in(DEMO_USERS["bd_board"])
    board = soup_of(client, url)
    assert board.select_one(selector) is None
    cell = board.select_one("tr#kpi-MARAC-REPEAT td[data-quarter='2013-14-Q2']")
    assert cell is not None and "Return not yet accepted" in cell.get_text()
    assert BOARD_FIGURES_MISSING in board.get_text(" ", strip=True)
    assert BOARD_FIGURES_MISSING in soup_of(client, "/performance").get_text(" ", strip=True)
    # Q2's return is submitted, not accepted: not a quarter a board may choose.
    response = client.get(f"{url}?quarter=2013-14-Q2")
    assert response.status_code == 400
    chosen = BeautifulSoup(response.get_data(as_text=True), "html.parser")
    assert "There are no figures you can see for Q2 2013/14" in chosen.get_text()
    assert _options(chosen) == [("2013-14-Q1", "Q1 2013/14", True)]
    token = token_for(DEMO_USERS["bd_board"])
    response = client.get(
        f"/api/v1/contracts/{contract_id(REFUGE)}/performance", headers={"Authorization": f"Bearer {token}"}
    )
    assert response.status_code == 200
    body = response.get_json()
    assert body["board_figures"] == {"available": False, "message": BOARD_FIGURES_MISSING}
    cells = [c for k in body["kpis"] for c in k["quarters"]]
    assert cells and all(c["actual"] in (None, "[x]") for c in cells)


def test_no_returns_yet(
    frameworks: Flask, client: FlaskClient, auth: Auth, contract_id: Callable[[str], int]
) -> None:
    auth.sign_in(DEMO_USERS["lbbd"])
    soup = soup_of(client, f"/contracts/{contract_id(REFUGE)}/performance")
    message = soup.select_one("#no-returns")
    assert message is not None and "No accepted returns yet" in message.get_text()
    overview = soup_of(client, "/performance")
    assert "No accepted returns yet for any of these contracts" in overview.get_text()


def test_the_overview_lists_each_visible_contract(reported: Flask, client: FlaskClient, auth: Auth) -> None:
    auth.sign_in(DEMO_USERS["lbbd"])
    soup = soup_of(client, "/performance")
    table = soup.select_one("table#performance-summary")
    assert table is not None and table.caption is not None
    refuge = soup.select_one(f"tr#contract-{REFUGE}")
    assert refuge is not None
    # The latest quarter with accepted figures; the provisional one is a choice away.
    heading = soup.select_one("#chosen-quarter")
    assert heading is not None and heading.get_text(strip=True) == "Q1 2013/14 (April to June 2013)"
    cells = [td.get_text(" ", strip=True) for td in refuge.select("td")]
    assert cells[1:] == [
        "Red 2 Amber 1 Green 1 Not rated 1",
        "Requires improvement",
        "2 of 5 KPIs red, 1 amber and 1 green; 1 not rated. "
        "There are no figures from Q4 2012/13 to compare with.",
    ]
    # Contracts needing attention come first; contracts without returns say so.
    rows = table.select("tbody tr")
    assert rows[0]["id"] == f"contract-{REFUGE}"
    assert "No accepted returns yet" in rows[-1].get_text()
    assert "HBC-CYP-DA-01" not in soup.get_text()


def test_boards_see_their_partnerships_contracts(reported: Flask, client: FlaskClient, auth: Auth) -> None:
    auth.sign_in(DEMO_USERS["bd_board"])
    soup = soup_of(client, "/performance")
    assert soup.select_one(f"tr#contract-{REFUGE}") is not None
    assert "HBC-CYP-DA-01" not in soup.get_text() and "TRI-VAWG-01" not in soup.get_text()
    auth.sign_out()
    auth.sign_in(DEMO_USERS["halton_board"])
    soup = soup_of(client, "/performance")
    assert soup.select_one(f"tr#contract-{REFUGE}") is None and "HBC-CYP-DA-01" in soup.get_text()


def _options(soup: BeautifulSoup) -> list[tuple[str, str, bool]]:
    return [
        (o["value"], o.get_text(strip=True), o.has_attr("selected"))
        for o in soup.select("select#quarter option")
    ]


def _assert_stacked(table: Tag) -> None:
    """Each body cell names its column, so a row can show as a card at 375px."""
    assert "app-table--stacked" in table["class"]
    headers = [th.get_text(" ", strip=True) for th in table.select("thead th")]
    rows = table.select("tbody tr")
    assert rows
    for row in rows:
        column = 0
        for cell in row.find_all(["th", "td"], recursive=False):
            label = cell.get("data-label")
            assert label, (row.get("id"), column)
            if cell.get("colspan") is None:
                header = headers[column]
                assert header == label or header.startswith(f"{label} "), (label, header)
            column += int(cell.get("colspan", 1))


def test_the_quarter_selector_chooses_the_quarter_the_pages_show(
    reported: Flask, client: FlaskClient, auth: Auth, contract_id: Callable[[str], int]
) -> None:
    auth.sign_in(DEMO_USERS["lbbd"])
    url = f"/contracts/{contract_id(REFUGE)}/performance"
    # Quarters with figures, newest first; the latest with accepted figures is shown.
    expected = [("2013-14-Q2", "Q2 2013/14 (provisional)", False), ("2013-14-Q1", "Q1 2013/14", True)]
    assert _options(soup_of(client, url)) == expected
    assert _options(soup_of(client, "/performance")) == expected
    soup = soup_of(client, f"{url}?quarter=2013-14-Q2&quarters=all")
    heading = soup.select_one("#chosen-quarter")
    assert heading is not None and heading.get_text(strip=True) == "Q2 2013/14 (July to September 2013)"
    summary = soup.select_one("#summary-text")
    assert summary is not None and summary.get_text(strip=True) == (
        "1 of 5 KPIs red, 1 amber and 2 green; 1 not rated. Since Q1 2013/14, feeling safer at closure "
        "went up 8.5 percentage points, repeat MARAC referrals went down 3, active caseload went down 1 "
        "and referrals received went down 4."
    )
    assert "Inadequate (provisional" in soup.select_one("#summary").get_text(" ", strip=True)  # type: ignore[union-attr]
    safer = soup.select_one("#quarter-kpis tr#quarter-kpi-FEEL-SAFER")
    assert safer is not None
    assert [td.get_text(" ", strip=True) for td in safer.select("td")] == [
        "88.5% Provisional",
        "Target 85.0%",
        "Green: on target",
        "Up 8.5 percentage points Improving on the quarter before",
    ]
    overview = soup_of(client, "/performance?quarter=2013-14-Q2")
    refuge = overview.select_one(f"tr#contract-{REFUGE}")
    assert refuge is not None
    tags = refuge.select("td .govuk-tag")
    assert [(t.get_text(strip=True), t["class"][1]) for t in tags] == [
        ("Red 1", "govuk-tag--red"),
        ("Amber 1", "govuk-tag--yellow"),
        ("Green 2", "govuk-tag--green"),
        ("Not rated 1", "govuk-tag--grey"),
        ("Provisional", "govuk-tag--blue"),
    ]
    assert summary.get_text(strip=True) in refuge.get_text(" ", strip=True)
    link = refuge.select_one("th a")
    assert link is not None and link["href"] == f"{url}?quarter=2013-14-Q2"
    # At 375px each table's rows become cards, each cell named by its column.
    for table in (soup.select_one("table#quarter-kpis"), soup.select_one("table#performance")):
        assert table is not None
        _assert_stacked(table)
    headers = [th.get_text(strip=True) for th in soup.select("table#quarter-kpis thead th")]
    assert headers == ["KPI", "Figure", "Target", "Rating", "Since Q1 2013/14"]
    table = overview.select_one("table#performance-summary")
    assert table is not None
    _assert_stacked(table)
    # A quarter with no figures, or not a quarter: a message and the default, never a 500.
    for asked, message in (
        ("2030-31-Q1", "There are no figures you can see for Q1 2030/31: choose a quarter from the list."),
        ("Q1 2013/14'><script>", "Choose a quarter from the list."),
    ):
        for page in (url, "/performance"):
            response = client.get(page, query_string={"quarter": asked})
            assert response.status_code == 400, (page, asked)
            soup = BeautifulSoup(response.get_data(as_text=True), "html.parser")
            assert soup.title is not None and soup.title.get_text().startswith("Error: ")
            errors = soup.select_one(".govuk-error-summary")
            assert errors is not None and message in errors.get_text(" ", strip=True)
            error_link = errors.select_one("a")
            assert error_link is not None and error_link["href"] == "#quarter"
            assert "<script>" not in response.get_data(as_text=True)
            heading = soup.select_one("#chosen-quarter")
            assert heading is not None and heading.get_text(strip=True).startswith("Q1 2013/14")
