"""Dashboards as code: the declarations `superset_config/assets/` is written in.

A `Dataset` is one warehouse mart (its columns come from `etl.schema`, so
they never drift) plus the metrics charts may use. A `Chart` holds the form
data Superset's front end edits (`params`) and the query it sends
(`ChartQuery`); `monitor.superset.charts` builds both from a few readable
arguments, so they always agree. A `Dashboard` is rows of charts and text.

Uuids are derived from stable keys (`uuid5`), so provisioning again updates
the same objects; renaming a key makes a new object and leaves the old one.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

# Fixed namespace for every uuid in the bundle: changing it would duplicate
# every dashboard in an existing Superset.
NAMESPACE = uuid.UUID("5d0f4a8e-2b1c-4c7e-9a55-3f1f6f3b2a10")


def stable_uuid(kind: str, key: str) -> str:
    return str(uuid.uuid5(NAMESPACE, f"{kind}:{key}"))


@dataclass(frozen=True)
class Metric:
    """A saved metric: SQL that works on SQLite and PostgreSQL alike."""

    name: str
    expression: str
    label: str
    d3format: str | None = None
    description: str = ""


@dataclass(frozen=True)
class Dataset:
    table: str  # a mart in etl.schema
    description: str
    metrics: tuple[Metric, ...] = ()
    # Column headings people read (verbose names); other columns keep their names.
    labels: Mapping[str, str] = field(default_factory=dict)

    @property
    def uuid(self) -> str:
        return stable_uuid("dataset", self.table)

    def metric(self, name: str) -> Metric:
        for metric in self.metrics:
            if metric.name == name:
                return metric
        raise KeyError(f"dataset {self.table} has no metric {name!r}")


@dataclass(frozen=True)
class Filter:
    """A simple filter (`column op value`), as the chart editor writes it.

    `op` is one of Superset's: ==, !=, >, <, >=, <=, IN, NOT IN, IS TRUE, IS FALSE."""

    column: str
    op: str
    value: Any = None

    def adhoc(self) -> dict[str, Any]:
        """The form-data (params) form."""
        adhoc: dict[str, Any] = {
            "expressionType": "SIMPLE",
            "subject": self.column,
            "operator": self.op,
            "operatorId": _OPERATOR_IDS[self.op],
            "clause": "WHERE",
            "isExtra": False,
            "filterOptionName": f"filter_{self.column}_{_OPERATOR_IDS[self.op].lower()}",
        }
        if self.value is not None:
            adhoc["comparator"] = list(self.value) if isinstance(self.value, tuple) else self.value
        return adhoc

    def query(self) -> dict[str, Any]:
        """The query-object form."""
        clause: dict[str, Any] = {"col": self.column, "op": self.op}
        if self.value is not None:
            clause["val"] = list(self.value) if isinstance(self.value, tuple) else self.value
        return clause


_OPERATOR_IDS = {
    "==": "EQUALS",
    "!=": "NOT_EQUALS",
    ">": "GREATER_THAN",
    "<": "LESS_THAN",
    ">=": "GREATER_THAN_OR_EQUAL",
    "<=": "LESS_THAN_OR_EQUAL",
    "IN": "IN",
    "NOT IN": "NOT_IN",
    "IS TRUE": "IS_TRUE",
    "IS FALSE": "IS_FALSE",
}


def column_name(column: str | Mapping[str, Any]) -> str:
    """A query column's name: a physical column, or an x-axis column object."""
    if isinstance(column, str):
        return column
    return str(column["sqlExpression"])


@dataclass(frozen=True)
class ChartQuery:
    """The one query a chart sends: what the tests compare with SQL over the mart."""

    columns: tuple[str | Mapping[str, Any], ...]
    metrics: tuple[str, ...]
    filters: tuple[Filter, ...]
    orderby: tuple[tuple[str, bool], ...]
    row_limit: int
    # Query fields that change the shape, not the rows (post_processing,
    # series_columns, ...), sent as they are.
    extra: Mapping[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        query: dict[str, Any] = {
            "filters": [f.query() for f in self.filters],
            "extras": {"having": "", "where": ""},
            "applied_time_extras": {},
            "columns": [dict(c) if not isinstance(c, str) else c for c in self.columns],
            "orderby": [[name, ascending] for name, ascending in self.orderby],
            "annotation_layers": [],
            "row_limit": self.row_limit,
            "series_limit": 0,
            "order_desc": True,
            "url_params": {},
            "custom_params": {},
            "custom_form_data": {},
        }
        if self.metrics:
            # No metrics at all (not an empty list) asks for rows as they are;
            # an empty list would make Superset GROUP BY every column.
            query["metrics"] = list(self.metrics)
        query.update(self.extra)
        return query


@dataclass(frozen=True)
class Chart:
    key: str  # stable: the uuid derives from it
    title: str
    dataset: Dataset
    viz_type: str
    params: Mapping[str, Any]  # form data, without datasource and slice_id
    query: ChartQuery
    description: str = ""
    width: int = 6  # of 12 grid columns
    height: int = 50  # grid units of 8 px

    @property
    def uuid(self) -> str:
        return stable_uuid("chart", self.key)

    def form_data(self) -> dict[str, Any]:
        return {"viz_type": self.viz_type, **self.params}

    def query_context(self) -> dict[str, Any]:
        """What the front end POSTs to /api/v1/chart/data for this chart. Stored
        with the chart: GET /api/v1/chart/<id>/data reads it, and a guest may
        ask only for the columns, metrics and ordering it names."""
        return {
            "datasource": {"id": 0, "type": "table"},  # set to the dataset's id on import
            "force": False,
            "queries": [self.query.to_dict()],
            "form_data": self.form_data(),
            "result_format": "json",
            "result_type": "full",
        }


@dataclass(frozen=True)
class Markdown:
    """Text on a dashboard (GOV.UK style: plain words, what the markers mean)."""

    key: str
    text: str
    width: int = 12
    height: int = 14


Cell = Chart | Markdown


@dataclass(frozen=True)
class Dashboard:
    slug: str
    title: str
    description: str
    rows: tuple[tuple[Cell, ...], ...]
    # The dataset whose `viewer_name` column the "Viewing as" filter lists.
    viewer_filter_dataset: Dataset
    label_colors: Mapping[str, str] = field(default_factory=dict)

    @property
    def uuid(self) -> str:
        return stable_uuid("dashboard", self.slug)

    @property
    def charts(self) -> tuple[Chart, ...]:
        return tuple(cell for row in self.rows for cell in row if isinstance(cell, Chart))

    @property
    def datasets(self) -> tuple[Dataset, ...]:
        seen: dict[str, Dataset] = {self.viewer_filter_dataset.table: self.viewer_filter_dataset}
        for chart in self.charts:
            seen.setdefault(chart.dataset.table, chart.dataset)
        return tuple(seen.values())
