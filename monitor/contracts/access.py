"""Loading a contract for the current user: unseen contracts are simply not found."""

from __future__ import annotations

from flask import abort
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import Session

from monitor.auth.models import Organisation, OrganisationKind, User
from monitor.auth.permissions import can_change, can_read
from monitor.contracts.models import Contract


def signed_in_user() -> User:
    user: User = current_user._get_current_object()
    return user


def contract_for(session: Session, user: User, contract_id: int, *, change: bool = False) -> Contract:
    contract = session.get(Contract, contract_id)
    # Not visible and not existing look the same, so ids reveal nothing.
    if contract is None or not can_read(user, contract):
        abort(404)
    if change and not can_change(user, contract):
        abort(403)
    return contract


def organisation_choices(
    session: Session, *kinds: OrganisationKind, blank: str | None = None
) -> list[tuple[str, str]]:
    query = (
        select(Organisation)
        .where(Organisation.kind.in_([k.value for k in kinds]))
        .order_by(Organisation.name)
    )
    choices = [(str(org.id), org.name) for org in session.scalars(query)]
    return [("", blank), *choices] if blank is not None else choices
