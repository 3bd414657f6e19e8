"""The rows of the KPIs sheet for a framework, and how each is described.

The writer lays these rows out and the importer checks the workbook holds
exactly these input rows, so a framework changed since the template was
downloaded is caught rather than misread.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

from monitor.contracts.models import Contract
from monitor.kpis.library.definitions import DERIVED_FROM_OUTCOMES
from monitor.kpis.models import FrameworkItem, Kpi
from monitor.kpis.performance.item_targets import item_target
from monitor.kpis.periods import Quarter
from monitor.kpis.returns.template.layout import Line
from monitor.kpis.vocabulary import Direction, TargetBasis, Unit

UNIT_LABELS = {
    Unit.COUNT: "number",
    Unit.PERCENTAGE: "%",
    Unit.CURRENCY: "£",
    Unit.SCORE: "score",
    Unit.DAYS: "days",
}


@dataclass(frozen=True)
class KpiRow:
    item: FrameworkItem
    line: str
    breakdown: str = ""  # the category, on breakdown rows only

    @property
    def kpi(self) -> Kpi:
        return self.item.kpi

    @property
    def key(self) -> tuple[str, str, str]:
        return (self.kpi.code, self.breakdown, self.line)

    @property
    def unit(self) -> str:
        """The unit of the figure typed on this row (the parts of a percentage are counts)."""
        if self.line in (Line.NUMERATOR, Line.DENOMINATOR):
            return Unit.COUNT.value
        return self.kpi.unit

    @property
    def label(self) -> str:
        kpi = self.kpi
        if self.line == Line.BREAKDOWN:
            return f"{kpi.name}: {self.breakdown}"
        if self.line == Line.TOTAL:
            return f"{kpi.name}: total"
        if self.line == Line.NUMERATOR:
            return kpi.numerator_label or kpi.name
        if self.line == Line.DENOMINATOR:
            return kpi.denominator_label or kpi.name
        if self.line == Line.PERCENTAGE:
            return f"{kpi.name} (%, worked out for you)"
        return kpi.name

    @property
    def shows_target(self) -> bool:
        return self.line in (Line.VALUE, Line.TOTAL, Line.PERCENTAGE, Line.DERIVED)

    def describe(self) -> str:
        """The figure in plain words, to slot into 'Enter ...'."""
        if self.line == Line.BREAKDOWN:
            subject = f"{lower_first(self.kpi.name)} ({self.breakdown})"
        elif self.line == Line.TOTAL:
            subject = f"{lower_first(self.kpi.name)} in total"
        else:
            subject = lower_first(self.label)
        unit = self.unit
        if unit == Unit.COUNT:
            return f"the number of {subject} as a whole number, like 12"
        if unit == Unit.PERCENTAGE:
            return f"{subject} as a percentage from 0 to 100, like 85"
        if unit == Unit.CURRENCY:
            return f"{subject} in pounds, like 1250.50"
        if unit == Unit.DAYS:
            return f"{subject} in days, like 4.5"
        return f"{subject} as a number, like 12.5"


def lower_first(text: str) -> str:
    """'Referrals received' -> 'referrals received', but 'MARAC ...' stays as it is."""
    if len(text) > 1 and text[0].isupper() and not text[1].isupper():
        return text[0].lower() + text[1:]
    return text


def kpi_rows(items: Iterable[FrameworkItem]) -> list[KpiRow]:
    """Every row of the KPIs sheet, in the order they are written."""
    rows: list[KpiRow] = []
    for item in items:
        kpi = item.kpi
        if kpi.code in DERIVED_FROM_OUTCOMES:
            rows.append(KpiRow(item, Line.DERIVED))
        elif kpi.has_fraction:
            rows += [
                KpiRow(item, Line.NUMERATOR),
                KpiRow(item, Line.DENOMINATOR),
                KpiRow(item, Line.PERCENTAGE),
            ]
        elif kpi.breakdowns:
            rows += [KpiRow(item, Line.BREAKDOWN, b.label) for b in kpi.breakdowns]
            rows.append(KpiRow(item, Line.TOTAL))
        else:
            rows.append(KpiRow(item, Line.VALUE))
    return rows


def has_outcome_kpis(rows: Iterable[KpiRow]) -> bool:
    """Whether the framework has KPIs worked out from outcome scores, and so the
    template an Outcomes sheet to enter them on."""
    return any(row.line == Line.DERIVED for row in rows)


def quarterly_target(item: FrameworkItem, contract: Contract, quarter: Quarter) -> Decimal | None:
    """The target one quarter is judged against: a yearly target for a KPI that
    adds up over the year is shared over four quarters, and a count or money
    that adds up is pro-rated by the days the contract was in force in a part
    quarter (`performance.targets`); a rate or level applies as it is."""
    return item_target(item, contract, quarter).value


def format_figure(value: Decimal, unit: str) -> str:
    """A figure as people write it: 1,234; 85%; £1,250.50; 4.5 days."""
    plain = f"{value:,.2f}".rstrip("0").rstrip(".") if value != value.to_integral() else f"{value:,.0f}"
    if unit == Unit.PERCENTAGE:
        return f"{plain}%"
    if unit == Unit.CURRENCY:
        return f"£{value:,.2f}"
    if unit == Unit.DAYS:
        return f"{plain} days"
    return plain


def target_text(item: FrameworkItem, contract: Contract, quarter: Quarter) -> str:
    """'30 or more', '5 or fewer', '120 or more a year'; 'no target' when the KPI
    has none; '21 or more (pro-rated: 31 of 90 days)' for a part quarter's
    pro-rated target."""
    if item.target is None:
        return "no target"
    unit = item.kpi.unit
    if item.effective_direction == Direction.HIGHER:
        bound = "or more"
    else:
        bound = "or fewer" if unit == Unit.COUNT else "or less"
    target = item_target(item, contract, quarter)
    if target.pro_rated and target.value is not None:
        return f"{format_figure(target.value, unit)} {bound} ({target.note})"
    text = f"{format_figure(item.target, unit)} {bound}"
    if item.target_basis == TargetBasis.YEAR:
        text += " a year"
    return text
