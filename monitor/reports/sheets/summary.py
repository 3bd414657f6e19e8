"""The first sheet: what the pack covers, the quarter's ratings, and the
exceptions (red and amber KPIs) with what the provider said about each."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import date

import pandas as pd
from xlsxwriter.worksheet import Worksheet

from monitor.disclosure.suppression import CONFIDENTIAL
from monitor.formatting import count_text, difference_text
from monitor.kpis.performance.rag import Rag
from monitor.reports.sheets.charts import rag_chart
from monitor.reports.sheets.context import Context
from monitor.reports.sheets.kpis import RAG_WORDS, number_or_none
from monitor.reports.sheets.renewals import due
from monitor.reports.sheets.styles import in_words
from monitor.reports.sheets.tables import Cell, Col, Figure, write_table

SHEET_NAME = "Summary"
RATINGS = (
    (Rag.GREEN.value, "Green", "At or better than the target"),
    (Rag.AMBER.value, "Amber", "Worse than the target, but within its tolerance (usually 10%)"),
    (Rag.RED.value, "Red", "Further from the target than the tolerance"),
    (Rag.NONE.value, "Not rated", "Reported, but the KPI has no target to rate against"),
    (CONFIDENTIAL, "Rating hidden [c]", "The figure is hidden to protect privacy, so its rating is too"),
)
EXCEPTION_COLUMNS = [
    Col("Rating"),
    Col("Service"),
    Col("Service name", "wrap", 36),
    Col("Provider", "wrap", 24),
    Col("KPI", "wrap", 30),
    Col("Figure", "figure"),
    Col("Target", "figure"),
    Col("Difference from target", "wrap", 22),
    Col("Procurement Act rating", "wrap", 16),
    Col("Provider's commentary", "wrap", 60),
]
NO_COMMENTARY = "No commentary on this KPI in the accepted return."


@dataclass(frozen=True)
class RatingCounts:
    green: int
    amber: int
    red: int
    none: int
    hidden: int

    @property
    def total(self) -> int:
        return self.green + self.amber + self.red + self.none + self.hidden

    def as_list(self) -> list[int]:
        return [self.green, self.amber, self.red, self.none, self.hidden]


def rating_counts(current: pd.DataFrame) -> RatingCounts:
    """KPI totals of each service in the pack's quarter, by rating."""
    counts = Counter(current["rag"].tolist())
    return RatingCounts(*(counts.get(rag, 0) for rag, _, _ in RATINGS))


def exceptions(ctx: Context) -> pd.DataFrame:
    """Red then amber KPIs in the pack's quarter, each with the provider's commentary."""
    current = ctx.pack.current
    chosen = current[current["rag"].isin([Rag.RED.value, Rag.AMBER.value])].copy()
    chosen["order"] = chosen["rag"].map({Rag.RED.value: 0, Rag.AMBER.value: 1})
    chosen = chosen.sort_values(["order", "contract_reference", "kpi_code"])
    chosen["commentary"] = [
        ctx.pack.commentary.get((int(c), k), NO_COMMENTARY)
        for c, k in zip(chosen["contract_id"], chosen["kpi_code"], strict=True)
    ]
    return chosen


def missing_returns(ctx: Context) -> list[str]:
    """Services running in the quarter with no accepted figures for it."""
    pack = ctx.pack
    reported = set(pack.current["contract_id"].astype(int))
    running = pack.renewals[
        (pack.renewals["start_date"] <= pack.period.end) & (pack.renewals["end_date"] >= pack.period.start)
    ]
    framed = set(pack.performance["contract_id"].astype(int))
    return [
        f"{r['contract_reference']} {r['contract_title']}"
        for r in running.sort_values("contract_reference").to_dict("records")
        if int(r["contract_id"]) in framed and int(r["contract_id"]) not in reported
    ]


def _facts(ctx: Context, sheet: Worksheet, top: int) -> int:
    pack, styles = ctx.pack, ctx.styles
    kind = "commissioning organisation" if pack.audience.kind == "commissioner" else "partnership (board)"
    services = pack.renewals["contract_id"].nunique()
    running = len(due(pack.renewals, pack.as_at or ctx.produced_on))
    facts: list[tuple[str, str | date | None]] = [
        ("Prepared for", f"{pack.audience.name} ({kind})"),
        ("Quarter", pack.period.label),
        ("Figures as at", in_words(pack.as_at)),
        ("Produced on", in_words(ctx.produced_on)),
        ("Services covered", f"{count_text(int(services), 'service')}, {running} still running"),
        (
            "Privacy",
            f"Counts from 1 to {pack.threshold} are hidden and shown as [c], with any figure that would "
            "give them away. See the Notes sheet.",
        ),
    ]
    for offset, (label, value) in enumerate(facts):
        sheet.write_string(top + offset, 0, label, styles.label)
        sheet.write_string(top + offset, 1, str(value), styles.text)
    return top + len(facts) + 1


def _ratings(ctx: Context, sheet: Worksheet, top: int, counts: RatingCounts) -> int:
    styles = ctx.styles
    short = ctx.pack.period.short_label
    sheet.write_string(top, 0, f"Ratings in {short}", styles.heading)
    sheet.write_string(
        top + 1,
        0,
        f"{count_text(counts.total, 'KPI')} reported across all services."
        if counts.total
        else f"No return has been accepted for this quarter ({short}), so no KPI has been rated.",
        styles.note,
    )
    header = top + 2
    rows: list[list[Cell]] = [
        [label, number, meaning]
        for (_, label, meaning), number in zip(RATINGS, counts.as_list(), strict=True)
    ]
    columns = [Col("Rating"), Col("KPIs", "integer"), Col("What it means", "wrap", 36)]
    next_row = write_table(sheet, styles, header, "RatingCounts", columns, rows, empty_note="")
    chart = rag_chart(ctx.workbook, SHEET_NAME, header + 1, header + len(rows), f"KPIs by rating, {short}")
    sheet.insert_chart(top, 4, chart, {"x_offset": 10})
    return max(next_row, top + 13)


def _headlines(ctx: Context, sheet: Worksheet, top: int, counts: RatingCounts) -> int:
    pack, styles = ctx.pack, ctx.styles
    short = pack.period.short_label
    lines = [
        f"Of {count_text(counts.total, 'KPI')} reported in {short}, {counts.red} "
        f"{'was' if counts.red == 1 else 'were'} red and {counts.amber} amber."
        if counts.total
        else f"No KPIs have been reported for {short}: no return for the quarter has been accepted yet."
    ]
    missing = missing_returns(ctx)
    if missing:
        lines.append(f"No accepted return for {short} yet: {'; '.join(missing)}.")
    as_at = pack.as_at or ctx.produced_on
    upcoming = due(pack.renewals, as_at)
    if upcoming:
        first = upcoming[0]
        lines.append(
            f"Next renewal decision: {first['contract_reference']} {first['contract_title']}, "
            f"by {in_words(first['decision_by_date'])} ({first['action'].lower()}). See Renewals due."
        )
    sheet.write_string(top, 0, "Headlines", styles.heading)
    for offset, line in enumerate(lines, start=1):
        sheet.write_string(top + offset, 0, line, styles.text)
    return top + len(lines) + 2


def _exceptions(ctx: Context, sheet: Worksheet, top: int, counts: RatingCounts) -> int:
    styles = ctx.styles
    short = ctx.pack.period.short_label
    sheet.write_string(top, 0, f"Exceptions: red and amber KPIs in {short}", styles.heading)
    sheet.write_string(
        top + 1,
        0,
        "With the provider's commentary on each from the accepted return for the quarter.",
        styles.note,
    )
    header = top + 2
    rows: list[list[Cell]] = [
        [
            RAG_WORDS[r["rag"]],
            r["contract_reference"],
            r["contract_title"],
            r["provider_name"],
            r["kpi_name"],
            Figure(r["actual"], r["unit"], r.get("marker") or ""),
            Figure(r["target"], r["unit"]),
            ""
            if r.get("marker")
            else difference_text(number_or_none(r["target"]), number_or_none(r["actual"]), r["unit"]),
            r["rating"],
            r["commentary"],
        ]
        for r in exceptions(ctx).to_dict("records")
    ]
    next_row = write_table(
        sheet,
        styles,
        header,
        "Exceptions",
        EXCEPTION_COLUMNS,
        rows,
        empty_note=f"No KPI was red or amber in {short}."
        if counts.total
        else f"No return has been accepted for this quarter ({short}), so no KPI can be rated red or amber.",
    )
    for word, fill in (("Red", "red"), ("Amber", "amber")):
        if rows:
            sheet.conditional_format(
                header + 1,
                0,
                header + len(rows),
                0,
                {"type": "cell", "criteria": "==", "value": f'"{word}"', "format": styles.fills[fill]},
            )
    return next_row


def write_summary(ctx: Context, sheet: Worksheet) -> None:
    pack, styles = ctx.pack, ctx.styles
    sheet.write_string(0, 0, f"Board pack: {pack.audience.name}", styles.title)
    sheet.write_string(1, 0, pack.period.label, styles.subtitle)
    counts = rating_counts(pack.current)
    row = _facts(ctx, sheet, 3)
    row = _ratings(ctx, sheet, row, counts)
    row = _headlines(ctx, sheet, row, counts)
    _exceptions(ctx, sheet, row, counts)
    sheet.set_column(0, 0, 22)
    sheet.freeze_panes(2, 0)
    sheet.activate()
