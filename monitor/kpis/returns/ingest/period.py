"""Stage 6: the figures against the framework target and last quarter.

Off target without an explanation is an error: the commissioner needs the
reason. A big change on last quarter without one is a warning the uploader
can acknowledge, since a real change can be sudden.
"""

from __future__ import annotations

from decimal import Decimal

from monitor.contracts.models import Contract
from monitor.formatting import change_text, round_half_up
from monitor.formatting import format_figure as figure_text
from monitor.kpis.models import FrameworkItem
from monitor.kpis.periods import Quarter
from monitor.kpis.returns.ingest.cells import Commentary
from monitor.kpis.returns.ingest.messages import error, warning
from monitor.kpis.returns.ingest.result import FigureIn, Message
from monitor.kpis.returns.template.previous import PreviousFigure
from monitor.kpis.returns.template.rows import lower_first, quarterly_target, target_text
from monitor.kpis.vocabulary import Direction, Unit


def is_off_target(item: FrameworkItem, value: Decimal, contract: Contract, quarter: Quarter) -> bool:
    """Whether `value` misses the quarter's target, pro-rated for a part quarter."""
    target = quarterly_target(item, contract, quarter)
    if target is None:
        return False
    if item.effective_direction == Direction.HIGHER:
        return value < target
    return value > target


def check_period(
    figures: list[FigureIn],
    items: list[FrameworkItem],
    previous: dict[tuple[str, str], PreviousFigure],
    commentary: Commentary,
    sheet: str,
    change_warning_pct: int,
    contract: Contract,
    quarter: Quarter,
) -> list[Message]:
    headline = {figure.kpi_code: figure.value for figure in figures if figure.breakdown == ""}
    problems: list[Message] = []
    for item in items:
        kpi = item.kpi
        value = headline.get(kpi.code)
        if value is None or kpi.code in commentary.texts:
            continue
        cell = commentary.cells.get(kpi.code, "")
        # A figure the provider's workbook worked out (a percentage) reads as on
        # the performance pages: 92.9%, not 92.86%.
        shown = figure_text(value, kpi.unit)
        if is_off_target(item, value, contract, quarter):
            side = "below" if item.effective_direction == Direction.HIGHER else "above"
            problems.append(
                error(
                    sheet,
                    cell,
                    kpi.code,
                    f"Explain on the {sheet} sheet why {lower_first(kpi.name)} is {side} target: {shown} this "
                    f"quarter against a target of {target_text(item, contract, quarter)}.",
                )
            )
            continue
        before = previous.get((kpi.code, ""))
        if before is None or before.value == 0:
            continue
        change = (value - before.value) * 100 / abs(before.value)
        if abs(change) > change_warning_pct:
            # A percentage moves in percentage points (30% to 48% is up 18 points,
            # not "up 61%"); other figures by their share of last quarter's.
            if kpi.unit == Unit.PERCENTAGE.value:
                moved = change_text(before.value, value, kpi.unit)
            else:
                moved = f"{'up' if change > 0 else 'down'} {abs(round_half_up(change, Decimal(1)))}%"
            problems.append(
                warning(
                    sheet,
                    cell,
                    kpi.code,
                    f"{kpi.name} went from {figure_text(before.value, kpi.unit)} last quarter to {shown} "
                    f"({moved}). Explain the change on the {sheet} sheet, or confirm the "
                    "figure is right when you submit.",
                )
            )
    return problems
