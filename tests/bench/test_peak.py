"""The quarter-end peak's smoke run (bench/peak.py --quick), on PostgreSQL.

It starts its own gunicorn, Celery worker and beat, Redis and locust on
free loopback ports, so it runs only when the suite runs on PostgreSQL.
It asserts what the run did, never how fast.
"""

from __future__ import annotations

from typing import Any

import pytest

from bench import peak
from tests.bench.conftest import bench_databases

pytestmark = pytest.mark.postgresql

ROUTES = {
    "GET return (provider)",
    "GET template",
    "POST return",
    "GET return (commissioner)",
    "POST accept",
    "GET /dashboards",
    "GET /api/v1/contracts?page=n",
}


@pytest.fixture(scope="module")
def results() -> dict[str, Any]:
    before = bench_databases()
    outcome = peak.run(peak.QUICK)
    assert bench_databases() <= before  # its database is dropped
    return outcome


def test_every_kind_of_user_reached_its_routes_with_one_user_and_at_peak(results: dict[str, Any]) -> None:
    assert ROUTES <= set(results["baseline"]["routes"]) | set(results["peak"]["routes"])
    assert ROUTES - {"POST accept"} <= set(results["peak"]["routes"])
    assert results["peak"]["routes"]["POST return"]["requests"] > 0
    report = peak.report(results)
    for route in ROUTES:
        assert f"| {route} |" in report


def test_nothing_failed_on_the_server_or_in_the_bench(results: dict[str, Any]) -> None:
    assert results["server_errors"]["peak"] == results["server_errors"]["baseline"] == 0
    assert results["client_errors"] == []
    assert results["peak"]["routes"]["all"]["failures"] == 0
    assert results["web_log_errors"] == 0


def test_every_201_has_exactly_one_stored_version_and_refusals_none(results: dict[str, Any]) -> None:
    check = results["integrity"]
    assert check["succeeded"] > 0
    assert check["uploads"] == check["succeeded"] + check["refused"]
    assert check["successes_with_one_stored_version"] == check["succeeded"] == check["stored_versions"]
    assert check["lost"] == check["duplicated"] == check["stored_for_refused_upload"] == 0
    assert check["stored_without_a_201"] == check["answered_sha_mismatch"] == 0
    # Only the uploads made broken on purpose were refused, each with 422.
    assert set(check["refused_by_status"]) <= {"422"}
    assert check["unexpected_answers"] == []


def test_every_acceptance_reached_the_warehouse(results: dict[str, Any]) -> None:
    lag = results["lag"]
    assert lag["accepted"] == results["accepts"].get("200", 0) > 0
    assert lag["not_arrived"] == 0
    assert len(lag["measured_seconds"]) + len(lag["one_user_seconds"]) == lag["accepted"]
