"""Board packs say what is true of the register (issue 11, item 5): a quarter
with no accepted return says so, and targets known from the framework print
even where the figures are not yet accepted."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from sqlalchemy import select

from monitor.db import db
from monitor.kpis.demo import FRAMEWORKS
from monitor.kpis.models import Kpi
from monitor.reports.audience import find_commissioner
from monitor.reports.service import BoardPack, make_board_pack, pack_warehouse
from tests.conftest import Warehouse
from tests.reports.xlsx import open_pack

PERIOD = "2013-14-Q4"
THRESHOLD = 4


@pytest.fixture(scope="module")
def packs(board_warehouse: Warehouse) -> dict[str, BoardPack]:
    session = db.session()
    made = {}
    for key, name in (
        ("lbbd", "London Borough of Barking and Dagenham"),
        ("halton", "Halton Borough Council"),
    ):
        made[key] = make_board_pack(
            session,
            pack_warehouse(),
            find_commissioner(session, name),
            PERIOD,
            threshold=THRESHOLD,
            produced_on=date(2014, 5, 6),
        )
    return made


def _lines(pack: BoardPack) -> list[str]:
    summary = open_pack(pack.content)["Summary"]
    return [c.value for row in summary.iter_rows(max_col=1) for c in row if isinstance(c.value, str)]


def _kpi_names() -> dict[str, str]:
    return {code: name for code, name in db.session.execute(select(Kpi.code, Kpi.name))}


def _rows(pack: BoardPack, reference: str) -> list[dict[str, Any]]:
    """Every table row about one service, with its table's name."""
    workbook = open_pack(pack.content)
    found = []
    for sheet in workbook.worksheets:
        for table_name in list(sheet.tables):
            cells = [[c.value for c in row] for row in sheet[sheet.tables[table_name].ref]]
            for row in cells[1:]:
                record = dict(zip(cells[0], row, strict=True))
                if record.get("Service") == reference:
                    found.append({"table": table_name, **record})
    return found


def test_a_quarter_without_an_accepted_return_says_so(packs: dict[str, BoardPack]) -> None:
    lines = _lines(packs["halton"])
    said = "No return has been accepted for this quarter (Q4 2013/14)"
    assert f"{said}, so no KPI has been rated." in lines
    assert f"{said}, so no KPI can be rated red or amber." in lines
    assert not any(line.startswith("0 KPIs") for line in lines)
    assert "No KPI was red or amber in Q4 2013/14." not in lines
    # Where returns were accepted, the pack still counts and rates them.
    lbbd = _lines(packs["lbbd"])
    assert any(line.endswith("KPIs reported across all services.") for line in lbbd)


def test_known_targets_print_before_the_return_is_accepted(packs: dict[str, BoardPack]) -> None:
    # The refuge's Q4 return was submitted but not accepted by 6 May 2014: its
    # figures are not available, but the framework's targets are known.
    rows = [r for r in _rows(packs["lbbd"], "LBBD-DV-002") if r["table"].endswith("KPIs")]
    assert rows
    # The KPIs it monitors without a target (unmet need, the statutory return's) have none to print.
    targeted = {name for code, name in _kpi_names().items() if FRAMEWORKS["LBBD-DV-002"][1].get(code)}
    assert {row["KPI"] for row in rows} >= targeted
    for row in rows:
        assert row["Q4 2013/14"] == "[x]", row
        if row["KPI"] in targeted:
            assert isinstance(row["Target in Q4 2013/14"], int | float), row
    caseload = next(r for r in rows if r["KPI"] == "Active caseload")
    assert caseload["Target in Q4 2013/14"] > 0


def test_known_targets_are_pro_rated_for_a_contract_that_ended_in_the_quarter(
    board_warehouse: Warehouse,
) -> None:
    """LBBD-DV-001 ended on 31 January 2014: its Q4 2013/14 referral target is
    60 x 31/90 = 21, as the warehouse and the performance pages have it."""
    from sqlalchemy import select

    from monitor.contracts.models import Contract
    from monitor.reports.pack_data import Period
    from monitor.reports.targets import known_targets

    session = db.session()
    dv001 = session.scalars(select(Contract.id).where(Contract.reference == "LBBD-DV-001")).one()
    quarters = [
        Period("2013-14-Q3", "Q3", "Q3 2013/14", "2013/14", date(2013, 10, 1), date(2013, 12, 31), 3),
        Period("2013-14-Q4", "Q4", "Q4 2013/14", "2013/14", date(2014, 1, 1), date(2014, 3, 31), 4),
    ]
    targets = known_targets(session, [dv001], quarters)
    assert targets[(dv001, "REF-RECEIVED", "2013-14-Q3")] == 60
    assert targets[(dv001, "REF-RECEIVED", "2013-14-Q4")] == 21
