"""Apply the dashboards as code to a running Superset, idempotently.

One import of the whole bundle with overwrite (so changed datasets and
charts really change), then an embedded configuration per dashboard so the
app can frame it with guest tokens. Running it again changes nothing that
has not changed in the declarations or the warehouse address.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError

from etl.reader import ensure_reader, marts_path, reader_role, write_marts_file
from monitor.superset.bundle import build_bundle, superset_database
from monitor.superset.client import SupersetClient, SupersetError
from monitor.superset.spec import Dashboard

Progress = Callable[[str], None]


@dataclass(frozen=True)
class ProvisionedChart:
    key: str
    title: str
    id: int
    viz_type: str


@dataclass(frozen=True)
class ProvisionedDashboard:
    slug: str
    title: str
    id: int
    embedded_uuid: str
    charts: tuple[ProvisionedChart, ...] = field(default_factory=tuple)

    def chart(self, key: str) -> ProvisionedChart:
        for chart in self.charts:
            if chart.key == key:
                return chart
        raise KeyError(f"dashboard {self.slug} has no chart {key!r}")


def provision(
    client: SupersetClient,
    dashboards: Sequence[Dashboard],
    warehouse_url: str,
    *,
    allowed_domains: Iterable[str] = (),
    progress: Progress | None = None,
) -> list[ProvisionedDashboard]:
    """Import every dashboard (with its charts, datasets and the warehouse
    database) and make each embeddable; returns what Superset now holds."""
    say = progress or (lambda _line: None)
    connection = reader_url(warehouse_url)
    uri, schema = superset_database(connection)
    charts = {c.uuid for d in dashboards for c in d.charts}
    datasets = {s.table for d in dashboards for s in d.datasets}
    say(
        f"bundle: {len(dashboards)} dashboards, {len(charts)} charts, {len(datasets)} datasets "
        f"on {_safe(uri)}" + (f" (schema {schema})" if schema else "")
    )
    client.import_assets(build_bundle(dashboards, connection))
    say(f"imported into {client.base_url} (existing objects overwritten)")
    domains = list(allowed_domains)
    result = []
    for dashboard in dashboards:
        provisioned = _embed(client, dashboard, domains)
        say(
            f"{dashboard.slug}: dashboard {provisioned.id}, {len(provisioned.charts)} charts, "
            f"embedded {provisioned.embedded_uuid}"
        )
        result.append(provisioned)
    return result


def reader_url(warehouse_url: str) -> str:
    """Where Superset reads the warehouse: only the marts (etl/reader.py).

    Beside a SQLite warehouse, the file of marts the ETL writes (written now
    if the ETL ran before it existed). On PostgreSQL, the warehouse as its
    read-only role, created or updated now with a new password."""
    url = make_url(warehouse_url)
    if url.get_backend_name() == "sqlite":
        path = marts_path(warehouse_url)
        if not path.exists() and url.database and Path(url.database).exists():
            write_marts_file(warehouse_url)
        return url.set(database=str(path)).render_as_string(hide_password=False)
    try:
        return ensure_reader(warehouse_url)
    except DBAPIError as error:
        raise SupersetError(
            f"could not set up the read-only role {reader_role(warehouse_url)!r} Superset reads the "
            f"warehouse as ({error.orig}); the database user needs CREATEROLE, or create the role "
            "yourself (LOGIN, USAGE on schema warehouse, SELECT on the mart tables only)"
        ) from error


def _embed(client: SupersetClient, dashboard: Dashboard, allowed_domains: list[str]) -> ProvisionedDashboard:
    found = client.dashboard(dashboard.slug)
    ids = chart_ids(found)
    charts = []
    for chart in dashboard.charts:
        if chart.uuid not in ids:
            raise SupersetError(
                f"dashboard {dashboard.slug} was imported without its chart {chart.title!r}; "
                "check that its dataset and every column it names exist in the warehouse"
            )
        charts.append(ProvisionedChart(chart.key, chart.title, ids[chart.uuid], chart.viz_type))
    embedded_uuid = client.ensure_embedded(int(found["id"]), allowed_domains)
    return ProvisionedDashboard(
        dashboard.slug, dashboard.title, int(found["id"]), embedded_uuid, tuple(charts)
    )


def chart_ids(dashboard: dict[str, Any]) -> dict[str, int]:
    """Chart uuid -> Superset chart id, from a dashboard's layout (the import
    writes each chart's new id beside its uuid there)."""
    position = json.loads(dashboard.get("position_json") or "{}")
    return {
        node["meta"]["uuid"]: int(node["meta"]["chartId"])
        for node in position.values()
        if isinstance(node, dict) and node.get("type") == "CHART" and "uuid" in node.get("meta", {})
    }


def _safe(uri: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(uri).render_as_string(hide_password=True)
