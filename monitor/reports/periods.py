"""The quarters a board pack can cover: those the warehouse holds figures for."""

from __future__ import annotations

from datetime import date

from sqlalchemy import Engine, select, union
from sqlalchemy.exc import SQLAlchemyError

from etl.schema import dim_period, fact_kpi_result, fact_outcome
from monitor.reports.pack_data import (
    WAREHOUSE_MISSING,
    Period,
    WarehouseUnavailable,
    period_from,
    require_warehouse,
)


def available_quarters(warehouse: Engine, today: date) -> list[Period]:
    """Quarters with any accepted figures that have ended by `today`, oldest first."""
    reported = union(select(fact_kpi_result.c.period_key), select(fact_outcome.c.period_key)).subquery()
    query = (
        select(dim_period)
        .where(dim_period.c.period_key.in_(select(reported.c.period_key)), dim_period.c.end_date < today)
        .order_by(dim_period.c.sort_order)
    )
    require_warehouse(warehouse)
    try:
        with warehouse.connect() as connection:
            rows = connection.execute(query).mappings().all()
    except SQLAlchemyError as error:
        raise WarehouseUnavailable(WAREHOUSE_MISSING) from error
    return [period_from(dict(row)) for row in rows]
