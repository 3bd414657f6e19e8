"""The lean .xlsx reader reads what openpyxl's read-only, data-only mode reads.

openpyxl is the reference: every workbook here is read by both, and the
values, number formats and formulas must agree cell for cell."""

from __future__ import annotations

import io
import zipfile
from datetime import date, datetime
from typing import Any

import openpyxl
import pytest
import xlsxwriter

from monitor.kpis.returns.ingest import xlsx
from monitor.kpis.returns.ingest.file import DAMAGE, open_workbook
from monitor.kpis.returns.ingest.settings import FileLimits
from tests.kpis.fixtures.workbooks import rezip

SHEET = "xl/worksheets/sheet1.xml"


def _varied() -> bytes:
    """Every kind of cell a provider's program might save, with gaps between rows and columns."""
    buffer = io.BytesIO()
    book = xlsxwriter.Workbook(buffer, {"in_memory": True})
    sheet = book.add_worksheet("Figures")
    percent = book.add_format({"num_format": "0%"})
    day = book.add_format({"num_format": "dd/mm/yyyy"})
    money = book.add_format({"num_format": "£#,##0.00"})
    sheet.write("A1", "Referrals")
    sheet.write("C1", 12)
    sheet.write("D1", 4.565)
    sheet.write("E1", 0.85, percent)
    sheet.write_datetime("F1", datetime(2014, 1, 31), day)
    sheet.write("G1", 1234.5, money)
    sheet.write_boolean("A3", True)
    sheet.write_formula("B3", "=C1*2", None, 24)
    sheet.write_formula("C3", '="a"&"b"', None, "ab")
    sheet.write_formula("D3", "=1/0", None, "#DIV/0!")
    sheet.write_formula("E3", "=SUM(C1:D1)")  # xlsxwriter saves 0 as the result
    sheet.write("H6", "  spaced  ")
    sheet.write("A7", "")  # a written but empty cell
    sheet.write("B8", -3)
    sheet.write("C8", 1e-7)
    second = book.add_worksheet("Second")
    second.write("B2", "another sheet")
    book.close()
    return buffer.getvalue()


def _openpyxl_rows(content: bytes, sheet: str) -> tuple[list[tuple[Any, ...]], list[tuple[str, ...]]]:
    book = openpyxl.load_workbook(io.BytesIO(content), read_only=True, data_only=True)
    worksheet = book[sheet]
    worksheet.reset_dimensions()
    values, formats = [], []
    for cells in worksheet.iter_rows():
        values.append(tuple(getattr(cell, "value", None) for cell in cells))
        formats.append(tuple(getattr(cell, "number_format", None) or "General" for cell in cells))
    book.close()
    return values, formats


def _openpyxl_formulas(content: bytes, sheet: str) -> dict[str, str]:
    book = openpyxl.load_workbook(io.BytesIO(content), read_only=False)
    found = {
        cell.coordinate: str(getattr(cell.value, "text", cell.value))
        for row in book[sheet].iter_rows()
        for cell in row
        if cell.data_type == "f"
    }
    book.close()
    return found


def _ours(content: bytes, sheet: str) -> tuple[list[tuple[Any, ...]], list[tuple[str, ...]], list[int]]:
    book = xlsx.Workbook(content)
    rows = list(book.rows(sheet, with_formats=True))
    book.close()
    # A row openpyxl pads with nothing has no formats either.
    return [values for _, values, _ in rows], [formats for _, _, formats in rows], [n for n, _, _ in rows]


@pytest.mark.parametrize("sheet", ["Figures", "Second"])
def test_values_and_formats_agree_with_openpyxl(sheet: str) -> None:
    content = _varied()
    expected_values, expected_formats = _openpyxl_rows(content, sheet)
    values, formats, numbers = _ours(content, sheet)
    assert values == expected_values
    assert numbers == list(range(1, len(expected_values) + 1))
    assert [f for f, v in zip(formats, values, strict=True) if v] == [
        f for f, v in zip(expected_formats, expected_values, strict=True) if v
    ]


def test_kinds_of_value() -> None:
    values, formats, _ = _ours(_varied(), "Figures")
    assert values[0][:7] == ("Referrals", None, 12, 4.565, 0.85, datetime(2014, 1, 31), 1234.5)
    assert formats[0][4] == "0%" and formats[0][5] == "dd/mm/yyyy"
    assert values[2][:5] == (True, 24, "ab", "#DIV/0!", 0)
    assert values[5] == (None,) * 7 + ("  spaced  ",)
    assert values[7][1:3] == (-3, 1e-7)


def test_formulas_agree_with_openpyxl() -> None:
    content = _varied()
    book = xlsx.Workbook(content)
    expected = _openpyxl_formulas(content, "Figures")
    assert expected  # the workbook has formulas to compare
    assert {ref: book.formula("Figures", ref) for ref in expected} == expected
    assert book.formula("Figures", "A1") is None


def _with_sheet_xml(rows: str) -> bytes:
    content = _varied()
    head = (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
        '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>'
    )
    return rezip(content, replace={SHEET: (head + rows + "</sheetData></worksheet>").encode()})


def test_shared_formulas_inline_strings_and_cells_without_references() -> None:
    """Written by other programs: a shared formula (only its first cell holds the text),
    an inline string, rich text, and rows and cells with no reference at all."""
    content = _with_sheet_xml(
        '<row r="1"><c r="A1"><f t="shared" ref="A1:A3" si="0">B1*2</f></c>'
        '<c r="B1" t="inlineStr"><is><t>typed</t></is></c>'
        '<c r="C1" t="inlineStr"><is><r><t>rich </t></r><r><t>text</t></r></is></c></row>'
        '<row r="2"><c r="A2"><f t="shared" si="0"/></c></row>'
        "<row><c><v>7</v></c><c><v>8</v></c></row>"
    )
    expected_values, _ = _openpyxl_rows(content, "Figures")
    values, _, numbers = _ours(content, "Figures")
    assert values == expected_values == [(None, "typed", "rich text"), (None,), (7, 8)]
    assert numbers == [1, 2, 3]
    book = xlsx.Workbook(content)
    assert book.formula("Figures", "A1") == "=B1*2"
    assert book.formula("Figures", "A2") == "=B2*2" == _openpyxl_formulas(content, "Figures")["A2"]


def test_a_date_in_the_1904_system() -> None:
    content = _varied()
    workbook_xml = io.BytesIO(content)
    with zipfile.ZipFile(workbook_xml) as package:
        text = package.read("xl/workbook.xml").decode()
    text = text.replace("<workbookPr", '<workbookPr date1904="1"', 1)
    changed = rezip(content, replace={"xl/workbook.xml": text.encode()})
    values, _, _ = _ours(changed, "Figures")
    assert values[0][5] == datetime(2018, 2, 1) == _openpyxl_rows(changed, "Figures")[0][0][5]
    assert values[0][5].date() != date(2014, 1, 31)


LAUGHS = (
    '<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;">]>'
    '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>'
    '<row r="1"><c r="A1" t="inlineStr"><is><t>&lol2;</t></is></c></row></sheetData></worksheet>'
)


def test_a_part_declaring_a_document_type_is_damage_not_parsed() -> None:
    """No entity is ever expanded: XML in an .xlsx never declares a document type."""
    content = rezip(_varied(), replace={SHEET: LAUGHS.encode()})
    book = xlsx.Workbook(content)
    with pytest.raises(DAMAGE):
        list(book.rows("Figures"))
    utf16 = rezip(_varied(), replace={SHEET: LAUGHS.replace("<!DOCTYPE", "<!-- -->").encode("utf-16")})
    with pytest.raises(DAMAGE):
        list(xlsx.Workbook(utf16).rows("Figures"))


def test_a_document_type_in_the_workbook_part_is_a_damaged_file() -> None:
    content = _varied()
    with zipfile.ZipFile(io.BytesIO(content)) as package:
        text = package.read("xl/workbook.xml").decode()
    text = text.replace("?>", '?><!DOCTYPE workbook [<!ENTITY x "x">]>', 1)
    opened, messages = open_workbook(
        rezip(content, replace={"xl/workbook.xml": text.encode()}), "r.xlsx", FileLimits()
    )
    assert opened is None
    assert [m.message for m in messages] == [
        "The file is damaged or incomplete (it may not have finished uploading). Open it in Excel, "
        "save it as an Excel Workbook (.xlsx) and upload it again."
    ]
