"""A real Superset for the tests, provisioned with the dashboards as code.

`provisioned_superset` (session-scoped, one per database backend) builds a
warehouse from the demo and its 2013/14 returns (in a database of its own,
so other tests' warehouses never change under it), starts Superset from
.superset-venv with `superset_config/superset.sh` on a free port with its
own metadata database, runs `flask superset provision` against it, and
yields a `ProvisionedSuperset`:

    def test_something(provisioned_superset):
        superset = provisioned_superset
        board = superset.dashboards["board-performance"]      # id, embedded_uuid, charts
        token = superset.guest_token("partnership:1")         # RLS: one viewer's rows
        for chart in board.charts:
            rows = superset.chart_data(chart, guest_token=token)
        superset.warehouse.rows("SELECT ... FROM mart_renewals")

The Superset metadata database is set up once per session (`superset.sh
setup`, about 25 s) and copied for each backend. If Superset cannot start,
the tests fail with its log, never skip: CI installs it with `make`.
"""

from __future__ import annotations

import os
import secrets
import shutil
import socket
import subprocess
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from alembic import command
from flask import Flask
from sqlalchemy import create_engine, text

from etl.reader import reader_role
from monitor.access.viewers import rls_clause
from monitor.cli import alembic_config
from monitor.db import db
from monitor.superset.assets import load_dashboards
from monitor.superset.client import SupersetClient, dashboard_resource
from monitor.superset.provision import chart_ids
from monitor.superset.spec import Chart, Dashboard
from tests.conftest import POSTGRES_SERVER, WAREHOUSE_AS_AT, Warehouse, build_warehouse, make_app

ROOT = Path(__file__).resolve().parents[2]
SUPERSET_VENV = Path(os.environ.get("SUPERSET_VENV", ROOT / ".superset-venv"))
SCRIPT = ROOT / "superset_config" / "superset.sh"
ADMIN_USERNAME = "admin"
# Random for each test session, like the demo's generated ones: Superset
# refuses published or short keys, and nothing here is fixed in the repository.
ADMIN_PASSWORD = secrets.token_urlsafe(18)
SUPERSET_SECRET_KEY = secrets.token_urlsafe(48)
SUPERSET_GUEST_TOKEN_SECRET = secrets.token_urlsafe(48)
FIRST_PORT = 8089
# The app under test (and the embedding tests' live server) runs on a random
# localhost port, so any port may frame the dashboards here.
TEST_FRAME_ORIGINS = "http://127.0.0.1:* http://localhost:*"


@dataclass(frozen=True)
class ChartInfo:
    """A provisioned chart: its Superset id, the dashboard it is on, and its declaration."""

    key: str
    title: str
    id: int
    viz_type: str
    dashboard_id: int
    spec: Chart


@dataclass(frozen=True)
class DashboardInfo:
    slug: str
    title: str
    id: int
    embedded_uuid: str
    charts: tuple[ChartInfo, ...]
    spec: Dashboard

    def chart(self, key: str) -> ChartInfo:
        for chart in self.charts:
            if chart.key == key:
                return chart
        raise KeyError(f"{self.slug} has no chart {key!r}")


@dataclass
class ProvisionedSuperset:
    base_url: str
    admin_username: str
    admin_password: str
    backend: str  # "sqlite" or "postgresql": the warehouse's database
    warehouse: Warehouse  # .url, .engine, .rows(sql), .app
    app: Flask  # the app whose database fed the warehouse; SUPERSET_* point here
    dashboards: dict[str, DashboardInfo]  # by slug
    client: SupersetClient  # signed in as the admin
    home: Path  # SUPERSET_HOME: metadata database and superset.log
    provision_output: str = ""
    specs: tuple[Dashboard, ...] = field(default_factory=tuple)

    def guest_token(self, viewer: str, slugs: list[str] | None = None) -> str:
        """A guest token for the given dashboards (default all), limited by
        row-level security to one viewer (`organisation:<id>` or `partnership:<id>`)."""
        chosen = [self.dashboards[slug] for slug in (slugs or list(self.dashboards))]
        return self.client.guest_token(
            resources=[dashboard_resource(d.embedded_uuid) for d in chosen],
            rls=[rls_clause(viewer)],
            user={
                "username": f"test-{viewer.replace(':', '-')}",
                "first_name": "Test",
                "last_name": "Viewer",
            },
        )

    def stored_query_context(self, chart: ChartInfo) -> dict[str, Any]:
        """The query context Superset stored for the chart, addressed as the
        dashboard sends it (slice_id and dashboardId in its form data)."""
        import json

        stored = self.client.chart(chart.id)
        context: dict[str, Any] = json.loads(stored["query_context"])
        context["form_data"].update({"slice_id": chart.id, "dashboardId": chart.dashboard_id})
        return context

    def grouped_query_context(self, chart: ChartInfo) -> dict[str, Any]:
        """The stored query context without its reshaping (pivot, flatten):
        its rows come back as grouped, one per group, to compare with the
        warehouse and the other surfaces."""
        context = self.stored_query_context(chart)
        for query in context["queries"]:
            query["post_processing"] = []
        return context

    def chart_data(
        self,
        chart: ChartInfo,
        *,
        guest_token: str | None = None,
        query_context: dict[str, Any] | None = None,
    ) -> list[dict[str, Any]]:
        """The rows of the chart's (first) query, as the admin or as a guest."""
        context = query_context or self.stored_query_context(chart)
        return self.client.chart_data(context, guest_token=guest_token)[0]["data"]


def _free_port(first: int = FIRST_PORT) -> int:
    for port in range(first, first + 50):
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError(f"no free port from {first} to {first + 49}")


def script_env(home: Path, port: int = FIRST_PORT, **extra: str) -> dict[str, str]:
    """The environment superset.sh runs with in the tests (the demo profile
    unless `extra` says otherwise): this session's secrets, its own home."""
    env = {
        **os.environ,
        "SUPERSET_VENV": str(SUPERSET_VENV),
        "SUPERSET_HOME": str(home),
        "SUPERSET_PORT": str(port),
        "SUPERSET_ADMIN_USERNAME": ADMIN_USERNAME,
        "SUPERSET_ADMIN_PASSWORD": ADMIN_PASSWORD,
        "SUPERSET_SECRET_KEY": SUPERSET_SECRET_KEY,
        "SUPERSET_GUEST_TOKEN_SECRET": SUPERSET_GUEST_TOKEN_SECRET,
        # Every secret is given above: superset.sh must not read or make the demo's file.
        "MONITOR_SECRETS_FILE": str(home / "no-secrets-file.env"),
        "MONITOR_ORIGIN": TEST_FRAME_ORIGINS,
        # A loaded two-core machine (CI runs the whole suite) can take a while.
        "SUPERSET_START_TIMEOUT": "180",
    }
    # Whatever this machine's environment says, the demo profile unless `extra` chooses.
    for name in [name for name in env if name.startswith(("SUPERSET_REDIS", "SUPERSET_CELERY"))]:
        env.pop(name)
    env.pop("SUPERSET_METADATA_URL", None)
    env.pop("SUPERSET_DATA_CACHE_TIMEOUT", None)
    return {**env, "SUPERSET_PROFILE": "demo", **extra}


def _script(
    action: str, home: Path, port: int = FIRST_PORT, timeout: float = 600, **extra: str
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["bash", str(SCRIPT), action],
        env=script_env(home, port, **extra),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def _fail(what: str, result: subprocess.CompletedProcess[str], home: Path) -> None:
    log = home / "superset.log"
    setup_log = home / "setup.log"
    tail = ""
    for path in (log, setup_log):
        if path.is_file():
            tail += f"\n--- end of {path} ---\n" + "\n".join(
                path.read_text(errors="replace").splitlines()[-30:]
            )
    pytest.fail(
        f"{what} failed (exit {result.returncode}):\n{result.stdout}{result.stderr}{tail}", pytrace=False
    )


@pytest.fixture(scope="session")
def superset_metadata_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Superset's metadata database after `superset.sh setup`, made once and
    copied for each backend (setup builds Superset's app three times)."""
    if not (SUPERSET_VENV / "bin" / "superset").is_file():
        pytest.fail(
            f"Superset is not installed in {SUPERSET_VENV}: run `make superset-venv` "
            "(`make pytest` does it for you).",
            pytrace=False,
        )
    home = tmp_path_factory.mktemp("superset-template")
    started = time.monotonic()
    result = _script("setup", home)
    if result.returncode != 0:
        _fail("superset.sh setup", result, home)
    print(f"superset: setup took {time.monotonic() - started:.1f}s")
    return home / "superset.db"


@pytest.fixture(scope="session")
def _superset_warehouse(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Warehouse]:
    """The demo warehouse in a database of its own on the same backend."""
    if database_url.startswith("sqlite"):
        own_url = f"sqlite:///{tmp_path_factory.mktemp('superset-db') / 'app.sqlite3'}"
        drop = None
    else:
        name = f"monitor_superset_{uuid.uuid4().hex[:10]}"
        server = create_engine(POSTGRES_SERVER, isolation_level="AUTOCOMMIT")
        with server.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
        own_url = POSTGRES_SERVER.rsplit("/", 1)[0] + f"/{name}"
        drop = (server, name)
    app = make_app(own_url, TODAY=WAREHOUSE_AS_AT)
    try:
        with app.app_context():
            command.upgrade(alembic_config(), "head")
            warehouse = build_warehouse(app)
            db.dispose()
        yield warehouse
    finally:
        if "warehouse" in locals():
            warehouse.engine.dispose()
        if drop is not None:
            server, name = drop
            with server.connect() as connection:
                connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
                # Superset's read-only role (etl/reader.py) outlives the database.
                connection.execute(text(f'DROP ROLE IF EXISTS "{reader_role(own_url)}"'))
            server.dispose()


@pytest.fixture(scope="session")
def provisioned_superset(
    database_url: str,
    superset_metadata_template: Path,
    _superset_warehouse: Warehouse,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[ProvisionedSuperset]:
    backend = "postgresql" if database_url.startswith("postgresql") else "sqlite"
    home = tmp_path_factory.mktemp(f"superset-{backend}")
    shutil.copy(superset_metadata_template, home / "superset.db")
    # Each backend's Superset looks for a port in a range of its own: the
    # backends' runs go side by side (tests/run_by_backend.py), and a port
    # free when one looked may be taken by the other before it binds.
    port = _free_port(FIRST_PORT if backend == "sqlite" else FIRST_PORT + 50)
    started = time.monotonic()
    result = _script("start", home, port)
    if result.returncode != 0:
        _fail(f"starting Superset on port {port}", result, home)
    print(f"superset: started in {time.monotonic() - started:.1f}s on port {port}")
    base_url = f"http://127.0.0.1:{port}"
    try:
        app = _superset_warehouse.app
        app.config.update(
            SUPERSET_URL=base_url,
            SUPERSET_PUBLIC_URL=base_url,
            SUPERSET_USERNAME=ADMIN_USERNAME,
            SUPERSET_PASSWORD=ADMIN_PASSWORD,
        )
        started = time.monotonic()
        run = app.test_cli_runner().invoke(args=["superset", "provision"])
        if run.exit_code != 0:
            pytest.fail(f"flask superset provision failed:\n{run.output}\n{run.exception!r}", pytrace=False)
        print(f"superset: provisioned in {time.monotonic() - started:.1f}s")
        client = SupersetClient(base_url, ADMIN_USERNAME, ADMIN_PASSWORD)
        specs = load_dashboards()
        yield ProvisionedSuperset(
            base_url=base_url,
            admin_username=ADMIN_USERNAME,
            admin_password=ADMIN_PASSWORD,
            backend=backend,
            warehouse=_superset_warehouse,
            app=app,
            dashboards={spec.slug: _describe(client, spec) for spec in specs},
            client=client,
            home=home,
            provision_output=run.output,
            specs=specs,
        )
    finally:
        stopped = _script("stop", home, port)
        if stopped.returncode != 0:
            print(f"superset: stop failed: {stopped.stdout}{stopped.stderr}")


def _describe(client: SupersetClient, spec: Dashboard) -> DashboardInfo:
    found = client.dashboard(spec.slug)
    ids = chart_ids(found)
    charts = tuple(
        ChartInfo(c.key, c.title, ids[c.uuid], c.viz_type, int(found["id"]), c) for c in spec.charts
    )
    embedded = client.embedded_uuid(int(found["id"]))
    assert embedded, f"{spec.slug} has no embedded configuration after provisioning"
    return DashboardInfo(spec.slug, spec.title, int(found["id"]), embedded, charts, spec)
