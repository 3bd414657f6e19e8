"""Stage 2: is this our template, a version we read, for this contract and
quarter, uploaded by someone who may submit for the contract?

The Metadata sheet and its tags are the same in every template version, so
they can be read before the version is known.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from monitor.access.rules import can_upload
from monitor.auth.models import User
from monitor.contracts.models import Contract
from monitor.kpis.periods import Quarter
from monitor.kpis.returns.ingest.messages import file_error
from monitor.kpis.returns.ingest.result import Message
from monitor.kpis.returns.ingest.tables import read_table
from monitor.kpis.returns.template.layout import CURRENT_LAYOUT, LAYOUTS, MetadataKey

NOT_OUR_TEMPLATE = (
    "This workbook is not the return template from this service (it has no hidden Metadata sheet, or it "
    "has been changed). Download the template for the contract and quarter, copy your figures into it "
    "and upload that."
)


@dataclass(frozen=True)
class Identity:
    """What the workbook says it is, from its hidden Metadata sheet."""

    template_version: str
    contract_id: int | None
    contract_reference: str
    period: str
    generated_at: str

    @property
    def quarter(self) -> Quarter | None:
        return Quarter.parse(self.period)


def read_identity(book: Any) -> tuple[Identity | None, list[Message]]:
    found, _ = read_table(book, CURRENT_LAYOUT.metadata)
    if found is None:
        return None, [file_error(NOT_OUR_TEMPLATE)]
    values = {row.text("key"): row.get("value") for row in found.rows if row.text("key")}
    if any(key not in values for key in MetadataKey.ALL):
        return None, [file_error(NOT_OUR_TEMPLATE)]
    raw_id = values[MetadataKey.CONTRACT_ID]
    try:
        contract_id: int | None = int(str(raw_id).strip().removesuffix(".0"))
    except ValueError:
        contract_id = None
    identity = Identity(
        template_version=_text(values[MetadataKey.TEMPLATE_VERSION]),
        contract_id=contract_id,
        contract_reference=_text(values[MetadataKey.CONTRACT_REFERENCE]),
        period=_text(values[MetadataKey.PERIOD]),
        generated_at=_text(values[MetadataKey.GENERATED_AT]),
    )
    if identity.template_version not in LAYOUTS:
        return identity, [
            file_error(
                f"This workbook was made from template version {identity.template_version or 'unknown'}, "
                f"which is not accepted (the current version is {CURRENT_LAYOUT.version}). Download the "
                "template again, copy your figures into it and upload that."
            )
        ]
    if contract_id is None or identity.quarter is None:
        return identity, [file_error(NOT_OUR_TEMPLATE)]
    return identity, []


def _text(value: Any) -> str:
    return "" if value is None else str(value).strip()


def check_identity(
    identity: Identity, *, contract: Contract, quarter: Quarter, user: User | None
) -> list[Message]:
    """Wrong contract, wrong quarter or wrong person: each stops the check before any cell is read.
    `user` None means an operator at the command line, who is not limited."""
    problems: list[Message] = []
    if identity.contract_id != contract.id:
        their = identity.contract_reference or "another contract"
        problems.append(
            file_error(
                f"This workbook is the return for {their}, not {contract.reference}. Upload it to "
                f"{their}'s return, or download the template for {contract.reference} and use that."
            )
        )
    if identity.quarter != quarter:
        their_quarter = identity.quarter.label if identity.quarter else identity.period
        problems.append(
            file_error(
                f"This workbook is the return for {their_quarter}, not {quarter.label}. Upload it to that "
                f"quarter's return, or download the template for {quarter.label} and use that."
            )
        )
    if user is not None and not can_upload(user, contract):
        problems.append(
            file_error(
                f"You cannot submit returns for {contract.reference}: only its provider can, or a "
                "commissioner of the contract on the provider's behalf. Ask the provider to upload it."
            )
        )
    return problems
