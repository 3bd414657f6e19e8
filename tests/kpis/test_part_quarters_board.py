"""Part quarters on the board's pages and in the warehouse (issue 11, item 4):
DV-001 expired on 31 January 2014, so its January to March 2014 count
targets are pro-rated to 31 of 90 days. Its own module: the demo warehouse
is built once for the module, on the same database the function-scoped
fixtures of tests/kpis/test_part_quarters.py would empty."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from bs4 import BeautifulSoup
from sqlalchemy import select

from monitor.contracts.models import Contract
from monitor.db import db
from monitor.kpis.periods import Quarter
from tests.conftest import DEMO_USERS, Auth, Warehouse
from tests.kpis.fixtures.warehouse import build_demo_warehouse

DV001 = "LBBD-DV-001"
Q3 = Quarter(2013, 3)
Q4 = Quarter(2013, 4)


@pytest.fixture(scope="module")
def demo_warehouse(database_url: str) -> Iterator[Warehouse]:
    """The demo with its 2013/14 returns as at 6 May 2014 and a full ETL run."""
    yield from build_demo_warehouse(database_url)


def test_the_warehouse_and_the_board_judge_dv001s_last_quarter_on_its_days(demo_warehouse: Warehouse) -> None:
    # The demo framework asks DV-001 for 60 referrals a quarter: 21 for 31 days.
    rows = demo_warehouse.rows(
        "SELECT viewer, period_key, target, actual, rag FROM mart_board_performance "
        "WHERE contract_reference = 'LBBD-DV-001' AND kpi_code = 'REF-RECEIVED' AND breakdown = '' "
        "AND scope = 'service'"
    )
    by_period = {(r["viewer"], r["period_key"]): r for r in rows}
    assert {r["target"] for r in rows if r["period_key"] == str(Q4)} == {21.0}
    assert {r["target"] for r in rows if r["period_key"] == str(Q3)} == {60.0}
    client = demo_warehouse.app.test_client()
    Auth(client).sign_in(DEMO_USERS["bd_board"])
    contract_id = db.session.execute(select(Contract.id).where(Contract.reference == DV001)).scalar_one()
    page = client.get(f"/contracts/{contract_id}/performance")
    db.session.remove()
    assert page.status_code == 200
    cell = BeautifulSoup(page.data, "html.parser").select_one(f"#kpi-REF-RECEIVED td[data-quarter='{Q4}']")
    assert cell is not None
    text = cell.get_text(" ", strip=True)
    assert "Target 21 (pro-rated: 31 of 90 days)" in text
    board_rows = [
        r
        for (viewer, period), r in by_period.items()
        if viewer.startswith("partnership:") and period == str(Q4)
    ]
    assert board_rows and all(r["rag"] in text.lower() for r in board_rows if r["actual"] is not None)
