"""Benchmarking data: who has opted in on a day, regions, similar-areas groups
and the comparison groups an area is drawn into, on an empty database."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from monitor import clock
from monitor.access.roles import Role
from monitor.audit import AuditEvent
from monitor.auth.models import Partnership, User
from monitor.benchmarking.models import AreaRegion, BenchmarkingDecision, ComparisonGroup
from monitor.benchmarking.service import (
    AreaGroup,
    comparison_groups_for,
    create_group,
    decision_in_force,
    delete_group,
    opted_in_areas,
    record_decision,
    set_members,
    set_region,
)
from monitor.benchmarking.vocabulary import GroupKind
from monitor.db import db
from monitor.errors import Forbidden, ValidationFailed

APRIL = date(2013, 4, 1)
JULY = date(2013, 7, 1)
OCTOBER = date(2013, 10, 1)


# ---------------------------------------------------------------- builders


def _partnership(name: str) -> int:
    with db.transaction() as session:
        partnership = Partnership(name=name)
        session.add(partnership)
    return partnership.id


def _admin() -> User:
    with db.transaction() as session:
        user = User(email="admin@monitor.example", name="Ada Admin", role=Role.ADMIN.value)
        session.add(user)
    return user


def _board_member(partnership_id: int) -> User:
    with db.transaction() as session:
        user = User(
            email="board@monitor.example",
            name="Bo Board",
            role=Role.BOARD.value,
            partnership_id=partnership_id,
        )
        session.add(user)
    return user


def _decide(user: User, partnership_id: int, opted_in: bool, on: date) -> None:
    with db.transaction() as session:
        record_decision(session, user, partnership_id, opted_in, on, "Cllr Alex Morgan", "chair")


def _refused(action: Any) -> dict[str, str]:
    with pytest.raises(ValidationFailed) as refused, db.transaction() as session:
        action(session)
    return refused.value.errors


def _audit(entity_type: str) -> list[AuditEvent]:
    return list(
        db.session.scalars(
            select(AuditEvent).where(AuditEvent.entity_type == entity_type).order_by(AuditEvent.id)
        ).all()
    )


# ---------------------------------------------------------------- decisions


def test_the_decision_in_force_is_the_latest_on_or_before_the_day(app: Flask) -> None:
    admin = _admin()
    barking = _partnership("Barking and Dagenham Health and Wellbeing Board")
    _decide(admin, barking, True, APRIL)
    _decide(admin, barking, False, JULY)
    _decide(admin, barking, True, OCTOBER)
    session = db.session()
    assert opted_in_areas(session, APRIL - timedelta(days=1)) == set()
    assert opted_in_areas(session, APRIL) == {barking}
    assert opted_in_areas(session, JULY - timedelta(days=1)) == {barking}
    assert opted_in_areas(session, JULY) == set()
    assert opted_in_areas(session, OCTOBER - timedelta(days=1)) == set()
    assert opted_in_areas(session, OCTOBER) == {barking}
    in_force = decision_in_force(session, barking, date(2013, 8, 15))
    assert in_force is not None and in_force.decided_on == JULY and in_force.opted_in is False
    assert decision_in_force(session, barking, date(2013, 3, 31)) is None
    # The history is kept: three decisions, none overwritten.
    assert len(session.scalars(select(BenchmarkingDecision)).all()) == 3


def test_a_partnership_that_never_decided_is_never_counted(app: Flask) -> None:
    admin = _admin()
    decided = _partnership("Havering Domestic Abuse Partnership")
    _partnership("Redbridge Health and Wellbeing Board")
    _decide(admin, decided, True, APRIL)
    assert opted_in_areas(db.session(), OCTOBER) == {decided}


def test_each_partnership_is_judged_on_its_own_decisions(app: Flask) -> None:
    admin = _admin()
    early, late = _partnership("Early Board"), _partnership("Late Board")
    _decide(admin, early, True, APRIL)
    _decide(admin, late, False, APRIL)
    _decide(admin, late, True, OCTOBER)
    _decide(admin, early, False, OCTOBER)
    assert opted_in_areas(db.session(), JULY) == {early}
    assert opted_in_areas(db.session(), OCTOBER) == {late}


def test_a_decision_needs_a_past_day_an_approver_and_a_day_of_its_own(app: Flask) -> None:
    admin = _admin()
    barking = _partnership("Barking and Dagenham Health and Wellbeing Board")
    tomorrow = clock.today() + timedelta(days=1)
    errors = _refused(lambda session: record_decision(session, admin, barking, True, tomorrow, "  ", "chair"))
    assert errors == {
        "decided_on": "The decision date, 3 December 2013, is in the future. Enter the day "
        "Barking and Dagenham Health and Wellbeing Board decided, today (2 December 2013) or earlier",
        "approver_name": "Enter the name of the person who approved the decision, like Cllr Alex Morgan",
    }
    _decide(admin, barking, True, APRIL)
    again = _refused(
        lambda session: record_decision(session, admin, barking, False, APRIL, "Cllr Morgan", "")
    )
    assert again == {
        "decided_on": "Barking and Dagenham Health and Wellbeing Board already has a decision recorded for "
        "1 April 2013. A partnership makes one decision a day: check the date, or record the later "
        "decision on its own day"
    }
    # Today itself is allowed.
    _decide(admin, barking, False, clock.today())
    assert opted_in_areas(db.session(), clock.today()) == set()


def test_the_database_keeps_one_decision_a_day_too(app: Flask) -> None:
    barking = _partnership("Barking and Dagenham Health and Wellbeing Board")
    with pytest.raises(IntegrityError), db.transaction() as session:
        for approver in ("Cllr Alex Morgan", "Someone Else"):
            session.add(
                BenchmarkingDecision(
                    partnership_id=barking, opted_in=True, decided_on=APRIL, approver_name=approver
                )
            )


# ---------------------------------------------------------------- who may write


def test_only_administrators_change_benchmarking(app: Flask) -> None:
    barking = _partnership("Barking and Dagenham Health and Wellbeing Board")
    havering = _partnership("Havering Domestic Abuse Partnership")
    board = _board_member(barking)
    attempts = [
        lambda session: record_decision(session, board, barking, True, APRIL, "Cllr Alex Morgan", "chair"),
        lambda session: set_region(session, board, barking, "London"),
        lambda session: create_group(session, board, "Outer London", "", [barking, havering]),
    ]
    for attempt in attempts:
        with pytest.raises(Forbidden), db.transaction() as session:
            attempt(session)
    assert db.session.scalars(select(BenchmarkingDecision)).all() == []
    assert db.session.scalars(select(AreaRegion)).all() == []
    assert db.session.scalars(select(ComparisonGroup)).all() == []


# ---------------------------------------------------------------- regions and groups


def test_a_region_must_be_one_of_the_ten(app: Flask) -> None:
    admin = _admin()
    barking = _partnership("Barking and Dagenham Health and Wellbeing Board")
    errors = _refused(lambda session: set_region(session, admin, barking, "Greater London"))
    assert errors == {
        "region": "'Greater London' is not a region Barking and Dagenham Health and Wellbeing Board can be in. "
        "Choose one of North East, North West, Yorkshire and The Humber, East Midlands, West Midlands, "
        "East of England, London, South East, South West and Wales"
    }
    with db.transaction() as session:
        set_region(session, admin, barking, "London")
    with db.transaction() as session:
        set_region(session, admin, barking, "East of England")
    assert db.session.get(AreaRegion, barking) is not None
    assert db.session.scalars(select(AreaRegion.region)).all() == ["East of England"]
    with db.transaction() as session:
        set_region(session, admin, barking, None)
    assert db.session.scalars(select(AreaRegion)).all() == []


def test_a_group_needs_a_new_name_and_two_areas(app: Flask) -> None:
    admin = _admin()
    barking = _partnership("Barking and Dagenham Health and Wellbeing Board")
    havering = _partnership("Havering Domestic Abuse Partnership")
    with db.transaction() as session:
        group = create_group(
            session, admin, "Outer London boroughs", "Similar deprivation", [barking, havering]
        )
    errors = _refused(
        lambda session: create_group(session, admin, " outer LONDON boroughs ", "", [barking, barking])
    )
    assert errors == {
        "name": "There is already a group called Outer London boroughs. Give this group a different name",
        "members": "Choose at least 2 areas for the group: an area is compared with the others in it",
    }
    blank = _refused(lambda session: create_group(session, admin, "", "", [barking, 999]))
    assert blank == {
        "name": "Enter a name for the group, like Outer London boroughs",
        "members": "There is no partnership 999. Choose the group's areas from the list",
    }
    shrunk = _refused(lambda session: set_members(session, admin, group.id, [barking]))
    assert shrunk == {
        "members": "Choose at least 2 areas for the group: an area is compared with the others in it"
    }
    assert db.session.scalars(select(ComparisonGroup.name)).all() == ["Outer London boroughs"]


def test_groups_are_changed_and_deleted(app: Flask) -> None:
    admin = _admin()
    areas = [_partnership(name) for name in ("Barking", "Havering", "Redbridge")]
    with db.transaction() as session:
        group_id = create_group(session, admin, "Outer London", "", areas[:2]).id
    with db.transaction() as session:
        set_members(session, admin, group_id, areas[1:])
    db.session.expire_all()
    group = db.session.get(ComparisonGroup, group_id)
    assert group is not None and group.member_ids == frozenset(areas[1:])
    with db.transaction() as session:
        delete_group(session, admin, group_id)
    assert db.session.scalars(select(ComparisonGroup)).all() == []


# ---------------------------------------------------------------- the groups an area is compared within


def test_an_area_is_compared_only_with_areas_opted_in_on_the_day(app: Flask) -> None:
    admin = _admin()
    barking, havering, redbridge, leeds = (
        _partnership(name) for name in ("Barking", "Havering", "Redbridge", "Leeds")
    )
    for area in (barking, havering, leeds):
        _decide(admin, area, True, APRIL)
    _decide(admin, havering, False, OCTOBER)  # Havering leaves in October
    # Redbridge never decides.
    with db.transaction() as session:
        for area in (barking, havering, redbridge):
            set_region(session, admin, area, "London")
        set_region(session, admin, leeds, "Yorkshire and The Humber")
        create_group(session, admin, "Outer London", "", [barking, havering, redbridge])
        create_group(session, admin, "Big cities", "", [leeds, redbridge])
    session = db.session()
    assert comparison_groups_for(session, barking, JULY) == [
        AreaGroup("All areas", GroupKind.ALL_AREAS, frozenset({barking, havering, leeds})),
        AreaGroup("London areas", GroupKind.REGION, frozenset({barking, havering})),
        AreaGroup("Outer London", GroupKind.SIMILAR_AREAS, frozenset({barking, havering})),
    ]
    assert comparison_groups_for(session, barking, OCTOBER) == [
        AreaGroup("All areas", GroupKind.ALL_AREAS, frozenset({barking, leeds})),
        AreaGroup("London areas", GroupKind.REGION, frozenset({barking})),
        AreaGroup("Outer London", GroupKind.SIMILAR_AREAS, frozenset({barking})),
    ]
    assert comparison_groups_for(session, leeds, OCTOBER) == [
        AreaGroup("All areas", GroupKind.ALL_AREAS, frozenset({barking, leeds})),
        AreaGroup("Yorkshire and The Humber areas", GroupKind.REGION, frozenset({leeds})),
        AreaGroup("Big cities", GroupKind.SIMILAR_AREAS, frozenset({leeds})),
    ]
    # Areas not opted in on the day get no groups at all: they are never shown.
    assert comparison_groups_for(session, havering, OCTOBER) == []
    assert comparison_groups_for(session, redbridge, OCTOBER) == []
    assert comparison_groups_for(session, barking, APRIL - timedelta(days=1)) == []


def test_an_area_without_a_region_has_no_region_group(app: Flask) -> None:
    admin = _admin()
    barking, havering = _partnership("Barking"), _partnership("Havering")
    for area in (barking, havering):
        _decide(admin, area, True, APRIL)
    assert comparison_groups_for(db.session(), barking, JULY) == [
        AreaGroup("All areas", GroupKind.ALL_AREAS, frozenset({barking, havering}))
    ]


# ---------------------------------------------------------------- the audit trail


def test_every_change_is_audited(app: Flask) -> None:
    admin = _admin()
    barking, havering, redbridge = (_partnership(name) for name in ("Barking", "Havering", "Redbridge"))
    _decide(admin, barking, True, APRIL)
    decision = _audit("benchmarking decision")
    assert len(decision) == 1 and decision[0].action == "create"
    assert decision[0].changes["opted_in"] == [None, True]
    assert decision[0].changes["approver_name"] == [None, "Cllr Alex Morgan"]
    assert decision[0].changes["decided_on"] == [None, "2013-04-01"]

    with db.transaction() as session:
        set_region(session, admin, barking, "London")
    with db.transaction() as session:
        set_region(session, admin, barking, "South East")
    assert [(row.action, row.changes["region"]) for row in _audit("area region")] == [
        ("create", [None, "London"]),
        ("update", ["London", "South East"]),
    ]

    with db.transaction() as session:
        group_id = create_group(session, admin, "Outer London", "", [barking, havering]).id
    with db.transaction() as session:
        set_members(session, admin, group_id, [havering, redbridge])
    with db.transaction() as session:
        delete_group(session, admin, group_id)
    assert [row.action for row in _audit("comparison group")] == ["create", "delete"]
    assert _audit("comparison group")[0].changes["name"] == [None, "Outer London"]
    members = [(row.action, row.changes["partnership_id"]) for row in _audit("comparison group member")]
    assert sorted(members[:2]) == [("create", [None, barking]), ("create", [None, havering])]
    assert sorted(members[2:4]) == [("create", [None, redbridge]), ("delete", [barking, None])]
    assert sorted(members[4:]) == [("delete", [havering, None]), ("delete", [redbridge, None])]
