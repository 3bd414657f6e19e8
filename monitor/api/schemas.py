"""The fields each API write accepts; parsing checks them and the OpenAPI
document describes them from the same lists, so the two cannot drift."""

from __future__ import annotations

from monitor.api.parsing import Field, Kind
from monitor.contracts.models import AgreementType, AmendmentKind, Category, Cohort, ServiceType


def _values(enum: type) -> tuple[str, ...]:
    return tuple(member.value for member in enum)  # type: ignore[attr-defined]


_CONTRACT: tuple[Field, ...] = (
    Field("reference", Kind.TEXT, "Unique reference", required=True, max_length=40, example="LBBD-DV-008"),
    Field("title", Kind.TEXT, "The service title", required=True, max_length=200),
    Field("description", Kind.TEXT, "What the service does", max_length=10_000),
    Field("service_type", Kind.CHOICE, "Type of service", required=True, choices=_values(ServiceType)),
    Field(
        "category", Kind.CHOICE, "Core, supporting or supplementary", required=True, choices=_values(Category)
    ),
    Field(
        "agreement_type", Kind.CHOICE, "Contract, grant or SLA", required=True, choices=_values(AgreementType)
    ),
    Field("provider_id", Kind.ID, "Id of the provider organisation", required=True),
    Field(
        "lead_commissioner_id",
        Kind.ID,
        "Id of the lead commissioner; when creating, defaults to your organisation",
    ),
    Field("partner_commissioner_ids", Kind.IDS, "Ids of partner commissioners"),
    Field("cohorts", Kind.CHOICES, "Who the service is for", choices=_values(Cohort)),
    Field("award_date", Kind.DATE, "Date the contract was awarded", nullable=True),
    Field("start_date", Kind.DATE, "First day of the contract", required=True),
    Field(
        "end_date",
        Kind.DATE,
        "Last day of the initial term, before any extension (extensions are amendments)",
        required=True,
    ),
    Field("notice_period_months", Kind.INTEGER, "Notice period in months, 0 to 60 (default 6)"),
    Field("annual_value", Kind.MONEY, "Annual value in pounds", required=True, example="250000.00"),
    Field("total_value", Kind.MONEY, "Total value in pounds", required=True, example="750000.00"),
    Field("contract_manager", Kind.TEXT, "Who manages the contract", max_length=200),
)

CONTRACT_CREATE: tuple[Field, ...] = (
    *_CONTRACT,
    Field(
        "option_months",
        Kind.INTEGERS,
        "Length in months of each extension option, in order (1+1 years: [12, 12])",
        example=[12, 12],
    ),
)
# Extension options change only through amendments once a contract exists.
CONTRACT_UPDATE: tuple[Field, ...] = _CONTRACT

FUNDING_LINE: tuple[Field, ...] = (
    Field("funder_id", Kind.ID, "Id of the funder (a funder or commissioner organisation)", required=True),
    Field("funding_stream", Kind.TEXT, "The budget it comes from", required=True, max_length=120),
    Field(
        "financial_year",
        Kind.TEXT,
        "UK financial year, written like 2013/14",
        required=True,
        example="2013/14",
    ),
    Field("amount", Kind.MONEY, "Amount in pounds", required=True, example="60000.00"),
)

AMENDMENT: tuple[Field, ...] = (
    Field("kind", Kind.CHOICE, "What kind of amendment", required=True, choices=_values(AmendmentKind)),
    Field("effective_date", Kind.DATE, "Date the amendment takes effect", required=True),
    Field("rationale", Kind.TEXT, "Why, as it will appear in board papers", required=True, max_length=10_000),
    Field("approved_by", Kind.TEXT, "Who approved it", required=True, max_length=200),
    Field("board_minute_reference", Kind.TEXT, "Minute reference of the approval", max_length=100),
    Field("new_value", Kind.MONEY, "New total value in pounds; only and always for a value change"),
    Field(
        "option_id",
        Kind.ID,
        "Extensions only: the option to exercise (default: the next available option)",
    ),
    Field(
        "planned",
        Kind.BOOLEAN,
        "True for an amendment agreed now to take effect after today; its date must then be in the future",
    ),
)
# Dates and values have already moved the contract on; only the record of the
# decision can be corrected. A changed decision is a new amendment.
AMENDMENT_CORRECTION: tuple[Field, ...] = tuple(
    field for field in AMENDMENT if field.name in {"rationale", "approved_by", "board_minute_reference"}
)
