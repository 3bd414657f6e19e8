"""The quarter-end peak, under load, on loopback only (issue 12, item 7).

    .venv/bin/python -m bench.peak                  (300 provider users; see bench/README.md)
    .venv/bin/python -m bench.peak --quick          (a smoke run of every part: tests/bench runs it)
    .venv/bin/python -m bench.peak --areas 120 --providers 200 --run-time 180

Builds the national register of bench/national.py in a new PostgreSQL
database (bench.etl.build_register) and its warehouse with a full ETL run,
then starts, each on a free loopback port, a Redis of its own, gunicorn
with several workers, a Celery worker and beat on that Redis, and (unless
--no-superset) a Superset of its own, provisioned for that warehouse. Then,
with locust (bench/peak_locustfile.py, headless, bounded by --run-time and
--max-requests):

1. one user does every kind of work in turn (the baseline);
2. the peak: provider users download templates and upload returns to the
   last quarter's open returns (some with an error first, then fixed),
   commissioners query some and accept the rest, board members open
   dashboard pages and get guest tokens, API clients page the register.

Meanwhile a thread polls the warehouse for each accepted return's figures:
the lag from the acceptance's answer to its figures being there. At the end
every upload that got a 201 is checked against return_versions: exactly one
stored version each, nothing stored for a refused upload, nothing lost or
duplicated. It prints a markdown report and writes bench/results/peak.json
(peak-quick.json for --quick). Every process it started is stopped and the
database dropped, whatever happens.

Times are reported, never asserted: read the ratios of the peak to the one
user, measured in the same run.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import secrets
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from collections import Counter, defaultdict
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, select, text

from bench.etl import Register, build_register, code_version, databases, etl, say
from bench.national import AS_AT, LAST_QUARTER, Shape
from monitor.access.roles import Role
from monitor.audit import Actor, acting_as
from monitor.auth.models import User
from monitor.auth.services import issue_api_token
from monitor.contracts.models import Contract
from monitor.dashboards.catalogue import DASHBOARDS
from monitor.db import db
from monitor.kpis.models import Return
from tests.worker.conftest import RedisServer, free_port, start_worker, stop_process, worker_environment

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
PYTHON = sys.executable
BOARD_PASSWORD = "bench-password-2014"  # noqa: S105 - what bench.etl.build_register gives every user
# The route whose p95 the aim is about, and the aims.
UPLOAD_ROUTE = "POST return"
UPLOAD_AIM = 3.0
LAG_AIM_SECONDS = 60.0


@dataclass(frozen=True)
class Plan:
    areas: int
    providers: int  # provider users (at most one per open return)
    commissioners: int  # council commissioners reviewing (at most one per council with open returns)
    boards: int
    api_clients: int
    spawn_seconds: float
    run_seconds: int
    baseline_seconds: int
    max_requests: int
    web_workers: int
    superset: bool
    error_share: float = 0.3  # of uploads sent first with a figure typed as a word
    query_share: float = 0.2  # of reviews that query the return rather than accept it
    # A provider reading the messages and correcting the workbook, in seconds.
    fix_seconds: tuple[float, float] = (10, 40)
    # Pauses between one user's steps, in seconds: a provider fills in the
    # next workbook, a commissioner reads the figures, a board member reads
    # the dashboard; an API client is a script, quicker.
    provider_wait: tuple[float, float] = (20, 60)
    commissioner_wait: tuple[float, float] = (5, 20)
    board_wait: tuple[float, float] = (20, 60)
    api_wait: tuple[float, float] = (3, 10)
    lag_timeout: float = 180  # how long to wait after the run for the last acceptances to arrive
    # Open returns kept for the one user: a short warm-up (not counted), then the baseline.
    warmup_returns: int = 5
    baseline_returns: int = 45
    warmup_seconds: int = 15


# The national register: 360 areas, about 5,500 contracts and a million
# accepted figures (its full ETL run alone takes 11-14 minutes here).
FULL = Plan(
    areas=360,
    providers=300,
    commissioners=60,
    boards=30,
    api_clients=10,
    spawn_seconds=60,
    run_seconds=300,
    baseline_seconds=90,
    max_requests=100_000,
    web_workers=4,
    superset=True,
)
QUICK = Plan(
    areas=3,
    providers=10,
    commissioners=2,
    boards=2,
    api_clients=2,
    spawn_seconds=4,
    run_seconds=15,
    baseline_seconds=8,
    max_requests=3_000,
    web_workers=2,
    superset=False,
    fix_seconds=(0.5, 1.5),
    provider_wait=(0.5, 2),
    commissioner_wait=(0.5, 2),
    board_wait=(1, 3),
    api_wait=(1, 2),
    lag_timeout=60,
    warmup_returns=1,
    baseline_returns=3,
    warmup_seconds=4,
)


# --- who does what ---------------------------------------------------------------------


@dataclass
class Target:
    contract_id: int
    period: str
    provider_id: int
    lead_id: int

    @property
    def key(self) -> list[Any]:
        return [self.contract_id, self.period]


def open_returns(register: Register) -> list[Target]:
    """The last quarter's returns not yet accepted (awaiting review or in draft),
    with no figures in the warehouse yet (so their arrival can be timed)."""
    with register.engine.connect() as connection:
        rows = connection.execute(
            select(Contract.id, Return.period, Contract.provider_id, Contract.lead_commissioner_id)
            .join(Return, Return.contract_id == Contract.id)
            .where(Return.period == str(LAST_QUARTER), Return.state.in_(("submitted", "draft")))
            .order_by(Contract.id)
        ).all()
        in_warehouse = {
            (c, p)
            for c, p in connection.execute(
                text(
                    "SELECT DISTINCT contract_id, period_key FROM warehouse.fact_kpi_result WHERE period_key = :p"
                ),
                {"p": str(LAST_QUARTER)},
            )
        }
    return [Target(*row) for row in rows if (row[0], row[1]) not in in_warehouse]


def _user(session: Any, email: str, role: Role, organisation_id: int, password_hash: str) -> User:
    user = User(
        email=email,
        name=email.split("@")[0],
        role=role.value,
        organisation_id=organisation_id,
        password_hash=password_hash,
    )
    session.add(user)
    session.flush()
    return user


def plan_users(register: Register, plan: Plan, folder: Path) -> dict[str, Any]:
    """Provider users and API tokens for everyone, in the app database; the
    locust plan (tokens, targets) as a dict."""
    targets = open_returns(register)
    with register.app.app_context(), acting_as(Actor(None, "bench")), db.transaction() as session:
        commissioners = {
            u.organisation_id: u
            for u in session.scalars(
                select(User).where(User.role == Role.COMMISSIONER.value).order_by(User.id)
            )
        }
        password_hash = next(iter(commissioners.values())).password_hash
        reviewed = [t for t in targets if t.lead_id in commissioners]
        # The warm-up's and the baseline's returns, kept out of the peak: spread
        # over the register, each with its own provider's and reviewer's token.
        step = max(1, len(reviewed) // (plan.warmup_returns + plan.baseline_returns))
        chosen = reviewed[::step][: plan.warmup_returns + plan.baseline_returns]
        solo_targets = [chosen[: plan.warmup_returns], chosen[plan.warmup_returns :]]
        peak = [t for t in targets if t not in chosen]

        by_provider: dict[int, list[Target]] = defaultdict(list)
        for target in peak:
            by_provider[target.provider_id].append(target)
        # Fewer users than providers: the providers with the most open returns, one user each.
        busiest = sorted(by_provider.items(), key=lambda item: -len(item[1]))[: plan.providers]
        share = min(1.0, plan.providers / max(sum(len(own) for _id, own in busiest), 1))
        providers: list[dict[str, Any]] = []
        for provider_id, own in busiest:
            users = max(1, round(len(own) * share))
            for n in range(users):
                user = _user(
                    session, f"provider{len(providers) + 1}@bench", Role.PROVIDER, provider_id, password_hash
                )
                providers.append(
                    {"token": issue_api_token(session, user), "targets": [t.key for t in own[n::users]]}
                )
        leads = Counter(t.lead_id for t in peak if t.lead_id in commissioners)
        reviewers = []
        for lead_id, _count in leads.most_common(plan.commissioners):
            reviewers.append(
                {
                    "token": issue_api_token(session, commissioners[lead_id]),
                    "targets": [t.key for t in peak if t.lead_id == lead_id],
                }
            )
        # API clients: councils' own data teams, from the other end of the register.
        clients = [
            {"token": issue_api_token(session, user)}
            for user in list(commissioners.values())[::-1][: plan.api_clients + 1]
        ]
        boards = [
            {"email": email, "password": BOARD_PASSWORD}
            for email in session.scalars(
                select(User.email)
                .where(User.role == Role.BOARD.value)
                .order_by(User.id)
                .limit(plan.boards + 1)
            )
        ]
        solo_providers: dict[int, User] = {}
        solo = []
        for own in solo_targets:
            for target in own:
                if target.provider_id not in solo_providers:
                    solo_providers[target.provider_id] = _user(
                        session, f"provider-solo{len(solo_providers) + 1}@bench", Role.PROVIDER,
                        target.provider_id, password_hash,
                    )  # fmt: skip
            solo.append(
                {
                    "provider": {
                        "targets": [t.key for t in own],
                        "tokens": [issue_api_token(session, solo_providers[t.provider_id]) for t in own],
                    },
                    "commissioner": {
                        "targets": [t.key for t in own],
                        "tokens": [issue_api_token(session, commissioners[t.lead_id]) for t in own],
                    },
                    "board": boards[-1],
                    "api_client": clients[-1],
                }
            )
    return {
        "events": str(folder / "events.jsonl"),
        "providers": providers,
        "commissioners": reviewers,
        "boards": boards[:-1],
        "api_clients": clients[:-1],
        "solo": solo,
        "slugs": [d.slug for d in DASHBOARDS],
        "guest_tokens": plan.superset,
        "error_share": plan.error_share,
        "query_share": plan.query_share,
        "fix_seconds": list(plan.fix_seconds),
        "wait_seconds": {
            "provider": list(plan.provider_wait),
            "commissioner": list(plan.commissioner_wait),
            "board": list(plan.board_wait),
            "api": list(plan.api_wait),
        },
        "max_requests": plan.max_requests,
        "targets": {
            "open": len(targets),
            "reviewed": len(reviewed),
            "warm_up": len(solo_targets[0]),
            "baseline": len(solo_targets[1]),
        },
    }


# --- the processes ------------------------------------------------------------------------


def _wait_for(url: str, process: subprocess.Popen[bytes], log: Path, seconds: float = 120) -> None:
    deadline = time.monotonic() + seconds
    while True:
        try:
            with urllib.request.urlopen(url, timeout=2):  # noqa: S310 - loopback
                return
        except OSError:
            pass
        if process.poll() is not None or time.monotonic() > deadline:
            raise SystemExit(
                f"bench: nothing answered at {url}; the end of {log}:\n{log.read_text()[-3000:]}"
            )
        time.sleep(0.25)


@contextmanager
def started(command: list[str], env: dict[str, str], log: Path) -> Iterator[subprocess.Popen[bytes]]:
    with log.open("ab") as output:
        process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=output, stderr=subprocess.STDOUT)
    try:
        yield process
    finally:
        stop_process(process, grace=20)


@contextmanager
def superset(folder: Path, web_port: int) -> Iterator[dict[str, str]]:
    """A Superset of the bench's own (metadata in the bench folder, keys made
    here), stopped on the way out; the app settings that reach it."""
    port = free_port()
    env = {
        **os.environ,
        "SUPERSET_HOME": str(folder / "superset"),
        "SUPERSET_PORT": str(port),
        "SUPERSET_ADMIN_USERNAME": "admin",
        "SUPERSET_ADMIN_PASSWORD": secrets.token_urlsafe(16),
        "SUPERSET_SECRET_KEY": secrets.token_urlsafe(48),
        "SUPERSET_GUEST_TOKEN_SECRET": secrets.token_urlsafe(48),
        "MONITOR_SECRETS_FILE": str(folder / "secrets.env"),
        "MONITOR_ORIGIN": f"http://127.0.0.1:{web_port}",
    }
    script = ["bash", str(ROOT / "superset_config" / "superset.sh")]
    log = folder / "superset-setup.log"
    with log.open("ab") as output:
        for step in ("setup", "start"):
            say(f"superset: {step}")
            done = subprocess.run([*script, step], cwd=ROOT, env=env, stdout=output, stderr=subprocess.STDOUT)
            if done.returncode:
                raise SystemExit(f"bench: superset.sh {step} failed; see {log}:\n{log.read_text()[-3000:]}")
    try:
        yield {
            "SUPERSET_URL": f"http://127.0.0.1:{port}",
            "SUPERSET_USERNAME": "admin",
            "SUPERSET_PASSWORD": env["SUPERSET_ADMIN_PASSWORD"],
        }
    finally:
        subprocess.run(
            [*script, "stop"], cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )


def app_environment(register: Register, broker: str, folder: Path, **extra: str) -> dict[str, str]:
    """What production sets (Procfile): the development profile, so nothing
    test-only (in-memory broker, no watermark overlap) is in play."""
    return worker_environment(
        register.url,
        broker,
        AS_AT.isoformat(),
        MONITOR_ENV="development",
        SECRET_KEY="bench-peak-" + secrets.token_urlsafe(40),
        OUTBOX_DIR=str(folder / "mail"),
        OPEN_DATA_DIR=str(folder / "opendata"),
        BOARD_PACK_DIR=str(folder / "packs"),
        **extra,
    )


# --- the lag from an acceptance to the warehouse ---------------------------------------------


class LagWatch(threading.Thread):
    """Reads the acceptances from the events file as locust writes them and
    polls the warehouse every `every` seconds for each one's figures."""

    def __init__(self, engine: Engine, events: Path, every: float = 0.25) -> None:
        super().__init__(daemon=True)
        self.engine, self.events, self.every = engine, events, every
        self.pending: dict[tuple[int, str], float] = {}
        # (contract id, period) -> (when the acceptance was answered, seconds until its figures were there)
        self.lags: dict[tuple[int, str], tuple[float, float]] = {}
        self.stopping = threading.Event()
        self.offset = 0

    def _read(self) -> None:
        if not self.events.exists():
            return
        with self.events.open(encoding="utf-8") as lines:
            lines.seek(self.offset)
            for line in lines:
                if not line.endswith("\n"):
                    break
                self.offset += len(line.encode())
                event = json.loads(line)
                if event["kind"] == "accept" and event["status"] == 200:
                    self.pending[(event["contract_id"], event["period"])] = event["t"]

    def _poll(self) -> None:
        if not self.pending:
            return
        keys = list(self.pending)
        values = ", ".join(f"({int(c)}, '{p}')" for c, p in keys if p.replace("-", "").isalnum())
        with self.engine.connect() as connection:
            found = connection.execute(
                text(
                    "SELECT DISTINCT f.contract_id, f.period_key FROM warehouse.fact_kpi_result f "  # noqa: S608
                    f"JOIN (VALUES {values}) AS w(contract_id, period_key) "
                    "ON f.contract_id = w.contract_id AND f.period_key = w.period_key"
                )
            ).all()
        now = time.time()
        for contract_id, period in found:
            accepted_at = self.pending.pop((contract_id, period))
            self.lags[(contract_id, period)] = (accepted_at, now - accepted_at)

    def run(self) -> None:
        while not self.stopping.is_set():
            self._read()
            self._poll()
            self.stopping.wait(self.every)

    def settle(self, timeout: float) -> None:
        """Wait (at most `timeout` s) for every acceptance so far to arrive, then stop."""
        deadline = time.monotonic() + timeout
        self._read_later()
        while self.pending and time.monotonic() < deadline:
            time.sleep(self.every)
        self.stopping.set()
        self.join()

    def _read_later(self) -> None:
        time.sleep(self.every * 2)


# --- locust -----------------------------------------------------------------------------------


def run_locust(
    label: str,
    plan_file: Path,
    host: str,
    classes: list[str],
    users: int,
    spawn_rate: float,
    seconds: int,
    folder: Path,
    solo: int = 0,
) -> dict[str, Any]:
    prefix = folder / f"locust-{label}"
    command = [
        PYTHON, "-m", "locust", "-f", str(ROOT / "bench" / "peak_locustfile.py"), "--headless",
        "--host", host, "-u", str(users), "-r", f"{spawn_rate:g}", "--run-time", f"{seconds}s",
        "--stop-timeout", "30", "--csv", str(prefix), "--only-summary", "--loglevel", "WARNING",
        "--exit-code-on-error", "0", *classes,
    ]  # fmt: skip
    log = folder / f"locust-{label}.log"
    env = {**os.environ, "PEAK_PLAN": str(plan_file), "PEAK_SOLO": str(solo), "PYTHONPATH": str(ROOT)}
    started_at = time.time()
    with log.open("ab") as output:
        process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=output, stderr=subprocess.STDOUT)
    try:
        while process.poll() is None:
            time.sleep(1)
            elapsed = time.time() - started_at
            if int(elapsed) % 30 == 0:
                say(f"{label}: {elapsed:.0f}s of {seconds}s, load average {os.getloadavg()[0]:.1f}")
        if process.returncode not in (0, 1):
            raise SystemExit(
                f"bench: locust ({label}) exited {process.returncode}; see {log}:\n{log.read_text()[-3000:]}"
            )
    finally:
        if process.poll() is None:
            stop_process(process)
    return {"seconds": time.time() - started_at, "routes": read_stats(Path(f"{prefix}_stats.csv"))}


def read_stats(path: Path) -> dict[str, dict[str, Any]]:
    routes: dict[str, dict[str, Any]] = {}
    with path.open(encoding="utf-8") as rows:
        for row in csv.DictReader(rows):
            name = "all" if row["Name"] == "Aggregated" else row["Name"]
            count = int(row["Request Count"])
            routes[name] = {
                "requests": count,
                "failures": int(row["Failure Count"]),
                "p50_ms": float(row["50%"]) if count else None,
                "p95_ms": float(row["95%"]) if count else None,
                "mean_ms": float(row["Average Response Time"]) if count else None,
            }
    return routes


# --- integrity -----------------------------------------------------------------------------------


def read_events(path: Path) -> list[dict[str, Any]]:
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def integrity(engine: Engine, events: list[dict[str, Any]]) -> dict[str, Any]:
    """Every 201 has exactly one stored version (same return, number and
    file), no refused upload's file is stored, nothing is stored twice."""
    uploads = [e for e in events if e["kind"] == "upload"]
    succeeded = [e for e in uploads if e["status"] == 201]
    refused = [e for e in uploads if e["status"] != 201]
    with engine.connect() as connection:
        stored = connection.execute(
            text(
                "SELECT r.contract_id, r.period, v.number, v.sha256 FROM return_versions v "
                "JOIN returns r ON r.id = v.return_id WHERE v.uploaded_by_id IS NOT NULL"
            )
        ).all()
    by_number = Counter((c, p, n) for c, p, n, _sha in stored)
    by_file = Counter((c, p, sha) for c, p, _n, sha in stored)
    stored_numbers = {(c, p, n): sha for c, p, n, sha in stored}
    lost = [
        e
        for e in succeeded
        if stored_numbers.get((e["contract_id"], e["period"], e["version"])) != e["sha256"]
    ]
    answered = {(e["contract_id"], e["period"], e["version"]) for e in succeeded}
    unanswered = [key for key in stored_numbers if key not in answered]
    refused_stored = [e for e in refused if by_file[(e["contract_id"], e["period"], e["sha256"])]]
    return {
        "uploads": len(uploads),
        "succeeded": len(succeeded),
        "refused": len(refused),
        "refused_by_status": dict(Counter(str(e["status"]) for e in refused)),
        "stored_versions": len(stored),
        "successes_with_one_stored_version": len(succeeded) - len(lost),
        "lost": len(lost),
        "duplicated": sum(n - 1 for n in by_number.values() if n > 1)
        + sum(n - 1 for n in by_file.values() if n > 1),
        "stored_for_refused_upload": len(refused_stored),
        "stored_without_a_201": len(unanswered),
        "answered_sha_mismatch": sum(1 for e in succeeded if e.get("answered_sha256") != e["sha256"]),
        # What a fixed workbook was answered when it was not a 201 (a conflict, or a bench bug).
        "unexpected_answers": [f"{e['status']}: {e['message']}" for e in refused if not e["broken"]][:5],
    }


# --- the run ---------------------------------------------------------------------------------------


def run(plan: Plan, keep: Path | None = None) -> dict[str, Any]:
    results: dict[str, Any] = {
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "code": code_version(),
        "plan": asdict(plan),
        "cores": os.cpu_count(),
    }
    with ExitStack() as stack:
        if keep is None:
            folder = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="bench-peak-")))
        else:
            folder = keep
            folder.mkdir(parents=True, exist_ok=False)
        (url,) = stack.enter_context(databases(1))
        register = build_register("peak", url, Shape(areas=plan.areas))
        stack.callback(register.engine.dispose)
        say("the warehouse: one full ETL run")
        _result, seconds = etl(register, full=True)
        results["register"] = {
            "areas": plan.areas,
            "contracts": register.generated.shape.contracts,
            "accepted_figures": register.generated.accepted_figures,
            "full_etl_seconds": seconds,
        }
        locust_plan = plan_users(register, plan, folder)
        results["targets"] = locust_plan.pop("targets")
        say(
            f"{results['targets']['open']} open returns; {len(locust_plan['providers'])} provider users, "
            f"{len(locust_plan['commissioners'])} commissioners, {len(locust_plan['boards'])} board members, "
            f"{len(locust_plan['api_clients'])} API clients"
        )
        plan_file = folder / "plan.json"
        plan_file.write_text(json.dumps(locust_plan))

        redis = RedisServer(folder)
        redis.start()
        stack.callback(redis.stop)
        web_port = free_port()
        extra = stack.enter_context(superset(folder, web_port)) if plan.superset else {}
        env = app_environment(register, redis.url(0), folder, **extra)
        if plan.superset:
            say("superset: provisioning the dashboards for this warehouse")
            done = subprocess.run(
                [str(ROOT / ".venv" / "bin" / "flask"), "--app", "wsgi", "superset", "provision"],
                cwd=ROOT, env=env, capture_output=True, text=True,
            )  # fmt: skip
            if done.returncode:
                raise SystemExit(
                    f"bench: provisioning Superset failed:\n{done.stdout[-2000:]}{done.stderr[-2000:]}"
                )
        say(f"gunicorn ({plan.web_workers} workers), a Celery worker and beat")
        web_log = folder / "web.log"
        web = stack.enter_context(
            started(
                [PYTHON, "-m", "gunicorn", "--bind", f"127.0.0.1:{web_port}", "--workers", str(plan.web_workers),
                 "--timeout", "120", "wsgi:app"],
                env, web_log,
            )
        )  # fmt: skip
        host = f"http://127.0.0.1:{web_port}"
        _wait_for(f"{host}/sign-in", web, web_log)
        worker = start_worker(env, folder / "worker.log")
        stack.callback(stop_process, worker)
        stack.enter_context(
            started(
                [PYTHON, "-m", "celery", "-A", "monitor.worker", "beat", "--loglevel", "INFO",
                 "-s", str(folder / "beat-schedule")],
                env, folder / "beat.log",
            )
        )  # fmt: skip

        events = Path(locust_plan["events"])
        watch = LagWatch(register.engine, events)
        watch.start()
        say(f"warm-up: one user for {plan.warmup_seconds}s (not counted)")
        run_locust("warm-up", plan_file, host, ["SoloUser"], 1, 1, plan.warmup_seconds, folder, solo=0)
        say(f"baseline: one user for {plan.baseline_seconds}s")
        baseline = run_locust(
            "baseline", plan_file, host, ["SoloUser"], 1, 1, plan.baseline_seconds, folder, solo=1
        )
        baseline_events = len(read_events(events))
        users = sum(len(locust_plan[k]) for k in ("providers", "commissioners", "boards", "api_clients"))
        say(f"peak: {users} users, spawned over {plan.spawn_seconds:g}s, for {plan.run_seconds}s")
        load_before = os.getloadavg()
        peak_started = time.time()
        peak = run_locust(
            "peak", plan_file, host, ["ProviderUser", "CommissionerUser", "BoardUser", "ApiClient"],
            users, users / plan.spawn_seconds, plan.run_seconds, folder,
        )  # fmt: skip
        load_after = os.getloadavg()
        say(f"waiting up to {plan.lag_timeout:g}s for the last acceptances to reach the warehouse")
        watch.settle(plan.lag_timeout)
        all_events = read_events(events)
        results["load_average"] = {"before_peak": load_before, "after_peak": load_after}
        results["baseline"] = baseline
        results["peak"] = peak
        results["users"] = {
            k: len(locust_plan[k]) for k in ("providers", "commissioners", "boards", "api_clients")
        }
        results["guest_tokens"] = plan.superset
        results["server_errors"] = {
            "baseline": sum(1 for e in all_events[:baseline_events] if e["kind"] == "server_error"),
            "peak": sum(1 for e in all_events[baseline_events:] if e["kind"] == "server_error"),
            "routes": dict(Counter(e["name"] for e in all_events if e["kind"] == "server_error")),
        }
        results["lag"] = {
            "accepted": len(watch.lags) + len(watch.pending),
            # At the peak only: the warm-up's and the baseline's acceptances are in `one_user`.
            "measured_seconds": sorted(lag for at, lag in watch.lags.values() if at >= peak_started),
            "one_user_seconds": sorted(lag for at, lag in watch.lags.values() if at < peak_started),
            "not_arrived": len(watch.pending),
            "raw": [[c, p, at, lag] for (c, p), (at, lag) in watch.lags.items()],
        }
        results["accepts"] = dict(Counter(str(e["status"]) for e in all_events if e["kind"] == "accept"))
        results["client_errors"] = [e["error"] for e in all_events if e["kind"] == "client_error"]
        results["capped"] = any(e["kind"] == "cap" for e in all_events)
        results["integrity"] = integrity(register.engine, all_events)
        results["worker_log_errors"] = sum(
            1 for line in (folder / "worker.log").read_text(errors="replace").splitlines() if " ERROR" in line
        )
        results["web_log_errors"] = sum(
            1 for line in web_log.read_text(errors="replace").splitlines() if "Traceback" in line
        )
    return results


# --- the report ------------------------------------------------------------------------------


def percentile(samples: list[float], share: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def _ms(value: float | None) -> str:
    return "-" if value is None else f"{value:,.0f} ms"


def report(results: dict[str, Any]) -> str:
    code, register, users = results["code"], results["register"], results["users"]
    peak, baseline = results["peak"]["routes"], results["baseline"]["routes"]
    out = [
        f"Quarter-end peak at commit {code.get('commit') or 'unknown'}, {results['date']}, "
        f"{results['cores']} cores; load average {results['load_average']['after_peak'][0]:.1f} "
        f"(1 min) at the end of the peak.",
        f"Register: {register['areas']} areas, {register['contracts']:,} contracts, "
        f"{register['accepted_figures']:,} accepted KPI figures (full ETL {register['full_etl_seconds']:.0f} s); "
        f"{results['targets']['open']} open returns in {LAST_QUARTER}.",
        f"Peak: {users['providers']} provider users, {users['commissioners']} commissioners, "
        f"{users['boards']} board members, {users['api_clients']} API clients for "
        f"{results['peak']['seconds']:.0f} s (spawned over {results['plan']['spawn_seconds']:g} s); "
        f"gunicorn {results['plan']['web_workers']} workers; guest tokens "
        f"{'from a real Superset' if results['guest_tokens'] else 'NOT exercised (no Superset in this run)'}"
        + ("; stopped at the request cap" if results["capped"] else "")
        + ".",
        "",
        "| route | requests 1 user | p50 1 user | p95 1 user | requests peak | failures peak | p50 peak | p95 peak "
        "| p50 ratio | p95 ratio |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for name in sorted(set(peak) | set(baseline), key=lambda n: (n == "all", n)):
        one, many = baseline.get(name, {}), peak.get(name, {})

        def ratio(key: str, one: dict[str, Any] = one, many: dict[str, Any] = many) -> str:
            return f"{many[key] / one[key]:.2f}" if one.get(key) and many.get(key) else "-"

        out.append(
            f"| {name} | {one.get('requests', 0):,} | {_ms(one.get('p50_ms'))} | {_ms(one.get('p95_ms'))} "
            f"| {many.get('requests', 0):,} | {many.get('failures', 0):,} | {_ms(many.get('p50_ms'))} "
            f"| {_ms(many.get('p95_ms'))} | {ratio('p50_ms')} | {ratio('p95_ms')} |"
        )
    total = peak.get("all", {"requests": 0, "failures": 0})
    errors = results["server_errors"]
    lag = results["lag"]
    samples = lag["measured_seconds"]
    one_user = lag["one_user_seconds"]
    upload_one, upload_peak = baseline.get(UPLOAD_ROUTE, {}), peak.get(UPLOAD_ROUTE, {})
    upload_ratio = (
        upload_peak["p95_ms"] / upload_one["p95_ms"]
        if upload_one.get("p95_ms") and upload_peak.get("p95_ms")
        else None
    )
    out += [
        "",
        f"Error rate at peak: {total['failures']:,} of {total['requests']:,} requests "
        f"({total['failures'] / max(total['requests'], 1):.2%}) answered other than expected; "
        f"server errors (5xx or no answer): {errors['peak']} at peak, {errors['baseline']} with one user"
        + (f" ({errors['routes']})" if errors["routes"] else "")
        + f". Acceptances answered: {results['accepts']}. Exceptions in the bench's own users: "
        f"{len(results['client_errors'])}.",
        "",
        f"Lag from an acceptance to its figures in the warehouse at peak: {len(samples)} measured"
        + (
            f", p50 {statistics.median(samples):.1f} s, p95 {percentile(samples, 0.95):.1f} s, "
            f"max {max(samples):.1f} s"
            if samples
            else ""
        )
        + (
            f"; with one user {len(one_user)} measured, p50 {statistics.median(one_user):.1f} s, "
            f"max {max(one_user):.1f} s"
            if one_user
            else ""
        )
        + (
            f"; {lag['not_arrived']} of {lag['accepted']} acceptances had not arrived when the bench "
            "stopped waiting"
            if lag["not_arrived"]
            else ""
        )
        + ".",
        "",
    ]
    check = results["integrity"]
    out += [
        f"Integrity: {check['uploads']} uploads, {check['succeeded']} answered 201, {check['refused']} refused "
        f"({check['refused_by_status']}); {check['stored_versions']} versions stored; "
        f"{check['successes_with_one_stored_version']} of the 201s have exactly one stored version; "
        f"lost {check['lost']}, duplicated {check['duplicated']}, stored for a refused upload "
        f"{check['stored_for_refused_upload']}, stored without a 201 {check['stored_without_a_201']}.",
        "",
        "Aims: "
        + (
            f"upload p95 peak / one user {upload_ratio:.2f} (at most {UPLOAD_AIM:g}: "
            f"{'met' if upload_ratio <= UPLOAD_AIM else 'NOT met'})"
            if upload_ratio is not None
            else "upload p95 ratio not measured"
        )
        + f"; server errors at peak {errors['peak']} (none: {'met' if errors['peak'] == 0 else 'NOT met'}); "
        + (
            f"lag p95 {percentile(samples, 0.95):.1f} s (at most {LAG_AIM_SECONDS:g} s: "
            f"{'met' if percentile(samples, 0.95) <= LAG_AIM_SECONDS and not lag['not_arrived'] else 'NOT met'})."
            if samples
            else "lag not measured."
        ),
    ]
    return "\n".join(out)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a few users for about 30 s: a smoke test")
    parser.add_argument(
        "--areas", type=int, help="local areas in the register (15 services each; 360 is national)"
    )
    parser.add_argument("--providers", type=int, help="provider users at the peak")
    parser.add_argument("--commissioners", type=int)
    parser.add_argument("--boards", type=int)
    parser.add_argument("--api-clients", type=int)
    parser.add_argument("--run-time", type=int, help="seconds of peak")
    parser.add_argument("--spawn-time", type=float, help="seconds over which the peak's users start")
    parser.add_argument("--baseline-time", type=int, help="seconds of the one-user baseline")
    parser.add_argument("--max-requests", type=int, help="stop each locust run after this many requests")
    parser.add_argument("--web-workers", type=int)
    parser.add_argument("--keep", type=Path, help="a new folder to keep the logs and events in")
    parser.add_argument(
        "--superset",
        action=argparse.BooleanOptionalAction,
        help="a Superset of the bench's own for guest tokens (default: on, off with --quick); "
        "without it board users open the dashboards list only",
    )
    args = parser.parse_args(argv)
    plan = QUICK if args.quick else FULL
    overrides = {
        "areas": args.areas,
        "providers": args.providers,
        "commissioners": args.commissioners,
        "boards": args.boards,
        "api_clients": args.api_clients,
        "run_seconds": args.run_time,
        "spawn_seconds": args.spawn_time,
        "baseline_seconds": args.baseline_time,
        "max_requests": args.max_requests,
        "web_workers": args.web_workers,
        "superset": args.superset,
    }
    plan = replace(plan, **{k: v for k, v in overrides.items() if v is not None})
    results = run(plan, args.keep)
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / ("peak-quick.json" if args.quick else "peak.json")).write_text(
        json.dumps(results, indent=2, default=str)
    )
    print(report(results))


if __name__ == "__main__":
    main()
