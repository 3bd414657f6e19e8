"""Who may see and change which contracts. Every view and API call asks here."""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, false, or_, select, true

from monitor.auth.models import Role, User, partnership_members
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


def can_read(user: User, contract: Contract) -> bool:
    role = user.role
    if role == Role.ADMIN:
        return True
    if role == Role.COMMISSIONER:
        return user.organisation_id in contract.commissioner_ids
    if role == Role.PROVIDER:
        return user.organisation_id == contract.provider_id
    if role == Role.BOARD and user.partnership is not None:
        members = {org.id for org in user.partnership.members}
        return bool(members & contract.commissioner_ids)
    return False


def can_change(user: User, contract: Contract) -> bool:
    return user.role == Role.COMMISSIONER and user.organisation_id in contract.commissioner_ids


def can_create_contracts(user: User) -> bool:
    return user.role == Role.COMMISSIONER


def can_see_audit(user: User, contract: Contract) -> bool:
    return user.role == Role.ADMIN or can_change(user, contract)


def require_change(user: User, contract: Contract) -> None:
    if not can_change(user, contract):
        raise Forbidden("Only the lead or a partner commissioner can change this contract")
