"""Reading a board pack back: its tables with openpyxl, its charts from the
zip (openpyxl does not read charts back), and the checks every pack must pass."""

from __future__ import annotations

import re
import zipfile
from dataclasses import dataclass
from io import BytesIO
from typing import Any
from xml.etree import ElementTree

import openpyxl
from openpyxl.utils.cell import range_boundaries
from openpyxl.workbook.workbook import Workbook

NS = {"c": "http://schemas.openxmlformats.org/drawingml/2006/chart"}
QUARTER_HEADER = re.compile(r"^Q[1-4] \d{4}/\d{2}$")


@dataclass
class Table:
    sheet: str
    name: str
    header: list[str]
    rows: list[list[Any]]
    first_row: int  # the header's row number (1-based, as Excel counts)
    first_col: int

    def column(self, header: str) -> list[Any]:
        index = self.header.index(header)
        return [row[index] for row in self.rows]

    def records(self) -> list[dict[str, Any]]:
        return [dict(zip(self.header, row, strict=True)) for row in self.rows]


@dataclass
class Series:
    chart: str  # the chart's part name, chart3.xml
    name: str
    values_ref: str  # 'Chart data'!$B$6:$B$9
    values_cache: list[float | None]  # None where the cache has no point (a gap)
    categories_ref: str


def open_pack(content: bytes) -> Workbook:
    return openpyxl.load_workbook(BytesIO(content))


def tables(workbook: Workbook) -> dict[str, Table]:
    found = {}
    for sheet in workbook.worksheets:
        for name in list(sheet.tables):
            table = sheet.tables[name]
            min_col, min_row, max_col, max_row = range_boundaries(table.ref)
            cells = [
                [sheet.cell(row, col).value for col in range(min_col, max_col + 1)]
                for row in range(min_row, max_row + 1)
            ]
            found[name] = Table(sheet.title, name, [str(h) for h in cells[0]], cells[1:], min_row, min_col)
    return found


def _text(element: ElementTree.Element | None, path: str) -> str:
    if element is None:
        return ""
    found = element.find(path, NS)
    return found.text or "" if found is not None else ""


def charts(content: bytes) -> dict[str, list[Series]]:
    """Every chart part and its series, with the figures Excel would show
    before it recalculates (the cached points)."""
    result: dict[str, list[Series]] = {}
    with zipfile.ZipFile(BytesIO(content)) as archive:
        for part in sorted(n for n in archive.namelist() if re.match(r"xl/charts/chart\d+\.xml$", n)):
            root = ElementTree.fromstring(archive.read(part))  # noqa: S314 - a workbook this test just made
            series = []
            for ser in root.iter(f"{{{NS['c']}}}ser"):
                values = ser.find("c:val/c:numRef", NS)
                count = (
                    int(values.find("c:numCache/c:ptCount", NS).get("val", "0")) if values is not None else 0
                )
                cache: list[float | None] = [None] * count
                if values is not None:
                    for point in values.findall("c:numCache/c:pt", NS):
                        cache[int(point.get("idx", "0"))] = float(_text(point, "c:v"))
                name = _text(ser, "c:tx/c:v") or _text(ser, "c:tx/c:strRef/c:f")
                categories = _text(ser, "c:cat/c:strRef/c:f") or _text(ser, "c:cat/c:numRef/c:f")
                series.append(Series(part.rsplit("/", 1)[1], name, _text(values, "c:f"), cache, categories))
            result[part.rsplit("/", 1)[1]] = series
    return result


def cells_of(workbook: Workbook, reference: str) -> list[Any]:
    """The values of a one-column or one-row range like 'Chart data'!$B$6:$B$9."""
    sheet_name, _, cells = reference.rpartition("!")
    sheet = workbook[sheet_name.strip("'").replace("''", "'")]
    min_col, min_row, max_col, max_row = range_boundaries(cells.replace("$", ""))
    return [sheet.cell(r, c).value for r in range(min_row, max_row + 1) for c in range(min_col, max_col + 1)]


def is_small(value: Any, threshold: int) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and 1 <= value <= threshold


def count_cells(workbook: Workbook) -> list[tuple[str, Any]]:
    """Every cell that holds a count of people: (where, value).

    KPI tables: the quarter columns of rows measured as a number. Exceptions:
    the figure of a KPI measured as a number. Value for money: referrals,
    completions and positive outcomes. Outcome measures: paired cases.
    Unmet need: the counts by cohort. Chart
    data: the actuals of a chart of a KPI measured as a number.
    """
    found: list[tuple[str, Any]] = []
    all_tables = tables(workbook)
    count_kpis: set[str] = set()  # "KPI name: reference", as chart titles say
    for table in all_tables.values():
        if not table.name.endswith("KPIs"):
            continue
        quarters = [h for h in table.header if QUARTER_HEADER.match(h)]
        for record in table.records():
            if record["Measured as"] != "Number":
                continue
            count_kpis.add(f"{record['KPI']}: {record['Service']}")
            found += [(f"{table.name} {record['Service']} {record['KPI']} {q}", record[q]) for q in quarters]
    exceptions = all_tables.get("Exceptions")
    for record in exceptions.records() if exceptions else []:
        if f"{record['KPI']}: {record['Service']}" in count_kpis:
            found.append((f"Exceptions {record['Service']} {record['KPI']}", record["Figure"]))
    vfm = all_tables.get("ValueForMoney")
    for record in vfm.records() if vfm else []:
        found += [
            (f"ValueForMoney {record['Service']} {m}", record[m])
            for m in ("Referrals", "Completions", "Positive outcomes")
        ]
    measures = all_tables.get("OutcomeMeasures")
    for record in measures.records() if measures else []:
        found.append((f"OutcomeMeasures {record['Service']} {record['Quarter']}", record["Paired cases"]))
    # Unmet need by cohort: every column but the cohort, the services
    # reporting and the share of children supported counts people.
    not_counts = {"Cohort", "Services reporting", "Share of children who received support"}
    for name in ("UnmetNeedReasons", "UnmetNeedSupport"):
        unmet = all_tables.get(name)
        for record in unmet.records() if unmet else []:
            found += [(f"{name} {record['Cohort']} {h}", v) for h, v in record.items() if h not in not_counts]
    chart_sheet = workbook["Chart data"]
    for table in all_tables.values():
        if table.sheet != "Chart data" or "Actual" not in table.header:
            continue
        title = chart_sheet.cell(table.first_row - 1, table.first_col).value
        if title in count_kpis:
            found += [(f"Chart data {title}", v) for v in table.column("Actual")]
    return found


def count_chart_refs(workbook: Workbook) -> set[str]:
    """The chart data ranges holding counts of people (the actuals of count KPIs)."""
    all_tables = tables(workbook)
    count_kpis = {
        f"{r['KPI']}: {r['Service']}"
        for t in all_tables.values()
        if t.name.endswith("KPIs")
        for r in t.records()
        if r["Measured as"] == "Number"
    }
    chart_sheet = workbook["Chart data"]
    refs = set()
    for table in all_tables.values():
        if table.sheet == "Chart data" and "Actual" in table.header:
            title = chart_sheet.cell(table.first_row - 1, table.first_col).value
            if title in count_kpis:
                col = openpyxl.utils.get_column_letter(table.first_col + table.header.index("Actual"))
                refs.add(
                    f"'Chart data'!${col}${table.first_row + 1}:${col}${table.first_row + len(table.rows)}"
                )
    return refs


def assert_no_small_counts(content: bytes, threshold: int) -> None:
    """No count of people from 1 to the threshold anywhere in the pack, and
    no chart caching a figure its sheet doesn't show."""
    workbook = open_pack(content)
    leaks = [(where, v) for where, v in count_cells(workbook) if is_small(v, threshold)]
    assert leaks == [], leaks
    count_refs = count_chart_refs(workbook)
    for part, series_list in charts(content).items():
        for series in series_list:
            shown = cells_of(workbook, series.values_ref)
            plotted = [v if isinstance(v, int | float) else None for v in shown]
            # The cache is what Excel shows before recalculating: it must be the sheet's figures.
            assert series.values_cache == [None if v is None else float(v) for v in plotted], (
                part,
                series.name,
            )
            if series.values_ref in count_refs:
                assert not any(is_small(v, threshold) for v in series.values_cache), (part, series.name)
