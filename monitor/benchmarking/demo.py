"""The demo's benchmarking: three of its four partnerships opted in before the
demo's as-at date (6 May 2014), each with the named person who approved it;
the Tri-borough VAWG Partnership has not decided, so the "How we compare"
dashboard and sheet show it nowhere, as a deployment would leave out an area
that has not agreed. Each area has its region, and one similar-areas group
holds the two Health and Wellbeing Boards.

With three areas taking part the comparisons are thin (a region of one area
is not compared); the national bench register (bench/national.py) is where
groups have many members.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from monitor.auth.models import Partnership
from monitor.benchmarking.models import (
    AreaRegion,
    BenchmarkingDecision,
    ComparisonGroup,
    ComparisonGroupMember,
)

# (partnership, region, opted in on, approver, approver's role); None: never decided.
DEMO_AREAS: tuple[tuple[str, str, date | None, str, str], ...] = (
    (
        "Barking and Dagenham Health and Wellbeing Board",
        "London",
        date(2014, 3, 18),
        "Cllr Alex Morgan",
        "Chair, Health and Wellbeing Board",
    ),
    (
        "Halton Health and Wellbeing Board",
        "North West",
        date(2014, 1, 22),
        "Cllr Sam Hughes",
        "Chair, Health and Wellbeing Board",
    ),
    (
        "Halton Domestic Abuse Forum",
        "North West",
        date(2014, 2, 4),
        "Cllr Sam Hughes",
        "Chair, Domestic Abuse Forum",
    ),
    ("Tri-borough VAWG Partnership", "London", None, "", ""),
)
DEMO_GROUP = "Health and Wellbeing Boards in the demo"
DEMO_GROUP_DESCRIPTION = "Health and Wellbeing Boards whose councils commission their own services"
DEMO_GROUP_MEMBERS = ("Barking and Dagenham Health and Wellbeing Board", "Halton Health and Wellbeing Board")


def load_demo_benchmarking(session: Session) -> int:
    """Decisions, regions and the similar-areas group; returns how many rows
    were added. Running it again adds nothing; a partnership not loaded is skipped."""
    ids = {name: identifier for name, identifier in session.execute(select(Partnership.name, Partnership.id))}
    added = 0
    for name, region, decided_on, approver, role in DEMO_AREAS:
        partnership_id = ids.get(name)
        if partnership_id is None:
            continue
        if session.get(AreaRegion, partnership_id) is None:
            session.add(AreaRegion(partnership_id=partnership_id, region=region))
            added += 1
        if decided_on is None:
            continue
        known = select(BenchmarkingDecision.id).where(
            BenchmarkingDecision.partnership_id == partnership_id,
            BenchmarkingDecision.decided_on == decided_on,
        )
        if session.scalar(known) is None:
            session.add(
                BenchmarkingDecision(
                    partnership_id=partnership_id,
                    opted_in=True,
                    decided_on=decided_on,
                    approver_name=approver,
                    approver_role=role,
                )
            )
            added += 1
    members = [ids[name] for name in DEMO_GROUP_MEMBERS if name in ids]
    if len(members) == len(DEMO_GROUP_MEMBERS) and (
        session.scalar(select(ComparisonGroup.id).where(ComparisonGroup.name == DEMO_GROUP)) is None
    ):
        session.add(
            ComparisonGroup(
                name=DEMO_GROUP,
                description=DEMO_GROUP_DESCRIPTION,
                memberships=[ComparisonGroupMember(partnership_id=member) for member in members],
            )
        )
        added += 1
    session.flush()
    return added
