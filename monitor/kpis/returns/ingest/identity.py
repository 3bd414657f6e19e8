"""Stage 2: is this our template, a version we read, for this contract and
quarter, uploaded by someone who may submit for the contract?

The Metadata sheet and its tags are the same in every template version, so
they can be read before the version is known.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from monitor.access.rules import can_read, can_upload
from monitor.auth.models import User
from monitor.contracts.models import Contract
from monitor.kpis.periods import Quarter
from monitor.kpis.returns.ingest.messages import error, file_error
from monitor.kpis.returns.ingest.result import Message
from monitor.kpis.returns.ingest.tables import FoundTable, read_table
from monitor.kpis.returns.template.layout import CURRENT_LAYOUT, LAYOUTS, MetadataKey
from monitor.kpis.returns.template.signature import is_signed_by

NOT_OUR_TEMPLATE = (
    "This workbook is not the return template from this service (it has no hidden Metadata sheet, or it "
    "has been changed). Download the template for the contract and quarter, copy your figures into it "
    "and upload that."
)
FRESH_TEMPLATE = (
    "Download a fresh template for this contract and quarter, copy your figures into it and upload that."
)
UNSIGNED = (
    "This workbook has no signature in its hidden details, so we cannot tell it is a template from this "
    "service: it may have been made before templates were signed, or rebuilt by another program. "
    + FRESH_TEMPLATE
)
TAMPERED = (
    "The hidden details of this workbook (the contract, quarter and template version it was made for) "
    "have been changed since it was downloaded, so we cannot tell which return it is. " + FRESH_TEMPLATE
)


@dataclass(frozen=True)
class Identity:
    """What the workbook says it is, from its hidden Metadata sheet."""

    template_version: str
    contract_id: int | None
    contract_reference: str
    period: str
    generated_at: str
    signature: str = ""

    @property
    def quarter(self) -> Quarter | None:
        return Quarter.parse(self.period)

    def signed_values(self) -> dict[str, object]:
        """The metadata the signature covers, as the writer signed it."""
        return {
            MetadataKey.TEMPLATE_VERSION: self.template_version,
            MetadataKey.CONTRACT_ID: self.contract_id,
            MetadataKey.CONTRACT_REFERENCE: self.contract_reference,
            MetadataKey.PERIOD: self.period,
            MetadataKey.GENERATED_AT: self.generated_at,
        }


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
        signature=_text(values.get(MetadataKey.SIGNATURE)),
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


def check_signature(identity: Identity, key: bytes) -> list[Message]:
    """The hidden details as this service wrote them, or a message saying they are not."""
    if not identity.signature:
        return [file_error(UNSIGNED)]
    if not is_signed_by(identity.signed_values(), identity.signature, key):
        return [file_error(TAMPERED)]
    return []


def check_identity(
    identity: Identity,
    *,
    contract: Contract,
    quarter: Quarter,
    user: User | None,
    theirs: Contract | None = None,
) -> list[Message]:
    """Wrong contract, wrong quarter or wrong person: each stops the check before any cell is read.
    `user` None means an operator at the command line, who is not limited. `theirs` is the
    contract the workbook is for, when not `contract`: named only to someone who may read it."""
    problems: list[Message] = []
    if identity.contract_id != contract.id:
        if theirs is not None and (user is None or can_read(user, theirs)):
            problems.append(
                file_error(
                    f"This workbook is the return for {theirs.reference}, not {contract.reference}. Upload "
                    f"it to {theirs.reference}'s return, or download the template for {contract.reference} "
                    "and use that."
                )
            )
        else:
            problems.append(
                file_error(
                    f"This workbook is the return for another contract, not {contract.reference}. Download "
                    f"the template for {contract.reference} and use that."
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


def check_title(found: FoundTable, quarter: Quarter) -> list[Message]:
    """A sheet whose visible title names another quarter than the metadata says, as when
    last quarter's sheet is pasted into this quarter's workbook."""
    title = found.title
    if title is None or quarter.label in title.text:
        return []
    return [
        error(
            found.table.sheet,
            title.cell,
            "",
            f"This sheet's title says '{title.text}', but the workbook is the return for {quarter.label}: "
            "the sheet may have been copied from another quarter's return. Download the template for "
            f"{quarter.label}, copy this quarter's figures into it and upload that.",
        )
    ]
