"""The performance a user may read: one decision for the pages and the API."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Engine

from etl.app import app_warehouse
from etl.engine import WarehouseUnavailable
from monitor.access.viewers import board_viewer, sees_board_figures
from monitor.auth.models import User
from monitor.clock import today
from monitor.contracts.models import Contract
from monitor.db import db
from monitor.kpis.performance.board import board_performance_of
from monitor.kpis.performance.figures import ContractPerformance, performance_of

BOARD_FIGURES_MISSING = (
    "Board figures are not available yet: they appear once the warehouse has been loaded "
    "from accepted returns. Ask your commissioner or an administrator."
)


@dataclass(frozen=True)
class BoardStatus:
    """For boards: when their figures were last brought up to date, or why there are none."""

    loaded_at: datetime | None = None
    missing: str = ""


def performances_for(
    user: User, contracts: list[Contract]
) -> tuple[list[ContractPerformance], BoardStatus | None]:
    """Exact figures for commissioners, providers and admins; the warehouse's
    disclosure-controlled rows for boards (see monitor.kpis.performance.board)."""
    session = db.session()
    if not sees_board_figures(user):
        return performance_of(session, contracts, today()), None
    viewer = board_viewer(user)
    if viewer is None:
        return [], BoardStatus(missing=BOARD_FIGURES_MISSING)
    try:
        warehouse: Engine | None = app_warehouse()
    except WarehouseUnavailable:
        warehouse = None
    board = board_performance_of(session, warehouse, viewer, contracts, today())
    if not board.available:
        return board.performances, BoardStatus(missing=BOARD_FIGURES_MISSING)
    return board.performances, BoardStatus(loaded_at=board.loaded_at)
