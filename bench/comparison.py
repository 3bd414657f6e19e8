"""The "How we compare" dashboard's queries at about a million accepted KPI
figures against about ten thousand, on PostgreSQL.

Builds two national registers (bench/national.py: 360 areas and 3, with
regions, opt-in decisions and similar-areas groups), runs one full ETL on
each (timing the comparison step, which builds mart_comparison), then times
every query the dashboard sends when a board, a force's board and a
commissioner open it (bench/chart_sql.py writes them as Superset does, with
the guest token's row-level security clause), alternating between the
registers. Prints each query's p50 at both sizes and the ratio; the aim is
within 2 times.

Then the same charts end to end, as a board's browser asks for them: a real
Superset for each warehouse (bench/peak.py's `superset()`, provisioned with
monitor.superset.provision as `flask superset provision` does), a guest
token for each sample viewer with its row-level security clause, and POST
/api/v1/chart/data with each chart's stored query context, timed from the
request to the parsed answer; a warm-up, then alternating runs, p50 large
against small. That adds what the SQL timings leave out: Superset's own
work on each request (the guest token, the query context, the SQL it
writes, the rows as JSON) and the connection to the warehouse. The
development profile's chart data cache is NullCache, so every request
reaches the warehouse. The "Viewing as" filter's options are a request the
browser builds itself, not a stored chart: it is timed at the SQL level
only. Writes the raw figures to bench/results/comparison.json.

    .venv/bin/python -m bench.comparison            # about 30 minutes: two registers, their ETL runs, two Supersets
    .venv/bin/python -m bench.comparison --quick    # a smoke run (the ratios mean nothing), without Superset
    .venv/bin/python -m bench.comparison --quick --end-to-end    # the smoke run with the Supersets too
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from contextlib import ExitStack
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, text

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
from bench.peak import superset
from etl.reader import reader_role
from etl.schema import fact_kpi_result, mart_comparison
from monitor.access.viewers import rls_clause
from monitor.superset.client import SupersetClient, dashboard_resource
from monitor.superset.provision import ProvisionedDashboard, provision
from superset_config.assets.comparison import DASHBOARD
from tests.worker.conftest import free_port

AIM = 2.0


@dataclass(frozen=True)
class Plan:
    large: Shape
    small: Shape
    query_runs: int
    # The charts through a real Superset too (two of them, one per warehouse).
    end_to_end: bool = True


FULL = Plan(large=Shape(areas=360), small=Shape(areas=3), query_runs=25)
# The smoke run has no Superset unless asked (--end-to-end): starting two
# takes minutes, and tests/bench/test_comparison_bench.py has a test for each.
QUICK = Plan(large=Shape(areas=2), small=Shape(areas=1), query_runs=2, end_to_end=False)


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


def _provisioned(
    stack: ExitStack, register: Register, folder: Path
) -> tuple[SupersetClient, ProvisionedDashboard]:
    """A Superset of its own for `register`'s warehouse, with the dashboard
    imported and embedded; stopped, and its read-only role dropped, on the
    way out (the role outlives the bench's database)."""
    home = folder / register.label
    home.mkdir()
    settings = stack.enter_context(superset(home, free_port()))
    stack.callback(_drop_reader, register.url)
    client = SupersetClient(
        settings["SUPERSET_URL"], settings["SUPERSET_USERNAME"], settings["SUPERSET_PASSWORD"]
    )
    say(f"{register.label}: provisioning How we compare on its warehouse")
    (dashboard,) = provision(client, (DASHBOARD,), register.url)
    return client, dashboard


def _drop_reader(url: str) -> None:
    engine = create_engine(url, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as connection:
            connection.execute(
                text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = :r"),
                {"r": reader_role(url)},
            )
            connection.execute(text(f'DROP OWNED BY "{reader_role(url)}"'))
            connection.execute(text(f'DROP ROLE IF EXISTS "{reader_role(url)}"'))
    finally:
        engine.dispose()


def _query_context(client: SupersetClient, dashboard: ProvisionedDashboard, chart_id: int) -> dict[str, Any]:
    """The chart's stored query context, addressed as the dashboard sends it."""
    context: dict[str, Any] = json.loads(client.chart(chart_id)["query_context"])
    context["form_data"].update({"slice_id": chart_id, "dashboardId": dashboard.id})
    return context


def _chart_data(client: SupersetClient, context: dict[str, Any], token: str) -> tuple[float, int]:
    """One POST /api/v1/chart/data as the guest: seconds, and the rows of its queries."""
    started = time.perf_counter()
    results = client.chart_data(context, guest_token=token)
    return time.perf_counter() - started, sum(len(r["data"]) for r in results)


def end_to_end(registers: list[Register], runs: int) -> dict[str, Any]:
    """Each chart of the dashboard through Superset, per sample viewer, `runs`
    times per register, alternating, after one warm-up request each."""
    found: dict[str, Any] = {}
    with ExitStack() as stack:
        folder = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="bench-comparison-")))
        supersets = {r.label: _provisioned(stack, r, folder) for r in registers}
        for kind in registers[0].viewers:
            requests: dict[str, list[tuple[str, dict[str, Any], str]]] = {}
            for register in registers:
                client, dashboard = supersets[register.label]
                viewer = register.viewers[kind][0]
                token = client.guest_token(
                    [dashboard_resource(dashboard.embedded_uuid)],
                    [rls_clause(viewer)],
                    user={
                        "username": f"bench-{viewer.replace(':', '-')}",
                        "first_name": "Bench",
                        "last_name": kind,
                    },
                )
                requests[register.label] = [
                    (chart.key, _query_context(client, dashboard, chart.id), token)
                    for chart in dashboard.charts
                ]
            samples: dict[str, dict[str, list[float]]] = {label: {} for label in requests}
            rows: dict[str, dict[str, int]] = {label: {} for label in requests}
            for label, asked in requests.items():
                client = supersets[label][0]
                for key, context, token in asked:  # a warm-up, and the rows each returns
                    rows[label][key] = _chart_data(client, context, token)[1]
                    samples[label][key] = []
            for _ in range(runs):
                for label, asked in requests.items():
                    client = supersets[label][0]
                    for key, context, token in asked:
                        samples[label][key].append(_chart_data(client, context, token)[0])
            found[kind] = {"samples": samples, "rows": rows}
    return found


def run(plan: Plan) -> dict[str, Any]:
    results: dict[str, Any] = {
        "as_at": AS_AT.isoformat(),
        "plan": {
            "large": plan.large.areas,
            "small": plan.small.areas,
            "query_runs": plan.query_runs,
            "end_to_end": plan.end_to_end,
        },
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
            if plan.end_to_end:
                say(f"the dashboard's charts through Superset, {plan.query_runs} runs each")
                results["end_to_end"] = end_to_end(registers, plan.query_runs)
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
    worst = _ratios(lines, "the warehouse's SQL, as Superset writes it", "query", results["queries"])
    if "end_to_end" in results:
        worst_end = _ratios(
            lines,
            "end to end: POST /api/v1/chart/data through Superset with the viewer's guest token",
            "chart",
            results["end_to_end"],
        )
        worst = max(worst, worst_end)
    verdict = "met" if worst <= AIM else "NOT met"
    lines += [
        "",
        f"Aim (the whole dashboard within {AIM:g} times for every viewer): {verdict}, worst {worst:.2f}.",
    ]
    if "end_to_end" not in results:
        lines.append("Not measured through Superset (--end-to-end).")
    return "\n".join(lines)


def _ratios(lines: list[str], title: str, what: str, timed: dict[str, Any]) -> float:
    """A table of p50s, large against small, per viewer kind and in all; the worst whole-dashboard ratio."""
    lines += [
        "",
        f"{title}:",
        "",
        f"| viewer | {what} | rows (large) | p50 large | p50 small | ratio |",
        "| --- | --- | ---: | ---: | ---: | ---: |",
    ]
    worst = 0.0
    for kind, found in timed.items():
        totals = {
            label: sum(statistics.median(s) for s in found["samples"][label].values())
            for label in ("large", "small")
        }
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
    return worst


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes and few runs: a smoke test")
    parser.add_argument("--areas", type=int, help="local areas in the large register (15 services each)")
    parser.add_argument("--query-runs", type=int)
    parser.add_argument(
        "--end-to-end",
        action=argparse.BooleanOptionalAction,
        help="the charts through two real Supersets too (default: yes, but not with --quick)",
    )
    args = parser.parse_args(argv)
    plan = QUICK if args.quick else FULL
    if args.end_to_end is not None:
        plan = replace(plan, end_to_end=args.end_to_end)
    if args.areas:
        plan = replace(plan, large=Shape(areas=args.areas))
    if args.query_runs:
        plan = replace(plan, query_runs=args.query_runs)
    results = run(plan)
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / ("comparison-quick.json" if args.quick else "comparison.json")).write_text(
        json.dumps(results, indent=2, default=str)
    )
    print(report(results))


if __name__ == "__main__":
    main()
