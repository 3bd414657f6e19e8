"""Consistency rules between KPIs: declared in the library, applied to every
return by the cross-checks with the severity the library gives each rule."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from flask import Flask
from sqlalchemy import select

from monitor.auth.models import User
from monitor.db import db
from monitor.kpis.library.relations import (
    DeclaredRule,
    ReturnFigures,
    RuleKind,
    RuleSeverity,
    broken_rules,
)
from monitor.kpis.library.rules import ConsistencyRule, declared_rules
from monitor.kpis.returns.ingest import check_workbook
from monitor.kpis.returns.ingest.result import CheckedReturn, FigureIn, Message, Severity
from tests.conftest import DEMO_USERS
from tests.kpis.fixtures.workbooks import HALTON_GOOD, Q3, SETTINGS, add_item, contract, fill, template

HALTON = "HBC-CYP-DA-01"
D = Decimal


def check(content: bytes, reference: str = HALTON, user: str = "halton_provider") -> CheckedReturn:
    person = db.session.execute(select(User).where(User.email == DEMO_USERS[user])).scalar_one()
    return check_workbook(
        db.session(),
        content,
        "return.xlsx",
        contract=contract(reference),
        quarter=Q3,
        user=person,
        settings=SETTINGS,
    )


def only(result: CheckedReturn) -> Message:
    assert len(result.messages) == 1, [m.as_dict() for m in result.messages]
    return result.messages[0]


def halton(**changes: Any) -> dict[tuple[str, str, str], Any]:
    figures = dict(HALTON_GOOD)
    for key, value in changes.items():
        figures[tuple(key.split("/"))] = value  # type: ignore[index]
    return figures


def set_severity(kind: RuleKind, code: str, severity: RuleSeverity) -> None:
    with db.transaction() as session:
        for rule in session.scalars(select(ConsistencyRule).where(ConsistencyRule.kind == kind)):
            if rule.kpi.code == code:
                rule.severity = severity.value
    db.session.remove()


# -- the library declares them ----------------------------------------------


def test_library_declares_the_relations_between_kpis(library: Flask) -> None:
    rules = {(r.kind, r.kpi, r.related): r.severity for r in declared_rules(db.session())}
    assert rules == {
        (RuleKind.PART_OF, "REF-ACCEPTED", "REF-RECEIVED"): RuleSeverity.ERROR,
        (RuleKind.PART_OF, "PERP-COMPLETIONS", "PERP-STARTS"): RuleSeverity.ERROR,
        (RuleKind.DENOMINATOR, "CONTACT-2WD", "REF-ACCEPTED"): RuleSeverity.ERROR,
        (RuleKind.DENOMINATOR, "PLANNED-ENDING", "CASES-CLOSED"): RuleSeverity.ERROR,
        (RuleKind.DENOMINATOR, "SAFETY-PLAN", "CASES-CLOSED"): RuleSeverity.ERROR,
        (RuleKind.BREAKDOWN, "REF-RECEIVED", "REF-RECEIVED"): RuleSeverity.ERROR,
        (RuleKind.BREAKDOWN, "CP-CIN-SUPPORTED", "CP-CIN-SUPPORTED"): RuleSeverity.ERROR,
        # Unmet need and the statutory safe-accommodation return's figures.
        (RuleKind.PART_OF, "REF-NOT-TAKEN", "REF-RECEIVED"): RuleSeverity.ERROR,
        (RuleKind.PART_OF, "CHILD-SUPPORT-RECEIVED", "CHILD-SUPPORT-WANTED"): RuleSeverity.ERROR,
        (RuleKind.PART_OF, "SA-BLACK-MINORITISED", "SA-SUPPORTED"): RuleSeverity.ERROR,
        (RuleKind.PART_OF, "SA-MENTAL-HEALTH", "SA-SUPPORTED"): RuleSeverity.ERROR,
        (RuleKind.PART_OF, "SA-DISABLED", "SA-SUPPORTED"): RuleSeverity.ERROR,
        (RuleKind.PART_OF, "SA-LGBT", "SA-SUPPORTED"): RuleSeverity.ERROR,
        (RuleKind.BREAKDOWN, "REF-NOT-TAKEN", "REF-NOT-TAKEN"): RuleSeverity.ERROR,
        (RuleKind.BREAKDOWN, "SA-SUPPORTED", "SA-SUPPORTED"): RuleSeverity.ERROR,
        (RuleKind.BREAKDOWN, "SA-ENDED", "SA-ENDED"): RuleSeverity.ERROR,
        (RuleKind.BREAKDOWN, "SA-BEDSPACES", "SA-BEDSPACES"): RuleSeverity.ERROR,
    }


# -- the evaluator, on its own ----------------------------------------------


def test_every_kind_of_rule_on_plain_figures() -> None:
    rules = [
        DeclaredRule(RuleKind.PART_OF, "ACCEPTED", "RECEIVED"),
        DeclaredRule(RuleKind.DENOMINATOR, "CONTACTED", "ACCEPTED", RuleSeverity.WARNING),
        DeclaredRule(RuleKind.BREAKDOWN, "RECEIVED", "RECEIVED"),
    ]
    good = ReturnFigures(
        counts={"ACCEPTED": D(27), "RECEIVED": D(29)},
        denominators={"CONTACTED": D(27)},
        parts={"RECEIVED": [D(20), D(9)]},
    )
    assert broken_rules(rules, good) == []
    bad = ReturnFigures(
        counts={"ACCEPTED": D(29), "RECEIVED": D(27)},
        denominators={"CONTACTED": D(30)},
        parts={"RECEIVED": [D(20), D(9)]},
    )
    assert [(b.rule.kpi, b.figure, b.against) for b in broken_rules(rules, bad)] == [
        ("ACCEPTED", D(29), D(27)),
        ("CONTACTED", D(30), D(29)),
        ("RECEIVED", D(27), D(29)),
    ]
    # A rule whose figures are not both in the return does not apply.
    assert broken_rules(rules, ReturnFigures(counts={"ACCEPTED": D(29)})) == []


def test_figures_read_from_a_checked_return() -> None:
    figures = ReturnFigures.from_figures(
        [
            FigureIn("RECEIVED", "", D(29)),
            FigureIn("RECEIVED", "Police", D(20)),
            FigureIn("RECEIVED", "Health", D(9)),
            FigureIn("CONTACTED", "", D("92.59"), numerator=D(25), denominator=D(27)),
        ]
    )
    assert figures == ReturnFigures(
        counts={"RECEIVED": D(29)}, denominators={"CONTACTED": D(27)}, parts={"RECEIVED": [D(20), D(9)]}
    )


# -- the cross-checks apply them ----------------------------------------------


def test_accepted_referrals_not_above_referrals_received(frameworks: Flask) -> None:
    figures = halton(
        **{"REF-ACCEPTED//value": 33, "CONTACT-2WD//denominator": 33, "CONTACT-2WD//numerator": 31}
    )
    message = only(check(fill(template(), figures)))
    assert (message.severity, message.sheet, message.cell, message.kpi) == (
        Severity.ERROR,
        "KPIs",
        "H12",
        "REF-ACCEPTED",
    )
    assert message.message == (
        "Referrals accepted (33) is more than referrals received (32). "
        "It cannot be more: correct one of the two figures."
    )


def test_denominator_must_be_the_count_it_names(frameworks: Flask) -> None:
    message = only(check(fill(template(), halton(**{"CONTACT-2WD//denominator": 27}))))
    assert (message.severity, message.sheet, message.kpi) == (Severity.ERROR, "KPIs", "CONTACT-2WD")
    assert message.message == (
        "Referrals accepted for contacted within two working days is 27, but referrals accepted "
        "is 28 in cell H12. They are the same count: correct one of the two so that they match."
    )


def test_safety_plans_out_of_cases_closed(frameworks: Flask) -> None:
    figures = halton(**{"SAFETY-PLAN//denominator": 20, "SAFETY-PLAN//numerator": 19})
    message = only(check(fill(template(), figures)))
    assert (message.severity, message.kpi) == (Severity.ERROR, "SAFETY-PLAN")
    assert message.message.startswith(
        "Cases closed for cases with a safety plan is 20, but cases closed is 18"
    )


def test_a_rule_made_a_warning_warns(frameworks: Flask) -> None:
    set_severity(RuleKind.PART_OF, "REF-ACCEPTED", RuleSeverity.WARNING)
    set_severity(RuleKind.BREAKDOWN, "REF-RECEIVED", RuleSeverity.WARNING)
    figures = halton(
        **{
            "REF-ACCEPTED//value": 33,
            "CONTACT-2WD//denominator": 33,
            "CONTACT-2WD//numerator": 31,
            "REF-RECEIVED//total": 31,
        }
    )
    result = check(fill(template(), figures))
    assert result.ok
    assert [(m.severity, m.kpi) for m in result.messages] == [
        (Severity.WARNING, "REF-ACCEPTED"),
        (Severity.WARNING, "REF-RECEIVED"),
    ]
    assert result.messages[0].message == (
        "Referrals accepted (33) is more than referrals received (31), which it is usually part of. "
        "Check both figures, and confirm they are right when you submit."
    )
    assert result.messages[1].message == (
        "The parts of referrals received add up to 32, but the total is 31. "
        "Check the parts and the total, and confirm they are right when you submit."
    )


def test_a_rule_applies_only_when_both_kpis_are_in_the_return(library: Flask) -> None:
    reference = "LBBD-DV-003"
    add_item(reference, "PERP-COMPLETIONS", Decimal(3))
    add_item(reference, "REF-ACCEPTED", Decimal(3))
    figures: dict[tuple[str, str, str], Any] = {
        ("PERP-COMPLETIONS", "", "value"): 6,
        ("REF-ACCEPTED", "", "value"): 9,
    }
    result = check(fill(template(reference), figures, outcomes=[]), reference=reference, user="lbbd")
    assert result.messages == []
    # The control: with referrals received in the return too, the same broken
    # figures (9 accepted of 5 received) break the rule, and only that rule.
    add_item(reference, "REF-RECEIVED", Decimal(5))
    parts = {"Police": 2, "Children's social care": 1, "MASH": 1, "Health": 1, "Education": 0}
    parts |= {"Self-referral": 0, "Other": 0}
    figures |= {("REF-RECEIVED", source, "breakdown"): part for source, part in parts.items()}
    figures[("REF-RECEIVED", "", "total")] = 5
    result = check(fill(template(reference), figures, outcomes=[]), reference=reference, user="lbbd")
    message = only(result)
    assert (message.severity, message.kpi) == (Severity.ERROR, "REF-ACCEPTED")
    assert message.message == (
        "Referrals accepted (9) is more than referrals received (5). "
        "It cannot be more: correct one of the two figures."
    )


def test_unmet_need_figures_are_checked_like_the_rest(library: Flask) -> None:
    """Referrals not taken by reason add up and are some of those received;
    children who got support are some of those whose support was asked for."""
    reference = "LBBD-DV-003"
    for code in ("REF-RECEIVED", "REF-NOT-TAKEN", "CHILD-SUPPORT-WANTED", "CHILD-SUPPORT-RECEIVED"):
        add_item(reference, code, None)
    received = {"Police": 4, "Children's social care": 1, "MASH": 1, "Health": 1, "Education": 1}
    received |= {"Self-referral": 1, "Other": 1}
    not_taken = {"No space": 6, "Needs beyond the service": 1, "Not eligible": 1, "Declined": 1}
    not_taken |= {"No recourse to public funds": 1, "Other": 0}
    figures: dict[tuple[str, str, str], Any] = {
        **{("REF-RECEIVED", source, "breakdown"): part for source, part in received.items()},
        ("REF-RECEIVED", "", "total"): 10,
        **{("REF-NOT-TAKEN", reason, "breakdown"): part for reason, part in not_taken.items()},
        ("REF-NOT-TAKEN", "", "total"): 10,
        ("CHILD-SUPPORT-WANTED", "", "value"): 12,
        ("CHILD-SUPPORT-RECEIVED", "", "value"): 4,
    }
    good = check(fill(template(reference), figures, outcomes=[]), reference=reference, user="lbbd")
    assert good.messages == []

    figures[("REF-NOT-TAKEN", "", "total")] = 11  # its reasons add up to 10, and 11 were not taken of 10
    figures[("CHILD-SUPPORT-RECEIVED", "", "value")] = 13
    bad = check(fill(template(reference), figures, outcomes=[]), reference=reference, user="lbbd")
    assert not bad.ok
    assert sorted((m.severity, m.kpi) for m in bad.messages) == [
        (Severity.ERROR, "CHILD-SUPPORT-RECEIVED"),
        (Severity.ERROR, "REF-NOT-TAKEN"),
        (Severity.ERROR, "REF-NOT-TAKEN"),
    ]
    children = next(m for m in bad.messages if m.kpi == "CHILD-SUPPORT-RECEIVED")
    assert children.message == (
        "Children who received support (13) is more than children whose support was asked for (12). "
        "It cannot be more: correct one of the two figures."
    )
