"""Build Superset's import bundle (a zip of YAML files) from the declarations.

The bundle holds one database (the warehouse, at the address Superset should
use), a dataset per mart, every chart and every dashboard. Each file is
written as JSON, which is also YAML, so the app needs no YAML library.
"""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Boolean, Date, DateTime, Float, Integer, Numeric
from sqlalchemy.engine import make_url

from etl.schema import WAREHOUSE_SCHEMA, metadata
from monitor.superset.spec import Chart, Dashboard, Dataset, Markdown, stable_uuid

ROOT_FOLDER = "commissioning_monitor"
DATABASE_NAME = "Commissioning monitor warehouse"
DATABASE_UUID = stable_uuid("database", "warehouse")
VERSION = "1.0.0"


def superset_database(warehouse_url: str) -> tuple[str, str | None]:
    """The warehouse as Superset reaches it: its SQLAlchemy URI (Superset
    uses psycopg2, the app psycopg 3) and the schema its tables are in."""
    url = make_url(warehouse_url)
    backend = url.get_backend_name()
    if backend == "sqlite":
        if not url.database or url.database == ":memory:":
            raise ValueError("Superset cannot read an in-memory warehouse; use a SQLite file or PostgreSQL")
        return url.render_as_string(hide_password=False), None
    if backend == "postgresql":
        return url.set(drivername="postgresql+psycopg2").render_as_string(
            hide_password=False
        ), WAREHOUSE_SCHEMA
    raise ValueError(f"Superset provisioning supports a SQLite or PostgreSQL warehouse, not {backend}")


def build_bundle(dashboards: Iterable[Dashboard], warehouse_url: str) -> bytes:
    """The zip `POST /api/v1/assets/import/` takes."""
    dashboards = list(dashboards)
    uri, schema = superset_database(warehouse_url)
    files: dict[str, dict[str, Any]] = {
        "metadata.yaml": {"version": VERSION, "timestamp": datetime.now(UTC).isoformat()},
        "databases/warehouse.yaml": _database(uri),
    }
    datasets = {d.table: d for dashboard in dashboards for d in dashboard.datasets}
    for dataset in datasets.values():
        files[f"datasets/warehouse/{dataset.table}.yaml"] = _dataset(dataset, schema)
    charts = {c.uuid: c for dashboard in dashboards for c in dashboard.charts}
    for chart in charts.values():
        files[f"charts/{_file_name(chart.key)}.yaml"] = _chart(chart)
    for dashboard in dashboards:
        files[f"dashboards/{_file_name(dashboard.slug)}.yaml"] = _dashboard(dashboard)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as bundle:
        for name, content in files.items():
            bundle.writestr(f"{ROOT_FOLDER}/{name}", json.dumps(content, indent=2, sort_keys=True))
    return buffer.getvalue()


def _file_name(key: str) -> str:
    return key.replace("/", "__")


def _database(uri: str) -> dict[str, Any]:
    return {
        "database_name": DATABASE_NAME,
        "sqlalchemy_uri": uri,
        "cache_timeout": None,
        # Boards read dashboards; nobody writes SQL against the warehouse through Superset.
        "expose_in_sqllab": False,
        "allow_run_async": False,
        "allow_ctas": False,
        "allow_cvas": False,
        "allow_dml": False,
        "allow_csv_upload": False,
        "extra": {},
        "uuid": DATABASE_UUID,
        "version": VERSION,
    }


def _column_type(column: Any) -> tuple[str, bool]:
    kind = column.type
    if isinstance(kind, Date | DateTime):
        return ("DATE" if isinstance(kind, Date) else "DATETIME"), True
    if isinstance(kind, Boolean):
        return "BOOLEAN", False
    if isinstance(kind, Integer):
        return "INTEGER", False
    if isinstance(kind, Numeric) and not isinstance(kind, Float):
        return "NUMERIC", False
    if isinstance(kind, Float):
        return "FLOAT", False
    return "VARCHAR", False


def _dataset(dataset: Dataset, schema: str | None) -> dict[str, Any]:
    table = metadata.tables[dataset.table]
    columns: list[dict[str, Any]] = []
    for column in table.columns:
        type_name, is_dttm = _column_type(column)
        columns.append(
            {
                "column_name": column.name,
                "verbose_name": dataset.labels.get(column.name),
                "is_dttm": is_dttm,
                "is_active": True,
                "type": type_name,
                "groupby": True,
                "filterable": True,
                "expression": None,
                "description": None,
                "python_date_format": "%Y-%m-%d" if is_dttm else None,
                "extra": {},
            }
        )
    return {
        "table_name": dataset.table,
        "schema": schema,
        "main_dttm_col": None,
        "description": dataset.description,
        "default_endpoint": None,
        "offset": 0,
        "cache_timeout": None,
        "sql": None,
        "params": None,
        "template_params": None,
        "filter_select_enabled": True,
        "fetch_values_predicate": None,
        "extra": None,
        "normalize_columns": False,
        "uuid": dataset.uuid,
        "database_uuid": DATABASE_UUID,
        "version": VERSION,
        "columns": columns,
        "metrics": [
            {
                "metric_name": metric.name,
                "verbose_name": metric.label,
                "metric_type": None,
                "expression": metric.expression,
                "description": metric.description or None,
                "d3format": metric.d3format,
                "extra": {},
                "warning_text": None,
            }
            for metric in dataset.metrics
        ],
    }


def _chart(chart: Chart) -> dict[str, Any]:
    return {
        "slice_name": chart.title,
        "description": chart.description or None,
        "viz_type": chart.viz_type,
        "params": chart.form_data(),
        "query_context": json.dumps(chart.query_context()),
        "cache_timeout": None,
        "uuid": chart.uuid,
        "version": VERSION,
        "dataset_uuid": chart.dataset.uuid,
    }


def _dashboard(dashboard: Dashboard) -> dict[str, Any]:
    return {
        "dashboard_title": dashboard.title,
        "description": None,
        "css": "",
        "slug": dashboard.slug,
        "uuid": dashboard.uuid,
        "position": _position(dashboard),
        "metadata": _metadata(dashboard),
        "version": VERSION,
        "published": True,
    }


def _position(dashboard: Dashboard) -> dict[str, Any]:
    """The layout tree Superset needs: ROOT -> GRID -> ROW -> CHART / MARKDOWN."""
    position: dict[str, Any] = {
        "DASHBOARD_VERSION_KEY": "v2",
        "ROOT_ID": {"type": "ROOT", "id": "ROOT_ID", "children": ["GRID_ID"]},
        "GRID_ID": {"type": "GRID", "id": "GRID_ID", "children": [], "parents": ["ROOT_ID"]},
        "HEADER_ID": {"id": "HEADER_ID", "type": "HEADER", "meta": {"text": dashboard.title}},
    }
    chart_number = 0
    for row_number, row in enumerate(dashboard.rows, start=1):
        row_id = f"ROW-{row_number}"
        position["GRID_ID"]["children"].append(row_id)
        position[row_id] = {
            "type": "ROW",
            "id": row_id,
            "children": [],
            "parents": ["ROOT_ID", "GRID_ID"],
            "meta": {"background": "BACKGROUND_TRANSPARENT"},
        }
        parents = ["ROOT_ID", "GRID_ID", row_id]
        for cell in row:
            if isinstance(cell, Markdown):
                cell_id = f"MARKDOWN-{_file_name(cell.key)}"
                meta: dict[str, Any] = {"width": cell.width, "height": cell.height, "code": cell.text}
                kind = "MARKDOWN"
            else:
                chart_number += 1
                cell_id = f"CHART-{_file_name(cell.key)}"
                # chartId is a placeholder: the import maps uuids to the real ids.
                meta = {
                    "width": cell.width,
                    "height": cell.height,
                    "chartId": chart_number,
                    "uuid": cell.uuid,
                    "sliceName": cell.title,
                }
                kind = "CHART"
            position[row_id]["children"].append(cell_id)
            position[cell_id] = {
                "type": kind,
                "id": cell_id,
                "children": [],
                "parents": parents,
                "meta": meta,
            }
    return position


VIEWER_FILTER_ID = "NATIVE_FILTER-viewing-as"


def _metadata(dashboard: Dashboard) -> dict[str, Any]:
    return {
        "label_colors": dict(dashboard.label_colors),
        "shared_label_colors": [],
        "map_label_colors": {},
        "color_scheme_domain": [],
        "refresh_frequency": 0,
        "timed_refresh_immune_slices": [],
        "expanded_slices": {},
        "cross_filters_enabled": False,
        "default_filters": "{}",
        "filter_scopes": {},
        "chart_configuration": {},
        "global_chart_configuration": {
            "scope": {"rootPath": ["ROOT_ID"], "excluded": []},
            "chartsInScope": [],
        },
        "native_filter_configuration": [
            {
                # Whose figures the page shows. An embedded dashboard's guest
                # token allows one viewer, so it lists one name; an admin in
                # Superset picks one instead of seeing every viewer's rows added up.
                "id": VIEWER_FILTER_ID,
                "name": "Viewing as",
                "description": "The commissioner (own contracts, exact figures) or board "
                "(partnership, small numbers shown as [c]) whose figures these are",
                "filterType": "filter_select",
                "type": "NATIVE_FILTER",
                "targets": [
                    {"datasetUuid": dashboard.viewer_filter_dataset.uuid, "column": {"name": "viewer_name"}}
                ],
                "controlValues": {
                    "enableEmptyFilter": True,
                    "defaultToFirstItem": True,
                    "multiSelect": False,
                    "searchAllOptions": False,
                    "inverseSelection": False,
                },
                "defaultDataMask": {"extraFormData": {}, "filterState": {}, "ownState": {}},
                "cascadeParentIds": [],
                # Charts wait for the first viewer to be chosen, instead of
                # loading every viewer's rows first.
                "requiredFirst": True,
                "scope": {"rootPath": ["ROOT_ID"], "excluded": []},
            }
        ],
    }
