"""Unmet need: the pack's quarter by cohort. Referrals the services could not
take (by reason), people waiting at the quarter's end, and children whose
support was asked for and who got it.

The figures are `PackData.unmet_need`: a board's mart_unmet_need rows, or a
commissioner's worked out by the ETL's own function after the board's
disclosure control (monitor.reports.pack_data), so a hidden figure is its
marker here as on the dashboard.
"""

from __future__ import annotations

import math
from typing import Any

import pandas as pd
from xlsxwriter.worksheet import Worksheet

from etl.transform.unmet_need import (
    CHILDREN_RECEIVED,
    CHILDREN_SHARE,
    CHILDREN_WANTED,
    MEASURES,
    NOT_TAKEN,
    WAITING,
)
from monitor.contracts.models import Cohort
from monitor.disclosure.suppression import NOT_AVAILABLE
from monitor.reports.sheets.context import Context, sheet_heading
from monitor.reports.sheets.tables import Cell, Col, Figure, write_table

SHEET_NAME = "Unmet need"
REASONS_TABLE = "UnmetNeedReasons"
SUPPORT_TABLE = "UnmetNeedSupport"
COHORT = Col("Cohort", "wrap", 30)
SERVICES = "Services reporting"
# Waiting and children's support, in this order, after the cohort.
SUPPORT_MEASURES = (WAITING, CHILDREN_WANTED, CHILDREN_RECEIVED, CHILDREN_SHARE)


def _figure(row: dict[str, Any] | None) -> Figure:
    """A cohort figure, or the marker the mart gives in its place."""
    if row is None:
        return Figure(None, "count", NOT_AVAILABLE)
    value = row["value"]
    if value is None or (isinstance(value, float) and math.isnan(value)):
        display = str(row["value_display"])
        return Figure(None, str(row["unit"]), display if display.startswith("[") else NOT_AVAILABLE)
    return Figure(float(value), str(row["unit"]))


def _cohorts(frame: pd.DataFrame) -> list[tuple[str, str]]:
    """(cohort, label) in the register's order of cohorts."""
    order = {cohort.value: number for number, cohort in enumerate(Cohort)}
    firsts = frame.drop_duplicates("cohort")
    pairs = zip(firsts["cohort"], firsts["cohort_label"], strict=True)
    return sorted(pairs, key=lambda pair: (order.get(pair[0], len(order)), pair[0]))


def _by_key(frame: pd.DataFrame) -> dict[tuple[str, str, str], dict[str, Any]]:
    return {(r["cohort"], r["measure"], r["part"]): r for r in frame.to_dict("records")}


def reasons_table(frame: pd.DataFrame) -> tuple[list[Col], list[list[Cell]]]:
    """Referrals not taken: a row per cohort, the total then each reason."""
    not_taken = frame[frame["measure"].eq(NOT_TAKEN)]
    parts = (
        not_taken[~not_taken["part"].eq("")]
        .drop_duplicates("part")
        .sort_values("part_sort")[["part", "part_label"]]
        .to_records(index=False)
        .tolist()
    )
    columns = [COHORT, Col("Referrals not taken", "figure")]
    columns += [Col(str(label), "figure") for _, label in parts]
    columns.append(Col(SERVICES, "integer"))
    cells = _by_key(not_taken)
    rows: list[list[Cell]] = []
    for cohort, label in _cohorts(not_taken):
        total = cells.get((cohort, NOT_TAKEN, ""))
        row: list[Cell] = [label, _figure(total)]
        # A reason no service in the cohort reported is a gap, not [x]:
        # a "Not shown" part exists only where something is left out.
        row += [
            _figure(cells[(cohort, NOT_TAKEN, p)]) if (cohort, NOT_TAKEN, p) in cells else None
            for p, _ in parts
        ]
        row.append(int(total["services_reporting"]) if total is not None else 0)
        rows.append(row)
    return columns, rows


def support_table(frame: pd.DataFrame) -> tuple[list[Col], list[list[Cell]]]:
    """People waiting and children's support: a row per cohort."""
    chosen = frame[frame["measure"].isin(SUPPORT_MEASURES) & frame["part"].eq("")]
    columns = [COHORT, *(Col(MEASURES[m][1], "figure") for m in SUPPORT_MEASURES)]
    cells = _by_key(chosen)
    rows: list[list[Cell]] = [
        [label, *(_figure(cells.get((cohort, m, ""))) for m in SUPPORT_MEASURES)]
        for cohort, label in _cohorts(chosen)
    ]
    return columns, rows


def write_unmet_need(ctx: Context, sheet: Worksheet) -> None:
    pack = ctx.pack
    quarter = pack.period.short_label
    top = sheet_heading(
        ctx,
        sheet,
        SHEET_NAME,
        f"Who the services could not help in {quarter}, by the cohort each service is for. A service for "
        "several cohorts counts in each, so the cohorts do not add up to all services.",
    )
    frame = pack.unmet_need
    columns, rows = reasons_table(frame)
    sheet.write_string(
        top, 0, f"Referrals not taken by cohort and main reason, {quarter}", ctx.styles.heading
    )
    header = top + 1
    next_row = write_table(
        sheet,
        ctx.styles,
        header,
        REASONS_TABLE,
        columns,
        rows,
        empty_note=f"No service reported referrals it could not take in {quarter}.",
    )
    sheet.write_string(
        next_row,
        0,
        f"People waiting and children's support by cohort, {quarter}",
        ctx.styles.heading,
    )
    columns, rows = support_table(frame)
    next_row = write_table(
        sheet,
        ctx.styles,
        next_row + 1,
        SUPPORT_TABLE,
        columns,
        rows,
        empty_note=f"No service reported people waiting or children's support in {quarter}.",
    )
    sheet.write_string(
        next_row,
        0,
        "Not shown: referrals whose reason is hidden [c] or was not reported. The share of children "
        "supported is hidden when either count is, or when it would reveal a small number.",
        ctx.styles.note,
    )
    sheet.freeze_panes(header + 1, 0)
