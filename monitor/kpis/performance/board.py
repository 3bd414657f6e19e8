"""What a board sees on the performance pages and through the API.

A board reads the warehouse's `mart_board_performance` rows for its
partnership and nothing else. Only accepted returns reach the warehouse, and
`monitor.disclosure` has already decided which of those rows' figures are
hidden, so a page, the API, the board pack and the dashboards all show the
same figure or the same marker. The app's own figures give only the shape:
the quarters, the KPIs in the framework and their targets.

- A hidden figure reads `[c]`; its rating and direction of travel are hidden
  with it, and so is the next quarter's direction of travel (it would say
  which way the hidden figure lay).
- A quarter whose return is in but not yet accepted says so, with no figure.
- An accepted figure the warehouse has not loaded yet reads `[x]` until the
  next ETL run.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import Engine, desc, select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from etl.engine import WarehouseUnavailable
from etl.schema import etl_run, mart_board_performance
from monitor.access.viewers import Viewer
from monitor.contracts.models import Contract
from monitor.disclosure.suppression import CONFIDENTIAL, NOT_AVAILABLE
from monitor.kpis.models import Return
from monitor.kpis.performance.figures import (
    REPORTED_STATES,
    Cell,
    ContractPerformance,
    Figure,
    KpiRow,
    performance_of,
)
from monitor.kpis.performance.rag import ProcurementRating, Rag, Travel, direction_of_travel
from monitor.kpis.vocabulary import ReturnState

ACCEPTED = (ReturnState.ACCEPTED.value,)
AWAITING_ACCEPTANCE = tuple(state for state in REPORTED_STATES if state not in ACCEPTED)


@dataclass(frozen=True)
class BoardFigure:
    """One warehouse row as a board reads it."""

    value: Decimal | None  # None when hidden or not available
    marker: str  # "", "[c]", "[x]" or "[z]"
    rag: Rag | None  # None when hidden with the figure
    rating: ProcurementRating | None


# (contract id, KPI code, period key) -> the board's figure.
BoardFigures = dict[tuple[int, str, str], BoardFigure]


@dataclass(frozen=True)
class BoardPerformance:
    performances: list[ContractPerformance]
    loaded_at: datetime | None  # when the warehouse was last brought up to date
    available: bool = True  # False: the warehouse has not been loaded, so no figures


def board_figures(warehouse: Engine, viewer: Viewer, contract_ids: Iterable[int]) -> BoardFigures:
    """The viewer's service-level KPI totals for these contracts."""
    ids = list(contract_ids)
    if not ids:
        return {}
    table = mart_board_performance
    query = select(
        table.c.contract_id,
        table.c.kpi_code,
        table.c.period_key,
        table.c.actual,
        table.c.marker,
        table.c.rag,
        table.c.rating,
    ).where(
        table.c.viewer == viewer.key,
        table.c.scope == "service",
        table.c.breakdown == "",
        table.c.contract_id.in_(ids),
    )
    try:
        with warehouse.connect() as connection:
            rows = connection.execute(query).all()
    except SQLAlchemyError as error:
        raise WarehouseUnavailable("the warehouse has not been loaded yet") from error
    found: BoardFigures = {}
    for contract_id, code, period, actual, marker, rag, rating in rows:
        hidden = marker == CONFIDENTIAL
        found[(int(contract_id), code, period)] = BoardFigure(
            value=None if actual is None else Decimal(str(actual)),
            marker=marker or "",
            rag=None if hidden else Rag(rag),
            # A red figure after a hidden one has its rating hidden too.
            rating=None if hidden or rating == CONFIDENTIAL else ProcurementRating(rating),
        )
    return found


def last_loaded(warehouse: Engine) -> datetime | None:
    try:
        with warehouse.connect() as connection:
            finished = connection.execute(
                select(etl_run.c.finished_at)
                .where(etl_run.c.status == "succeeded")
                .order_by(desc(etl_run.c.finished_at))
                .limit(1)
            ).scalar()
    except SQLAlchemyError as error:
        raise WarehouseUnavailable("the warehouse has not been loaded yet") from error
    return finished if isinstance(finished, datetime) else None


def awaiting_acceptance(session: Session, contract_ids: Iterable[int]) -> set[tuple[int, str]]:
    """(contract id, period) of returns submitted but not yet accepted."""
    ids = list(contract_ids)
    if not ids:
        return set()
    rows = session.execute(
        select(Return.contract_id, Return.period).where(
            Return.contract_id.in_(ids), Return.state.in_(AWAITING_ACCEPTANCE)
        )
    )
    return {(contract_id, period) for contract_id, period in rows}


def board_performance_of(
    session: Session, warehouse: Engine | None, viewer: Viewer, contracts: list[Contract], today: date
) -> BoardPerformance:
    """Each contract's performance as the board sees it. With no warehouse
    (None, or not loaded yet) every accepted figure reads [x]."""
    ids = [c.id for c in contracts]
    figures: BoardFigures = {}
    loaded_at = None
    available = warehouse is not None
    if warehouse is not None:
        try:
            figures = board_figures(warehouse, viewer, ids)
            loaded_at = last_loaded(warehouse)
        except WarehouseUnavailable:
            available = False
    pending = awaiting_acceptance(session, ids)
    shapes = performance_of(session, contracts, today, states=ACCEPTED)
    return BoardPerformance([as_board_sees(p, figures, pending) for p in shapes], loaded_at, available)


def as_board_sees(
    performance: ContractPerformance, figures: BoardFigures, pending: set[tuple[int, str]]
) -> ContractPerformance:
    """`performance` (built from accepted returns) with every figure, rating
    and direction of travel replaced by what the warehouse shows the board."""
    contract_id = performance.contract.id
    rows = []
    for row in performance.rows:
        cells: list[Cell] = []
        previous: Cell | None = None
        for cell in row.cells:
            period = str(cell.quarter)
            board = figures.get((contract_id, row.kpi.code, period))
            shown = _board_cell(cell, board, (contract_id, period) in pending)
            shown = replace(shown, travel=_travel(shown, previous, row.kpi.direction))
            cells.append(shown)
            previous = shown
        rows.append(KpiRow(row.kpi, cells))
    return ContractPerformance(performance.contract, performance.quarters, rows)


def _board_cell(cell: Cell, board: BoardFigure | None, awaiting: bool) -> Cell:
    blank = replace(cell, figure=None, rag=Rag.NONE, provisional=False, board_rating=ProcurementRating.OTHER)
    if board is None:
        if cell.figure is not None:  # accepted, but the warehouse has not caught up yet
            return replace(blank, marker=NOT_AVAILABLE)
        return replace(blank, awaiting_acceptance=awaiting)
    if board.marker:
        return replace(blank, marker=board.marker)
    return replace(
        blank,
        figure=Figure(board.value) if board.value is not None else None,
        rag=board.rag or Rag.NONE,
        board_rating=board.rating or ProcurementRating.OTHER,
    )


def _travel(cell: Cell, previous: Cell | None, kpi_direction: str) -> Travel:
    """Direction of travel between two figures the board can both see."""
    if cell.figure is None or previous is None or previous.figure is None:
        return Travel.NO_PREVIOUS
    direction = cell.item.effective_direction if cell.item is not None else kpi_direction
    return direction_of_travel(cell.figure.value, previous.figure.value, direction)
