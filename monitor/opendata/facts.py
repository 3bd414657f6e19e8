"""What the open data may say about a contract, as plain values.

The register holds things that must never be published: the contract
manager, who approved an amendment, who recorded it, users, returns and
commentary. The exports are built from these facts alone, so nothing else
can leak into them by accident; `facts_of` is the only place that reads the
stored records.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from monitor.auth.models import Organisation
from monitor.contracts.models import Contract
from monitor.formatting import london_time


@dataclass(frozen=True)
class OrgFacts:
    id: int
    name: str
    charity_number: str | None = None
    company_number: str | None = None
    ods_code: str | None = None

    def registered_identifier(self) -> tuple[str, str] | None:
        """(scheme, id) from org-id.guide for the first number the register holds."""
        for scheme, number in (
            ("GB-CHC", self.charity_number),
            ("GB-COH", self.company_number),
            ("GB-NHS", self.ods_code),
        ):
            if number and number.strip():
                return scheme, number.strip()
        return None

    def identifier(self, fallback_prefix: str) -> str:
        """A global org-id where a number is held, else one under our own prefix."""
        registered = self.registered_identifier()
        if registered is not None:
            return f"{registered[0]}-{registered[1]}"
        return f"{fallback_prefix}-org-{self.id}"


@dataclass(frozen=True)
class OptionFacts:
    id: int
    sequence: int
    months: int
    state: str
    # When a declined option was recorded as declined (from the audit trail).
    declined_on: date | None = None


@dataclass(frozen=True)
class AmendmentFacts:
    id: int
    kind: str
    effective_date: date
    recorded_on: date
    rationale: str
    old_end_date: date | None = None
    new_end_date: date | None = None
    old_value: Decimal | None = None
    new_value: Decimal | None = None
    option_id: int | None = None
    # A correction names the amendment whose record it corrects.
    corrects_id: int | None = None


@dataclass(frozen=True)
class FundingFacts:
    id: int
    funder: OrgFacts
    stream: str
    financial_year: str
    amount: Decimal


@dataclass(frozen=True)
class MilestoneFacts:
    id: int
    title: str
    due_date: date
    met_on: date | None = None


@dataclass(frozen=True)
class ContractFacts:
    id: int
    reference: str
    title: str
    description: str
    agreement_type: str
    provider: OrgFacts
    lead_commissioner: OrgFacts
    partner_commissioners: tuple[OrgFacts, ...]
    start_date: date
    original_end_date: date
    end_date: date
    award_date: date | None
    notice_months: int
    total_value: Decimal
    # The initial term as awarded, and the yearly rate extensions and endings move the total by.
    initial_value: Decimal | None = None
    annual_value: Decimal | None = None
    options: tuple[OptionFacts, ...] = ()
    amendments: tuple[AmendmentFacts, ...] = ()
    funding: tuple[FundingFacts, ...] = ()
    milestones: tuple[MilestoneFacts, ...] = ()

    @property
    def funders(self) -> tuple[OrgFacts, ...]:
        """Each funder of a funding line once, in the order first seen."""
        return tuple({line.funder.id: line.funder for line in self.funding}.values())


def org_facts(org: Organisation) -> OrgFacts:
    return OrgFacts(
        id=org.id,
        name=org.name,
        charity_number=org.charity_number,
        company_number=org.company_number,
        ods_code=org.ods_code,
    )


def facts_of(contract: Contract, declined_on: Mapping[int, date] | None = None) -> ContractFacts:
    declined_on = declined_on or {}
    return ContractFacts(
        id=contract.id,
        reference=contract.reference,
        title=contract.title,
        description=contract.description or "",
        agreement_type=contract.agreement_type,
        provider=org_facts(contract.provider),
        lead_commissioner=org_facts(contract.lead_commissioner),
        partner_commissioners=tuple(org_facts(o) for o in contract.partner_commissioners),
        start_date=contract.start_date,
        original_end_date=contract.original_end_date,
        end_date=contract.end_date,
        award_date=contract.award_date,
        notice_months=contract.notice_period_months,
        total_value=contract.total_value,
        initial_value=contract.initial_value,
        annual_value=contract.annual_value,
        options=tuple(
            OptionFacts(
                id=o.id,
                sequence=o.sequence,
                months=o.length_months,
                state=o.state,
                declined_on=declined_on.get(o.id),
            )
            for o in contract.options
        ),
        amendments=tuple(
            AmendmentFacts(
                id=a.id,
                kind=a.kind,
                effective_date=a.effective_date,
                recorded_on=london_time(a.recorded_at).date(),
                rationale=a.rationale,
                old_end_date=a.old_end_date,
                new_end_date=a.new_end_date,
                old_value=a.old_value,
                new_value=a.new_value,
                option_id=a.extension_option_id,
                corrects_id=a.corrects_id,
            )
            for a in sorted(contract.amendments, key=lambda a: (a.effective_date, a.id))
        ),
        funding=tuple(
            FundingFacts(
                id=line.id,
                funder=org_facts(line.funder),
                stream=line.funding_stream,
                financial_year=line.financial_year,
                amount=line.amount,
            )
            for line in contract.funding_lines
        ),
        milestones=tuple(
            MilestoneFacts(id=m.id, title=m.title, due_date=m.due_date, met_on=m.met_on)
            for m in contract.milestones
        ),
    )
