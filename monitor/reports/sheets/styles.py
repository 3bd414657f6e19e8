"""Cell formats and words shared by every sheet of the pack."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from xlsxwriter.format import Format
from xlsxwriter.workbook import Workbook

from monitor.formatting import EXCEL_FORMATS, day_text

DATE_FORMAT = "d mmmm yyyy"  # 6 May 2014: dates in words, as a board paper writes them
MONEY_FORMAT = "£#,##0"
# Written as on the pages and dashboards (monitor.formatting).
UNIT_FORMATS = EXCEL_FORMATS
UNIT_WORDS = {
    "count": "Number",
    "percentage": "Percentage",
    "currency": "Money (£)",
    "days": "Days",
    "score": "Score",
}
TABLE_STYLE = "Table Style Medium 2"
# GOV.UK colours, so the pack reads like the service it comes from.
GREEN = "#cce2d8"
AMBER = "#fff7bf"
RED = "#f4cdc6"
GREY = "#e5e6e7"
DARK_GREEN = "#00703c"
DARK_RED = "#d4351c"
YELLOW = "#ffdd00"
BLUE = "#1d70b8"
BLACK = "#0b0c0c"


def in_words(day: date | datetime | None) -> str:
    if day is None:
        return "not known"
    return day_text(day)


class Styles:
    """The workbook's formats, made once (xlsxwriter keeps every one it is given)."""

    def __init__(self, workbook: Workbook) -> None:
        add = workbook.add_format
        self.title = add({"bold": True, "font_size": 16})
        self.subtitle = add({"bold": True, "font_size": 12})
        self.heading = add({"bold": True, "font_size": 12, "top": 0})
        self.text = add({"valign": "top"})
        self.wrap = add({"valign": "top", "text_wrap": True})
        self.label = add({"bold": True, "valign": "top"})
        self.note = add({"italic": True, "font_color": "#505a5f"})
        self.date = add({"num_format": DATE_FORMAT, "valign": "top", "align": "left"})
        self.money = add({"num_format": MONEY_FORMAT, "valign": "top"})
        self.integer = add({"num_format": "#,##0", "valign": "top"})
        self.percent = add({"num_format": '0.0"%"', "valign": "top"})
        self.decimal = add({"num_format": "0.0", "valign": "top"})
        # A marker stands where a figure would, so it lines up with figures.
        self.marker = add({"align": "right", "valign": "top"})
        self._units = {unit: add({"num_format": fmt, "valign": "top"}) for unit, fmt in UNIT_FORMATS.items()}
        self.fills = {
            "green": add({"bg_color": GREEN, "font_color": BLACK}),
            "amber": add({"bg_color": AMBER, "font_color": BLACK}),
            "red": add({"bg_color": RED, "font_color": BLACK}),
            "grey": add({"bg_color": GREY, "font_color": BLACK}),
        }

    def unit(self, unit: str) -> Format:
        return self._units.get(unit, self.decimal)

    def for_kind(self, kind: str) -> Format:
        formats: dict[str, Any] = {
            "text": self.text,
            "wrap": self.wrap,
            "date": self.date,
            "money": self.money,
            "integer": self.integer,
            "percent": self.percent,
            "decimal": self.decimal,
            "figure": self.text,
        }
        return formats[kind]
