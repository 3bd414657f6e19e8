"""The performance framework and quarterly returns.

Only aggregate figures about a service are held. Outcome scores are one row
per closed case with the measure and the scores only: nothing that could
identify anyone, and only their aggregates leave the app database.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import (
    CheckConstraint,
    ForeignKey,
    LargeBinary,
    Numeric,
    String,
    Subquery,
    Text,
    UniqueConstraint,
    func,
    select,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from monitor.audit import audited
from monitor.auth.models import User
from monitor.contracts.models import Contract
from monitor.db import Base
from monitor.kpis.vocabulary import (  # the models' columns take these values
    Direction,
    KpiCategory,
    OutcomeMeasure,
    ReturnState,
    Rollup,
    TargetBasis,
    Unit,
)
from monitor.model_helpers import one_of, utcnow

Figure = Numeric(14, 2)
PERIOD_CHECK = "LIKE '____-__-Q_'"


@audited("kpi")
class Kpi(Base):
    __tablename__ = "kpis"
    __table_args__ = (
        one_of("unit", Unit),
        one_of("direction", Direction),
        one_of("category", KpiCategory),
        one_of("rollup", Rollup),
        CheckConstraint(
            "(numerator_label IS NULL) = (denominator_label IS NULL)", name="numerator_with_denominator"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(30), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    definition: Mapped[str] = mapped_column(Text)
    unit: Mapped[str] = mapped_column(String(20))
    direction: Mapped[str] = mapped_column(String(20))
    category: Mapped[str] = mapped_column(String(20))
    rollup: Mapped[str] = mapped_column(String(10))
    # A percentage reported as two counts: the app works the percentage out.
    numerator_label: Mapped[str | None] = mapped_column(String(200))
    denominator_label: Mapped[str | None] = mapped_column(String(200))
    active: Mapped[bool] = mapped_column(default=True)

    breakdowns: Mapped[list[KpiBreakdown]] = relationship(
        cascade="all, delete-orphan", order_by="KpiBreakdown.position"
    )

    @property
    def label(self) -> str:
        return f"{self.code}: {self.name}"

    @property
    def has_fraction(self) -> bool:
        return self.numerator_label is not None


@audited("kpi breakdown")
class KpiBreakdown(Base):
    """A category a KPI is reported by (referrals by source: police, health...)."""

    __tablename__ = "kpi_breakdowns"
    __table_args__ = (UniqueConstraint("kpi_id", "label"), UniqueConstraint("kpi_id", "position"))

    id: Mapped[int] = mapped_column(primary_key=True)
    kpi_id: Mapped[int] = mapped_column(ForeignKey("kpis.id", ondelete="CASCADE"), index=True)
    position: Mapped[int]
    label: Mapped[str] = mapped_column(String(100))


@audited("framework item")
class FrameworkItem(Base):
    """One KPI in a contract's framework, in force from one quarter to another."""

    __tablename__ = "framework_items"
    __table_args__ = (
        one_of("target_basis", TargetBasis),
        CheckConstraint(
            "direction IS NULL OR direction IN ('higher is better', 'lower is better')",
            name="direction_allowed",
        ),
        CheckConstraint("amber_tolerance_pct >= 0 AND amber_tolerance_pct <= 100", name="tolerance_range"),
        CheckConstraint(f"effective_from {PERIOD_CHECK}", name="effective_from_format"),
        CheckConstraint(f"effective_to IS NULL OR effective_to {PERIOD_CHECK}", name="effective_to_format"),
        CheckConstraint("effective_to IS NULL OR effective_to >= effective_from", name="effective_order"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    contract_id: Mapped[int] = mapped_column(ForeignKey("contracts.id", ondelete="CASCADE"), index=True)
    kpi_id: Mapped[int] = mapped_column(ForeignKey("kpis.id"), index=True)
    # No target means the KPI is monitored but not rated.
    target: Mapped[Decimal | None] = mapped_column(Figure)
    target_basis: Mapped[str] = mapped_column(String(10), default=TargetBasis.QUARTER.value)
    amber_tolerance_pct: Mapped[Decimal] = mapped_column(Numeric(5, 2), default=Decimal(10))
    # Overrides the KPI's own direction where a council reads it the other way.
    direction: Mapped[str | None] = mapped_column(String(20))
    effective_from: Mapped[str] = mapped_column(String(10))
    effective_to: Mapped[str | None] = mapped_column(String(10))

    contract: Mapped[Contract] = relationship()
    kpi: Mapped[Kpi] = relationship()

    @property
    def label(self) -> str:
        return f"{self.kpi.code} from {self.effective_from}" if self.kpi else self.effective_from

    @property
    def effective_direction(self) -> str:
        return self.direction or self.kpi.direction


@audited("return")
class Return(Base):
    """One contract's return for one quarter; its versions are never overwritten."""

    __tablename__ = "returns"
    __table_args__ = (
        UniqueConstraint("contract_id", "period"),
        one_of("state", ReturnState),
        CheckConstraint(f"period {PERIOD_CHECK}", name="period_format"),
        CheckConstraint(
            "NOT needs_resubmission OR resubmission_reason <> ''", name="resubmission_has_reason"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    contract_id: Mapped[int] = mapped_column(ForeignKey("contracts.id", ondelete="CASCADE"), index=True)
    period: Mapped[str] = mapped_column(String(10), index=True)
    state: Mapped[str] = mapped_column(String(20), default=ReturnState.DRAFT.value)
    due_date: Mapped[date]
    # Set when the framework changed after the return was submitted, so the
    # submitted version lacks figures now required; cleared by the next submission.
    needs_resubmission: Mapped[bool] = mapped_column(default=False)
    resubmission_reason: Mapped[str] = mapped_column(Text, default="")
    # Bumped on every change so two uploads at once cannot both win.
    revision: Mapped[int] = mapped_column(default=0)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    contract: Mapped[Contract] = relationship()
    versions: Mapped[list[ReturnVersion]] = relationship(
        back_populates="return_", cascade="all, delete-orphan", order_by="ReturnVersion.number"
    )
    events: Mapped[list[ReturnEvent]] = relationship(cascade="all, delete-orphan", order_by="ReturnEvent.at")

    __mapper_args__ = {"version_id_col": revision}

    @property
    def label(self) -> str:
        return self.period

    @property
    def latest(self) -> ReturnVersion | None:
        return self.versions[-1] if self.versions else None


@audited("return version")
class ReturnVersion(Base):
    __tablename__ = "return_versions"
    __table_args__ = (
        UniqueConstraint("return_id", "number"),
        CheckConstraint("size_bytes > 0", name="size_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    return_id: Mapped[int] = mapped_column(ForeignKey("returns.id", ondelete="CASCADE"), index=True)
    number: Mapped[int]
    filename: Mapped[str] = mapped_column(String(255))
    content: Mapped[bytes] = mapped_column(LargeBinary)
    sha256: Mapped[str] = mapped_column(String(64))
    size_bytes: Mapped[int]
    template_version: Mapped[str] = mapped_column(String(20))
    submitted: Mapped[bool] = mapped_column(default=False)
    warnings_acknowledged: Mapped[bool] = mapped_column(default=False)
    uploaded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    uploaded_at: Mapped[datetime] = mapped_column(default=utcnow)

    return_: Mapped[Return] = relationship(back_populates="versions")
    uploaded_by: Mapped[User | None] = relationship()
    values: Mapped[list[ReturnValue]] = relationship(cascade="all, delete-orphan")
    commentary: Mapped[list[ReturnCommentary]] = relationship(cascade="all, delete-orphan")
    outcome_scores: Mapped[list[OutcomeScore]] = relationship(cascade="all, delete-orphan")

    @property
    def label(self) -> str:
        return f"version {self.number}"


def latest_submitted() -> Subquery:
    """Each return's latest submitted version number (return_id, number): a
    return stands for that version's figures, whatever was uploaded after it."""
    return (
        select(ReturnVersion.return_id, func.max(ReturnVersion.number).label("number"))
        .where(ReturnVersion.submitted.is_(True))
        .group_by(ReturnVersion.return_id)
        .subquery()
    )


class ReturnValue(Base):
    """One figure in a version: a KPI's total (breakdown '') or one breakdown."""

    __tablename__ = "return_values"
    __table_args__ = (UniqueConstraint("version_id", "kpi_id", "breakdown"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    version_id: Mapped[int] = mapped_column(ForeignKey("return_versions.id", ondelete="CASCADE"), index=True)
    kpi_id: Mapped[int] = mapped_column(ForeignKey("kpis.id"), index=True)
    breakdown: Mapped[str] = mapped_column(String(100), default="")
    value: Mapped[Decimal] = mapped_column(Figure)
    numerator: Mapped[Decimal | None] = mapped_column(Figure)
    denominator: Mapped[Decimal | None] = mapped_column(Figure)

    kpi: Mapped[Kpi] = relationship()


class ReturnCommentary(Base):
    """The provider's explanation for one KPI (required when off target)."""

    __tablename__ = "return_commentary"
    __table_args__ = (UniqueConstraint("version_id", "kpi_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    version_id: Mapped[int] = mapped_column(ForeignKey("return_versions.id", ondelete="CASCADE"), index=True)
    kpi_id: Mapped[int] = mapped_column(ForeignKey("kpis.id"))
    text: Mapped[str] = mapped_column(Text)

    kpi: Mapped[Kpi] = relationship()


class OutcomeScore(Base):
    """A closed case's pre and post scores on one measure: no identifiers."""

    __tablename__ = "outcome_scores"
    __table_args__ = (
        one_of("measure", OutcomeMeasure),
        CheckConstraint(
            "informant IS NULL OR informant IN ('parent', 'teacher', 'self')", name="informant_allowed"
        ),
        CheckConstraint("pre_score >= 0 AND post_score >= 0", name="scores_not_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    version_id: Mapped[int] = mapped_column(ForeignKey("return_versions.id", ondelete="CASCADE"), index=True)
    measure: Mapped[str] = mapped_column(String(10))
    informant: Mapped[str | None] = mapped_column(String(10))
    pre_score: Mapped[Decimal] = mapped_column(Numeric(6, 2))
    post_score: Mapped[Decimal] = mapped_column(Numeric(6, 2))


@audited("return event")
class ReturnEvent(Base):
    """Submitted, queried, accepted or reopened, with the comment the other side sees."""

    __tablename__ = "return_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    return_id: Mapped[int] = mapped_column(ForeignKey("returns.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(20))
    comment: Mapped[str] = mapped_column(Text, default="")
    version_number: Mapped[int | None]
    by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    at: Mapped[datetime] = mapped_column(default=utcnow)

    by: Mapped[User | None] = relationship()


class ReminderSent(Base):
    """A reminder already sent, so running the reminder job twice sends nothing twice."""

    __tablename__ = "reminders_sent"
    __table_args__ = (UniqueConstraint("contract_id", "period", "stage", "recipient"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    contract_id: Mapped[int] = mapped_column(ForeignKey("contracts.id", ondelete="CASCADE"), index=True)
    period: Mapped[str] = mapped_column(String(10))
    stage: Mapped[str] = mapped_column(String(20))
    recipient: Mapped[str] = mapped_column(String(254))
    sent_at: Mapped[datetime] = mapped_column(default=utcnow)


@audited("return reply")
class ReturnReply(Base):
    """The provider's answer, in words, to a commissioner's query on a return.
    A reply stands for "the figures are right, and here is why"; figures that
    must change come as a new version instead (monitor.kpis.returns.replies)."""

    __tablename__ = "return_replies"
    __table_args__ = (CheckConstraint("text <> ''", name="text_not_empty"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    return_id: Mapped[int] = mapped_column(ForeignKey("returns.id", ondelete="CASCADE"), index=True)
    # The query (or reopening) this answers; kept if that event is ever removed.
    query_event_id: Mapped[int | None] = mapped_column(
        ForeignKey("return_events.id", ondelete="SET NULL"), index=True
    )
    text: Mapped[str] = mapped_column(Text)
    by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    at: Mapped[datetime] = mapped_column(default=utcnow)

    by: Mapped[User | None] = relationship()

    @property
    def label(self) -> str:
        return "reply to query"
