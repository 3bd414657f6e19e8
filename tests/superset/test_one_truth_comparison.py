"""How we compare reads the same on every surface: what the dashboard's table
and funnel plots show a board through its own guest token is what its
mart_comparison rows and its board pack sheet hold, and no row of an area
that has not opted in appears anywhere. On SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from io import BytesIO
from typing import Any

import pytest
import xlsxwriter
from flask import Flask
from sqlalchemy import select

from etl.app import run_for_app
from etl.transform.comparison import COMPARED_PROPORTIONS, own_latest_rows
from monitor.audit import Actor, acting_as
from monitor.auth.models import Partnership
from monitor.benchmarking.demo import load_demo_benchmarking
from monitor.db import db
from monitor.formatting import format_figure
from monitor.reports.audience import find_partnership
from monitor.reports.pack_data import build_pack_data, read_marts
from monitor.reports.service import pack_warehouse
from monitor.reports.sheets.chart_data import SHEET_NAME as CHART_DATA
from monitor.reports.sheets.chart_data import ChartData
from monitor.reports.sheets.comparison import SHEET_NAME, TABLE_NAME, write_comparison
from monitor.reports.sheets.context import Context
from monitor.reports.sheets.styles import Styles
from superset_config.assets.comparison import FUNNEL_KPIS
from tests.reports.xlsx import open_pack, tables
from tests.superset.conftest import ProvisionedSuperset

BD_BOARD = "Barking and Dagenham Health and Wellbeing Board"
TRI_BOROUGH = "Tri-borough VAWG Partnership"
SLUG = "how-we-compare"
THRESHOLD = 4


@pytest.fixture
def in_app(provisioned_superset: ProvisionedSuperset) -> Iterator[Flask]:
    """The app whose database fed Superset's warehouse, with the demo's
    benchmarking loaded and the warehouse brought up to date (a no-op once
    the demo loads it itself)."""
    app = provisioned_superset.app
    with app.app_context():
        db.bind(app.config["DATABASE_URL"])
        with acting_as(Actor(None, "demo data")):
            load_demo_benchmarking(db.session())
            db.session.commit()
            run_for_app()
        yield app
        db.dispose()


def _rows(superset: ProvisionedSuperset, key: str, token: str) -> list[dict[str, Any]]:
    """A chart's rows as queried, before Superset reshapes them for drawing."""
    chart = superset.dashboards[SLUG].chart(key)
    return superset.chart_data(chart, guest_token=token, query_context=superset.grouped_query_context(chart))


def _sheet_records(app: Flask, period: str) -> tuple[str, list[dict[str, Any]]]:
    """The board pack's How we compare sheet, as written into a workbook:
    the sentence under its heading, and its table."""
    audience = find_partnership(db.session(), BD_BOARD)
    marts = read_marts(pack_warehouse(app), audience.viewer)
    pack = build_pack_data(marts, audience, period, THRESHOLD)
    buffer = BytesIO()
    workbook = xlsxwriter.Workbook(buffer, {"in_memory": True})
    sheet = workbook.add_worksheet(SHEET_NAME)
    styles = Styles(workbook)
    ctx = Context(
        workbook, styles, ChartData(workbook.add_worksheet(CHART_DATA), styles), pack, date(2014, 5, 6)
    )
    write_comparison(ctx, sheet, own_latest_rows(marts, pack.period.financial_year))
    workbook.close()
    book = open_pack(buffer.getvalue())
    return str(book[SHEET_NAME]["A3"].value), tables(book)[TABLE_NAME].records()


def _shown(value: Any, unit: str) -> str:
    """A sheet cell as the dashboard writes it (a median between two counts to one place)."""
    if isinstance(value, str):
        return value
    if unit == "count" and not float(value).is_integer():
        unit = "score"
    return format_figure(value, unit)


def test_a_boards_comparison_is_its_mart_and_its_pack_sheet(
    provisioned_superset: ProvisionedSuperset, in_app: Flask
) -> None:
    superset = provisioned_superset
    ids = {name: pid for name, pid in db.session.execute(select(Partnership.name, Partnership.id))}
    viewer = f"partnership:{ids[BD_BOARD]}"
    token = superset.guest_token(viewer, [SLUG])

    # The table: this area's rows, figure for figure the mart's.
    shown = _rows(superset, "comparison/figures", token)
    assert shown, "the board sees its comparison"
    mart = superset.warehouse.rows(
        "SELECT * FROM mart_comparison WHERE viewer = :viewer AND is_viewer_area AND row_kind = 'area'",
        viewer=viewer,
    )
    columns = [
        "value_display",
        "interval_display",
        "comparator_display",
        "lower_quartile_display",
        "median_display",
        "upper_quartile_display",
        "label",
        "note",
        "as_at_label",
    ]
    by_key = {(r["financial_year"], r["kpi_name"], r["group_name"]): r for r in mart}
    assert len(shown) == len(by_key)
    for row in shown:
        expected = by_key[(row["financial_year"], row["kpi_name"], row["group_name"])]
        assert {c: row[c] for c in columns} == {c: expected[c] for c in columns}, row

    # The pack's sheet: the latest year's rows, as the dashboard writes them.
    latest = max(r["financial_year"] for r in mart)
    intro, records = _sheet_records(in_app, f"{latest.replace('/', '-')}-Q4")
    # Both say which day the comparison was worked out for: full runs alone rebuild it.
    (as_at,) = {r["as_at_label"] for r in mart}
    assert {r["as_at_label"] for r in shown} == {as_at}
    assert f"Worked out by the warehouse's full run each night; these figures are as at {as_at}." in intro
    in_year = [r for r in shown if r["financial_year"] == latest]
    assert len(records) == len(in_year)
    for record in records:
        row = next(
            r for r in in_year if (r["kpi_name"], r["group_name"]) == (record["KPI"], record["Compared with"])
        )
        unit = "percentage" if "%" in row["value_display"] else "count"
        assert _shown(record["Figure"], unit) == row["value_display"], record
        assert record["95% interval"] == row["interval_display"]
        for header, column in (
            ("Group's figure", "comparator_display"),
            ("Lower quartile", "lower_quartile_display"),
            ("Median", "median_display"),
            ("Upper quartile", "upper_quartile_display"),
        ):
            assert _shown(record[header], unit) == row[column], (header, record)
        assert record["Compared with the group"] == row["label"]
        assert record["Method"] == row["note"]

    # The funnel plots: this area's point is its figure, the others are opted-in areas only.
    opted_in = {r["area_id"] for r in superset.warehouse.rows("SELECT DISTINCT area_id FROM mart_comparison")}
    assert ids[TRI_BOROUGH] not in opted_in
    assert set(FUNNEL_KPIS) <= set(COMPARED_PROPORTIONS)
    for code in FUNNEL_KPIS:
        points = _rows(superset, f"comparison/funnel/{code.lower()}", token)
        mine = [p for p in points if p["this_area"] is not None]
        expected_mine = [
            r
            for r in mart
            if r["kpi_code"] == code and r["financial_year"] == latest and r["group_sort"] == 0
        ]
        if expected_mine and expected_mine[0]["value"] is not None:
            assert [(p["trials"], round(p["this_area"], 6)) for p in mine] == [
                (expected_mine[0]["trials"], round(expected_mine[0]["value"], 6))
            ]

    # An area that has not opted in sees nothing, through any chart.
    outsider = superset.guest_token(f"partnership:{ids[TRI_BOROUGH]}", [SLUG])
    for chart in superset.dashboards[SLUG].charts:
        assert _rows(superset, chart.key, outsider) == [], chart.key
