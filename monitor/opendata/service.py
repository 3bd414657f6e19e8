"""Open data exports for the web pages, the API and `flask export`.

Every export is checked twice before anyone gets it: the readiness checks
(plain English, per register field), then the schema, on the exact JSON text
that will be served. Either failure raises one ExportRefused listing every
problem with the contract it belongs to, so a register export says at once
everything that must be filled in.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time
from typing import Any

from flask import current_app
from sqlalchemy import or_, select
from sqlalchemy.orm import Session, selectinload

from monitor.audit import AuditEvent
from monitor.auth.models import User, partnership_members
from monitor.contracts.access import visible_contracts
from monitor.contracts.models import AgreementType, Contract, FundingLine, OptionState, contract_partners
from monitor.formatting import london_time
from monitor.opendata import giving, ocds, ready
from monitor.opendata.facts import ContractFacts, facts_of
from monitor.opendata.settings import Publishing, publishing_from
from monitor.opendata.validate import giving_package_problems, ocds_package_problems
from monitor.reports.audience import Audience, slug

JSON_MIMETYPE = "application/json"


@dataclass(frozen=True)
class ExportProblem:
    reference: str
    field: str
    message: str


class ExportRefused(Exception):
    """The export would not be valid; every problem, with its contract."""

    def __init__(self, problems: Sequence[ExportProblem]) -> None:
        self.problems = list(problems)
        super().__init__("; ".join(f"{p.reference}: {p.message}" for p in self.problems))

    def errors(self, *, by_contract: bool) -> dict[str, str]:
        """{field: message} for the API; a register export keys fields by contract."""
        errors: dict[str, str] = {}
        for problem in self.problems:
            key = f"{problem.reference} {problem.field}" if by_contract else problem.field
            message = f"{problem.reference}: {problem.message}" if by_contract else problem.message
            errors.setdefault(key, message)
        return errors


class NothingToPublish(LookupError):
    """No contract (or grant) in the scope asked for; the message says why,
    to follow "Nothing to publish from <these contracts>: "."""


@dataclass(frozen=True)
class Export:
    document: dict[str, Any]
    text: str
    filename: str


def publishing(base_url: str | None = None) -> Publishing:
    """The app's open data settings; `base_url` defaults to SERVICE_URL."""
    config = current_app.config
    return publishing_from(config, base_url if base_url is not None else str(config.get("SERVICE_URL") or ""))


def published_at(today: date) -> datetime:
    """Now, unless the installation runs "as at" a pinned day (the demo)."""
    if current_app.config.get("TODAY"):
        return datetime.combine(today, time(0, 0), ocds.LONDON)
    return datetime.now(ocds.LONDON).replace(microsecond=0)


# -- which contracts ---------------------------------------------------------------------------


def _loaded() -> list[Any]:
    return [
        selectinload(Contract.provider),
        selectinload(Contract.lead_commissioner),
        selectinload(Contract.partner_commissioners),
        selectinload(Contract.options),
        selectinload(Contract.amendments),
        selectinload(Contract.funding_lines).selectinload(FundingLine.funder),
        selectinload(Contract.milestones),
    ]


def contracts_in_scope(session: Session, user: User | None, audience: Audience | None) -> list[Contract]:
    """Contracts the user may see (all, for an operator's command), narrowed to
    those a commissioner or a partnership's members lead or partner."""
    query = select(Contract).options(*_loaded()).order_by(Contract.reference)
    if user is not None:
        query = query.where(visible_contracts(user))
    if audience is not None:
        organisations: Any = (
            select(partnership_members.c.organisation_id).where(
                partnership_members.c.partnership_id == audience.id
            )
            if audience.kind == "partnership"
            else [audience.id]
        )
        partner_of = select(contract_partners.c.contract_id).where(
            contract_partners.c.organisation_id.in_(organisations)
        )
        query = query.where(
            or_(Contract.lead_commissioner_id.in_(organisations), Contract.id.in_(partner_of))
        )
    return list(session.scalars(query).unique())


def _declined_on(session: Session, contracts: Sequence[Contract]) -> dict[int, date]:
    """The day each declined option was recorded as declined, from the audit trail."""
    declined = [o.id for c in contracts for o in c.options if o.state == OptionState.DECLINED]
    if not declined:
        return {}
    events = session.scalars(
        select(AuditEvent)
        .where(
            AuditEvent.entity_type == "extension option",
            AuditEvent.entity_id.in_(declined),
            AuditEvent.action == "update",
        )
        .order_by(AuditEvent.at)
    )
    days: dict[int, date] = {}
    for event in events:
        state = (event.changes or {}).get("state")
        if isinstance(state, list) and state[-1:] == [OptionState.DECLINED.value] and event.entity_id:
            days.setdefault(event.entity_id, london_time(event.at).date())
    return days


def facts_for(session: Session, contracts: Sequence[Contract]) -> list[ContractFacts]:
    declined_on = _declined_on(session, contracts)
    return [facts_of(c, declined_on) for c in contracts]


# -- building and checking ---------------------------------------------------------------------


def _served(document: dict[str, Any]) -> tuple[dict[str, Any], str]:
    """The exact text served, and the document as a reader will parse it."""
    text = json.dumps(document, indent=2, ensure_ascii=False) + "\n"
    parsed: dict[str, Any] = json.loads(text)
    return parsed, text


def _refuse_if(problems: list[ExportProblem]) -> None:
    if problems:
        raise ExportRefused(problems)


def ocds_uri(settings: Publishing, path: str) -> str:
    return f"{settings.base_url}/api/v1/{path.lstrip('/')}"


def ocds_export(
    contracts: Sequence[ContractFacts], settings: Publishing, today: date, *, uri: str, filename: str
) -> Export:
    """One release package for these contracts, validated, or ExportRefused."""
    if not contracts:
        raise NothingToPublish("there are no contracts")
    _refuse_if(
        [ExportProblem(c.reference, p.field, p.message) for c in contracts for p in ready.ocds_problems(c)]
    )
    owners: list[str] = []
    releases: list[dict[str, Any]] = []
    for contract in contracts:
        mine = ocds.releases(contract, settings, today)
        releases += mine
        owners += [contract.reference] * len(mine)
    package = ocds.release_package(releases, settings, uri=uri, published=published_at(today))
    document, text = _served(package)
    _refuse_if(_schema_problems(ocds_package_problems(document), owners, "releases", "OCDS"))
    return Export(document, text, filename)


def giving_export(
    contracts: Sequence[ContractFacts], settings: Publishing, today: date, *, filename: str
) -> Export:
    """One 360Giving package of these grants, validated, or ExportRefused."""
    if not contracts:
        raise NothingToPublish("there are no grants")
    _refuse_if(
        [ExportProblem(c.reference, p.field, p.message) for c in contracts for p in ready.giving_problems(c)]
    )
    package = giving.grant_package([giving.grant(c, settings) for c in contracts], settings, issued=today)
    document, text = _served(package)
    owners = [c.reference for c in contracts]
    _refuse_if(_schema_problems(giving_package_problems(document), owners, "grants", "360Giving"))
    return Export(document, text, filename)


def _schema_problems(
    problems: Sequence[Any], owners: Sequence[str], items: str, standard: str
) -> list[ExportProblem]:
    found = []
    for problem in problems:
        match = re.match(rf"^{items}/(\d+)", problem.path)
        reference = owners[int(match.group(1))] if match and int(match.group(1)) < len(owners) else "package"
        mapped = ready.from_schema(problem, standard)
        found.append(ExportProblem(reference, mapped.field, mapped.message))
    return found


# -- what the web page, the API and the commands ask for ----------------------------------------


def contract_ocds(session: Session, contract: Contract, settings: Publishing, today: date) -> Export:
    (facts,) = facts_for(session, [contract])
    return ocds_export(
        [facts],
        settings,
        today,
        uri=ocds_uri(settings, f"contracts/{contract.id}/ocds"),
        filename=f"ocds-{slug(contract.reference) or contract.id}.json",
    )


def contract_grant(session: Session, contract: Contract, settings: Publishing, today: date) -> Export:
    (facts,) = facts_for(session, [contract])
    return giving_export(
        [facts], settings, today, filename=f"360giving-{slug(contract.reference) or contract.id}.json"
    )


def _scope_query(audience: Audience | None) -> str:
    return f"?{audience.kind}={audience.id}" if audience is not None else ""


def register_ocds(
    session: Session,
    contracts: Sequence[Contract],
    settings: Publishing,
    today: date,
    audience: Audience | None,
) -> Export:
    name = f"-{audience.slug}" if audience else ""
    return ocds_export(
        facts_for(session, contracts),
        settings,
        today,
        uri=ocds_uri(settings, "ocds" + _scope_query(audience)),
        filename=f"ocds{name}-{today.isoformat()}.json",
    )


def register_grants(
    session: Session,
    contracts: Sequence[Contract],
    settings: Publishing,
    today: date,
    audience: Audience | None,
) -> Export:
    grants = [c for c in contracts if c.agreement_type == AgreementType.GRANT]
    if not grants:
        raise NothingToPublish(
            "none of them is paid as a grant, and 360Giving data covers grants only "
            "(the agreement type under Change details)"
        )
    name = f"-{audience.slug}" if audience else ""
    return giving_export(
        facts_for(session, grants), settings, today, filename=f"360giving{name}-{today}.json"
    )


@dataclass(frozen=True)
class Readiness:
    """What the contract page says about publishing the contract."""

    ocds: list[ready.Problem]
    giving: list[ready.Problem]
    notes: list[str]
    is_grant: bool

    @property
    def problems(self) -> list[ready.Problem]:
        """Each field once (OCDS and 360Giving may both ask for the award date)."""
        unique: dict[str, ready.Problem] = {}
        for problem in self.ocds + self.giving:
            unique.setdefault(problem.field, problem)
        return list(unique.values())


def readiness(session: Session, contract: Contract, settings: Publishing) -> Readiness:
    (facts,) = facts_for(session, [contract])
    grant = giving.is_grant(facts)
    return Readiness(
        ocds=ready.ocds_problems(facts),
        giving=ready.giving_problems(facts) if grant else [],
        notes=ready.giving_notes(facts, facts.provider.identifier(settings.giving_prefix)),
        is_grant=grant,
    )
