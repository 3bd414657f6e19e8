"""Operator commands, run as an operator would."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import create_engine, func, inspect, select, text

from monitor.audit import AuditEvent
from monitor.auth.models import ApiToken, Organisation, User
from monitor.auth.passwords import token_digest
from monitor.contracts.models import Contract
from monitor.db import db
from tests.conftest import POSTGRES_SERVER, make_app


def test_seed_demo_is_idempotent(app: Flask) -> None:
    runner = app.test_cli_runner()
    first = runner.invoke(args=["seed", "demo"])
    assert first.exit_code == 0, first.output
    assert "commissioner@lbbd.demo.example" in first.output
    counts = (
        db.session.scalar(select(func.count(Contract.id))),
        db.session.scalar(select(func.count(User.id))),
    )
    audit = db.session.scalar(select(func.count(AuditEvent.id)))
    second = runner.invoke(args=["seed", "demo"])
    assert second.exit_code == 0 and "0 contracts added" in second.output
    db.session.remove()
    assert (
        db.session.scalar(select(func.count(Contract.id))),
        db.session.scalar(select(func.count(User.id))),
    ) == counts
    assert db.session.scalar(select(func.count(AuditEvent.id))) == audit


def test_orgs_and_users_create_and_token(app: Flask) -> None:
    runner = app.test_cli_runner()
    made = runner.invoke(
        args=[
            "orgs",
            "create",
            "--name",
            "Safe Lives Test Charity",
            "--kind",
            "provider",
            "--charity-number",
            "1106864",
        ]
    )
    assert made.exit_code == 0, made.output
    duplicate = runner.invoke(
        args=["orgs", "create", "--name", "safe lives test charity", "--kind", "provider"]
    )
    assert duplicate.exit_code == 2 and "already exists" in duplicate.output
    user = runner.invoke(
        args=[
            "users",
            "create",
            "--email",
            "Worker@Charity.example",
            "--name",
            "Sam Worker",
            "--role",
            "provider",
            "--organisation",
            "Safe Lives Test Charity",
            "--password-stdin",
        ],
        input="a-long-enough-password\n",
    )
    assert user.exit_code == 0, user.output
    weak = runner.invoke(
        args=[
            "users",
            "create",
            "--email",
            "b@charity.example",
            "--name",
            "B",
            "--role",
            "provider",
            "--organisation",
            "Safe Lives Test Charity",
            "--password-stdin",
        ],
        input="short\n",
    )
    assert weak.exit_code == 2 and "at least 12 characters" in weak.output
    wrong_kind = runner.invoke(
        args=[
            "users",
            "create",
            "--email",
            "c@charity.example",
            "--name",
            "C",
            "--role",
            "commissioner",
            "--organisation",
            "Safe Lives Test Charity",
            "--password-stdin",
        ],
        input="a-long-enough-password\n",
    )
    assert wrong_kind.exit_code == 2 and "commissioner organisation" in wrong_kind.output
    token = runner.invoke(args=["users", "token", "worker@charity.example"])
    assert token.exit_code == 0
    value = token.output.strip()
    stored = db.session.scalars(select(ApiToken.token_hash)).all()
    assert stored == [token_digest(value)] and value not in stored
    created = db.session.execute(
        select(Organisation).where(Organisation.name == "Safe Lives Test Charity")
    ).scalar_one()
    events = db.session.scalars(
        select(AuditEvent).where(AuditEvent.entity_type.in_(["organisation", "user"]))
    ).all()
    assert {e.actor_label for e in events} >= {"cli: flask orgs create", "cli: flask users create"}
    assert all("password_hash" not in e.changes for e in events)
    assert created.charity_number == "1106864"
    missing = runner.invoke(args=["users", "token", "nobody@example.org"])
    assert missing.exit_code == 2 and "no user" in missing.output


@pytest.fixture
def empty_database(database_url: str, tmp_path: Path) -> Iterator[str]:
    """A database of the test's backend with no tables at all."""
    if database_url.startswith("sqlite"):
        yield f"sqlite:///{tmp_path / 'empty.sqlite3'}"
        return
    name = f"monitor_test_empty_{uuid.uuid4().hex[:10]}"
    server = create_engine(POSTGRES_SERVER, isolation_level="AUTOCOMMIT")
    with server.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield POSTGRES_SERVER.rsplit("/", 1)[0] + f"/{name}"
    finally:
        with server.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        server.dispose()


def test_a_command_on_a_database_never_set_up_says_to_upgrade_it(empty_database: str) -> None:
    """Operator commands against a database with no tables say so, and how to
    fix it, in a sentence: no stack trace, nothing written."""
    app = make_app(empty_database)
    runner = app.test_cli_runner()
    try:
        for args in (["reports", "deliver-packs"], ["returns", "remind"]):
            result = runner.invoke(args=args)
            assert result.exit_code == 1, (args, result.output)
            assert "is not set up for this version of the service" in result.output, result.output
            assert "flask db upgrade" in result.output and "Traceback" not in result.output
        with app.app_context():
            assert inspect(db.engine).get_table_names() == []  # nothing was made
        upgraded = runner.invoke(args=["db", "upgrade"])
        assert upgraded.exit_code == 0, upgraded.output
        sent = runner.invoke(args=["reports", "deliver-packs"])
        assert sent.exit_code == 0, sent.output
    finally:
        with app.app_context():
            db.dispose()
