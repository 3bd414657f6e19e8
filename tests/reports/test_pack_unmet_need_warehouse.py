"""Unmet need by cohort from the warehouse the ETL built over the demo: a
board's pack shows its mart rows figure for figure, a commissioner's pack
shows its own figures where the board's rule lets them show, and neither
holds a small count. On SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from sqlalchemy import select

from etl.transform.labels import NOT_SHOWN
from etl.transform.unmet_need import MEASURES, NOT_TAKEN
from monitor.auth.models import Organisation, Partnership
from monitor.db import db
from monitor.disclosure.suppression import CONFIDENTIAL, NOT_AVAILABLE
from monitor.reports.audience import Audience, find_commissioner, find_partnership
from monitor.reports.pack_data import build_pack_data, read_cohorts, read_marts
from monitor.reports.service import make_board_pack, pack_warehouse
from monitor.reports.writer import write_board_pack
from tests.conftest import Warehouse
from tests.reports.xlsx import assert_no_small_counts, open_pack, tables

LBBD = "London Borough of Barking and Dagenham"
BD_BOARD = "Barking and Dagenham Health and Wellbeing Board"
PERIOD = "2013-14-Q4"
THRESHOLD = 4
UNMET_TABLES = ("UnmetNeedReasons", "UnmetNeedSupport")
NOT_FIGURES = {"Cohort", "Services reporting"}


def unmet_need_pack(audience: Audience, period: str = PERIOD) -> bytes:
    """The pack as the app makes it, with the contracts' cohorts from the register."""
    marts = read_marts(pack_warehouse(), audience.viewer)
    contract_ids = {int(c) for c in marts["mart_renewals"]["contract_id"]}
    cohorts = read_cohorts(db.session(), contract_ids)
    data = build_pack_data(marts, audience, period, THRESHOLD, cohorts=cohorts)
    return write_board_pack(data, date(2014, 5, 6))


def sheet_figures(content: bytes) -> dict[tuple[str, str], Any]:
    """(cohort label, column) -> the figure or marker the sheet shows; the
    total of referrals not taken is "Referrals not taken", each reason its
    own column, the rest by measure."""
    found = tables(open_pack(content))
    figures = {}
    for name in UNMET_TABLES:
        for record in found[name].records() if name in found else []:
            for header, value in record.items():
                if header not in NOT_FIGURES and value is not None:
                    figures[(record["Cohort"], header)] = value
    return figures


def mart_figures(warehouse: Warehouse, viewer: str, period: str = PERIOD) -> dict[tuple[str, str], Any]:
    """The same cells from mart_unmet_need: the value, or its marker."""
    rows = warehouse.rows(
        "SELECT cohort_label, measure, part, part_label, value, value_display FROM mart_unmet_need "
        "WHERE viewer = :viewer AND period_key = :period",
        viewer=viewer,
        period=period,
    )
    figures = {}
    for row in rows:
        column = (
            row["part_label"] if row["measure"] == NOT_TAKEN and row["part"] else MEASURES[row["measure"]][1]
        )
        value = row["value_display"] if row["value"] is None else round(float(row["value"]), 1)
        figures[(row["cohort_label"], column)] = value
    return figures


def _viewer(name: str) -> str:
    organisation = db.session.scalars(select(Organisation).where(Organisation.name == name)).first()
    if organisation is not None:
        return f"organisation:{organisation.id}"
    partnership = db.session.scalars(select(Partnership).where(Partnership.name == name)).one()
    return f"partnership:{partnership.id}"


@pytest.fixture(scope="module")
def packs(board_warehouse: Warehouse) -> dict[str, bytes]:
    session = db.session()
    return {
        "board": unmet_need_pack(find_partnership(session, BD_BOARD)),
        "lbbd": unmet_need_pack(find_commissioner(session, LBBD)),
    }


def test_a_boards_pack_shows_its_mart_rows(board_warehouse: Warehouse, packs: dict[str, bytes]) -> None:
    expected = mart_figures(board_warehouse, _viewer(BD_BOARD))
    shown = {
        key: round(float(v), 1) if isinstance(v, int | float) else v
        for key, v in sheet_figures(packs["board"]).items()
    }
    assert expected, "the demo's board has unmet need figures for the quarter"
    # A measure no service in the cohort reports has no mart row: [x] on the sheet.
    assert {key: shown[key] for key in expected if key in shown} == expected
    assert {v for key, v in shown.items() if key not in expected} <= {NOT_AVAILABLE}
    assert CONFIDENTIAL in shown.values(), "the demo's board has a cohort figure hidden"
    small = board_warehouse.rows(
        "SELECT viewer, cohort, period_key, measure, part, value FROM mart_unmet_need "
        "WHERE viewer_kind = 'board' AND unit = 'count' AND value BETWEEN 1 AND :threshold",
        threshold=THRESHOLD,
    )
    assert small == [], "no board's cohort count from 1 to the threshold, in any quarter"
    assert_no_small_counts(packs["board"], THRESHOLD)


def test_a_commissioners_pack_shows_its_own_figures_where_the_boards_rule_allows(
    board_warehouse: Warehouse, packs: dict[str, bytes]
) -> None:
    own = mart_figures(board_warehouse, _viewer(LBBD))
    # "Not shown" is what the board's rule hides of a total, so the
    # commissioner's own rows have none to compare with.
    shown = {key: v for key, v in sheet_figures(packs["lbbd"]).items() if key[1] != NOT_SHOWN}
    assert {key for key, v in shown.items() if v != NOT_AVAILABLE} <= own.keys()
    figures = {key: value for key, value in shown.items() if isinstance(value, int | float)}
    assert figures, "some of the commissioner's cohort figures are shown"
    for key, value in figures.items():
        assert round(float(value), 1) == own[key], key
    # Where the pack hides a figure the commissioner's own view shows it.
    hidden = [key for key, value in shown.items() if value == CONFIDENTIAL]
    assert all(isinstance(own[key], float) for key in hidden), hidden
    assert hidden, "the demo's commissioner has a cohort figure a board would not see"
    assert_no_small_counts(packs["lbbd"], THRESHOLD)


def test_the_apps_commissioner_pack_adds_up_by_cohort_too(packs: dict[str, bytes]) -> None:
    """The command and the download page (make_board_pack) give the
    commissioner's pack its contracts' cohorts, so its sheet is this one."""
    session = db.session()
    made = make_board_pack(
        session,
        pack_warehouse(),
        find_commissioner(session, LBBD),
        PERIOD,
        threshold=THRESHOLD,
        produced_on=date(2014, 5, 6),
    )
    figures = sheet_figures(made.content)
    assert figures and figures == sheet_figures(packs["lbbd"])
