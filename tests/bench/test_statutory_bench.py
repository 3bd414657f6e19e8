"""The statutory return bench's smoke run (bench/statutory.py --quick), on PostgreSQL.

It creates and drops its own databases on the server, so it runs only when
the suite runs on PostgreSQL. It asserts what the run measured, never how fast.
"""

from __future__ import annotations

from typing import Any

import pytest

from bench import statutory
from tests.bench.conftest import bench_databases

pytestmark = pytest.mark.postgresql


@pytest.fixture(scope="module")
def results() -> dict[str, Any]:
    before = bench_databases()
    outcome = statutory.run(statutory.QUICK)
    assert bench_databases() <= before  # its databases are dropped
    return outcome


def test_each_register_compiled_a_return_with_figures_that_agree_with_its_warehouse(
    results: dict[str, Any],
) -> None:
    for label in ("large", "small"):
        samples = results["samples"][label]
        assert len(samples) == statutory.QUICK.runs
        for sample in samples:
            # The council's refuges count, so the return has sources and figures.
            assert sample["contracts"] >= 1 and sample["figures"] > 0, label
            assert sample["accepted_returns"] > 0, label
            assert sample["reconciled"] and sample["differing"] == 0, label
        assert results["generated"][label]["safe_accommodation_flags"] > 0


def test_the_report_states_the_aim_and_the_ratio(results: dict[str, Any]) -> None:
    report = statutory.report(results)
    assert "(aim: under 1 s;" in report
    assert "times the baseline's" in report
    for measure in ("compile_return", "reconcile", "page's work"):
        assert f"| {measure} |" in report
    medians = statutory.summary(results)
    assert medians["compile"]["ratio"] == pytest.approx(
        medians["compile"]["large"] / medians["compile"]["small"]
    )
