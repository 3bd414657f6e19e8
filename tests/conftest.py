"""Fixtures: every database test runs on SQLite and on PostgreSQL.

Set TEST_DATABASES=sqlite to run only SQLite while developing; `make test`
always runs both. PostgreSQL is reached at TEST_POSTGRES_URL (default the
local server, trust auth) and each test run gets its own database.
"""

from __future__ import annotations

import os
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pyotp
import pytest
from alembic import command
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import create_engine, select, text, update

from monitor import create_app, secret_box
from monitor.auth.models import User
from monitor.cli import alembic_config
from monitor.config import TestConfig
from monitor.db import Base, db
from monitor.demo import DEMO_PASSWORD
from tests.templates import Templates, build_demo, build_demo_warehouse, server_for

POSTGRES_SERVER = os.environ.get("TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
# Tests run "as at" 2 December 2013, when most demo contracts are live.
TEST_TODAY = "2013-12-02"
BACKENDS = [b.strip() for b in os.environ.get("TEST_DATABASES", "sqlite,postgresql").split(",") if b.strip()]
# Set by tests/run_by_backend.py, which runs one pytest per backend side by
# side: every run but the first takes only the tests on a database, so the
# tests that need none run once; and the tests marked `postgresql`, which
# need the server but no test database (the benches), run in whichever run
# it says, to even out the runs' lengths.
DATABASE_TESTS_ONLY = os.environ.get("TEST_DATABASE_TESTS_ONLY") == "1"
POSTGRESQL_SERVER_TESTS = (
    os.environ.get("TEST_POSTGRESQL_SERVER_TESTS", "1" if "postgresql" in BACKENDS else "0") == "1"
)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    no_server = pytest.mark.skip(reason="needs the PostgreSQL server: the suite runs on SQLite only")
    kept: list[pytest.Item] = []
    deselected: list[pytest.Item] = []
    for item in items:
        if item.get_closest_marker("postgresql") is not None:
            if POSTGRESQL_SERVER_TESTS:
                kept.append(item)
            elif DATABASE_TESTS_ONLY:
                deselected.append(item)  # another backend's run has them
            else:
                item.add_marker(no_server)
                kept.append(item)
        elif DATABASE_TESTS_ONLY and "database_url" not in getattr(item, "fixturenames", ()):
            deselected.append(item)
        else:
            kept.append(item)
    if deselected:
        config.hook.pytest_deselected(items=deselected)
        items[:] = kept


@pytest.fixture(scope="session", params=BACKENDS)
def database_url(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.sqlite3'}"
        return
    name = f"monitor_test_{uuid.uuid4().hex[:10]}"
    server = create_engine(POSTGRES_SERVER, isolation_level="AUTOCOMMIT")
    with server.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield POSTGRES_SERVER.rsplit("/", 1)[0] + f"/{name}"
    finally:
        with server.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        server.dispose()


_migrated: set[str] = set()


def make_app(database_url: str, **overrides: Any) -> Flask:
    config = TestConfig()
    config.DATABASE_URL = database_url
    config.SECRET_KEY = "test-secret-" + "x" * 32
    config.TODAY = TEST_TODAY
    config.WTF_CSRF_ENABLED = False
    for name, value in overrides.items():
        if hasattr(config, name):
            setattr(config, name, value)
    app = create_app(config)
    app.config.update(overrides)
    return app


def _empty_tables() -> None:
    """Every table emptied and its ids started again from 1.

    DELETE rather than TRUNCATE on PostgreSQL: TRUNCATE gives each of the
    tables new files, about 0.4 s a test; deleting the few rows a test
    leaves takes a fiftieth of that. Children go before their parents."""
    with db.engine.begin() as connection:
        for table in reversed(Base.metadata.sorted_tables):
            connection.execute(table.delete())
        if connection.dialect.name == "postgresql":
            # Only the sequences a test used (an unused one has no last value).
            used = connection.scalars(
                text(
                    "SELECT sequencename FROM pg_sequences WHERE schemaname = 'public' AND last_value IS NOT NULL"
                )
            ).all()
            for name in used:
                connection.execute(text(f'ALTER SEQUENCE "{name}" RESTART'))
        elif connection.execute(text("SELECT name FROM sqlite_master WHERE name='sqlite_sequence'")).first():
            connection.execute(text("DELETE FROM sqlite_sequence"))


@pytest.fixture
def app(database_url: str, request: pytest.FixtureRequest) -> Iterator[Flask]:
    """A fresh app on an empty, fully migrated database."""
    # A test on the demo gets a copy of its template in place of the database,
    # so emptying the tables first would be wasted.
    yield from _fresh_app(database_url, empty="demo" not in request.fixturenames)


def _fresh_app(database_url: str, *, empty: bool = True, **overrides: Any) -> Iterator[Flask]:
    app = make_app(database_url, **overrides)
    with app.app_context():
        if database_url not in _migrated:
            command.upgrade(alembic_config(), "head")
            _migrated.add(database_url)
        if empty:
            _empty_tables()
        yield app
        db.dispose()


@pytest.fixture
def backend(database_url: str) -> str:
    return "postgresql" if database_url.startswith("postgresql") else "sqlite"


# Each backend's templates (tests/templates.py): the demo, and the demo with
# its returns and warehouse, built once per session and copied per test.
_TEMPLATES: dict[str, Templates] = {}


@pytest.fixture(scope="session", autouse=True)
def _drop_templates() -> Iterator[None]:
    yield
    for templates in _TEMPLATES.values():
        templates.drop()


def restore_template(app: Flask, kind: str) -> None:
    """Make `app`'s database (and warehouse) a copy of template `kind`."""
    from etl.app import ENGINE_KEY

    url = app.config["DATABASE_URL"]
    backend = "postgresql" if url.startswith("postgresql") else "sqlite"
    if backend not in _TEMPLATES:
        folder = Path(tempfile.mkdtemp(prefix=f"monitor-templates-{backend}-"))
        _TEMPLATES[backend] = Templates(server_for(url), folder, make_app)
    builders = {
        "demo": lambda target: build_demo(make_app, target),
        "warehouse": lambda target: build_demo_warehouse(make_app, target, WAREHOUSE_AS_AT),
    }
    db.dispose()
    warehouse_engine = app.extensions.pop(ENGINE_KEY, None)
    if warehouse_engine is not None:
        warehouse_engine.dispose()
    _TEMPLATES[backend].restore(kind, url, builders[kind])
    # Building a template binds the shared engine to it: bind it back to this app.
    db.bind(url)


@pytest.fixture
def demo(app: Flask) -> Flask:
    """The demo data loaded (as `flask seed demo` does), copied from a template."""
    restore_template(app, "demo")
    # Start requests from a clean session, as production does: objects kept
    # from loading would carry collections in insertion order, not query order.
    db.session.remove()
    return app


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


def two_factor_code(email: str) -> str:
    """A code from `email`'s authenticator app that the app has not seen yet.

    Its time step is later than the last one the user spent (mfa_last_step),
    so signing in twice within 30 seconds works as it would a step later.
    The app accepts one step ahead of now at most: a test that signs the same
    person in more often than that within a step moves their last step back,
    as if time had passed."""
    db.session.expire_all()
    user = db.session.execute(select(User).where(User.email == email.strip().lower())).scalar_one()
    assert user.mfa_secret is not None, f"{email} has no two-factor secret"
    now_step = int(time.time() // 30)
    step = max(now_step, (user.mfa_last_step or 0) + 1)
    if step > now_step + 1:
        db.session.execute(update(User).where(User.id == user.id).values(mfa_last_step=now_step - 2))
        db.session.commit()
        step = now_step - 1
    return pyotp.TOTP(secret_box.decrypt(user.mfa_secret)).at(step * 30)


class Auth:
    """Signs a test client in and out, like a person at the sign-in page.

    A person with two-factor authentication on is sent to /sign-in/two-factor:
    `sign_in` enters the code from their app too, so callers still see the
    final answer (a 302 to where they were going)."""

    def __init__(self, client: FlaskClient) -> None:
        self.client = client

    def sign_in(self, email: str, password: str = DEMO_PASSWORD) -> Any:
        response = self.client.post("/sign-in", data={"email": email, "password": password})
        if response.status_code == 302 and response.headers["Location"].startswith("/sign-in/two-factor"):
            if response.headers["Location"] != "/sign-in/two-factor":
                return response  # must set it up first: the caller's test does that
            response = self.client.post("/sign-in/two-factor", data={"code": two_factor_code(email)})
        return response

    def sign_out(self) -> Any:
        return self.client.post("/sign-out")


@pytest.fixture
def auth(client: FlaskClient) -> Auth:
    return Auth(client)


@pytest.fixture
def artifacts() -> Path:
    """Where tests keep files for people to look at (screenshots, workbooks)."""
    path = Path(__file__).resolve().parent.parent / "test-artifacts"
    path.mkdir(exist_ok=True)
    return path


DEMO_USERS = {
    "admin": "admin@demo.example",
    "lbbd": "commissioner@lbbd.demo.example",
    "ccg": "commissioner@bdccg.demo.example",
    "halton": "commissioner@halton.demo.example",
    "westminster": "commissioner@westminster.demo.example",
    "refuge": "provider@refuge.demo.example",
    # Refuge's organisation admin: a provider who also manages Refuge's people.
    "refuge_admin": "people@refuge.demo.example",
    "halton_provider": "provider@halton-recovery.demo.example",
    "bd_board": "board@bd-hwb.demo.example",
    "halton_board": "board@halton-daf.demo.example",
}


@pytest.fixture
def contract_id() -> Callable[[str], int]:
    """The id of a demo contract by its reference."""
    from sqlalchemy import select

    from monitor.contracts.models import Contract

    def lookup(reference: str) -> int:
        return db.session.execute(select(Contract.id).where(Contract.reference == reference)).scalar_one()

    return lookup


# The demo "as at" 6 May 2014: the whole of 2013/14 is reported and reviewed.
WAREHOUSE_AS_AT = "2014-05-06"


class Warehouse:
    """A warehouse built by a full ETL run over the demo and its 2013/14 returns."""

    def __init__(self, app: Flask, url: str) -> None:
        from etl.engine import warehouse_engine

        self.app = app
        self.url = url
        self.engine = warehouse_engine(url)

    def rows(self, sql: str, **params: Any) -> list[Any]:
        """Rows of plain SQL over the warehouse tables, named without a schema."""
        with self.engine.connect() as connection:
            if connection.dialect.name == "postgresql":
                connection.execute(text("SET search_path TO warehouse"))
            return list(connection.execute(text(sql), params).mappings())


def build_warehouse(app: Flask) -> Warehouse:
    """The demo, its 2013/14 returns as at WAREHOUSE_AS_AT and a full ETL run,
    copied from a template into `app`'s database."""
    from etl.app import warehouse_url

    restore_template(app, "warehouse")
    db.session.remove()
    return Warehouse(app, warehouse_url(app))


def _drop_warehouse(url: str) -> None:
    """Each test starts from no warehouse at all."""
    from etl.engine import warehouse_engine
    from etl.schema import WAREHOUSE_SCHEMA

    if url.startswith("sqlite"):
        path = Path(url.removeprefix("sqlite:///"))
        for suffix in ("", "-wal", "-shm"):
            Path(str(path) + suffix).unlink(missing_ok=True)
        return
    engine = warehouse_engine(url)
    with engine.begin() as connection:
        connection.execute(text(f'DROP SCHEMA IF EXISTS "{WAREHOUSE_SCHEMA}" CASCADE'))
    engine.dispose()


@pytest.fixture
def warehouse_app(database_url: str) -> Iterator[Flask]:
    """An app as at 6 May 2014 on an empty, migrated database, with no warehouse yet."""
    from etl.app import warehouse_url

    for app in _fresh_app(database_url, TODAY=WAREHOUSE_AS_AT):
        _drop_warehouse(warehouse_url(app))
        yield app


@pytest.fixture
def warehouse(warehouse_app: Flask) -> Iterator[Warehouse]:
    built = build_warehouse(warehouse_app)
    yield built
    built.engine.dispose()


@pytest.fixture(scope="module")
def shared_warehouse(database_url: str) -> Iterator[Warehouse]:
    """One warehouse for a whole test module, for tests that only read it."""
    # The warehouse's template replaces the database: nothing to empty.
    for app in _fresh_app(database_url, empty=False, TODAY=WAREHOUSE_AS_AT):
        built = build_warehouse(app)
        yield built
        built.engine.dispose()


# One Playwright for the whole session: its sync API refuses a second
# instance in the same thread, and the e2e, dashboard and Superset tests
# all drive the same Debian chromium.
@pytest.fixture(scope="session")
def playwright() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as instance:
        yield instance


@pytest.fixture(scope="session")
def browser(playwright: Any) -> Iterator[Any]:
    from tests.e2e.conftest import CHROMIUM, CHROMIUM_ARGS

    if not CHROMIUM.is_file():
        # Fail, never skip: CI installs Debian's chromium package, and a silently
        # skipped browser suite would hide every end-to-end regression.
        pytest.fail(
            f"Chromium was not found at {CHROMIUM}. Install it with `apt-get install chromium` "
            "(or set E2E_CHROMIUM to its path). Do not run `playwright install`.",
            pytrace=False,
        )
    instance = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
    yield instance
    instance.close()
