"""Records as JSON-ready dicts. Money is a string with two decimal places
(never a float) and dates are ISO strings, like 2013-11-04."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from monitor.auth.models import Organisation
from monitor.contracts.dates import renewal_of
from monitor.contracts.models import Amendment, Contract, ExtensionOption, FundingLine, Milestone
from monitor.contracts.renewal import KeyDate, Renewal


def money(value: Decimal | int | None) -> str | None:
    return None if value is None else f"{Decimal(value):.2f}"


def day(value: date | None) -> str | None:
    return None if value is None else value.isoformat()


def moment(value: datetime | None) -> str | None:
    """A stored (naive UTC) timestamp, with its UTC offset made explicit."""
    return None if value is None else value.replace(tzinfo=UTC).isoformat(timespec="seconds")


def organisation(org: Organisation) -> dict[str, Any]:
    return {"id": org.id, "name": org.name}


def _key_date(key_date: KeyDate | None) -> dict[str, Any] | None:
    if key_date is None:
        return None
    return {
        "key": key_date.key,
        "name": key_date.name,
        "on": day(key_date.on),
        "urgency": key_date.urgency.value,
    }


def key_dates(renewal: Renewal) -> dict[str, Any]:
    return {
        "end_date": day(renewal.end_date),
        "maximum_extent_date": day(renewal.maximum_extent_date),
        "last_notice_date": day(renewal.last_notice_date),
        "decision_by": day(renewal.decision_by),
        "reprocurement_start": day(renewal.reprocurement_start),
        "next_key_date": _key_date(renewal.next_key_date),
        "decision_overdue": renewal.decision_overdue,
        "days_to_end": renewal.days_to_end,
    }


def contract_summary(contract: Contract, today: date) -> dict[str, Any]:
    renewal = renewal_of(contract, today)
    return {
        "id": contract.id,
        "reference": contract.reference,
        "title": contract.title,
        "description": contract.description,
        "service_type": contract.service_type,
        "category": contract.category,
        "agreement_type": contract.agreement_type,
        "cohorts": contract.cohorts,
        "provider": organisation(contract.provider),
        "lead_commissioner": organisation(contract.lead_commissioner),
        "partner_commissioners": [organisation(o) for o in contract.partner_commissioners],
        "start_date": day(contract.start_date),
        "original_end_date": day(contract.original_end_date),
        "end_date": day(contract.end_date),
        "award_date": day(contract.award_date),
        "notice_period_months": contract.notice_period_months,
        "annual_value": money(contract.annual_value),
        "total_value": money(contract.total_value),
        "contract_manager": contract.contract_manager,
        "status": renewal.status.value,
        "key_dates": key_dates(renewal),
    }


def contract_detail(contract: Contract, today: date) -> dict[str, Any]:
    return {
        **contract_summary(contract, today),
        "funding_lines": [funding_line(line) for line in contract.funding_lines],
        "extension_options": [extension_option(o) for o in contract.options],
        "amendments": [amendment(a) for a in contract.amendments],
        "milestones": [milestone(m) for m in contract.milestones],
    }


def funding_line(line: FundingLine) -> dict[str, Any]:
    return {
        "id": line.id,
        "contract_id": line.contract_id,
        "funder": organisation(line.funder),
        "funding_stream": line.funding_stream,
        "financial_year": line.financial_year,
        "amount": money(line.amount),
    }


def extension_option(option: ExtensionOption) -> dict[str, Any]:
    return {
        "id": option.id,
        "sequence": option.sequence,
        "length_months": option.length_months,
        "state": option.state,
    }


def amendment(item: Amendment) -> dict[str, Any]:
    return {
        "id": item.id,
        "contract_id": item.contract_id,
        "kind": item.kind,
        "effective_date": day(item.effective_date),
        "rationale": item.rationale,
        "approved_by": item.approved_by,
        "board_minute_reference": item.board_minute_reference,
        "old_end_date": day(item.old_end_date),
        "new_end_date": day(item.new_end_date),
        "old_value": money(item.old_value),
        "new_value": money(item.new_value),
        "extension_option_id": item.extension_option_id,
        "recorded_at": moment(item.recorded_at),
        "planned": item.planned,
        # The link between a correction and what it corrects.
        "corrects_id": item.corrects_id,
        "correction_ids": [c.id for c in item.corrections],
    }


def milestone(item: Milestone) -> dict[str, Any]:
    return {
        "id": item.id,
        "title": item.title,
        "due_date": day(item.due_date),
        "met_on": day(item.met_on),
    }
