"""`flask returns ...`: templates, checks and reminders for operators and cron."""

from __future__ import annotations

from flask import Flask
from flask.cli import AppGroup

returns_cli = AppGroup("returns", help="Quarterly KPI returns.")


def register(app: Flask) -> None:
    # The command modules attach themselves to the group when imported.
    from monitor.kpis.returns import cli_reminders, cli_templates  # noqa: F401

    app.cli.add_command(returns_cli)
