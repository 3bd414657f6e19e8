"""Performance: each quarter's reported figures judged against the framework
then in force.

Figures come from each return's latest version whose `submitted` is set, and
only while the return is submitted, resubmitted or accepted: a draft or a
queried return says nothing yet. Figures not yet accepted are provisional.
Only a KPI's total (breakdown '') is judged; breakdowns explain it.

These are the exact figures commissioners and providers see. Boards never
see them: `board.py` lays the warehouse's disclosure-controlled rows over
the same structure, so no rule here decides whether a figure is shown.

The loaders fetch everything for a set of contracts in a few queries; the
building is plain Python over what they fetched, so a page of contracts costs
the same few queries as one.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import date
from decimal import Decimal

from sqlalchemy import and_, select
from sqlalchemy.orm import Session

from monitor.contracts.models import ENDING_KINDS, Amendment, Contract
from monitor.disclosure.suppression import CONFIDENTIAL
from monitor.formatting import format_figure
from monitor.kpis.framework.history import framework_history, in_force
from monitor.kpis.models import FrameworkItem, Kpi, Return, ReturnValue, ReturnVersion, latest_submitted
from monitor.kpis.performance.rag import (
    ProcurementRating,
    Rag,
    Travel,
    direction_of_travel,
    procurement_rating,
    rate,
    worst_rating,
)
from monitor.kpis.performance.targets import last_day_in_force, quarter_target
from monitor.kpis.periods import Quarter, quarters_between
from monitor.kpis.vocabulary import ReturnState

REPORTED_STATES = (ReturnState.SUBMITTED.value, ReturnState.RESUBMITTED.value, ReturnState.ACCEPTED.value)
DEFAULT_TOLERANCE = Decimal(10)


@dataclass(frozen=True)
class Figure:
    value: Decimal
    numerator: Decimal | None = None
    denominator: Decimal | None = None


@dataclass(frozen=True)
class QuarterFigures:
    """One contract's reported totals for one quarter, from one version."""

    period: str
    state: str
    version_number: int
    values: dict[int, Figure]

    @property
    def provisional(self) -> bool:
        return self.state != ReturnState.ACCEPTED.value


@dataclass(frozen=True)
class Cell:
    quarter: Quarter
    kpi: Kpi
    item: FrameworkItem | None
    figure: Figure | None
    # Comparable with one quarter's figure (a yearly sum target is a quarter
    # of it), pro-rated for a quarter the contract ran only part of.
    target: Decimal | None
    rag: Rag
    travel: Travel
    provisional: bool
    # Boards: the disclosure marker shown instead of the figure ([c] hidden,
    # [x] accepted but not yet in the board figures), and whether a return
    # for the quarter is in but not yet accepted.
    marker: str = ""
    awaiting_acceptance: bool = False
    # Boards: the warehouse's Procurement Act rating for this figure (None:
    # worked out here from the ratings of the quarters before).
    board_rating: ProcurementRating | None = None
    # 'pro-rated: 31 of 90 days' when the target was pro-rated, else ''.
    target_note: str = ""

    @property
    def actual(self) -> Decimal | None:
        return self.figure.value if self.figure else None

    @property
    def shown(self) -> str:
        """The figure as the reader sees it: the value, a marker, or nothing."""
        if self.marker:
            return self.marker
        return format_figure(self.actual, self.kpi.unit)


@dataclass
class KpiRow:
    kpi: Kpi
    cells: list[Cell]

    def rating(self, index: int) -> ProcurementRating:
        cell = self.cells[index]
        if cell.board_rating is not None:
            return cell.board_rating
        earlier = [cell.rag for cell in self.cells[:index]]
        return procurement_rating(cell.rag, earlier)


@dataclass(frozen=True)
class Summary:
    """A contract's latest quarter with at least one rated KPI."""

    quarter: Quarter | None
    green: int = 0
    amber: int = 0
    red: int = 0
    rating: ProcurementRating = ProcurementRating.OTHER
    provisional: bool = False
    # Ratings hidden with their figures ([c]), on board pages.
    hidden: int = 0


@dataclass
class ContractPerformance:
    contract: Contract
    quarters: list[Quarter]
    rows: list[KpiRow] = field(default_factory=list)

    @property
    def has_figures(self) -> bool:
        # A hidden or not-yet-loaded figure ([c], [x]) is still a figure reported.
        return any(cell.figure is not None or cell.marker for row in self.rows for cell in row.cells)

    def summary(self) -> Summary:
        for index in range(len(self.quarters) - 1, -1, -1):
            rags = [row.cells[index].rag for row in self.rows]
            if all(rag == Rag.NONE for rag in rags):
                continue
            hidden = sum(1 for row in self.rows if row.cells[index].marker == CONFIDENTIAL)
            return Summary(
                hidden=hidden,
                quarter=self.quarters[index],
                green=rags.count(Rag.GREEN),
                amber=rags.count(Rag.AMBER),
                red=rags.count(Rag.RED),
                rating=worst_rating([row.rating(index) for row in self.rows]),
                provisional=any(row.cells[index].provisional for row in self.rows if row.cells[index].figure),
            )
        return Summary(quarter=None)

    def reported_quarters(self) -> dict[Quarter, bool]:
        """Quarter -> whether any of its figures is accepted, for each quarter
        with a figure. A board's [c] and [x] are accepted figures it cannot see."""
        found = {}
        for index, quarter in enumerate(self.quarters):
            cells = [row.cells[index] for row in self.rows]
            reported = [cell for cell in cells if cell.figure is not None or cell.marker]
            if reported:
                found[quarter] = any(cell.marker or not cell.provisional for cell in reported)
        return found

    def window(self, count: int | None) -> ContractPerformance:
        """The same, showing only the last `count` quarters (all when None)."""
        if count is None or count >= len(self.quarters):
            return self
        rows = [KpiRow(row.kpi, row.cells[-count:]) for row in self.rows]
        return ContractPerformance(self.contract, self.quarters[-count:], rows)


@dataclass(frozen=True)
class InForce:
    """A contract's first and last days in force (see targets.last_day_in_force)."""

    start: date
    last_day: date


def days_of(contract: Contract, ending_effective: date | None) -> InForce:
    return InForce(contract.start_date, last_day_in_force(contract.end_date, ending_effective))


def endings(session: Session, contract_ids: Iterable[int]) -> dict[int, date]:
    """Contract id -> when its latest termination or decommissioning took
    effect, in one query for any number of contracts."""
    ids = list(contract_ids)
    if not ids:
        return {}
    rows = session.execute(
        select(Amendment.contract_id, Amendment.effective_date)
        .where(Amendment.contract_id.in_(ids), Amendment.kind.in_([k.value for k in ENDING_KINDS]))
        .order_by(Amendment.contract_id, Amendment.effective_date, Amendment.id)
    )
    return {contract_id: effective for contract_id, effective in rows}


def contract_quarters(contract: Contract, today: date, span: InForce | None = None) -> list[Quarter]:
    """The contract's quarters from its start up to today (or its last day in force, if sooner)."""
    last_day = span.last_day if span is not None else contract.end_date
    if contract.start_date > today or last_day < contract.start_date:
        return []
    return quarters_between(contract.start_date, min(last_day, today))


def reported_figures(
    session: Session, contract_ids: Iterable[int], states: Iterable[str] = REPORTED_STATES
) -> dict[tuple[int, str], QuarterFigures]:
    """(contract id, period) -> the reported totals, as described at the top,
    from returns in `states`."""
    ids = list(contract_ids)
    if not ids:
        return {}
    latest = latest_submitted()
    query = (
        select(
            Return.contract_id,
            Return.period,
            Return.state,
            ReturnVersion.number,
            ReturnValue.kpi_id,
            ReturnValue.value,
            ReturnValue.numerator,
            ReturnValue.denominator,
        )
        .join(latest, latest.c.return_id == Return.id)
        .join(
            ReturnVersion, and_(ReturnVersion.return_id == Return.id, ReturnVersion.number == latest.c.number)
        )
        .join(ReturnValue, ReturnValue.version_id == ReturnVersion.id)
        .where(Return.contract_id.in_(ids), Return.state.in_(list(states)), ReturnValue.breakdown == "")
    )
    found: dict[tuple[int, str], QuarterFigures] = {}
    for contract_id, period, state, number, kpi_id, value, numerator, denominator in session.execute(query):
        key = (contract_id, period)
        if key not in found:
            found[key] = QuarterFigures(period, state, number, {})
        found[key].values[kpi_id] = Figure(value, numerator, denominator)
    return found


def _item_for(items: list[FrameworkItem], kpi_id: int, quarter: Quarter) -> FrameworkItem | None:
    return next((i for i in items if i.kpi_id == kpi_id and in_force(i, quarter)), None)


def judge(
    kpi: Kpi,
    item: FrameworkItem | None,
    quarter: Quarter,
    figure: Figure | None,
    previous: Figure | None,
    span: InForce,
) -> Cell:
    """One KPI's figure for one quarter against the item then in force, with
    its target pro-rated if the contract was in force for part of the quarter."""
    direction = item.effective_direction if item is not None else kpi.direction
    target = (
        quarter_target(
            item.target, item.target_basis, kpi.unit, kpi.rollup, quarter, span.start, span.last_day
        )
        if item is not None
        else None
    )
    value = target.value if target is not None else None
    tolerance = item.amber_tolerance_pct if item is not None else DEFAULT_TOLERANCE
    actual = figure.value if figure else None
    return Cell(
        quarter=quarter,
        kpi=kpi,
        item=item,
        figure=figure,
        target=value,
        rag=rate(actual, value, direction, tolerance),
        travel=direction_of_travel(actual, previous.value if previous else None, direction),
        provisional=False,
        target_note=target.note if target is not None else "",
    )


def build(
    contract: Contract,
    quarters: list[Quarter],
    items: list[FrameworkItem],
    figures: Mapping[tuple[int, str], QuarterFigures],
    kpis: Mapping[int, Kpi],
    span: InForce,
) -> ContractPerformance:
    """Rows for every KPI in the framework, or reported, in any of the quarters."""
    periods = [figures.get((contract.id, str(q))) for q in quarters]
    kpi_ids = {i.kpi_id for i in items if any(in_force(i, q) for q in quarters)}
    kpi_ids |= {kpi_id for p in periods if p for kpi_id in p.values}
    ordered = sorted((kpis[k] for k in kpi_ids), key=lambda k: (k.category, k.code))
    rows = []
    for kpi in ordered:
        cells = []
        for quarter, reported in zip(quarters, periods, strict=True):
            before = figures.get((contract.id, str(quarter.previous())))
            figure = reported.values.get(kpi.id) if reported else None
            previous = before.values.get(kpi.id) if before else None
            cell = judge(kpi, _item_for(items, kpi.id, quarter), quarter, figure, previous, span)
            if figure is not None and reported is not None and reported.provisional:
                cell = replace(cell, provisional=True)
            cells.append(cell)
        rows.append(KpiRow(kpi, cells))
    return ContractPerformance(contract, quarters, rows)


def performance_of(
    session: Session, contracts: list[Contract], today: date, states: Iterable[str] = REPORTED_STATES
) -> list[ContractPerformance]:
    """Each contract's performance over its quarters up to today, from
    returns in `states`."""
    ids = [c.id for c in contracts]
    items = framework_history(session, ids)
    figures = reported_figures(session, ids, states)
    kpis = {i.kpi.id: i.kpi for i in items}
    missing = {k for f in figures.values() for k in f.values} - set(kpis)
    if missing:
        kpis.update({k.id: k for k in session.scalars(select(Kpi).where(Kpi.id.in_(missing)))})
    ended = endings(session, ids)
    performances = []
    for contract in contracts:
        span = days_of(contract, ended.get(contract.id))
        own = [i for i in items if i.contract_id == contract.id]
        quarters = contract_quarters(contract, today, span)
        performances.append(build(contract, quarters, own, figures, kpis, span))
    return performances


def rate_figures(
    session: Session, contract_id: int, quarter: Quarter, values: Mapping[int, Decimal | None]
) -> list[Cell]:
    """For the returns pages: figures (KPI id -> total) judged against the
    framework in force that quarter, with travel from the previous quarter's
    reported figures. One cell per KPI in force, then any other KPI given."""
    items = [i for i in framework_history(session, [contract_id]) if in_force(i, quarter)]
    previous = reported_figures(session, [contract_id]).get((contract_id, str(quarter.previous())))
    contract = session.get_one(Contract, contract_id)
    days = days_of(contract, endings(session, [contract_id]).get(contract_id))
    kpis = {i.kpi_id: i.kpi for i in items}
    extra = [k for k in values if k not in kpis]
    if extra:
        kpis.update({k.id: k for k in session.scalars(select(Kpi).where(Kpi.id.in_(extra)))})
    cells = []
    for kpi_id, kpi in kpis.items():
        value = values.get(kpi_id)
        figure = Figure(value) if value is not None else None
        before = previous.values.get(kpi_id) if previous else None
        cells.append(judge(kpi, _item_for(items, kpi_id, quarter), quarter, figure, before, days))
    return cells


def rate_version(session: Session, version: ReturnVersion) -> list[Cell]:
    """A return version's totals judged as `rate_figures` does."""
    quarter = Quarter.parse(version.return_.period)
    if quarter is None:  # pragma: no cover - the period's format is a database check
        return []
    values = {v.kpi_id: v.value for v in version.values if v.breakdown == ""}
    return rate_figures(session, version.return_.contract_id, quarter, values)
