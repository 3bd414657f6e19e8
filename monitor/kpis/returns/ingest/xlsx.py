"""A lean reader for the sheets of an .xlsx: cell values, their number formats
and formulas, streamed row by row from the package's XML.

Why not openpyxl: reading a return is the hot path of every upload, and
openpyxl's read-only mode still builds an object per shared string and a
stylesheet model, sizes every sheet on opening and parses each cell through
generic descriptors. A return needs only values, number formats (to read 85%
typed into a percentage cell) and formulas (to tell a formula saved without
its result from a blank cell), so this reads just those, in one pass per
sheet, and gives what openpyxl's read-only, data-only mode gives:

- numbers as int or float, dates (a date-formatted number) as datetimes;
- shared and inline strings as plain text; booleans; error values as text
  such as "#DIV/0!"; a formula's saved result, None where it has none;
- each row padded from column A to its last cell, with empty rows between.

The package has already been checked (file.check_package: a real .xlsx, no
zip bomb, no macros) before anything here unpacks it, and a part with a
document type declaration is refused as damaged before it is parsed: XML in
an .xlsx never has one, and without one no entity can be declared, so there
is nothing to expand and nothing external to fetch (defusedxml would do the
same through the pure-Python parser, at several times the cost). Damage
surfaces as the exceptions file.DAMAGE lists: a missing part is a KeyError,
bad XML a ParseError (a SyntaxError), bad numbers a ValueError.
"""

from __future__ import annotations

import io
import posixpath
import zipfile
from collections.abc import Iterator
from datetime import datetime
from typing import Any
from xml.etree.ElementTree import Element, fromstring, iterparse

from openpyxl.formula.translate import Translator
from openpyxl.styles.numbers import BUILTIN_FORMATS, is_date_format, is_timedelta_format
from openpyxl.utils.cell import column_index_from_string, coordinate_from_string, get_column_letter
from openpyxl.utils.datetime import CALENDAR_MAC_1904, CALENDAR_WINDOWS_1900, from_excel

MAIN = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
RELATIONSHIPS = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}"
PACKAGE_RELATIONSHIPS = "{http://schemas.openxmlformats.org/package/2006/relationships}"
ROW, CELL, VALUE, FORMULA, INLINE, TEXT, RUN = (
    f"{MAIN}row",
    f"{MAIN}c",
    f"{MAIN}v",
    f"{MAIN}f",
    f"{MAIN}is",
    f"{MAIN}t",
    f"{MAIN}r",
)

Row = tuple[int, tuple[Any, ...], tuple[str, ...]]  # sheet row (from 1), values, number formats


def _text(element: Element | None) -> str:
    """A string item's text: its plain text or its runs' texts (phonetic guides left out)."""
    if element is None:
        return ""
    plain = element.find(TEXT)
    if plain is not None:
        return plain.text or ""
    return "".join(run.findtext(TEXT) or "" for run in element.iterfind(RUN))


def _number(text: str) -> int | float:
    return float(text) if ("." in text or "e" in text or "E" in text) else int(text)


class Workbook:
    """The sheets of one .xlsx, by name. Opening reads the workbook's parts list,
    sheet names, date system and number formats; shared strings are read once,
    when a sheet first needs them; sheets are read as they are iterated."""

    def __init__(self, content: bytes) -> None:
        self._zip = zipfile.ZipFile(io.BytesIO(content))
        self._paths = self._sheet_paths()
        self.sheetnames = list(self._paths)
        self._strings: list[str] | None = None
        self._formats, self._dates, self._durations = self._number_formats()
        self._formulas: dict[str, dict[str, str]] = {}  # sheet -> A1 reference -> formula
        self._read_to: dict[str, float] = {}  # sheet -> the last row read (inf: all of it)

    # Opening ------------------------------------------------------------------

    def _part(self, path: str) -> io.BytesIO:
        data = self._zip.read(path)
        # Excel writes UTF-8; a declaration in another encoding could hide a DOCTYPE from this test.
        if data.startswith((b"\xff\xfe", b"\xfe\xff", b"\x00<", b"<\x00")) or b"<!DOCTYPE" in data:
            raise ValueError(f"{path} declares a document type or is not UTF-8")
        return io.BytesIO(data)

    def _xml(self, path: str) -> Element:
        """A small part (the workbook, its relationships, the styles) parsed whole."""
        return fromstring(self._part(path).getvalue())  # noqa: S314 (checked by _part)

    def _sheet_paths(self) -> dict[str, str]:
        book = self._xml("xl/workbook.xml")
        relationships = self._xml("xl/_rels/workbook.xml.rels")
        targets = {
            r.get("Id"): r.get("Target", "")
            for r in relationships.iterfind(f"{PACKAGE_RELATIONSHIPS}Relationship")
        }
        properties = book.find(f"{MAIN}workbookPr")
        self.epoch = (
            CALENDAR_MAC_1904
            if properties is not None and properties.get("date1904") in ("1", "true")
            else CALENDAR_WINDOWS_1900
        )
        paths: dict[str, str] = {}
        for sheet in book.iterfind(f"{MAIN}sheets/{MAIN}sheet"):
            target = targets[sheet.get(f"{RELATIONSHIPS}id")]
            path = target.lstrip("/") if target.startswith("/") else posixpath.normpath(f"xl/{target}")
            paths[sheet.get("name", "")] = path
        return paths

    def _number_formats(self) -> tuple[list[str], set[int], set[int]]:
        """Each cell style's number format, and which styles make a number a date or a duration."""
        if "xl/styles.xml" not in self._zip.namelist():
            return [], set(), set()
        styles = self._xml("xl/styles.xml")
        custom = {
            int(f.get("numFmtId", "0")): f.get("formatCode", "General")
            for f in styles.iterfind(f"{MAIN}numFmts/{MAIN}numFmt")
        }
        formats = [
            custom.get(number, BUILTIN_FORMATS.get(number, "General"))
            for number in (int(xf.get("numFmtId", "0")) for xf in styles.iterfind(f"{MAIN}cellXfs/{MAIN}xf"))
        ]
        dates = {index for index, code in enumerate(formats) if is_date_format(code)}
        durations = {index for index in dates if is_timedelta_format(formats[index])}
        return formats, dates, durations

    def _shared_strings(self) -> list[str]:
        if self._strings is None:
            self._strings = []
            if "xl/sharedStrings.xml" in self._zip.namelist():
                with self._part("xl/sharedStrings.xml") as part:
                    for _, element in iterparse(part):  # noqa: S314 (checked by _part)
                        if element.tag == f"{MAIN}si":
                            # openpyxl drops this escape's marker too (an escaped underscore).
                            self._strings.append(_text(element).replace("x005F_", ""))
                            element.clear()
        return self._strings

    # Reading ------------------------------------------------------------------

    def rows(self, sheet: str, *, with_formats: bool = False) -> Iterator[Row]:
        """Every row of `sheet` from row 1, empty ones included, each padded from column A."""
        strings = self._shared_strings()
        formats, dates, durations = self._formats, self._dates, self._durations
        formulas: dict[str, str] = {}
        masters: dict[str, tuple[str, str]] = {}  # shared formula index -> (its cell, its formula)
        self._formulas[sheet] = formulas
        self._read_to[sheet] = 0
        expected_row = 1
        with self._part(self._paths[sheet]) as part:
            for _, element in iterparse(part):  # noqa: S314 (checked by _part)
                if element.tag != ROW:
                    continue
                number = int(element.get("r") or expected_row)
                while expected_row < number:  # rows with nothing in them are not written
                    yield expected_row, (), ()
                    expected_row += 1
                values: list[Any] = []
                styles: list[str] = []
                for cell in element.iterfind(CELL):
                    given = cell.get("r")
                    if given:
                        reference = given
                        column = column_index_from_string(given.rstrip("0123456789"))
                    else:  # some writers leave the reference out: the next column
                        column = len(values) + 1
                        reference = f"{get_column_letter(column)}{number}"
                    while len(values) < column - 1:
                        values.append(None)
                        styles.append("General")
                    style = int(cell.get("s") or 0)
                    formula = cell.find(FORMULA)
                    if formula is not None:
                        formulas[reference] = _formula(formula, reference, masters)
                    values.append(self._value(cell, strings, style in dates, style in durations))
                    if with_formats:
                        styles.append(formats[style] if style < len(formats) else "General")
                element.clear()
                self._read_to[sheet] = number
                yield number, tuple(values), (tuple(styles) if with_formats else ())
                expected_row = number + 1
        self._read_to[sheet] = float("inf")

    def _value(self, cell: Element, strings: list[str], is_date: bool, is_duration: bool) -> Any:
        kind = cell.get("t", "n")
        if kind == "inlineStr":
            found = cell.find(INLINE)
            return _text(found) if found is not None else None
        text = cell.findtext(VALUE) or None
        if text is None:
            return None  # blank, or a formula saved without its result
        if kind == "n":
            number = _number(text)
            if not is_date:
                return number
            try:
                return from_excel(number, self.epoch, timedelta=is_duration)
            except (OverflowError, ValueError):
                return "#VALUE!"  # marked as a date, but beyond any date: an error, as openpyxl reads it
        if kind == "s":
            return strings[int(text)]
        if kind == "b":
            return bool(int(text))
        if kind == "d":
            return datetime.fromisoformat(text.rstrip("Z"))
        return text  # "str" (a formula's text result) and "e" (an error such as #DIV/0!)

    def formula(self, sheet: str, reference: str) -> str | None:
        """The formula written in `sheet`!`reference`, if any. The rows already read
        answer it; otherwise (a table read only up to its end marker) the sheet is read
        through once more."""
        row = coordinate_from_string(reference)[1]
        if self._read_to.get(sheet, 0) < row:
            for _ in self.rows(sheet):
                pass
        return self._formulas[sheet].get(reference)

    def close(self) -> None:
        self._zip.close()


def _formula(element: Element, reference: str, masters: dict[str, tuple[str, str]]) -> str:
    """A cell's formula as written ("=SUM(B2:B4)"); a shared formula's other cells
    carry only an index, so their formula is the first cell's, moved to them."""
    text = "=" + (element.text or "")
    index = element.get("si")
    if element.get("t") != "shared" or index is None:
        return text
    if element.text:
        masters[index] = (reference, text)
        return text
    if index not in masters:
        return text
    origin, master = masters[index]
    return str(Translator(master, origin=origin).translate_formula(reference))
