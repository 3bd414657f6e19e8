"""A guest may run only a saved chart's own query, narrowed by its dashboard's
native filters: each way of asking for something else is tried with a real
guest token and must be refused.

Superset 6.1's own check ("Guest user cannot modify chart payload") passes
these: the guest cannot see the saved chart, so it compares nothing, and a
request without a chart is not compared at all. Row-level security would
still add the viewer's rule to the table in FROM, but SQL in a metric or a
WHERE clause can reach other tables; the guard refuses the request first.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import pytest

from monitor.superset.bundle import VIEWER_FILTER_ID
from monitor.superset.client import SupersetError
from tests.superset.conftest import ChartInfo, ProvisionedSuperset

SUBQUERY = "(SELECT SUM(amount) FROM fact_funding)"
Change = Callable[[dict[str, Any]], None]


def _first_query(change: Callable[[dict[str, Any]], None]) -> Change:
    def apply(context: dict[str, Any]) -> None:
        change(context["queries"][0])

    return apply


def _sql_metric(query: dict[str, Any]) -> None:
    query["metrics"] = [
        *(query.get("metrics") or []),
        {"expressionType": "SQL", "sqlExpression": SUBQUERY, "label": "everything"},
    ]


def _sql_metric_only(query: dict[str, Any]) -> None:
    query["metrics"] = [{"expressionType": "SQL", "sqlExpression": SUBQUERY, "label": "everything"}]
    query["columns"] = []
    query["orderby"] = []


def _where(query: dict[str, Any]) -> None:
    query["extras"] = {**(query.get("extras") or {}), "where": f"1 = 1 OR {SUBQUERY} > 0"}


def _having(query: dict[str, Any]) -> None:
    query["extras"] = {**(query.get("extras") or {}), "having": "COUNT(*) > 0"}


def _sql_filter(query: dict[str, Any]) -> None:
    query["filters"] = [
        *query.get("filters", []),
        {"col": {"sqlExpression": f"{SUBQUERY}", "label": "x"}, "op": "IS NOT NULL"},
    ]


def _sql_column(query: dict[str, Any]) -> None:
    query["columns"] = [
        *query.get("columns", []),
        {"sqlExpression": SUBQUERY, "label": "everything", "expressionType": "SQL"},
    ]


def _other_column(query: dict[str, Any]) -> None:
    query["columns"] = [*query.get("columns", []), "viewer"]


def _viewer_filter(query: dict[str, Any]) -> None:
    query["filters"] = [*query.get("filters", []), {"col": "viewer", "op": "!=", "val": "nobody"}]


def _dropped_filter(query: dict[str, Any]) -> None:
    query["filters"] = []


def _row_limit(query: dict[str, Any]) -> None:
    query["row_limit"] = 1_000_000


def _no_slice(context: dict[str, Any]) -> None:
    context["form_data"].pop("slice_id")


def _samples(context: dict[str, Any]) -> None:
    context["result_type"] = "samples"


def _query_text(context: dict[str, Any]) -> None:
    context["result_type"] = "query"


def _csv(context: dict[str, Any]) -> None:
    context["result_format"] = "csv"


ATTACKS: dict[str, Change] = {
    "an SQL metric added": _first_query(_sql_metric),
    "an SQL metric instead": _first_query(_sql_metric_only),
    "extras.where": _first_query(_where),
    "extras.having": _first_query(_having),
    "a custom SQL filter": _first_query(_sql_filter),
    "an SQL column": _first_query(_sql_column),
    "a column the chart does not show": _first_query(_other_column),
    "a filter that is not the dashboard's": _first_query(_viewer_filter),
    "the chart's own filter left out": _first_query(_dropped_filter),
    "a higher row limit": _first_query(_row_limit),
    "no slice_id": _no_slice,
    "raw samples": _samples,
    "the query's SQL": _query_text,
    "CSV": _csv,
}


def refused_status(superset: ProvisionedSuperset, context: dict[str, Any], token: str) -> int | None:
    """The status Superset refused the request with, or None when it answered."""
    try:
        superset.client.chart_data(context, guest_token=token)
    except SupersetError as error:
        return error.status
    return None


def filtered_chart(superset: ProvisionedSuperset) -> ChartInfo:
    """A chart with a filter of its own, so leaving that filter out is an attack."""
    return next(chart for d in superset.dashboards.values() for chart in d.charts if chart.spec.query.filters)


@pytest.mark.parametrize("attack", ATTACKS)
def test_a_changed_chart_query_is_refused(provisioned_superset: ProvisionedSuperset, attack: str) -> None:
    superset = provisioned_superset
    chart = filtered_chart(superset)
    slug = next(slug for slug, d in superset.dashboards.items() if chart in d.charts)
    token = superset.guest_token("partnership:1", [slug])
    context = superset.stored_query_context(chart)
    assert refused_status(superset, context, token) is None, "the chart's own query must still answer"
    changed = copy.deepcopy(context)
    ATTACKS[attack](changed)
    assert refused_status(superset, changed, token) == 403, attack


def test_another_dataset_under_a_charts_name_is_refused(provisioned_superset: ProvisionedSuperset) -> None:
    superset = provisioned_superset
    dashboard = superset.dashboards["funding-value-for-money"]
    token = superset.guest_token("partnership:1", [dashboard.slug])
    datasets = {c.spec.dataset.table: c for c in dashboard.charts}
    assert len(datasets) > 1, "the dashboard needs charts on two datasets"
    first, second = list(datasets.values())[:2]
    context = superset.stored_query_context(first)
    context["datasource"] = superset.stored_query_context(second)["datasource"]
    assert refused_status(superset, context, token) == 403


def test_a_chart_from_another_dashboard_is_refused(provisioned_superset: ProvisionedSuperset) -> None:
    superset = provisioned_superset
    own = superset.dashboards["board-performance"]
    token = superset.guest_token("partnership:1", [own.slug])
    other = superset.dashboards["funding-value-for-money"].charts[0]
    context = superset.stored_query_context(other)
    for dashboard_id in (other.dashboard_id, own.id):
        context["form_data"]["dashboardId"] = dashboard_id
        assert refused_status(superset, context, token) == 403, dashboard_id


def native_filter_values(superset: ProvisionedSuperset, slug: str, column: str) -> dict[str, Any]:
    """What the "Viewing as" filter asks for to list its choices, for `column`."""
    dashboard = superset.dashboards[slug]
    dataset = dashboard.spec.viewer_filter_dataset
    chart = next(c for c in dashboard.charts if c.spec.dataset.table == dataset.table)
    datasource = superset.stored_query_context(chart)["datasource"]
    return {
        "datasource": datasource,
        "force": False,
        "queries": [
            {
                "filters": [],
                "extras": {"having": "", "where": ""},
                "applied_time_extras": {},
                "columns": [column],
                "orderby": [[column, True]],
                "annotation_layers": [],
                "row_limit": 1000,
                "series_limit": 0,
                "order_desc": True,
                "url_params": {},
                "custom_params": {},
                "custom_form_data": {},
            }
        ],
        "form_data": {
            "datasource": f"{datasource['id']}__table",
            "viz_type": "filter_select",
            "type": "NATIVE_FILTER",
            "native_filter_id": VIEWER_FILTER_ID,
            "dashboardId": dashboard.id,
            "groupby": [column],
        },
        "result_format": "json",
        "result_type": "full",
    }


def test_a_native_filter_lists_only_its_own_column(provisioned_superset: ProvisionedSuperset) -> None:
    superset = provisioned_superset
    token = superset.guest_token("partnership:1", ["board-performance"])
    own = superset.client.chart_data(
        native_filter_values(superset, "board-performance", "viewer_name"), guest_token=token
    )
    assert [row["viewer_name"] for row in own[0]["data"]]
    for column in ["contract_title", "viewer"]:
        context = native_filter_values(superset, "board-performance", column)
        assert refused_status(superset, context, token) == 403, column
    with_metric = native_filter_values(superset, "board-performance", "viewer_name")
    _sql_metric(with_metric["queries"][0])
    assert refused_status(superset, with_metric, token) == 403
