"""Builders shared by the worker tests: returns waiting for review, their
reviewers, and the outbox as the tests read it."""

from __future__ import annotations

from sqlalchemy import func, select

from monitor.auth.models import Role, User
from monitor.db import db
from monitor.kpis.models import Return
from monitor.kpis.vocabulary import ReturnState
from monitor.outbox import OutboxEvent


def a_return(state: ReturnState) -> Return:
    found = db.session.scalars(select(Return).where(Return.state == state.value).order_by(Return.id)).first()
    assert found is not None, f"the demo has no {state.value} return"
    return found


def reviewer_of(ret: Return) -> User:
    user = db.session.scalars(
        select(User)
        .where(User.role == Role.COMMISSIONER, User.organisation_id.in_(ret.contract.commissioner_ids))
        .order_by(User.id)
    ).first()
    assert user is not None
    return user


def outbox_rows() -> list[OutboxEvent]:
    db.session.expire_all()
    return list(db.session.scalars(select(OutboxEvent).order_by(OutboxEvent.id)))


def pending() -> list[OutboxEvent]:
    return [row for row in outbox_rows() if row.processed_at is None]


def count_rows() -> int:
    return db.session.scalar(select(func.count(OutboxEvent.id))) or 0
