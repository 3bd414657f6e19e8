"""Superset's production profile (superset_config/production.py) on the local
PostgreSQL and Redis.

The settings are checked without Superset first. Then one Superset is set up
and started with SUPERSET_PROFILE=production, as superset.sh does it, against
a PostgreSQL metadata database made for this module and Redis databases 13
(caches) and 14 (Celery), with a key prefix of its own; its Celery worker
runs through `superset.sh worker`. Afterwards the processes are stopped, the
databases dropped, and only the keys under this run's prefix deleted.
"""

from __future__ import annotations

import importlib.util
import json
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any
from urllib.request import urlopen

import pytest
import redis
from sqlalchemy import create_engine, make_url, text

from monitor.superset.client import SupersetClient
from tests.conftest import POSTGRES_SERVER
from tests.superset.conftest import (
    ADMIN_PASSWORD,
    ADMIN_USERNAME,
    ROOT,
    SCRIPT,
    SUPERSET_VENV,
    _fail,
    _free_port,
    _script,
    script_env,
)

REDIS_SERVER = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379")
CACHE_DB = 13
BROKER_DB = 14
WORKER_READY_SECONDS = 120


def _production_module() -> ModuleType:
    """superset_config/production.py, loaded by path (Superset's Python runs it)."""
    name = "superset_production_settings"
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(name, ROOT / "superset_config" / "production.py")
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    return sys.modules[name]


# --- the settings, without Superset -------------------------------------------------


def test_the_demo_is_the_default_and_production_follows_monitor_env() -> None:
    settings = _production_module()
    assert settings.profile({}) == "demo"
    assert settings.profile({"MONITOR_ENV": "production"}) == "production"
    assert settings.profile({"MONITOR_ENV": "production", "SUPERSET_PROFILE": "demo"}) == "demo"
    with pytest.raises(settings.SettingsError, match="Set it to demo or production"):
        settings.profile({"SUPERSET_PROFILE": "staging"})


def test_production_names_every_missing_or_wrong_setting_at_once() -> None:
    settings = _production_module()
    with pytest.raises(settings.SettingsError) as missing:
        settings.production({})
    assert [problem.split()[0] for problem in missing.value.problems] == [
        "SUPERSET_METADATA_URL",
        "SUPERSET_REDIS_URL",
    ]
    with pytest.raises(settings.SettingsError) as wrong:
        settings.production(
            {
                "SUPERSET_METADATA_URL": "sqlite:////tmp/superset.db",
                "SUPERSET_REDIS_URL": "redis://127.0.0.1:6379/1",
                "SUPERSET_CELERY_BROKER_URL": "amqp://127.0.0.1",
                "SUPERSET_DATA_CACHE_TIMEOUT": "a minute",
            }
        )
    assert [problem.split()[0] for problem in wrong.value.problems] == [
        "SUPERSET_METADATA_URL",
        "SUPERSET_CELERY_BROKER_URL",
        "SUPERSET_DATA_CACHE_TIMEOUT",
    ]
    assert "PostgreSQL" in wrong.value.problems[0]


def test_every_store_is_redis_under_its_own_prefix() -> None:
    settings = _production_module()
    chosen = settings.production(
        {
            "SUPERSET_METADATA_URL": "postgresql://superset@db/superset",
            "SUPERSET_REDIS_URL": "redis://cache:6379/1",
            "SUPERSET_REDIS_KEY_PREFIX": "ss:",
        }
    )
    caches = {
        "cache": chosen.cache_config(),
        "data": chosen.data_cache_config(),
        "filter_state": chosen.filter_state_cache_config(),
        "explore_form_data": chosen.explore_form_data_cache_config(),
    }
    for name, config in caches.items():
        assert config["CACHE_TYPE"] == "RedisCache"
        assert config["CACHE_REDIS_URL"] == "redis://cache:6379/1"
        assert config["CACHE_KEY_PREFIX"] == f"ss:{name}:"
    assert caches["data"]["CACHE_DEFAULT_TIMEOUT"] == settings.DEFAULT_DATA_CACHE_SECONDS
    assert chosen.cache_default_timeout() == settings.DEFAULT_DATA_CACHE_SECONDS
    celery = chosen.celery_config()
    # The broker defaults to the caches' Redis; the queue and keys are Superset's own.
    assert celery.broker_url == celery.result_backend == "redis://cache:6379/1"
    assert celery.broker_transport_options == {"global_keyprefix": "ss:celery:"}
    assert celery.task_default_queue == "superset"
    assert celery.beat_schedule == {}
    off = settings.production(
        {
            "SUPERSET_METADATA_URL": "postgresql://superset@db/superset",
            "SUPERSET_REDIS_URL": "redis://cache:6379/1",
            "SUPERSET_DATA_CACHE_TIMEOUT": "0",
        }
    )
    assert off.data_cache_config() == {"CACHE_TYPE": "NullCache"}
    # Superset's global default stays a real expiry: 0 would keep Redis keys for ever.
    assert off.cache_default_timeout() == settings.CACHE_SECONDS


# --- a real Superset with the production profile ------------------------------------


@dataclass
class ProductionSuperset:
    base_url: str
    client: SupersetClient
    caches: redis.Redis  # Redis database 13
    broker: redis.Redis  # Redis database 14
    prefix: str
    warehouse_url: str  # for Superset's Python (psycopg2)
    worker_log: Path
    env: dict[str, str]

    def keys(self, store: str, connection: redis.Redis | None = None) -> list[str]:
        found = (connection or self.caches).scan_iter(match=f"{self.prefix}{store}:*", count=1000)
        return [key.decode() for key in found]


def _stop_group(process: subprocess.Popen[bytes]) -> None:
    """SIGTERM to the worker's process group (Celery's pool children too), then SIGKILL."""
    if process.poll() is not None:
        return
    os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)


def _delete_prefixed(connection: redis.Redis, prefix: str) -> None:
    for key in list(connection.scan_iter(match=f"{prefix}*", count=1000)):
        connection.delete(key)


@pytest.fixture(scope="module")
def production_superset(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ProductionSuperset]:
    if not (SUPERSET_VENV / "bin" / "superset").is_file():
        pytest.fail(f"Superset is not installed in {SUPERSET_VENV}: run `make superset-venv`.", pytrace=False)
    caches = redis.Redis.from_url(f"{REDIS_SERVER}/{CACHE_DB}")
    broker = redis.Redis.from_url(f"{REDIS_SERVER}/{BROKER_DB}")
    try:
        caches.ping()
    except redis.ConnectionError as error:
        pytest.fail(f"Redis does not answer at {REDIS_SERVER} ({error}); `.ci/run` starts it.", pytrace=False)
    run = uuid.uuid4().hex[:10]
    prefix = f"superset-test-{run}:"
    metadata_name, warehouse_name = f"superset_meta_{run}", f"superset_data_{run}"
    server = create_engine(POSTGRES_SERVER, isolation_level="AUTOCOMMIT")
    with server.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{metadata_name}"'))
        connection.execute(text(f'CREATE DATABASE "{warehouse_name}"'))
    # Superset's Python talks to PostgreSQL through psycopg2, the default driver.
    server_url = make_url(POSTGRES_SERVER).set(drivername="postgresql")
    metadata_url = server_url.set(database=metadata_name).render_as_string(hide_password=False)
    warehouse_url = server_url.set(database=warehouse_name).render_as_string(hide_password=False)
    warehouse = create_engine(make_url(POSTGRES_SERVER).set(database=warehouse_name))
    with warehouse.begin() as connection:
        connection.execute(text("CREATE TABLE probe_figures (viewer text, referrals integer)"))
        connection.execute(
            text("INSERT INTO probe_figures VALUES ('organisation:1', 12), ('organisation:2', 30)")
        )
    warehouse.dispose()

    home = tmp_path_factory.mktemp("superset-production")
    # Chosen once setup is done, so that the port is still free when Superset starts.
    port = 0
    extra = {
        "SUPERSET_PROFILE": "production",
        "SUPERSET_METADATA_URL": metadata_url,
        "SUPERSET_REDIS_URL": f"{REDIS_SERVER}/{CACHE_DB}",
        "SUPERSET_CELERY_BROKER_URL": f"{REDIS_SERVER}/{BROKER_DB}",
        "SUPERSET_REDIS_KEY_PREFIX": prefix,
        "SUPERSET_WORKER_CONCURRENCY": "1",
        # Superset's rate limits on, counted in Redis.
        "SUPERSET_ENV": "production",
    }
    worker: subprocess.Popen[bytes] | None = None
    worker_log = home / "worker.log"
    started = time.monotonic()
    try:
        result = _script("setup", home, **extra)
        if result.returncode != 0:
            _fail("superset.sh setup with the production profile", result, home)
        print(f"superset production: setup took {time.monotonic() - started:.1f}s")
        port = _free_port()
        with worker_log.open("wb") as log:
            worker = subprocess.Popen(
                ["bash", str(SCRIPT), "worker"],
                env=script_env(home, port, **extra),
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
            )
        result = _script("start", home, port, **extra)
        if result.returncode != 0:
            _fail(f"starting Superset (production profile) on port {port}", result, home)
        print(f"superset production: set up and started in {time.monotonic() - started:.1f}s")
        base_url = f"http://127.0.0.1:{port}"
        yield ProductionSuperset(
            base_url=base_url,
            client=SupersetClient(base_url, ADMIN_USERNAME, ADMIN_PASSWORD),
            caches=caches,
            broker=broker,
            prefix=prefix,
            warehouse_url=warehouse_url,
            worker_log=worker_log,
            env=script_env(home, port, **extra),
        )
    finally:
        if worker is not None:
            _stop_group(worker)
        stopped = _script("stop", home, port, **extra)
        if stopped.returncode != 0:
            print(f"superset: stop failed: {stopped.stdout}{stopped.stderr}")
        with server.connect() as connection:
            for name in (metadata_name, warehouse_name):
                connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        server.dispose()
        for connection in (caches, broker):
            _delete_prefixed(connection, prefix)
            connection.close()


def test_health_answers(production_superset: ProductionSuperset) -> None:
    with urlopen(production_superset.base_url + "/health", timeout=10) as response:  # noqa: S310
        assert response.status == 200
        assert response.read() == b"OK"


def _probe_dataset(superset: ProductionSuperset) -> int:
    """A database and dataset over the probe table, made once through the API."""
    client = superset.client
    found = client.get("/api/v1/dataset/?q=(filters:!((col:table_name,opr:eq,value:probe_figures)))")
    if found["count"]:
        return int(found["result"][0]["id"])
    database = client.post(
        "/api/v1/database/", {"database_name": "Probe warehouse", "sqlalchemy_uri": superset.warehouse_url}
    )
    dataset = client.post(
        "/api/v1/dataset/", {"database": database["id"], "schema": "public", "table_name": "probe_figures"}
    )
    return int(dataset["id"])


def test_chart_data_is_cached_in_redis(production_superset: ProductionSuperset) -> None:
    superset = production_superset
    dataset_id = _probe_dataset(superset)
    context: dict[str, Any] = {
        "datasource": {"id": dataset_id, "type": "table"},
        "queries": [
            {
                "columns": ["viewer"],
                "metrics": [
                    {"expressionType": "SQL", "sqlExpression": "SUM(referrals)", "label": "referrals"}
                ],
                "orderby": [["viewer", True]],
            }
        ],
        "result_format": "json",
        "result_type": "full",
    }
    first = superset.client.post("/api/v1/chart/data", context)["result"][0]
    again = superset.client.post("/api/v1/chart/data", context)["result"][0]
    expected = [{"viewer": "organisation:1", "referrals": 12}, {"viewer": "organisation:2", "referrals": 30}]
    assert first["data"] == again["data"] == expected
    # Superset says None, not False, when the rows came from the database.
    assert not first["is_cached"]
    assert again["is_cached"] is True
    assert superset.keys("data"), f"no chart data under {superset.prefix}data: in Redis {CACHE_DB}"


def test_explore_form_data_is_kept_in_redis(production_superset: ProductionSuperset) -> None:
    superset = production_superset
    dataset_id = _probe_dataset(superset)
    form_data = {"datasource": f"{dataset_id}__table", "viz_type": "table", "groupby": ["viewer"]}
    stored = superset.client.post(
        "/api/v1/explore/form_data",
        {"datasource_id": dataset_id, "datasource_type": "table", "form_data": json.dumps(form_data)},
    )
    read = superset.client.get(f"/api/v1/explore/form_data/{stored['key']}")
    assert json.loads(read["form_data"])["groupby"] == ["viewer"]
    assert superset.keys("explore_form_data"), f"nothing under {superset.prefix}explore_form_data:"


def test_filter_state_is_kept_in_redis(production_superset: ProductionSuperset) -> None:
    superset = production_superset
    # The filter state API takes a browser session only (an access token is refused).
    browser = SupersetClient(superset.base_url, ADMIN_USERNAME, ADMIN_PASSWORD)
    browser.request(
        "POST",
        "/login/",
        form={"username": ADMIN_USERNAME, "password": ADMIN_PASSWORD, "csrf_token": browser.csrf_token()},
    )
    dashboard = superset.client.post("/api/v1/dashboard/", {"dashboard_title": "Probe", "slug": "probe"})
    value = json.dumps({"id": "NATIVE_FILTER-viewer", "filterState": {"value": ["organisation:1"]}})
    stored = browser.post(f"/api/v1/dashboard/{dashboard['id']}/filter_state", {"value": value})
    read = browser.get(f"/api/v1/dashboard/{dashboard['id']}/filter_state/{stored['key']}")
    assert read["value"] == value
    assert superset.keys("filter_state"), f"nothing under {superset.prefix}filter_state:"


def test_superset_objects_are_cached_in_redis(production_superset: ProductionSuperset) -> None:
    superset = production_superset
    # Every page Superset renders memoizes its bootstrap data in CACHE_CONFIG's cache.
    with urlopen(superset.base_url + "/login/", timeout=30) as response:  # noqa: S310
        assert response.status == 200
    assert superset.keys("cache"), f"nothing under {superset.prefix}cache: in Redis {CACHE_DB}"


def _wait_for_worker(superset: ProductionSuperset) -> str:
    deadline = time.monotonic() + WORKER_READY_SECONDS
    log = ""
    while time.monotonic() < deadline:
        log = superset.worker_log.read_text(errors="replace")
        if " ready." in log:
            return log
        time.sleep(1)
    pytest.fail(
        f"Superset's worker was not ready after {WORKER_READY_SECONDS}s:\n{log[-3000:]}", pytrace=False
    )


def test_the_celery_worker_answers_a_ping(production_superset: ProductionSuperset) -> None:
    superset = production_superset
    log = _wait_for_worker(superset)
    # It runs Superset's tasks, from its own queue.
    assert "sql_lab.get_sql_results" in log
    assert "cache-warmup" in log
    assert ".> superset " in log
    ping = subprocess.run(
        ["bash", str(SCRIPT), "worker-ping"],
        env=superset.env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert ping.returncode == 0, f"worker-ping failed:\n{ping.stdout}{ping.stderr}"
    assert "pong" in ping.stdout
    # The broker's keys are under the prefix, in Redis database 14.
    assert f"{superset.prefix}celery:_kombu.binding.superset" in superset.keys("celery", superset.broker)
