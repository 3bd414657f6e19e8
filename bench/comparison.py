"""The "How we compare" dashboard's queries at about a million accepted KPI
figures against about ten thousand, on PostgreSQL.

Builds two national registers (bench/national.py: 360 areas and 3, with
regions, opt-in decisions and similar-areas groups), runs one full ETL on
each (timing the comparison step, which builds mart_comparison), then times
every query the dashboard sends when a board, a force's board and a
commissioner open it (bench/chart_sql.py writes them as Superset does, with
the guest token's row-level security clause), alternating between the
registers. Prints each query's p50 at both sizes and the ratio; the aim is
within 2 times. Writes the raw figures to bench/results/comparison.json.

    .venv/bin/python -m bench.comparison            # about 25 minutes: two registers and their ETL runs
    .venv/bin/python -m bench.comparison --quick    # a smoke run (the ratios mean nothing)
"""

from __future__ import annotations

import argparse
import json
import statistics
from dataclasses import dataclass
from typing import Any

from bench.chart_sql import dashboard_queries
from bench.etl import (
    RESULTS,
    Register,
    analyze,
    build_register,
    code_version,
    databases,
    say,
    time_query,
    timed_etl,
)
from bench.etl import _psycopg as connect
from bench.national import AS_AT, Shape
from etl.schema import fact_kpi_result, mart_comparison
from superset_config.assets.comparison import DASHBOARD

AIM = 2.0


@dataclass(frozen=True)
class Plan:
    large: Shape
    small: Shape
    query_runs: int


FULL = Plan(large=Shape(areas=360), small=Shape(areas=3), query_runs=25)
QUICK = Plan(large=Shape(areas=2), small=Shape(areas=1), query_runs=2)


def build(register: Register) -> dict[str, Any]:
    """One full ETL run, with the comparison step's share of it and the mart's rows per viewer."""
    result, seconds, steps = timed_etl(register, full=True)
    comparing = next((value for step, value in steps.items() if step.startswith("comparing areas")), 0.0)
    with connect(register.url) as connection:
        per_viewer = [
            int(n)
            for (n,) in connection.execute(
                f'SELECT COUNT(*) FROM warehouse."{mart_comparison.name}" GROUP BY viewer'  # noqa: S608 - a name from etl.schema
            )
        ]
    return {
        "seconds": seconds,
        "comparison_seconds": comparing,
        "facts": result.row_counts[fact_kpi_result.name],
        "comparison_rows": result.row_counts.get(mart_comparison.name, 0),
        "viewers": len(per_viewer),
        "rows_per_viewer_max": max(per_viewer, default=0),
        "rows_per_viewer_median": statistics.median(per_viewer) if per_viewer else 0,
    }


def timings(registers: list[Register], runs: int) -> dict[str, Any]:
    """Each of the dashboard's queries, per viewer kind, `runs` times per register, alternating."""
    found: dict[str, Any] = {}
    connections = {r.label: connect(r.url) for r in registers}
    try:
        for connection in connections.values():
            connection.autocommit = True
        for kind in registers[0].viewers:
            plans = {r.label: dashboard_queries((DASHBOARD,), *r.viewers[kind]) for r in registers}
            samples: dict[str, dict[str, list[float]]] = {label: {} for label in plans}
            rows: dict[str, dict[str, int]] = {label: {} for label in plans}
            for label, queries in plans.items():
                for query in queries:  # a warm-up, and the rows each returns
                    rows[label][query.name] = time_query(connections[label], query.sql)[1]
                    samples[label][query.name] = []
            for _ in range(runs):
                for label, queries in plans.items():
                    for query in queries:
                        samples[label][query.name].append(time_query(connections[label], query.sql)[0])
            found[kind] = {"samples": samples, "rows": rows}
    finally:
        for connection in connections.values():
            connection.close()
    return found


def run(plan: Plan) -> dict[str, Any]:
    results: dict[str, Any] = {
        "as_at": AS_AT.isoformat(),
        "plan": {"large": plan.large.areas, "small": plan.small.areas, "query_runs": plan.query_runs},
        "code": code_version(),
    }
    with databases(2) as (large_url, small_url):
        registers = [
            build_register("large", large_url, plan.large),
            build_register("small", small_url, plan.small),
        ]
        try:
            results["etl"] = {}
            for register in registers:
                say(f"{register.label}: one full ETL run")
                results["etl"][register.label] = build(register)
                analyze(register)
            say(f"the dashboard's queries, {plan.query_runs} runs each")
            results["queries"] = timings(registers, plan.query_runs)
        finally:
            for register in registers:
                register.engine.dispose()
    return results


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:,.2f} ms"


def report(results: dict[str, Any]) -> str:
    etl = results["etl"]
    lines = [
        f"How we compare: {etl['large']['facts']:,} facts against {etl['small']['facts']:,}",
        "",
        "| register | facts | mart_comparison rows | viewers | rows per viewer (median, max) | full ETL | comparison step |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for label in ("large", "small"):
        built = etl[label]
        lines.append(
            f"| {label} | {built['facts']:,} | {built['comparison_rows']:,} | {built['viewers']:,} | "
            f"{built['rows_per_viewer_median']:,} / {built['rows_per_viewer_max']:,} | "
            f"{built['seconds']:.1f} s | {built['comparison_seconds']:.1f} s |"
        )
    lines += [
        "",
        "| viewer | query | rows (large) | p50 large | p50 small | ratio |",
        "| --- | --- | ---: | ---: | ---: | ---: |",
    ]
    worst = 0.0
    for kind, found in results["queries"].items():
        totals = {}
        for label in ("large", "small"):
            totals[label] = sum(statistics.median(s) for s in found["samples"][label].values())
        for name, samples in found["samples"]["large"].items():
            large, small = statistics.median(samples), statistics.median(found["samples"]["small"][name])
            lines.append(
                f"| {kind} | {name} | {found['rows']['large'][name]:,} | {_ms(large)} | {_ms(small)} | "
                f"{large / small:.2f} |"
            )
        ratio = totals["large"] / totals["small"]
        worst = max(worst, ratio)
        lines.append(
            f"| {kind} | **the whole dashboard** | | {_ms(totals['large'])} | {_ms(totals['small'])} | **{ratio:.2f}** |"
        )
    verdict = "met" if worst <= AIM else "NOT met"
    lines += [
        "",
        f"Aim (the whole dashboard within {AIM:g} times for every viewer): {verdict}, worst {worst:.2f}.",
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes and few runs: a smoke test")
    parser.add_argument("--areas", type=int, help="local areas in the large register (15 services each)")
    parser.add_argument("--query-runs", type=int)
    args = parser.parse_args(argv)
    plan = QUICK if args.quick else FULL
    if args.areas:
        plan = Plan(Shape(areas=args.areas), plan.small, plan.query_runs)
    if args.query_runs:
        plan = Plan(plan.large, plan.small, args.query_runs)
    results = run(plan)
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / ("comparison-quick.json" if args.quick else "comparison.json")).write_text(
        json.dumps(results, indent=2, default=str)
    )
    print(report(results))


if __name__ == "__main__":
    main()
