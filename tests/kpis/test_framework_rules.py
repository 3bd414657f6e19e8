"""The framework's rules, through the service functions: each bad input is
refused with its own message and changes nothing; a new target never
rewrites the quarters already judged by the old one."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from decimal import Decimal
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, select

from monitor.audit import Actor, AuditEvent, acting_as
from monitor.auth.models import User
from monitor.contracts.history import history_page
from monitor.contracts.models import Contract
from monitor.db import db
from monitor.errors import Forbidden, ValidationFailed
from monitor.kpis.framework import services
from monitor.kpis.framework.history import items_in_force
from monitor.kpis.models import FrameworkItem, Kpi
from monitor.kpis.periods import Quarter
from tests.conftest import DEMO_USERS

REFUGE = "LBBD-DV-002"  # framework from 2013-14-Q1 in the fixture; started April 2011
HALTON = "HBC-CYP-DA-01"  # framework from 2013-14-Q3; starts 4 November 2013


def user(who: str) -> User:
    return db.session.execute(select(User).where(User.email == DEMO_USERS[who])).scalar_one()


def contract(reference: str) -> Contract:
    return db.session.execute(select(Contract).where(Contract.reference == reference)).scalar_one()


def kpi_id(code: str) -> int:
    return db.session.execute(select(Kpi.id).where(Kpi.code == code)).scalar_one()


def item(reference: str, code: str, quarter: str) -> FrameworkItem:
    parsed = Quarter.parse(quarter)
    assert parsed is not None
    found = [i for i in items_in_force(db.session(), contract(reference).id, parsed) if i.kpi.code == code]
    assert len(found) == 1, found
    return found[0]


def state() -> tuple[list[tuple[Any, ...]], int]:
    """Every framework item and the number of audit events: a refusal changes neither."""
    rows = db.session.execute(
        select(
            FrameworkItem.id,
            FrameworkItem.kpi_id,
            FrameworkItem.target,
            FrameworkItem.target_basis,
            FrameworkItem.amber_tolerance_pct,
            FrameworkItem.direction,
            FrameworkItem.effective_from,
            FrameworkItem.effective_to,
        ).order_by(FrameworkItem.id)
    ).all()
    return [tuple(r) for r in rows], db.session.scalar(select(func.count(AuditEvent.id))) or 0


def run(write: Callable[[Any], Any], who: str = "lbbd") -> Any:
    with acting_as(Actor(None, DEMO_USERS[who])), db.transaction() as session:
        return write(session)


def fields(code: str = "CASES-CLOSED", **changes: Any) -> services.ItemFields:
    terms = services.ItemTerms(
        target=changes.pop("target", Decimal(12)),
        target_basis=changes.pop("target_basis", "quarter"),
        amber_tolerance_pct=changes.pop("amber_tolerance_pct", None),
        direction=changes.pop("direction", None),
    )
    return services.ItemFields(
        kpi_id=changes.pop("kpi_id", kpi_id(code)),
        terms=terms,
        effective_from=changes.pop("effective_from", "2013-14-Q3"),
        effective_to=changes.pop("effective_to", ""),
    )


def test_adding_an_item_uses_the_defaults_and_is_audited(frameworks: Flask) -> None:
    refuge, who = contract(REFUGE), user("lbbd")
    added = run(lambda s: services.add_item(s, who, refuge, fields()))
    saved = db.session.get(FrameworkItem, added.id)
    assert saved is not None
    assert saved.amber_tolerance_pct == Decimal(10)
    assert saved.direction is None and saved.effective_direction == "higher is better"
    assert saved.effective_to is None and saved.contract_id == refuge.id
    newest = history_page(db.session(), refuge.id, 1).entries[0]
    assert newest.what == ["Added the framework's Cases closed from Q3 2013/14"]
    assert ("Target", "12") in newest.recorded


def test_a_direction_like_the_kpis_own_is_not_stored_as_an_override(frameworks: Flask) -> None:
    refuge, who = contract(REFUGE), user("lbbd")
    same = run(lambda s: services.add_item(s, who, refuge, fields(direction="higher is better")))
    other = run(
        lambda s: services.add_item(s, who, refuge, fields("WAIT-DAYS", direction="higher is better"))
    )
    assert db.session.get(FrameworkItem, same.id).direction is None  # type: ignore[union-attr]
    assert db.session.get(FrameworkItem, other.id).direction == "higher is better"  # type: ignore[union-attr]


BAD_ITEMS: list[tuple[str, dict[str, Any], str, str]] = [
    ("no KPI", {"kpi_id": None}, "kpi_id", "Choose a KPI from the library"),
    ("unknown KPI", {"kpi_id": 999_999}, "kpi_id", "Choose a KPI from the library"),
    ("negative target", {"target": Decimal(-1)}, "target", "The target cannot be negative"),
    (
        "percentage over 100",
        {"code": "SAFETY-PLAN", "target": Decimal("100.5")},
        "target",
        "SAFETY-PLAN is a percentage, so the target must be 100 or less",
    ),
    (
        "pennies of a target",
        {"target": Decimal("1.005")},
        "target",
        "The target can have at most 2 decimal places",
    ),
    (
        "tolerance over 100",
        {"amber_tolerance_pct": Decimal(101)},
        "amber_tolerance_pct",
        "Enter the amber tolerance as a percentage from 0 to 100, like 10",
    ),
    (
        "negative tolerance",
        {"amber_tolerance_pct": Decimal(-5)},
        "amber_tolerance_pct",
        "Enter the amber tolerance as a percentage from 0 to 100, like 10",
    ),
    (
        "unknown basis",
        {"target_basis": "month"},
        "target_basis",
        "Choose whether the target is per quarter or per year",
    ),
    ("unknown direction", {"direction": "sideways"}, "direction", "Choose higher is better, lower is better"),
    ("no first quarter", {"effective_from": ""}, "effective_from", "Enter the first quarter it applies to."),
    (
        "quarter as a date",
        {"effective_from": "01/10/2013"},
        "effective_from",
        "Write the quarter like 2013-14-Q3",
    ),
    ("quarter 5", {"effective_from": "2013-14-Q5"}, "effective_from", "Write the quarter like 2013-14-Q3"),
    (
        "years that do not follow",
        {"effective_from": "2013-15-Q1"},
        "effective_from",
        "Write the quarter like 2013-14-Q3",
    ),
    ("bad last quarter", {"effective_to": "Q4"}, "effective_to", "Write the quarter like 2013-14-Q3"),
    (
        "last before first",
        {"effective_from": "2013-14-Q3", "effective_to": "2013-14-Q2"},
        "effective_to",
        "The last quarter must be the same as or after the first quarter",
    ),
    (
        "overlaps the open item",
        {"code": "REF-RECEIVED", "effective_from": "2014-15-Q1"},
        "kpi_id",
        "REF-RECEIVED is already in this contract's framework from 2013-14-Q1 with no end",
    ),
    (
        "overlaps from before",
        {"code": "CASELOAD", "effective_from": "2012-13-Q1", "effective_to": "2013-14-Q1"},
        "kpi_id",
        "CASELOAD is already in this contract's framework",
    ),
    (
        "before the contract",
        {"effective_from": "2010-11-Q4", "effective_to": "2010-11-Q4"},
        "effective_from",
        "The contract starts in 2011-12-Q1; the first quarter cannot be before then",
    ),
]


@pytest.mark.parametrize(
    ("changes", "field", "message"), [b[1:] for b in BAD_ITEMS], ids=[b[0] for b in BAD_ITEMS]
)
def test_bad_items_are_refused_and_change_nothing(
    frameworks: Flask, changes: dict[str, Any], field: str, message: str
) -> None:
    refuge, who = contract(REFUGE), user("lbbd")
    before = state()
    with pytest.raises(ValidationFailed) as refused:
        run(lambda s: services.add_item(s, who, refuge, fields(**changes)))
    assert refused.value.errors[field].startswith(message), refused.value.errors
    assert state() == before


def test_every_message_at_once(frameworks: Flask) -> None:
    refuge, who = contract(REFUGE), user("lbbd")
    bad = fields(kpi_id=None, target=Decimal(-1), amber_tolerance_pct=Decimal(200), effective_from="soon")
    with pytest.raises(ValidationFailed) as refused:
        run(lambda s: services.add_item(s, who, refuge, bad))
    assert set(refused.value.errors) == {"kpi_id", "target", "amber_tolerance_pct", "effective_from"}


def test_items_for_the_same_kpi_may_follow_each_other(frameworks: Flask) -> None:
    refuge, who = contract(REFUGE), user("lbbd")
    earlier = fields(
        "REF-RECEIVED", effective_from="2012-13-Q1", effective_to="2012-13-Q4", target=Decimal(35)
    )
    run(lambda s: services.add_item(s, who, refuge, earlier))
    assert item(REFUGE, "REF-RECEIVED", "2012-13-Q4").target == Decimal(35)
    assert item(REFUGE, "REF-RECEIVED", "2013-14-Q1").target == Decimal(40)


@pytest.mark.parametrize("who", ["halton", "refuge", "bd_board", "admin"])
def test_only_the_contracts_commissioners_may_change_its_framework(frameworks: Flask, who: str) -> None:
    refuge, person = contract(REFUGE), user(who)
    existing = item(REFUGE, "REF-RECEIVED", "2013-14-Q1")
    before = state()
    for write in (
        lambda s: services.add_item(s, person, refuge, fields()),
        lambda s: services.change_target(s, person, refuge, existing, Decimal(1), "2013-14-Q3"),
        lambda s: services.end_item(s, person, refuge, existing, "2013-14-Q3"),
    ):
        with pytest.raises(Forbidden):
            run(write, who)
    assert state() == before


def test_a_new_target_leaves_past_quarters_judged_by_the_old_one(frameworks: Flask) -> None:
    refuge, who = contract(REFUGE), user("ccg")  # a partner commissioner may change it too
    old = item(REFUGE, "REF-RECEIVED", "2013-14-Q1")
    new = run(lambda s: services.change_target(s, who, refuge, old, Decimal(45), "2013-14-Q3"))
    db.session.expire_all()
    assert new.id != old.id
    assert item(REFUGE, "REF-RECEIVED", "2013-14-Q1").target == Decimal(40)
    assert item(REFUGE, "REF-RECEIVED", "2013-14-Q2").target == Decimal(40)
    assert item(REFUGE, "REF-RECEIVED", "2013-14-Q3").target == Decimal(45)
    assert item(REFUGE, "REF-RECEIVED", "2015-16-Q1").target == Decimal(45)
    ended = db.session.get(FrameworkItem, old.id)
    assert ended is not None and ended.effective_to == "2013-14-Q2"
    # Both halves of the change show in the contract's history.
    history = [sentence for e in history_page(db.session(), refuge.id, 1).entries for sentence in e.what]
    assert "Added the framework's Referrals received from Q3 2013/14" in history
    assert (
        "Changed the last quarter of the framework's Referrals received from Q1 2013/14 from none to Q2 2013/14"
        in history
    )


def test_a_change_from_the_first_quarter_corrects_the_item_in_place(frameworks: Flask) -> None:
    halton, who = contract(HALTON), user("halton")
    old = item(HALTON, "CONTACT-2WD", "2013-14-Q3")
    terms = replace(services.terms_of(old), target=Decimal(85), amber_tolerance_pct=Decimal(5))
    changed = run(lambda s: services.change_item(s, who, halton, old, terms, "2013-14-Q3"))
    assert changed.id == old.id
    db.session.expire_all()
    kept = item(HALTON, "CONTACT-2WD", "2013-14-Q3")
    assert (kept.target, kept.amber_tolerance_pct) == (Decimal(85), Decimal(5))


def test_a_split_item_keeps_its_end(frameworks: Flask) -> None:
    refuge, who = contract(REFUGE), user("lbbd")
    old = item(REFUGE, "CASELOAD", "2013-14-Q1")
    run(lambda s: services.end_item(s, who, refuge, old, "2014-15-Q4"))
    old = item(REFUGE, "CASELOAD", "2013-14-Q1")
    new = run(lambda s: services.change_target(s, who, refuge, old, Decimal(25), "2014-15-Q1"))
    assert (new.effective_from, new.effective_to) == ("2014-15-Q1", "2014-15-Q4")


@pytest.mark.parametrize(
    ("target", "start", "field", "message"),
    [
        (Decimal(45), "2012-13-Q4", "from_quarter", "This item came into force in 2013-14-Q1"),
        (Decimal(45), "next year", "from_quarter", "Write the quarter like 2013-14-Q3"),
        (Decimal(45), "", "from_quarter", "Enter the quarter the change starts."),
        (Decimal(40), "2013-14-Q3", "target", "Nothing has changed"),
        (Decimal(-3), "2013-14-Q3", "target", "The target cannot be negative"),
    ],
)
def test_bad_changes_are_refused_and_change_nothing(
    frameworks: Flask, target: Decimal, start: str, field: str, message: str
) -> None:
    refuge, who = contract(REFUGE), user("lbbd")
    old = item(REFUGE, "REF-RECEIVED", "2013-14-Q1")
    before = state()
    with pytest.raises(ValidationFailed) as refused:
        run(lambda s: services.change_target(s, who, refuge, old, target, start))
    assert refused.value.errors[field].startswith(message), refused.value.errors
    assert state() == before


def test_a_change_cannot_start_after_the_item_ended(frameworks: Flask) -> None:
    refuge, who = contract(REFUGE), user("lbbd")
    old = item(REFUGE, "REF-RECEIVED", "2013-14-Q1")
    run(lambda s: services.end_item(s, who, refuge, old, "2013-14-Q4"))
    old = item(REFUGE, "REF-RECEIVED", "2013-14-Q1")
    with pytest.raises(ValidationFailed) as refused:
        run(lambda s: services.change_target(s, who, refuge, old, Decimal(50), "2014-15-Q1"))
    assert refused.value.errors["from_quarter"].startswith("This item ended in 2013-14-Q4")


def test_ending_an_item(frameworks: Flask) -> None:
    refuge, who = contract(REFUGE), user("lbbd")
    old = item(REFUGE, "MARAC-REPEAT", "2013-14-Q1")
    run(lambda s: services.end_item(s, who, refuge, old, "2013-14-Q3"))
    codes = {i.kpi.code for i in items_in_force(db.session(), refuge.id, Quarter(2013, 4))}
    assert "MARAC-REPEAT" not in codes and "REF-RECEIVED" in codes
    assert "MARAC-REPEAT" in {i.kpi.code for i in items_in_force(db.session(), refuge.id, Quarter(2013, 3))}


@pytest.mark.parametrize(
    ("last", "message"),
    [
        ("2012-13-Q4", "This item came into force in 2013-14-Q1; the last quarter cannot be before then"),
        ("Q3", "Write the quarter like 2013-14-Q3"),
        ("", "Enter the last quarter it applies to."),
    ],
)
def test_bad_ends_are_refused_and_change_nothing(frameworks: Flask, last: str, message: str) -> None:
    refuge, who = contract(REFUGE), user("lbbd")
    old = item(REFUGE, "MARAC-REPEAT", "2013-14-Q1")
    before = state()
    with pytest.raises(ValidationFailed) as refused:
        run(lambda s: services.end_item(s, who, refuge, old, last))
    assert refused.value.errors["effective_to"].startswith(message)
    assert state() == before


def test_an_end_cannot_run_into_the_next_item(frameworks: Flask) -> None:
    refuge, who = contract(REFUGE), user("lbbd")
    old = item(REFUGE, "REF-RECEIVED", "2013-14-Q1")
    run(lambda s: services.change_target(s, who, refuge, old, Decimal(45), "2014-15-Q1"))
    first = item(REFUGE, "REF-RECEIVED", "2013-14-Q1")
    before = state()
    with pytest.raises(ValidationFailed) as refused:
        run(lambda s: services.end_item(s, who, refuge, first, "2014-15-Q2"))
    assert "already in this contract's framework from 2014-15-Q1" in refused.value.errors["effective_to"]
    assert state() == before
