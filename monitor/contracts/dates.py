"""Bridges stored contracts to the pure renewal rules, in Python and in SQL."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

from flask import current_app
from sqlalchemy import ColumnElement, and_, case, exists, false, func, or_, select

from monitor.contracts.models import (
    ENDING_KINDS,
    Amendment,
    AmendmentKind,
    Contract,
    ExtensionOption,
    OptionState,
)
from monitor.contracts.renewal import (
    DateKind,
    Ending,
    Leads,
    Renewal,
    Status,
    Terms,
    ToDecide,
    assess,
    end_dates_between,
    months_ahead,
    options_lapsed,
    subtract_months,
    to_decide,
)
from monitor.contracts.value import TermChange, value_in_force


def terms_of(contract: Contract) -> Terms:
    ending = contract.ending
    return Terms(
        start_date=contract.start_date,
        end_date=contract.end_date,
        original_end_date=contract.original_end_date,
        notice_months=contract.notice_period_months,
        remaining_option_months=contract.remaining_option_months,
        award_date=contract.award_date,
        ending=Ending(kind=ending.kind, effective_date=ending.effective_date)  # type: ignore[arg-type]
        if ending is not None
        else None,
    )


def option_states(contract: Contract, today: date) -> dict[int, str]:
    """Each option's state on ``today``: an available option of a contract that has
    ended (or is ending) reads as lapsed, even before a write has marked it so."""
    lapsed = options_lapsed(terms_of(contract), today)
    return {
        option.id: OptionState.LAPSED.value
        if lapsed and option.state == OptionState.AVAILABLE
        else option.state
        for option in contract.options
    }


def offered_options(contract: Contract, today: date) -> list[ExtensionOption]:
    """Options that can still be exercised or declined on ``today``, in order."""
    states = option_states(contract, today)
    return [o for o in contract.options if states[o.id] == OptionState.AVAILABLE]


def term_changes(contract: Contract) -> list[TermChange]:
    """The decisions that change the value of the terms in force, in the order taken."""
    changes = []
    # In the order recorded: each was decided on the contract as it then stood.
    unsaved = 1 << 62
    for amendment in sorted(contract.decisions, key=lambda a: a.id if a.id is not None else unsaved):
        if amendment.kind == AmendmentKind.EXTENSION:
            kind = "extension"
        elif amendment.kind == AmendmentKind.VALUE_CHANGE:
            kind = "value change"
        elif amendment.kind in ENDING_KINDS:
            kind = "ending"
        else:
            continue
        changes.append(
            TermChange(
                kind=kind,  # type: ignore[arg-type]
                old_end_date=amendment.old_end_date,
                new_end_date=amendment.new_end_date,
                new_value=amendment.new_value,
            )
        )
    return changes


def recompute_total_value(contract: Contract) -> None:
    """Set the stored total to the value of the terms in force."""
    contract.total_value = value_in_force(
        contract.initial_value, contract.annual_value, term_changes(contract)
    )


def leads() -> Leads:
    return Leads(
        decision_lead_months=current_app.config["DECISION_LEAD_MONTHS"],
        procurement_lead_months=current_app.config["PROCUREMENT_LEAD_MONTHS"],
    )


def renewal_of(contract: Contract, today: date) -> Renewal:
    return assess(terms_of(contract), today, leads())


def decisions_of(contract: Contract, today: date) -> ToDecide:
    return to_decide(terms_of(contract), today, leads())


# The most notice a contract can have (its check constraint, notice_months_range).
_LONGEST_NOTICE_MONTHS = 60


def _worked_back_within(
    months_back: Callable[[int], Callable[[date], date]], extra_months: int, first: date, last: date
) -> ColumnElement[bool]:
    """End dates whose date worked back over the contract's own notice period falls in
    [first, last]: one run of end dates per notice period, found by the pure rules, so
    SQL and Python never disagree about a month end."""
    runs = []
    for notice in range(_LONGEST_NOTICE_MONTHS + 1):
        earliest, latest = end_dates_between(months_back(notice), first, last, notice + extra_months)
        if earliest <= latest:
            runs.append(
                and_(Contract.notice_period_months == notice, Contract.end_date.between(earliest, latest))
            )
    return or_(*runs) if runs else false()


def date_within(kind: DateKind, today: date, months: int) -> ColumnElement[bool]:
    """Contracts whose ``kind`` of date falls between today and ``months`` months
    ahead, as SQL: the same dates as `decisions_of` (and `renewal_of`), which a test
    checks for every demo contract."""
    horizon = months_ahead(today, months)
    if kind == DateKind.NOTICE:
        return _worked_back_within(lambda notice: lambda end: subtract_months(end, notice), 0, today, horizon)
    if kind == DateKind.DECISION:
        lead = leads().decision_lead_months
        return _worked_back_within(
            lambda notice: lambda end: subtract_months(subtract_months(end, notice), lead),
            lead,
            today,
            horizon,
        )
    ends = Contract.end_date.between(today, horizon)
    if kind == DateKind.END:
        return ends
    # An option is open while the contract runs and no ending has been served (options_lapsed).
    open_option = exists().where(
        ExtensionOption.contract_id == Contract.id, ExtensionOption.state == OptionState.AVAILABLE.value
    )
    ending = exists().where(
        Amendment.contract_id == Contract.id, Amendment.kind.in_([k.value for k in ENDING_KINDS])
    )
    return and_(ends, open_option, ~ending)


def status_expression(today: date) -> ColumnElement[str]:
    """The same status as `renewal.derive_status`, as SQL, so the register can
    filter, sort and paginate on it in the database. A test keeps them equal."""
    ending_date = (
        select(func.max(Amendment.effective_date))
        .where(
            Amendment.contract_id == Contract.id,
            Amendment.kind.in_([k.value for k in ENDING_KINDS]),
        )
        .scalar_subquery()
    )
    ending_kind = (
        select(func.max(Amendment.kind))
        .where(
            Amendment.contract_id == Contract.id,
            Amendment.kind.in_([k.value for k in ENDING_KINDS]),
        )
        .scalar_subquery()
    )
    return case(
        (
            and_(ending_date.is_not(None), ending_date <= today),
            case(
                (ending_kind == "termination", Status.TERMINATED.value),
                else_=Status.DECOMMISSIONED.value,
            ),
        ),
        (ending_date.is_not(None), Status.IN_NOTICE.value),
        (
            Contract.start_date > today,
            case(
                (
                    and_(Contract.award_date.is_not(None), Contract.award_date <= today),
                    Status.MOBILISING.value,
                ),
                else_=Status.PIPELINE.value,
            ),
        ),
        (Contract.end_date < today, Status.EXPIRED.value),
        (Contract.end_date > Contract.original_end_date, Status.EXTENDED.value),
        else_=Status.LIVE.value,
    )
