"""Plain builders and readers for the people tests."""

from __future__ import annotations

import re
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

from sqlalchemy import select

from monitor.audit import AuditEvent
from monitor.auth.models import Organisation, Partnership, User
from monitor.db import db

INVITATION_LINK = re.compile(r"https?://\S+/invitation/[A-Za-z0-9_-]+")


def person(email: str) -> User:
    db.session.expire_all()
    return db.session.execute(select(User).where(User.email == email)).scalar_one()


def organisation_id(name: str) -> int:
    return db.session.execute(select(Organisation.id).where(Organisation.name == name)).scalar_one()


def partnership_id(name: str) -> int:
    return db.session.execute(select(Partnership.id).where(Partnership.name == name)).scalar_one()


def mails(outbox: Path) -> list[EmailMessage]:
    found = []
    for path in sorted(outbox.glob("*.eml")):
        message = message_from_bytes(path.read_bytes(), policy=policy.default)
        assert isinstance(message, EmailMessage)
        found.append(message)
    return found


def body_of(message: EmailMessage) -> str:
    part = message.get_body(preferencelist=("plain",))
    assert part is not None
    return str(part.get_content())


def invitation_link(outbox: Path, to: str) -> str:
    """The link in the newest invitation sent to `to`."""
    sent = [m for m in mails(outbox) if m["To"] == to]
    assert sent, f"no email to {to}"
    found = INVITATION_LINK.search(body_of(sent[-1]))
    assert found is not None, body_of(sent[-1])
    return found.group(0)


def invitation_path(outbox: Path, to: str) -> str:
    return "/invitation/" + invitation_link(outbox, to).rsplit("/invitation/", 1)[1]


def audit_rows(entity_type: str, entity_id: int) -> list[dict[str, Any]]:
    rows = db.session.scalars(
        select(AuditEvent)
        .where(AuditEvent.entity_type == entity_type, AuditEvent.entity_id == entity_id)
        .order_by(AuditEvent.id)
    )
    return [{"action": r.action, "actor": r.actor_label, "changes": r.changes} for r in rows]


def invite_data(**fields: str) -> dict[str, str]:
    data = {
        "name": "Sam Newcomer",
        "email": "sam@refuge.example",
        "role": "provider",
        "organisation": "",
        "partnership": "",
        "organisation_admin": "no",
    }
    return data | fields
