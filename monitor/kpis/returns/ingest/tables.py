"""Finding a table in a sheet by its hidden START/END tags, and its columns by
the keys in the START row, never by fixed coordinates."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from openpyxl.utils import get_column_letter

from monitor.kpis.returns.ingest.file import DAMAGE, damaged
from monitor.kpis.returns.ingest.messages import error
from monitor.kpis.returns.ingest.result import Message
from monitor.kpis.returns.ingest.xlsx import Workbook
from monitor.kpis.returns.template.layout import TAG_COLUMN, TITLE_TAG, Table

log = logging.getLogger(__name__)
DOWNLOAD_AGAIN = "Download the template again and copy your figures into it."


class TableRow:
    """One row of a table: its values by column key, and the A1 reference of each."""

    # A plain class with slots: a table can have hundreds of rows and this is the hot path.
    __slots__ = ("columns", "formats", "row", "sheet", "values")

    def __init__(
        self,
        sheet: str,
        row: int,
        columns: dict[str, int],
        values: tuple[Any, ...],
        formats: tuple[str, ...] = (),
    ) -> None:
        self.sheet = sheet
        self.row = row  # the sheet row, counting from 1 as Excel does
        self.columns = columns  # key -> 0-based sheet column
        self.values = values
        self.formats = formats

    def get(self, key: str) -> Any:
        index = self.columns[key]
        return self.values[index] if index < len(self.values) else None

    def text(self, key: str) -> str:
        value = self.get(key)
        return "" if value is None else str(value).strip()

    def cell(self, key: str) -> str:
        return f"{get_column_letter(self.columns[key] + 1)}{self.row}"

    def number_format(self, key: str) -> str:
        index = self.columns[key]
        return self.formats[index] if index < len(self.formats) else "General"

    def is_blank(self, keys: tuple[str, ...]) -> bool:
        return all(self.text(key) == "" for key in keys)


@dataclass(frozen=True)
class Title:
    cell: str
    text: str


@dataclass(frozen=True)
class FoundTable:
    table: Table
    rows: list[TableRow]
    title: Title | None = None  # the sheet's visible title, where the template tagged it


def _tag(values: tuple[Any, ...]) -> str:
    if len(values) <= TAG_COLUMN or not isinstance(values[TAG_COLUMN], str):
        return ""
    return values[TAG_COLUMN].strip()


def _scan(
    book: Workbook, table: Table, with_formats: bool
) -> tuple[dict[str, int] | None, list[TableRow], bool, Title | None]:
    columns: dict[str, int] | None = None
    rows: list[TableRow] = []
    title: Title | None = None
    for number, values, formats in book.rows(table.sheet, with_formats=with_formats):
        tag = _tag(values)
        if columns is None:
            if tag == TITLE_TAG and title is None:
                # The title is the first thing written after the tag column.
                column = next(
                    (i for i, value in enumerate(values) if i > TAG_COLUMN and value not in (None, "")), None
                )
                if column is not None:
                    title = Title(f"{get_column_letter(column + 1)}{number}", str(values[column]).strip())
            elif tag == table.start_tag:
                columns = {
                    str(value).strip(): index
                    for index, value in enumerate(values)
                    if index != TAG_COLUMN and isinstance(value, str) and value.strip()
                }
            continue
        if tag == table.end_tag:
            return columns, rows, True, title
        if any(value is not None for value in values):
            rows.append(TableRow(table.sheet, number, columns, values, formats))
    return columns, rows, False, title


def read_table(
    book: Workbook, table: Table, *, with_formats: bool = False
) -> tuple[FoundTable | None, list[Message]]:
    """The rows between the table's START and END tags, or a message saying what is missing."""
    if table.sheet not in book.sheetnames:
        return None, [
            error(
                table.sheet,
                "",
                "",
                f"The {table.sheet} sheet is missing: it may have been deleted or renamed. {DOWNLOAD_AGAIN}",
            )
        ]
    try:
        columns, rows, ended, title = _scan(book, table, with_formats)
    except DAMAGE as problem:  # SyntaxError covers the XML parser's ParseError
        log.info("return workbook damaged in %s: %r", table.sheet, problem)
        return None, [damaged()]
    if columns is None or not ended:
        return None, [
            error(
                table.sheet,
                "",
                "",
                f"The table on the {table.sheet} sheet cannot be found: its hidden markers have been moved or "
                f"deleted, or this is not our template. {DOWNLOAD_AGAIN}",
            )
        ]
    missing = [key for key in table.keys if key not in columns]
    if missing:
        return None, [
            error(
                table.sheet,
                "",
                "",
                f"Columns are missing from the table on the {table.sheet} sheet ({', '.join(missing)}). "
                + DOWNLOAD_AGAIN,
            )
        ]
    return FoundTable(table, rows, title), []
