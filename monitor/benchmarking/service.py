"""Who may be compared with whom: partnerships' dated decisions to take part,
their regions and administrators' similar-areas groups, and the comparison
groups drawn from them for an area on a day.

The one rule every surface shares: an area whose decision in force on a day
is not to take part (or that has never decided) is never shown and never
counted, in any group. The decision in force on a day is the partnership's
latest decided on or before it.

Every write checks everything first and raises one ValidationFailed with a
message per field (or Forbidden) before changing anything; the caller's
transaction commits, and the models' audit records each change.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

from sqlalchemy import func, select
from sqlalchemy.orm import Session, aliased, selectinload

from monitor import clock
from monitor.access.rules import can_manage_benchmarking
from monitor.auth.models import Partnership, User
from monitor.benchmarking.models import (
    AreaRegion,
    BenchmarkingDecision,
    ComparisonGroup,
    ComparisonGroupMember,
)
from monitor.benchmarking.vocabulary import ALL_AREAS_NAME, REGIONS, GroupKind, region_group_name
from monitor.errors import Forbidden, NotFound, ValidationFailed
from monitor.formatting import day_text, list_text

NAME_LENGTH = 200
GROUP_NAME_LENGTH = 100
DESCRIPTION_LENGTH = 500
SMALLEST_GROUP = 2


@dataclass(frozen=True)
class AreaGroup:
    """A group an area is compared within, with only its opted-in members."""

    name: str
    kind: GroupKind
    member_ids: frozenset[int]


def _require_admin(user: User) -> None:
    if not can_manage_benchmarking(user):
        raise Forbidden("Only administrators change who is compared and in which groups")


def _partnership(session: Session, partnership_id: int) -> Partnership:
    partnership = session.get(Partnership, partnership_id)
    if partnership is None:
        raise NotFound(f"There is no partnership {partnership_id}")
    return partnership


# ---------------------------------------------------------------- decisions to take part


def record_decision(
    session: Session,
    user: User,
    partnership_id: int,
    opted_in: bool,
    decided_on: date,
    approver_name: str,
    approver_role: str = "",
) -> BenchmarkingDecision:
    """Record that the partnership decided on `decided_on` to take part in
    comparisons (or to stop), approved by the named person."""
    _require_admin(user)
    partnership = _partnership(session, partnership_id)
    name = approver_name.strip()
    role = approver_role.strip()
    errors: dict[str, str] = {}
    today = clock.today()
    if decided_on > today:
        errors["decided_on"] = (
            f"The decision date, {day_text(decided_on)}, is in the future. Enter the day "
            f"{partnership.name} decided, today ({day_text(today)}) or earlier"
        )
    elif session.scalar(
        select(BenchmarkingDecision.id).where(
            BenchmarkingDecision.partnership_id == partnership_id,
            BenchmarkingDecision.decided_on == decided_on,
        )
    ):
        errors["decided_on"] = (
            f"{partnership.name} already has a decision recorded for {day_text(decided_on)}. "
            "A partnership makes one decision a day: check the date, or record the later decision on its own day"
        )
    if not name:
        errors["approver_name"] = (
            "Enter the name of the person who approved the decision, like Cllr Alex Morgan"
        )
    elif len(name) > NAME_LENGTH:
        errors["approver_name"] = f"Shorten the approver's name to {NAME_LENGTH} characters or fewer"
    if len(role) > NAME_LENGTH:
        errors["approver_role"] = f"Shorten the approver's role to {NAME_LENGTH} characters or fewer"
    if errors:
        raise ValidationFailed(errors)
    decision = BenchmarkingDecision(
        partnership_id=partnership_id,
        opted_in=opted_in,
        decided_on=decided_on,
        approver_name=name,
        approver_role=role,
        recorded_by_id=user.id,
    )
    session.add(decision)
    session.flush()
    return decision


def decisions(session: Session, partnership_id: int) -> list[BenchmarkingDecision]:
    """The partnership's decisions, earliest first: its history."""
    return list(
        session.scalars(
            select(BenchmarkingDecision)
            .where(BenchmarkingDecision.partnership_id == partnership_id)
            .order_by(BenchmarkingDecision.decided_on)
        ).all()
    )


def decision_in_force(session: Session, partnership_id: int, on: date) -> BenchmarkingDecision | None:
    """The partnership's latest decision made on or before `on`; None if it had made none."""
    return session.scalars(
        select(BenchmarkingDecision)
        .where(BenchmarkingDecision.partnership_id == partnership_id, BenchmarkingDecision.decided_on <= on)
        .order_by(BenchmarkingDecision.decided_on.desc())
        .limit(1)
    ).first()


def opted_in_areas(session: Session, on: date) -> set[int]:
    """The partnerships whose decision in force on `on` is to take part."""
    earlier = aliased(BenchmarkingDecision)
    latest_day = (
        select(func.max(earlier.decided_on))
        .where(earlier.partnership_id == BenchmarkingDecision.partnership_id, earlier.decided_on <= on)
        .correlate(BenchmarkingDecision)
        .scalar_subquery()
    )
    return set(
        session.scalars(
            select(BenchmarkingDecision.partnership_id).where(
                BenchmarkingDecision.decided_on == latest_day,
                BenchmarkingDecision.opted_in.is_(True),
            )
        ).all()
    )


# ---------------------------------------------------------------- regions


def set_region(session: Session, user: User, partnership_id: int, region: str | None) -> AreaRegion | None:
    """Put the partnership's area in `region` (one of REGIONS), or in none when `region` is None."""
    _require_admin(user)
    partnership = _partnership(session, partnership_id)
    if region is not None and region not in REGIONS:
        raise ValidationFailed(
            {
                "region": f"'{region}' is not a region {partnership.name} can be in. "
                f"Choose one of {list_text(list(REGIONS))}"
            }
        )
    existing = session.get(AreaRegion, partnership_id)
    if region is None:
        if existing is not None:
            session.delete(existing)
        session.flush()
        return None
    if existing is None:
        existing = AreaRegion(partnership_id=partnership_id, region=region)
        session.add(existing)
    else:
        existing.region = region
    session.flush()
    return existing


# ---------------------------------------------------------------- similar-areas groups


def _member_errors(session: Session, member_ids: Iterable[int]) -> tuple[list[int], dict[str, str]]:
    chosen = list(dict.fromkeys(member_ids))
    known = set(session.scalars(select(Partnership.id).where(Partnership.id.in_(chosen))).all())
    unknown = [str(partnership_id) for partnership_id in chosen if partnership_id not in known]
    if unknown:
        return chosen, {
            "members": f"There is no partnership {list_text(unknown)}. Choose the group's areas from the list"
        }
    if len(chosen) < SMALLEST_GROUP:
        return chosen, {
            "members": f"Choose at least {SMALLEST_GROUP} areas for the group: "
            "an area is compared with the others in it"
        }
    return chosen, {}


def _group_details_errors(
    session: Session, name: str, description: str, group_id: int | None = None
) -> dict[str, str]:
    errors: dict[str, str] = {}
    if not name:
        errors["name"] = "Enter a name for the group, like Outer London boroughs"
    elif len(name) > GROUP_NAME_LENGTH:
        errors["name"] = f"Shorten the group's name to {GROUP_NAME_LENGTH} characters or fewer"
    else:
        same_name = select(ComparisonGroup.name).where(func.lower(ComparisonGroup.name) == name.lower())
        if group_id is not None:
            same_name = same_name.where(ComparisonGroup.id != group_id)
        taken = session.scalar(same_name)
        if taken is not None:
            errors["name"] = f"There is already a group called {taken}. Give this group a different name"
    if len(description) > DESCRIPTION_LENGTH:
        errors["description"] = f"Shorten the description to {DESCRIPTION_LENGTH} characters or fewer"
    return errors


def create_group(
    session: Session, user: User, name: str, description: str, member_ids: Iterable[int]
) -> ComparisonGroup:
    """A new similar-areas group of at least two areas, with a name no other group has."""
    _require_admin(user)
    name, description = name.strip(), description.strip()
    errors = _group_details_errors(session, name, description)
    chosen, member_errors = _member_errors(session, member_ids)
    errors.update(member_errors)
    if errors:
        raise ValidationFailed(errors)
    group = ComparisonGroup(
        name=name,
        description=description,
        created_by_id=user.id,
        memberships=[ComparisonGroupMember(partnership_id=partnership_id) for partnership_id in chosen],
    )
    session.add(group)
    session.flush()
    return group


def _group(session: Session, group_id: int) -> ComparisonGroup:
    group = session.get(ComparisonGroup, group_id, options=[selectinload(ComparisonGroup.memberships)])
    if group is None:
        raise NotFound(f"There is no comparison group {group_id}")
    return group


def set_members(session: Session, user: User, group_id: int, member_ids: Iterable[int]) -> ComparisonGroup:
    """Replace the group's areas with `member_ids` (at least two)."""
    _require_admin(user)
    group = _group(session, group_id)
    chosen, errors = _member_errors(session, member_ids)
    if errors:
        raise ValidationFailed(errors)
    for membership in list(group.memberships):
        if membership.partnership_id not in chosen:
            group.memberships.remove(membership)
            # Deleted by name, not left as an orphan for the flush to find:
            # the audit trail sees only what the session was told to delete.
            session.delete(membership)
    for partnership_id in sorted(set(chosen) - group.member_ids):
        group.memberships.append(ComparisonGroupMember(partnership_id=partnership_id))
    session.flush()
    return group


def change_group(
    session: Session, user: User, group_id: int, name: str, description: str, member_ids: Iterable[int]
) -> ComparisonGroup:
    """Rename the group, change its description and replace its areas, all
    checked first so one page shows every problem and a refusal changes nothing."""
    _require_admin(user)
    group = _group(session, group_id)
    name, description = name.strip(), description.strip()
    errors = _group_details_errors(session, name, description, group_id)
    chosen, member_errors = _member_errors(session, member_ids)
    errors.update(member_errors)
    if errors:
        raise ValidationFailed(errors)
    group.name = name
    group.description = description
    return set_members(session, user, group_id, chosen)


def delete_group(session: Session, user: User, group_id: int) -> None:
    _require_admin(user)
    session.delete(_group(session, group_id))
    session.flush()


def groups(session: Session) -> list[ComparisonGroup]:
    """Every similar-areas group, by name."""
    return list(
        session.scalars(
            select(ComparisonGroup)
            .options(selectinload(ComparisonGroup.memberships))
            .order_by(ComparisonGroup.name)
        ).all()
    )


# ---------------------------------------------------------------- the groups an area is compared within


def comparison_groups_for(session: Session, partnership_id: int, on: date) -> list[AreaGroup]:
    """The groups the area is compared within on `on`, each with only its
    members that had opted in then: all areas, its region's areas (when it has
    a region) and each similar-areas group it is in, by name. None at all for
    an area that had not opted in: it is never shown."""
    taking_part = opted_in_areas(session, on)
    if partnership_id not in taking_part:
        return []
    found = [AreaGroup(ALL_AREAS_NAME, GroupKind.ALL_AREAS, frozenset(taking_part))]
    region = session.scalar(select(AreaRegion.region).where(AreaRegion.partnership_id == partnership_id))
    if region is not None:
        neighbours = session.scalars(
            select(AreaRegion.partnership_id).where(AreaRegion.region == region)
        ).all()
        found.append(
            AreaGroup(region_group_name(region), GroupKind.REGION, frozenset(neighbours) & taking_part)
        )
    containing = session.scalars(
        select(ComparisonGroup)
        .where(
            ComparisonGroup.id.in_(
                select(ComparisonGroupMember.group_id).where(
                    ComparisonGroupMember.partnership_id == partnership_id
                )
            )
        )
        .options(selectinload(ComparisonGroup.memberships))
        .order_by(ComparisonGroup.name)
    ).all()
    found.extend(
        AreaGroup(group.name, GroupKind.SIMILAR_AREAS, group.member_ids & taking_part) for group in containing
    )
    return found
