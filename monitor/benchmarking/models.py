"""Benchmarking as data: each partnership's dated decision to be compared (or
not), the region it belongs to, and the "similar areas" groups an
administrator defines. The comparisons themselves are drawn by
monitor.benchmarking.service from these tables."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import CheckConstraint, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from monitor.audit import audited
from monitor.auth.models import Partnership, User
from monitor.benchmarking.vocabulary import REGIONS
from monitor.db import Base
from monitor.model_helpers import utcnow


def _one_of_regions() -> CheckConstraint:
    quoted = ", ".join("'" + region.replace("'", "''") + "'" for region in REGIONS)
    return CheckConstraint(f"region IN ({quoted})", name="region_allowed")


@audited("benchmarking decision")
class BenchmarkingDecision(Base):
    """A partnership's decision, on a day and approved by a named person, that
    its figures may (or may no longer) be compared with other areas'. Never
    edited: a change of mind is a new decision, so the history stays."""

    __tablename__ = "benchmarking_decisions"
    __table_args__ = (
        # One decision a day, so "the latest on or before a date" is never a tie.
        UniqueConstraint("partnership_id", "decided_on"),
        CheckConstraint("approver_name <> ''", name="approver_named"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    partnership_id: Mapped[int] = mapped_column(ForeignKey("partnerships.id", ondelete="CASCADE"))
    opted_in: Mapped[bool]
    decided_on: Mapped[date]
    # The person who approved the decision for the partnership, such as
    # "Cllr Alex Morgan" with the role "chair": named, not a user account,
    # as boards' chairs rarely sign in.
    approver_name: Mapped[str] = mapped_column(String(200))
    approver_role: Mapped[str] = mapped_column(String(200), default="")
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    recorded_at: Mapped[datetime] = mapped_column(default=utcnow)

    partnership: Mapped[Partnership] = relationship()
    recorded_by: Mapped[User | None] = relationship()

    @property
    def label(self) -> str:
        choice = "opted in" if self.opted_in else "opted out"
        return f"partnership {self.partnership_id} {choice} on {self.decided_on.isoformat()}"


@audited("area region")
class AreaRegion(Base):
    """The region a partnership's area is in, for its "<Region> areas" comparison."""

    __tablename__ = "area_regions"
    __table_args__ = (_one_of_regions(),)

    partnership_id: Mapped[int] = mapped_column(
        ForeignKey("partnerships.id", ondelete="CASCADE"), primary_key=True
    )
    region: Mapped[str] = mapped_column(String(40))

    @property
    def label(self) -> str:
        return f"partnership {self.partnership_id} in {self.region}"


@audited("comparison group")
class ComparisonGroup(Base):
    """A "similar areas" group an administrator defines, such as outer London
    boroughs with similar deprivation."""

    __tablename__ = "comparison_groups"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    description: Mapped[str] = mapped_column(String(500), default="")
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    memberships: Mapped[list[ComparisonGroupMember]] = relationship(
        back_populates="group", cascade="all, delete-orphan", passive_deletes=True
    )
    created_by: Mapped[User | None] = relationship()

    @property
    def member_ids(self) -> frozenset[int]:
        return frozenset(membership.partnership_id for membership in self.memberships)


@audited("comparison group member")
class ComparisonGroupMember(Base):
    """One area in a similar-areas group. A class of its own rather than a bare
    table so the audit trail records each area added or removed by its ids."""

    __tablename__ = "comparison_group_members"

    group_id: Mapped[int] = mapped_column(
        ForeignKey("comparison_groups.id", ondelete="CASCADE"), primary_key=True
    )
    partnership_id: Mapped[int] = mapped_column(
        ForeignKey("partnerships.id", ondelete="CASCADE"), primary_key=True
    )

    group: Mapped[ComparisonGroup] = relationship(back_populates="memberships")

    @property
    def label(self) -> str:
        return f"partnership {self.partnership_id} in comparison group {self.group_id}"
