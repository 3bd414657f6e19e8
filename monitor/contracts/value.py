"""The value of a contract's terms in force, recomputed from its history.

Pure functions (no Flask, database or clock), like ``renewal``. The stored
``Contract.total_value`` is always what :func:`value_in_force` gives, so every
surface (page, export, API, open data) reads one figure computed one way.

The rule
--------
Start from the value of the initial term, as awarded. Then, in the order they
were decided:

- an exercised extension adds the annual value for the months it adds;
- a value change sets the total to its new value;
- a termination or decommissioning that brings the end forward takes off the
  annual value for the months no longer in force.

Months are calendar months by the renewal module's end-date convention, so
six months from 31 March is to 30 September; a part month counts by its days.
Totals are rounded half up to the penny.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from typing import Literal

from monitor.contracts.renewal import extend_end

__all__ = ["TermChange", "months_between", "value_in_force"]

_PENNY = Decimal("0.01")
_TWELVE = Decimal(12)


@dataclass(frozen=True)
class TermChange:
    """One decision that changes the value of the terms in force."""

    kind: Literal["extension", "value change", "ending"]
    old_end_date: date | None = None
    new_end_date: date | None = None
    new_value: Decimal | None = None


def months_between(end: date, later_end: date) -> Decimal:
    """Calendar months from the term ending on ``end`` to the one ending on ``later_end``.

    Whole months by :func:`extend_end`, then the days left as a share of the next month.
    """
    if later_end <= end:
        return Decimal(0)
    whole = 0
    while extend_end(end, whole + 1) <= later_end:
        whole += 1
    reached = extend_end(end, whole)
    days_left = (later_end - reached).days
    if days_left == 0:
        return Decimal(whole)
    month_days = (extend_end(reached, 1) - reached).days
    return Decimal(whole) + Decimal(days_left) / Decimal(month_days)


def value_in_force(initial_value: Decimal, annual_value: Decimal, changes: Iterable[TermChange]) -> Decimal:
    value = Decimal(initial_value)
    for change in changes:
        if change.kind == "value change" and change.new_value is not None:
            value = Decimal(change.new_value)
        elif change.old_end_date is not None and change.new_end_date is not None:
            if change.kind == "extension":
                value += annual_value * months_between(change.old_end_date, change.new_end_date) / _TWELVE
            elif change.kind == "ending":
                value -= annual_value * months_between(change.new_end_date, change.old_end_date) / _TWELVE
    return max(value, Decimal(0)).quantize(_PENNY, rounding=ROUND_HALF_UP)
