"""Native Excel charts, built over blocks on the chart data sheet."""

from __future__ import annotations

from collections.abc import Sequence

from xlsxwriter.chart import Chart
from xlsxwriter.workbook import Workbook
from xlsxwriter.worksheet import Worksheet

from monitor.reports.sheets.chart_data import Block
from monitor.reports.sheets.styles import (
    BLACK,
    BLUE,
    DARK_GREEN,
    DARK_RED,
    GREY,
    UNIT_FORMATS,
    UNIT_WORDS,
    YELLOW,
)

CHART_WIDTH = 520
CHART_HEIGHT = 300
ROWS_PER_CHART = 17  # rows of the default height a chart covers, with a gap
# Colours for funders, in turn: GOV.UK's palette, told apart without colour by the legend order.
FUNDER_COLOURS = [BLUE, "#f47738", DARK_GREEN, "#4c2c92", "#d53880", "#28a197", "#85994b", "#912b88", BLACK]
UNIT_KIND = {"count": "integer", "percentage": "percent", "currency": "money"}


def kind_for_unit(unit: str) -> str:
    return UNIT_KIND.get(unit, "decimal")


def kpi_chart(workbook: Workbook, block: Block, title: str, unit: str) -> Chart:
    """Actual against target over time: columns for counts (a quarter's
    total), a line for rates and scores; the target as a dashed line."""
    is_count = unit == "count"
    actual = workbook.add_chart({"type": "column"} if is_count else {"type": "line"})
    assert actual is not None
    style: dict[str, object] = (
        {"fill": {"color": BLUE}, "gap": 80}
        if is_count
        else {
            "line": {"color": BLUE, "width": 2.25},
            "marker": {"type": "circle", "size": 6, "fill": {"color": BLUE}, "border": {"color": BLUE}},
        }
    )
    actual.add_series(
        {"name": "Actual", "categories": block.categories(), "values": block.values("Actual"), **style}
    )
    target = workbook.add_chart({"type": "line"})
    assert target is not None
    target.add_series(
        {
            "name": "Target",
            "categories": block.categories(),
            "values": block.values("Target"),
            "line": {"color": BLACK, "width": 1.5, "dash_type": "dash"},
            "marker": {"type": "none"},
        }
    )
    actual.combine(target)
    actual.set_title({"name": title, "name_font": {"size": 11, "bold": True}})
    actual.set_y_axis(
        {
            "num_format": UNIT_FORMATS.get(unit, "0.0"),
            "name": UNIT_WORDS.get(unit, unit),
            "min": 0,
            "major_gridlines": {"visible": True, "line": {"color": GREY}},
        }
    )
    actual.set_x_axis({"name": "Quarter"})
    actual.set_legend({"position": "bottom"})
    # A hidden or missing quarter is a gap, never a zero.
    actual.show_blanks_as("gap")
    actual.set_size({"width": CHART_WIDTH, "height": CHART_HEIGHT})
    return actual


def funder_column_chart(workbook: Workbook, block: Block, funders: Sequence[str], title: str) -> Chart:
    chart = workbook.add_chart({"type": "column", "subtype": "stacked"})
    assert chart is not None
    for index, funder in enumerate(funders):
        colour = FUNDER_COLOURS[index % len(FUNDER_COLOURS)]
        chart.add_series(
            {
                "name": funder,
                "categories": block.categories(),
                "values": block.values(funder),
                "fill": {"color": colour},
            }
        )
    chart.set_title({"name": title, "name_font": {"size": 11, "bold": True}})
    chart.set_y_axis({"num_format": "£#,##0", "name": "Spend (£)", "min": 0})
    chart.set_x_axis({"name": "Financial year"})
    chart.set_legend({"position": "right"})
    chart.set_size({"width": CHART_WIDTH + 200, "height": CHART_HEIGHT + 40})
    return chart


def funder_pie_chart(workbook: Workbook, block: Block, title: str, points: int) -> Chart:
    chart = workbook.add_chart({"type": "pie"})
    assert chart is not None
    chart.add_series(
        {
            "name": title,
            "categories": block.categories(),
            "values": block.values("Funding"),
            "data_labels": {"percentage": True, "leader_lines": True},
            "points": [{"fill": {"color": FUNDER_COLOURS[i % len(FUNDER_COLOURS)]}} for i in range(points)],
        }
    )
    chart.set_title({"name": title, "name_font": {"size": 11, "bold": True}})
    chart.set_legend({"position": "right"})
    chart.set_size({"width": CHART_WIDTH + 200, "height": CHART_HEIGHT + 40})
    return chart


def rag_chart(workbook: Workbook, sheet_name: str, first_row: int, last_row: int, title: str) -> Chart:
    """Ratings this quarter, each bar in its rating's colour (labelled too)."""
    chart = workbook.add_chart({"type": "bar"})
    assert chart is not None
    colours = [DARK_GREEN, YELLOW, DARK_RED, "#b1b4b6", "#505a5f"]
    chart.add_series(
        {
            "name": "KPIs",
            "categories": [sheet_name, first_row, 0, last_row, 0],
            "values": [sheet_name, first_row, 1, last_row, 1],
            "points": [{"fill": {"color": c}} for c in colours[: last_row - first_row + 1]],
            "data_labels": {"value": True},
        }
    )
    chart.set_title({"name": title, "name_font": {"size": 11, "bold": True}})
    chart.set_legend({"none": True})
    chart.set_x_axis({"min": 0, "num_format": "0", "major_unit": 1})
    chart.set_y_axis({"reverse": True})
    chart.set_size({"width": 460, "height": 240})
    return chart


def place_charts(sheet: Worksheet, charts: Sequence[Chart], top: int, per_row: int = 2) -> int:
    """Charts in a grid from row `top`; returns the first row below them."""
    for index, chart in enumerate(charts):
        band, slot = divmod(index, per_row)
        sheet.insert_chart(
            top + band * ROWS_PER_CHART, 0, chart, {"x_offset": slot * (CHART_WIDTH + 20), "y_offset": 4}
        )
    bands = (len(charts) + per_row - 1) // per_row
    return top + bands * ROWS_PER_CHART
