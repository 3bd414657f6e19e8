"""The SQL a dashboard chart sends to PostgreSQL, written the way Superset writes it.

A chart's declared query (`monitor.superset.spec.ChartQuery`: columns, saved
metrics, filters, ordering, row limit) becomes one SELECT over its mart,
with the dashboard's "Viewing as" filter (`viewer_name IN (...)`) and the
guest token's row-level security clause (`viewer = '...'`) in the WHERE
clause, as Superset adds them. Values are written as literals, as Superset
sends them; they come from the declarations and the bench's own viewers (hence the
S608 waivers).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from etl.schema import WAREHOUSE_SCHEMA
from monitor.superset.spec import Chart, Dashboard, Filter, column_name

_OPERATORS = {"==": "=", "!=": "<>", ">": ">", "<": "<", ">=": ">=", "<=": "<="}


@dataclass(frozen=True)
class ChartSql:
    dashboard: str
    name: str  # the chart's key, or "<slug>/viewing-as" for the native filter
    sql: str


def literal(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    return "'" + str(value).replace("'", "''") + "'"


def _condition(flt: Filter) -> str:
    column = f'"{flt.column}"'
    if flt.op in _OPERATORS:
        return f"{column} {_OPERATORS[flt.op]} {literal(flt.value)}"
    if flt.op in ("IN", "NOT IN"):
        return f"{column} {flt.op} ({', '.join(literal(v) for v in flt.value)})"
    if flt.op in ("IS TRUE", "IS FALSE"):
        return f"{column} {flt.op}"
    raise ValueError(f"no SQL for the filter operator {flt.op}")


def chart_sql(chart: Chart, viewer: str, viewer_name: str) -> str:
    query = chart.query
    table = f'"{WAREHOUSE_SCHEMA}"."{chart.dataset.table}"'
    columns = [column_name(c) for c in query.columns]
    selects = [f'"{c}" AS "{c}"' for c in columns]
    selects += [f'{chart.dataset.metric(m).expression} AS "{m}"' for m in query.metrics]
    conditions = [_condition(f) for f in query.filters]
    conditions.append(f'"viewer_name" IN ({literal(viewer_name)})')
    conditions.append(f"(viewer = {literal(viewer)})")
    sql = f"SELECT {', '.join(selects)} FROM {table} WHERE {' AND '.join(conditions)}"  # noqa: S608
    if query.metrics and columns:
        sql += " GROUP BY " + ", ".join(f'"{c}"' for c in columns)
    if query.orderby:
        metrics = set(query.metrics)
        sql += " ORDER BY " + ", ".join(
            (chart.dataset.metric(name).expression if name in metrics else f'"{name}"')
            + (" ASC" if ascending else " DESC")
            for name, ascending in query.orderby
        )
    return sql + f" LIMIT {query.row_limit}"


def viewer_filter_sql(dashboard: Dashboard, viewer: str) -> str:
    """The "Viewing as" select filter's list of names (what the guest may pick)."""
    table = f'"{WAREHOUSE_SCHEMA}"."{dashboard.viewer_filter_dataset.table}"'
    return (
        f'SELECT "viewer_name" AS "viewer_name" FROM {table} WHERE (viewer = {literal(viewer)}) '  # noqa: S608
        'GROUP BY "viewer_name" ORDER BY "viewer_name" ASC LIMIT 1000'
    )


def dashboard_queries(dashboards: tuple[Dashboard, ...], viewer: str, viewer_name: str) -> list[ChartSql]:
    """Everything the dashboards ask the warehouse for when one viewer opens them."""
    queries = []
    for dashboard in dashboards:
        queries.append(
            ChartSql(dashboard.slug, f"{dashboard.slug}/viewing-as", viewer_filter_sql(dashboard, viewer))
        )
        queries.extend(
            ChartSql(dashboard.slug, chart.key, chart_sql(chart, viewer, viewer_name))
            for chart in dashboard.charts
        )
    return queries
