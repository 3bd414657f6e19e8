"""Red, amber and green: judging a quarter's figure against its target.

Pure functions with no database, so the rules can be tested exhaustively and
reused by the returns pages, the performance pages, the API and the ETL.
Councils differ on tolerance and on which way is better, so both are inputs.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from enum import StrEnum

from monitor.kpis.performance.targets import whole_quarter_target
from monitor.kpis.vocabulary import Direction


class Rag(StrEnum):
    GREEN = "green"
    AMBER = "amber"
    RED = "red"
    NONE = "not rated"

    @property
    def text(self) -> str:
        """What the tag says: colour is never the only signal."""
        return _RAG_TEXT[self]

    @property
    def tag_class(self) -> str:
        return _RAG_TAG[self]


_RAG_TEXT = {
    Rag.GREEN: "Green: on target",
    Rag.AMBER: "Amber: near target",
    Rag.RED: "Red: off target",
    Rag.NONE: "Not rated",
}
_RAG_TAG = {
    Rag.GREEN: "govuk-tag--green",
    Rag.AMBER: "govuk-tag--yellow",
    Rag.RED: "govuk-tag--red",
    Rag.NONE: "govuk-tag--grey",
}


class Travel(StrEnum):
    IMPROVING = "improving"
    WORSENING = "worsening"
    NO_CHANGE = "no change"
    NO_PREVIOUS = "no previous"


class ProcurementRating(StrEnum):
    """The ratings of a Procurement Act 2023 contract performance notice."""

    GOOD = "Good"
    APPROACHING = "Approaching target"
    REQUIRES_IMPROVEMENT = "Requires improvement"
    INADEQUATE = "Inadequate"
    OTHER = "Other"


# Worst first, so the worst of several ratings is the one with the lowest rank.
PROCUREMENT_SEVERITY = (
    ProcurementRating.INADEQUATE,
    ProcurementRating.REQUIRES_IMPROVEMENT,
    ProcurementRating.APPROACHING,
    ProcurementRating.GOOD,
    ProcurementRating.OTHER,
)


def _higher_is_better(direction: str) -> bool:
    return direction != Direction.LOWER.value


def rate(actual: Decimal | None, target: Decimal | None, direction: str, tolerance_pct: Decimal | int) -> Rag:
    """GREEN at or better than target; AMBER worse but within tolerance_pct
    per cent of the target; RED beyond that; NONE without a target or a figure."""
    if actual is None or target is None:
        return Rag.NONE
    margin = abs(target) * Decimal(tolerance_pct) / 100
    if _higher_is_better(direction):
        if actual >= target:
            return Rag.GREEN
        return Rag.AMBER if actual >= target - margin else Rag.RED
    if actual <= target:
        return Rag.GREEN
    return Rag.AMBER if actual <= target + margin else Rag.RED


def quarterly_target(target: Decimal | None, basis: str, rollup: str) -> Decimal | None:
    """The target for a quarter the contract ran throughout. For a quarter it
    started or ended in, use `targets.quarter_target`, which pro-rates it."""
    return whole_quarter_target(target, basis, rollup)


def direction_of_travel(current: Decimal | None, previous: Decimal | None, direction: str) -> Travel:
    if current is None or previous is None:
        return Travel.NO_PREVIOUS
    if current == previous:
        return Travel.NO_CHANGE
    better = current > previous if _higher_is_better(direction) else current < previous
    return Travel.IMPROVING if better else Travel.WORSENING


def procurement_rating(rag: Rag, earlier: Sequence[Rag] = ()) -> ProcurementRating:
    """The Procurement Act rating for a KPI this quarter. `earlier` is the
    KPI's ratings in the quarters before, oldest first: red for a second
    quarter running is Inadequate rather than Requires improvement."""
    if rag == Rag.RED:
        return (
            ProcurementRating.INADEQUATE
            if earlier and earlier[-1] == Rag.RED
            else (ProcurementRating.REQUIRES_IMPROVEMENT)
        )
    return {
        Rag.GREEN: ProcurementRating.GOOD,
        Rag.AMBER: ProcurementRating.APPROACHING,
    }.get(rag, ProcurementRating.OTHER)


def worst_rating(ratings: Sequence[ProcurementRating]) -> ProcurementRating:
    """A contract's overall rating is its worst KPI's (Other when none is rated)."""
    rated = [r for r in ratings if r != ProcurementRating.OTHER]
    if not rated:
        return ProcurementRating.OTHER
    return min(rated, key=PROCUREMENT_SEVERITY.index)
