"""The comparison benchmark's smoke run at small sizes, on PostgreSQL: it
builds both registers, times every query of the "How we compare" dashboard
for each sample viewer and reports the ratio (which means nothing here)."""

from __future__ import annotations

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
