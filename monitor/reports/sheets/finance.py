"""Value for money and spend by funder, on the finance sheet."""

from __future__ import annotations

import math
from typing import Any

import pandas as pd
from xlsxwriter.worksheet import Worksheet

from monitor.disclosure.suppression import CONFIDENTIAL, NOT_AVAILABLE
from monitor.reports.sheets.charts import funder_column_chart, funder_pie_chart
from monitor.reports.sheets.context import Context, Section
from monitor.reports.sheets.tables import Cell, Col, Figure, write_table

VFM_COLUMNS = [
    Col("Service"),
    Col("Service name", "wrap", 40),
    Col("Provider", "wrap", 28),
    Col("Financial year"),
    Col("Spend", "money"),
    Col("Referrals", "figure"),
    Col("Completions", "figure"),
    Col("Positive outcomes", "figure"),
    Col("Cost per referral", "figure"),
    Col("Cost per completion", "figure"),
    Col("Cost per positive outcome", "figure"),
]
FUNDING_COLUMNS = [
    Col("Financial year"),
    Col("Funder", "wrap", 40),
    Col("Funding", "money"),
    Col("Share of the year's funding", "percent"),
]
# measure -> the cost worked out from it
RATIOS = {
    "referrals": "cost_per_referral",
    "completions": "cost_per_completion",
    "positive_outcomes": "cost_per_positive_outcome",
}


def _number(value: Any) -> float | None:
    if value is None:
        return None
    number = float(value)
    return None if math.isnan(number) else number


def _count(row: dict[str, Any], measure: str) -> Figure:
    value = _number(row[measure])
    if value is not None:
        return Figure(value, "count")
    display = str(row.get(f"{measure}_display") or "")
    return Figure(None, "count", display if display.startswith("[") else NOT_AVAILABLE)


def _cost(row: dict[str, Any], measure: str) -> Figure:
    value = _number(row[RATIOS[measure]])
    if value is not None:
        return Figure(value, "currency")
    # A cost worked out from a hidden count would give the count away.
    hidden = str(row.get(f"{measure}_display") or "") == CONFIDENTIAL
    return Figure(None, "currency", CONFIDENTIAL if hidden else NOT_AVAILABLE)


def vfm_rows(ctx: Context) -> list[list[Cell]]:
    frame = ctx.pack.value_for_money
    rows: list[list[Cell]] = []
    for row in frame.sort_values(["contract_reference", "financial_year"]).to_dict("records"):
        rows.append(
            [
                row["contract_reference"],
                row["contract_title"],
                row["provider_name"],
                row["financial_year"],
                _number(row["spend"]),
                *(_count(row, m) for m in RATIOS),
                *(_cost(row, m) for m in RATIOS),
            ]
        )
    return rows


def funding_by_funder(funding: pd.DataFrame) -> pd.DataFrame:
    """Financial year x funder, largest funder first within each year."""
    if funding.empty:
        return pd.DataFrame(columns=["financial_year", "funder_name", "amount", "share"])
    totals = funding.groupby(["financial_year", "funder_name"], as_index=False)["amount"].sum()
    year_totals = totals.groupby("financial_year")["amount"].transform("sum")
    totals["share"] = (totals["amount"] / year_totals * 100).round(1)
    return totals.sort_values(["financial_year", "amount", "funder_name"], ascending=[True, False, True])


def _funder_charts(ctx: Context, by_funder: pd.DataFrame) -> list[Any]:
    if by_funder.empty:
        return []
    years = sorted(by_funder["financial_year"].unique())
    funders = by_funder.groupby("funder_name")["amount"].sum().sort_values(ascending=False).index.tolist()
    pivot = by_funder.pivot_table(
        index="financial_year", columns="funder_name", values="amount", aggfunc="sum"
    )
    block = ctx.chart_data.add(
        "Funding by funder and financial year",
        "Financial year",
        years,
        {f: [_number(pivot.at[y, f]) if f in pivot.columns else None for y in years] for f in funders},
        "money",
    )
    charts = [funder_column_chart(ctx.workbook, block, funders, "Funding by funder and financial year")]
    pack_year = ctx.pack.period.financial_year
    year = pack_year if pack_year in years else max((y for y in years if y <= pack_year), default=years[-1])
    in_year = by_funder[by_funder["financial_year"].eq(year)]
    pie_block = ctx.chart_data.add(
        f"Funding by funder in {year}",
        "Funder",
        in_year["funder_name"].tolist(),
        {"Funding": [float(a) for a in in_year["amount"]]},
        "money",
    )
    charts.append(funder_pie_chart(ctx.workbook, pie_block, f"Who paid in {year}", len(in_year)))
    return charts


def write_finance(ctx: Context, sheet: Worksheet, top: int) -> Section:
    styles = ctx.styles
    sheet.write_string(top, 0, "Value for money", styles.heading)
    sheet.write_string(
        top + 1,
        0,
        "Spend is the funding for the financial year. A cost per case is hidden ([c]) when the number "
        "of cases it is worked out from is hidden.",
        styles.note,
    )
    vfm_header = top + 2
    rows = vfm_rows(ctx)
    row = write_table(
        sheet,
        styles,
        vfm_header,
        "ValueForMoney",
        VFM_COLUMNS,
        rows,
        empty_note="No value for money figures: no funding or referrals are recorded for these services.",
    )
    by_funder = funding_by_funder(ctx.pack.funding)
    sheet.write_string(row, 0, "Funding by funder", styles.heading)
    funding_header = row + 1
    funding_rows: list[list[Cell]] = [
        [r["financial_year"], r["funder_name"], float(r["amount"]), float(r["share"])]
        for r in by_funder.to_dict("records")
    ]
    row = write_table(
        sheet,
        styles,
        funding_header,
        "FundingByFunder",
        FUNDING_COLUMNS,
        funding_rows,
        empty_note="No funding is recorded for these services.",
    )
    first = vfm_header if rows else (funding_header if funding_rows else None)
    return Section(row, first, _funder_charts(ctx, by_funder))
