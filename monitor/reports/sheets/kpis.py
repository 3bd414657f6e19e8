"""Each service's KPIs quarter by quarter: the table and the chart figures.

Pure functions from the pack's frames to rows, so what a theme sheet shows
can be tested without opening a workbook.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import pandas as pd

from monitor.disclosure.suppression import CONFIDENTIAL, NOT_APPLICABLE, NOT_AVAILABLE
from monitor.formatting import difference_text
from monitor.kpis.performance.rag import Rag
from monitor.reports.pack_data import PackData, Period
from monitor.reports.sheets.styles import UNIT_WORDS
from monitor.reports.sheets.tables import Cell, Col, Figure

RAG_WORDS = {
    Rag.GREEN.value: "Green",
    Rag.AMBER.value: "Amber",
    Rag.RED.value: "Red",
    Rag.NONE.value: "Not rated",
    CONFIDENTIAL: CONFIDENTIAL,
}


@dataclass
class KpiSeries:
    """One KPI of one service over the pack's quarters."""

    contract_id: int
    reference: str
    title: str
    provider: str
    kpi_code: str
    kpi_name: str
    unit: str
    direction: str
    figures: dict[str, Figure] = field(default_factory=dict)  # period key -> figure or marker
    targets: dict[str, float | None] = field(default_factory=dict)
    rag: str = Rag.NONE.value  # in the pack's quarter
    rating: str = ""
    difference: str = ""  # from the target in the pack's quarter, in the KPI's own unit
    reported: set[str] = field(default_factory=set)  # quarters with a warehouse row

    @property
    def label(self) -> str:
        return f"{self.kpi_name}: {self.reference}"

    def plotted(self, quarters: Sequence[Period]) -> list[float | None]:
        """Actuals for a chart: a hidden or missing figure is a gap."""
        return [None if self.figures[q.key].hidden else self.figures[q.key].value for q in quarters]

    def has_visible_figure(self) -> bool:
        return any(not f.hidden for f in self.figures.values())


def number_or_none(value: Any) -> float | None:
    """A warehouse figure as a float; None for none or NaN."""
    if value is None:
        return None
    number = float(value)
    return None if math.isnan(number) else number


def _contract_terms(renewals: pd.DataFrame) -> dict[int, tuple[date, date]]:
    terms: dict[int, tuple[date, date]] = {}
    for row in renewals.to_dict("records"):
        start, end = row["start_date"], row.get("max_extent_date") or row["end_date"]
        if isinstance(start, date) and isinstance(end, date):
            terms[int(row["contract_id"])] = (start, end)
    return terms


def _absent(quarter: Period, terms: tuple[date, date] | None) -> str:
    """No figure for a quarter: [z] if the service was not running, else [x]."""
    if terms is not None and (quarter.end < terms[0] or quarter.start > terms[1]):
        return NOT_APPLICABLE
    return NOT_AVAILABLE


def kpi_series(pack: PackData, categories: Sequence[str]) -> list[KpiSeries]:
    frame = pack.performance[pack.performance["category"].isin(categories)]
    terms = _contract_terms(pack.renewals)
    found: dict[tuple[int, str], KpiSeries] = {}
    for row in frame.sort_values(["contract_reference", "kpi_code", "period_sort"]).to_dict("records"):
        key = (int(row["contract_id"]), row["kpi_code"])
        series = found.get(key)
        if series is None:
            series = found[key] = KpiSeries(
                contract_id=key[0],
                reference=row["contract_reference"],
                title=row["contract_title"],
                provider=row["provider_name"],
                kpi_code=row["kpi_code"],
                kpi_name=row["kpi_name"],
                unit=row["unit"],
                direction=row["direction"],
            )
        actual = number_or_none(row["actual"])
        marker = row.get("marker") or ("" if actual is not None else NOT_AVAILABLE)
        series.figures[row["period_key"]] = Figure(None if marker else actual, row["unit"], marker)
        series.targets[row["period_key"]] = number_or_none(row["target"])
        series.reported.add(row["period_key"])
        if row["period_key"] == pack.period.key:
            series.rag = row["rag"]
            series.rating = row["rating"]
            # A hidden figure hides how far it is from its target too.
            series.difference = (
                "" if marker else difference_text(number_or_none(row["target"]), actual, row["unit"])
            )
    for series in found.values():
        for quarter in pack.quarters:
            if quarter.key not in series.figures:
                marker = _absent(quarter, terms.get(series.contract_id))
                series.figures[quarter.key] = Figure(None, series.unit, marker)
                # The framework set the target whether or not a return has been accepted.
                known = pack.known_targets.get((series.contract_id, series.kpi_code, quarter.key))
                series.targets.setdefault(quarter.key, known if marker != NOT_APPLICABLE else None)
    return list(found.values())


def table_columns(pack: PackData) -> list[Col]:
    short = pack.period.short_label
    return [
        Col("Service"),
        Col("Service name", "wrap", 40),
        Col("Provider", "wrap", 28),
        Col("KPI", "wrap", 36),
        Col("Measured as"),
        Col("Better when"),
        Col(f"Target in {short}", "figure"),
        *(Col(q.short_label, "figure") for q in pack.quarters),
        Col(f"Rating in {short}"),
        Col("Procurement Act rating"),
        Col("Difference from target", "wrap", 22),
    ]


def table_rows(pack: PackData, series: Sequence[KpiSeries]) -> list[list[Cell]]:
    rows: list[list[Cell]] = []
    for s in series:
        target = s.targets.get(pack.period.key)
        rows.append(
            [
                s.reference,
                s.title,
                s.provider,
                s.kpi_name,
                UNIT_WORDS.get(s.unit, s.unit),
                "Higher" if s.direction != "lower is better" else "Lower",
                # No target in a quarter reported is "not applicable"; in one not reported, not known.
                Figure(
                    target,
                    s.unit,
                    ""
                    if target is not None
                    else NOT_APPLICABLE
                    if pack.period.key in s.reported
                    else NOT_AVAILABLE,
                ),
                *(s.figures[q.key] for q in pack.quarters),
                RAG_WORDS.get(s.rag, s.rag) if pack.period.key in s.reported else NOT_AVAILABLE,
                s.rating if pack.period.key in s.reported else "",
                s.difference,
            ]
        )
    return rows
