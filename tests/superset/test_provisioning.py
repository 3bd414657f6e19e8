"""`flask superset provision` against a real Superset: everything arrives,
provisioning again changes nothing, and a changed definition is applied."""

from __future__ import annotations

import dataclasses
import json

from etl.reader import marts_path
from etl.schema import MARTS
from monitor.superset.bundle import DATABASE_UUID
from monitor.superset.provision import provision
from monitor.superset.spec import Chart, Dashboard, Dataset, Metric
from tests.superset.conftest import ProvisionedSuperset

SLUGS = {
    "board-performance",
    "contracts-renewals",
    "funding-value-for-money",
    "outcomes",
    "provision-gaps",
    "how-we-compare",
}


def _counts(superset: ProvisionedSuperset) -> dict[str, int]:
    client = superset.client
    return {
        kind: client.get(f"/api/v1/{kind}/?q=(page_size:100)")["count"]
        for kind in ("dashboard", "chart", "dataset", "database")
    }


def test_every_dashboard_is_published_embeddable_and_complete(
    provisioned_superset: ProvisionedSuperset,
) -> None:
    superset = provisioned_superset
    assert set(superset.dashboards) == SLUGS
    for slug, dashboard in superset.dashboards.items():
        stored = superset.client.dashboard(slug)
        assert stored["published"] is True, slug
        assert stored["dashboard_title"] == dashboard.title
        on_page = {c["id"] for c in superset.client.dashboard_charts(dashboard.id)}
        assert on_page == {c.id for c in dashboard.charts}, slug
        assert f"{slug}: dashboard {dashboard.id}" in superset.provision_output
        assert dashboard.embedded_uuid in superset.provision_output
    charts = {c.uuid for d in superset.specs for c in d.charts}
    # A dataset per mart.
    assert _counts(superset) == {"dashboard": 6, "chart": len(charts), "dataset": len(MARTS), "database": 1}


def test_the_warehouse_database_points_at_this_warehouse(provisioned_superset: ProvisionedSuperset) -> None:
    superset = provisioned_superset
    databases = superset.client.get("/api/v1/database/?q=(page_size:10)")["result"]
    assert [d["uuid"] for d in databases] == [DATABASE_UUID]
    detail = superset.client.get(f"/api/v1/database/{databases[0]['id']}/connection")["result"]
    name = superset.warehouse.engine.url.database
    if superset.backend == "sqlite":  # the file of marts beside the warehouse (etl/reader.py)
        name = str(marts_path(superset.warehouse.url))
    assert name and name in detail["sqlalchemy_uri"]
    if superset.backend == "postgresql":
        assert detail["sqlalchemy_uri"].startswith("postgresql+psycopg2://")
        datasets = superset.client.get("/api/v1/dataset/?q=(page_size:10)")["result"]
        assert {d["schema"] for d in datasets} == {"warehouse"}


def test_provisioning_again_changes_nothing(provisioned_superset: ProvisionedSuperset) -> None:
    superset = provisioned_superset
    before = _counts(superset)
    again = provision(superset.client, superset.specs, superset.warehouse.url)
    assert {d.slug: (d.id, d.embedded_uuid) for d in again} == {
        slug: (d.id, d.embedded_uuid) for slug, d in superset.dashboards.items()
    }
    for provisioned in again:
        assert {c.key: c.id for c in provisioned.charts} == {
            c.key: c.id for c in superset.dashboards[provisioned.slug].charts
        }
    assert _counts(superset) == before


def _changed(specs: tuple[Dashboard, ...]) -> tuple[tuple[Dashboard, ...], Chart, Dataset]:
    """The declarations with one chart renamed and re-filtered, and its
    dataset given a new metric and a new description."""
    board = next(d for d in specs if d.slug == "board-performance")
    old_chart = board.charts[0]
    dataset = dataclasses.replace(
        old_chart.dataset,
        description="Changed for a test",
        metrics=(*old_chart.dataset.metrics, Metric("test_metric", "COUNT(*)", "Test metric")),
    )
    chart = dataclasses.replace(
        old_chart,
        title="Renamed by a test",
        dataset=dataset,
        params={**old_chart.params, "subtitle": "changed subtitle"},
    )
    rows = tuple(tuple(chart if cell is old_chart else cell for cell in row) for row in board.rows)
    changed_board = dataclasses.replace(board, rows=rows, viewer_filter_dataset=dataset)
    return tuple(changed_board if d is board else d for d in specs), chart, dataset


def test_a_changed_chart_and_dataset_are_overwritten(provisioned_superset: ProvisionedSuperset) -> None:
    superset = provisioned_superset
    changed_specs, chart, dataset = _changed(superset.specs)
    original_title = superset.dashboards["board-performance"].chart(chart.key).title
    chart_id = superset.dashboards["board-performance"].chart(chart.key).id
    try:
        provision(superset.client, changed_specs, superset.warehouse.url)
        stored = superset.client.chart(chart_id)
        assert stored["slice_name"] == "Renamed by a test"
        assert json.loads(stored["params"])["subtitle"] == "changed subtitle"
        found = superset.client.get(
            f"/api/v1/dataset/?q=(filters:!((col:table_name,opr:eq,value:{dataset.table})))"
        )
        stored_dataset = superset.client.get(f"/api/v1/dataset/{found['result'][0]['id']}")["result"]
        assert stored_dataset["description"] == "Changed for a test"
        assert "test_metric" in {m["metric_name"] for m in stored_dataset["metrics"]}
    finally:
        provision(superset.client, superset.specs, superset.warehouse.url)
    restored = superset.client.chart(chart_id)
    assert restored["slice_name"] == original_title
    found = superset.client.get(
        f"/api/v1/dataset/?q=(filters:!((col:table_name,opr:eq,value:{dataset.table})))"
    )
    stored_dataset = superset.client.get(f"/api/v1/dataset/{found['result'][0]['id']}")["result"]
    # Overwriting replaces the dataset's metrics too: the test's metric is gone again.
    assert "test_metric" not in {m["metric_name"] for m in stored_dataset["metrics"]}
