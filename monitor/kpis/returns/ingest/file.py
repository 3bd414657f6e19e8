"""Stage 1: is this a real, safe .xlsx at all?

Everything here looks at the bytes and the zip's central directory before any
part is unpacked: a zip bomb is refused on its declared sizes, a macro
workbook on its parts, a password-protected workbook (an OLE compound file,
not a zip) on its signature. Only then does openpyxl open it, read-only.
"""

from __future__ import annotations

import io
import logging
import warnings
import zipfile
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from types import TracebackType

from monitor.kpis.returns.ingest import xlsx
from monitor.kpis.returns.ingest.messages import file_error
from monitor.kpis.returns.ingest.result import Message
from monitor.kpis.returns.ingest.settings import FileLimits

log = logging.getLogger(__name__)
# What a damaged package raises as it is read: sheets are read lazily, so damage
# inside a part only shows when that part is read.
DAMAGE = (zipfile.BadZipFile, zlib.error, EOFError, OSError, SyntaxError, ValueError, KeyError, IndexError)

OLE_SIGNATURE = bytes.fromhex("D0CF11E0A1B11AE1")
ZIP_SIGNATURES = (b"PK\x03\x04", b"PK\x05\x06")
# A real return compresses its sheets by ten or twenty to one; a bomb by a thousand.
MAX_COMPRESSION_RATIO = 100
RATIO_CHECK_FROM_BYTES = 1024 * 1024
MAX_PARTS = 2000
MACRO_EXTENSIONS = (".xlsm", ".xltm", ".xlam", ".xlsb")
WORKBOOK_CONTENT_TYPES = (
    b"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml",
    b"application/vnd.openxmlformats-officedocument.spreadsheetml.template.main+xml",
)
MACRO_MARKERS = (b"macroenabled", b"vbaproject", b"ms-office.vbaproject")

DOWNLOAD_AGAIN = (
    "Download the template again, copy your figures into it and save it as an Excel Workbook (.xlsx)."
)
DAMAGED = (
    "The file is damaged or incomplete (it may not have finished uploading). Open it in Excel, "
    "save it as an Excel Workbook (.xlsx) and upload it again."
)
ENCRYPTED = "The workbook is protected with a password; remove the password and upload it again."
OLD_EXCEL = (
    "This is an older Excel file (.xls), not the .xlsx template. "
    "Open it in Excel and save it as an Excel Workbook (.xlsx), or "
    + DOWNLOAD_AGAIN[0].lower()
    + DOWNLOAD_AGAIN[1:]
)
MACROS = (
    "The workbook contains macros (it is a macro-enabled .xlsm file), which we do not accept. "
    + DOWNLOAD_AGAIN
)


@dataclass
class OpenedWorkbook:
    """A workbook opened for reading its cells' values (formulas are never evaluated)."""

    book: xlsx.Workbook
    sheet_names: list[str] = field(default_factory=list)

    def formula(self, sheet: str, cell: str) -> str | None:
        """The formula written in `sheet`!`cell`, if any. Asked only of cells that read as
        blank: a formula saved without its result reads as blank too."""
        try:
            return self.book.formula(sheet, cell)
        except DAMAGE:  # damage here was already met, and reported, reading the values
            log.info("formulas could not be read from %s", sheet, exc_info=True)
            return None

    def close(self) -> None:
        self.book.close()

    def __enter__(self) -> OpenedWorkbook:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, value: BaseException | None, trace: TracebackType | None
    ) -> None:
        self.close()


@contextmanager
def quiet_openpyxl() -> Iterator[None]:
    """openpyxl warns about Excel features it does not keep (extensions, styles); none of
    them matter for reading figures, and the provider cannot act on them."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        yield


def damaged() -> Message:
    return file_error(DAMAGED)


def _megabytes(size: int) -> str:
    """4 MB, 20.5 MB, 24 KB: sizes as people read them."""
    if size < 1024 * 1024:
        return f"{-(-size // 1024)} KB"
    return f"{size / (1024 * 1024):.1f}".removesuffix(".0") + " MB"


def too_large(limits: FileLimits) -> Message:
    """A file over the limit: said the same whether all of it was read (the CLI) or a
    channel stopped reading at the limit, so it names the limit, not the file's size."""
    return file_error(
        f"The file is larger than the {_megabytes(limits.max_upload_bytes)} we accept. The template is far "
        "smaller: remove any pictures or sheets you added, or "
        + DOWNLOAD_AGAIN[0].lower()
        + DOWNLOAD_AGAIN[1:]
    )


def check_package(content: bytes, filename: str, limits: FileLimits) -> list[Message]:
    """Every reason these bytes are not a safe .xlsx, without unpacking anything."""
    if not content:
        return [file_error("The file is empty. Upload the return workbook you filled in.")]
    if len(content) > limits.max_upload_bytes:
        return [too_large(limits)]
    if content.startswith(OLE_SIGNATURE):
        return [file_error(_describe_ole(content))]
    if not content.startswith(ZIP_SIGNATURES):
        return [file_error(_describe_not_zip(content))]
    if filename.lower().endswith(MACRO_EXTENSIONS):
        return [file_error(MACROS)]
    try:
        archive = zipfile.ZipFile(io.BytesIO(content))
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, EOFError, OSError, NotImplementedError):
        return [damaged()]
    with archive:
        return _check_parts(archive, limits)


def _check_parts(archive: zipfile.ZipFile, limits: FileLimits) -> list[Message]:
    parts = archive.infolist()
    if len(parts) > MAX_PARTS:
        return [
            file_error(
                f"The file holds {len(parts):,} parts, far more than a workbook has. " + DOWNLOAD_AGAIN
            )
        ]
    unpacked = sum(part.file_size for part in parts)
    if unpacked > limits.max_unpacked_bytes:
        return [
            file_error(
                f"The file would unpack to {_megabytes(unpacked)}, more than the "
                f"{_megabytes(limits.max_unpacked_bytes)} a return can be, so it has not been opened. "
                + DOWNLOAD_AGAIN
            )
        ]
    for part in parts:
        ratio = part.file_size / max(part.compress_size, 1)
        if part.file_size >= RATIO_CHECK_FROM_BYTES and ratio > MAX_COMPRESSION_RATIO:
            return [
                file_error(
                    f"Part of the file ({part.filename}) is compressed {ratio:,.0f} to 1, which no real "
                    "workbook is, so it has not been opened. " + DOWNLOAD_AGAIN
                )
            ]
        if part.flag_bits & 0x1:
            return [file_error(ENCRYPTED)]
    names = {part.filename for part in parts}
    if any(name.lower().endswith("vbaproject.bin") for name in names):
        return [file_error(MACROS)]
    if "[Content_Types].xml" not in names:
        return [file_error(_describe_other_zip(names))]
    try:
        content_types = archive.read("[Content_Types].xml")
    except (zipfile.BadZipFile, ValueError, EOFError, OSError, NotImplementedError):
        return [damaged()]
    lowered = content_types.lower()
    if any(marker in lowered for marker in MACRO_MARKERS):
        return [file_error(MACROS)]
    if not any(kind in content_types for kind in WORKBOOK_CONTENT_TYPES) or "xl/workbook.xml" not in names:
        return [file_error(_describe_other_zip(names))]
    return []


def _describe_ole(content: bytes) -> str:
    # Both an encrypted .xlsx and an old .xls are OLE compound files; the
    # stream names in the directory tell them apart.
    encrypted = "EncryptionInfo".encode("utf-16-le") in content
    old_workbook = any(name.encode("utf-16-le") in content for name in ("Workbook", "Book"))
    if old_workbook and not encrypted:
        return OLD_EXCEL
    return ENCRYPTED


def _describe_not_zip(content: bytes) -> str:
    head = content[:4096]
    if head.startswith(b"%PDF"):
        return "This is a PDF, not an Excel workbook. " + DOWNLOAD_AGAIN
    text = _as_text(head)
    if text is not None:
        lines = [line for line in text.splitlines() if line.strip()]
        if lines and any(sep in lines[0] for sep in (",", ";", "\t")):
            return (
                "This is a CSV (comma-separated text) file, not an Excel workbook, even if its name ends "
                ".xlsx. " + DOWNLOAD_AGAIN
            )
        return "This is a text file, not an Excel workbook, even if its name ends .xlsx. " + DOWNLOAD_AGAIN
    return "This file is not an Excel workbook (.xlsx): it could not be read at all. " + DOWNLOAD_AGAIN


def _as_text(head: bytes) -> str | None:
    for encoding in ("utf-8-sig", "utf-16"):
        try:
            text = head.decode(encoding)
        except UnicodeDecodeError:
            continue
        printable = sum(ch.isprintable() or ch in "\r\n\t" for ch in text)
        if text and printable / len(text) > 0.95:
            return text
    return None


def _describe_other_zip(names: set[str]) -> str:
    if "word/document.xml" in names:
        return "This is a Word document, not an Excel workbook. " + DOWNLOAD_AGAIN
    if "ppt/presentation.xml" in names:
        return "This is a PowerPoint file, not an Excel workbook. " + DOWNLOAD_AGAIN
    return "This file is not an Excel workbook (.xlsx), though it is a zip file. " + DOWNLOAD_AGAIN


def open_workbook(
    content: bytes, filename: str, limits: FileLimits
) -> tuple[OpenedWorkbook | None, list[Message]]:
    """The workbook opened read-only, or the messages saying why it cannot be."""
    problems = check_package(content, filename, limits)
    if problems:
        return None, problems
    try:
        book = xlsx.Workbook(content)
    except DAMAGE:
        log.info("return workbook could not be opened", exc_info=True)
        return None, [damaged()]
    return OpenedWorkbook(book, list(book.sheetnames)), []
