"""Operator commands, run as an operator would."""

from __future__ import annotations

from flask import Flask
from sqlalchemy import func, select

from monitor.audit import AuditEvent
from monitor.auth.models import ApiToken, Organisation, User
from monitor.auth.passwords import token_digest
from monitor.contracts.models import Contract
from monitor.db import db


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
