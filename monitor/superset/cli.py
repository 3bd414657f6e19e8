"""`flask superset provision`: apply the dashboards as code to Superset."""

from __future__ import annotations

import click
from flask import current_app
from flask.cli import AppGroup

superset_cli = AppGroup("superset", help="Superset dashboards for boards and commissioners.")


@superset_cli.command("provision")
@click.option(
    "--allowed-domain",
    "allowed_domains",
    multiple=True,
    help="An origin allowed to embed the dashboards (repeat for more); none means any origin "
    "holding a guest token (Superset's frame-ancestors setting still limits who may frame them).",
)
def provision_command(allowed_domains: tuple[str, ...]) -> None:
    """Import every dashboard, chart and dataset (overwriting changes) and make each embeddable."""
    from etl.engine import warehouse_url_for
    from monitor.superset.assets import load_dashboards
    from monitor.superset.client import SupersetClient, SupersetError
    from monitor.superset.provision import provision

    config = current_app.config
    warehouse_url = warehouse_url_for(config["DATABASE_URL"], config.get("WAREHOUSE_URL", ""))
    try:
        client = SupersetClient.from_config(config)
        dashboards = provision(
            client,
            load_dashboards(),
            warehouse_url,
            allowed_domains=allowed_domains,
            progress=lambda line: click.echo(f"superset: {line}"),
        )
    except SupersetError as error:
        raise click.ClickException(str(error)) from error
    public = config.get("SUPERSET_PUBLIC_URL") or config["SUPERSET_URL"]
    click.echo(f"superset: {len(dashboards)} dashboards ready at {public}/dashboard/list/")
