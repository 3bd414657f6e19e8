"""360Giving grant records for services paid as grants.

Pure functions: no Flask, database or clock. A grant's identifier is
``<GIVING_PREFIX>-<contract id>``; organisations carry their charity, company
or NHS number as an org-id where the register holds one, otherwise an
identifier under the publisher's own 360Giving prefix, as 360Giving's
identifier guidance allows.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, timedelta
from typing import Any

from dateutil.relativedelta import relativedelta

from monitor.contracts.models import AgreementType
from monitor.opendata.facts import ContractFacts, OrgFacts
from monitor.opendata.ocds import CURRENCY, number
from monitor.opendata.settings import Publishing

GIVING_VERSION = "1.4"


def is_grant(contract: ContractFacts) -> bool:
    return contract.agreement_type == AgreementType.GRANT


def grant_id(settings: Publishing, contract_id: int) -> str:
    return f"{settings.giving_prefix}-{contract_id}"


def _organisation(org: OrgFacts, settings: Publishing) -> dict[str, Any]:
    item: dict[str, Any] = {"id": org.identifier(settings.giving_prefix), "name": org.name}
    if org.charity_number:
        item["charityNumber"] = org.charity_number.strip()
    if org.company_number:
        item["companyNumber"] = org.company_number.strip()
    return item


def _whole_months(start: date, end: date) -> int | None:
    """The length of an inclusive period in months, when it is a whole number of them."""
    span = relativedelta(end + timedelta(days=1), start)
    if span.days:
        return None
    return span.years * 12 + span.months


def grant(contract: ContractFacts, settings: Publishing) -> dict[str, Any]:
    if contract.award_date is None:
        raise ValueError(f"{contract.reference} has no award date; check readiness first")
    planned: dict[str, Any] = {
        "startDate": contract.start_date.isoformat(),
        "endDate": contract.end_date.isoformat(),
    }
    months = _whole_months(contract.start_date, contract.end_date)
    if months is not None:
        planned["duration"] = months
    # The grant-maker first, then every other body whose money pays for it.
    funders = {contract.lead_commissioner.id: contract.lead_commissioner}
    for funder in contract.funders:
        funders.setdefault(funder.id, funder)
    return {
        "id": grant_id(settings, contract.id),
        "title": contract.title,
        "description": contract.description,
        "currency": CURRENCY,
        "amountAwarded": number(contract.total_value),
        "awardDate": contract.award_date.isoformat(),
        "plannedDates": [planned],
        "recipientOrganization": [_organisation(contract.provider, settings)],
        "fundingOrganization": [_organisation(org, settings) for org in funders.values()],
    }


def grant_package(grants: Sequence[dict[str, Any]], settings: Publishing, *, issued: date) -> dict[str, Any]:
    return {
        "version": GIVING_VERSION,
        "publisher": {"name": settings.publisher},
        "license": settings.license_url,
        "issued": issued.isoformat(),
        "grants": list(grants),
    }
