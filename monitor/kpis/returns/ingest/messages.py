"""Making messages, and putting them in the order Excel would list the cells.

The wording of each problem a figure can have lives here, once, so a cell
that is blank, not a number, below 0, not whole or too precise reads the
same on every sheet (KPIs, outcomes) and in the web, API and CLI, which
only pass the checks' messages on. Each is followed by how to fix it
("Enter ... like 12"), and the message carries the sheet and cell.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

from monitor.kpis.returns.ingest.result import Message, Severity

_CELL = re.compile(r"^([A-Z]{1,3})(\d+)$")


BLANK = "This cell is blank."
NOT_A_DATE_FIGURE = "This cell holds a date, not a number."


def not_a_number(shown: str) -> str:
    """Words, N/A, TBC or a dash where a figure belongs: one wording for them all."""
    return f"'{shown}' is not a number."


def below_zero(shown: str) -> str:
    return f"{shown} is less than 0."


def not_whole(shown: str) -> str:
    return f"{shown} is not a whole number."


def error(sheet: str, cell: str, kpi: str, message: str) -> Message:
    return Message(sheet, cell, kpi, Severity.ERROR, message)


def warning(sheet: str, cell: str, kpi: str, message: str) -> Message:
    return Message(sheet, cell, kpi, Severity.WARNING, message)


def file_error(message: str) -> Message:
    """A message about the whole file rather than one cell."""
    return Message("", "", "", Severity.ERROR, message)


def has_errors(messages: Iterable[Message]) -> bool:
    return any(m.severity == Severity.ERROR for m in messages)


def cell_position(cell: str) -> tuple[int, int]:
    """'H12' -> (12, 8); '' -> (0, 0), so messages about a whole sheet come first."""
    match = _CELL.match(cell.upper())
    if not match:
        return (0, 0)
    letters, row = match.groups()
    column = 0
    for letter in letters:
        column = column * 26 + (ord(letter) - 64)
    return (int(row), column)


def sort_messages(messages: Iterable[Message], sheet_order: Sequence[str]) -> list[Message]:
    """File-wide messages first, then by sheet in workbook order, row, then column."""
    order = {name: number for number, name in enumerate(sheet_order)}

    def key(message: Message) -> tuple[int, int, int]:
        sheet = -1 if not message.sheet else order.get(message.sheet, len(order))
        return (sheet, *cell_position(message.cell))

    return sorted(messages, key=key)
