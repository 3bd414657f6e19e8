"""The contract register: contracts, their parties, funding, options and history."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum

from sqlalchemy import (
    CheckConstraint,
    Column,
    ForeignKey,
    Numeric,
    String,
    Table,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from monitor.audit import audited
from monitor.auth.models import Organisation, User
from monitor.db import Base
from monitor.model_helpers import one_of, utcnow

Money = Numeric(14, 2)


class Category(StrEnum):
    CORE = "core"
    SUPPORTING = "supporting"
    SUPPLEMENTARY = "supplementary"


class ServiceType(StrEnum):
    IDVA = "IDVA/IDSVA"
    ISVA = "ISVA"
    REFUGE = "refuge"
    OUTREACH = "community outreach"
    CHILDRENS_THERAPEUTIC = "children's therapeutic"
    CHILDRENS_ADVOCACY = "children's advocacy"
    PERPETRATOR = "perpetrator programme"
    COUNSELLING = "counselling"
    HELPLINE = "helpline"
    PREVENTION = "prevention and education"
    SANCTUARY = "sanctuary/target hardening"
    MARAC = "MARAC co-ordination"
    OTHER = "other"


class Cohort(StrEnum):
    CHILDREN = "children and young people"
    ADULTS = "adults"
    PREGNANT_WOMEN = "pregnant women"
    PERPETRATORS = "perpetrators"
    OLDER_PEOPLE = "older people"
    DISABLED_PEOPLE = "disabled people"
    LGBT = "LGBT+"
    MINORITY_ETHNIC = "minority ethnic communities"
    MALE_VICTIMS = "male victims"


class AgreementType(StrEnum):
    CONTRACT = "contract"
    GRANT = "grant"
    SLA = "SLA"


class OptionState(StrEnum):
    AVAILABLE = "available"
    EXERCISED = "exercised"
    DECLINED = "declined"
    LAPSED = "lapsed"


class AmendmentKind(StrEnum):
    EXTENSION = "extension"
    VARIATION = "variation"
    VALUE_CHANGE = "value change"
    TERMINATION = "termination"
    DECOMMISSIONING = "decommissioning"
    # Corrects the record of an earlier amendment (which stays, as it was).
    CORRECTION = "correction"


ENDING_KINDS = (AmendmentKind.TERMINATION, AmendmentKind.DECOMMISSIONING)

contract_partners = Table(
    "contract_partners",
    Base.metadata,
    Column("contract_id", ForeignKey("contracts.id", ondelete="CASCADE"), primary_key=True),
    Column(
        "organisation_id",
        ForeignKey("organisations.id", ondelete="RESTRICT"),
        primary_key=True,
        index=True,
    ),
)


@audited("cohort")
class ContractCohort(Base):
    __tablename__ = "contract_cohorts"
    __table_args__ = (one_of("cohort", Cohort),)

    contract_id: Mapped[int] = mapped_column(ForeignKey("contracts.id", ondelete="CASCADE"), primary_key=True)
    cohort: Mapped[str] = mapped_column(String(40), primary_key=True)


@audited("contract")
class Contract(Base):
    __tablename__ = "contracts"
    __table_args__ = (
        one_of("category", Category),
        one_of("service_type", ServiceType),
        one_of("agreement_type", AgreementType),
        CheckConstraint("end_date >= start_date", name="ends_after_start"),
        CheckConstraint("original_end_date >= start_date", name="original_ends_after_start"),
        CheckConstraint(
            "notice_period_months >= 0 AND notice_period_months <= 60", name="notice_months_range"
        ),
        CheckConstraint("annual_value >= 0", name="annual_value_not_negative"),
        CheckConstraint("total_value >= 0", name="total_value_not_negative"),
        CheckConstraint("initial_value >= 0", name="initial_value_not_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    reference: Mapped[str] = mapped_column(String(40), unique=True)
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    service_type: Mapped[str] = mapped_column(String(40), index=True)
    category: Mapped[str] = mapped_column(String(20), index=True)
    agreement_type: Mapped[str] = mapped_column(String(20))
    provider_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    lead_commissioner_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    start_date: Mapped[date] = mapped_column(index=True)
    # The end of the original term; end_date moves with every extension.
    original_end_date: Mapped[date]
    end_date: Mapped[date] = mapped_column(index=True)
    award_date: Mapped[date | None]
    notice_period_months: Mapped[int] = mapped_column(default=6)
    annual_value: Mapped[Decimal] = mapped_column(Money)
    # The value of the initial term as awarded, as entered.
    initial_value: Mapped[Decimal] = mapped_column(Money)
    # The value of the terms in force, always recomputed from the initial value and
    # the amendments by monitor.contracts.value; stored so lists and SQL can use it.
    total_value: Mapped[Decimal] = mapped_column(Money)
    contract_manager: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    provider: Mapped[Organisation] = relationship(foreign_keys=[provider_id])
    lead_commissioner: Mapped[Organisation] = relationship(foreign_keys=[lead_commissioner_id])
    partner_commissioners: Mapped[list[Organisation]] = relationship(
        secondary=contract_partners, order_by="Organisation.name"
    )
    cohort_rows: Mapped[list[ContractCohort]] = relationship(
        cascade="all, delete-orphan", order_by="ContractCohort.cohort"
    )
    options: Mapped[list[ExtensionOption]] = relationship(
        back_populates="contract", cascade="all, delete-orphan", order_by="ExtensionOption.sequence"
    )
    amendments: Mapped[list[Amendment]] = relationship(
        back_populates="contract", cascade="all, delete-orphan", order_by="Amendment.effective_date"
    )
    funding_lines: Mapped[list[FundingLine]] = relationship(
        back_populates="contract",
        cascade="all, delete-orphan",
        order_by="(FundingLine.financial_year, FundingLine.funding_stream)",
    )
    milestones: Mapped[list[Milestone]] = relationship(
        back_populates="contract", cascade="all, delete-orphan", order_by="Milestone.due_date"
    )

    @property
    def cohorts(self) -> list[str]:
        return [row.cohort for row in self.cohort_rows]

    @property
    def commissioner_ids(self) -> set[int]:
        return {self.lead_commissioner_id, *(org.id for org in self.partner_commissioners)}

    @property
    def remaining_option_months(self) -> tuple[int, ...]:
        return tuple(o.length_months for o in self.options if o.state == OptionState.AVAILABLE)

    @property
    def decisions(self) -> list[Amendment]:
        """Amendments that changed the contract, without the corrections to their records."""
        return [a for a in self.amendments if a.kind != AmendmentKind.CORRECTION]

    @property
    def ending(self) -> Amendment | None:
        endings = [a for a in self.amendments if a.kind in ENDING_KINDS]
        return endings[-1] if endings else None


@audited("extension option")
class ExtensionOption(Base):
    __tablename__ = "extension_options"
    __table_args__ = (
        UniqueConstraint("contract_id", "sequence"),
        one_of("state", OptionState),
        CheckConstraint("length_months > 0 AND length_months <= 120", name="length_months_range"),
        CheckConstraint("sequence > 0", name="sequence_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    contract_id: Mapped[int] = mapped_column(ForeignKey("contracts.id", ondelete="CASCADE"), index=True)
    sequence: Mapped[int]
    length_months: Mapped[int]
    state: Mapped[str] = mapped_column(String(20), default=OptionState.AVAILABLE.value)

    contract: Mapped[Contract] = relationship(back_populates="options")

    @property
    def label(self) -> str:
        return f"Option {self.sequence}: {self.length_months} months"


@audited("amendment")
class Amendment(Base):
    __tablename__ = "amendments"
    __table_args__ = (
        one_of("kind", AmendmentKind),
        CheckConstraint("new_value IS NULL OR new_value >= 0", name="new_value_not_negative"),
        CheckConstraint(
            "(kind = 'correction') = (corrects_id IS NOT NULL)", name="correction_names_what_it_corrects"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    contract_id: Mapped[int] = mapped_column(ForeignKey("contracts.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(20))
    effective_date: Mapped[date]
    rationale: Mapped[str] = mapped_column(Text)
    old_end_date: Mapped[date | None]
    new_end_date: Mapped[date | None]
    old_value: Mapped[Decimal | None] = mapped_column(Money)
    new_value: Mapped[Decimal | None] = mapped_column(Money)
    approved_by: Mapped[str] = mapped_column(String(200))
    board_minute_reference: Mapped[str] = mapped_column(String(100), default="")
    extension_option_id: Mapped[int | None] = mapped_column(
        ForeignKey("extension_options.id", ondelete="SET NULL")
    )
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    recorded_at: Mapped[datetime] = mapped_column(default=utcnow)
    # Recorded ahead of its date, on purpose: an ending or change agreed to take effect later.
    planned: Mapped[bool] = mapped_column(default=False)
    # A correction names the amendment whose record it corrects.
    corrects_id: Mapped[int | None] = mapped_column(
        ForeignKey("amendments.id", ondelete="CASCADE"), index=True
    )

    contract: Mapped[Contract] = relationship(back_populates="amendments")
    extension_option: Mapped[ExtensionOption | None] = relationship()
    recorded_by: Mapped[User | None] = relationship()
    corrects: Mapped[Amendment | None] = relationship(remote_side=[id], back_populates="corrections")
    corrections: Mapped[list[Amendment]] = relationship(
        back_populates="corrects", order_by="Amendment.id", passive_deletes=True
    )

    @property
    def latest_correction(self) -> Amendment | None:
        return self.corrections[-1] if self.corrections else None


@audited("funding line")
class FundingLine(Base):
    """Money from one funder, through one stream, for one financial year."""

    __tablename__ = "funding_lines"
    __table_args__ = (
        UniqueConstraint("contract_id", "funder_id", "funding_stream", "financial_year"),
        CheckConstraint("amount >= 0", name="amount_not_negative"),
        CheckConstraint("financial_year LIKE '____/__'", name="financial_year_format"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    contract_id: Mapped[int] = mapped_column(ForeignKey("contracts.id", ondelete="CASCADE"), index=True)
    funder_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    funding_stream: Mapped[str] = mapped_column(String(120))
    # Written the UK way, "2013/14" (1 April 2013 to 31 March 2014).
    financial_year: Mapped[str] = mapped_column(String(7), index=True)
    amount: Mapped[Decimal] = mapped_column(Money)

    contract: Mapped[Contract] = relationship(back_populates="funding_lines")
    funder: Mapped[Organisation] = relationship()


@audited("milestone")
class Milestone(Base):
    __tablename__ = "milestones"
    id: Mapped[int] = mapped_column(primary_key=True)
    contract_id: Mapped[int] = mapped_column(ForeignKey("contracts.id", ondelete="CASCADE"), index=True)
    title: Mapped[str] = mapped_column(String(200))
    due_date: Mapped[date]
    met_on: Mapped[date | None]

    contract: Mapped[Contract] = relationship(back_populates="milestones")
