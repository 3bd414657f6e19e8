"""One ETL run: extract, transform, load, check, in a single warehouse transaction.

By default a run is incremental: it finds the contracts whose register entry,
framework or returns changed since the last successful run, and rebuilds the
rows of every viewer who sees one of them (a board's suppression depends on
all of its contracts, so its whole view is rebuilt). When the as-at date has
moved since the last run, the run also rolls the date (etl/roll.py): it
rewrites only the rows that depend on the date (periods, snapshots, renewals
and provision), after any incremental rebuild, and is logged as a "roll". A
full run rebuilds everything; it happens when asked, on the first run, or
when organisations, partnerships, KPIs or benchmarking (decisions, regions,
similar-areas groups) changed.

The comparison mart (etl/transform/comparison.py) is rebuilt whole, but only
by full runs (the nightly full rebuild, `flask etl run --full`, the first run,
and any run made full because organisations, KPIs or benchmarking changed)
and by a roll whose dates bring a decision to take part (or to stop) into
force. Incremental runs leave it as it was, for three reasons. Its cost grows
with the square of the areas (every area's figures are set against every
other area's in each group it is in, and written for each viewer): 48 s a run
at national scale (bench/comparison.py), when the outbox drains with an
incremental run every minute. It compares financial years, which a day's new
returns barely move. And the lag is said where the figures are shown: every
row carries the day it was worked out for (`as_at`), which the dashboard's
"How we compare" table and the board pack's sheet show. Any change to which
areas take part or how they are grouped is in the reference fingerprint, so
it makes the run a full one and never waits a day. The comparison is worked
out from the warehouse's own facts after they are loaded, so a roll, which
extracts nothing, compares every area all the same.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

import pandas as pd
from sqlalchemy import Connection, Engine, desc, func, inspect, select, text
from sqlalchemy.orm import Session

from etl import load, reader, roll
from etl.engine import create_warehouse, is_postgresql, warehouse_engine
from etl.extract import (
    Benchmarking,
    Extract,
    benchmarking,
    changed_contracts,
    extract,
    read_frame,
    reference_fingerprint,
)
from etl.quality import Check, comparison_check, dated_checks, run_checks
from etl.schema import (
    DIMENSIONS,
    FACTS,
    MARTS,
    WAREHOUSE_SCHEMA,
    bridge_contract_viewer,
    dim_contract,
    dim_kpi,
    dim_organisation,
    dim_period,
    etl_run,
    fact_contract_snapshot,
    fact_funding,
    fact_kpi_result,
    fact_outcome,
    mart_board_performance,
    mart_comparison,
)
from etl.transform import comparison as comparison_transforms
from etl.transform import contracts as contract_transforms
from etl.transform.marts import Facts, build_marts
from etl.transform.outcomes import outcome_facts
from etl.transform.performance import kpi_results, with_outcome_parts
from etl.transform.periods import dim_period as build_dim_period
from monitor import clock
from monitor.access.viewers import PARTNERSHIP_PREFIX, organisation_key, parse_viewer_key, partnership_key
from monitor.auth.models import Organisation
from monitor.benchmarking.service import opted_in_areas
from monitor.contracts.models import Contract, contract_partners
from monitor.contracts.renewal import Leads
from monitor.disclosure.suppression import CONFIDENTIAL
from monitor.kpis.models import Return

log = logging.getLogger(__name__)

# Only one run writes at a time (the hook and cron may overlap).
ADVISORY_LOCK = 7_403_221

Progress = Callable[[str], None]
STEPS = (
    "reading the register",
    "contracts",
    "KPI results",
    "outcomes",
    "snapshots",
    "marts",
    "loading",
    "checks",
    "comparing areas",
)
# A roll's own steps (etl.roll.STEPS), then its checks.
ROLL_CHECKS = "rolling the date: checks"
ROLL_STEPS = (*roll.STEPS, ROLL_CHECKS)


@dataclass(frozen=True)
class Settings:
    threshold: int = 4
    small_sample: int = 30
    improvement: Mapping[str, float] = field(
        default_factory=lambda: {"SDQ": 5.0, "WEMWBS": 3.0, "SWEMWBS": 1.0}
    )
    leads: Leads = field(default_factory=Leads)
    # A change committed while a run reads may carry a timestamp from just
    # before the run started; the next run looks back this far to catch it
    # (doing a change twice gives the same rows).
    watermark_overlap: timedelta = timedelta(seconds=60)


@dataclass
class RunResult:
    run_id: int | None
    mode: str
    status: str
    row_counts: dict[str, int]
    checks: list[Check]
    contracts_changed: int
    seconds: float
    message: str = ""


class EtlFailed(RuntimeError):
    """A run failed and was rolled back; the message says why."""


def _now() -> datetime:
    # The service's clock: a demo pinned to a day records its runs on that day.
    return clock.now()


def is_built(warehouse: Engine) -> bool:
    """Has a run ever created the warehouse here?"""
    schema = WAREHOUSE_SCHEMA if is_postgresql(warehouse) else None
    return inspect(warehouse).has_table(etl_run.name, schema=schema)


@dataclass(frozen=True)
class LastRun:
    watermark: datetime
    as_at: date | None
    reference_hash: str | None


def last_success(warehouse: Engine) -> LastRun | None:
    if not is_built(warehouse):
        return None
    with warehouse.connect() as connection:
        row = connection.execute(
            select(etl_run.c.watermark, etl_run.c.as_at, etl_run.c.reference_hash)
            .where(etl_run.c.status == "succeeded", etl_run.c.watermark.is_not(None))
            .order_by(desc(etl_run.c.run_id))
            .limit(1)
        ).first()
    return LastRun(row[0], row[1], row[2]) if row else None


def run_etl(
    app_engine: Engine,
    warehouse_url: str,
    *,
    today: date,
    full: bool = False,
    settings: Settings | None = None,
    progress: Progress | None = None,
) -> RunResult:
    settings = settings or Settings()
    say = progress or (lambda _step: None)
    mode = "full" if full else "incremental"
    started = _now()
    clock = time.perf_counter()
    warehouse = warehouse_engine(warehouse_url)
    try:
        rebuilt = create_warehouse(warehouse)
        last = None if rebuilt else last_success(warehouse)
        with _reading(app_engine) as app:
            fingerprint = reference_fingerprint(app)
            if last is None or last.reference_hash != fingerprint or last.as_at is None:
                full = True
            # A date moved since the last run is rolled, unless the run is a
            # full one, which works everything out as at today anyway.
            rolled_from = None if full or last is None or last.as_at == today else last.as_at
            mode = "full" if full else "roll" if rolled_from else "incremental"
            changed: set[int] = set() if full or last is None else changed_contracts(app, last.watermark)
            if not full and not changed and rolled_from is None:
                if reader.has_marts_file(warehouse_url) and not reader.marts_path(warehouse_url).exists():
                    reader.write_marts_file(warehouse_url)
                return _record(warehouse, started, "incremental", today, clock, "nothing changed", last)
            with warehouse.begin() as target:
                if is_postgresql(warehouse):
                    target.execute(text(f"SELECT pg_advisory_xact_lock({ADVISORY_LOCK})"))
                counts: dict[str, int] = {}
                checks: list[Check] = []
                if full or changed:
                    scope = None if full else _scope(app, target, changed)
                    say(STEPS[0])
                    source = extract(app, None if scope is None else scope.contracts)
                    frames = transform(source, app, today, settings, say)
                    if scope is not None:
                        frames = _only_viewers(frames, scope.viewers)
                    say(STEPS[6])
                    counts = _load(target, frames, scope)
                    if is_postgresql(warehouse):
                        # A mart re-created by create_warehouse lost its grant.
                        reader.grant_reader(target, reader.reader_role(warehouse_url))
                    say(STEPS[7])
                    checks = run_checks(
                        target,
                        app,
                        settings.threshold,
                        None if scope is None else scope.contracts,
                        None if scope is None else scope.viewers,
                    )
                if rolled_from is not None:
                    written = roll.roll(
                        app,
                        target,
                        since=rolled_from,
                        today=today,
                        span=_date_span(app, today),
                        leads=settings.leads,
                        say=say,
                    )
                    counts = {**counts, **{name: counts.get(name, 0) + n for name, n in written.items()}}
                    say(ROLL_CHECKS)
                    checks += dated_checks(target, today)
                # Not on an incremental run: see the module docstring.
                if full or _taking_part_moved(app, rolled_from, today):
                    say(STEPS[8])
                    counts[mart_comparison.name] = rebuild_comparison(target, app, today, settings.threshold)
                    checks.append(comparison_check(target, app, today, settings.threshold))
                failed = [c for c in checks if not c.passed]
                if failed:
                    raise EtlFailed(
                        "data-quality checks failed: " + "; ".join(f"{c.name}: {c.detail}" for c in failed)
                    )
                message = (
                    f"as at {today.isoformat()}, rolled from {rolled_from.isoformat()}" if rolled_from else ""
                )
                run_id = _insert_run(
                    target,
                    started,
                    mode,
                    "succeeded",
                    counts,
                    checks,
                    len(changed),
                    today,
                    LastRun(started - settings.watermark_overlap, today, fingerprint),
                    message,
                )
        if reader.has_marts_file(warehouse_url):
            # Superset reads the marts from a file of their own (etl/reader.py).
            reader.write_marts_file(warehouse_url)
        result = RunResult(
            run_id, mode, "succeeded", counts, checks, len(changed), time.perf_counter() - clock, message
        )
        log.info(
            "etl run",
            extra={"run_id": run_id, "mode": mode, "rows": counts, "seconds": round(result.seconds, 2)},
        )
        return result
    except Exception as error:
        message = str(error) if isinstance(error, EtlFailed) else f"{type(error).__name__}: {error}"
        _record(warehouse, started, mode, today, clock, message, None, "failed")
        log.error("etl run failed", extra={"error": message})
        if isinstance(error, EtlFailed):
            raise
        raise EtlFailed(message) from error
    finally:
        warehouse.dispose()


class _reading:
    """A connection to the app database that sees one consistent snapshot."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def __enter__(self) -> Connection:
        connection = self.engine.connect()
        if connection.dialect.name == "postgresql":
            connection = connection.execution_options(isolation_level="REPEATABLE READ")
        connection.begin()
        self.connection = connection
        return connection

    def __exit__(self, *_exc: object) -> None:
        self.connection.rollback()
        self.connection.close()


@dataclass(frozen=True)
class Scope:
    contracts: set[int]  # whose facts are rebuilt
    viewers: set[str]  # whose mart rows are rebuilt


def _scope(app: Connection, warehouse: Connection, changed: set[int]) -> Scope:
    """Every viewer who sees a changed contract (before or after the change), and
    every contract those viewers see."""
    commissioners = pd.DataFrame(
        app.execute(select(Contract.id, Contract.lead_commissioner_id)).all(),
        columns=["contract_id", "organisation_id"],
    )
    partners = pd.DataFrame(
        app.execute(select(contract_partners.c.contract_id, contract_partners.c.organisation_id)).all(),
        columns=["contract_id", "organisation_id"],
    )
    commissioners = pd.concat([commissioners, partners])
    members = pd.DataFrame(
        app.execute(text("SELECT partnership_id, organisation_id FROM partnership_members")).all(),
        columns=["partnership_id", "organisation_id"],
    )
    before = {
        row[0]
        for chunk in load.chunks(sorted(changed))
        for row in warehouse.execute(
            select(bridge_contract_viewer.c.viewer).where(bridge_contract_viewer.c.contract_id.in_(chunk))
        )
    }
    organisations = set(commissioners[commissioners["contract_id"].isin(changed)]["organisation_id"])
    keys = [parse_viewer_key(v) for v in before]
    organisations |= {identifier for kind, identifier in keys if kind == "organisation"}
    partnerships = set(members[members["organisation_id"].isin(organisations)]["partnership_id"])
    partnerships |= {identifier for kind, identifier in keys if kind == "partnership"}
    seen_by = organisations | set(members[members["partnership_id"].isin(partnerships)]["organisation_id"])
    contracts = set(commissioners[commissioners["organisation_id"].isin(seen_by)]["contract_id"]) | changed
    viewers = {organisation_key(o) for o in organisations} | {partnership_key(p) for p in partnerships}
    return Scope({int(c) for c in contracts}, viewers)


def transform(
    source: Extract, app: Connection, today: date, settings: Settings, say: Progress
) -> dict[str, pd.DataFrame]:
    """Every warehouse table's rows for the extracted contracts."""
    say(STEPS[1])
    versions = contract_transforms.dim_contract(source.contracts, source.amendments, source.organisations)
    viewers = contract_transforms.contract_viewers(
        source.contracts,
        source.partners,
        source.organisations,
        source.partnerships,
        source.partnership_members,
    )
    renewals = contract_transforms.renewals(
        source.contracts, source.options, source.amendments, today, settings.leads
    )
    periods = build_dim_period(source.values["period_key"], *_date_span(app, today))

    say(STEPS[2])
    results = kpi_results(source.values, source.framework, source.kpis)
    ends = results["period_key"].map(periods.set_index("period_key")["end_date"])
    results["contract_version_key"] = contract_transforms.version_in_force(
        versions, results["contract_id"], ends
    )

    say(STEPS[3])
    outcomes = outcome_facts(source.outcome_scores, settings.improvement)
    results = with_outcome_parts(results, outcomes, source.kpis)

    say(STEPS[4])
    snapshots = contract_transforms.snapshots(source.contracts, versions, source.amendments, today)

    say(STEPS[5])
    # astype: an empty object column would select columns, not rows.
    current = versions[versions["is_current"].astype(bool)]
    facts = Facts(
        contracts=current,
        viewers=viewers,
        kpis=source.kpis,
        periods=periods,
        organisations=source.organisations,
        kpi_results=results,
        funding=source.funding,
        outcomes=outcomes,
        renewals=renewals,
        cohorts=source.cohorts,
        as_at=today,
    )
    marts = build_marts(facts, settings.threshold, settings.small_sample)
    return {
        dim_period.name: periods,
        dim_organisation.name: source.organisations,
        dim_kpi.name: source.kpis,
        dim_contract.name: versions,
        bridge_contract_viewer.name: viewers,
        fact_kpi_result.name: results,
        fact_funding.name: source.funding,
        fact_contract_snapshot.name: snapshots,
        fact_outcome.name: outcomes,
        **marts,
    }


def _date_span(app: Connection, today: date) -> tuple[date | None, date | None]:
    """Quarters from the first contract start or return to today: dim_period
    covers the whole register whichever contracts a run rebuilds."""
    first_start = app.scalar(select(func.min(Contract.start_date)))
    first_period = app.scalar(select(func.min(Return.period)))
    first = first_start
    if first_period:
        from etl.transform.periods import quarter_end

        period_start = quarter_end(first_period)
        first = min(first, period_start) if first else period_start
    return first, today


def _only_viewers(frames: dict[str, pd.DataFrame], viewers: Collection[str]) -> dict[str, pd.DataFrame]:
    mart_names = {m.name for m in MARTS}
    return {
        name: frame[frame["viewer"].isin(viewers)] if name in mart_names else frame
        for name, frame in frames.items()
    }


REFERENCE_TABLES = (dim_period, dim_organisation, dim_kpi)


def _load(target: Connection, frames: dict[str, pd.DataFrame], scope: Scope | None) -> dict[str, int]:
    # The comparison mart is rebuilt whole afterwards, from what is loaded here.
    tables = [*DIMENSIONS, *FACTS, *(mart for mart in MARTS if mart is not mart_comparison)]
    for table in tables:
        if scope is None or table in REFERENCE_TABLES:
            load.clear(target, table)
        elif table in MARTS:
            load.delete_where_in(target, table, "viewer", scope.viewers)
        else:
            load.delete_where_in(target, table, "contract_id", scope.contracts)
    counts = {table.name: load.insert(target, table, frames[table.name]) for table in tables}
    if scope is None and load.is_postgresql(target):
        # Fresh statistics for the dashboards' first queries, rather than
        # whatever autovacuum last saw of the tables before they were refilled.
        for table in tables:
            target.execute(text(f'ANALYZE "{WAREHOUSE_SCHEMA}"."{table.name}"'))
    return counts


def _taking_part_moved(app: Connection, since: date | None, today: date) -> bool:
    """Did a roll from `since` to `today` pass a decision to take part (or to stop)?
    A roll changes no figure, so the comparison changes only then."""
    if since is None:
        return False
    with Session(bind=app) as session:
        return opted_in_areas(session, since) != opted_in_areas(session, today)


def rebuild_comparison(target: Connection, app: Connection, today: date, threshold: int) -> int:
    """Replace mart_comparison with every opted-in area's comparison as at
    `today`, from the accepted figures now in the warehouse; returns its rows."""
    groups = benchmarking(app, today)
    kpis = read_frame(
        target,
        select(dim_kpi.c.kpi_id, dim_kpi.c.code, dim_kpi.c.name, dim_kpi.c.unit, dim_kpi.c.direction),
        ["kpi_id", "code", "name", "unit", "direction"],
    )
    compared = kpis[
        kpis["code"].isin(comparison_transforms.COMPARED_COUNTS + comparison_transforms.COMPARED_PROPORTIONS)
    ]
    facts = fact_kpi_result.c
    results = read_frame(
        target,
        select(
            facts.contract_id,
            facts.kpi_id,
            facts.period_key,
            facts.breakdown,
            facts.actual,
            facts.numerator,
            facts.denominator,
        ).where(facts.breakdown == "", facts.kpi_id.in_([int(k) for k in compared["kpi_id"]])),
        ["contract_id", "kpi_id", "period_key", "breakdown", "actual", "numerator", "denominator"],
    )
    bridge = bridge_contract_viewer.c
    services = read_frame(
        target,
        select(bridge.contract_id, bridge.viewer).where(bridge.viewer.like(f"{PARTNERSHIP_PREFIX}%")),
        ["contract_id", "viewer"],
    )
    services["area_id"] = services["viewer"].map(lambda key: parse_viewer_key(key)[1])
    board = mart_board_performance.c
    hidden = read_frame(
        target,
        select(board.viewer, board.kpi_code, board.period_key).where(
            board.viewer.like(f"{PARTNERSHIP_PREFIX}%"),
            board.scope == "all services",
            board.breakdown == "",
            board.marker == CONFIDENTIAL,
            board.kpi_code.in_(list(compared["code"])),
        ),
        ["viewer", "kpi_code", "period_key"],
    )
    hidden["area_id"] = hidden["viewer"].map(lambda key: parse_viewer_key(key)[1])
    figures = comparison_transforms.area_figures(
        results, services[["contract_id", "area_id"]], kpis, hidden, threshold
    )
    per_group = comparison_transforms.group_rows(figures, groups.areas, groups.groups, threshold)
    load.clear(target, mart_comparison)
    if per_group.empty:
        return 0
    written = sum(
        load.insert(target, mart_comparison, part)
        for part in comparison_transforms.viewer_rows(
            per_group, groups.areas, groups.groups, _comparison_viewers(app, groups), today
        )
    )
    if load.is_postgresql(target):
        # Fresh statistics for the dashboard's first queries, as _load gives the other marts.
        target.execute(text(f'ANALYZE "{WAREHOUSE_SCHEMA}"."{mart_comparison.name}"'))
    return written


def _comparison_viewers(app: Connection, groups: Benchmarking) -> pd.DataFrame:
    """Each opted-in area's board, with every row of its comparison, and each
    of its member commissioners with their area's own rows (its figures
    against each group's, after disclosure control as the board sees them).
    The other areas' funnel points are the board's alone: a copy for every
    commissioner too would double a mart that grows with the square of the
    areas (bench/comparison.py)."""
    boards = groups.areas.assign(
        viewer=groups.areas["area_id"].map(lambda area: partnership_key(int(area))),
        viewer_kind="board",
        viewer_name=groups.areas["area_name"],
        sees_others=True,
    )
    names = read_frame(app, select(Organisation.id, Organisation.name), ["organisation_id", "viewer_name"])
    commissioners = groups.members.merge(names, on="organisation_id").assign(
        viewer_kind="commissioner", sees_others=False
    )
    commissioners["viewer"] = commissioners["organisation_id"].map(lambda o: organisation_key(int(o)))
    columns = ["viewer", "viewer_kind", "viewer_name", "area_id", "sees_others"]
    return pd.concat([boards[columns], commissioners[columns]], ignore_index=True)


def _insert_run(
    connection: Connection,
    started: datetime,
    mode: str,
    status: str,
    counts: Mapping[str, int],
    checks: list[Check],
    changed: int,
    today: date,
    position: LastRun | None,
    message: str,
) -> int:
    """Log a run. `position` is where the next run starts from; a failed run
    has none, so the next starts from the last good one."""
    result = connection.execute(
        etl_run.insert().values(
            started_at=started,
            finished_at=_now(),
            mode=mode,
            status=status,
            watermark=position.watermark if position else None,
            as_at=today,
            reference_hash=position.reference_hash if position else None,
            contracts_changed=changed,
            row_counts=json.dumps(dict(counts)),
            checks=json.dumps([c.as_dict() for c in checks]),
            message=message,
        )
    )
    return int(result.inserted_primary_key[0])  # type: ignore[index]


def _record(
    warehouse: Engine,
    started: datetime,
    mode: str,
    today: date,
    clock: float,
    message: str,
    position: LastRun | None,
    status: str = "succeeded",
) -> RunResult:
    """Log a run that wrote nothing: nothing to do, or a failure rolled back."""
    try:
        with warehouse.begin() as connection:
            run_id: int | None = _insert_run(
                connection, started, mode, status, {}, [], 0, today, position, message
            )
    except Exception:  # the warehouse itself may be what failed
        log.exception("could not record the etl run")
        run_id = None
    return RunResult(run_id, mode, status, {}, [], 0, time.perf_counter() - clock, message)
