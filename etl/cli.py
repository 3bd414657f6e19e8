"""`flask etl run [--full]`: bring the warehouse up to date."""

from __future__ import annotations

import click
from flask import Flask
from flask.cli import AppGroup

from etl.run import STEPS, EtlFailed

etl_cli = AppGroup("etl", help="The warehouse the dashboards and board packs read.")


@etl_cli.command("run")
@click.option("--full", is_flag=True, help="Rebuild everything, not only what changed since the last run.")
def run(full: bool) -> None:
    """Extract, transform and load; by default only what changed."""
    from etl.app import run_for_app, warehouse_url

    with click.progressbar(length=len(STEPS), label="etl", show_pos=True, item_show_func=lambda s: s) as bar:

        def progress(step: str) -> None:
            bar.update(1, step)

        try:
            result = run_for_app(full=full, progress=progress)
        except EtlFailed as error:
            raise click.ClickException(f"the ETL run failed and changed nothing: {error}") from error
    rows = sum(result.row_counts.values())
    failed = [c for c in result.checks if not c.passed]
    click.echo(
        f"etl: {result.mode} run {result.run_id} {result.status} in {result.seconds:.1f}s; "
        f"{result.contracts_changed} contracts changed, {rows:,} rows written"
        + (f" ({result.message})" if result.message else "")
    )
    for check in result.checks:
        click.echo(f"  {'ok  ' if check.passed else 'FAIL'} {check.name}: {check.detail}")
    if failed:
        raise SystemExit(1)
    click.echo(f"  warehouse: {_safe(warehouse_url())}")


def _safe(url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


def register(app: Flask) -> None:
    app.cli.add_command(etl_cli)
