"""The change history on a contract page, in words rather than ids."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from monitor.audit import AuditEvent
from monitor.auth.models import Organisation

# Bookkeeping that means nothing to a reader of the history.
HIDDEN = {"id", "contract_id", "recorded_by_id", "extension_option_id", "recorded_at"}
ORGANISATION_FIELDS = {
    "provider_id": "provider",
    "lead_commissioner_id": "lead commissioner",
    "funder_id": "funder",
}
VERBS = {"create": "Created", "update": "Updated", "delete": "Deleted"}


@dataclass(frozen=True)
class Change:
    field: str
    before: str
    after: str


@dataclass(frozen=True)
class HistoryEntry:
    at: datetime
    who: str
    what: str
    changes: list[Change]


def _words(value: Any, names: dict[int, str], organisation: bool) -> str:
    if value is None or value == "":
        return "(none)"
    if organisation and isinstance(value, int):
        return names.get(value, f"organisation {value}")
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    return str(value)


def contract_history(session: Session, contract_id: int, limit: int = 200) -> list[HistoryEntry]:
    events = session.scalars(
        select(AuditEvent)
        .where(AuditEvent.contract_id == contract_id)
        .order_by(AuditEvent.at.desc(), AuditEvent.id.desc())
        .limit(limit)
    ).all()
    names = {row.id: row.name for row in session.execute(select(Organisation.id, Organisation.name))}
    entries = []
    for event in events:
        changes = [
            Change(
                field=ORGANISATION_FIELDS.get(field, field.replace("_", " ")),
                before=_words(values[0], names, field in ORGANISATION_FIELDS),
                after=_words(values[1], names, field in ORGANISATION_FIELDS),
            )
            for field, values in event.changes.items()
            if field not in HIDDEN
        ]
        entries.append(
            HistoryEntry(
                at=event.at,
                who=event.actor_label,
                what=f"{VERBS.get(event.action, event.action)} {event.entity_type}",
                changes=changes,
            )
        )
    return entries
