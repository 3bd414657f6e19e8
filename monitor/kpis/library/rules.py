"""The consistency rules the library declares between KPIs, as stored.

One row per rule: its kind, the KPI it checks, the KPI it checks against and
whether breaking it is an error or a warning (administrators choose). What
each kind means, and whether figures break it, is `relations`' business.
"""

from __future__ import annotations

from sqlalchemy import CheckConstraint, ForeignKey, String, UniqueConstraint, select
from sqlalchemy.orm import Mapped, Session, aliased, mapped_column, relationship

from monitor.audit import audited
from monitor.db import Base
from monitor.kpis.library.relations import DeclaredRule, RuleKind, RuleSeverity
from monitor.kpis.models import Kpi
from monitor.model_helpers import one_of


@audited("consistency rule")
class ConsistencyRule(Base):
    __tablename__ = "kpi_consistency_rules"
    __table_args__ = (
        one_of("kind", RuleKind),
        one_of("severity", RuleSeverity),
        UniqueConstraint("kind", "kpi_id", "related_kpi_id"),
        # Breakdowns add up to their own KPI; every other rule relates two KPIs.
        CheckConstraint(f"(kind = '{RuleKind.BREAKDOWN.value}') = (kpi_id = related_kpi_id)", name="related"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(20))
    kpi_id: Mapped[int] = mapped_column(ForeignKey("kpis.id", ondelete="CASCADE"), index=True)
    related_kpi_id: Mapped[int] = mapped_column(ForeignKey("kpis.id", ondelete="CASCADE"), index=True)
    severity: Mapped[str] = mapped_column(String(10), default=RuleSeverity.ERROR.value)

    kpi: Mapped[Kpi] = relationship(foreign_keys=[kpi_id])
    related_kpi: Mapped[Kpi] = relationship(foreign_keys=[related_kpi_id])

    @property
    def label(self) -> str:
        if self.kind == RuleKind.BREAKDOWN:
            return f"{self.kpi.code} breakdowns add up"
        if self.kind == RuleKind.DENOMINATOR:
            return f"{self.kpi.code} denominator is {self.related_kpi.code}"
        return f"{self.kpi.code} part of {self.related_kpi.code}"

    def declared(self) -> DeclaredRule:
        return DeclaredRule(
            RuleKind(self.kind), self.kpi.code, self.related_kpi.code, RuleSeverity(self.severity)
        )


def declared_rules(session: Session) -> list[DeclaredRule]:
    """Every rule in the library, by KPI code, in the order they were declared."""
    related = aliased(Kpi)
    rows = session.execute(
        select(ConsistencyRule.kind, Kpi.code, related.code, ConsistencyRule.severity)
        .join(Kpi, ConsistencyRule.kpi_id == Kpi.id)
        .join(related, ConsistencyRule.related_kpi_id == related.id)
        .order_by(ConsistencyRule.id)
    )
    return [
        DeclaredRule(RuleKind(kind), code, related_code, RuleSeverity(severity))
        for kind, code, related_code, severity in rows
    ]


def wants_breakdown_rule(kpi: Kpi) -> bool:
    """A KPI reported by breakdown has a rule that its parts add up; a percentage's
    breakdowns are not asked for, so it has none."""
    return bool(kpi.breakdowns) and not kpi.has_fraction


def sync_breakdown_rule(session: Session, kpi: Kpi) -> None:
    """Add or remove the KPI's parts-add-up rule as its breakdowns come and go.
    An existing rule keeps the severity an administrator chose."""
    existing = session.scalar(
        select(ConsistencyRule).where(
            ConsistencyRule.kind == RuleKind.BREAKDOWN.value, ConsistencyRule.kpi_id == kpi.id
        )
    )
    if wants_breakdown_rule(kpi) and existing is None:
        session.add(ConsistencyRule(kind=RuleKind.BREAKDOWN.value, kpi=kpi, related_kpi=kpi))
    elif not wants_breakdown_rule(kpi) and existing is not None:
        session.delete(existing)
    session.flush()
