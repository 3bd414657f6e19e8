"""Superset's security manager for the commissioning monitor (CUSTOM_SECURITY_MANAGER).

Superset's own checks are not enough for embedded dashboards' guests (see the
README's "Layers that keep Superset safe"), so for a guest this manager:

- grants only the (permission, view) pairs and endpoints in `guest_role.py`,
  whatever the role in the metadata database holds;
- lets a chart-data request through only when it is a saved chart's own
  query, on a dashboard the guest token names, narrowed at most by that
  dashboard's native filters (Superset's "payload modified" check compares
  nothing for a guest, who cannot see the chart through ChartDAO, and skips
  a request with no chart at all);
- lets a native filter fetch only its own column's values from its own dataset;
- refuses the legacy chart endpoints altogether.

A guest's every query still carries the token's row-level security rule;
these checks decide which queries it may ask at all.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable, Mapping
from typing import Any

from flask import current_app, has_request_context, request
from guest_role import GUEST_ENDPOINTS, GUEST_PERMISSIONS
from superset.errors import ErrorLevel, SupersetError, SupersetErrorType
from superset.exceptions import SupersetSecurityException
from superset.security import SupersetSecurityManager

log = logging.getLogger(__name__)

# Query fields a guest's query must have exactly as the saved chart has them.
# `filter`, `row_limit` and `post_processing` are compared on their own below.
EXACT_FIELDS = (
    "apply_fetch_values_predicate",
    "columns",
    "extras",
    "granularity",
    "group_others_when_limit_reached",
    "is_rowcount",
    "is_timeseries",
    "metrics",
    "order_desc",
    "orderby",
    "row_offset",
    "series_columns",
    "series_limit",
    "series_limit_metric",
    "time_shift",
    "from_dttm",
    "to_dttm",
    "inner_from_dttm",
    "inner_to_dttm",
    "annotation_layers",
    "time_offsets",
    "time_range",
    "result_type",
)
# What a native filter of each type adds to a chart's query: (operator, ...).
NATIVE_FILTER_OPERATORS = {"filter_select": ("IN",), "filter_select_inverse": ("NOT IN",)}
# The search box of a select filter narrows its own values list.
NATIVE_FILTER_SEARCH_OPERATORS = ("IN", "NOT IN", "ILIKE", "LIKE", "==")
FILTER_KEYS = {"col", "op", "val", "isExtra"}
RESULT_TYPES = ("full", "results")


class GuestRequestRefused(SupersetSecurityException):
    """A guest asked for something the embedded dashboard never asks for (403)."""

    def __init__(self, reason: str, detail: str = "") -> None:
        log.warning("guest chart data refused: %s %s", reason, detail)
        super().__init__(
            SupersetError(
                error_type=SupersetErrorType.DASHBOARD_SECURITY_ACCESS_ERROR,
                message=f"Embedded dashboards may only run their own charts' queries: {reason}",
                level=ErrorLevel.WARNING,
            )
        )


class MonitorSecurityManager(SupersetSecurityManager):
    def _has_view_access(self, user: Any, permission_name: str, view_name: str) -> bool:
        if self.is_guest_user(user):
            endpoint = request.endpoint if has_request_context() else None
            if (permission_name, view_name) not in GUEST_PERMISSIONS or endpoint not in GUEST_ENDPOINTS:
                return False
        return bool(super()._has_view_access(user, permission_name, view_name))

    def raise_for_access(self, **kwargs: Any) -> None:
        super().raise_for_access(**kwargs)
        if not self.is_guest_user():
            return
        if kwargs.get("viz") is not None:
            raise GuestRequestRefused("the legacy chart endpoints are not for embedded dashboards")
        if kwargs.get("query_context") is not None:
            self._check_guest_query_context(kwargs["query_context"])

    # --- chart data as a guest -------------------------------------------------------

    def _check_guest_query_context(self, query_context: Any) -> None:
        form_data = query_context.form_data or {}
        if _value(query_context.result_type) not in RESULT_TYPES:
            raise GuestRequestRefused(f"result type {_value(query_context.result_type)!r}")
        if _value(query_context.result_format) != "json":
            raise GuestRequestRefused(f"result format {_value(query_context.result_format)!r}")
        dashboards = self._guest_dashboards()
        if form_data.get("type") == "NATIVE_FILTER":
            self._check_native_filter_values(query_context, form_data, dashboards)
            return
        slice_id = form_data.get("slice_id")
        if not isinstance(slice_id, int) or isinstance(slice_id, bool) or slice_id < 1:
            raise GuestRequestRefused("the request names no chart (slice_id)")
        on = [d for d in dashboards if any(s.id == slice_id for s in d.slices)]
        if not on:
            raise GuestRequestRefused(f"chart {slice_id} is on no dashboard the token names")
        dashboard_id = form_data.get("dashboardId")
        if dashboard_id is not None and dashboard_id not in {d.id for d in on}:
            raise GuestRequestRefused(f"chart {slice_id} is not on dashboard {dashboard_id!r}")
        chart = next(s for s in on[0].slices if s.id == slice_id)
        datasource = query_context.datasource
        if (datasource.id, _value(datasource.type)) != (chart.datasource_id, chart.datasource_type):
            raise GuestRequestRefused(f"chart {slice_id} reads another dataset")
        saved = self._saved_queries(chart)
        if len(saved) != len(query_context.queries):
            raise GuestRequestRefused(f"chart {slice_id} sends {len(saved)} queries")
        narrowing = {pair for d in on for pair in _native_filter_clauses(d)}
        columns = set(datasource.column_names)
        for asked, stored in zip(query_context.queries, saved, strict=True):
            _check_no_sql(asked, columns)
            _check_same_query(asked, stored, narrowing, chart.id)

    def _guest_dashboards(self) -> list[Any]:
        from superset.models.dashboard import Dashboard

        return [d for d in self.session.query(Dashboard).all() if self.has_guest_access(d)]

    def _saved_queries(self, chart: Any) -> list[Any]:
        """The saved chart's queries, parsed as Superset parses a request."""
        from superset.charts.schemas import ChartDataQueryContextSchema

        if not chart.query_context:
            raise GuestRequestRefused(f"chart {chart.id} has no saved query")
        saved = json.loads(chart.query_context)
        saved["datasource"] = {"id": chart.datasource_id, "type": chart.datasource_type}
        saved["form_data"] = {**(saved.get("form_data") or {}), "slice_id": chart.id}
        return list(ChartDataQueryContextSchema().load(saved).queries)

    def _check_native_filter_values(
        self, query_context: Any, form_data: Mapping[str, Any], dashboards: list[Any]
    ) -> None:
        """A native filter's list of values: its own column of its own dataset."""
        dashboard = next((d for d in dashboards if d.id == form_data.get("dashboardId")), None)
        if dashboard is None:
            raise GuestRequestRefused("a filter's values for a dashboard the token does not name")
        config = _native_filters(dashboard)
        fltr = next((f for f in config if f.get("id") == form_data.get("native_filter_id")), None)
        if fltr is None:
            raise GuestRequestRefused(
                f"no native filter {form_data.get('native_filter_id')!r} on the dashboard"
            )
        datasource = query_context.datasource
        targets = {
            t.get("column", {}).get("name")
            for t in fltr.get("targets", [])
            if t.get("datasetId") == datasource.id
        }
        if len(targets) != 1 or _value(datasource.type) != "table":
            raise GuestRequestRefused("a filter's values from another dataset")
        (column,) = targets
        row_limit = int(current_app.config["NATIVE_FILTER_DEFAULT_ROW_LIMIT"])
        for query in query_context.queries:
            _check_no_sql(query, set(datasource.column_names))
            if list(query.columns) != [column] or query.metrics or query.series_columns:
                raise GuestRequestRefused(f"a filter's values may only be its column {column!r}")
            if any(list(o) not in ([column, True], [column, False]) for o in query.orderby or []):
                raise GuestRequestRefused("a filter's values ordered by something else")
            for clause in query.filter:
                if clause.get("col") != column or clause.get("op") not in NATIVE_FILTER_SEARCH_OPERATORS:
                    raise GuestRequestRefused(f"a filter's values narrowed by {clause!r}")
                _check_scalar_clause(clause)
            if query.post_processing or query.row_offset or (query.row_limit or 0) > row_limit:
                raise GuestRequestRefused("a filter's values reshaped or beyond its row limit")
            if query.time_offsets or query.annotation_layers or query.is_rowcount:
                raise GuestRequestRefused("a filter's values with more than its values")


def _value(enum_or_str: Any) -> Any:
    return getattr(enum_or_str, "value", enum_or_str)


def _frozen(value: Any) -> str:
    return json.dumps(value, sort_keys=True, default=str)


def _native_filters(dashboard: Any) -> list[dict[str, Any]]:
    metadata = json.loads(dashboard.json_metadata or "{}")
    filters: list[dict[str, Any]] = metadata.get("native_filter_configuration") or []
    return filters


def _native_filter_clauses(dashboard: Any) -> set[tuple[str, str]]:
    """(column, operator) pairs the dashboard's native filters add to a chart's query."""
    pairs = set()
    for fltr in _native_filters(dashboard):
        kind = fltr.get("filterType", "")
        if kind == "filter_select" and (fltr.get("controlValues") or {}).get("inverseSelection"):
            kind = "filter_select_inverse"
        for target in fltr.get("targets") or []:
            name = (target.get("column") or {}).get("name")
            if isinstance(name, str):
                pairs.update((name, op) for op in NATIVE_FILTER_OPERATORS.get(kind, ()))
    return pairs


def _check_no_sql(query: Any, columns: set[str]) -> None:
    """No SQL of the guest's own, wherever a query could carry it."""
    for metric in query.metrics or []:
        if isinstance(metric, dict) and metric.get("expressionType") != "SIMPLE":
            raise GuestRequestRefused("an SQL metric")
    for column in [*query.columns, *query.series_columns]:
        if isinstance(column, dict) and not (
            column.get("isColumnReference") is True and column.get("sqlExpression") in columns
        ):
            raise GuestRequestRefused("an SQL column")
    extras = query.extras or {}
    if extras.get("where") or extras.get("having"):
        raise GuestRequestRefused("a custom SQL WHERE or HAVING clause")
    for clause in query.filter:
        if not isinstance(clause.get("col"), str) or clause.get("col") not in columns:
            raise GuestRequestRefused(f"a filter on something other than a column: {clause.get('col')!r}")


def _check_scalar_clause(clause: Mapping[str, Any]) -> None:
    if set(clause) - FILTER_KEYS:
        raise GuestRequestRefused(f"a filter with {sorted(set(clause) - FILTER_KEYS)}")
    values = clause.get("val")
    for value in values if isinstance(values, list) else [values]:
        if value is not None and not isinstance(value, str | int | float | bool):
            raise GuestRequestRefused("a filter value that is not a plain value")


def _check_same_query(asked: Any, stored: Any, narrowing: set[tuple[str, str]], chart_id: int) -> None:
    asked_fields, stored_fields = _fields(asked), _fields(stored)
    for name in EXACT_FIELDS:
        if _frozen(asked_fields.get(name)) != _frozen(stored_fields.get(name)):
            raise GuestRequestRefused(
                f"chart {chart_id}'s query changed in {name}",
                f"asked {_frozen(asked_fields.get(name))}, saved {_frozen(stored_fields.get(name))}",
            )
    if not isinstance(asked.row_limit, int) or asked.row_limit > (stored.row_limit or 0):
        raise GuestRequestRefused(f"chart {chart_id}'s row limit raised")
    if asked.post_processing and _frozen(asked.post_processing) != _frozen(stored.post_processing):
        raise GuestRequestRefused(
            f"chart {chart_id}'s reshaping changed",
            f"asked {_frozen(asked.post_processing)}, saved {_frozen(stored.post_processing)}",
        )
    remaining = [_frozen(c) for c in asked.filter]
    for clause in stored.filter:
        if _frozen(clause) not in remaining:
            raise GuestRequestRefused(f"chart {chart_id}'s own filter {clause.get('col')!r} left out")
        remaining.remove(_frozen(clause))
    for extra in _extra_clauses(asked.filter, stored.filter):
        if (extra.get("col"), extra.get("op")) not in narrowing:
            raise GuestRequestRefused(
                f"chart {chart_id} filtered by {extra.get('col')!r} {extra.get('op')!r}"
            )
        _check_scalar_clause(extra)


def _extra_clauses(asked: Iterable[dict[str, Any]], stored: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    left = [_frozen(c) for c in stored]
    extra = []
    for clause in asked:
        if _frozen(clause) in left:
            left.remove(_frozen(clause))
        else:
            extra.append(clause)
    return extra


def _fields(query: Any) -> dict[str, Any]:
    fields = dict(query.to_dict())
    for name in ("annotation_layers", "time_offsets", "time_range", "result_type"):
        fields[name] = _value(getattr(query, name, None))
    return fields
