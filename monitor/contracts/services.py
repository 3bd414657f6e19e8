"""Writes to the register. Each validates everything first, collects every
message into one ValidationFailed, and leaves committing to the caller's
single transaction (`db.transaction()`), so a failure changes nothing."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from monitor.auth.models import Organisation, OrganisationKind, Role, User
from monitor.clock import today as clock_today
from monitor.contracts.access import require_change
from monitor.contracts.dates import offered_options, recompute_total_value, terms_of
from monitor.contracts.models import (
    ENDING_KINDS,
    AgreementType,
    Amendment,
    AmendmentKind,
    Category,
    Cohort,
    Contract,
    ContractCohort,
    ExtensionOption,
    FundingLine,
    Milestone,
    OptionState,
    ServiceType,
)
from monitor.contracts.periods import FINANCIAL_YEAR_HINT, parse_financial_year
from monitor.contracts.renewal import extend_end, options_lapsed
from monitor.errors import ValidationFailed
from monitor.formatting import day_text

MAX_MONEY = Decimal("1000000000")


@dataclass
class ContractFields:
    reference: str
    title: str
    service_type: str
    category: str
    agreement_type: str
    provider_id: int | None
    lead_commissioner_id: int | None
    start_date: date | None
    end_date: date | None
    notice_period_months: int | None
    annual_value: Decimal | None
    # The value of the initial term as awarded; the total in force is computed from it.
    initial_value: Decimal | None
    description: str = ""
    partner_commissioner_ids: list[int] = field(default_factory=list)
    cohorts: list[str] = field(default_factory=list)
    award_date: date | None = None
    contract_manager: str = ""
    # Lengths in months of each extension option, in order (1+1 years: [12, 12]).
    option_months: list[int] = field(default_factory=list)


@dataclass
class AmendmentFields:
    kind: str
    effective_date: date | None
    rationale: str
    approved_by: str
    board_minute_reference: str = ""
    new_end_date: date | None = None
    new_value: Decimal | None = None
    # Recorded ahead of its date on purpose; only then may the date be after today.
    planned: bool = False


@dataclass
class FundingFields:
    funder_id: int | None
    funding_stream: str
    financial_year: str
    amount: Decimal | None


def _money_error(value: Decimal | None, label: str) -> str | None:
    if value is None:
        return f"Enter the {label} in pounds, like 250000"
    if value < 0:
        return f"The {label} cannot be negative"
    if value >= MAX_MONEY:
        return f"The {label} must be less than £1,000,000,000"
    if value.as_tuple().exponent < -2:  # type: ignore[operator]
        return f"The {label} can have at most 2 decimal places (pence)"
    return None


def _organisation(session: Session, org_id: int | None, kind: OrganisationKind) -> Organisation | None:
    if org_id is None:
        return None
    organisation = session.get(Organisation, org_id)
    if organisation is None or organisation.kind != kind:
        return None
    return organisation


def _check_contract_fields(
    session: Session, user: User, fields: ContractFields, existing: Contract | None
) -> dict[str, str]:
    errors: dict[str, str] = {}
    reference = fields.reference.strip()
    if not reference:
        errors["reference"] = "Enter the contract reference, like LBBD-DV-001"
    elif len(reference) > 40:
        errors["reference"] = "The contract reference must be 40 characters or fewer"
    else:
        clash = select(Contract.id).where(func.lower(Contract.reference) == reference.lower())
        if existing is not None:
            clash = clash.where(Contract.id != existing.id)
        if session.scalar(clash) is not None:
            errors["reference"] = (
                f"A contract with the reference {reference} already exists; enter a different one"
            )
    if not fields.title.strip():
        errors["title"] = "Enter the service title"
    elif len(fields.title.strip()) > 200:
        errors["title"] = "The service title must be 200 characters or fewer"
    if fields.service_type not in ServiceType.__members__.values():
        errors["service_type"] = "Choose the type of service"
    if fields.category not in Category.__members__.values():
        errors["category"] = "Choose core, supporting or supplementary"
    if fields.agreement_type not in AgreementType.__members__.values():
        errors["agreement_type"] = "Choose contract, grant or SLA"
    unknown_cohorts = [c for c in fields.cohorts if c not in Cohort.__members__.values()]
    if unknown_cohorts:
        errors["cohorts"] = f"Choose cohorts from the list; unknown: {', '.join(unknown_cohorts)}"
    if _organisation(session, fields.provider_id, OrganisationKind.PROVIDER) is None:
        errors["provider_id"] = "Choose the provider from the list of provider organisations"
    lead = _organisation(session, fields.lead_commissioner_id, OrganisationKind.COMMISSIONER)
    if lead is None:
        errors["lead_commissioner_id"] = "Choose the lead commissioner from the list of commissioners"
    for partner_id in fields.partner_commissioner_ids:
        if _organisation(session, partner_id, OrganisationKind.COMMISSIONER) is None:
            errors["partner_commissioner_ids"] = "Choose partner commissioners from the list of commissioners"
        elif partner_id == fields.lead_commissioner_id:
            errors["partner_commissioner_ids"] = "The lead commissioner cannot also be a partner commissioner"
    commissioner_ids = {fields.lead_commissioner_id, *fields.partner_commissioner_ids}
    if user.role == Role.COMMISSIONER and lead is not None and user.organisation_id not in commissioner_ids:
        errors["lead_commissioner_id"] = (
            "Your organisation must be the lead or a partner commissioner of contracts you record"
        )
    if fields.start_date is None:
        errors["start_date"] = "Enter the start date, like 4 11 2013"
    if fields.end_date is None:
        errors["end_date"] = "Enter the end date of the initial term, like 3 11 2014"
    if fields.start_date and fields.end_date and fields.end_date < fields.start_date:
        errors["end_date"] = "The end date must be the same as or after the start date"
    if fields.award_date and fields.start_date and fields.award_date > fields.start_date:
        errors["award_date"] = "The award date must be on or before the start date"
    if fields.notice_period_months is None or not 0 <= fields.notice_period_months <= 60:
        errors["notice_period_months"] = "Enter the notice period as a whole number of months from 0 to 60"
    for name, label in (("annual_value", "annual value"), ("initial_value", "value of the initial term")):
        message = _money_error(getattr(fields, name), label)
        if message:
            errors[name] = message
    if any(not 1 <= months <= 120 for months in fields.option_months):
        errors["option_months"] = (
            "Enter each extension option as a number of months from 1 to 120, like 12, 12"
        )
    if len(fields.contract_manager) > 200:
        errors["contract_manager"] = "The contract manager must be 200 characters or fewer"
    return errors


def _apply_contract_fields(session: Session, contract: Contract, fields: ContractFields) -> None:
    contract.reference = fields.reference.strip()
    contract.title = fields.title.strip()
    contract.description = fields.description.strip()
    contract.service_type = fields.service_type
    contract.category = fields.category
    contract.agreement_type = fields.agreement_type
    contract.provider_id = fields.provider_id  # type: ignore[assignment]
    contract.lead_commissioner_id = fields.lead_commissioner_id  # type: ignore[assignment]
    contract.partner_commissioners = [
        session.get_one(Organisation, org_id) for org_id in dict.fromkeys(fields.partner_commissioner_ids)
    ]
    contract.start_date = fields.start_date  # type: ignore[assignment]
    contract.award_date = fields.award_date
    contract.notice_period_months = fields.notice_period_months  # type: ignore[assignment]
    contract.annual_value = fields.annual_value  # type: ignore[assignment]
    contract.initial_value = fields.initial_value  # type: ignore[assignment]
    contract.contract_manager = fields.contract_manager.strip()
    wanted = sorted(set(fields.cohorts))
    if wanted != contract.cohorts:
        contract.cohort_rows = [ContractCohort(cohort=c) for c in wanted]


def create_contract(session: Session, user: User, fields: ContractFields) -> Contract:
    if user.role != Role.COMMISSIONER:
        raise ValidationFailed({"lead_commissioner_id": "Only commissioners can record contracts"})
    errors = _check_contract_fields(session, user, fields, None)
    if errors:
        raise ValidationFailed(errors)
    contract = Contract(original_end_date=fields.end_date, end_date=fields.end_date)
    _apply_contract_fields(session, contract, fields)
    contract.options = [
        ExtensionOption(sequence=number, length_months=months)
        for number, months in enumerate(fields.option_months, start=1)
    ]
    recompute_total_value(contract)
    session.add(contract)
    session.flush()
    return contract


def update_contract(session: Session, user: User, contract: Contract, fields: ContractFields) -> Contract:
    require_change(user, contract)
    errors = _check_contract_fields(session, user, fields, contract)
    end_moved = any(a.new_end_date is not None for a in contract.amendments)
    if end_moved and fields.end_date != contract.original_end_date:
        errors["end_date"] = (
            "The end date cannot be edited after an extension or ending has been recorded; "
            "record an amendment instead"
        )
    if errors:
        raise ValidationFailed(errors)
    _apply_contract_fields(session, contract, fields)
    if not end_moved:
        contract.original_end_date = fields.end_date  # type: ignore[assignment]
        contract.end_date = fields.end_date  # type: ignore[assignment]
    recompute_total_value(contract)
    session.flush()
    return contract


# Enough to mean something in board papers: "x" is not a reason or an approver.
MIN_REASON_CHARACTERS = 8
MIN_APPROVER_LETTERS = 3


def _check_record(fields: AmendmentFields, what: str) -> dict[str, str]:
    """The record of a decision: who approved it and why, with minimum content."""
    errors: dict[str, str] = {}
    rationale = " ".join(fields.rationale.split())
    if not rationale:
        errors["rationale"] = f"Enter the reason for the {what}, as it will appear in the board papers"
    elif len(rationale) < MIN_REASON_CHARACTERS or len(rationale.split()) < 2:
        errors["rationale"] = (
            f"Enter the reason for the {what} in words a board can read, at least two words and "
            f"{MIN_REASON_CHARACTERS} characters, like Extended while provision for 2014/15 is agreed"
        )
    approver = fields.approved_by.strip()
    if not approver:
        errors["approved_by"] = f"Enter who approved the {what}, like Health and Wellbeing Board"
    elif sum(ch.isalpha() for ch in approver) < MIN_APPROVER_LETTERS:
        errors["approved_by"] = (
            f"Enter the name of the body or person who approved the {what}, like Health and Wellbeing Board"
        )
    if len(fields.board_minute_reference.strip()) > 100:
        errors["board_minute_reference"] = "The board minute reference must be 100 characters or fewer"
    return errors


def _check_date(contract: Contract, fields: AmendmentFields, today: date) -> dict[str, str]:
    """The date falls within the contract's life and, unless planned, not after today."""
    extension = fields.kind == AmendmentKind.EXTENSION
    if fields.effective_date is None:
        return {
            "effective_date": "Enter the date of the decision, like 26 9 2013"
            if extension
            else "Enter the date the amendment takes effect, like 31 3 2014"
        }
    on = fields.effective_date
    label = "decision" if extension else "amendment"
    life_starts = contract.award_date or contract.start_date
    since = "it was awarded" if contract.award_date else "it started"
    if fields.kind in ENDING_KINDS:
        if on < contract.start_date:
            return {"effective_date": "The contract cannot end before it starts"}
        if on > contract.end_date:
            return {
                "effective_date": f"The ending date must be on or before the current end date, "
                f"{day_text(contract.end_date)}"
            }
    elif on < life_starts or on > contract.end_date:
        return {
            "effective_date": f"The date of the {label} must be within the contract's life: "
            f"from {day_text(life_starts)} (when {since}) to {day_text(contract.end_date)} (when it ends)"
        }
    if fields.planned and on <= today:
        return {
            "effective_date": f"A planned {label} takes effect after today ({day_text(today)}); "
            "untick planned if it has already happened"
        }
    if not fields.planned and on > today:
        return {
            "effective_date": f"The date of the {label} cannot be after today ({day_text(today)}); "
            "if it is agreed to take effect later, record it as planned"
        }
    return {}


def _amendment(kind: str, fields: AmendmentFields, user: User, **changes: Any) -> Amendment:
    """An amendment of this kind as `user` records it from checked fields: the record of
    the decision (reason, approver, minute reference) trimmed, with what it `changes`."""
    return Amendment(
        kind=kind,
        effective_date=fields.effective_date,
        rationale=fields.rationale.strip(),
        approved_by=fields.approved_by.strip(),
        board_minute_reference=fields.board_minute_reference.strip(),
        recorded_by_id=user.id,
        planned=fields.planned,
        **changes,
    )


def _available(contract: Contract) -> list[ExtensionOption]:
    return [o for o in contract.options if o.state == OptionState.AVAILABLE]


def check_extension(
    contract: Contract, option_id: int | None, fields: AmendmentFields, today: date
) -> dict[str, str]:
    """Every reason exercising an extension would be refused, at once.

    Options lapse when the contract ends (renewal.options_lapsed), so the decision
    must be dated on or before the current end. A decision taken in time may be
    recorded later, which is why the test is on its date rather than on today.
    """
    errors = _check_record(fields, "extension")
    if contract.ending is None:  # once ended, that is the one thing to say about its dates
        errors.update(_check_date(contract, fields, today))
    available = _available(contract)
    option = next((o for o in available if option_id is None or o.id == option_id), None)
    decided = fields.effective_date or today
    if contract.ending is not None:
        errors["option_id"] = "This contract has been terminated or decommissioned; it cannot be extended"
    elif not available:
        errors["option_id"] = "There are no extension options left on this contract"
    elif options_lapsed(terms_of(contract), min(decided, today)):
        errors["option_id"] = (
            f"The contract ended on {day_text(contract.end_date)}, so its extension options lapsed then; "
            "an extension must be decided on or before the end date"
        )
    elif option is None:
        errors["option_id"] = "Choose one of the extension options that is still available"
    elif option is not available[0]:
        errors["option_id"] = f"Exercise option {available[0].sequence} first; options are taken in order"
    return errors


def exercise_extension(
    session: Session, user: User, contract: Contract, option_id: int | None, fields: AmendmentFields
) -> Amendment:
    """Take up the next (or a named) available option: the end date moves on."""
    require_change(user, contract)
    today = clock_today()
    errors = check_extension(contract, option_id, fields, today)
    if errors:
        raise ValidationFailed(errors)
    option = next(o for o in _available(contract) if option_id is None or o.id == option_id)
    new_end = extend_end(contract.end_date, option.length_months)
    amendment = _amendment(
        AmendmentKind.EXTENSION.value,
        fields,
        user,
        old_end_date=contract.end_date,
        new_end_date=new_end,
        extension_option=option,
    )
    option.state = OptionState.EXERCISED.value
    contract.end_date = new_end
    contract.amendments.append(amendment)
    recompute_total_value(contract)
    session.flush()
    return amendment


def decline_option(session: Session, user: User, contract: Contract, option_id: int) -> ExtensionOption:
    require_change(user, contract)
    today = clock_today()
    option = next((o for o in offered_options(contract, today) if o.id == option_id), None)
    if option is None:
        if options_lapsed(terms_of(contract), today):
            raise ValidationFailed(
                {"option_id": "This contract has ended or is ending, so its extension options have lapsed"}
            )
        raise ValidationFailed({"option_id": "Only an available extension option can be declined"})
    # Later options depend on this one being taken, so they go too.
    for later in contract.options:
        if later.sequence >= option.sequence and later.state == OptionState.AVAILABLE:
            later.state = OptionState.DECLINED.value
    session.flush()
    return option


def check_amendment(contract: Contract, fields: AmendmentFields, today: date) -> dict[str, str]:
    """Every reason recording a variation, value change or ending would be refused, at once."""
    if fields.kind == AmendmentKind.EXTENSION:
        return {"kind": "Use 'Exercise an extension' to extend the contract with an option"}
    errors = {**_check_record(fields, "amendment"), **_check_date(contract, fields, today)}
    if fields.kind not in AmendmentKind.__members__.values() or fields.kind == AmendmentKind.CORRECTION:
        errors["kind"] = "Choose the kind of amendment"
    elif contract.ending is not None:
        errors["kind"] = "This contract has already been terminated or decommissioned"
    if fields.kind == AmendmentKind.VALUE_CHANGE:
        message = _money_error(fields.new_value, "new total value")
        if message:
            errors["new_value"] = message
    return errors


def record_amendment(session: Session, user: User, contract: Contract, fields: AmendmentFields) -> Amendment:
    """Record a variation, value change, termination or decommissioning."""
    require_change(user, contract)
    errors = check_amendment(contract, fields, clock_today())
    if errors:
        raise ValidationFailed(errors)
    amendment = _amendment(fields.kind, fields, user)
    if fields.kind == AmendmentKind.VALUE_CHANGE:
        amendment.old_value = contract.total_value
        amendment.new_value = fields.new_value
    if fields.kind in ENDING_KINDS:
        amendment.old_end_date = contract.end_date
        amendment.new_end_date = fields.effective_date
        contract.end_date = fields.effective_date  # type: ignore[assignment]
        for option in contract.options:
            if option.state == OptionState.AVAILABLE:
                option.state = OptionState.LAPSED.value
    contract.amendments.append(amendment)
    recompute_total_value(contract)
    session.flush()
    return amendment


def correct_amendment(
    session: Session,
    user: User,
    contract: Contract,
    amendment: Amendment,
    *,
    rationale: str | None = None,
    approved_by: str | None = None,
    board_minute_reference: str | None = None,
) -> Amendment:
    """Correct the record of a decision with a correcting amendment that names it.

    The amendment itself stays as it was recorded, so the history and open data show
    both; what it changed (dates, values) stays too: a changed decision is a new one.
    Returns the correction.
    """
    require_change(user, contract)
    if amendment.kind == AmendmentKind.CORRECTION:
        raise ValidationFailed({"amendment_id": "Correct the original amendment, not a correction to it"})
    current = amendment.latest_correction or amendment
    corrected = AmendmentFields(
        kind=amendment.kind,
        effective_date=amendment.effective_date,
        rationale=current.rationale if rationale is None else rationale,
        approved_by=current.approved_by if approved_by is None else approved_by,
        board_minute_reference=(
            current.board_minute_reference if board_minute_reference is None else board_minute_reference
        ),
    )
    what = "extension" if amendment.kind == AmendmentKind.EXTENSION else "amendment"
    errors = _check_record(corrected, what)
    unchanged = (
        corrected.rationale.strip() == current.rationale
        and corrected.approved_by.strip() == current.approved_by
        and corrected.board_minute_reference.strip() == current.board_minute_reference
    )
    if unchanged and not errors:
        errors["rationale"] = (
            "Change the reason, the approver or the minute reference; the correction is the same as the record"
        )
    if errors:
        raise ValidationFailed(errors)
    correction = _amendment(AmendmentKind.CORRECTION.value, corrected, user, corrects_id=amendment.id)
    contract.amendments.append(correction)
    session.flush()
    # Set by id, not through the relationship, so the original is only read, never touched.
    session.expire(amendment, ["corrections"])
    return correction


def _check_funding(session: Session, contract: Contract, fields: FundingFields, line_id: int | None) -> str:
    errors: dict[str, str] = {}
    funder = session.get(Organisation, fields.funder_id) if fields.funder_id is not None else None
    if funder is None or funder.kind == OrganisationKind.PROVIDER:
        errors["funder_id"] = "Choose the funder from the list of funders and commissioners"
    stream = fields.funding_stream.strip()
    if not stream:
        errors["funding_stream"] = "Enter the funding stream, like Public Health Grant"
    elif len(stream) > 120:
        errors["funding_stream"] = "The funding stream must be 120 characters or fewer"
    financial_year = parse_financial_year(fields.financial_year or "")
    if financial_year is None:
        errors["financial_year"] = FINANCIAL_YEAR_HINT
    message = _money_error(fields.amount, "amount")
    if message:
        errors["amount"] = message
    if not errors:
        duplicate = select(FundingLine.id).where(
            FundingLine.contract_id == contract.id,
            FundingLine.funder_id == fields.funder_id,
            func.lower(FundingLine.funding_stream) == stream.lower(),
            FundingLine.financial_year == financial_year,
        )
        if line_id is not None:
            duplicate = duplicate.where(FundingLine.id != line_id)
        if session.scalar(duplicate) is not None:
            errors["funding_stream"] = (
                f"This funder already has a {stream} line for {financial_year}; change that line instead"
            )
    if errors:
        raise ValidationFailed(errors)
    return financial_year  # type: ignore[return-value]


def add_funding_line(session: Session, user: User, contract: Contract, fields: FundingFields) -> FundingLine:
    require_change(user, contract)
    financial_year = _check_funding(session, contract, fields, None)
    line = FundingLine(
        funder_id=fields.funder_id,
        funding_stream=fields.funding_stream.strip(),
        financial_year=financial_year,
        amount=fields.amount,
    )
    contract.funding_lines.append(line)
    session.flush()
    return line


def update_funding_line(
    session: Session, user: User, contract: Contract, line: FundingLine, fields: FundingFields
) -> FundingLine:
    require_change(user, contract)
    financial_year = _check_funding(session, contract, fields, line.id)
    line.funder_id = fields.funder_id  # type: ignore[assignment]
    line.funding_stream = fields.funding_stream.strip()
    line.financial_year = financial_year
    line.amount = fields.amount  # type: ignore[assignment]
    session.flush()
    return line


def delete_funding_line(session: Session, user: User, contract: Contract, line: FundingLine) -> None:
    require_change(user, contract)
    # Out of the loaded collection too, so the rest of the request sees it gone.
    contract.funding_lines.remove(line)
    session.delete(line)
    session.flush()


def add_milestone(
    session: Session, user: User, contract: Contract, title: str, due: date | None
) -> Milestone:
    require_change(user, contract)
    errors: dict[str, str] = {}
    if not title.strip():
        errors["title"] = "Enter the milestone, like Award contract"
    if due is None:
        errors["due_date"] = "Enter the date the milestone is due, like 30 9 2013"
    if errors:
        raise ValidationFailed(errors)
    milestone = Milestone(title=title.strip(), due_date=due)
    contract.milestones.append(milestone)
    session.flush()
    return milestone
