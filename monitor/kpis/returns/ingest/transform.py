"""Stage 5: the figures to store, one per KPI total and per breakdown, with
percentages worked out from their two counts."""

from __future__ import annotations

from decimal import Decimal

from monitor.formatting import round_half_up
from monitor.kpis.returns.ingest.cells import KpiCells, OutcomeRow
from monitor.kpis.returns.ingest.messages import warning
from monitor.kpis.returns.ingest.numbers import CENT
from monitor.kpis.returns.ingest.result import FigureIn, Message, OutcomeIn
from monitor.kpis.returns.template.layout import Line
from monitor.kpis.returns.template.rows import KpiRow, lower_first


def percentage(numerator: Decimal, denominator: Decimal) -> Decimal:
    return round_half_up(numerator * 100 / denominator, CENT)


def build_figures(cells: KpiCells, sheet: str, rows: list[KpiRow]) -> tuple[list[FigureIn], list[Message]]:
    figures: list[FigureIn] = []
    notes: list[Message] = []
    for row in rows:
        code, line = row.kpi.code, row.line
        if line == Line.PERCENTAGE:
            kpi = row.kpi
            numerator = cells.values.get((code, "", Line.NUMERATOR))
            denominator = cells.values.get((code, "", Line.DENOMINATOR))
            if numerator is None or denominator is None:
                continue
            if denominator == 0:
                notes.append(
                    warning(
                        sheet,
                        cells.cells[(code, "", Line.DENOMINATOR)],
                        code,
                        f"{kpi.denominator_label} is 0, so {lower_first(kpi.name)} cannot be worked out "
                        "this quarter. If 0 is right, confirm it when you submit.",
                    )
                )
                continue
            figures.append(
                FigureIn(
                    code, "", percentage(numerator, denominator), numerator=numerator, denominator=denominator
                )
            )
        elif line in (Line.VALUE, Line.BREAKDOWN, Line.TOTAL):
            value = cells.values.get(row.key)
            if value is not None:
                figures.append(FigureIn(code, row.breakdown, value))
    return figures, notes


def build_outcomes(outcomes: list[OutcomeRow]) -> list[OutcomeIn]:
    """Complete rows only; a row with a problem has already been reported."""
    return [
        OutcomeIn(row.measure, row.informant if row.measure == "SDQ" else None, row.pre_score, row.post_score)
        for row in outcomes
        if row.measure is not None and row.pre_score is not None and row.post_score is not None
    ]
