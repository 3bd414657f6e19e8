"""Chart builders: a few readable arguments in, a `Chart` out.

Each builder writes the form data (`params`) the way Superset's chart editor
saves it, and the query the way that chart type's front-end `buildQuery`
sends it when a dashboard renders. The two must agree: Superset refuses a
guest (an embedded dashboard) whose request names a column, metric or
ordering the stored chart does not ("Guest user cannot modify chart
payload"). tests/superset replays what a real browser sent as a guest to
prove it.

Metrics are always a dataset's saved metrics, by name, so a chart never
carries SQL of its own.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from monitor.superset.spec import Chart, ChartQuery, Dataset, Filter

DEFAULT_ROW_LIMIT = 10_000


def eq(column: str, value: Any) -> Filter:
    return Filter(column, "==", value)


def not_in(column: str, values: Sequence[Any]) -> Filter:
    return Filter(column, "NOT IN", tuple(values))


def is_in(column: str, values: Sequence[Any]) -> Filter:
    return Filter(column, "IN", tuple(values))


def is_true(column: str) -> Filter:
    return Filter(column, "IS TRUE")


def is_false(column: str) -> Filter:
    return Filter(column, "IS FALSE")


def _check(
    dataset: Dataset, columns: Sequence[str], metrics: Sequence[str], filters: Sequence[Filter]
) -> None:
    """Fail at build time, not in a browser, when a chart names a column or
    metric its dataset lacks."""
    from etl.schema import metadata

    known = set(metadata.tables[dataset.table].columns.keys())
    for name in [*columns, *(f.column for f in filters)]:
        if name not in known:
            raise ValueError(f"{dataset.table} has no column {name!r}")
    for name in metrics:
        dataset.metric(name)


def _base(filters: Sequence[Filter], row_limit: int, extra: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "adhoc_filters": [f.adhoc() for f in filters],
        "row_limit": row_limit,
        "extra_form_data": {},
        "dashboards": [],
        **extra,
    }


def table(
    key: str,
    title: str,
    dataset: Dataset,
    columns: Sequence[str],
    *,
    filters: Sequence[Filter] = (),
    order_by: Sequence[tuple[str, bool]] = (),
    row_limit: int = 1000,
    number_formats: Mapping[str, str] | None = None,
    rows: int = 10,
    lines: int = 1,
    description: str = "",
    width: int = 12,
) -> Chart:
    """A table of rows as they are in the mart ("raw records" mode), `rows`
    to a page and as tall as a page of them (`table_height`), so it is
    neither cut off nor padded. Give `rows` as the rows the table is
    expected to have when that is fewer than a page (one per cohort, say),
    and `lines` as the lines a row wraps to at a dashboard's width."""
    _check(dataset, [*columns, *(c for c, _ in order_by)], [], filters)
    params = _base(
        filters,
        row_limit,
        {
            "query_mode": "raw",
            "groupby": [],
            "metrics": [],
            "percent_metrics": [],
            "all_columns": list(columns),
            "order_by_cols": [json.dumps([column, ascending]) for column, ascending in order_by],
            "order_desc": True,
            "server_pagination": False,
            "server_page_length": rows,
            "page_length": rows,
            "table_timestamp_format": "%Y-%m-%d",
            "include_search": True,
            "show_cell_bars": False,
            "color_pn": False,
            "allow_render_html": False,
            "conditional_formatting": [],
            "temporal_columns_lookup": {},
            "column_config": {
                column: {"d3NumberFormat": number_format}
                for column, number_format in (number_formats or {}).items()
            },
        },
    )
    query = ChartQuery(
        columns=tuple(columns),
        metrics=(),
        filters=tuple(filters),
        orderby=tuple(order_by),
        row_limit=row_limit,
        extra={"post_processing": [], "time_offsets": []},
    )
    return Chart(key, title, dataset, "table", params, query, description, width, table_height(rows, lines))


# A table chart's parts in pixels, as Superset 6.1 draws them at 1400 px
# (measured on the screenshots tests/superset/test_screenshots.py keeps); the
# dashboard grid counts height in units of GRID_UNIT_PX.
GRID_UNIT_PX = 8
TABLE_TITLE_PX = 48  # the chart's title
TABLE_CONTROLS_PX = 44  # "Show N entries" and the search box
TABLE_PAGINATION_PX = 44
TABLE_LINE_PX = 18  # a line of text in a cell
TABLE_CELL_PADDING_PX = 12
TABLE_MARGIN_PX = 40  # between the last row and the pages, and below them


def table_height(rows: int, lines: int = 1) -> int:
    """Grid units for a table showing `rows` rows of `lines` lines each, its
    heading (wrapped like its rows), its controls and its pages."""
    row = TABLE_CELL_PADDING_PX + lines * TABLE_LINE_PX
    pixels = TABLE_TITLE_PX + TABLE_CONTROLS_PX + row + rows * row + TABLE_PAGINATION_PX + TABLE_MARGIN_PX
    return -(-pixels // GRID_UNIT_PX)


def big_number(
    key: str,
    title: str,
    dataset: Dataset,
    metric: str,
    *,
    filters: Sequence[Filter] = (),
    subtitle: str = "",
    number_format: str = "SMART_NUMBER",
    description: str = "",
    width: int = 3,
    height: int = 25,
) -> Chart:
    """One figure with a line of explanation beneath."""
    _check(dataset, [], [metric], filters)
    params = _base(
        filters,
        DEFAULT_ROW_LIMIT,
        {
            "metric": metric,
            "header_font_size": 0.4,
            "subtitle": subtitle,
            "subtitle_font_size": 0.15,
            "y_axis_format": number_format,
            "time_format": "smart_date",
        },
    )
    query = ChartQuery(
        columns=(), metrics=(metric,), filters=tuple(filters), orderby=(), row_limit=DEFAULT_ROW_LIMIT
    )
    return Chart(key, title, dataset, "big_number_total", params, query, description, width, height)


def pie(
    key: str,
    title: str,
    dataset: Dataset,
    group_by: str,
    metric: str,
    *,
    filters: Sequence[Filter] = (),
    description: str = "",
    width: int = 6,
    height: int = 50,
) -> Chart:
    """Shares of a whole, largest first, labelled with the value."""
    _check(dataset, [group_by], [metric], filters)
    params = _base(
        filters,
        100,
        {
            "groupby": [group_by],
            "metric": metric,
            "sort_by_metric": True,
            "color_scheme": "supersetColors",
            "show_labels_threshold": 0,
            "show_legend": True,
            "legendType": "scroll",
            "legendOrientation": "top",
            "label_type": "key_value",
            "number_format": "SMART_NUMBER",
            "show_labels": True,
            "labels_outside": True,
            "outerRadius": 70,
            "donut": True,
            "innerRadius": 40,
        },
    )
    query = ChartQuery(
        columns=(group_by,),
        metrics=(metric,),
        filters=tuple(filters),
        orderby=((metric, False),),
        row_limit=100,
        # The front end asks for each slice's share of the whole with the rows.
        extra={
            "post_processing": [
                {
                    "operation": "contribution",
                    "options": {"columns": [metric], "rename_columns": [f"{metric}__contribution"]},
                }
            ]
        },
    )
    return Chart(key, title, dataset, "pie", params, query, description, width, height)


def pivot(
    key: str,
    title: str,
    dataset: Dataset,
    rows: Sequence[str],
    columns: Sequence[str],
    metrics: Sequence[str],
    *,
    filters: Sequence[Filter] = (),
    number_format: str = "SMART_NUMBER",
    totals: bool = True,
    description: str = "",
    width: int = 12,
    height: int = 50,
) -> Chart:
    """A cross-tabulation with row and column totals."""
    _check(dataset, [*rows, *columns], metrics, filters)
    params = _base(
        filters,
        DEFAULT_ROW_LIMIT,
        {
            "groupbyRows": list(rows),
            "groupbyColumns": list(columns),
            "metrics": list(metrics),
            "metricsLayout": "COLUMNS",
            "aggregateFunction": "Sum",
            "rowTotals": totals,
            "colTotals": totals,
            "transposePivot": False,
            "combineMetric": False,
            "valueFormat": number_format,
            "date_format": "smart_date",
            "rowOrder": "key_a_to_z",
            "colOrder": "key_a_to_z",
            "order_desc": True,
            "temporal_columns_lookup": {},
        },
    )
    # buildQuery sends the column groups first, then the row groups, each once.
    query_columns = tuple(dict.fromkeys([*columns, *rows]))
    query = ChartQuery(
        columns=query_columns,
        metrics=tuple(metrics),
        filters=tuple(filters),
        orderby=((metrics[0], False),),
        row_limit=DEFAULT_ROW_LIMIT,
    )
    return Chart(key, title, dataset, "pivot_table_v2", params, query, description, width, height)


def bar(
    key: str,
    title: str,
    dataset: Dataset,
    x_axis: str,
    metrics: Sequence[str],
    *,
    group_by: Sequence[str] = (),
    filters: Sequence[Filter] = (),
    stack: bool = False,
    x_title: str = "",
    y_title: str = "",
    number_format: str = "SMART_NUMBER",
    horizontal: bool = False,
    label_colors: Mapping[str, str] | None = None,
    legend: bool = True,
    description: str = "",
    width: int = 6,
    height: int = 50,
) -> Chart:
    """Bars along a category axis (quarters, years, cohorts), in the axis's order.

    `label_colors` fixes a series' colour by its label (a metric's verbose
    name or a group's value) instead of leaving it to Superset's palette.
    Superset orders series by name or size, never as declared: where the
    order matters (Red, Amber, Green) leave the legend out (`legend=False`)
    and write it beside the chart in that order."""
    return _x_axis_chart(
        "echarts_timeseries_bar",
        key,
        title,
        dataset,
        x_axis,
        metrics,
        group_by=group_by,
        filters=filters,
        extra={
            "stack": "Stack" if stack else None,
            "orientation": "horizontal" if horizontal else "vertical",
            "show_value": False,
            "only_total": True,
            "show_legend": legend,
            **({"label_colors": dict(label_colors)} if label_colors else {}),
        },
        x_title=x_title,
        y_title=y_title,
        number_format=number_format,
        description=description,
        width=width,
        height=height,
    )


def line(
    key: str,
    title: str,
    dataset: Dataset,
    x_axis: str,
    metrics: Sequence[str],
    *,
    group_by: Sequence[str] = (),
    filters: Sequence[Filter] = (),
    x_title: str = "",
    y_title: str = "",
    number_format: str = "SMART_NUMBER",
    description: str = "",
    width: int = 6,
    height: int = 50,
) -> Chart:
    """Lines along a category axis, with a marker at each point."""
    return _x_axis_chart(
        "echarts_timeseries_line",
        key,
        title,
        dataset,
        x_axis,
        metrics,
        group_by=group_by,
        filters=filters,
        extra={"markerEnabled": True, "markerSize": 6, "seriesType": "line"},
        x_title=x_title,
        y_title=y_title,
        number_format=number_format,
        description=description,
        width=width,
        height=height,
    )


def _x_axis_chart(
    viz_type: str,
    key: str,
    title: str,
    dataset: Dataset,
    x_axis: str,
    metrics: Sequence[str],
    *,
    group_by: Sequence[str],
    filters: Sequence[Filter],
    extra: Mapping[str, Any],
    x_title: str,
    y_title: str,
    number_format: str,
    description: str,
    width: int,
    height: int,
) -> Chart:
    _check(dataset, [x_axis, *group_by], metrics, filters)
    params = _base(
        filters,
        DEFAULT_ROW_LIMIT,
        {
            "x_axis": x_axis,
            "metrics": list(metrics),
            "groupby": list(group_by),
            "order_desc": True,
            "truncate_metric": True,
            "show_empty_columns": True,
            "comparison_type": "values",
            "annotation_layers": [],
            "forecastPeriods": 10,
            "forecastInterval": 0.8,
            "x_axis_title": x_title,
            "x_axis_title_margin": 30 if x_title else 15,
            "y_axis_title": y_title,
            "y_axis_title_margin": 50 if y_title else 15,
            "y_axis_title_position": "Left",
            "sort_series_type": "sum",
            "color_scheme": "supersetColors",
            "show_legend": True,
            "legendType": "scroll",
            "legendOrientation": "top",
            "x_axis_time_format": "smart_date",
            "xAxisLabelRotation": 0,
            "xAxisLabelInterval": 0,  # every category labelled, not every other one
            "y_axis_format": number_format,
            "y_axis_bounds": [None, None],
            "rich_tooltip": True,
            "tooltipTimeFormat": "smart_date",
            # Category axes keep their own order (quarters, years), not the bars' sizes.
            **({"x_axis_sort": x_axis, "x_axis_sort_asc": True} if not group_by else {}),
            **extra,
        },
    )
    axis_column = {
        "columnType": "BASE_AXIS",
        "sqlExpression": x_axis,
        "label": x_axis,
        "expressionType": "SQL",
        # The front end marks a plain column used as the axis this way; a
        # guest's request must match the stored query exactly.
        "isColumnReference": True,
    }
    post_processing: list[dict[str, Any]] = [
        {
            "operation": "pivot",
            "options": {
                "index": [x_axis],
                "columns": list(group_by),
                "aggregates": {metric: {"operator": "mean"} for metric in metrics},
                "drop_missing_columns": False,
            },
        },
    ]
    if len(metrics) == 1 and group_by:
        post_processing.append(
            {"operation": "rename", "options": {"columns": {metrics[0]: None}, "level": 0, "inplace": True}}
        )
    if not group_by:
        post_processing.append({"operation": "sort", "options": {"is_sort_index": True, "ascending": True}})
    post_processing.append({"operation": "flatten"})
    query = ChartQuery(
        columns=(axis_column, *group_by),
        metrics=tuple(metrics),
        filters=tuple(filters),
        orderby=((metrics[0], False),),
        row_limit=DEFAULT_ROW_LIMIT,
        extra={"series_columns": list(group_by), "post_processing": post_processing, "time_offsets": []},
    )
    return Chart(key, title, dataset, viz_type, params, query, description, width, height)
