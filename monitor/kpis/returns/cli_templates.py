"""`flask returns template` and `flask returns check`: the return workbook for operators.

flask returns template HBC-CYP-DA-01 2013-14-Q3 -o halton-q3.xlsx
flask returns check halton-q3.xlsx
flask returns check q3.xlsx --contract LBBD-DV-002 --period 2013-14-Q1 --as provider@example.org

`check` runs the same command as an upload through the web page or the API
(`commands.SubmitReturn`, validated but never stored), so it prints the same
messages they show.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click
from flask import current_app
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from monitor.auth.models import User
from monitor.contracts.models import Contract
from monitor.db import db
from monitor.errors import Forbidden
from monitor.formatting import count_text
from monitor.kpis.cli import returns_cli
from monitor.kpis.periods import PERIOD_HINT, Quarter
from monitor.kpis.returns.commands import Refused, SubmitReturn, Upload
from monitor.kpis.returns.ingest import peek_identity
from monitor.kpis.returns.ingest.result import Message, Severity
from monitor.kpis.returns.template import TemplateError, build_template
from monitor.model_helpers import utcnow


def _fail(message: str, code: int = 2) -> None:
    click.echo(f"error: {message}", err=True)
    sys.exit(code)


def _find_contract(session: Session, text: str) -> Contract | None:
    """A contract by its reference (any case) or its id."""
    text = text.strip()
    contract = session.execute(
        select(Contract).where(func.lower(Contract.reference) == text.lower())
    ).scalar_one_or_none()
    if contract is None and text.isdigit():
        contract = session.get(Contract, int(text))
    return contract


@returns_cli.command("template")
@click.argument("contract_ref", metavar="CONTRACT")
@click.argument("period", metavar="PERIOD")
@click.option("-o", "--output", "output", required=True, type=click.Path(dir_okay=False, path_type=Path))
def template(contract_ref: str, period: str, output: Path) -> None:
    """Write the return template for CONTRACT (reference or id) and PERIOD (like 2013-14-Q3)."""
    quarter = Quarter.parse(period)
    if quarter is None:
        _fail(f"{period!r} is not a quarter. {PERIOD_HINT}")
        return
    session = db.session()
    contract = _find_contract(session, contract_ref)
    if contract is None:
        _fail(f"no contract with the reference or id {contract_ref!r}")
        return
    try:
        content = build_template(session, contract, quarter, generated_at=utcnow().replace(microsecond=0))
    except TemplateError as problem:
        _fail(str(problem))
        return
    output.write_bytes(content)
    click.echo(f"template: wrote {output} ({contract.reference}, {quarter.label}, {len(content):,} bytes)")


def _line(message: Message) -> str:
    where = f"{message.sheet}!{message.cell}" if message.sheet and message.cell else message.sheet or "file"
    return "  ".join([message.severity.value, where, message.kpi or "-", message.message])


@returns_cli.command("check")
@click.argument("path", metavar="FILE", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--contract", "contract_ref", help="Check it as this contract's return (reference or id)")
@click.option("--period", "period", help="...for this quarter, like 2013-14-Q3 (with --contract)")
@click.option(
    "--as",
    "email",
    help="Check it as this user would upload it (their permissions, and only contracts they may see named)",
)
def check(path: Path, contract_ref: str | None, period: str | None, email: str | None) -> None:
    """Check a filled-in return workbook, with the checks an upload gets, for the
    contract and quarter written in it (or those given).

    Prints one line per problem (severity, sheet!cell, KPI, message) and a
    summary; exits 1 if there is any error."""
    with path.open("rb") as stream:
        upload = Upload.receive(path.name, stream)
    settings = current_app.config
    session = db.session()
    contract: Contract | None = None
    quarter: Quarter | None = None
    messages: list[Message] = []
    if contract_ref or period:
        quarter = Quarter.parse(period or "")
        if quarter is None:
            _fail(f"give --contract and --period together, the period like 2013-14-Q3. {PERIOD_HINT}")
            return
        contract = _find_contract(session, contract_ref or "")
        if contract is None:
            _fail(f"no contract with the reference or id {contract_ref!r}")
            return
    else:
        identity, messages = peek_identity(upload.content, upload.filename, settings=settings)
        if identity is not None:
            contract = session.get(Contract, identity.contract_id) if identity.contract_id else None
            quarter = identity.quarter
            if contract is None:
                messages = [
                    Message(
                        "",
                        "",
                        "",
                        Severity.ERROR,
                        f"The workbook is for contract {identity.contract_reference or identity.contract_id}, "
                        "which is not in this database.",
                    )
                ]
    if contract is None or quarter is None:
        for message in messages:
            click.echo(_line(message))
        click.echo(f"check: {path.name} could not be checked ({count_text(len(messages), 'error')})")
        sys.exit(1)
    user = None
    if email:
        user = session.scalar(select(User).where(func.lower(User.email) == email.strip().lower()))
        if user is None:
            _fail(f"no user with the email {email!r}")
            return
    # Checked as the upload would be, without storing: warnings are reported, not asked about.
    try:
        outcome = SubmitReturn(user, contract, quarter, upload, submit=False, acknowledged=True).validate()
    except Forbidden as refused:
        _fail(str(refused))
        return
    checked = outcome.checked
    shown = list(outcome.messages) if isinstance(outcome, Refused) else []
    if checked is not None:
        shown += [m for m in checked.messages if m not in shown]
    for message in shown:
        click.echo(_line(message))
    errors = sum(m.severity == Severity.ERROR for m in shown)
    warnings = len(shown) - errors
    figures = len(checked.figures) if checked is not None else 0
    outcome_rows = len(checked.outcomes) if checked is not None else 0
    verdict = "passes" if not errors else "fails"
    click.echo(
        f"check: {path.name} {verdict}: {contract.reference} {quarter.label}, "
        f"{errors} error{'s' * (errors != 1)}, {warnings} warning{'s' * (warnings != 1)}, "
        f"{figures} figures, {outcome_rows} outcome rows"
    )
    sys.exit(1 if errors else 0)
