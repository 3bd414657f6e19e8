"""One contract's quarter in a paragraph, for the performance pages:

    "2 of 8 KPIs red, 1 amber and 3 green; 2 not rated. Since Q1 2013/14,
    referrals received went up 12 and feeling safer at closure went down 4.5
    percentage points."

Ratings are counted red, amber, green: the order of every performance page
and of the dashboards' legend. A hidden figure ([c]) is counted as hidden and
never described: no change is worked out from it or to it, since the change
would give it away. A figure not yet available ([x]) is not rated and not
compared. Changes in percentages are in percentage points
(`monitor.formatting.change_text`).

Pure: no Flask, no database. `summarise_quarter` reads a ContractPerformance
that already holds only what the reader may see (`service.performances_for`
decides: board figures for boards, exact figures for everyone else); the
sentences are built from plain values.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal

from monitor.disclosure.suppression import CONFIDENTIAL
from monitor.formatting import change_text, count_text, list_text, mid_sentence, quarter_text
from monitor.kpis.performance.figures import Cell, ContractPerformance
from monitor.kpis.performance.rag import ProcurementRating, Rag, worst_rating
from monitor.kpis.periods import Quarter

# What change_text says when a figure did not move, from its one home.
NO_CHANGE = change_text(0, 0, "count")
HIDDEN_TAG = "govuk-tag--grey"


@dataclass(frozen=True)
class KpiInQuarter:
    """One KPI in one quarter, as the reader sees it."""

    name: str
    unit: str
    rag: Rag
    figure: Decimal | None = None
    # "[c]" hidden, "[x]" not yet available: the figure is not read.
    marker: str = ""
    # The quarter before's figure and marker.
    previous: Decimal | None = None
    previous_marker: str = ""

    @property
    def hidden(self) -> bool:
        return self.marker == CONFIDENTIAL

    @property
    def reported(self) -> bool:
        return self.figure is not None or bool(self.marker)

    @property
    def change(self) -> str:
        """'up 12', 'down 4.5 percentage points', 'no change'; '' unless both
        quarters have a figure the reader can see."""
        if self.marker or self.previous_marker or self.figure is None or self.previous is None:
            return ""
        return change_text(self.previous, self.figure, self.unit)


@dataclass(frozen=True)
class RatingTag:
    """A rating count as a coloured tag whose words say the same: "Red 2"."""

    text: str
    count: int
    tag_class: str

    @property
    def label(self) -> str:
        return f"{self.text} {self.count:,}"


@dataclass(frozen=True)
class RatingCounts:
    red: int = 0
    amber: int = 0
    green: int = 0
    not_rated: int = 0
    hidden: int = 0  # rated, but hidden with their figures ([c])

    @property
    def total(self) -> int:
        return self.red + self.amber + self.green + self.not_rated + self.hidden

    @property
    def tags(self) -> list[RatingTag]:
        """Red, amber and green always (a zero is worth saying), then not rated
        and hidden when there are any."""
        tags = [
            RatingTag("Red", self.red, Rag.RED.tag_class),
            RatingTag("Amber", self.amber, Rag.AMBER.tag_class),
            RatingTag("Green", self.green, Rag.GREEN.tag_class),
        ]
        if self.not_rated:
            tags.append(RatingTag("Not rated", self.not_rated, Rag.NONE.tag_class))
        if self.hidden:
            tags.append(RatingTag("Hidden", self.hidden, HIDDEN_TAG))
        return tags


def rating_counts(kpis: Sequence[KpiInQuarter]) -> RatingCounts:
    shown = [k.rag for k in kpis if not k.hidden]
    return RatingCounts(
        red=shown.count(Rag.RED),
        amber=shown.count(Rag.AMBER),
        green=shown.count(Rag.GREEN),
        not_rated=shown.count(Rag.NONE),
        hidden=sum(1 for k in kpis if k.hidden),
    )


def ratings_sentence(counts: RatingCounts) -> str:
    """'2 of 8 KPIs red, 1 amber and 3 green; 2 not rated and 1 hidden to protect privacy.'"""
    text = f"{counts.red:,} of {count_text(counts.total, 'KPI')} red, {counts.amber:,} amber and {counts.green:,} green"
    others = []
    if counts.not_rated:
        others.append(f"{counts.not_rated:,} not rated")
    if counts.hidden:
        others.append(f"{counts.hidden:,} hidden to protect privacy")
    return f"{text}; {list_text(others)}." if others else f"{text}."


def changes_sentence(kpis: Sequence[KpiInQuarter], previous: Quarter | None) -> str:
    """'Since Q1 2013/14, referrals received went up 12; active caseload stayed
    the same.' Only figures the reader can see in both quarters are compared."""
    if previous is None:
        return ""
    compared = [k for k in kpis if k.change]
    if not compared:
        return f"There are no figures from {quarter_text(previous)} to compare with."
    moved = [f"{mid_sentence(k.name)} went {k.change}" for k in compared if k.change != NO_CHANGE]
    same = [mid_sentence(k.name) for k in compared if k.change == NO_CHANGE]
    parts = [list_text(moved)] if moved else []
    if same:
        parts.append(f"{list_text(same)} stayed the same")
    return f"Since {quarter_text(previous)}, {'; '.join(parts)}."


def summary_text(quarter: Quarter, kpis: Sequence[KpiInQuarter], previous: Quarter | None) -> str:
    """The paragraph: the ratings, then what changed since `previous` (None:
    the contract's first quarter, nothing to compare with)."""
    if not any(k.reported for k in kpis):
        return f"No figures for {quarter_text(quarter)}."
    return " ".join(
        part for part in (ratings_sentence(rating_counts(kpis)), changes_sentence(kpis, previous)) if part
    )


@dataclass(frozen=True)
class QuarterSummary:
    """One contract in one quarter: the rating counts, the paragraph and its
    Procurement Act 2023 rating (its worst KPI's)."""

    quarter: Quarter
    text: str
    counts: RatingCounts = field(default_factory=RatingCounts)
    kpis: list[KpiInQuarter] = field(default_factory=list)
    previous: Quarter | None = None
    rating: ProcurementRating = ProcurementRating.OTHER
    provisional: bool = False  # some figures not yet accepted
    # The page's cells for the same KPIs, in the same order (targets, notes).
    cells: list[Cell] = field(default_factory=list)

    @property
    def reported(self) -> bool:
        return any(k.reported for k in self.kpis)

    @property
    def lines(self) -> list[tuple[KpiInQuarter, Cell]]:
        return list(zip(self.kpis, self.cells, strict=True))


def summarise_quarter(performance: ContractPerformance, quarter: Quarter) -> QuarterSummary:
    """`performance` (every quarter of the contract, so ratings can look back)
    in `quarter`. KPIs neither in the framework nor reported that quarter are left out."""
    if quarter not in performance.quarters:
        return QuarterSummary(quarter, summary_text(quarter, [], None))
    index = performance.quarters.index(quarter)
    previous = performance.quarters[index - 1] if index > 0 else None
    kpis: list[KpiInQuarter] = []
    cells: list[Cell] = []
    ratings: list[ProcurementRating] = []
    provisional = False
    for row in performance.rows:
        cell = row.cells[index]
        if cell.item is None and cell.figure is None and not cell.marker:
            continue
        before = row.cells[index - 1] if index > 0 else None
        kpis.append(
            KpiInQuarter(
                name=row.kpi.name,
                unit=row.kpi.unit,
                rag=cell.rag,
                figure=None if cell.marker else cell.actual,
                marker=cell.marker,
                previous=None if before is None or before.marker else before.actual,
                previous_marker=before.marker if before is not None else "",
            )
        )
        cells.append(cell)
        ratings.append(row.rating(index))
        provisional = provisional or (cell.figure is not None and cell.provisional)
    return QuarterSummary(
        quarter=quarter,
        text=summary_text(quarter, kpis, previous),
        counts=rating_counts(kpis),
        kpis=kpis,
        previous=previous,
        rating=worst_rating(ratings),
        provisional=provisional,
        cells=cells,
    )
