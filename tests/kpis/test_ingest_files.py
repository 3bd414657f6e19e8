"""The file stage: anything that is not a real, safe .xlsx gets one clear message and no traceback."""

from __future__ import annotations

import io
import random
import zipfile

import pytest
from flask import Flask

from monitor.config import BaseConfig
from monitor.kpis.returns.ingest import annotate_workbook
from monitor.kpis.returns.ingest.file import OLE_SIGNATURE
from monitor.kpis.returns.ingest.result import CheckedReturn, Severity
from tests.kpis.fixtures.workbooks import fill, rezip, template
from tests.kpis.test_ingest import check, only

CONTENT_TYPES = (
    '<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/'
    'content-types"><Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-'
    'officedocument.spreadsheetml.sheet.main+xml"/></Types>'
)


def refused(result: CheckedReturn, content: bytes) -> str:
    message = only(result)
    assert (message.severity, message.sheet, message.cell, message.kpi) == (Severity.ERROR, "", "", "")
    assert not result.ok and result.figures == []
    assert "Traceback" not in message.message
    assert annotate_workbook(content, result.messages) is None
    return message.message


def bomb(size: int) -> bytes:
    """A small zip whose worksheet part unpacks to `size` bytes of spaces."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as archive:
        archive.writestr("[Content_Types].xml", CONTENT_TYPES)
        archive.writestr("xl/workbook.xml", "<workbook/>")
        with archive.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as part:
            chunk = b" " * (1024 * 1024)
            for _ in range(size // len(chunk)):
                part.write(chunk)
    return buffer.getvalue()


def test_truncated_zip(frameworks: Flask) -> None:
    content = fill(template())
    cut = content[: len(content) // 2]
    assert refused(check(cut), cut).startswith(
        "The file is damaged or incomplete (it may not have finished uploading)"
    )


def test_zip_bomb_refused_on_declared_size_before_unpacking(frameworks: Flask) -> None:
    content = bomb(BaseConfig.MAX_UNPACKED_BYTES + 8 * 1024 * 1024)
    assert len(content) < 1024 * 1024  # small on the wire
    text = refused(check(content), content)
    assert text.startswith("The file would unpack to 68 MB, more than the 60 MB a return can be")


def test_zip_bomb_refused_on_compression_ratio(frameworks: Flask) -> None:
    content = bomb(8 * 1024 * 1024)  # under the size limit, but compressed far beyond any workbook
    text = refused(check(content), content)
    assert text.startswith("Part of the file (xl/worksheets/sheet1.xml) is compressed")
    assert "which no real workbook is" in text


def test_csv_renamed_xlsx(frameworks: Flask) -> None:
    content = b"code,breakdown,value\r\nREF-RECEIVED,Police,12\r\nREF-RECEIVED,,32\r\n"
    assert refused(check(content), content).startswith(
        "This is a CSV (comma-separated text) file, not an Excel workbook"
    )


def _macro_workbook() -> bytes:
    content = fill(template())
    types = zipfile.ZipFile(io.BytesIO(content)).read("[Content_Types].xml").decode()
    types = types.replace("spreadsheetml.sheet.main+xml", "ms-excel.sheet.macroEnabled.main+xml").replace(
        "<Default Extension",
        '<Default Extension="bin" ContentType="application/vnd.ms-office.vbaProject"/><Default Extension',
        1,
    )
    return rezip(
        content, replace={"[Content_Types].xml": types.encode()}, add={"xl/vbaProject.bin": b"\x00" * 512}
    )


@pytest.mark.parametrize("filename", ["return.xlsx", "return.xlsm"])
def test_macro_workbook(frameworks: Flask, filename: str) -> None:
    content = _macro_workbook()
    assert refused(check(content, filename=filename), content).startswith("The workbook contains macros")


def test_macro_extension_alone_is_refused(frameworks: Flask) -> None:
    content = fill(template())
    assert only(check(content, filename="Return Q3.XLSM")).message.startswith("The workbook contains macros")


def test_macro_content_type_without_the_part(frameworks: Flask) -> None:
    content = fill(template())
    types = zipfile.ZipFile(io.BytesIO(content)).read("[Content_Types].xml")
    content = rezip(
        content,
        replace={
            "[Content_Types].xml": types.replace(
                b"spreadsheetml.sheet.main", b"ms-excel.sheet.macroEnabled.main"
            )
        },
    )
    assert refused(check(content), content).startswith("The workbook contains macros")


def test_password_protected_workbook(frameworks: Flask) -> None:
    # Excel saves an encrypted workbook as an OLE compound file, not a zip.
    content = OLE_SIGNATURE + bytes(4096 - len(OLE_SIGNATURE))
    assert refused(check(content), content) == (
        "The workbook is protected with a password; remove the password and upload it again."
    )


def test_old_xls_workbook(frameworks: Flask) -> None:
    content = OLE_SIGNATURE + bytes(1024) + "Workbook".encode("utf-16-le") + bytes(2048)
    assert refused(check(content), content).startswith("This is an older Excel file (.xls)")


def test_random_bytes(frameworks: Flask) -> None:
    content = random.Random(2013).randbytes(8000)
    assert refused(check(content), content).startswith(
        "This file is not an Excel workbook (.xlsx): it could not be read"
    )


def test_too_big(frameworks: Flask) -> None:
    content = b"PK\x03\x04" + bytes(20 * 1024 * 1024)
    assert refused(check(content), content).startswith("The file is larger than the 4 MB we accept.")


def test_empty_file(frameworks: Flask) -> None:
    assert refused(check(b""), b"") == "The file is empty. Upload the return workbook you filled in."


def test_word_document_renamed(frameworks: Flask) -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("word/document.xml", "<document/>")
    content = buffer.getvalue()
    assert refused(check(content), content).startswith("This is a Word document, not an Excel workbook.")


def test_zip_that_is_not_a_workbook(frameworks: Flask) -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("notes.txt", "hello")
    content = buffer.getvalue()
    assert refused(check(content), content).startswith(
        "This file is not an Excel workbook (.xlsx), though it is a zip"
    )


def test_damaged_sheet_inside_a_good_zip(frameworks: Flask) -> None:
    content = rezip(fill(template()), replace={"xl/worksheets/sheet2.xml": b"<worksheet><sheetData><row"})
    result = check(content)
    assert [(m.sheet, m.cell) for m in result.messages] == [("", "")]
    assert result.messages[0].message.startswith("The file is damaged or incomplete")


def test_upload_limit_is_a_setting(frameworks: Flask) -> None:
    content = fill(template())
    message = only(check(content, MAX_UPLOAD_BYTES=10_000))
    assert message.message.startswith("The file is larger than the 10 KB we accept.")
