"""Operator commands for organisations and users."""

from __future__ import annotations

import sys

import click
from flask import Flask, current_app
from flask.cli import AppGroup
from sqlalchemy import select

from monitor.audit import Actor, acting_as
from monitor.auth import services
from monitor.auth.emails import service_link
from monitor.auth.models import OrganisationKind, Role, User
from monitor.auth.password_reset import ResetLimits, only_signs_in_with_sso, send_reset_link
from monitor.db import db
from monitor.errors import ValidationFailed

orgs_cli = AppGroup("orgs", help="Organisations.")
users_cli = AppGroup("users", help="User accounts.")


def _fail(failed: ValidationFailed) -> None:
    for field, message in failed.errors.items():
        click.echo(f"error: --{field.replace('_', '-')}: {message}", err=True)
    sys.exit(2)


@orgs_cli.command("create")
@click.option("--name", required=True)
@click.option("--kind", required=True, type=click.Choice([k.value for k in OrganisationKind]))
@click.option("--gss-code", default=None, help="GSS code for a council, like E09000002")
@click.option("--charity-number", default=None)
@click.option("--company-number", default=None)
def create_org(
    name: str,
    kind: str,
    gss_code: str | None,
    charity_number: str | None,
    company_number: str | None,
) -> None:
    """Add an organisation."""
    try:
        with acting_as(Actor(None, "cli: flask orgs create")), db.transaction() as session:
            organisation = services.create_organisation(
                session,
                name=name,
                kind=kind,
                gss_code=gss_code,
                charity_number=charity_number,
                company_number=company_number,
            )
    except ValidationFailed as failed:
        _fail(failed)
    click.echo(f"organisation {organisation.id}: {organisation.name} ({organisation.kind})")


@users_cli.command("create")
@click.option("--email", required=True)
@click.option("--name", required=True)
@click.option("--role", required=True, type=click.Choice([r.value for r in Role]))
@click.option("--organisation", default=None, help="Organisation name or id (commissioners, providers)")
@click.option("--partnership", default=None, help="Partnership name or id (board users)")
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input")
def create_user(
    email: str,
    name: str,
    role: str,
    organisation: str | None,
    partnership: str | None,
    password_stdin: bool,
) -> None:
    """Add a user. The password is read from standard input, never an argument."""
    if not password_stdin:
        click.echo("error: pass --password-stdin and send the password on standard input", err=True)
        sys.exit(2)
    password = sys.stdin.readline().rstrip("\n")
    try:
        with acting_as(Actor(None, "cli: flask users create")), db.transaction() as session:
            org = services.find_organisation(session, organisation) if organisation else None
            if organisation and org is None:
                raise ValidationFailed({"organisation": f"No organisation called {organisation}"})
            board = services.find_partnership(session, partnership) if partnership else None
            if partnership and board is None:
                raise ValidationFailed({"partnership": f"No partnership called {partnership}"})
            user = services.create_user(
                session,
                email=email,
                name=name,
                role=role,
                password=password,
                organisation=org,
                partnership=board,
            )
            # Someone else chose this password: the person chooses their own at first sign-in.
            user.must_change_password = True
    except ValidationFailed as failed:
        _fail(failed)
    click.echo(f"user {user.id}: {user.email} ({user.role}, {user.scope_name})")
    click.echo("They must change this temporary password when they first sign in.")


@users_cli.command("token")
@click.argument("email")
def token(email: str) -> None:
    """Print a new API token for EMAIL (shown once; only its hash is kept)."""
    with acting_as(Actor(None, "cli: flask users token")), db.transaction() as session:
        user = session.scalar(select(User).where(User.email == email.strip().lower()))
        if user is None:
            click.echo(f"error: no user with the email {email}", err=True)
            sys.exit(2)
        value = services.issue_api_token(session, user)
    click.echo(value)


@users_cli.command("reset-link")
@click.argument("email")
def reset_link(email: str) -> None:
    """Email EMAIL a link to choose a new password. The link is never printed."""
    if not current_app.config.get("SERVICE_URL"):
        click.echo(
            "error: set SERVICE_URL (like https://monitor.example.org) so the link in the email works",
            err=True,
        )
        sys.exit(2)
    limits = ResetLimits.from_config(current_app.config)
    with acting_as(Actor(None, "cli: flask users reset-link")), db.transaction() as session:
        user = session.scalar(select(User).where(User.email == email.strip().lower()))
        if user is None or not user.active:
            click.echo(f"error: no active user with the email {email}", err=True)
            sys.exit(2)
        if only_signs_in_with_sso(user):
            click.echo(
                f"error: {user.email} signs in through their organisation and has no password", err=True
            )
            sys.exit(2)
        send_reset_link(session, user, limits.link_lifetime, _link_outside_request)
    hours = int(limits.link_lifetime.total_seconds() // 3600)
    click.echo(f"sent {user.email} a link to choose a new password; it lasts {hours} hours and works once")


def _link_outside_request(token: str) -> str:
    # No request here: build the path from the URL map, then add SERVICE_URL.
    adapter = current_app.url_map.bind(
        "localhost", script_name=current_app.config.get("APPLICATION_ROOT") or "/"
    )
    return service_link(adapter.build("passwords.reset", {"token": token}))


def register(app: Flask) -> None:
    app.cli.add_command(orgs_cli)
    app.cli.add_command(users_cli)
