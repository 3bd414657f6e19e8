"""Operator commands: `flask db ...`, `flask seed demo` and `flask backup ...`."""

from __future__ import annotations

from pathlib import Path

import click
from alembic import command
from alembic.config import Config
from flask import Flask, current_app
from flask.cli import AppGroup

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
    for email, role, password in current_app.extensions.get("demo_logins", []):
        click.echo(f"  {role:<13} {email:<40} {password}")


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


def register_commands(app: Flask) -> None:
    from monitor.superset.cli import superset_cli

    app.cli.add_command(db_cli)
    app.cli.add_command(seed_cli)
    app.cli.add_command(backup_cli)
    app.cli.add_command(superset_cli)
