"""A sheet per theme: its KPIs quarter by quarter, any tables of its own
(outcome measures, value for money, spend by funder) and its charts."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from xlsxwriter.worksheet import Worksheet

from monitor.reports.sheets import finance, outcomes
from monitor.reports.sheets.charts import kind_for_unit, kpi_chart, place_charts
from monitor.reports.sheets.context import Context, Section, sheet_heading
from monitor.reports.sheets.kpis import kpi_series, table_columns, table_rows
from monitor.reports.sheets.tables import write_table

MoreSection = Callable[[Context, Worksheet, int], Section]


@dataclass(frozen=True)
class Theme:
    sheet: str
    table: str  # the Excel table name's stem
    categories: tuple[str, ...]  # KPI categories in the library
    intro: str
    more: MoreSection | None = None


THEMES = (
    Theme(
        "Performance and outputs",
        "Outputs",
        ("output",),
        "How much each service did: referrals, caseloads and completions, against the target for each quarter.",
    ),
    Theme(
        "Quality",
        "Quality",
        ("quality",),
        "How well each service worked: contact times, safety plans, waiting times and planned endings.",
    ),
    Theme(
        "Outcomes",
        "Outcomes",
        ("outcome",),
        "What changed for the people each service supported, and their before-and-after scores.",
        outcomes.write_outcome_measures,
    ),
    Theme(
        "Finance and value for money",
        "Finance",
        ("finance",),
        "What each service cost, who paid for it, and the cost per referral, completion and positive outcome.",
        finance.write_finance,
    ),
)


def _rating_colours(ctx: Context, sheet: Worksheet, first: int, last: int, column: int) -> None:
    # The rating is written as a word too: colour is never the only signal.
    for word, fill in (("Green", "green"), ("Amber", "amber"), ("Red", "red"), ("Not rated", "grey")):
        sheet.conditional_format(
            first,
            column,
            last,
            column,
            {"type": "cell", "criteria": "==", "value": f'"{word}"', "format": ctx.styles.fills[fill]},
        )


def write_kpi_table(ctx: Context, sheet: Worksheet, top: int, theme: Theme) -> Section:
    pack = ctx.pack
    series = kpi_series(pack, theme.categories)
    sheet.write_string(top, 0, "KPIs quarter by quarter", ctx.styles.heading)
    header = top + 1
    columns = table_columns(pack)
    rows = table_rows(pack, series)
    next_row = write_table(
        sheet,
        ctx.styles,
        header,
        f"{theme.table}KPIs",
        columns,
        rows,
        empty_note="None of these services has a KPI of this kind in its performance framework.",
    )
    if rows:
        rating_column = next(i for i, c in enumerate(columns) if c.header.startswith("Rating in"))
        _rating_colours(ctx, sheet, header + 1, header + len(rows), rating_column)
    charts = []
    for s in series:
        if not s.has_visible_figure():
            continue
        block = ctx.chart_data.add(
            s.label,
            "Quarter",
            [q.short_label for q in pack.quarters],
            {"Actual": s.plotted(pack.quarters), "Target": [s.targets.get(q.key) for q in pack.quarters]},
            kind_for_unit(s.unit),
        )
        charts.append(kpi_chart(ctx.workbook, block, s.label, s.unit))
    return Section(next_row, header if rows else None, charts)


def write_theme(ctx: Context, sheet: Worksheet, theme: Theme) -> None:
    top = sheet_heading(ctx, sheet, theme.sheet, theme.intro)
    sections = [write_kpi_table(ctx, sheet, top, theme)]
    if theme.more is not None:
        sections.append(theme.more(ctx, sheet, sections[-1].next_row))
    # Spend by funder first, then each KPI against its target.
    charts = [chart for section in reversed(sections) for chart in section.charts]
    row = sections[-1].next_row
    if charts:
        sheet.write_string(row, 0, "Charts", ctx.styles.heading)
        sheet.write_string(
            row + 1,
            0,
            "A quarter with no column or point is one whose figure is hidden ([c]) or not available ([x]). "
            "The dashed line is the target.",
            ctx.styles.note,
        )
        place_charts(sheet, charts, row + 2)
    headers = [s.first_header for s in sections if s.first_header is not None]
    # Keep the first table's header in view; the title rows stay above it.
    sheet.freeze_panes(headers[0] + 1 if headers else top, 0)
