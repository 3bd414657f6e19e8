"""Real Excel tables: named, styled, with filter buttons and fitted columns.

Text is always written with `write_string`, so a provider's commentary that
starts with "=" stays text and never becomes a formula. A figure hidden by
disclosure control is written as its marker (`[c]`), never as a number.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time
from typing import Any

from xlsxwriter.worksheet import Worksheet

from monitor.reports.sheets.styles import TABLE_STYLE, Styles

MAX_WIDTH = 60


@dataclass(frozen=True)
class Figure:
    """A figure shown in its unit's format, or the marker standing in for it."""

    value: float | None
    unit: str
    marker: str = ""

    @property
    def hidden(self) -> bool:
        return bool(self.marker) or self.value is None or math.isnan(self.value)


@dataclass(frozen=True)
class Col:
    header: str
    kind: str = "text"  # text, wrap, date, money, integer, percent, decimal, figure
    width: int | None = None  # fixed width; otherwise fitted to the contents


Cell = str | float | int | date | Figure | None


def is_missing(value: Any) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def write_cell(sheet: Worksheet, styles: Styles, row: int, col: int, value: Cell, kind: str) -> None:
    if isinstance(value, Figure):
        if value.hidden:
            sheet.write_string(row, col, value.marker or "[x]", styles.marker)
        else:
            assert value.value is not None
            sheet.write_number(row, col, float(value.value), styles.unit(value.unit))
    elif is_missing(value) or value == "":
        # Nothing at all, not a formatted blank: xlsxwriter caches a blank as
        # 0 in a chart that plots it, and a missing figure must be a gap.
        return
    elif isinstance(value, str):
        style = styles.marker if kind not in ("text", "wrap") else styles.for_kind(kind)
        sheet.write_string(row, col, value, style)
    elif isinstance(value, datetime | date):
        moment = value if isinstance(value, datetime) else datetime.combine(value, time())
        sheet.write_datetime(row, col, moment, styles.date)
    else:
        assert isinstance(value, int | float)
        sheet.write_number(row, col, float(value), styles.for_kind(kind))


def _width(value: Cell, kind: str) -> int:
    if is_missing(value):
        return 0
    if isinstance(value, Figure):
        if value.hidden:
            return 4
        return len(f"{value.value:,.1f}") + (2 if value.unit in ("currency", "percentage") else 0)
    if isinstance(value, date):
        return 18  # "30 September 2014"
    if isinstance(value, float | int):
        return len(f"{value:,.1f}") + (2 if kind in ("money", "percent") else 0)
    text = str(value)
    return min(len(text), MAX_WIDTH) if kind == "wrap" else len(text)


def write_table(
    sheet: Worksheet,
    styles: Styles,
    top: int,
    name: str,
    columns: Sequence[Col],
    rows: Sequence[Sequence[Cell]],
    *,
    empty_note: str,
    left: int = 0,
    fit_columns: bool = True,
) -> int:
    """Write `rows` as a table whose header is at row `top`; returns the first
    free row below it. With no rows, writes `empty_note` instead (an Excel
    table must have a data row, and an empty one would say nothing)."""
    if not rows:
        sheet.write_string(top, left, empty_note, styles.note)
        return top + 2
    spec = {
        "name": name,
        "style": TABLE_STYLE,
        "autofilter": True,
        "columns": [{"header": c.header, "format": styles.for_kind(c.kind)} for c in columns],
    }
    # xlsxwriter only warns about a bad table and leaves it out, so insist on it.
    if sheet.add_table(top, left, top + len(rows), left + len(columns) - 1, spec) != 0:
        raise ValueError(f"could not add the table {name}")
    for offset, row in enumerate(rows, start=1):
        for index, (column, value) in enumerate(zip(columns, row, strict=True)):
            write_cell(sheet, styles, top + offset, left + index, value, column.kind)
    if fit_columns:
        fit(sheet, columns, rows, left)
    return top + len(rows) + 2


def fit(sheet: Worksheet, columns: Sequence[Col], rows: Sequence[Sequence[Cell]], left: int = 0) -> None:
    """Widen columns to their contents. Several tables may share a sheet's
    columns, so a column is only ever widened, never narrowed."""
    fitted: dict[int, float] = getattr(sheet, "_pack_fitted_widths", {})
    for index, column in enumerate(columns):
        if column.width is not None:
            width = float(column.width)
        else:
            longest = max((_width(row[index], column.kind) for row in rows), default=0)
            # Room for the filter button beside the header.
            width = float(min(max(len(column.header) + 4, longest + 2, 8), MAX_WIDTH))
        position = left + index
        fitted[position] = max(fitted.get(position, 0.0), width)
        sheet.set_column(position, position, fitted[position])
    setattr(sheet, "_pack_fitted_widths", fitted)  # noqa: B010 - xlsxwriter has no place for it
