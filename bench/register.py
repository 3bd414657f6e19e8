"""Register and API latency with 100 and with 10,000 contracts, in one run.

    make bench                      (SQLite and PostgreSQL)
    .venv/bin/python -m bench.register --backends sqlite --requests 100

Absolute times on these machines are noisy, so the figure that matters is the
ratio of the large register to the small one, measured side by side in the
same process: pagination and indexes should keep it near 1.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from alembic import command
from flask import Flask
from sqlalchemy import create_engine, insert, select, text

from monitor import create_app
from monitor.audit import Actor, acting_as
from monitor.auth import services as auth_services
from monitor.auth.models import User
from monitor.cli import alembic_config
from monitor.config import TestConfig
from monitor.contracts.models import Category, Contract, ExtensionOption, FundingLine, ServiceType
from monitor.db import db

POSTGRES_SERVER = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
SIZES = (100, 10_000)
PASSWORD = "a-throwaway-passphrase-123"  # noqa: S105 - a throwaway database


def _app(url: str) -> Flask:
    config = TestConfig()
    config.DATABASE_URL = url
    config.SECRET_KEY = "bench-" + "x" * 40
    config.TODAY = "2013-12-02"
    config.WTF_CSRF_ENABLED = False
    return create_app(config)


def _populate(size: int, seed: int = 2013) -> None:
    """Organisations through the services; contracts in bulk, as a register of that size would be."""
    rng = random.Random(seed)
    with acting_as(Actor(None, "bench")), db.transaction() as session:
        commissioners = [
            auth_services.create_organisation(session, name=f"Council {n:03d}", kind="commissioner")
            for n in range(40)
        ]
        providers = [
            auth_services.create_organisation(session, name=f"Charity {n:03d}", kind="provider")
            for n in range(80)
        ]
        funders = [
            auth_services.create_organisation(session, name=f"Funder {n:02d}", kind="funder")
            for n in range(10)
        ]
        auth_services.create_user(
            session,
            email="bench@example.org",
            name="Bench",
            role="commissioner",
            password=PASSWORD,
            organisation=commissioners[0],
        )
    contracts, options, lines = [], [], []
    for number in range(1, size + 1):
        start = date(2010, 4, 1) + timedelta(days=rng.randrange(0, 6 * 365))
        end = start + timedelta(days=rng.choice([364, 729, 1094]))
        # A fixed share belongs to the bench user's council, so page 1 is always full.
        lead = commissioners[0] if number % 4 == 0 else rng.choice(commissioners)
        contracts.append(
            {
                "id": number,
                "reference": f"BENCH-{number:06d}",
                "title": f"Service {number}",
                "description": "",
                "service_type": rng.choice(list(ServiceType)).value,
                "category": rng.choice(list(Category)).value,
                "agreement_type": "contract",
                "provider_id": rng.choice(providers).id,
                "lead_commissioner_id": lead.id,
                "start_date": start,
                "original_end_date": end,
                "end_date": end,
                "notice_period_months": 6,
                "annual_value": Decimal(rng.randrange(20, 500) * 1000),
                "total_value": Decimal(rng.randrange(20, 1500) * 1000),
                "contract_manager": "",
            }
        )
        options.append({"contract_id": number, "sequence": 1, "length_months": 12, "state": "available"})
        lines.append(
            {
                "contract_id": number,
                "funder_id": rng.choice(funders).id,
                "funding_stream": "Core grant",
                "financial_year": "2013/14",
                "amount": Decimal(rng.randrange(10, 300) * 1000),
            }
        )
    # Bulk rows skip the ORM (and so the audit listener): this is set-up, not a change.
    with db.engine.begin() as connection:
        connection.execute(insert(Contract.__table__), contracts)  # type: ignore[arg-type]
        connection.execute(insert(ExtensionOption.__table__), options)  # type: ignore[arg-type]
        connection.execute(insert(FundingLine.__table__), lines)  # type: ignore[arg-type]
        if connection.dialect.name == "postgresql":
            connection.execute(text("SELECT setval('contracts_id_seq', (SELECT max(id) FROM contracts))"))
            connection.execute(text("ANALYZE"))


def _percentiles(samples: list[float]) -> dict[str, float]:
    ordered = sorted(samples)
    return {
        "p50_ms": round(statistics.median(ordered) * 1000, 2),
        "p95_ms": round(ordered[int(0.95 * (len(ordered) - 1))] * 1000, 2),
    }


def _time(call: Callable[[], Any], requests: int) -> dict[str, float]:
    for _ in range(5):  # warm caches and the connection pool
        call()
    samples = []
    for _ in range(requests):
        started = time.perf_counter()
        response = call()
        samples.append(time.perf_counter() - started)
        if response.status_code != 200:
            raise SystemExit(f"bench: request failed with {response.status_code}")
    return _percentiles(samples)


def _measure(app: Flask, requests: int) -> dict[str, dict[str, float]]:
    with app.app_context(), db.transaction() as session:
        user = session.execute(select(User).where(User.email == "bench@example.org")).scalar_one()
        token = auth_services.issue_api_token(session, user)
    client = app.test_client()
    client.post("/sign-in", data={"email": "bench@example.org", "password": PASSWORD})
    api = app.test_client()
    headers = {"Authorization": f"Bearer {token}"}
    return {
        "register page": _time(lambda: client.get("/contracts"), requests),
        "register, filtered and sorted": _time(
            lambda: client.get("/contracts?category=core&sort=provider&order=desc&page=2"), requests
        ),
        "GET /api/v1/contracts": _time(lambda: api.get("/api/v1/contracts", headers=headers), requests),
    }


def _database(backend: str, workdir: Path) -> tuple[str, Callable[[], None]]:
    if backend == "sqlite":
        path = workdir / f"bench-{uuid.uuid4().hex[:6]}.sqlite3"
        return f"sqlite:///{path}", lambda: path.unlink(missing_ok=True)
    name = f"monitor_bench_{uuid.uuid4().hex[:8]}"
    server = create_engine(POSTGRES_SERVER, isolation_level="AUTOCOMMIT")
    with server.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))

    def drop() -> None:
        with server.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        server.dispose()

    return POSTGRES_SERVER.rsplit("/", 1)[0] + f"/{name}", drop


def run(backends: list[str], requests: int) -> dict[str, Any]:
    results: dict[str, Any] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for backend in backends:
            results[backend] = {}
            for size in SIZES:
                print(f"bench: {backend}, {size:,} contracts: loading", file=sys.stderr, flush=True)
                url, drop = _database(backend, Path(tmp))
                try:
                    app = _app(url)
                    with app.app_context():
                        command.upgrade(alembic_config(), "head")
                        _populate(size)
                    print(
                        f"bench: {backend}, {size:,} contracts: {requests} requests per route",
                        file=sys.stderr,
                        flush=True,
                    )
                    results[backend][size] = _measure(app, requests)
                    with app.app_context():
                        db.dispose()
                finally:
                    drop()
    return results


def report(results: dict[str, Any]) -> str:
    small, large = SIZES
    lines = [
        f"| database | route | p50 {small:,} | p95 {small:,} | p50 {large:,} | p95 {large:,} | p50 ratio | p95 ratio |",
        "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for backend, by_size in results.items():
        for route in by_size[small]:
            a, b = by_size[small][route], by_size[large][route]
            lines.append(
                f"| {backend} | {route} | {a['p50_ms']} ms | {a['p95_ms']} ms | {b['p50_ms']} ms | {b['p95_ms']} ms "
                f"| {b['p50_ms'] / a['p50_ms']:.2f} | {b['p95_ms'] / a['p95_ms']:.2f} |"
            )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backends", default="sqlite,postgresql")
    parser.add_argument("--requests", type=int, default=200)
    args = parser.parse_args()
    results = run([b.strip() for b in args.backends.split(",") if b.strip()], args.requests)
    out = Path(__file__).resolve().parent / "results"
    out.mkdir(exist_ok=True)
    (out / "register.json").write_text(json.dumps(results, indent=2, default=str))
    print(report(results))


if __name__ == "__main__":
    main()
