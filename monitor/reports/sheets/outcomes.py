"""Outcome measures: paired before-and-after scores (SDQ, WEMWBS, SWEMWBS)."""

from __future__ import annotations

import math
from typing import Any

from xlsxwriter.worksheet import Worksheet

from monitor.disclosure.suppression import CONFIDENTIAL, NOT_AVAILABLE
from monitor.reports.sheets.context import Context, Section
from monitor.reports.sheets.tables import Cell, Col, Figure, write_table

MEASURE_WORDS = {
    "SDQ": "SDQ total difficulties (a fall is better)",
    "WEMWBS": "WEMWBS wellbeing (a rise is better)",
    "SWEMWBS": "SWEMWBS wellbeing, metric score (a rise is better)",
}
COLUMNS = [
    Col("Service"),
    Col("Service name", "wrap", 40),
    Col("Provider", "wrap", 28),
    Col("Quarter"),
    Col("Measure", "wrap", 30),
    Col("Completed by"),
    Col("Paired cases", "figure"),
    Col("Average change in score", "figure"),
    Col("Share improved", "figure"),
    Col("Small sample"),
]


def _number(value: Any) -> float | None:
    if value is None:
        return None
    number = float(value)
    return None if math.isnan(number) else number


def _figure(value: Any, unit: str, display: str, hidden_with: bool = False) -> Figure:
    number = _number(value)
    if number is not None and not hidden_with:
        return Figure(number, unit)
    marker = display if str(display).startswith("[") else (CONFIDENTIAL if hidden_with else NOT_AVAILABLE)
    return Figure(None, unit, marker)


def outcome_rows(ctx: Context) -> list[list[Cell]]:
    frame = ctx.pack.outcomes
    if frame.empty:
        return []
    ordered = frame.sort_values(["contract_title", "period_sort", "measure", "informant"])
    references = {
        int(r["contract_id"]): r["contract_reference"] for r in ctx.pack.renewals.to_dict("records")
    } | {int(r["contract_id"]): r["contract_reference"] for r in ctx.pack.performance.to_dict("records")}
    rows: list[list[Cell]] = []
    for row in ordered.to_dict("records"):
        cases_hidden = _number(row["paired_cases"]) is None
        rows.append(
            [
                references.get(int(row["contract_id"]), ""),
                row["contract_title"],
                row["provider_name"],
                row["period_label"],
                MEASURE_WORDS.get(row["measure"], row["measure"]),
                (row["informant"] or "").capitalize() or "Not recorded",
                _figure(row["paired_cases"], "count", row["paired_cases_display"]),
                # A mean of a handful of scores is hidden with their number.
                _figure(row["mean_change"], "score", row["paired_cases_display"], hidden_with=cases_hidden),
                _figure(row["improved_pct"], "percentage", row["improved_display"]),
                "Yes: treat with caution" if row["small_sample"] else "No",
            ]
        )
    return rows


def write_outcome_measures(ctx: Context, sheet: Worksheet, top: int) -> Section:
    sheet.write_string(top, 0, "Outcome measures: before and after scores", ctx.styles.heading)
    sheet.write_string(
        top + 1,
        0,
        "Cases closed in the quarter with a score at the start and at the end. "
        "Fewer than 30 pairs is a small sample: one or two cases can move the result a long way.",
        ctx.styles.note,
    )
    header = top + 2
    rows = outcome_rows(ctx)
    next_row = write_table(
        sheet,
        ctx.styles,
        header,
        "OutcomeMeasures",
        COLUMNS,
        rows,
        empty_note="No outcome measures were reported for these services in these quarters.",
    )
    return Section(next_row, header if rows else None)
