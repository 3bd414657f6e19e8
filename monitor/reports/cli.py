"""`flask reports board-pack`: a board pack for a commissioner or a partnership.
`flask reports deliver-packs`: the worker's daily delivery of packs before board meetings."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

import click
from flask import Flask, current_app
from flask.cli import AppGroup

from monitor.clock import today
from monitor.db import db
from monitor.formatting import count_text
from monitor.kpis.returns.mail import Mailer
from monitor.reports.audience import UnknownAudience, find_commissioner, find_partnership
from monitor.reports.delivery import deliver_packs
from monitor.reports.pack_data import PackError
from monitor.reports.service import make_board_pack, pack_warehouse

reports_cli = AppGroup("reports", help="Board packs and other reports.")


@reports_cli.command("board-pack")
@click.option("--commissioner", help="The commissioning organisation's name or id.")
@click.option("--partnership", help="The partnership's (board's) name or id.")
@click.option("--period", required=True, help="The quarter, like 2013-14-Q4 (January to March 2014).")
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, writable=True, path_type=Path),
    help="Where to write the workbook (default: its own name in the current folder).",
)
def board_pack(commissioner: str | None, partnership: str | None, period: str, output: Path | None) -> None:
    """Write a board pack workbook for one quarter, with disclosure control applied."""
    if bool(commissioner) == bool(partnership):
        raise click.UsageError("Give either --commissioner or --partnership (one of them, not both)")
    session = db.session()
    try:
        audience = (
            find_commissioner(session, commissioner)
            if commissioner
            else find_partnership(session, partnership or "")
        )
        pack = make_board_pack(
            session,
            pack_warehouse(),
            audience,
            period,
            threshold=int(current_app.config["DISCLOSURE_THRESHOLD"]),
            produced_on=today(),
        )
    except (UnknownAudience, PackError) as error:
        raise click.ClickException(str(error)) from error
    target = output or Path(pack.filename)
    try:
        target.write_bytes(pack.content)
    except OSError as error:
        raise click.ClickException(f"Could not write {target}: {error.strerror or error}") from error
    data = pack.data
    services = data.current["contract_id"].nunique()
    figures = (
        f"{count_text(services, 'service')} with figures, {count_text(len(data.current), 'KPI')}"
        if services
        else f"no accepted figures for {data.period.short_label} yet"
    )
    click.echo(f"board pack: {audience.name}, {data.period.label}: {figures}; written to {target}")


@reports_cli.command("deliver-packs")
@click.option(
    "--date",
    "on",
    type=click.DateTime(formats=["%Y-%m-%d"]),
    help="Run as on this day, like 2014-05-06 (default: today).",
)
def deliver(on: datetime | None) -> None:
    """Email each board's pack to its members before its meetings, as the
    worker does every working day: packs due on or before the day for
    meetings not yet held, each member once."""
    day: date = on.date() if on is not None else today()
    settings = current_app.config
    with Mailer(settings) as mailer:
        report = deliver_packs(db, day, settings, mailer)
    click.echo(report.summary())
    for outcome in report.of("sent"):
        click.echo(f"  sent: {outcome.label} ({outcome.period}) to {outcome.sent}")
    if report.of("failed"):
        raise click.ClickException("some packs were not sent; the administrators have been told")


def register(app: Flask) -> None:
    app.cli.add_command(reports_cli)
