"""The comparison benchmark's smoke run at small sizes, on PostgreSQL: it
builds both registers, times every query of the "How we compare" dashboard
for each sample viewer and reports the ratio (which means nothing here);
and, in a second test, asks a real Superset for each warehouse for every
chart as each sample viewer (it needs .superset-venv, as tests/superset do)."""

from __future__ import annotations

from dataclasses import replace

import pytest

from bench import comparison as bench_comparison
from superset_config.assets.comparison import DASHBOARD
from tests.bench.conftest import bench_databases

pytestmark = pytest.mark.postgresql


def test_the_comparison_bench_times_every_query_of_the_dashboard() -> None:
    before = bench_databases()
    results = bench_comparison.run(bench_comparison.QUICK)
    assert bench_databases() <= before
    for label in ("large", "small"):
        built = results["etl"][label]
        assert built["facts"] > 0 and built["comparison_rows"] > 0 and built["viewers"] > 0
    # One query per chart and the "Viewing as" filter, for each sample viewer, at both sizes.
    expected = {chart.key for chart in DASHBOARD.charts} | {f"{DASHBOARD.slug}/viewing-as"}
    for found in results["queries"].values():
        for label in ("large", "small"):
            assert set(found["samples"][label]) == expected
            assert all(len(s) == bench_comparison.QUICK.query_runs for s in found["samples"][label].values())
        # The board's own area is in its figures table at both sizes.
        assert found["rows"]["large"]["comparison/figures"] > 0
    assert "the whole dashboard" in bench_comparison.report(results)
    # The smoke run starts no Superset unless asked, and says so.
    assert "end_to_end" not in results
    assert "Not measured through Superset" in bench_comparison.report(results)


def test_the_comparison_bench_asks_superset_for_every_chart_as_each_viewer() -> None:
    before = bench_databases()
    results = bench_comparison.run(replace(bench_comparison.QUICK, end_to_end=True))
    assert bench_databases() <= before
    expected = {chart.key for chart in DASHBOARD.charts}
    assert set(results["end_to_end"]) == set(results["queries"])
    for found in results["end_to_end"].values():
        for label in ("large", "small"):
            assert set(found["samples"][label]) == expected
            assert all(len(s) == bench_comparison.QUICK.query_runs for s in found["samples"][label].values())
            assert all(t > 0 for s in found["samples"][label].values() for t in s)
        # Through the guest token the board still gets its own area's figures, at both sizes.
        assert found["rows"]["large"]["comparison/figures"] > 0
        assert found["rows"]["small"]["comparison/figures"] > 0
    assert "end to end: POST /api/v1/chart/data" in bench_comparison.report(results)
