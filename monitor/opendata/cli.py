"""`flask export ocds|360giving`: the files a council publishes.

Run by an operator (no user, so every contract in the register, or those a
commissioner or a partnership's members commission). A register that cannot
be published whole is refused with every contract and field to fix listed.
"""

from __future__ import annotations

from pathlib import Path

import click
from flask import Flask
from flask.cli import AppGroup

from monitor.clock import today
from monitor.db import db
from monitor.formatting import count_text
from monitor.opendata.service import (
    Export,
    ExportRefused,
    NothingToPublish,
    contracts_in_scope,
    publishing,
    register_grants,
    register_ocds,
)
from monitor.reports.audience import Audience, UnknownAudience, find_commissioner, find_partnership

export_cli = AppGroup("export", help="Open data: OCDS releases and 360Giving grants.")

_output = click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, writable=True, path_type=Path),
    help="Where to write the JSON (default: its own name in the current folder).",
)
_commissioner = click.option(
    "--commissioner", help="Only contracts this commissioner leads or partners (name or id)."
)
_partnership = click.option(
    "--partnership", help="Only contracts the members of this partnership (board) commission (name or id)."
)


def _audience(commissioner: str | None, partnership: str | None) -> Audience | None:
    if commissioner and partnership:
        raise click.UsageError("Give --commissioner or --partnership, not both")
    session = db.session()
    try:
        if commissioner:
            return find_commissioner(session, commissioner)
        if partnership:
            return find_partnership(session, partnership)
    except UnknownAudience as error:
        raise click.ClickException(str(error)) from error
    return None


def _scope(audience: Audience | None) -> str:
    return f"the contracts {audience.name} commissions" if audience else "the register"


def _refused(error: ExportRefused) -> click.ClickException:
    lines = [f"  {p.reference} {p.field}: {p.message}" for p in error.problems]
    count = len({p.reference for p in error.problems})
    return click.ClickException(
        f"Nothing was written: {count_text(count, 'contract')} cannot be published yet.\n" + "\n".join(lines)
    )


def _write(export: Export, output: Path | None, what: str) -> None:
    target = output or Path(export.filename)
    try:
        target.write_text(export.text, encoding="utf-8")
    except OSError as error:
        raise click.ClickException(f"Could not write {target}: {error.strerror or error}") from error
    click.echo(f"{what}; written to {target}")


@export_cli.command("ocds")
@_output
@_commissioner
@_partnership
@click.option(
    "--base-url",
    help="The public address of this service, like https://monitor.example.gov.uk (default: SERVICE_URL).",
)
def export_ocds(
    output: Path | None, commissioner: str | None, partnership: str | None, base_url: str | None
) -> None:
    """Write an OCDS 1.1 release package: every contract's award and amendments."""
    audience = _audience(commissioner, partnership)
    settings = publishing(base_url)
    if not settings.base_url.startswith(("https://", "http://")):
        raise click.UsageError(
            "OCDS packages must say where they are published: set SERVICE_URL to the public address of "
            "this service, or give --base-url, like https://monitor.example.gov.uk"
        )
    contracts = contracts_in_scope(db.session(), None, audience)
    try:
        export = register_ocds(db.session(), contracts, settings, today(), audience)
    except NothingToPublish as error:
        raise click.ClickException(f"Nothing to publish from {_scope(audience)}: {error}") from error
    except ExportRefused as error:
        raise _refused(error) from error
    releases = len(export.document["releases"])
    _write(
        export, output, f"OCDS: {count_text(len(contracts), 'contract')}, {count_text(releases, 'release')}"
    )


@export_cli.command("360giving")
@_output
@_commissioner
@_partnership
def export_360giving(output: Path | None, commissioner: str | None, partnership: str | None) -> None:
    """Write a 360Giving package of the services paid as grants."""
    audience = _audience(commissioner, partnership)
    contracts = contracts_in_scope(db.session(), None, audience)
    try:
        export = register_grants(db.session(), contracts, publishing(""), today(), audience)
    except NothingToPublish as error:
        raise click.ClickException(f"Nothing to publish from {_scope(audience)}: {error}") from error
    except ExportRefused as error:
        raise _refused(error) from error
    _write(export, output, f"360Giving: {count_text(len(export.document['grants']), 'grant')}")


def register(app: Flask) -> None:
    app.cli.add_command(export_cli)
