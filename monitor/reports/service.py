"""Making a board pack: the one function the command and the web page share."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from flask import Flask, current_app
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from etl.engine import warehouse_engine, warehouse_url_for
from monitor.reports.audience import Audience
from monitor.reports.commentary import accepted_commentary
from monitor.reports.pack_data import (
    PackData,
    WarehouseUnavailable,
    build_pack_data,
    last_loaded,
    parse_period,
    read_marts,
)
from monitor.reports.writer import filename, write_board_pack

ENGINE_KEY = "board_pack_warehouse"


@dataclass(frozen=True)
class BoardPack:
    filename: str
    content: bytes
    data: PackData


def pack_warehouse(app: Flask | None = None) -> Engine:
    """The warehouse engine, made once per app (an engine holds a pool)."""
    target = app or current_app
    engine = target.extensions.get(ENGINE_KEY)
    if engine is None:
        try:
            url = warehouse_url_for(target.config["DATABASE_URL"], target.config.get("WAREHOUSE_URL", ""))
        except ValueError as error:  # an in-memory app database has no warehouse beside it
            raise WarehouseUnavailable(f"{error}, then run `flask etl run --full`") from error
        engine = target.extensions[ENGINE_KEY] = warehouse_engine(url)
    return engine


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
    data = build_pack_data(marts, audience, period_key.strip(), threshold, commentary, last_loaded(warehouse))
    return BoardPack(filename(data), write_board_pack(data, produced_on), data)
