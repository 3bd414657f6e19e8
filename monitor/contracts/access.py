"""Loading contracts for a user: unseen contracts are simply not found.

`visible_contracts` is `monitor.access.rules.can_read` as a WHERE clause;
a test checks that they agree for every demo user and contract."""

from __future__ import annotations

from typing import Any

from flask import abort
from sqlalchemy import ColumnElement, false, or_, select, true
from sqlalchemy.orm import Session

from monitor.access.rules import can_change, can_read
from monitor.auth.models import Organisation, OrganisationKind, Role, User, partnership_members
from monitor.contracts.models import Contract, contract_partners
from monitor.errors import Forbidden


def visible_contracts(user: User) -> ColumnElement[bool]:
    """A WHERE clause limiting contracts to those this user may read."""
    role = user.role
    if role == Role.ADMIN:
        return true()
    if role == Role.COMMISSIONER and user.organisation_id is not None:
        return _commissioned_by([user.organisation_id])
    if role == Role.PROVIDER and user.organisation_id is not None:
        return Contract.provider_id == user.organisation_id
    if role == Role.BOARD and user.partnership_id is not None:
        members = select(partnership_members.c.organisation_id).where(
            partnership_members.c.partnership_id == user.partnership_id
        )
        return _commissioned_by(members)
    return false()


def _commissioned_by(organisations: Any) -> ColumnElement[bool]:
    """Contracts whose lead or any partner commissioner is one of these."""
    partner_of = select(contract_partners.c.contract_id).where(
        contract_partners.c.organisation_id.in_(organisations)
    )
    return or_(Contract.lead_commissioner_id.in_(organisations), Contract.id.in_(partner_of))


def require_change(user: User, contract: Contract) -> None:
    if not can_change(user, contract):
        raise Forbidden("Only the lead or a partner commissioner can change this contract")


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
