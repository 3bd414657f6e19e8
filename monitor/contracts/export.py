"""Excel exports of the register and the funding summary (xlsxwriter).

Every sheet of data is a real Excel table (named columns, a style, filter
buttons) under a frozen header, written from a list of column specs by one
helper, so all sheets share the same formats and behaviour. Text is always
written with ``write_string``, so a value such as ``=HYPERLINK(...)`` typed
into a contract title stays text and never becomes a formula.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time
from decimal import Decimal
from io import BytesIO
from typing import Any, Literal

import xlsxwriter
from sqlalchemy.orm import Session
from xlsxwriter.format import Format
from xlsxwriter.workbook import Workbook
from xlsxwriter.worksheet import Worksheet

from monitor.auth.models import Organisation, User
from monitor.clock import today as clock_today
from monitor.contracts import funding
from monitor.contracts.dates import renewal_of
from monitor.contracts.models import Contract
from monitor.contracts.queries import SORTS, RegisterFilters, all_register_rows
from monitor.contracts.renewal import DATE_KIND_NAMES
from monitor.formatting import count_text, day_text, sentence_case

XLSX_MIMETYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

MONEY_FORMAT = "£#,##0.00"
DATE_FORMAT = "d mmmm yyyy"  # 31 March 2014, as the pages and the board pack write a day
TABLE_STYLE = "Table Style Medium 2"
AGGREGATE_NOTE = (
    "Only aggregate figures are held: contract values and funding totals. The register holds no "
    "information about individual survivors, victims or other people using services."
)

Kind = Literal["text", "money", "date", "number"]
Cell = str | int | Decimal | date | None


@dataclass(frozen=True)
class Column:
    header: str
    kind: Kind = "text"
    total: bool = False  # summed in the table's total row (money columns)


def _formats(workbook: Workbook) -> dict[str, Format]:
    """The handful of cell formats every sheet uses, keyed by column kind."""
    return {
        "text": workbook.add_format({"valign": "top"}),
        "money": workbook.add_format({"num_format": MONEY_FORMAT, "valign": "top"}),
        "date": workbook.add_format({"num_format": DATE_FORMAT, "valign": "top", "align": "left"}),
        "number": workbook.add_format({"num_format": "0", "valign": "top", "align": "left"}),
        "title": workbook.add_format({"bold": True, "font_size": 14}),
        "label": workbook.add_format({"bold": True, "valign": "top"}),
        "wrap": workbook.add_format({"text_wrap": True, "valign": "top"}),
        "note": workbook.add_format({"italic": True}),
    }


def _display_width(value: Cell, kind: Kind) -> int:
    """Roughly how many characters Excel needs to show a value."""
    if value is None:
        return 0
    if kind == "money":
        return len(f"£{Decimal(str(value)):,.2f}")
    if kind == "date":
        return 11  # "30 Sep 2014"
    return len(str(value))


def _write_cell(sheet: Worksheet, row: int, col: int, value: Cell, kind: Kind, fmt: Format) -> None:
    if value is None or value == "":
        sheet.write_blank(row, col, None, fmt)
    elif kind == "date":
        assert isinstance(value, date)
        sheet.write_datetime(row, col, datetime.combine(value, time()), fmt)
    elif kind in ("money", "number"):
        assert isinstance(value, int | Decimal)
        sheet.write_number(row, col, float(value), fmt)
    else:
        sheet.write_string(row, col, str(value), fmt)


def _write_table(
    sheet: Worksheet,
    formats: dict[str, Format],
    *,
    name: str,
    columns: Sequence[Column],
    rows: Sequence[Sequence[Cell]],
    total_row: bool = False,
    empty_note: str = "Nothing to show.",
) -> None:
    """Write ``rows`` as an Excel table at A1 with a frozen header and fitted widths.

    Excel tables need at least one data row, so an empty result gets a single
    blank row (which is what Excel itself leaves when every row is deleted) and
    a note underneath saying there is nothing to show.
    """
    data_rows = len(rows) or 1
    last_row = data_rows + (1 if total_row else 0)
    table_columns: list[dict[str, Any]] = []
    for index, column in enumerate(columns):
        spec: dict[str, Any] = {"header": column.header, "format": formats[column.kind]}
        if total_row and index == 0:
            spec["total_string"] = "Total"
        elif total_row and column.total:
            spec["total_function"] = "sum"
            # The cached result, so the total shows before Excel recalculates.
            spec["total_value"] = float(sum((Decimal(str(r[index] or 0)) for r in rows), Decimal(0)))
        table_columns.append(spec)
    # xlsxwriter only warns about a bad table (and leaves it out), so insist on it.
    added = sheet.add_table(
        0,
        0,
        last_row,
        len(columns) - 1,
        {
            "name": name,
            "style": TABLE_STYLE,
            "autofilter": True,
            "total_row": total_row,
            "columns": table_columns,
        },
    )
    if added != 0:
        raise ValueError(f"Could not add the {name} table to the workbook")
    for row_number, row in enumerate(rows, start=1):
        for col, (column, value) in enumerate(zip(columns, row, strict=True)):
            _write_cell(sheet, row_number, col, value, column.kind, formats[column.kind])
    if not rows:
        sheet.write_string(last_row + 2, 0, empty_note, formats["note"])
    sheet.freeze_panes(1, 0)
    for col, column in enumerate(columns):
        longest = max((_display_width(row[col], column.kind) for row in rows), default=0)
        # Room for the filter button beside the header; very long text is cut short.
        width = max(len(column.header) + 4, longest + 2, 8)
        sheet.set_column(col, col, min(width, 60))


def _write_about(
    workbook: Workbook, formats: dict[str, Format], title: str, facts: Sequence[tuple[str, Cell]]
) -> None:
    """An "About" sheet: what the workbook is, when it was made, and for whom."""
    sheet = workbook.add_worksheet("About")
    sheet.set_column(0, 0, 24)
    sheet.set_column(1, 1, 90)
    sheet.write_string(0, 0, title, formats["title"])
    for row, (label, value) in enumerate(facts, start=2):
        sheet.write_string(row, 0, label, formats["label"])
        kind: Kind = "date" if isinstance(value, date) else "text"
        _write_cell(sheet, row, 1, value, kind, formats[kind] if kind == "date" else formats["wrap"])
    sheet.write_string(len(facts) + 3, 0, "Note", formats["label"])
    sheet.write_string(len(facts) + 3, 1, AGGREGATE_NOTE, formats["wrap"])


def _new_workbook(buffer: BytesIO, title: str, generated: date) -> Workbook:
    workbook = xlsxwriter.Workbook(buffer, {"in_memory": True})
    workbook.set_properties(
        {"title": title, "author": "Commissioning monitor", "created": datetime.combine(generated, time())}
    )
    return workbook


def _finish(workbook: Workbook, buffer: BytesIO) -> BytesIO:
    workbook.close()
    buffer.seek(0)
    return buffer


def _prepared_for(user: User) -> str:
    return f"{user.name} ({user.scope_name})"


# --- the register ----------------------------------------------------------------

REGISTER_COLUMNS = (
    Column("Reference"),
    Column("Service"),
    Column("Service type"),
    Column("Category"),
    Column("Agreement"),
    Column("Provider"),
    Column("Lead commissioner"),
    Column("Partner commissioners"),
    Column("Status"),
    Column("Start date", "date"),
    Column("End date", "date"),
    Column("Maximum extent", "date"),
    Column("Last notice date", "date"),
    Column("Decision by", "date"),
    Column("Notice (months)", "number"),
    Column("Annual value", "money"),
    Column("Total value of terms in force", "money"),
    Column("Funding recorded", "money"),
    Column("Contract manager"),
)


def _organisation_name(session: Session, organisation_id: int) -> str:
    organisation = session.get(Organisation, organisation_id)
    return organisation.name if organisation is not None else f"organisation {organisation_id}"


def describe_filters(session: Session, filters: RegisterFilters, today: date) -> list[str]:
    """The filters in words, one per line, for the About sheet."""
    described: list[str] = []
    if filters.status:
        described.append(f"Status: {filters.status}")
    if filters.category:
        described.append(f"Category: {filters.category}")
    if filters.service_type:
        described.append(f"Service type: {filters.service_type}")
    if filters.provider_id is not None:
        described.append(f"Provider: {_organisation_name(session, filters.provider_id)}")
    if filters.commissioner_id is not None:
        described.append(
            f"Commissioner (lead or partner): {_organisation_name(session, filters.commissioner_id)}"
        )
    if filters.funder_id is not None:
        described.append(f"Funded by: {_organisation_name(session, filters.funder_id)}")
    if filters.ends_within_months is not None:
        months = filters.ends_within_months
        described.append(
            f"{DATE_KIND_NAMES[filters.date_kind]} within {count_text(months, 'month')} of {day_text(today)}"
        )
    if filters.search:
        described.append(f"Reference or service contains “{filters.search}”")
    return described or ["None: every contract you can see"]


def _register_row(contract: Contract, status: str, today: date) -> list[Cell]:
    renewal = renewal_of(contract, today)
    return [
        contract.reference,
        contract.title,
        contract.service_type,
        sentence_case(contract.category),
        contract.agreement_type,
        contract.provider.name,
        contract.lead_commissioner.name,
        "; ".join(org.name for org in contract.partner_commissioners),
        sentence_case(status),
        contract.start_date,
        contract.end_date,
        renewal.maximum_extent_date,
        renewal.last_notice_date,
        renewal.decision_by,
        contract.notice_period_months,
        contract.annual_value,
        contract.total_value,
        sum((line.amount for line in contract.funding_lines), Decimal(0)),
        contract.contract_manager,
    ]


def register_workbook(session: Session, user: User, filters: RegisterFilters, today: date) -> BytesIO:
    """The register as filtered on the page (every page, not just one), as a workbook."""
    rows = [
        _register_row(contract, status, today)
        for contract, status in all_register_rows(session, user, filters, today)
    ]
    buffer = BytesIO()
    workbook = _new_workbook(buffer, "Contract register", today)
    formats = _formats(workbook)
    _write_table(
        workbook.add_worksheet("Contracts"),
        formats,
        name="ContractRegister",
        columns=REGISTER_COLUMNS,
        rows=rows,
        empty_note="No contracts match these filters.",
    )
    order = "descending" if filters.descending else "ascending"
    _write_about(
        workbook,
        formats,
        "Contract register",
        [
            ("Generated as at", today),
            ("Prepared for", _prepared_for(user)),
            ("Contracts", f"{count_text(len(rows), 'contract')} you can see"),
            ("Filters", "\n".join(describe_filters(session, filters, today))),
            ("Sorted by", f"{SORTS[filters.sort]}, {order}"),
            (
                "Key dates",
                "Maximum extent, last notice date and decision by are worked out from the contract "
                "terms as at the date above. Funding recorded is the sum of every funding line, "
                "all years.",
            ),
        ],
    )
    return _finish(workbook, buffer)


# --- funding ---------------------------------------------------------------------


def _matrix_table(
    sheet: Worksheet, formats: dict[str, Format], name: str, row_header: str, matrix: funding.Matrix
) -> None:
    columns = [
        Column(row_header),
        *(Column(year, "money", total=True) for year in matrix.years),
        Column("Total", "money", total=True),
    ]
    rows: list[list[Cell]] = [
        [
            sentence_case(row),
            *(matrix.cell(row, year) for year in matrix.years),
            matrix.row_total(row),
        ]
        for row in matrix.rows
    ]
    _write_table(
        sheet,
        formats,
        name=name,
        columns=columns,
        rows=rows,
        total_row=True,
        empty_note="No funding recorded.",
    )


FUNDING_LINE_COLUMNS = (
    Column("Financial year"),
    Column("Contract reference"),
    Column("Service"),
    Column("Funder"),
    Column("Funding stream"),
    Column("Amount", "money", total=True),
)


def funding_workbook(session: Session, user: User, financial_year: str | None) -> BytesIO:
    """Funding by funder and by category (financial year columns), and every line."""
    generated = clock_today()
    buffer = BytesIO()
    workbook = _new_workbook(buffer, "Funding summary", generated)
    formats = _formats(workbook)
    _matrix_table(
        workbook.add_worksheet("By funder"),
        formats,
        "FundingByFunder",
        "Funder",
        funding.by_funder(session, user, financial_year),
    )
    _matrix_table(
        workbook.add_worksheet("By category"),
        formats,
        "FundingByCategory",
        "Category",
        funding.by_category(session, user, financial_year),
    )
    lines = funding.lines(session, user, financial_year)
    _write_table(
        workbook.add_worksheet("Funding lines"),
        formats,
        name="FundingLines",
        columns=FUNDING_LINE_COLUMNS,
        rows=[
            [
                line.financial_year,
                line.contract.reference,
                line.contract.title,
                line.funder.name,
                line.funding_stream,
                line.amount,
            ]
            for line in lines
        ],
        total_row=True,
        empty_note="No funding recorded.",
    )
    _write_about(
        workbook,
        formats,
        "Funding summary",
        [
            ("Generated as at", generated),
            ("Prepared for", _prepared_for(user)),
            ("Financial year", financial_year or "All years"),
            ("Funding lines", str(len(lines))),
            (
                "Coverage",
                "Funding for the contracts you can see. Financial years run from 1 April to 31 March.",
            ),
        ],
    )
    return _finish(workbook, buffer)
