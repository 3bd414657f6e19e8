"""Consistency rules between KPIs, and which of them a return's figures break.

The library declares each relation once (see `definitions.STANDARD_RULES` and
the `kpi_consistency_rules` table); the return checks, the demo and the tests
all ask `broken_rules` rather than restating a relation for a KPI. Pure: no
database, no Flask, so every caller gets the same answer from plain figures.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum
from typing import Protocol


class RuleKind(StrEnum):
    PART_OF = "part of"  # the KPI is part of the related KPI, so at most it
    DENOMINATOR = "denominator"  # the percentage's denominator is the related count
    BREAKDOWN = "breakdown"  # the KPI's breakdowns add up to its total (related is itself)


class RuleSeverity(StrEnum):
    ERROR = "error"  # the return cannot be submitted until it is put right
    WARNING = "warning"  # the provider confirms the figures are right when submitting


@dataclass(frozen=True)
class DeclaredRule:
    kind: RuleKind
    kpi: str  # the KPI whose figure is checked: the part, the percentage, the KPI by breakdown
    related: str  # the KPI it is checked against
    severity: RuleSeverity = RuleSeverity.ERROR


class Figure(Protocol):
    """One figure of a return: a KPI's total (breakdown "") or one breakdown."""

    @property
    def kpi_code(self) -> str: ...

    @property
    def breakdown(self) -> str: ...

    @property
    def value(self) -> Decimal: ...

    @property
    def denominator(self) -> Decimal | None: ...


@dataclass
class ReturnFigures:
    """The figures of one return the rules compare."""

    counts: dict[str, Decimal] = field(default_factory=dict)  # a KPI's figure, or its total by breakdown
    denominators: dict[str, Decimal] = field(default_factory=dict)  # a percentage's denominator
    parts: dict[str, list[Decimal]] = field(default_factory=dict)  # a KPI's breakdowns, every one given

    @classmethod
    def from_figures(cls, figures: Iterable[Figure]) -> ReturnFigures:
        """From the figures a checked return yields, or a stored version holds."""
        result = cls()
        for figure in figures:
            if figure.denominator is not None:
                result.denominators[figure.kpi_code] = figure.denominator
            elif figure.breakdown:
                result.parts.setdefault(figure.kpi_code, []).append(figure.value)
            else:
                result.counts[figure.kpi_code] = figure.value
        return result


@dataclass(frozen=True)
class Broken:
    rule: DeclaredRule
    figure: Decimal  # the part, the denominator, or the total
    against: Decimal  # the whole, the count, or what the parts add up to


def broken_rules(rules: Sequence[DeclaredRule], figures: ReturnFigures) -> list[Broken]:
    """Each rule the figures break, in the order given. A rule applies only when
    the return holds both of its figures."""
    broken: list[Broken] = []
    for rule in rules:
        if rule.kind == RuleKind.PART_OF:
            figure, against = figures.counts.get(rule.kpi), figures.counts.get(rule.related)
            if figure is not None and against is not None and figure > against:
                broken.append(Broken(rule, figure, against))
        elif rule.kind == RuleKind.DENOMINATOR:
            figure, against = figures.denominators.get(rule.kpi), figures.counts.get(rule.related)
            if figure is not None and against is not None and figure != against:
                broken.append(Broken(rule, figure, against))
        elif rule.kind == RuleKind.BREAKDOWN:
            total, parts = figures.counts.get(rule.kpi), figures.parts.get(rule.kpi)
            if total is not None and parts:
                added = sum(parts, Decimal(0))
                if added != total:
                    broken.append(Broken(rule, total, added))
    return broken
