"""The ETL benchmark's smoke run: every step at small sizes, on PostgreSQL.

The benchmark needs a PostgreSQL server (it creates and drops its own
databases there), so it runs only when the suite runs on PostgreSQL.
"""

from __future__ import annotations

from typing import Any

import pytest

from bench import etl as bench_etl
from bench.national import Shape
from etl.roll import DATED_TABLES
from tests.bench.conftest import bench_databases

pytestmark = pytest.mark.postgresql


@pytest.fixture(scope="module")
def results() -> dict[str, Any]:
    before = bench_databases()
    outcome = bench_etl.run(bench_etl.QUICK)
    # Its databases are gone afterwards.
    assert bench_databases() <= before
    return outcome


def test_the_generated_registers_have_accepted_figures_in_proportion(results: dict[str, Any]) -> None:
    large, small = results["generated"]["large"], results["generated"]["small"]
    assert large["contracts"] == Shape(2).contracts and small["contracts"] == Shape(1).contracts
    assert large["accepted_figures"] > 1.5 * small["accepted_figures"] > 0


def test_the_full_run_loads_every_accepted_figure_and_copy_loads_the_same_rows(
    results: dict[str, Any],
) -> None:
    (full,) = results["full"]
    assert full["facts"] == results["generated"]["large"]["accepted_figures"]
    assert results["copy"]["rows"] == full["facts"]
    # Every step of the run is timed, from setting up to the commit.
    assert len(full["steps"]) == len(bench_etl.STEPS) + 1
    assert sum(full["steps"].values()) == pytest.approx(full["seconds"], rel=0.01)


def test_an_incremental_run_rebuilds_one_contracts_viewers(results: dict[str, Any]) -> None:
    for label in ("large", "small"):
        (run,) = results["incremental"][label]
        assert run["facts_rewritten"] > 0 and run["mart_rows_rewritten"] > 0


def test_a_roll_of_the_date_writes_only_the_tables_that_depend_on_it(results: dict[str, Any]) -> None:
    roll = results["roll"]
    assert (len(roll["day"]), len(roll["month"]), len(roll["incremental"])) == (1, 1, 2)
    for run in (*roll["day"], *roll["month"]):
        assert set(run["row_counts"]) == {table.name for table in DATED_TABLES}
    # A new month brings new snapshot rows; a day within a month brings none.
    (day,), (month,) = roll["day"], roll["month"]
    assert day["row_counts"]["fact_contract_snapshot"] == 0 < month["row_counts"]["fact_contract_snapshot"]
    assert month["to"].endswith("-01")


def test_every_dashboard_query_runs_for_every_viewer_at_both_sizes(results: dict[str, Any]) -> None:
    timings = results["queries"]["timings"]
    assert set(timings) == {"commissioner", "board", "force board"}
    for kind, by_register in timings.items():
        assert set(by_register["large"]) == set(by_register["small"])
        # The board performance dashboard has rows for every viewer.
        rows = results["queries"]["rows"][kind]["large"]
        assert rows["board-performance/results"] > 0, kind


def test_the_report_states_each_ratio_against_its_aim(results: dict[str, Any]) -> None:
    report = bench_etl.report(results)
    assert "(aim: at least 0.5)" in report
    assert "(aim: within 1.5)" in report
    assert "(aim: within 2)" in report
    assert "(aim: at most 2)" in report
