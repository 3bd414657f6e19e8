"""Typing figures into a generated template the way a provider does: only
into the cells the template leaves unlocked, found by the same tags the
importer reads. Used by the demo data, the benchmark and the tests."""

from __future__ import annotations

import io
from collections.abc import Iterable, Mapping
from typing import Any

import openpyxl

from monitor.kpis.returns.template.layout import CURRENT_LAYOUT, Line, Table

# (KPI code, breakdown or "", line kind) -> what the provider types
InputKey = tuple[str, str, str]


class FillError(ValueError):
    """A figure for a row the template does not have, or a locked cell."""


def _rows(sheet: Any, table: Table) -> tuple[dict[str, int], list[int]]:
    columns: dict[str, int] = {}
    rows: list[int] = []
    inside = False
    for row in sheet.iter_rows():
        marker = row[0].value
        if marker == table.start_tag:
            columns = {cell.value: cell.column for cell in row[1:] if cell.value}
            inside = True
        elif marker == table.end_tag:
            break
        elif inside:
            rows.append(row[0].row)
    return columns, rows


def _put(sheet: Any, row: int, column: int, value: Any, number_format: str | None = None) -> None:
    cell = sheet.cell(row=row, column=column)
    if cell.protection.locked is not False:
        raise FillError(f"{sheet.title}!{cell.coordinate} is locked")
    cell.value = value
    if number_format:
        cell.number_format = number_format


def input_rows(content: bytes) -> list[InputKey]:
    """Every row of the KPIs sheet that takes a figure, in sheet order."""
    book = openpyxl.load_workbook(io.BytesIO(content))
    table = CURRENT_LAYOUT.kpis
    sheet = book[table.sheet]
    columns, rows = _rows(sheet, table)
    found = []
    for row in rows:
        code, breakdown, line = (
            str(sheet.cell(row=row, column=columns[name]).value or "")
            for name in ("kpi_code", "breakdown", "line")
        )
        if line in Line.INPUTS:
            found.append((code, breakdown, line))
    return found


def has_outcomes_sheet(content: bytes) -> bool:
    """Whether the template has an Outcomes sheet (only frameworks with outcome KPIs do)."""
    book = openpyxl.load_workbook(io.BytesIO(content), read_only=True)
    try:
        return CURRENT_LAYOUT.outcomes.sheet in book.sheetnames
    finally:
        book.close()


def _fill_outcomes(book: Any, outcomes: list[tuple[Any, ...]]) -> None:
    table = CURRENT_LAYOUT.outcomes
    if table.sheet not in book.sheetnames:
        raise FillError("this template has no Outcomes sheet: the framework has no outcome KPIs")
    sheet = book[table.sheet]
    columns, rows = _rows(sheet, table)
    names = ("measure", "informant", "pre_score", "post_score")
    if len(outcomes) > len(rows):
        raise FillError(f"the Outcomes sheet has room for {len(rows)} rows, not {len(outcomes)}")
    for row, values in zip(rows, outcomes, strict=False):
        for name, value in zip(names, values, strict=True):
            if value is not None:
                _put(sheet, row, columns[name], value)


def fill_template(
    content: bytes,
    figures: Mapping[InputKey, Any],
    outcomes: Iterable[tuple[Any, ...]] = (),
    commentary: Mapping[str, str] | None = None,
    formats: Mapping[InputKey, str] | None = None,
) -> bytes:
    """The template with figures, outcome rows (measure, informant, pre, post)
    and explanations typed in; a key the template lacks is an error, as are
    outcome rows for a template without an Outcomes sheet.
    `formats` gives a figure's cell a number format, as typing "85%" does."""
    book = openpyxl.load_workbook(io.BytesIO(content))
    layout = CURRENT_LAYOUT
    wanted = dict(figures)
    sheet = book[layout.kpis.sheet]
    columns, rows = _rows(sheet, layout.kpis)
    for row in rows:
        key = tuple(
            str(sheet.cell(row=row, column=columns[n]).value or "") for n in ("kpi_code", "breakdown", "line")
        )
        if key in wanted:
            _put(sheet, row, columns["value"], wanted.pop(key), (formats or {}).get(key))
    if wanted:
        raise FillError(f"not on the template: {sorted(wanted)}")
    outcome_list = list(outcomes)
    if outcome_list:
        _fill_outcomes(book, outcome_list)
    sheet = book[layout.commentary.sheet]
    columns, rows = _rows(sheet, layout.commentary)
    explanations = dict(commentary or {})
    for row in rows:
        code = sheet.cell(row=row, column=columns["kpi_code"]).value
        if code in explanations:
            _put(sheet, row, columns["explanation"], explanations.pop(code))
    if explanations:
        raise FillError(f"not on the Commentary sheet: {sorted(explanations)}")
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()
