"""The provider's own workbook back, with each cell that has a problem filled
(light red for errors, yellow for warnings) and the message as a comment."""

from __future__ import annotations

import io
import logging
from collections import defaultdict
from collections.abc import Iterable

import openpyxl
from openpyxl.comments import Comment
from openpyxl.styles import PatternFill

from monitor.kpis.returns.ingest.file import check_package, quiet_openpyxl
from monitor.kpis.returns.ingest.result import Message, Severity
from monitor.kpis.returns.ingest.settings import FileLimits

log = logging.getLogger(__name__)

ERROR_FILL = "FFC7CE"
WARNING_FILL = "FFEB9C"
AUTHOR = "Return checks"


def annotate_workbook(
    content: bytes,
    messages: Iterable[Message],
    *,
    limits: FileLimits | None = None,
    filename: str = "return.xlsx",
) -> bytes | None:
    """The workbook with its problems marked, or None if it cannot be opened at all.
    Messages about the whole file (no sheet or cell) are left out: the page lists them."""
    if check_package(content, filename, limits or FileLimits()):
        return None
    by_cell: dict[tuple[str, str], list[Message]] = defaultdict(list)
    for message in messages:
        if message.sheet and message.cell:
            by_cell[(message.sheet, message.cell)].append(message)
    try:
        with quiet_openpyxl():
            book = openpyxl.load_workbook(io.BytesIO(content), keep_links=False)
    except Exception:  # a damaged file: the page shows the messages instead
        log.info("return workbook could not be opened to annotate", exc_info=True)
        return None
    for (sheet_name, cell_ref), found in by_cell.items():
        if sheet_name not in book.sheetnames:
            continue
        try:
            cell = book[sheet_name][cell_ref]
        except (ValueError, KeyError):
            continue
        worst = Severity.ERROR if any(m.severity == Severity.ERROR for m in found) else Severity.WARNING
        colour = ERROR_FILL if worst == Severity.ERROR else WARNING_FILL
        text = "\n\n".join(f"{m.severity.value.capitalize()}: {m.message}" for m in found)
        try:
            cell.fill = PatternFill(fill_type="solid", start_color=colour, end_color=colour)
            comment = Comment(text, AUTHOR)
            comment.width = 320
            comment.height = 40 + 18 * (len(text) // 45 + 1)
            cell.comment = comment
        except AttributeError:  # part of a merged range: nothing to mark
            continue
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()
