"""Board packs say what is true of the register (issue 11, item 5): a quarter
with no accepted return says so, and targets known from the framework print
even where the figures are not yet accepted."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from monitor.db import db
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
    for row in rows:
        assert row["Q4 2013/14"] == "[x]", row
        assert isinstance(row["Target in Q4 2013/14"], int | float), row
    caseload = next(r for r in rows if r["KPI"] == "Active caseload")
    assert caseload["Target in Q4 2013/14"] > 0
