"""Databases built once per test session and copied for each test.

Loading the demo takes about a second and its year of returns (through the
real template and checks) about twenty-five; a test that needs either gets a
copy of a database built once: on SQLite a copy of the files (the app's and
the warehouse files beside it), on PostgreSQL `CREATE DATABASE ... TEMPLATE`.
A copy is the same as building afresh, so no test sees another's changes.

Kinds:
- "demo": migrated, with the demo loaded (as the `demo` fixture did).
- "warehouse": also the 2013/14 returns as at WAREHOUSE_AS_AT and a full
  ETL run (as `build_warehouse` did).
"""

from __future__ import annotations

import shutil
import uuid
from collections.abc import Callable
from datetime import date
from pathlib import Path

from alembic import command
from flask import Flask
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url

from monitor.cli import alembic_config
from monitor.db import db


class Templates:
    """The templates of one backend's test database, made when first asked for."""

    def __init__(self, server: Engine | None, folder: Path, make_app: Callable[..., Flask]) -> None:
        self._server = server  # PostgreSQL: a connection to the server; None: SQLite files
        self._folder = folder
        self._make_app = make_app
        self._made: dict[str, str] = {}  # kind -> database URL of the template

    def restore(self, kind: str, target_url: str, build: Callable[[str], None]) -> None:
        """Make the database at `target_url` a copy of template `kind`,
        building the template with `build(template_url)` the first time.
        Every engine on the target must be disposed of first."""
        if kind not in self._made:
            self._made[kind] = self._create(kind, build)
        template = self._made[kind]
        if self._server is None:
            _copy_sqlite(template, target_url)
            return
        name = make_url(target_url).database
        with self._server.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            connection.execute(text(f'CREATE DATABASE "{name}" TEMPLATE "{make_url(template).database}"'))

    def drop(self) -> None:
        if self._server is None:
            return
        with self._server.connect() as connection:
            for url in self._made.values():
                connection.execute(text(f'DROP DATABASE IF EXISTS "{make_url(url).database}" WITH (FORCE)'))
        self._made.clear()

    def _create(self, kind: str, build: Callable[[str], None]) -> str:
        if self._server is None:
            folder = self._folder / f"template-{kind}"
            folder.mkdir(parents=True, exist_ok=True)
            url = f"sqlite:///{folder / 'template.sqlite3'}"
        else:
            name = f"monitor_template_{kind}_{uuid.uuid4().hex[:8]}"
            with self._server.connect() as connection:
                connection.execute(text(f'CREATE DATABASE "{name}"'))
            url = self._server.url.set(database=name).render_as_string(hide_password=False)
        build(url)
        return url


def _copy_sqlite(template_url: str, target_url: str) -> None:
    """The template's files (the app's, the warehouse's, anything beside them
    named after it) over the target's, which are removed first."""
    template = Path(make_url(template_url).database or "")
    target = Path(make_url(target_url).database or "")
    for old in target.parent.glob(target.stem + ".*"):
        old.unlink()
    for suffix in ("-wal", "-shm", "-journal"):
        Path(str(target) + suffix).unlink(missing_ok=True)
    for source in template.parent.glob(template.stem + ".*"):
        if source.name.endswith(("-wal", "-shm", "-journal")):
            continue
        shutil.copyfile(source, target.with_name(target.stem + source.name[len(template.stem) :]))


def server_for(database_url: str) -> Engine | None:
    if database_url.startswith("sqlite"):
        return None
    return create_engine(make_url(database_url).set(database="postgres"), isolation_level="AUTOCOMMIT")


def build_demo(make_app: Callable[..., Flask], url: str, **overrides: object) -> None:
    from monitor.demo import load_demo

    app = make_app(url, **overrides)
    with app.app_context():
        command.upgrade(alembic_config(), "head")
        load_demo(db)
        _settle(url)


def build_demo_warehouse(make_app: Callable[..., Flask], url: str, as_at: str) -> None:
    from etl.app import run_for_app
    from monitor.demo import load_demo
    from monitor.kpis.demo import load_demo_performance

    app = make_app(url, TODAY=as_at)
    with app.app_context():
        command.upgrade(alembic_config(), "head")
        load_demo(db)
        load_demo_performance(db, date.fromisoformat(as_at))
        db.session.remove()
        run_for_app(full=True)
        _settle(url)
        engine = app.extensions.pop("warehouse_engine", None)
        if engine is not None:
            engine.dispose()


def _settle(url: str) -> None:
    """Close every connection, with SQLite's write-ahead log folded into the file."""
    db.session.remove()
    if url.startswith("sqlite"):
        with db.engine.connect() as connection:
            connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    db.dispose()
