"""Writes to a contract's performance framework.

Each function checks everything first, raises one ValidationFailed carrying
every message (keyed by field name), and leaves committing to the caller's
single transaction. FrameworkItem is audited on flush, and always carries its
contract_id, so each change shows in the contract's history.

Past quarters are judged by the framework then in force, so a new target is
never written over an old one that quarters were already judged by: the old
item ends the quarter before and a new item starts (`change_item`).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from decimal import Decimal

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from monitor.auth.models import User
from monitor.contracts.access import require_change
from monitor.contracts.models import Contract
from monitor.errors import ValidationFailed
from monitor.kpis.models import FrameworkItem, Kpi
from monitor.kpis.periods import Quarter
from monitor.kpis.returns.resubmission import mark_incomplete_returns
from monitor.kpis.vocabulary import Direction, TargetBasis, Unit

QUARTER_HINT = "Write the quarter like 2013-14-Q3"
DEFAULT_TOLERANCE = Decimal(10)
# Numeric(14, 2) holds up to this; no real target comes near it.
MAX_TARGET = Decimal("1000000000000")


@dataclass(frozen=True)
class ItemTerms:
    """What an item judges by. None tolerance means the default (10%);
    None direction means the KPI's own."""

    target: Decimal | None
    target_basis: str = TargetBasis.QUARTER.value
    amber_tolerance_pct: Decimal | None = None
    direction: str | None = None


@dataclass(frozen=True)
class ItemFields:
    kpi_id: int | None
    terms: ItemTerms
    effective_from: str
    effective_to: str = ""


def _decimal_places(value: Decimal) -> int:
    exponent = value.as_tuple().exponent
    return -exponent if isinstance(exponent, int) and exponent < 0 else 0


def _check_terms(terms: ItemTerms, kpi: Kpi | None) -> dict[str, str]:
    errors: dict[str, str] = {}
    target = terms.target
    if target is not None:
        if not target.is_finite():
            errors["target"] = "Enter the target as a number, like 30 or 87.5"
        elif target < 0:
            errors["target"] = "The target cannot be negative"
        elif kpi is not None and kpi.unit == Unit.PERCENTAGE and target > 100:
            errors["target"] = f"{kpi.code} is a percentage, so the target must be 100 or less"
        elif target >= MAX_TARGET:
            errors["target"] = "The target must be less than 1,000,000,000,000"
        elif _decimal_places(target) > 2:
            errors["target"] = "The target can have at most 2 decimal places"
    if terms.target_basis not in {b.value for b in TargetBasis}:
        errors["target_basis"] = "Choose whether the target is per quarter or per year"
    tolerance = terms.amber_tolerance_pct
    if tolerance is not None and (
        not tolerance.is_finite() or not 0 <= tolerance <= 100 or _decimal_places(tolerance) > 2
    ):
        errors["amber_tolerance_pct"] = "Enter the amber tolerance as a percentage from 0 to 100, like 10"
    if terms.direction not in (None, "", *(d.value for d in Direction)):
        errors["direction"] = "Choose higher is better, lower is better, or the KPI's own direction"
    return errors


def _quarter(text: str, field: str, missing: str, errors: dict[str, str]) -> Quarter | None:
    if not text.strip():
        errors[field] = missing
        return None
    quarter = Quarter.parse(text)
    if quarter is None:
        errors[field] = QUARTER_HINT
    return quarter


def _overlapping(
    session: Session,
    contract_id: int,
    kpi_id: int,
    first: Quarter,
    last: Quarter | None,
    ignore_id: int | None,
) -> FrameworkItem | None:
    """Another item for the same KPI on the contract in force in any quarter first..last."""
    query = select(FrameworkItem).where(
        FrameworkItem.contract_id == contract_id,
        FrameworkItem.kpi_id == kpi_id,
        or_(FrameworkItem.effective_to.is_(None), FrameworkItem.effective_to >= str(first)),
    )
    if last is not None:
        query = query.where(FrameworkItem.effective_from <= str(last))
    if ignore_id is not None:
        query = query.where(FrameworkItem.id != ignore_id)
    return session.scalars(query.order_by(FrameworkItem.effective_from)).first()


def _overlap_message(kpi: Kpi, other: FrameworkItem) -> str:
    span = (
        f"{other.effective_from} to {other.effective_to}"
        if other.effective_to
        else (f"{other.effective_from} with no end")
    )
    return (
        f"{kpi.code} is already in this contract's framework from {span}; "
        "end that item first or choose quarters that do not overlap it"
    )


def _apply(item: FrameworkItem, terms: ItemTerms, kpi: Kpi) -> None:
    item.target = terms.target
    item.target_basis = terms.target_basis
    item.amber_tolerance_pct = (
        terms.amber_tolerance_pct if terms.amber_tolerance_pct is not None else DEFAULT_TOLERANCE
    )
    # Stored only where it differs from the KPI's, so a null means "as the KPI".
    item.direction = terms.direction if terms.direction and terms.direction != kpi.direction else None


def add_item(session: Session, user: User, contract: Contract, fields: ItemFields) -> FrameworkItem:
    require_change(user, contract)
    errors: dict[str, str] = {}
    kpi = session.get(Kpi, fields.kpi_id) if fields.kpi_id is not None else None
    if kpi is None or not kpi.active:
        errors["kpi_id"] = "Choose a KPI from the library"
    errors.update(_check_terms(fields.terms, kpi))
    first = _quarter(
        fields.effective_from,
        "effective_from",
        f"Enter the first quarter it applies to. {QUARTER_HINT}",
        errors,
    )
    last = Quarter.parse(fields.effective_to) if fields.effective_to.strip() else None
    if fields.effective_to.strip() and last is None:
        errors["effective_to"] = QUARTER_HINT
    if first is not None and last is not None and last < first:
        errors["effective_to"] = "The last quarter must be the same as or after the first quarter"
    if first is not None and first.end < contract.start_date:
        errors["effective_from"] = (
            f"The contract starts in {Quarter.containing(contract.start_date)}; "
            "the first quarter cannot be before then"
        )
    if kpi is not None and first is not None and "effective_to" not in errors:
        other = _overlapping(session, contract.id, kpi.id, first, last, None)
        if other is not None:
            errors["kpi_id"] = _overlap_message(kpi, other)
    if errors or kpi is None or first is None:
        raise ValidationFailed(errors)
    item = FrameworkItem(
        contract_id=contract.id,
        kpi_id=kpi.id,
        kpi=kpi,
        effective_from=str(first),
        effective_to=str(last) if last else None,
    )
    _apply(item, fields.terms, kpi)
    session.add(item)
    session.flush()
    # A return already submitted for a quarter the KPI now covers lacks its figure: mark it and tell the provider.
    mark_incomplete_returns(session, user, contract, first)
    return item


def terms_of(item: FrameworkItem) -> ItemTerms:
    return ItemTerms(
        target=item.target,
        target_basis=item.target_basis,
        amber_tolerance_pct=item.amber_tolerance_pct,
        direction=item.direction,
    )


def _same_terms(item: FrameworkItem, terms: ItemTerms) -> bool:
    direction = terms.direction if terms.direction and terms.direction != item.kpi.direction else None
    tolerance = terms.amber_tolerance_pct if terms.amber_tolerance_pct is not None else DEFAULT_TOLERANCE
    return (
        item.target == terms.target
        and item.target_basis == terms.target_basis
        and item.amber_tolerance_pct == tolerance
        and item.direction == direction
    )


def change_item(
    session: Session, user: User, contract: Contract, item: FrameworkItem, terms: ItemTerms, from_quarter: str
) -> FrameworkItem:
    """New terms from `from_quarter` on. Returns the item carrying them: the
    same item when it only came into force that quarter, otherwise a new one,
    with the old item ended the quarter before so earlier quarters keep the
    terms they were judged by."""
    require_change(user, contract)
    if item.contract_id != contract.id:
        raise ValidationFailed({"item": "That item is not in this contract's framework"})
    errors = _check_terms(terms, item.kpi)
    start = _quarter(
        from_quarter, "from_quarter", f"Enter the quarter the change starts. {QUARTER_HINT}", errors
    )
    first = Quarter.parse(item.effective_from)
    last = Quarter.parse(item.effective_to) if item.effective_to else None
    if start is not None and first is not None and start < first:
        errors["from_quarter"] = (
            f"This item came into force in {item.effective_from}; the change cannot start before then"
        )
    elif start is not None and last is not None and start > last:
        errors["from_quarter"] = (
            f"This item ended in {item.effective_to}; choose a quarter up to then, or add a new item"
        )
    if not errors and _same_terms(item, terms):
        errors["target"] = "Nothing has changed: enter a new target, basis, tolerance or direction"
    if errors or start is None:
        raise ValidationFailed(errors)
    if start == first:
        _apply(item, terms, item.kpi)
        session.flush()
        return item
    successor = FrameworkItem(
        contract_id=contract.id,
        kpi_id=item.kpi_id,
        kpi=item.kpi,
        effective_from=str(start),
        effective_to=item.effective_to,
    )
    _apply(successor, terms, item.kpi)
    item.effective_to = str(start.previous())
    session.add(successor)
    session.flush()
    return successor


def change_target(
    session: Session,
    user: User,
    contract: Contract,
    item: FrameworkItem,
    target: Decimal | None,
    from_quarter: str,
) -> FrameworkItem:
    """A new target from `from_quarter`, keeping the item's other terms."""
    return change_item(session, user, contract, item, replace(terms_of(item), target=target), from_quarter)


def end_item(
    session: Session, user: User, contract: Contract, item: FrameworkItem, last_quarter: str
) -> FrameworkItem:
    """Stop monitoring the KPI after `last_quarter` (its last quarter in force)."""
    require_change(user, contract)
    if item.contract_id != contract.id:
        raise ValidationFailed({"item": "That item is not in this contract's framework"})
    errors: dict[str, str] = {}
    last = _quarter(
        last_quarter, "effective_to", f"Enter the last quarter it applies to. {QUARTER_HINT}", errors
    )
    if last is not None and str(last) < item.effective_from:
        errors["effective_to"] = (
            f"This item came into force in {item.effective_from}; the last quarter cannot be before then"
        )
    if last is not None and not errors:
        other = _overlapping(
            session, contract.id, item.kpi_id, Quarter.parse(item.effective_from) or last, last, item.id
        )
        if other is not None:
            errors["effective_to"] = _overlap_message(item.kpi, other)
    if errors or last is None:
        raise ValidationFailed(errors)
    item.effective_to = str(last)
    session.flush()
    return item
