"""Renewals due: what ends soon, by when the board must decide."""

from __future__ import annotations

from datetime import date
from typing import Any

import pandas as pd
from xlsxwriter.worksheet import Worksheet

from monitor.contracts.renewal import Status, Urgency, urgency
from monitor.formatting import count_text
from monitor.reports.sheets.context import Context, sheet_heading
from monitor.reports.sheets.styles import in_words
from monitor.reports.sheets.tables import Cell, Col, write_table

FINISHED = {Status.EXPIRED.value, Status.TERMINATED.value, Status.DECOMMISSIONED.value}
AWAITING_DECISION = {Status.LIVE.value, Status.EXTENDED.value}
COLUMNS = [
    Col("What to do"),
    Col("Service"),
    Col("Service name", "wrap", 40),
    Col("Provider", "wrap", 28),
    Col("Status"),
    Col("Decision needed by", "date"),
    Col("Last date to serve notice", "date"),
    Col("Re-procurement starts", "date"),
    Col("Ends", "date"),
    Col("Latest end with every extension", "date"),
    Col("Extension options left", "integer"),
    Col("Annual value", "money"),
    Col("Started", "date"),
]
ACTIONS = {
    Urgency.OVERDUE: "Decision overdue",
    Urgency.DUE_SOON: "Decide within a month",
    Urgency.UPCOMING: "Decide within 3 months",
    Urgency.LATER: "Later",
    Urgency.PASSED: "Decision date passed",
}
ACTION_FILLS = {
    "Decision overdue": "red",
    "Decide within a month": "amber",
    "Decide within 3 months": "amber",
}


def action(row: dict[str, Any], as_at: date) -> str:
    status = row["status"]
    if status == Status.IN_NOTICE.value:
        return "Notice served"
    return ACTIONS[urgency(row["decision_by_date"], as_at, is_decision=status in AWAITING_DECISION)]


def due(renewals: pd.DataFrame, as_at: date) -> list[dict[str, Any]]:
    """Contracts still running (or not yet started), the most pressing first:
    by decision date, then end date."""
    running = renewals[~renewals["status"].isin(FINISHED)]
    rows = running.sort_values(["decision_by_date", "end_date", "contract_reference"]).to_dict("records")
    for row in rows:
        row["action"] = action(row, as_at)
    return rows


def write_renewals(ctx: Context, sheet: Worksheet) -> None:
    pack = ctx.pack
    as_at = pack.as_at or ctx.produced_on
    top = sheet_heading(
        ctx,
        sheet,
        "Renewals due",
        f"Contracts still running on {in_words(as_at)}, the most pressing decision first. "
        "The decision date leaves time for the board cycle before notice must be served.",
    )
    rows = due(pack.renewals, as_at)
    table: list[list[Cell]] = [
        [
            r["action"],
            r["contract_reference"],
            r["contract_title"],
            r["provider_name"],
            str(r["status"]).capitalize(),
            r["decision_by_date"],
            r["notice_date"],
            r["reprocurement_start_date"],
            r["end_date"],
            r["max_extent_date"],
            int(r["options_remaining"]),
            float(r["annual_value"]),
            r["start_date"],
        ]
        for r in rows
    ]
    next_row = write_table(
        sheet,
        ctx.styles,
        top,
        "RenewalsDue",
        COLUMNS,
        table,
        empty_note="No contract is still running: nothing to decide.",
    )
    for word, fill in ACTION_FILLS.items():
        if table:
            sheet.conditional_format(
                top + 1,
                0,
                top + len(table),
                0,
                {"type": "cell", "criteria": "==", "value": f'"{word}"', "format": ctx.styles.fills[fill]},
            )
    ended = int(pack.renewals["status"].isin(FINISHED).sum())
    if ended:
        sheet.write_string(
            next_row,
            0,
            f"{count_text(ended, 'contract')} that ended before {in_words(as_at)} "
            f"{'is' if ended == 1 else 'are'} not listed.",
            ctx.styles.note,
        )
    sheet.freeze_panes(top + 1, 0)
