"""What every sheet writer is handed."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from xlsxwriter.chart import Chart
from xlsxwriter.workbook import Workbook
from xlsxwriter.worksheet import Worksheet

from monitor.reports.pack_data import PackData
from monitor.reports.sheets.chart_data import ChartData
from monitor.reports.sheets.styles import Styles


@dataclass
class Context:
    workbook: Workbook
    styles: Styles
    chart_data: ChartData
    pack: PackData
    produced_on: date


@dataclass
class Section:
    """What a part of a sheet wrote: where the next part starts, the row of
    its first table's header (None when it had nothing to show) and charts
    to place under the tables."""

    next_row: int
    first_header: int | None = None
    charts: list[Chart] = field(default_factory=list)


def sheet_heading(ctx: Context, sheet: Worksheet, title: str, intro: str) -> int:
    """Title, whose pack and quarter, and a sentence on what the sheet shows;
    returns the first free row."""
    pack = ctx.pack
    sheet.write_string(0, 0, title, ctx.styles.title)
    sheet.write_string(1, 0, f"{pack.audience.name}: {pack.period.label}", ctx.styles.subtitle)
    sheet.write_string(2, 0, intro, ctx.styles.text)
    return 4
