"""The warehouse ETL at national scale, against PostgreSQL's own COPY, in one run.

    .venv/bin/python -m bench.etl                 (a million accepted KPI figures)
    .venv/bin/python -m bench.etl --quick         (every step at small sizes: a smoke run)
    .venv/bin/python -m bench.etl --skip-disclosure-audit   (see bench/README.md)
    .venv/bin/python -m bench.etl --roll          (only 4. below, on the national register)

Builds two app databases on the local PostgreSQL server (bench/national.py:
a national register with a million accepted KPI figures, and one of about
ten thousand), then measures, in the same process:

1. a full ETL run's throughput in KPI facts per second against a plain COPY
   of the same fact rows into a table of the same shape, with the ETL's time
   broken down by step (its `progress` callback);
2. an incremental run after one return is accepted (through the app's own
   `accept_return`) at a million facts against the same at ten thousand;
3. every dashboard chart's SQL, as Superset sends it for a guest whose
   row-level security clause is `viewer = '...'`, at both sizes;
4. rolling the as-at date (a day, and across a month end) at a million
   facts, alternating with an incremental run after one accepted return on
   the same register, against that incremental run.

Absolute times on these shared machines are noisy; the ratios, measured side
by side, are what to read. Results go to bench/results/etl.json. The
databases are dropped at the end, whatever happens.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import psycopg
from alembic import command
from flask import Flask
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from bench.chart_sql import ChartSql, dashboard_queries
from bench.national import AS_AT, Generated, Shape, generate
from etl.app import settings_from
from etl.roll import DATED_TABLES
from etl.run import STEPS, EtlFailed, Progress, RunResult, run_etl
from etl.schema import DIMENSIONS, FACTS, MARTS, WAREHOUSE_SCHEMA, fact_kpi_result
from monitor import create_app
from monitor.audit import Actor, acting_as
from monitor.auth.models import User
from monitor.auth.passwords import hash_password
from monitor.cli import alembic_config
from monitor.config import TestConfig
from monitor.db import db, make_engine
from monitor.disclosure import suppression
from monitor.kpis.library.definitions import load_library
from monitor.kpis.models import Return
from monitor.kpis.returns.services import accept_return
from monitor.superset.assets import load_dashboards

POSTGRES_SERVER = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
RESULTS = Path(__file__).resolve().parent / "results"


@dataclass(frozen=True)
class Plan:
    large: Shape
    small: Shape
    full_runs: int = 3
    copy_runs: int = 5
    incremental_runs: int = 7
    query_runs: int = 25
    # Each: a roll by a day, an incremental run, a roll across a month end,
    # an incremental run.
    roll_runs: int = 3
    # Off only to see what the rest of the ETL costs without the disclosure
    # audit; the report says so.
    disclosure_audit: bool = True


# 360 areas of 15 services report a little over a million accepted figures;
# 3 areas (one police force's) about ten thousand. The small register is one
# whole force, so an incremental run rebuilds the same viewers in both.
FULL = Plan(large=Shape(areas=360), small=Shape(areas=3), incremental_runs=6)
# A smoke run of every step, for the test suite: the ratios mean nothing.
QUICK = Plan(
    large=Shape(areas=2),
    small=Shape(areas=1),
    full_runs=1,
    copy_runs=1,
    incremental_runs=1,
    query_runs=1,
    roll_runs=1,
)


def say(message: str) -> None:
    print(f"bench: {message}", file=sys.stderr, flush=True)


# --- databases -------------------------------------------------------------------


@dataclass
class Register:
    """One generated app database and its warehouse (schema `warehouse` in it)."""

    label: str
    url: str
    app: Flask
    engine: Engine
    generated: Generated
    awaiting: list[tuple[int, int]] = field(default_factory=list)
    # The date the warehouse is as at: a roll moves it on.
    as_at: date = AS_AT

    @property
    def viewers(self) -> dict[str, tuple[str, str]]:
        return self.generated.viewers


def _app(url: str) -> Flask:
    config = TestConfig()
    config.DATABASE_URL = url
    config.SECRET_KEY = "bench-" + "x" * 40
    config.TODAY = AS_AT.isoformat()
    return create_app(config)


@contextmanager
def databases(count: int) -> Iterator[list[str]]:
    """`count` new, empty databases on the server, dropped on the way out."""
    server = create_engine(POSTGRES_SERVER, isolation_level="AUTOCOMMIT")
    names = [f"monitor_bench_etl_{uuid.uuid4().hex[:8]}" for _ in range(count)]
    try:
        with server.connect() as connection:
            for name in names:
                connection.execute(text(f'CREATE DATABASE "{name}"'))
        server_url = make_url(POSTGRES_SERVER)
        yield [server_url.set(database=name).render_as_string(hide_password=False) for name in names]
    finally:
        with server.connect() as connection:
            for name in names:
                connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        server.dispose()


def build_register(label: str, url: str, shape: Shape) -> Register:
    """Migrate with Alembic, load the KPI library through the app, then COPY the register in."""
    app = _app(url)
    with app.app_context():
        command.upgrade(alembic_config(), "head")
        with acting_as(Actor(None, "bench")), db.transaction() as session:
            load_library(session)
        generated = generate(db.engine, shape, hash_password("bench-password-2014"))
        db.dispose()
    say(
        f"{label}: {generated.accepted_figures:,} accepted KPI figures in {shape.contracts:,} contracts, "
        f"generated in {generated.seconds:.1f}s"
    )
    return Register(label, url, app, make_engine(url), generated, list(generated.awaiting_review))


# --- 1. full ETL against COPY ------------------------------------------------------


def etl(register: Register, *, full: bool, progress: Progress | None = None) -> tuple[RunResult, float]:
    """One ETL run as `flask etl run [--full]` makes it, timed."""
    started = time.perf_counter()
    try:
        # In the app's context, as `flask etl run` is: the run's watermark is
        # then on the app's clock (its pinned day), the clock its changes are
        # stamped with, so the worker's later incremental runs see them.
        with register.app.app_context():
            result = run_etl(
                register.engine,
                register.url,
                today=register.as_at,
                full=full,
                settings=settings_from(register.app.config),
                progress=progress,
            )
    except EtlFailed as error:
        raise SystemExit(
            f"bench: {register.label}: the {'full' if full else 'incremental'} ETL run failed after "
            f"{time.perf_counter() - started:.0f}s: {error}"
        ) from error
    return result, time.perf_counter() - started


SETTING_UP = "setting up (warehouse tables, last run, what changed and who sees it)"


def timed_etl(register: Register, *, full: bool) -> tuple[RunResult, float, dict[str, float]]:
    """An ETL run and the time spent in each of its steps, from its `progress` callback."""
    marks: list[tuple[str, float]] = []
    started = time.perf_counter()
    result, seconds = etl(
        register, full=full, progress=lambda step: marks.append((step, time.perf_counter()))
    )
    finished = started + seconds
    steps = {SETTING_UP: marks[0][1] - started if marks else seconds}
    for (step, at), (_next, until) in zip(marks, [*marks[1:], ("end", finished)], strict=True):
        steps[f"{step} and commit" if step == STEPS[-1] else step] = until - at
    return result, seconds, steps


def full_run(register: Register) -> dict[str, Any]:
    """One full ETL run, with the time spent in each step."""
    result, seconds, steps = timed_etl(register, full=True)
    return {
        "seconds": seconds,
        "facts": result.row_counts[fact_kpi_result.name],
        "rows": sum(result.row_counts.values()),
        "row_counts": result.row_counts,
        "steps": steps,
    }


def _psycopg(url: str) -> psycopg.Connection:
    return psycopg.connect(make_url(url).set(drivername="postgresql").render_as_string(hide_password=False))


def copy_baseline(register: Register, runs: int) -> dict[str, Any]:
    """COPY warehouse rows out into memory, then time COPYing them into empty
    tables of the same shape (indexes and primary keys included, as the
    ETL's tables have), committed, `runs` times: the fact rows alone (the
    baseline the aim is set against), and every table a full run writes
    (the least its load step could cost)."""
    everything = [t.name for t in (*DIMENSIONS, *FACTS, *MARTS)]
    with _psycopg(register.url) as connection, connection.cursor() as cursor:
        data: dict[str, bytearray] = {}
        for name in everything:
            data[name] = bytearray()
            with cursor.copy(f'COPY "{WAREHOUSE_SCHEMA}"."{name}" TO STDOUT') as copy:
                for chunk in copy:
                    data[name] += chunk
        cursor.execute("CREATE SCHEMA bench_copy")
        for name in everything:
            cursor.execute(
                f'CREATE TABLE bench_copy."{name}" (LIKE "{WAREHOUSE_SCHEMA}"."{name}" INCLUDING ALL)'
            )
        connection.commit()
        seconds: dict[str, list[float]] = {"facts": [], "all": []}
        for _ in range(runs):
            for label, names in (("facts", [fact_kpi_result.name]), ("all", everything)):
                cursor.execute("TRUNCATE " + ", ".join(f'bench_copy."{n}"' for n in names))
                connection.commit()
                started = time.perf_counter()
                for name in names:
                    with cursor.copy(f'COPY bench_copy."{name}" FROM STDIN') as copy:
                        copy.write(data[name])
                connection.commit()
                seconds[label].append(time.perf_counter() - started)
        cursor.execute("DROP SCHEMA bench_copy CASCADE")
        connection.commit()
    return {
        "rows": data[fact_kpi_result.name].count(b"\n"),
        "all_rows": sum(d.count(b"\n") for d in data.values()),
        "seconds": seconds["facts"],
        "all_seconds": seconds["all"],
    }


# --- 2. incremental runs -------------------------------------------------------------


def accept_next(register: Register) -> int:
    """Accept the next return awaiting review, as its council's commissioner
    would (the service checks, changes state, records the event and the audit
    trail). Returns its contract's id."""
    if not register.awaiting:
        raise SystemExit(f"bench: {register.label} has no more returns awaiting review")
    return_id, user_id = register.awaiting.pop(0)
    # In the app's context, as the web request is: the acceptance is stamped
    # on the app's clock, the clock the ETL's watermark is on.
    with register.app.app_context(), Session(register.engine) as session:
        user = session.get(User, user_id)
        record = session.get(Return, return_id)
        if user is None or record is None:
            raise SystemExit(f"bench: return {return_id} or user {user_id} is missing")
        with acting_as(Actor(user.id, user.email)):
            accept_return(session, user, record, "Figures checked against the case management system")
            session.commit()
        return record.contract_id


def incremental_run(register: Register) -> dict[str, Any]:
    contract_id = accept_next(register)
    result, seconds, steps = timed_etl(register, full=False)
    if result.mode != "incremental" or result.contracts_changed != 1:
        raise SystemExit(
            f"bench: expected an incremental run for contract {contract_id}, got {result.mode} "
            f"with {result.contracts_changed} contracts changed"
        )
    return {
        "seconds": seconds,
        "contract_id": contract_id,
        "facts_rewritten": result.row_counts.get(fact_kpi_result.name, 0),
        "mart_rows_rewritten": sum(result.row_counts.get(m.name, 0) for m in MARTS),
        "rows_written": sum(result.row_counts.values()),
        "steps": steps,
    }


# --- 4. rolling the date ----------------------------------------------------------------


def _first_of_next_month(day: date) -> date:
    return date(day.year + day.month // 12, day.month % 12 + 1, 1)


def roll_run(register: Register, to: date) -> dict[str, Any]:
    """Move the as-at date to `to` with nothing else changed: the daily run
    the worker makes with `run_etl(full=False)`."""
    since, register.as_at = register.as_at, to
    result, seconds, steps = timed_etl(register, full=False)
    if result.mode != "roll" or result.contracts_changed != 0:
        raise SystemExit(
            f"bench: expected a roll from {since} to {to}, got {result.mode} "
            f"with {result.contracts_changed} contracts changed"
        )
    if set(result.row_counts) != {t.name for t in DATED_TABLES}:
        raise SystemExit(f"bench: the roll to {to} wrote {sorted(result.row_counts)}")
    return {
        "seconds": seconds,
        "from": since.isoformat(),
        "to": to.isoformat(),
        "rows_written": sum(result.row_counts.values()),
        "row_counts": result.row_counts,
        "steps": steps,
    }


def rolls(register: Register, runs: int) -> dict[str, list[dict[str, Any]]]:
    """`runs` times: a roll by one day, an incremental run after one accepted
    return, a roll to the first of the next month (new snapshot months), an
    incremental run; each incremental run at the date the last roll left."""
    found: dict[str, list[dict[str, Any]]] = {"day": [], "month": [], "incremental": []}
    for _ in range(runs):
        found["day"].append(roll_run(register, register.as_at + timedelta(days=1)))
        found["incremental"].append(incremental_run(register))
        found["month"].append(roll_run(register, _first_of_next_month(register.as_at)))
        found["incremental"].append(incremental_run(register))
    return found


# --- 3. dashboard queries ------------------------------------------------------------


def analyze(register: Register) -> None:
    """Fresh planner statistics, as autovacuum would gather shortly after a load."""
    with _psycopg(register.url) as connection:
        connection.autocommit = True
        for table in (fact_kpi_result, *MARTS):
            connection.execute(f'ANALYZE "{WAREHOUSE_SCHEMA}"."{table.name}"')


def time_query(connection: psycopg.Connection, sql: str) -> tuple[float, int]:
    started = time.perf_counter()
    rows = connection.execute(sql).fetchall()
    return time.perf_counter() - started, len(rows)


def query_plan(registers: list[Register]) -> dict[str, dict[str, list[ChartSql]]]:
    """Per viewer kind, per register: the queries its dashboards send."""
    dashboards = load_dashboards()
    return {
        kind: {r.label: dashboard_queries(dashboards, *r.viewers[kind]) for r in registers}
        for kind in registers[0].viewers
    }


def dashboard_timings(registers: list[Register], runs: int) -> dict[str, Any]:
    """Each query `runs` times per register, alternating, after one warm-up each."""
    plan = query_plan(registers)
    timings: dict[str, dict[str, dict[str, list[float]]]] = {}
    rows: dict[str, dict[str, dict[str, int]]] = {}
    connections = {r.label: _psycopg(r.url) for r in registers}
    try:
        for connection in connections.values():
            connection.autocommit = True
        for kind, by_register in plan.items():
            timings[kind], rows[kind] = {}, {}
            for label, queries in by_register.items():
                rows[kind][label] = {q.name: time_query(connections[label], q.sql)[1] for q in queries}
                timings[kind][label] = {q.name: [] for q in queries}
            for _ in range(runs):
                for label, queries in by_register.items():
                    for query in queries:
                        seconds, _count = time_query(connections[label], query.sql)
                        timings[kind][label][query.name].append(seconds)
    finally:
        for connection in connections.values():
            connection.close()
    return {"timings": timings, "rows": rows}


# --- the run ---------------------------------------------------------------------------


def p50(samples: list[float]) -> float:
    return statistics.median(samples)


def spread(samples: list[float]) -> tuple[float, float]:
    return min(samples), max(samples)


def code_version() -> dict[str, Any]:
    """Which ETL was measured: the commit, and any uncommitted change to etl/."""
    root = Path(__file__).resolve().parent.parent

    def git(*args: str) -> str:
        try:
            done = subprocess.run(["git", *args], cwd=root, capture_output=True, text=True, check=True)
        except (OSError, subprocess.CalledProcessError):
            return ""
        return done.stdout.strip()

    return {
        "commit": git("rev-parse", "--short", "HEAD"),
        "etl_uncommitted": git("status", "--porcelain", "etl"),
    }


@contextmanager
def disclosure_audit(enabled: bool) -> Iterator[None]:
    """With `enabled` false, secondary suppression applies its own rules
    but skips the audit that looks for figures pinned by several totals at
    once (`monitor.disclosure.audit.disclosed`), in this process only."""
    if enabled:
        yield
        return
    original = suppression.disclosed
    suppression.disclosed = lambda *_args: set()
    try:
        yield
    finally:
        suppression.disclosed = original


def run(plan: Plan) -> dict[str, Any]:
    results: dict[str, Any] = {
        "as_at": AS_AT.isoformat(),
        "plan": {"large": plan.large.areas, "small": plan.small.areas},
        "disclosure_audit": plan.disclosure_audit,
        "code": code_version(),
    }
    with databases(2) as (large_url, small_url), disclosure_audit(plan.disclosure_audit):
        large = build_register("large", large_url, plan.large)
        small = build_register("small", small_url, plan.small)
        results["generated"] = {
            r.label: {
                "areas": r.generated.shape.areas,
                "contracts": r.generated.shape.contracts,
                "accepted_figures": r.generated.accepted_figures,
                "rows": r.generated.rows,
                "seconds": r.generated.seconds,
            }
            for r in (large, small)
        }
        try:
            say(f"large: {plan.full_runs} full ETL runs")
            results["full"] = [full_run(large) for _ in range(plan.full_runs)]
            say("large: COPY of the same fact rows")
            results["copy"] = copy_baseline(large, plan.copy_runs)
            say("small: one full ETL run")
            results["full_small"] = full_run(small)
            for register in (large, small):
                analyze(register)
            say(f"dashboard queries, {plan.query_runs} runs each")
            results["queries"] = dashboard_timings([large, small], plan.query_runs)
            say(f"{plan.incremental_runs} incremental runs each, alternating")
            results["incremental"] = {"large": [], "small": []}
            for _ in range(plan.incremental_runs):
                for register in (large, small):
                    results["incremental"][register.label].append(incremental_run(register))
            say(f"large: {plan.roll_runs} x (roll a day, incremental, roll to a new month, incremental)")
            results["roll"] = rolls(large, plan.roll_runs)
        finally:
            for register in (large, small):
                register.engine.dispose()
    return results


def run_rolls(plan: Plan) -> dict[str, Any]:
    """Only the roll of the date against an incremental run, on the large
    register, after one full run to build its warehouse."""
    results: dict[str, Any] = {
        "as_at": AS_AT.isoformat(),
        "plan": {"large": plan.large.areas},
        "disclosure_audit": plan.disclosure_audit,
        "code": code_version(),
    }
    with databases(1) as (large_url,), disclosure_audit(plan.disclosure_audit):
        large = build_register("large", large_url, plan.large)
        results["generated"] = {
            "large": {
                "areas": large.generated.shape.areas,
                "contracts": large.generated.shape.contracts,
                "accepted_figures": large.generated.accepted_figures,
                "rows": large.generated.rows,
                "seconds": large.generated.seconds,
            }
        }
        try:
            say("large: one full ETL run")
            results["full"] = [full_run(large)]
            say(f"large: {plan.roll_runs} x (roll a day, incremental, roll to a new month, incremental)")
            results["roll"] = rolls(large, plan.roll_runs)
        finally:
            large.engine.dispose()
    return results


# --- the report ------------------------------------------------------------------------


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:,.1f} ms"


def _s(seconds: float, places: int = 1) -> str:
    return f"{seconds:,.{places}f} s"


def report(results: dict[str, Any]) -> str:
    out: list[str] = []
    code = results.get("code", {})
    out.append(
        f"ETL at commit {code.get('commit') or 'unknown'}"
        + (f", with uncommitted changes: {code['etl_uncommitted']!r}" if code.get("etl_uncommitted") else "")
        + "."
    )
    if not results.get("disclosure_audit", True):
        out.append("NOTE: the disclosure audit was switched off for this run (--skip-disclosure-audit).")
    if "copy" in results:
        out += _throughput_report(results)
    if "roll" in results:
        out += _roll_report(results)
    return "\n".join(out)


def _roll_report(results: dict[str, Any]) -> list[str]:
    roll = results["roll"]
    generated = results["generated"]["large"]
    incremental = [r["seconds"] for r in roll["incremental"]]
    full = p50([r["seconds"] for r in results["full"]])
    out = [
        "",
        f"4. Rolling the as-at date against an incremental run ({generated['accepted_figures']:,} figures, "
        f"{generated['contracts']:,} contracts), alternating",
        "",
        "| run | runs | p50 | min-max | rows written (p50) | p50 / incremental p50 |",
        "| --- | ---: | ---: | ---: | ---: | ---: |",
    ]
    for label, samples in (
        ("incremental run after one accepted return", roll["incremental"]),
        ("roll by a day", roll["day"]),
        ("roll to the first of a new month", roll["month"]),
    ):
        seconds = [r["seconds"] for r in samples]
        low, high = spread(seconds)
        written = p50([r["rows_written"] for r in samples])
        out.append(
            f"| {label} | {len(seconds)} | {_s(p50(seconds), 2)} | {_s(low, 2)}-{_s(high, 2)} "
            f"| {written:,.0f} | {p50(seconds) / p50(incremental):.2f} |"
        )
    worst = max(p50([r["seconds"] for r in roll[kind]]) for kind in ("day", "month"))
    out += [
        "",
        f"roll / incremental p50: day {p50([r['seconds'] for r in roll['day']]) / p50(incremental):.2f}, "
        f"month {p50([r['seconds'] for r in roll['month']]) / p50(incremental):.2f}; "
        f"worst {worst / p50(incremental):.2f} (aim: at most 2); "
        f"worst roll / full run ({_s(full)}): {worst / full:.3f}",
        "",
        "| step of the roll | p50 day | p50 month |",
        "| --- | ---: | ---: |",
    ]
    for step in roll["month"][0]["steps"]:
        day_step = p50([r["steps"].get(step, 0.0) for r in roll["day"]])
        month_step = p50([r["steps"].get(step, 0.0) for r in roll["month"]])
        out.append(f"| {step} | {_s(day_step, 2)} | {_s(month_step, 2)} |")
    return out


def _throughput_report(results: dict[str, Any]) -> list[str]:
    out: list[str] = []
    generated = results["generated"]
    out.append(
        f"Registers: large {generated['large']['accepted_figures']:,} accepted KPI figures "
        f"({generated['large']['contracts']:,} contracts, generated in {_s(generated['large']['seconds'])}); "
        f"small {generated['small']['accepted_figures']:,} ({generated['small']['contracts']:,} contracts)."
    )

    full, copy = results["full"], results["copy"]
    facts = full[0]["facts"]
    etl_seconds = [r["seconds"] for r in full]
    etl_rate, copy_rate = facts / p50(etl_seconds), copy["rows"] / p50(copy["seconds"])
    low, high = spread(etl_seconds)
    copy_low, copy_high = spread(copy["seconds"])
    all_low, all_high = spread(copy["all_seconds"])
    all_rate = facts / p50(copy["all_seconds"])
    out += [
        "",
        "1. Full ETL against COPY of the same fact rows",
        "",
        "| | runs | p50 | min-max | KPI facts per second |",
        "| --- | ---: | ---: | ---: | ---: |",
        f"| full ETL ({facts:,} facts, {full[0]['rows']:,} rows in all) | {len(full)} | {_s(p50(etl_seconds))} "
        f"| {_s(low)}-{_s(high)} | {etl_rate:,.0f} |",
        f"| COPY of the fact rows into fact_kpi_result's shape ({copy['rows']:,} rows) | {len(copy['seconds'])} "
        f"| {_s(p50(copy['seconds']))} | {_s(copy_low)}-{_s(copy_high)} | {copy_rate:,.0f} |",
        f"| COPY of every table a full run writes ({copy['all_rows']:,} rows) | {len(copy['all_seconds'])} "
        f"| {_s(p50(copy['all_seconds']))} | {_s(all_low)}-{_s(all_high)} | {all_rate:,.0f} |",
        "",
        f"ETL rate / COPY rate: {etl_rate / copy_rate:.3f} (aim: at least 0.5); "
        f"against COPY of every table the run writes: {etl_rate / all_rate:.3f}",
        "",
        "| step of the full ETL | p50 | share |",
        "| --- | ---: | ---: |",
    ]
    for step in full[0]["steps"]:
        seconds = p50([r["steps"][step] for r in full])
        out.append(f"| {step} | {_s(seconds)} | {seconds / p50(etl_seconds):.0%} |")

    incremental = results["incremental"]
    large_inc = [r["seconds"] for r in incremental["large"]]
    small_inc = [r["seconds"] for r in incremental["small"]]
    out += [
        "",
        "2. Incremental run after one accepted return",
        "",
        "| register | runs | p50 | min-max | facts rewritten (p50) | mart rows rewritten (p50) |",
        "| --- | ---: | ---: | ---: | ---: | ---: |",
    ]
    for label, samples in (("large", large_inc), ("small", small_inc)):
        low, high = spread(samples)
        out.append(
            f"| {label} ({generated[label]['accepted_figures']:,} figures) | {len(samples)} | {_s(p50(samples))} "
            f"| {_s(low)}-{_s(high)} | {p50([r['facts_rewritten'] for r in incremental[label]]):,.0f} "
            f"| {p50([r['mart_rows_rewritten'] for r in incremental[label]]):,.0f} |"
        )
    out.append(f"\nlarge / small p50: {p50(large_inc) / p50(small_inc):.2f} (aim: within 1.5)")
    out += ["", "| step of the incremental run | p50 large | p50 small |", "| --- | ---: | ---: |"]
    for step in incremental["large"][0]["steps"]:
        large_step = p50([r["steps"].get(step, 0.0) for r in incremental["large"]])
        small_step = p50([r["steps"].get(step, 0.0) for r in incremental["small"]])
        out.append(f"| {step} | {_s(large_step, 2)} | {_s(small_step, 2)} |")

    queries = results["queries"]
    out += [
        "",
        "3. Dashboard chart queries (Superset's SQL with the viewer's RLS clause)",
        "",
        "| viewer | query | rows large | p50 large | p50 small | p50 ratio | p90 ratio |",
        "| --- | --- | ---: | ---: | ---: | ---: | ---: |",
    ]
    worst = 0.0
    for kind, by_register in queries["timings"].items():
        for name, large_samples in by_register["large"].items():
            small_samples = by_register["small"][name]
            ratio = p50(large_samples) / p50(small_samples)
            worst = max(worst, ratio)
            p90 = _p90(large_samples) / _p90(small_samples)
            out.append(
                f"| {kind} | {name} | {queries['rows'][kind]['large'][name]:,} | {_ms(p50(large_samples))} "
                f"| {_ms(p50(small_samples))} | {ratio:.2f} | {p90:.2f} |"
            )
    out.append(f"\nworst p50 ratio: {worst:.2f} (aim: within 2)")
    return out


def _p90(samples: list[float]) -> float:
    ordered = sorted(samples)
    return ordered[int(0.9 * (len(ordered) - 1))]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes and few runs: a smoke test")
    parser.add_argument("--areas", type=int, help="local areas in the large register (15 services each)")
    parser.add_argument("--full-runs", type=int)
    parser.add_argument("--incremental-runs", type=int)
    parser.add_argument("--query-runs", type=int)
    parser.add_argument("--roll-runs", type=int)
    parser.add_argument(
        "--roll",
        action="store_true",
        help="only the roll of the as-at date against an incremental run, on the large register",
    )
    parser.add_argument(
        "--skip-disclosure-audit",
        action="store_true",
        help="measure the ETL without the disclosure audit (to see what the rest costs)",
    )
    args = parser.parse_args(argv)
    plan = QUICK if args.quick else FULL
    overrides = {
        "large": Shape(areas=args.areas) if args.areas else None,
        "full_runs": args.full_runs,
        "incremental_runs": args.incremental_runs,
        "query_runs": args.query_runs,
        "roll_runs": args.roll_runs,
        "disclosure_audit": False if args.skip_disclosure_audit else None,
    }
    plan = Plan(**{**plan.__dict__, **{k: v for k, v in overrides.items() if v is not None}})
    results = run_rolls(plan) if args.roll else run(plan)
    RESULTS.mkdir(exist_ok=True)
    name = ("etl-quick" if args.quick else "etl") + ("-roll" if args.roll else "") + ".json"
    (RESULTS / name).write_text(json.dumps(results, indent=2, default=str))
    print(report(results))


if __name__ == "__main__":
    main()
