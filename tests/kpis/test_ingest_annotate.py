"""The provider's workbook back with its problems marked on the cells."""

from __future__ import annotations

import io
from decimal import Decimal

import openpyxl
from flask import Flask

from monitor.kpis.returns.ingest import annotate_workbook
from monitor.kpis.returns.ingest.annotate import ERROR_FILL, WARNING_FILL
from tests.kpis.fixtures.workbooks import Q4, add_return, fill, template
from tests.kpis.test_ingest import HALTON, check, with_figures


def test_errors_red_warnings_yellow_with_comments(frameworks: Flask) -> None:
    add_return(HALTON, "2013-14-Q3", {("REF-ACCEPTED", ""): Decimal(60)})
    content = fill(template(quarter=Q4), with_figures(**{"CASES-CLOSED//value": "N/A"}))
    result = check(content, quarter=Q4)
    assert [(m.severity.value, m.sheet, m.cell) for m in result.messages] == [
        ("error", "KPIs", "H8"),
        ("warning", "Commentary", "E10"),
    ]
    annotated = annotate_workbook(content, result.messages)
    assert annotated is not None
    book = openpyxl.load_workbook(io.BytesIO(annotated))
    error_cell, warning_cell = book["KPIs"]["H8"], book["Commentary"]["E10"]
    assert error_cell.fill.fgColor.rgb.endswith(ERROR_FILL)
    assert warning_cell.fill.fgColor.rgb.endswith(WARNING_FILL)
    assert error_cell.comment.text.startswith(
        "Error: 'N/A' is not a number. Enter the number of cases closed"
    )
    assert warning_cell.comment.text.startswith("Warning: Referrals accepted went from 60 last quarter")
    # The provider's own figures, protection and hidden metadata survive.
    assert book["KPIs"]["H12"].value == 28
    assert book["KPIs"].protection.sheet and book["Metadata"].sheet_state == "hidden"
    assert book["KPIs"]["H12"].comment is None
    # Still a workbook the checks read, giving the same answer.
    assert [m.cell for m in check(annotated, quarter=Q4).messages] == ["H8", "E10"]


def test_messages_on_one_cell_are_combined(frameworks: Flask) -> None:
    content = fill(template(), outcomes=[("SDQ", "mum", 41, 10)])
    result = check(content)
    annotated = annotate_workbook(content, result.messages)
    assert annotated is not None
    sheet = openpyxl.load_workbook(io.BytesIO(annotated))["Outcomes"]
    assert sheet["C7"].comment.text.startswith("Error: 'mum' is not one of the choices.")
    assert sheet["D7"].comment.text.startswith("Error: 41 is outside the range")


def test_file_level_messages_mark_nothing(frameworks: Flask) -> None:
    content = fill(template())
    result = check(content, quarter=Q4)
    annotated = annotate_workbook(content, result.messages)
    assert annotated is not None
    book = openpyxl.load_workbook(io.BytesIO(annotated))
    assert all(cell.comment is None for sheet in book for row in sheet.iter_rows() for cell in row)
