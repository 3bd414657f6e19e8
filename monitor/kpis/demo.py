"""Demo frameworks and quarterly returns for the demo contracts.

Figures are illustrative, generated with a fixed seed per contract and
quarter around each framework's targets, and go through the real path: a
generated template, filled in like a provider would, checked by the ingest
pipeline and stored as a submitted version, then accepted or queried by the
commissioner. Halton's children's service reports SDQ and WEMWBS outcomes.
"""

from __future__ import annotations

import random
import zlib
from collections.abc import Callable
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from flask import current_app
from sqlalchemy import select, true
from sqlalchemy.orm import Session

from monitor import clock
from monitor.audit import Actor, acting_as
from monitor.auth.models import Role, User
from monitor.contracts.models import Contract
from monitor.db import Database
from monitor.formatting import count_text
from monitor.kpis.framework import services as framework_services
from monitor.kpis.framework.history import items_in_force
from monitor.kpis.library.definitions import load_library
from monitor.kpis.library.relations import DeclaredRule, ReturnFigures, RuleKind, broken_rules
from monitor.kpis.library.rules import declared_rules
from monitor.kpis.models import FrameworkItem, Kpi, Return, ReturnVersion
from monitor.kpis.performance.item_targets import item_target
from monitor.kpis.returns import services as returns
from monitor.kpis.returns.calendar import CalendarRules, ExpectedReturn, expected_returns
from monitor.kpis.returns.ingest.pipeline import check_workbook
from monitor.kpis.returns.template import build_template
from monitor.kpis.returns.template.filling import fill_template, input_rows

# reference -> first quarter in force, {KPI code: quarterly target (None: monitored only)}
FRAMEWORKS: dict[str, tuple[str, dict[str, int | None]]] = {
    "LBBD-DV-001": (
        "2013-14-Q1",
        {
            "REF-RECEIVED": 60,
            "REF-ACCEPTED": 50,
            "CONTACT-2WD": 90,
            "CASES-CLOSED": 40,
            "FEEL-SAFER": 85,
            "ABUSE-STOPPED": 70,
            "MARAC-REPEAT": 5,
        },
    ),
    "LBBD-DV-002": (
        "2013-14-Q1",
        {"REF-RECEIVED": 40, "CASELOAD": 20, "PLANNED-ENDING": 75, "FEEL-SAFER": 85, "ABUSE-STOPPED": 70},
    ),
    "LBBD-DV-004": ("2013-14-Q1", {"CASES-CLOSED": 10, "WAIT-DAYS": 15, "WEMWBS-IMPROVED": 50}),
    "LBBD-DV-005": ("2013-14-Q1", {"REF-RECEIVED": 50, "MARAC-REPEAT": 6}),
    "LBBD-DV-006": ("2013-14-Q1", {"REF-RECEIVED": 20, "CP-CIN-SUPPORTED": None, "SDQ-IMPROVED": 60}),
    "LBBD-DV-007": ("2013-14-Q1", {"REF-RECEIVED": 100}),
    "HBC-CYP-DA-01": (
        "2013-14-Q3",
        {
            "REF-RECEIVED": 30,
            "REF-ACCEPTED": 25,
            "CONTACT-2WD": 90,
            "CASES-CLOSED": 15,
            "SAFETY-PLAN": 95,
            "CP-CIN-SUPPORTED": None,
            "SDQ-IMPROVED": 60,
            "WEMWBS-IMPROVED": 50,
        },
    ),
    "TRI-VAWG-01": ("2013-14-Q1", {"REF-RECEIVED": 80, "FEEL-SAFER": 85}),
}

# Unmet need and the statutory safe-accommodation return's KPIs, monitored
# without targets from MONITORED_FROM, as a council adds them when it starts
# collecting them: reference -> {KPI code: a typical quarter's figure, or for
# a KPI reported by breakdown, each part's (parts not named are 0)}. They were
# added after the frameworks above and draw from streams of their own, so
# the figures drawn for the others stay as they were. LBBD-DV-002 (the refuge)
# and LBBD-DV-005 (the sanctuary scheme) are Barking and Dagenham's safe
# accommodation. About a third of the children whose support was asked for
# get it, as the Domestic Abuse Commissioner found nationally (29%).
MONITORED_FROM = "2013-14-Q3"
MONITORED: dict[str, dict[str, int | dict[str, int]]] = {
    "LBBD-DV-001": {
        "REF-NOT-TAKEN": {"Needs beyond the service": 2, "Not eligible": 3, "Declined": 4, "Other": 1},
        "WAITING-END": 6,
        "DAYS-TO-CONTACT": 3,
    },
    "LBBD-DV-002": {
        "REF-NOT-TAKEN": {"No space": 14, "Needs beyond the service": 3, "No recourse to public funds": 4},
        "WAITING-END": 5,
        "CHILD-SUPPORT-WANTED": 18,
        "CHILD-SUPPORT-RECEIVED": 6,
        "SA-SUPPORTED": {"Women": 24, "Men": 1, "Trans adults": 1, "Children": 26},
        "SA-BLACK-MINORITISED": 15,
        "SA-MENTAL-HEALTH": 19,
        "SA-DISABLED": 7,
        "SA-LGBT": 3,
        "SA-ENDED": {
            "Support completed": 7,
            "Moved to other accommodation": 4,
            "Evicted or asked to leave": 1,
            "Returned to the perpetrator": 2,
            "Left without notice": 2,
        },
        "SA-BEDSPACES": {"Refuge": 14, "Second stage accommodation": 4},
    },
    "LBBD-DV-005": {
        "SA-SUPPORTED": {"Women": 16, "Men": 2, "Children": 20},
        "SA-ENDED": {"Support completed": 11, "Moved to other accommodation": 2},
        "SA-BEDSPACES": {"Sanctuary scheme": 40},
    },
    "LBBD-DV-006": {
        "REF-NOT-TAKEN": {"No space": 6, "Not eligible": 2},
        "CHILD-SUPPORT-WANTED": 24,
        "CHILD-SUPPORT-RECEIVED": 7,
    },
    "TRI-VAWG-01": {
        "REF-NOT-TAKEN": {"No space": 9, "Needs beyond the service": 2, "Other": 2},
        "CHILD-SUPPORT-WANTED": 30,
        "CHILD-SUPPORT-RECEIVED": 9,
    },
}

# What happens to each demo return after it is submitted; unlisted ones are accepted.
QUERIED = {
    ("TRI-VAWG-01", "2013-14-Q4"): "Referrals from schools look low against Q3: please confirm the count."
}
AWAITING_REVIEW = {("LBBD-DV-002", "2013-14-Q4"), ("HBC-CYP-DA-01", "2013-14-Q4")}
NOT_SENT = {("LBBD-DV-005", "2013-14-Q4")}  # late, so the calendar and reminders have something to show

ILLUSTRATIVE = "Illustrative demo figures."


def _rng(reference: str, period: str, code: str = "") -> random.Random:
    """The draws for a contract's quarter; a monitored KPI's (see MONITORED) on their own."""
    return random.Random(zlib.crc32(f"{reference}/{period}{'/' + code if code else ''}".encode()))


def _split(total: int, parts: int, rng: random.Random) -> list[int]:
    """A total shared out across breakdown categories, adding up exactly."""
    weights = [rng.random() + 0.2 for _ in range(parts)]
    shares = [int(total * w / sum(weights)) for w in weights]
    shares[0] += total - sum(shares)
    return shares


def _figures(
    items: list[FrameworkItem],
    rows: list[tuple[str, str, str]],
    rng: random.Random,
    rules: list[DeclaredRule],
    targets: dict[str, Decimal | None],
    monitored: dict[str, tuple[int | dict[str, int], random.Random]] | None = None,
) -> dict[Any, Any]:
    """Figures drawn around `targets`, each KPI's target for the quarter: pro-rated
    in a part quarter, so a service that ran 31 days reports about 31 days' work.
    A monitored KPI's figures are drawn around its typical figures, from its own stream."""
    kpis = {item.kpi.code: item.kpi for item in items}
    figures: dict[Any, Any] = {}
    shares: dict[str, float] = {}  # a percentage's share, drawn once and kept if its denominator changes
    for code in dict.fromkeys(code for code, _, _ in rows):
        kpi, target = kpis[code], targets.get(code)
        lines = [(b, line) for c, b, line in rows if c == code]
        if monitored and code in monitored:
            _draw_monitored(figures, code, lines, *monitored[code])
            continue
        if kpi.has_fraction:
            denominator = rng.randint(15, 45)
            shares[code] = float(target or 80) / 100 + rng.uniform(-0.12, 0.08)
            _set_fraction(figures, code, denominator, shares[code])
            continue
        base = float(target) if target else 12.0
        value = max(0, round(base * rng.uniform(0.8, 1.2)))
        breakdowns = [b for b, line in lines if line == "breakdown"]
        if breakdowns:
            _set_parts(figures, code, breakdowns, _split(value, len(breakdowns), rng))
            figures[(code, "", "total")] = value
        else:
            figures[(code, "", "value")] = value
    _keep_rules(figures, rows, rules, shares)
    return figures


def _draw_monitored(
    figures: dict[Any, Any],
    code: str,
    lines: list[tuple[str, str]],
    typical: int | dict[str, int],
    stream: random.Random,
) -> None:
    def draw(figure: int) -> int:
        return max(0, round(figure * stream.uniform(0.8, 1.2)))

    breakdowns = [b for b, line in lines if line == "breakdown"]
    if not breakdowns:
        figures[(code, "", "value")] = draw(typical if isinstance(typical, int) else sum(typical.values()))
        return
    parts = typical if isinstance(typical, dict) else {}
    drawn = [draw(parts.get(label, 0)) for label in breakdowns]
    _set_parts(figures, code, breakdowns, drawn)
    figures[(code, "", "total")] = sum(drawn)


def _set_fraction(figures: dict[Any, Any], code: str, denominator: int, share: float) -> None:
    figures[(code, "", "denominator")] = denominator
    figures[(code, "", "numerator")] = max(0, min(denominator, round(denominator * share)))


def _set_parts(figures: dict[Any, Any], code: str, labels: list[str], parts: list[int]) -> None:
    for label, part in zip(labels, parts, strict=True):
        figures[(code, label, "breakdown")] = part


def _keep_rules(
    figures: dict[Any, Any],
    rows: list[tuple[str, str, str]],
    rules: list[DeclaredRule],
    shares: dict[str, float],
) -> None:
    """Bend the drawn figures to the library's rules, as a real service's figures
    would be: a part no more than its whole (the part is capped), and a
    percentage out of the count it names. Figures no rule touches keep their draw."""

    def count_key(code: str) -> tuple[str, str, str] | None:
        for line in ("value", "total"):
            if (code, "", line) in figures:
                return (code, "", line)
        return None

    parts_of = [rule for rule in rules if rule.kind == RuleKind.PART_OF]
    for _ in parts_of:  # enough passes for a chain of parts to settle
        changed = False
        for rule in parts_of:
            part, whole = count_key(rule.kpi), count_key(rule.related)
            if part is None or whole is None or figures[part] <= figures[whole]:
                continue
            figures[part] = figures[whole]
            labels = [b for c, b, line in rows if c == rule.kpi and line == "breakdown"]
            if labels:
                drawn = [figures[(rule.kpi, label, "breakdown")] for label in labels]
                _set_parts(figures, rule.kpi, labels, _scaled(drawn, figures[part]))
            changed = True
        if not changed:
            break
    for rule in rules:
        count = count_key(rule.related)
        if rule.kind == RuleKind.DENOMINATOR and rule.kpi in shares and count is not None:
            _set_fraction(figures, rule.kpi, figures[count], shares[rule.kpi])


def _scaled(parts: list[int], total: int) -> list[int]:
    """Parts scaled down to a new total, still adding up exactly."""
    drawn = sum(parts) or 1
    scaled = [part * total // drawn for part in parts]
    scaled[0] += total - sum(scaled)
    return scaled


def _outcomes(codes: set[str], rng: random.Random) -> list[tuple[Any, ...]]:
    rows: list[tuple[Any, ...]] = []
    if "SDQ-IMPROVED" in codes:
        for _ in range(rng.randint(10, 16)):
            start = rng.randint(14, 30)
            rows.append(
                ("SDQ", rng.choice(["parent", "teacher"]), start, max(0, start - rng.randint(-2, 10)))
            )
    if "WEMWBS-IMPROVED" in codes:
        for _ in range(rng.randint(8, 14)):
            start = rng.randint(28, 48)
            rows.append(("WEMWBS", None, start, min(70, start + rng.randint(-2, 9))))
    return rows


def _commissioner(session: Session, contract: Contract) -> User:
    return session.execute(
        select(User).where(
            User.organisation_id == contract.lead_commissioner_id, User.role == Role.COMMISSIONER
        )
    ).scalar_one()


def _uploader(session: Session, contract: Contract) -> User:
    """The provider's own user where the demo has one; else the commissioner uploads on their behalf."""
    provider = session.scalar(
        select(User).where(User.organisation_id == contract.provider_id, User.role == Role.PROVIDER)
    )
    return provider or _commissioner(session, contract)


def _add_frameworks(session: Session) -> int:
    added = 0
    kpis = {kpi.code: kpi for kpi in session.scalars(select(Kpi))}
    for reference, (first, targets) in FRAMEWORKS.items():
        contract = session.execute(select(Contract).where(Contract.reference == reference)).scalar_one()
        if session.scalar(select(FrameworkItem.id).where(FrameworkItem.contract_id == contract.id)):
            continue
        user = _commissioner(session, contract)
        items = [(code, target, first) for code, target in targets.items()]
        items += [(code, None, max(first, MONITORED_FROM)) for code in MONITORED.get(reference, {})]
        for code, target, effective_from in items:
            framework_services.add_item(
                session,
                user,
                contract,
                framework_services.ItemFields(
                    kpi_id=kpis[code].id,
                    terms=framework_services.ItemTerms(
                        target=Decimal(target) if target is not None else None
                    ),
                    effective_from=effective_from,
                ),
            )
        added += 1
    return added


def _days(expected: ExpectedReturn, today: date) -> tuple[date, date]:
    """When the provider sent the return in and when the commissioner looked at
    it: a few days either side of the due date, then a week or so later, never
    after the demo's as-at day, so the return's times read as its history."""
    rng = random.Random(zlib.crc32(f"{expected.contract.reference}/{expected.period}/days".encode()))
    first = expected.quarter.end + timedelta(days=1)
    received = min(max(expected.due_date - timedelta(days=rng.randint(-1, 8)), first), today)
    return received, min(received + timedelta(days=rng.randint(2, 9)), today)


def _submit(session: Session, expected: ExpectedReturn, today: date) -> None:
    received, reviewed = _days(expected, today)
    with clock.pinned_to(received):
        version = _send(session, expected, today, received)
    reviewer = _commissioner(session, expected.contract)
    key = (expected.contract.reference, str(expected.quarter))
    with clock.pinned_to(reviewed):
        if key in QUERIED:
            returns.query_return(session, reviewer, version.return_, QUERIED[key])
        elif key not in AWAITING_REVIEW:
            returns.accept_return(session, reviewer, version.return_)


def _send(session: Session, expected: ExpectedReturn, today: date, received: date) -> ReturnVersion:
    contract, quarter = expected.contract, expected.quarter
    key = (contract.reference, str(quarter))
    rng = _rng(*key)
    template = build_template(
        session, contract, quarter, generated_at=datetime.combine(received, datetime.min.time())
    )
    items = items_in_force(session, contract.id, quarter)
    codes = {item.kpi.code for item in items}
    rules = declared_rules(session)
    workbook = fill_template(
        template,
        _figures(
            items,
            input_rows(template),
            rng,
            rules,
            {item.kpi.code: item_target(item, contract, quarter).value for item in items},
            {
                code: (typical, _rng(*key, code))
                for code, typical in MONITORED.get(contract.reference, {}).items()
            },
        ),
        _outcomes(codes, rng),
        {code: ILLUSTRATIVE for code in codes},
    )
    uploader = _uploader(session, contract)
    filename = f"{contract.reference}-{quarter}.xlsx"
    checked = check_workbook(
        session,
        workbook,
        filename,
        contract=contract,
        quarter=quarter,
        user=uploader,
        settings=current_app.config,
    )
    if not checked.ok:
        problems = "; ".join(f"{m.sheet}!{m.cell} {m.message}" for m in checked.errors[:3])
        raise RuntimeError(f"demo return {key} failed its own checks: {problems}")
    # A rule the library makes a warning would let a contradiction through: the demo keeps every rule.
    broken = broken_rules(rules, ReturnFigures.from_figures(checked.figures))
    if broken:
        raise RuntimeError(f"demo return {key} breaks the library's rules: {broken}")
    version = returns.store_version(
        session,
        uploader,
        contract,
        quarter,
        workbook,
        filename,
        checked,
        submit=True,
        acknowledge_warnings=True,
        today=today,
    )
    return version


def load_demo_performance(
    database: Database, today: date, progress: Callable[[str], None] = lambda _s: None
) -> str:
    """Library, frameworks and every due demo return; safe to run again."""
    with acting_as(Actor(None, "demo data")), database.transaction() as session:
        progress("KPI library")
        kpis = load_library(session)
        progress("performance frameworks")
        frameworks = _add_frameworks(session)
        rules = CalendarRules.from_config(current_app.config)
        due = [
            e
            for e in expected_returns(session, true(), today, rules)
            if e.record is None and e.due_date <= today and (e.contract.reference, e.period) not in NOT_SENT
        ]
        for number, expected in enumerate(
            sorted(due, key=lambda e: (e.contract.reference, e.quarter)), start=1
        ):
            progress(f"return {number}/{len(due)} {expected.contract.reference} {expected.period}")
            _submit(session, expected, today)
    return f"{count_text(kpis, 'KPI')}, {count_text(frameworks, 'framework')}, {count_text(len(due), 'return')} added"


def quarter_states(session: Session) -> dict[tuple[str, str], str]:
    """Each demo return's state, for tests and the seed summary."""
    rows = session.execute(select(Contract.reference, Return.period, Return.state).join(Contract))
    return {(reference, period): state for reference, period, state in rows}
