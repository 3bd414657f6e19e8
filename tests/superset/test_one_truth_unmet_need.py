"""Unmet need reads the same on every surface: what the provision
dashboard's unmet need charts show a board through its own guest token is
what its mart rows and its board pack hold for the latest quarter, and no
count from 1 to the threshold shows anywhere. On SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select

from monitor.auth.models import Partnership
from monitor.db import db
from monitor.disclosure.suppression import CONFIDENTIAL, NOT_AVAILABLE
from monitor.formatting import format_figure
from monitor.reports.audience import find_partnership
from monitor.reports.pack_data import build_pack_data, read_marts
from monitor.reports.service import pack_warehouse
from monitor.reports.writer import write_board_pack
from tests.reports.xlsx import open_pack, tables
from tests.superset.conftest import ProvisionedSuperset

BD_BOARD = "Barking and Dagenham Health and Wellbeing Board"
THRESHOLD = 4
SLUG = "provision-gaps"


@pytest.fixture
def in_app(provisioned_superset: ProvisionedSuperset) -> Iterator[Flask]:
    """The app whose database fed Superset's warehouse."""
    app = provisioned_superset.app
    with app.app_context():
        db.bind(app.config["DATABASE_URL"])
        yield app
        db.dispose()


def _rows(superset: ProvisionedSuperset, key: str, token: str) -> list[dict[str, Any]]:
    """A chart's rows as grouped, before Superset reshapes them for drawing."""
    chart = superset.dashboards[SLUG].chart(key)
    return superset.chart_data(chart, guest_token=token, query_context=superset.grouped_query_context(chart))


def _pack_tables(app: Flask, period: str) -> dict[str, list[dict[str, Any]]]:
    audience = find_partnership(db.session(), BD_BOARD)
    data = build_pack_data(read_marts(pack_warehouse(app), audience.viewer), audience, period, THRESHOLD)
    found = tables(open_pack(write_board_pack(data, date(2014, 5, 6))))
    return {name: found[name].records() for name in ("UnmetNeedReasons", "UnmetNeedSupport")}


def _small(value: Any) -> bool:
    return isinstance(value, int | float) and 1 <= value <= THRESHOLD


def test_a_boards_unmet_need_charts_show_its_mart_and_pack_figures(
    provisioned_superset: ProvisionedSuperset, in_app: Flask
) -> None:
    superset = provisioned_superset
    partnership = db.session.scalars(select(Partnership).where(Partnership.name == BD_BOARD)).one()
    viewer = f"partnership:{partnership.id}"
    latest = superset.warehouse.rows(
        "SELECT DISTINCT period_key, period_label FROM mart_unmet_need WHERE viewer = :viewer AND latest_quarter",
        viewer=viewer,
    )
    assert len(latest) == 1, latest
    pack = _pack_tables(in_app, latest[0]["period_key"])
    token = superset.guest_token(viewer, [SLUG])

    # Referrals not taken by cohort and reason: each segment is the pack's figure; a hidden one has none.
    segments = {
        (r["cohort_label"], r["part_label"]): r["total_value"]
        for r in _rows(superset, "provision/unmet-need-not-taken", token)
    }
    assert segments, "the board sees referrals not taken"
    compared = 0
    for record in pack["UnmetNeedReasons"]:
        for header, value in record.items():
            if header in ("Cohort", "Referrals not taken", "Services reporting") or value is None:
                continue
            key = (record["Cohort"], header)
            expected = None if value == CONFIDENTIAL else float(value)
            assert (None if segments.get(key) is None else float(segments[key])) == expected, key
            compared += 1
    assert compared == len(segments)
    # The segments reach each cohort's total wherever the total is shown.
    for record in pack["UnmetNeedReasons"]:
        total = record["Referrals not taken"]
        if isinstance(total, int | float):
            stacked = sum(float(v or 0) for (cohort, _), v in segments.items() if cohort == record["Cohort"])
            assert stacked == float(total), record["Cohort"]

    # People waiting at the quarter's end by cohort.
    waiting = {
        r["cohort_label"]: r["total_value"] for r in _rows(superset, "provision/unmet-need-waiting", token)
    }
    in_pack = {
        r["Cohort"]: r["People waiting at the quarter's end"]
        for r in pack["UnmetNeedSupport"]
        if r["People waiting at the quarter's end"] != NOT_AVAILABLE
    }
    assert waiting and waiting.keys() == in_pack.keys()
    for cohort, value in in_pack.items():
        assert waiting[cohort] == (None if value == CONFIDENTIAL else value), cohort

    # Children's support: the table's figures as the pack writes them.
    children = _rows(superset, "provision/unmet-need-children", token)
    assert children
    for row in children:
        assert row["period_label"] == latest[0]["period_label"]
        record = next(r for r in pack["UnmetNeedSupport"] if r["Cohort"] == row["cohort_label"])
        value = record[row["measure_label"]]
        unit = "percentage" if row["measure_label"].startswith("Share") else "count"
        assert row["value_display"] == (value if isinstance(value, str) else format_figure(value, unit)), row

    # Nothing small, anywhere the board looks.
    assert not [v for v in [*segments.values(), *waiting.values()] if _small(v)]
    for row in children:
        if not row["measure_label"].startswith("Share") and row["value_display"] not in (
            CONFIDENTIAL,
            NOT_AVAILABLE,
        ):
            assert not _small(float(row["value_display"].replace(",", ""))), row
