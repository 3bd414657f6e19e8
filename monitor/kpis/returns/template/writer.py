"""Writes the quarterly return workbook for one contract and quarter.

Everything is locked except the blue input cells; the sheets are protected
without a password, so a provider who must can still unprotect them. Hidden
tags and key columns tell the importer where everything is (see layout.py).
"""

from __future__ import annotations

import io
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import xlsxwriter
from flask import current_app, has_app_context
from sqlalchemy import select
from sqlalchemy.orm import Session
from xlsxwriter.format import Format
from xlsxwriter.workbook import Workbook
from xlsxwriter.worksheet import Worksheet

from monitor.config import BaseConfig
from monitor.contracts.models import Contract
from monitor.formatting import time_text
from monitor.kpis.framework.history import items_in_force
from monitor.kpis.models import FrameworkItem, Return
from monitor.kpis.performance.item_targets import last_day_of
from monitor.kpis.performance.targets import days_in_force
from monitor.kpis.periods import Quarter, due_date
from monitor.kpis.returns.template.layout import (
    CURRENT_LAYOUT,
    TAG_COLUMN,
    TITLE_TAG,
    Line,
    MetadataKey,
    Table,
    TemplateLayout,
)
from monitor.kpis.returns.template.previous import PreviousFigure, previous_figures
from monitor.kpis.returns.template.rows import UNIT_LABELS, KpiRow, has_outcome_kpis, kpi_rows, target_text
from monitor.kpis.returns.template.signature import sign, signing_key
from monitor.kpis.vocabulary import Unit

INPUT_FILL = "#DDEBF7"
DERIVED_FILL = "#F2F2F2"
# Bigger than any figure a quarter of one service produces; catches a pasted phone number.
LARGEST_FIGURE = 1_000_000_000
# Excel silently drops a validation whose prompt is longer than this.
MAX_PROMPT_TITLE = 32
MAX_PROMPT_MESSAGE = 255


class TemplateError(Exception):
    """The template cannot be built (for example, no framework in force); the message says why."""


def build_template(
    session: Session,
    contract: Contract,
    quarter: Quarter,
    *,
    generated_at: datetime,
    change_warning_pct: int | None = None,
    due: date | None = None,
) -> bytes:
    """The .xlsx return template for `contract` and `quarter`, as bytes, its hidden
    metadata signed with the app's SECRET_KEY. The Outcomes sheet is there only when
    the framework has KPIs worked out from outcome scores.

    Raises TemplateError when no KPI is in force for that quarter."""
    items = items_in_force(session, contract.id, quarter)
    if not items:
        raise TemplateError(
            f"{contract.reference} has no KPIs in force in {quarter.label}: "
            "set up its performance framework for that quarter first"
        )
    if change_warning_pct is None:
        change_warning_pct = int(_setting("PERIOD_CHANGE_WARNING_PCT"))
    if due is None:
        existing = session.scalar(
            select(Return.due_date).where(Return.contract_id == contract.id, Return.period == str(quarter))
        )
        due = existing or due_date(quarter, int(_setting("RETURN_DUE_WORKING_DAYS")))
    previous = previous_figures(session, contract.id, quarter)
    rows = kpi_rows(items)
    outcomes = has_outcome_kpis(rows)
    writer = _Writer(CURRENT_LAYOUT, contract, quarter, generated_at)
    writer.cover(due, change_warning_pct, outcomes=outcomes)
    writer.kpis(rows, previous)
    if outcomes:
        writer.outcomes()
    writer.commentary(items, change_warning_pct)
    writer.metadata(signing_key())
    return writer.close()


def _setting(name: str) -> Any:
    if has_app_context() and name in current_app.config:
        return current_app.config[name]
    return getattr(BaseConfig, name)


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


class _Writer:
    def __init__(self, layout: TemplateLayout, contract: Contract, quarter: Quarter, generated_at: datetime):
        self.layout = layout
        self.contract = contract
        self.quarter = quarter
        self.generated_at = generated_at
        in_force = days_in_force(quarter, contract.start_date, last_day_of(contract))
        # The days in force when the contract started or ended inside the quarter, else None.
        self.part_quarter = in_force if in_force is not None and not in_force.whole else None
        self.buffer = io.BytesIO()
        self.book: Workbook = xlsxwriter.Workbook(self.buffer, {"in_memory": True})
        self.book.set_properties(
            {
                "title": f"Quarterly return {contract.reference} {quarter}",
                "author": "Commissioning monitor",
                "created": generated_at,
            }
        )
        base = {"font_name": "Arial", "font_size": 11, "valign": "top"}
        self.fmt: dict[str, Format] = {
            "title": self.book.add_format({**base, "bold": True, "font_size": 16}),
            "heading": self.book.add_format({**base, "bold": True, "font_size": 13}),
            "text": self.book.add_format({**base, "text_wrap": True}),
            "plain": self.book.add_format(base),
            "bold": self.book.add_format({**base, "bold": True}),
            "warning": self.book.add_format(
                {**base, "bold": True, "text_wrap": True, "font_color": "#9C0006", "bg_color": "#FFF2CC"}
            ),
            "header": self.book.add_format(
                {**base, "bold": True, "text_wrap": True, "bg_color": "#D9D9D9", "border": 1}
            ),
            "cell": self.book.add_format({**base, "text_wrap": True, "border": 1}),
            "number": self.book.add_format({**base, "border": 1}),
            "derived": self.book.add_format(
                {**base, "italic": True, "text_wrap": True, "border": 1, "bg_color": DERIVED_FILL}
            ),
            "percentage": self.book.add_format(
                {**base, "border": 1, "bg_color": DERIVED_FILL, "num_format": '0.0"%"'}
            ),
            "tag": self.book.add_format({**base, "font_color": "#808080"}),
        }
        input_base = {**base, "border": 1, "bg_color": INPUT_FILL, "locked": False}
        self.input_fmt: dict[str, Format] = {
            Unit.COUNT: self.book.add_format({**input_base, "num_format": "#,##0"}),
            Unit.CURRENCY: self.book.add_format({**input_base, "num_format": "£#,##0.00"}),
            "decimal": self.book.add_format({**input_base, "num_format": "General"}),
            "text": self.book.add_format({**input_base, "text_wrap": True}),
            "choice": self.book.add_format(input_base),
        }

    # -- sheets ------------------------------------------------------------

    def cover(self, due: date, change_warning_pct: int, *, outcomes: bool) -> None:
        sheet = self._sheet(self.layout.cover_sheet)
        sheet.set_column(1, 1, 24)
        sheet.set_column(2, 2, 100)
        contract, f = self.contract, self.fmt
        sheet.write(0, 1, "Quarterly performance return", f["title"])
        facts = [
            ("Contract", f"{contract.reference}: {contract.title}"),
            ("Provider", contract.provider.name if contract.provider else ""),
            ("Quarter", self.quarter.label),
            ("Due by", f"{due:%A} {due.day} {due:%B %Y}"),
            ("Template version", self.layout.version),
            ("Generated", f"{time_text(self.generated_at)} (UK time)"),
        ]
        row = 2
        for label, value in facts:
            sheet.write(row, 1, label, f["bold"])
            sheet.write(row, 2, value, f["text"])
            row += 1
        row += 1
        sheet.write(row, 1, "How to fill it in", f["heading"])
        steps = [
            f"This return covers {self.quarter.label} only. Check the quarter above before you start."
            + (
                f" The contract was in force for only part of it, so the return {self.part_quarter.covers}: "
                "enter figures for those days. Targets for counts that add up over the quarter are "
                "pro-rated to those days."
                if self.part_quarter is not None
                else ""
            ),
            f"On the {self.layout.kpis.sheet} sheet, enter this quarter's figure in every blue cell. "
            "Enter 0 if there were none; do not leave a blue cell blank or write N/A. "
            "The other cells are locked.",
            "Where a KPI is split into parts (for example referrals by source), enter each part and the "
            "total. The parts must add up to the total.",
            "Where a KPI is a percentage, enter the two counts asked for (for example the referrals "
            "contacted within two working days, and all referrals accepted). The percentage is worked "
            "out for you.",
            *(
                [
                    "KPIs marked 'worked out from the Outcomes sheet' have no cell to fill in: "
                    f"on the {self.layout.outcomes.sheet} sheet, enter one row for each case closed in the "
                    "quarter that has scores from the start and the end of support."
                ]
                if outcomes
                else []
            ),
            f"On the {self.layout.commentary.sheet} sheet, explain any KPI that is below target and any "
            f"figure that has changed by more than {change_warning_pct}% since last quarter.",
            "Save the workbook as an Excel Workbook (.xlsx), keeping this file's layout, and upload it "
            "on the contract's Returns page. The checks name the sheet and cell of anything to correct.",
        ]
        for number, step in enumerate(steps, start=1):
            row += 1
            sheet.write(row, 1, f"Step {number}", f["bold"])
            sheet.write(row, 2, step, f["text"])
        row += 2
        sheet.merge_range(
            row,
            1,
            row,
            2,
            "Figures must be counts about the service. Never enter names, initials, dates of birth, "
            "addresses, case numbers or any other detail about anyone.",
            f["warning"],
        )
        sheet.set_row(row, 32)
        self._protect(sheet)
        sheet.activate()

    def kpis(self, rows: list[KpiRow], previous: dict[tuple[str, str], PreviousFigure]) -> None:
        table = self.layout.kpis
        sheet = self._sheet(table.sheet)
        f = self.fmt
        # A part quarter's title says which days it covers (the quarter's label stays in it,
        # which is what the importer checks the title by).
        part = f" ({self.part_quarter.covers})" if self.part_quarter is not None else ""
        self._title(sheet, f"KPIs for {self.contract.reference}, {self.quarter.label}{part}")
        sheet.write(
            1,
            1,
            "Enter a figure in every blue cell: 0 if there were none, never blank or N/A. "
            "Counts about the service only: never names or details of anyone.",
            f["plain"],
        )
        header = 3
        start = self._start(sheet, table, header)
        row = start
        for kpi_row in rows:
            row += 1
            self._kpi_row(sheet, table, row, kpi_row, previous)
        self._end(sheet, table, row + 1)
        sheet.freeze_panes(header + 1, 0)
        self._protect(sheet)

    def _kpi_row(
        self,
        sheet: Worksheet,
        table: Table,
        row: int,
        kpi_row: KpiRow,
        previous: dict[tuple[str, str], PreviousFigure],
    ) -> None:
        f, kpi, line = self.fmt, kpi_row.kpi, kpi_row.line
        first_of_kpi = line in (Line.VALUE, Line.NUMERATOR, Line.DERIVED) or (
            line == Line.BREAKDOWN and kpi.breakdowns and kpi.breakdowns[0].label == kpi_row.breakdown
        )
        if line == Line.TOTAL:
            definition = "The total: the parts above must add up to it."
        elif line == Line.DENOMINATOR:
            definition = "The number the percentage is out of."
        elif line == Line.PERCENTAGE:
            definition = "The first count as a percentage of the second."
        else:
            definition = kpi.definition if first_of_kpi else ""
        put = table.position
        sheet.write(row, put("code"), kpi.code, f["cell"])
        sheet.write(row, put("label"), kpi_row.label, f["cell"])
        sheet.write(row, put("definition"), definition, f["cell"])
        sheet.write(row, put("unit"), UNIT_LABELS.get(Unit(kpi_row.unit), kpi_row.unit), f["cell"])
        sheet.write(
            row,
            put("target"),
            target_text(kpi_row.item, self.contract, self.quarter) if kpi_row.shows_target else "",
            f["cell"],
        )
        last = _last_quarter(kpi_row, previous)
        if last is None:
            sheet.write_blank(row, put("last_quarter"), None, f["number"])
        else:
            sheet.write_number(row, put("last_quarter"), float(last), f["number"])
        value_column = put("value")
        if line == Line.DERIVED:
            sheet.write(
                row, value_column, f"Worked out from the {self.layout.outcomes.sheet} sheet", f["derived"]
            )
        elif line == Line.PERCENTAGE:
            numerator = xlsxwriter.utility.xl_rowcol_to_cell(row - 2, value_column)
            denominator = xlsxwriter.utility.xl_rowcol_to_cell(row - 1, value_column)
            sheet.write_formula(
                row,
                value_column,
                f"=IF(AND(ISNUMBER({numerator}),ISNUMBER({denominator}),{denominator}>0),"
                f'100*{numerator}/{denominator},"")',
                f["percentage"],
                "",
            )
        else:
            self._input_cell(sheet, row, value_column, kpi_row)
        sheet.write(row, put("kpi_code"), kpi.code, f["tag"])
        sheet.write(row, put("breakdown"), kpi_row.breakdown, f["tag"])
        sheet.write(row, put("line"), line, f["tag"])
        if len(definition) > 60:
            sheet.set_row(row, 15 * (len(definition) // 55 + 1))

    def _input_cell(self, sheet: Worksheet, row: int, column: int, kpi_row: KpiRow) -> None:
        unit = kpi_row.unit
        if unit == Unit.COUNT:
            cell_format = self.input_fmt[Unit.COUNT]
            rule: dict[str, Any] = {"validate": "integer", "criteria": "between", "minimum": 0}
            rule["maximum"] = LARGEST_FIGURE
            error = "Enter a whole number of 0 or more, like 12."
        elif unit == Unit.PERCENTAGE:
            cell_format = self.input_fmt["decimal"]
            rule = {"validate": "decimal", "criteria": "between", "minimum": 0, "maximum": 100}
            error = "Enter a percentage from 0 to 100, like 85."
        else:
            cell_format = (
                self.input_fmt[Unit.CURRENCY] if unit == Unit.CURRENCY else self.input_fmt["decimal"]
            )
            rule = {"validate": "decimal", "criteria": "between", "minimum": 0, "maximum": LARGEST_FIGURE}
            error = "Enter a number of 0 or more, like 12.5."
        sheet.write_blank(row, column, None, cell_format)
        rule.update(
            {
                "input_title": _clip(kpi_row.kpi.code, MAX_PROMPT_TITLE),
                "input_message": _clip(f"Enter {kpi_row.describe()}.", MAX_PROMPT_MESSAGE),
                "error_title": "Check this figure",
                "error_message": error,
            }
        )
        sheet.data_validation(row, column, row, column, rule)

    def outcomes(self) -> None:
        layout, table = self.layout, self.layout.outcomes
        sheet = self._sheet(table.sheet)
        f = self.fmt
        self._title(sheet, f"Outcome measures for cases closed in {self.quarter.label}")
        sheet.merge_range(
            1,
            1,
            1,
            4,
            "Do not enter names, initials, dates of birth, case numbers or anything else that could "
            "identify someone: only the measure and the two scores.",
            f["warning"],
        )
        sheet.set_row(1, 32)
        sheet.merge_range(
            2,
            1,
            2,
            4,
            "One row for each case closed in the quarter with scores from the start and the end of "
            "support. SDQ: total difficulties score, 0 to 40, and who completed it (parent, teacher or "
            "self). WEMWBS: total score, 14 to 70. SWEMWBS: raw total, 7 to 35 (converted for you). "
            "Leave the informant blank for WEMWBS and SWEMWBS.",
            f["text"],
        )
        sheet.set_row(2, 62)
        header = 4
        start = self._start(sheet, table, header)
        first, last = start + 1, start + layout.outcome_rows
        put = table.position
        choice, score = self.input_fmt["choice"], self.input_fmt[Unit.COUNT]
        for row in range(first, last + 1):
            sheet.write_blank(row, put("measure"), None, choice)
            sheet.write_blank(row, put("informant"), None, choice)
            sheet.write_blank(row, put("pre_score"), None, score)
            sheet.write_blank(row, put("post_score"), None, score)
        sheet.data_validation(
            first,
            put("measure"),
            last,
            put("measure"),
            {
                "validate": "list",
                "source": list(layout.measures),
                "input_title": "Measure",
                "input_message": "Choose SDQ, WEMWBS or SWEMWBS.",
                "error_title": "Choose a measure",
                "error_message": "Choose SDQ, WEMWBS or SWEMWBS from the list.",
            },
        )
        sheet.data_validation(
            first,
            put("informant"),
            last,
            put("informant"),
            {
                "validate": "list",
                "source": list(layout.informants),
                "input_title": "Who completed the SDQ",
                "input_message": "For SDQ only: parent, teacher or self. Leave blank for WEMWBS and SWEMWBS.",
                "error_title": "Choose who completed it",
                "error_message": "Choose parent, teacher or self from the list.",
            },
        )
        sheet.data_validation(
            first,
            put("pre_score"),
            last,
            put("post_score"),
            {
                "validate": "integer",
                "criteria": "between",
                "minimum": 0,
                "maximum": 70,
                "input_title": "Score",
                "input_message": "The total score: SDQ 0 to 40, WEMWBS 14 to 70, SWEMWBS raw 7 to 35.",
                "error_title": "Check this score",
                "error_message": "Enter the total score as a whole number: SDQ 0 to 40, WEMWBS 14 to 70, "
                "SWEMWBS 7 to 35.",
            },
        )
        self._end(sheet, table, last + 1)
        sheet.freeze_panes(header + 1, 0)
        self._protect(sheet)

    def commentary(self, items: list[FrameworkItem], change_warning_pct: int) -> None:
        table = self.layout.commentary
        sheet = self._sheet(table.sheet)
        f = self.fmt
        self._title(sheet, f"Commentary, {self.quarter.label}")
        sheet.write(
            1,
            1,
            "Explain any KPI below target, and any figure that changed by more than "
            f"{change_warning_pct}% since last quarter. Write about the service: never name or describe anyone.",
            f["plain"],
        )
        header = 3
        start = self._start(sheet, table, header)
        row = start
        put = table.position
        for item in items:
            row += 1
            sheet.write(row, put("code"), item.kpi.code, f["cell"])
            sheet.write(row, put("label"), item.kpi.name, f["cell"])
            sheet.write(row, put("target"), target_text(item, self.contract, self.quarter), f["cell"])
            sheet.write_blank(row, put("explanation"), None, self.input_fmt["text"])
            sheet.write(row, put("kpi_code"), item.kpi.code, f["tag"])
            sheet.set_row(row, 45)
        self._end(sheet, table, row + 1)
        sheet.freeze_panes(header + 1, 0)
        self._protect(sheet)

    def metadata(self, key: bytes) -> None:
        table = self.layout.metadata
        sheet = self._sheet(table.sheet)
        start = self._start(sheet, table, None)
        signed: dict[str, str | int] = {
            MetadataKey.TEMPLATE_VERSION: self.layout.version,
            MetadataKey.CONTRACT_ID: self.contract.id,
            MetadataKey.CONTRACT_REFERENCE: self.contract.reference,
            MetadataKey.PERIOD: str(self.quarter),
            MetadataKey.GENERATED_AT: self.generated_at.isoformat(timespec="seconds"),
        }
        values = [*signed.items(), (MetadataKey.SIGNATURE, sign(signed, key))]
        put = table.position
        row = start
        for key_name, value in values:
            row += 1
            sheet.write_string(row, put("key"), key_name)
            sheet.write(row, put("value"), value)
        self._end(sheet, table, row + 1)
        sheet.hide()
        self._protect(sheet)

    # -- helpers -----------------------------------------------------------

    def _sheet(self, name: str) -> Worksheet:
        sheet = self.book.add_worksheet(name)
        # Column A carries the tags the importer looks for; providers never need it.
        sheet.set_column(0, 0, 2, None, {"hidden": True})
        return sheet

    def _title(self, sheet: Worksheet, text: str) -> None:
        """The sheet's title in row 1, tagged so the importer can check the quarter it names."""
        sheet.write(0, 1, text, self.fmt["title"])
        sheet.write_string(0, TAG_COLUMN, TITLE_TAG, self.fmt["tag"])

    def _start(self, sheet: Worksheet, table: Table, header_row: int | None) -> int:
        """Writes the visible header (if any) and the hidden START row naming each column; returns its row."""
        start = 0 if header_row is None else header_row + 1
        for number, column in enumerate(table.columns, start=1):
            sheet.set_column(number, number, column.width, None, {"hidden": column.hidden})
            if header_row is not None:
                sheet.write(header_row, number, column.header, self.fmt["header"])
            sheet.write_string(start, number, column.key, self.fmt["tag"])
        sheet.write_string(start, 0, table.start_tag, self.fmt["tag"])
        sheet.set_row(start, None, None, {"hidden": True})
        return start

    def _end(self, sheet: Worksheet, table: Table, row: int) -> None:
        sheet.write_string(row, 0, table.end_tag, self.fmt["tag"])
        sheet.set_row(row, None, None, {"hidden": True})

    def _protect(self, sheet: Worksheet) -> None:
        # No password: the layout is protected from slips, not from the provider.
        sheet.protect("", {"format_columns": True, "format_rows": True})

    def close(self) -> bytes:
        self.book.close()
        return self.buffer.getvalue()


def _last_quarter(kpi_row: KpiRow, previous: dict[tuple[str, str], PreviousFigure]) -> Decimal | None:
    figure = previous.get((kpi_row.kpi.code, kpi_row.breakdown))
    if figure is None:
        return None
    if kpi_row.line == Line.NUMERATOR:
        return figure.numerator
    if kpi_row.line == Line.DENOMINATOR:
        return figure.denominator
    return figure.value
