"""`flask returns remind`: email reminders about returns not yet submitted.

Run it once every working day (cron); running it more often is harmless,
because nothing is sent twice."""

from __future__ import annotations

from datetime import date

import click
from flask import current_app

from monitor.clock import today
from monitor.db import db
from monitor.kpis.cli import returns_cli
from monitor.kpis.returns.mail import Mailer
from monitor.kpis.returns.reminders import send_reminders


@returns_cli.command("remind")
@click.option(
    "--date",
    "as_at",
    default="",
    metavar="YYYY-MM-DD",
    help="Send what was due on this day instead of today (for catching up or testing).",
)
def remind(as_at: str) -> None:
    """Email providers about returns due soon or late, and escalate late ones to commissioners."""
    if as_at:
        try:
            day = date.fromisoformat(as_at)
        except ValueError as error:
            raise click.BadParameter("write the date like 2013-12-02", param_hint="--date") from error
    else:
        day = today()
    settings = current_app.config
    with Mailer(settings) as mailer:
        report = send_reminders(db, day, settings, mailer)
    click.echo(report.summary())
    if report.failed:
        raise SystemExit(1)
