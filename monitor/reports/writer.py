"""The board pack workbook, sheet by sheet."""

from __future__ import annotations

from datetime import date, datetime, time
from io import BytesIO

import xlsxwriter

from monitor.reports.pack_data import PackData
from monitor.reports.sheets.chart_data import SHEET_NAME as CHART_DATA
from monitor.reports.sheets.chart_data import ChartData
from monitor.reports.sheets.comparison import SHEET_NAME as COMPARISON
from monitor.reports.sheets.comparison import write_comparison
from monitor.reports.sheets.context import Context
from monitor.reports.sheets.notes import write_notes
from monitor.reports.sheets.renewals import write_renewals
from monitor.reports.sheets.styles import Styles
from monitor.reports.sheets.summary import SHEET_NAME as SUMMARY
from monitor.reports.sheets.summary import write_summary
from monitor.reports.sheets.themes import THEMES, write_theme
from monitor.reports.sheets.unmet_need import SHEET_NAME as UNMET_NEED
from monitor.reports.sheets.unmet_need import write_unmet_need

XLSX_MIMETYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
RENEWALS = "Renewals due"
NOTES = "Notes"


def filename(pack: PackData) -> str:
    return f"board-pack-{pack.audience.slug}-{pack.period.key}.xlsx"


def write_board_pack(pack: PackData, produced_on: date) -> bytes:
    buffer = BytesIO()
    # Not constant_memory: charts cache the figures they plot from the sheets.
    workbook = xlsxwriter.Workbook(buffer, {"in_memory": True})
    workbook.set_properties(
        {
            "title": f"Board pack: {pack.audience.name}, {pack.period.short_label}",
            "subject": pack.period.label,
            "author": "Commissioning monitor",
            "company": pack.audience.name,
            "created": datetime.combine(produced_on, time()),
        }
    )
    # Sheets appear in the order they are added, so add them all first.
    sheets = {
        name: workbook.add_worksheet(name)
        for name in (SUMMARY, *(t.sheet for t in THEMES), UNMET_NEED, COMPARISON, RENEWALS, NOTES, CHART_DATA)
    }
    styles = Styles(workbook)
    ctx = Context(workbook, styles, ChartData(sheets[CHART_DATA], styles), pack, produced_on)
    write_summary(ctx, sheets[SUMMARY])
    for theme in THEMES:
        write_theme(ctx, sheets[theme.sheet], theme)
    write_unmet_need(ctx, sheets[UNMET_NEED])
    write_comparison(ctx, sheets[COMPARISON], pack.comparison)
    write_renewals(ctx, sheets[RENEWALS])
    write_notes(ctx, sheets[NOTES])
    for sheet in sheets.values():
        sheet.hide_gridlines(2)
        sheet.set_landscape()
        sheet.set_paper(9)  # A4
        sheet.fit_to_pages(1, 0)
    workbook.close()
    return buffer.getvalue()
