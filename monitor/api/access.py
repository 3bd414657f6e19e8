"""Loading records for the token's user: a contract the user may not see
answers exactly like one that does not exist, so ids reveal nothing."""

from __future__ import annotations

from sqlalchemy.orm import Session

from monitor.access.rules import can_change, can_read
from monitor.api.errors import ApiError
from monitor.api.parsing import MAX_ID
from monitor.auth.models import User
from monitor.contracts.models import Amendment, Contract, FundingLine

CANNOT_CHANGE = "Only the lead or a partner commissioner can change this contract"


def readable_contract(session: Session, user: User, contract_id: int) -> Contract:
    contract = session.get(Contract, contract_id) if contract_id <= MAX_ID else None
    if contract is None or not can_read(user, contract):
        raise ApiError(404, f"contract_id: contract {contract_id} was not found")
    return contract


def changeable_contract(session: Session, user: User, contract_id: int) -> Contract:
    contract = readable_contract(session, user, contract_id)
    if not can_change(user, contract):
        raise ApiError(403, CANNOT_CHANGE)
    return contract


def funding_line_of(contract: Contract, line_id: int) -> FundingLine:
    line = next((x for x in contract.funding_lines if x.id == line_id), None)
    if line is None:
        raise ApiError(404, f"line_id: funding line {line_id} was not found on contract {contract.id}")
    return line


def amendment_of(contract: Contract, amendment_id: int) -> Amendment:
    item = next((x for x in contract.amendments if x.id == amendment_id), None)
    if item is None:
        raise ApiError(404, f"amendment_id: amendment {amendment_id} was not found on contract {contract.id}")
    return item
