"""Making a board pack: the one function the command and the web page share."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from flask import Flask
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from etl.app import app_warehouse
from etl.engine import WarehouseUnavailable as NoWarehouse
from monitor.reports.audience import Audience
from monitor.reports.commentary import accepted_commentary
from monitor.reports.pack_data import (
    PackData,
    WarehouseUnavailable,
    build_pack_data,
    last_loaded,
    parse_period,
    read_cohorts,
    read_marts,
)
from monitor.reports.targets import known_targets
from monitor.reports.writer import filename, write_board_pack


@dataclass(frozen=True)
class BoardPack:
    filename: str
    content: bytes
    data: PackData


def pack_warehouse(app: Flask | None = None) -> Engine:
    """The app's warehouse, or WarehouseUnavailable (a PackError) with what to do."""
    try:
        return app_warehouse(app)
    except NoWarehouse as error:
        raise WarehouseUnavailable(str(error)) from error


def make_board_pack(
    session: Session,
    warehouse: Engine,
    audience: Audience,
    period_key: str,
    *,
    threshold: int,
    produced_on: date,
) -> BoardPack:
    """Raises PackError with a plain message when the pack cannot be made."""
    parse_period(period_key)  # a typing mistake is reported before any query
    marts = read_marts(warehouse, audience.viewer)
    contract_ids = {int(c) for c in marts["mart_renewals"]["contract_id"]} | {
        int(c) for c in marts["mart_board_performance"]["contract_id"].dropna()
    }
    commentary = accepted_commentary(session, contract_ids, period_key.strip())
    data = build_pack_data(
        marts,
        audience,
        period_key.strip(),
        threshold,
        commentary,
        last_loaded(warehouse),
        cohorts=read_cohorts(session, contract_ids),
    )
    data.known_targets = known_targets(session, contract_ids, data.quarters)
    return BoardPack(filename(data), write_board_pack(data, produced_on), data)
