"""The figures the charts plot, on a sheet of their own.

Tables on the theme sheets show `[c]` where a figure is hidden; a chart
reading text would plot it as zero, so each chart reads a block here where a
hidden or missing figure is an empty cell (a gap in the line), never a
number. The sheet is visible, so anyone can check what a chart shows.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from xlsxwriter.worksheet import Worksheet

from monitor.reports.sheets.styles import Styles
from monitor.reports.sheets.tables import Col, write_table

SHEET_NAME = "Chart data"


@dataclass(frozen=True)
class Block:
    sheet: str
    first_row: int  # first data row (0-based)
    last_row: int
    columns: dict[str, int]  # series name -> column

    def categories(self) -> list[object]:
        return [self.sheet, self.first_row, 0, self.last_row, 0]

    def values(self, series: str) -> list[object]:
        column = self.columns[series]
        return [self.sheet, self.first_row, column, self.last_row, column]


class ChartData:
    def __init__(self, sheet: Worksheet, styles: Styles) -> None:
        self.sheet = sheet
        self.styles = styles
        self.row = 4
        self.count = 0
        sheet.write_string(0, 0, "Chart data", styles.title)
        sheet.write_string(
            1,
            0,
            "The figures each chart in this pack plots. An empty cell is a figure hidden to protect "
            "privacy ([c]) or not available ([x]): the chart shows a gap there, not a zero.",
            styles.wrap,
        )
        sheet.set_row(1, 32)
        sheet.set_column(0, 0, 24)
        sheet.set_column(1, 12, 16)

    def add(
        self,
        title: str,
        category_header: str,
        categories: Sequence[str],
        series: dict[str, Sequence[float | None]],
        kind: str,
    ) -> Block:
        """A titled table: one row per category, one column per series."""
        self.count += 1
        self.sheet.write_string(self.row, 0, title, self.styles.label)
        header = self.row + 1
        columns = [Col(category_header), *(Col(name, kind) for name in series)]
        rows = [
            [category, *(_plotted(values[i]) for values in series.values())]
            for i, category in enumerate(categories)
        ]
        write_table(
            self.sheet,
            self.styles,
            header,
            f"ChartData{self.count}",
            columns,
            rows,
            empty_note="No figures.",
            fit_columns=False,
        )
        self.row = header + len(rows) + 3
        return Block(
            sheet=SHEET_NAME,
            first_row=header + 1,
            last_row=header + len(rows),
            columns={name: i for i, name in enumerate(series, start=1)},
        )


def _plotted(value: float | None) -> float | None:
    return None if value is None or math.isnan(value) else float(value)
