"""OCDS 1.1 releases for a contract, built from its public facts.

Pure functions: no Flask, database or clock (callers pass ``today``).

One contracting process per contract, ocid ``<OCID_PREFIX>-<contract id>``
(the id, not the reference, which can be edited). Its releases replay what
happened, one per event, each a full snapshot after the event, so a reader
can compile them into a record whose latest state is the register today:

- ``<ocid>-award`` (award, contract): the terms as awarded, dated the award;
- ``<ocid>-amendment-<id>`` (contractAmendment): after each extension,
  variation, value change or ending, with every amendment so far in
  ``contracts[0].amendments``; a correction to the record of an amendment is
  an amendment of its own that names the one it corrects, which stays as it was;
- ``<ocid>-options-declined-<option id>`` (contractUpdate): when options were
  declined, which shortens the maximum extent without amending the contract;
- ``<ocid>-termination`` (contractTermination): when the contract has ended
  by the passing of its end date (or of a served ending) with no release yet
  saying so.

What the register keeps no history of (title, parties, funding, milestones)
is shown as it stands today in every release. Releases are dated the day of
their event, or the day it was recorded if earlier (notice of a future
ending is news from the day it is recorded), never after today.

Dates are days in England and Wales, written as date-times in London time:
starts at 00:00:00 and period ends at 23:59:59 of the day.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from monitor.contracts.models import ENDING_KINDS, AmendmentKind, OptionState
from monitor.contracts.periods import financial_year_bounds
from monitor.contracts.renewal import (
    Ending,
    Status,
    Terms,
    derive_status,
    maximum_extent_date,
    options_lapsed,
)
from monitor.contracts.value import TermChange, value_in_force
from monitor.formatting import count_text, day_text, money
from monitor.opendata.facts import AmendmentFacts, ContractFacts, MilestoneFacts, OptionFacts, OrgFacts
from monitor.opendata.settings import Publishing

OCDS_VERSION = "1.1"
CURRENCY = "GBP"
LONDON = ZoneInfo("Europe/London")
BUDGET_BREAKDOWN_EXTENSION = (
    "https://raw.githubusercontent.com/open-contracting-extensions/"
    "ocds_budget_breakdown_extension/master/extension.json"
)

# The register's derived status, in OCDS's closed contractStatus codelist.
# Mobilising is "active": an awarded contract is signed even before it starts.
STATUS_MAP: dict[Status, str] = {
    Status.PIPELINE: "pending",
    Status.MOBILISING: "active",
    Status.LIVE: "active",
    Status.IN_NOTICE: "active",
    Status.EXTENDED: "active",
    Status.EXPIRED: "terminated",
    Status.TERMINATED: "terminated",
    Status.DECOMMISSIONED: "terminated",
}
_ONE_DAY = timedelta(days=1)


def start_moment(day: date) -> str:
    """The first moment of a day in England and Wales."""
    return datetime.combine(day, time(0, 0, 0), LONDON).isoformat()


def end_moment(day: date) -> str:
    """The last whole second of a day in England and Wales (period ends)."""
    return datetime.combine(day, time(23, 59, 59), LONDON).isoformat()


def number(amount: Decimal) -> int | float:
    """Money as a JSON number, as OCDS and 360Giving require (never a string)."""
    return int(amount) if amount == amount.to_integral_value() else float(amount)


def value(amount: Decimal) -> dict[str, Any]:
    return {"amount": number(amount), "currency": CURRENCY}


def ocid(settings: Publishing, contract_id: int) -> str:
    return f"{settings.ocid_prefix}-{contract_id}"


# -- the terms as they stood after each event -------------------------------------------


@dataclass(frozen=True)
class _State:
    end_date: date
    value: Decimal
    remaining: tuple[OptionFacts, ...]
    ending: Ending | None = None
    amendments: tuple[AmendmentFacts, ...] = ()


@dataclass(frozen=True)
class _Event:
    """Something that changed the contract's terms, and the release it gets."""

    on: date
    suffix: str
    tags: tuple[str, ...]
    amendment: AmendmentFacts | None = None
    declined: tuple[int, ...] = field(default_factory=tuple)


def _initial_value(contract: ContractFacts) -> Decimal:
    if contract.initial_value is not None:
        return contract.initial_value
    for amendment in contract.amendments:
        if amendment.kind == AmendmentKind.VALUE_CHANGE and amendment.old_value is not None:
            return amendment.old_value
    return contract.total_value


def _moved_value(contract: ContractFacts, before: Decimal, kind: str, amendment: AmendmentFacts) -> Decimal:
    """The total after an extension or ending, by the register's one rule for it."""
    if contract.annual_value is None:
        return before
    change = TermChange(
        kind=kind,  # type: ignore[arg-type]
        old_end_date=amendment.old_end_date,
        new_end_date=amendment.new_end_date,
    )
    return value_in_force(before, contract.annual_value, [change])


def _apply(contract: ContractFacts, state: _State, event: _Event) -> _State:
    if event.declined:
        return replace(state, remaining=tuple(o for o in state.remaining if o.id not in event.declined))
    amendment = event.amendment
    assert amendment is not None
    amendments = (*state.amendments, amendment)
    if amendment.kind == AmendmentKind.EXTENSION:
        # Options are taken in order, so an extension whose option is unknown took the first.
        taken = amendment.option_id or (state.remaining[0].id if state.remaining else None)
        return replace(
            state,
            end_date=amendment.new_end_date or state.end_date,
            value=_moved_value(contract, state.value, "extension", amendment),
            remaining=tuple(o for o in state.remaining if o.id != taken),
            amendments=amendments,
        )
    if amendment.kind == AmendmentKind.VALUE_CHANGE and amendment.new_value is not None:
        return replace(state, value=amendment.new_value, amendments=amendments)
    if amendment.kind in ENDING_KINDS:
        return replace(
            state,
            end_date=amendment.new_end_date or amendment.effective_date,
            value=_moved_value(contract, state.value, "ending", amendment),
            remaining=(),  # an ending lapses every option left
            ending=Ending(kind=amendment.kind, effective_date=amendment.effective_date),  # type: ignore[arg-type]
            amendments=amendments,
        )
    return replace(state, amendments=amendments)


def _events(contract: ContractFacts, today: date) -> list[_Event]:
    events = [
        _Event(
            on=min(a.effective_date, a.recorded_on),
            suffix=f"amendment-{a.id}",
            tags=("contractAmendment",),
            amendment=a,
        )
        for a in contract.amendments
    ]
    # Options declined (not lapsed by an ending, which is its own event), grouped
    # by the day each was recorded as declined.
    declined: dict[date, list[OptionFacts]] = {}
    for option in contract.options:
        if option.state == OptionState.DECLINED:
            declined.setdefault(option.declined_on or today, []).append(option)
    events += [
        _Event(
            on=on,
            suffix=f"options-declined-{options[0].id}",
            tags=("contractUpdate",),
            declined=tuple(o.id for o in options),
        )
        for on, options in declined.items()
    ]
    # Amendments before declines on the same day; ties keep the register's order.
    return sorted(events, key=lambda e: (e.on, e.declined != ()))


def _terms(contract: ContractFacts, state: _State) -> Terms:
    return Terms(
        start_date=contract.start_date,
        end_date=state.end_date,
        original_end_date=contract.original_end_date,
        notice_months=contract.notice_months,
        remaining_option_months=tuple(o.months for o in state.remaining),
        award_date=contract.award_date,
        ending=state.ending,
    )


def current_state(contract: ContractFacts, today: date | None = None) -> _State:
    """The terms as the register holds them now; with ``today``, options that have
    lapsed by then (the contract has ended) no longer count towards the maximum extent."""
    ending = next((a for a in reversed(contract.amendments) if a.kind in ENDING_KINDS), None)
    state = _State(
        end_date=contract.end_date,
        value=contract.total_value,
        remaining=tuple(o for o in contract.options if o.state == OptionState.AVAILABLE),
        ending=Ending(kind=ending.kind, effective_date=ending.effective_date)  # type: ignore[arg-type]
        if ending is not None
        else None,
        amendments=contract.amendments,
    )
    if today is not None and options_lapsed(_terms(contract, state), today):
        state = replace(state, remaining=())
    return state


def current_status(contract: ContractFacts, today: date) -> str:
    return STATUS_MAP[derive_status(_terms(contract, current_state(contract)), today)]


# -- the release documents ------------------------------------------------------------------


def _reference(org: OrgFacts, settings: Publishing) -> dict[str, Any]:
    return {"id": org.identifier(settings.ocid_prefix), "name": org.name}


def _parties(contract: ContractFacts, settings: Publishing) -> list[dict[str, Any]]:
    roles: dict[int, list[str]] = {}
    orgs: dict[int, OrgFacts] = {}
    for org, role in (
        (contract.lead_commissioner, "buyer"),
        *((partner, "buyer") for partner in contract.partner_commissioners),
        (contract.provider, "supplier"),
        *((funder, "funder") for funder in contract.funders),
    ):
        orgs.setdefault(org.id, org)
        if role not in roles.setdefault(org.id, []):
            roles[org.id].append(role)
    parties = []
    for org_id, org in orgs.items():
        party: dict[str, Any] = {**_reference(org, settings), "roles": roles[org_id]}
        registered = org.registered_identifier()
        if registered is not None:
            party["identifier"] = {"scheme": registered[0], "id": registered[1]}
        parties.append(party)
    return parties


def _milestone(milestone: MilestoneFacts, today: date) -> dict[str, Any]:
    item: dict[str, Any] = {
        "id": str(milestone.id),
        "title": milestone.title,
        "dueDate": start_moment(milestone.due_date),
    }
    if milestone.met_on is not None:
        item["status"] = "met"
        item["dateMet"] = start_moment(milestone.met_on)
    else:
        item["status"] = "notMet" if milestone.due_date < today else "scheduled"
    return item


def _planning(contract: ContractFacts, settings: Publishing, today: date) -> dict[str, Any]:
    planning: dict[str, Any] = {}
    if contract.funding:
        total = sum((line.amount for line in contract.funding), Decimal(0))
        planning["budget"] = {
            "id": f"{ocid(settings, contract.id)}-funding",
            "description": "Funding recorded in the register, by funder, funding stream and financial year",
            "amount": value(total),
            # The Budget Breakdown extension: one entry per funding line.
            "budgetBreakdown": [
                {
                    "id": str(line.id),
                    "description": f"{line.stream}, {line.financial_year}",
                    "amount": value(line.amount),
                    "period": {
                        "startDate": start_moment(financial_year_bounds(line.financial_year)[0]),
                        "endDate": end_moment(financial_year_bounds(line.financial_year)[1]),
                    },
                    "sourceParty": _reference(line.funder, settings),
                }
                for line in contract.funding
            ],
        }
    # Milestones up to the award are the procurement; later ones belong to the contract.
    before_award = [
        m for m in contract.milestones if contract.award_date and m.due_date <= contract.award_date
    ]
    if before_award:
        planning["milestones"] = [_milestone(m, today) for m in before_award]
    return planning


def _amendment_description(contract: ContractFacts, amendment: AmendmentFacts) -> str:
    old_end, new_end = amendment.old_end_date, amendment.new_end_date
    if amendment.kind == AmendmentKind.CORRECTION:
        corrected = next((a for a in contract.amendments if a.id == amendment.corrects_id), None)
        what = (
            f"the {corrected.kind} of {day_text(corrected.effective_date)} (amendment {corrected.id})"
            if corrected is not None
            else f"amendment {amendment.corrects_id}"
        )
        return (
            f"Corrects the record of {what}, which stays as published; its reason now reads as this "
            "amendment's rationale. The dates and value it set are unchanged"
        )
    if amendment.kind == AmendmentKind.EXTENSION:
        option = next((o for o in contract.options if o.id == amendment.option_id), None)
        taken = (
            f"Extension option {option.sequence} ({count_text(option.months, 'month')}) taken"
            if option
            else "Extended"
        )
        if old_end and new_end:
            return f"{taken}: the end date moves from {day_text(old_end)} to {day_text(new_end)}"
        return taken
    if amendment.kind == AmendmentKind.VALUE_CHANGE and amendment.new_value is not None:
        before = money(amendment.old_value) if amendment.old_value is not None else "its earlier value"
        return f"Total value changed from {before} to {money(amendment.new_value)}"
    if amendment.kind in ENDING_KINDS:
        verb = "Terminated" if amendment.kind == AmendmentKind.TERMINATION else "Decommissioned"
        was = f" (it was due to end on {day_text(old_end)})" if old_end else ""
        return f"{verb}: the contract ends on {day_text(amendment.effective_date)}{was}"
    return "Variation to the contract"


def _release(
    contract: ContractFacts,
    settings: Publishing,
    today: date,
    *,
    release_id: str,
    on: date,
    tags: Sequence[str],
    state: _State,
    status: str,
    amendments: list[dict[str, Any]],
) -> dict[str, Any]:
    assert contract.award_date is not None  # the readiness checks ask for it first
    initial = _State(
        end_date=contract.original_end_date,
        value=_initial_value(contract),
        remaining=contract.options,
    )
    award_period = {
        "startDate": start_moment(contract.start_date),
        "endDate": end_moment(initial.end_date),
        "maxExtentDate": end_moment(
            maximum_extent_date(initial.end_date, [o.months for o in contract.options])
        ),
    }
    awarded: dict[str, Any] = {
        "id": str(contract.id),
        "title": contract.title,
        "status": "pending" if status == "pending" else "active",
        "date": start_moment(contract.award_date),
        "value": value(initial.value),
        "suppliers": [_reference(contract.provider, settings)],
        "contractPeriod": award_period,
    }
    agreement: dict[str, Any] = {
        "id": str(contract.id),
        "awardID": str(contract.id),
        "title": contract.title,
    }
    if contract.description:
        agreement["description"] = contract.description
    agreement["status"] = status
    agreement["period"] = {
        "startDate": start_moment(contract.start_date),
        "endDate": end_moment(state.end_date),
        "maxExtentDate": end_moment(maximum_extent_date(state.end_date, [o.months for o in state.remaining])),
    }
    agreement["value"] = value(state.value)
    after_award = [m for m in contract.milestones if m.due_date > contract.award_date]
    if after_award:
        agreement["milestones"] = [_milestone(m, today) for m in after_award]
    if amendments:
        agreement["amendments"] = amendments
    release: dict[str, Any] = {
        "ocid": ocid(settings, contract.id),
        "id": release_id,
        "date": start_moment(on),
        "tag": list(tags),
        "initiationType": "tender",
        "language": "en",
        "parties": _parties(contract, settings),
        "buyer": _reference(contract.lead_commissioner, settings),
    }
    planning = _planning(contract, settings, today)
    if planning:
        release["planning"] = planning
    release["awards"] = [awarded]
    release["contracts"] = [agreement]
    return release


def releases(contract: ContractFacts, settings: Publishing, today: date) -> list[dict[str, Any]]:
    """Every release of the contract's history, oldest first."""
    if contract.award_date is None:
        raise ValueError(f"{contract.reference} has no award date; check readiness first")
    prefix = ocid(settings, contract.id)
    state = _State(
        end_date=contract.original_end_date,
        value=_initial_value(contract),
        remaining=contract.options,
    )
    # A contract awarded after today (the pipeline) is announced as pending, dated today.
    on = min(contract.award_date, today)
    status = STATUS_MAP[derive_status(_terms(contract, state), on)]
    release_id = f"{prefix}-award"
    out = [
        _release(
            contract,
            settings,
            today,
            release_id=release_id,
            on=on,
            tags=("award", "contract"),
            state=state,
            status=status,
            amendments=[],
        )
    ]
    entries: list[dict[str, Any]] = []
    events = _events(contract, today)
    for index, event in enumerate(events, start=1):
        # Never before the release it follows, never after today.
        on = min(max(event.on, on), today)
        state = _apply(contract, state, event)
        if index == len(events):
            # The register is the truth about the present; replaying it must agree.
            state = replace(current_state(contract, today), amendments=state.amendments)
        previous, release_id = release_id, f"{prefix}-{event.suffix}"
        if event.amendment is not None:
            entries.append(
                {
                    "id": str(event.amendment.id),
                    "date": start_moment(event.amendment.effective_date),
                    "rationale": event.amendment.rationale,
                    "description": _amendment_description(contract, event.amendment),
                    "amendsReleaseID": previous,
                    "releaseID": release_id,
                }
            )
        status = STATUS_MAP[derive_status(_terms(contract, state), on)]
        tags = event.tags + (("contractTermination",) if status == "terminated" else ())
        out.append(
            _release(
                contract,
                settings,
                today,
                release_id=release_id,
                on=on,
                tags=tags,
                state=state,
                status=status,
                amendments=list(entries),
            )
        )
    if not events:
        state = current_state(contract, today)
    now = STATUS_MAP[derive_status(_terms(contract, state), today)]
    if now == "terminated" and status != "terminated":
        # Ended by the calendar: the day a served ending took effect, or the day after expiry.
        ended = state.ending.effective_date if state.ending else state.end_date + _ONE_DAY
        out.append(
            _release(
                contract,
                settings,
                today,
                release_id=f"{prefix}-termination",
                on=min(max(ended, on), today),
                tags=("contractTermination",),
                state=state,
                status="terminated",
                amendments=list(entries),
            )
        )
    return out


def release_package(
    releases_: Sequence[dict[str, Any]], settings: Publishing, *, uri: str, published: datetime
) -> dict[str, Any]:
    package: dict[str, Any] = {
        "uri": uri,
        "version": OCDS_VERSION,
        "publishedDate": published.isoformat(timespec="seconds"),
        "publisher": {"name": settings.publisher},
        "license": settings.license_url,
    }
    if any("budget" in r.get("planning", {}) for r in releases_):
        package["extensions"] = [BUDGET_BREAKDOWN_EXTENSION]
    package["releases"] = list(releases_)
    return package
