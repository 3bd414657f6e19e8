"""The audit trail: who changed what, when, with the values before and after.

Rather than trusting every service function to remember, a flush listener
records each insert, update and delete of the audited models in the same
transaction as the change itself, so a change can never land unaudited.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar, Token
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import JSON, ForeignKey, String, event, insert, inspect
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship

from monitor.db import Base
from monitor.model_helpers import utcnow

# Secrets and bookkeeping that must never be copied into the trail.
NOT_AUDITED = {
    "password_hash",
    "token_hash",
    "failed_logins",
    "locked_until",
    # Secrets are never copied into the audit trail; changing one is still
    # audited through the columns that say when (mfa_enabled_at, updated_at).
    "mfa_secret",
    "mfa_last_step",
    "client_secret_encrypted",
    "updated_at",
    "created_at",
    "content",  # an uploaded workbook: kept whole on its version; the audit keeps its hash
    "revision",  # optimistic-locking counter
}


@dataclass(frozen=True)
class Actor:
    user_id: int | None
    label: str


SYSTEM = Actor(None, "system")
_actor: ContextVar[Actor] = ContextVar("audit_actor", default=SYSTEM)


@contextmanager
def acting_as(actor: Actor) -> Iterator[None]:
    token = _actor.set(actor)
    try:
        yield
    finally:
        _actor.reset(token)


def bind_actor(actor: Actor) -> Token[Actor]:
    """Set the actor for one request; `unbind_actor` undoes it at teardown."""
    return _actor.set(actor)


def unbind_actor(token: Token[Actor]) -> None:
    _actor.reset(token)


class AuditEvent(Base):
    __tablename__ = "audit_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    actor_label: Mapped[str] = mapped_column(String(254))
    action: Mapped[str] = mapped_column(String(10))
    entity_type: Mapped[str] = mapped_column(String(40), index=True)
    entity_id: Mapped[int | None]
    entity_label: Mapped[str] = mapped_column(String(300), default="")
    contract_id: Mapped[int | None] = mapped_column(index=True)
    changes: Mapped[dict[str, Any]] = mapped_column(JSON)

    actor: Mapped[Any] = relationship("User")


_AUDITED: dict[type, str] = {}


def audited(entity_type: str) -> Any:
    """Class decorator registering a model with the audit trail."""

    def register(cls: type) -> type:
        _AUDITED[cls] = entity_type
        return cls

    return register


def _plain(value: Any) -> Any:
    if isinstance(value, date | datetime):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    return value


def _column_changes(obj: Any, action: str) -> dict[str, list[Any]]:
    state = inspect(obj)
    changes: dict[str, list[Any]] = {}
    for attr in state.mapper.column_attrs:
        key = attr.key
        if key in NOT_AUDITED:
            continue
        history = state.attrs[key].history
        if action == "create":
            value = getattr(obj, key)
            if value is not None and value != "":
                changes[key] = [None, _plain(value)]
        elif action == "delete":
            value = state.attrs[key].loaded_value
            changes[key] = [_plain(value), None]
        elif history.has_changes():
            before = history.deleted[0] if history.deleted else None
            after = history.added[0] if history.added else None
            if _plain(before) != _plain(after):
                changes[key] = [_plain(before), _plain(after)]
    for rel in state.mapper.relationships:
        if rel.secondary is None or action == "delete":
            continue
        history = state.attrs[rel.key].history
        if history.added or history.deleted:
            changes[rel.key] = [
                sorted(str(o) for o in history.deleted) or None,
                sorted(str(o) for o in history.added) or None,
            ]
    return changes


def _contract_id(obj: Any, entity_type: str) -> int | None:
    if entity_type == "contract":
        return int(obj.id)
    value = getattr(obj, "contract_id", None)
    return int(value) if value is not None else None


def _record(session: Session, _context: Any) -> None:
    actor = _actor.get()
    rows = []
    for action, objects in (
        ("create", session.new),
        ("update", session.dirty),
        ("delete", session.deleted),
    ):
        for obj in objects:
            entity_type = _AUDITED.get(type(obj))
            if entity_type is None:
                continue
            if action == "update" and not session.is_modified(obj):
                continue
            changes = _column_changes(obj, action)
            if not changes:
                continue
            rows.append(
                {
                    "at": utcnow(),
                    "actor_id": actor.user_id,
                    "actor_label": actor.label,
                    "action": action,
                    "entity_type": entity_type,
                    "entity_id": getattr(obj, "id", None),
                    "entity_label": str(getattr(obj, "label", "") or getattr(obj, "name", "") or "")[:300],
                    "contract_id": _contract_id(obj, entity_type),
                    "changes": changes,
                }
            )
    if rows:
        table = AuditEvent.__table__
        session.connection().execute(insert(table), rows)  # type: ignore[arg-type]


def install(session_class: type[Session] = Session) -> None:
    if not event.contains(session_class, "after_flush", _record):
        event.listen(session_class, "after_flush", _record)
