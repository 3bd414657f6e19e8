"""How we compare: the audience's area against the other areas that agreed to
be compared, for the latest financial year with figures up to the pack's.

The rows are the audience's own in mart_comparison (read with the other
marts by monitor.reports.pack_data.read_marts, chosen by
etl.transform.comparison.own_latest_rows): already after disclosure
control, so a hidden figure is its marker here as on the "How we compare"
dashboard, and the label and method are the ETL's, written by
monitor.benchmarking.statistics. An audience whose board has not opted in
has no rows, and the sheet says so.
"""

from __future__ import annotations

import math
from typing import Any

import pandas as pd
from xlsxwriter.worksheet import Worksheet

from etl.transform.comparison import PROPORTION
from monitor.disclosure.suppression import NOT_APPLICABLE
from monitor.kpis.vocabulary import Unit
from monitor.reports.sheets.context import Context, sheet_heading
from monitor.reports.sheets.tables import Cell, Col, Figure, write_table

SHEET_NAME = "How we compare"
TABLE_NAME = "HowWeCompare"
COLUMNS = [
    Col("Area", "wrap", 30),
    Col("KPI", "wrap", 36),
    Col("Compared with", "wrap", 26),
    Col("Areas in the group", "integer"),
    Col("Figure", "figure"),
    Col("95% interval"),
    Col("Group's figure", "figure"),
    Col("Lower quartile", "figure"),
    Col("Median", "figure"),
    Col("Upper quartile", "figure"),
    Col("Compared with the group", "wrap", 22),
    Col("Method", "wrap", 60),
]
NOT_COMPARED = (
    "{audience} is not compared with other areas: its board has not agreed to be compared (an "
    "administrator records each board's decision, with who approved it), or none of the KPIs compared "
    "has accepted figures up to {year}."
)
METHOD = (
    "Percentages are compared with the group's pooled percentage (all its cases together) using a 95% "
    "Wilson score interval; counts with the group's median using a 95% Byar's interval. "
    "'Significantly better' or 'worse' means only that the interval does not include the group's "
    "figure: it is not a judgement of a service, as areas differ in need and in how they record. "
    "Areas that have not agreed to be compared are neither shown nor counted. [c]: hidden, a count "
    "from 1 to {threshold} or a figure that would give one away; [z]: not applicable."
)


def _figure(value: Any, display: Any, unit: str) -> Figure:
    """A figure, or the marker the mart shows in its place. A median or
    quartile of counts can fall between two counts (99.5): it keeps its
    place of decimals, as the dashboard and the method sentence write it."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        marker = str(display) if str(display).startswith("[") else NOT_APPLICABLE
        return Figure(None, unit, marker)
    figure = float(value)
    if unit == Unit.COUNT.value and not figure.is_integer():
        return Figure(figure, Unit.SCORE.value)
    return Figure(figure, unit)


def _as_at(frame: pd.DataFrame) -> str:
    """Which day the comparison is from: the warehouse's full run works it
    out each night, not as returns come in (etl/run.py), so it can be a day
    behind the pack's other sheets."""
    if frame.empty:
        return ""
    return f" Worked out by the warehouse's full run each night; these figures are as at {frame['as_at_label'].iloc[0]}."


def table_rows(frame: pd.DataFrame) -> list[list[Cell]]:
    rows: list[list[Cell]] = []
    for row in frame.to_dict("records"):
        unit = "percentage" if row["measure"] == PROPORTION else "count"
        rows.append(
            [
                str(row["viewer_area_name"]),
                str(row["kpi_name"]),
                str(row["group_name"]),
                int(row["group_members"]),
                _figure(row["value"], row["value_display"], unit),
                str(row["interval_display"]),
                _figure(row["comparator"], row["comparator_display"], unit),
                _figure(row["lower_quartile"], row["lower_quartile_display"], unit),
                _figure(row["median"], row["median_display"], unit),
                _figure(row["upper_quartile"], row["upper_quartile_display"], unit),
                str(row["label"]),
                str(row["note"]),
            ]
        )
    return rows


def write_comparison(ctx: Context, sheet: Worksheet, frame: pd.DataFrame) -> None:
    """The sheet, from etl.transform.comparison.own_latest_rows' rows (PackData.comparison)."""
    pack = ctx.pack
    year = str(frame["financial_year"].iloc[0]) if len(frame) else pack.period.financial_year
    top = sheet_heading(
        ctx,
        sheet,
        SHEET_NAME,
        f"Each KPI for {year} against the other areas that agreed to be compared: all areas, the "
        "region's and any similar-areas group." + _as_at(frame),
    )
    sheet.write_string(top, 0, METHOD.format(threshold=pack.threshold), ctx.styles.note)
    header = top + 2
    write_table(
        sheet,
        ctx.styles,
        header,
        TABLE_NAME,
        COLUMNS,
        table_rows(frame),
        empty_note=NOT_COMPARED.format(audience=pack.audience.name, year=pack.period.financial_year),
    )
    sheet.freeze_panes(header + 1, 0)
