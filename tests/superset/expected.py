"""What a chart should show, worked out with plain SQL over the mart.

A chart's declared query (columns, saved metrics, filters) is turned into
SQL here, independently of Superset, and run on the warehouse: Superset's
answer must be the same rows. Values are normalised (numbers rounded, dates
as ISO days, booleans as 0/1) because the two drivers and Superset's JSON
spell them differently.
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Date, bindparam, text

from etl.schema import metadata
from monitor.superset.spec import Chart, Filter, column_name
from tests.conftest import Warehouse

_OPERATORS = {"==": "=", "!=": "<>", ">": ">", "<": "<", ">=": ">=", "<=": "<="}


def _condition(index: int, flt: Filter) -> tuple[str, dict[str, Any], bool]:
    """SQL for one filter, its parameters, and whether a parameter expands (IN)."""
    name = f"p{index}"
    column = f'"{flt.column}"'
    if flt.op in _OPERATORS:
        return f"{column} {_OPERATORS[flt.op]} :{name}", {name: flt.value}, False
    if flt.op in ("IN", "NOT IN"):
        return f"{column} {flt.op} :{name}", {name: list(flt.value)}, True
    if flt.op in ("IS TRUE", "IS FALSE"):
        return f"{column} = :{name}", {name: flt.op == "IS TRUE"}, False
    raise ValueError(f"no SQL for operator {flt.op}")


def expected_rows(warehouse: Warehouse, chart: Chart, viewer: str | None = None) -> list[tuple[Any, ...]]:
    """The rows the chart's query should return, for one viewer or for all."""
    query = chart.query
    columns = [column_name(c) for c in query.columns]
    selects = [f'"{c}"' for c in columns]
    selects += [f'{chart.dataset.metric(m).expression} AS "{m}"' for m in query.metrics]
    conditions, params, expanding = [], {}, []
    for index, flt in enumerate(query.filters):
        sql, values, expands = _condition(index, flt)
        conditions.append(sql)
        params.update(values)
        if expands:
            expanding.append(f"p{index}")
    if viewer is not None:
        conditions.append("viewer = :viewer")
        params["viewer"] = viewer
    sql = f"SELECT {', '.join(selects)} FROM {chart.dataset.table}"  # noqa: S608 - names come from the declarations
    if conditions:
        sql += " WHERE " + " AND ".join(conditions)
    if query.metrics and columns:
        sql += " GROUP BY " + ", ".join(f'"{c}"' for c in columns)
    statement = text(sql).bindparams(*(bindparam(name, expanding=True) for name in expanding))
    with warehouse.engine.connect() as connection:
        if connection.dialect.name == "postgresql":
            connection.execute(text("SET search_path TO warehouse"))
        result = connection.execute(statement, params)
        rows = [tuple(row) for row in result]
    return normalise(chart, [*columns, *query.metrics], rows)


def actual_rows(chart: Chart, data: list[dict[str, Any]]) -> list[tuple[Any, ...]]:
    """Superset's rows (dicts keyed by column and metric) in the same shape."""
    names = [column_name(c) for c in chart.query.columns] + list(chart.query.metrics)
    return normalise(chart, names, [tuple(row.get(name) for name in names) for row in data])


def normalise(chart: Chart, names: list[str], rows: list[tuple[Any, ...]]) -> list[tuple[Any, ...]]:
    table = metadata.tables[chart.dataset.table]
    dates = {n for n in names if n in table.columns and isinstance(table.columns[n].type, Date)}
    cleaned = [
        tuple(_value(value, name in dates) for name, value in zip(names, row, strict=True)) for row in rows
    ]
    # An aggregate over no rows is one row of NULLs (or 0) in SQL; Superset
    # may answer with the same or with no row at all: both mean "nothing".
    cleaned = [row for row in cleaned if any(v not in (None, 0) for v in row)]
    return sorted(cleaned, key=lambda row: json.dumps(row, default=str))


def _value(value: Any, is_date: bool) -> Any:
    if value is None:
        return None
    if is_date:
        if isinstance(value, int | float):
            return datetime.fromtimestamp(value / 1000, UTC).date().isoformat()
        if isinstance(value, datetime | date):
            return value.isoformat()[:10]
        return str(value)[:10]
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, int | float | Decimal):
        return round(float(value), 2)
    return value
