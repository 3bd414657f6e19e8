"""Operator commands: `flask db ...`, `flask seed demo` and `flask backup ...`."""

from __future__ import annotations

import functools
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click
from alembic import command
from alembic.config import Config
from flask import Flask, current_app
from flask.cli import AppGroup
from sqlalchemy.exc import DBAPIError

from monitor.clock import today
from monitor.db import db

db_cli = AppGroup("db", help="Database migrations.")
seed_cli = AppGroup("seed", help="Load data.")
backup_cli = AppGroup("backup", help="Backups: copy a SQLite database, check a restore (docs/backup.md).")

MIGRATIONS = Path(__file__).resolve().parent.parent / "migrations"


def alembic_config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["engine"] = db.engine
    return config


@db_cli.command("upgrade")
@click.argument("revision", default="head")
def upgrade(revision: str) -> None:
    """Bring the database schema up to date."""
    command.upgrade(alembic_config(), revision)
    click.echo(f"database: upgraded to {revision} ({_safe_url()})")


@db_cli.command("current")
def current() -> None:
    """Show the schema revision the database is at."""
    command.current(alembic_config())


@db_cli.command("revision")
@click.option("-m", "--message", required=True)
@click.option("--autogenerate", is_flag=True)
def revision(message: str, autogenerate: bool) -> None:
    """Write a new migration (for developers)."""
    command.revision(alembic_config(), message=message, autogenerate=autogenerate)


def _safe_url() -> str:
    return db.engine.url.render_as_string(hide_password=True)


@seed_cli.command("demo")
def seed_demo() -> None:
    """Load the demo data from the source documents (safe to run again)."""
    from monitor.demo import load_demo
    from monitor.kpis.demo import load_demo_performance

    progress = lambda step: click.echo(f"seed: {step}")  # noqa: E731
    summary = load_demo(db, progress=progress)
    performance = load_demo_performance(db, today(), progress=progress)
    click.echo(f"seed: done ({summary}; {performance}); log in at http://127.0.0.1:5000 as:")
    logins = current_app.extensions.get("demo_logins", [])
    width = max((len(role) for _, role, _ in logins), default=0)
    for email, role, password in logins:
        click.echo(f"  {role:<{width}}  {email:<38} {password}")


@backup_cli.command("verify")
@click.option("--source", help="The database the backup was taken from (default: this app's DATABASE_URL).")
@click.option("--restored", required=True, help="The database the backup was restored into.")
def backup_verify(source: str | None, restored: str) -> None:
    """Compare a restored database with its source: every table's row count and
    every stored return file's SHA-256. Exits 1 on any difference."""
    from monitor.backup import BackupError, verify_restore

    try:
        result = verify_restore(source or current_app.config["DATABASE_URL"], restored)
    except BackupError as error:
        raise click.ClickException(str(error)) from error
    click.echo(result.summary())
    for difference in result.differences:
        click.echo(f"  {difference}")
    if not result.matches:
        raise SystemExit(1)


@backup_cli.command("sqlite")
@click.argument("target", type=click.Path(dir_okay=False, path_type=Path))
def backup_sqlite(target: Path) -> None:
    """Copy this app's SQLite database to TARGET with SQLite's online backup API."""
    from sqlalchemy.engine import make_url

    from monitor.backup import BackupError, copy_sqlite

    url = make_url(current_app.config["DATABASE_URL"])
    if url.get_backend_name() != "sqlite" or not url.database:
        raise click.ClickException("the database is not a SQLite file: back PostgreSQL up with pg_dump")
    try:
        copy_sqlite(Path(url.database), target)
    except BackupError as error:
        raise click.ClickException(str(error)) from error
    click.echo(f"backup: {url.database} copied to {target}")


# What the database says when a table or column the code needs is not there:
# SQLite's message, and PostgreSQL's SQLSTATE (undefined table, undefined column).
_SQLITE_MISSING = ("no such table", "no such column")
_POSTGRES_MISSING = {"42P01", "42703"}


def schema_missing(error: DBAPIError) -> bool:
    """Whether the database lacks a table or column: never set up, or behind the code."""
    original = error.orig
    if getattr(original, "sqlstate", None) in _POSTGRES_MISSING:
        return True
    return str(original).lower().startswith(_SQLITE_MISSING)


def _explain_missing_schema(callback: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(callback)
    def run(*args: Any, **kwargs: Any) -> Any:
        try:
            return callback(*args, **kwargs)
        except DBAPIError as error:
            if not schema_missing(error):
                raise
            raise click.ClickException(
                f"The database ({_safe_url()}) is not set up for this version of the service: "
                "it lacks tables or columns the command needs. Nothing was changed. "
                "Run `flask db upgrade` against it, then run the command again"
            ) from error

    run.explains_missing_schema = True  # type: ignore[attr-defined]
    return run


def explain_missing_schema(group: click.Group) -> None:
    """Every operator command run against a database that was never migrated,
    or is behind the code, says so in a sentence instead of a stack trace.
    (`flask db` is left alone: it is how the schema is made.)"""
    for name, operator_command in group.commands.items():
        if name == "db":
            continue
        if isinstance(operator_command, click.Group):
            explain_missing_schema(operator_command)
        # Commands are module-level objects shared by every app made in a
        # process (the tests make many): wrap each callback once.
        elif (callback := operator_command.callback) is not None and not getattr(
            callback, "explains_missing_schema", False
        ):
            operator_command.callback = _explain_missing_schema(callback)


def register_commands(app: Flask) -> None:
    from monitor.superset.cli import superset_cli

    app.cli.add_command(db_cli)
    app.cli.add_command(seed_cli)
    app.cli.add_command(backup_cli)
    app.cli.add_command(superset_cli)
