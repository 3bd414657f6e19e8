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
from typing import Any

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
    uri, schema = superset_database(warehouse_url)
    charts = {c.uuid for d in dashboards for c in d.charts}
    datasets = {s.table for d in dashboards for s in d.datasets}
    say(
        f"bundle: {len(dashboards)} dashboards, {len(charts)} charts, {len(datasets)} datasets "
        f"on {_safe(uri)}" + (f" (schema {schema})" if schema else "")
    )
    client.import_assets(build_bundle(dashboards, warehouse_url))
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
