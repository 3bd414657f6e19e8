"""The standard KPI library for domestic abuse services, seeded for every installation.

Definitions follow common practice in local commissioning (SafeLives/CAADA
Insights outcomes at case closure; referrals by source as MASH and MARAC
partners record them). Councils can add their own through the admin pages.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from monitor.access.rules import can_change_library
from monitor.auth.models import User
from monitor.errors import Forbidden, ValidationFailed
from monitor.kpis.library.relations import RuleKind, RuleSeverity
from monitor.kpis.library.rules import ConsistencyRule, sync_breakdown_rule
from monitor.kpis.models import Kpi, KpiBreakdown
from monitor.kpis.vocabulary import Direction, KpiCategory, Rollup, Unit

REFERRAL_SOURCES = (
    "Police",
    "Children's social care",
    "MASH",
    "Health",
    "Education",
    "Self-referral",
    "Other",
)


# Why a service could not take a referral: the Domestic Abuse Commissioner
# asks for unmet need to be recorded in the same words everywhere, and the
# statutory safe-accommodation return asks why households were not supported.
REASONS_NOT_TAKEN = (
    "No space",
    "Needs beyond the service",
    "Not eligible",
    "Declined",
    "No recourse to public funds",
    "Other",
)
# The statutory safe-accommodation return's categories (MHCLG's annual data
# collection under Part 4 of the Domestic Abuse Act 2021).
PEOPLE_SUPPORTED = ("Women", "Men", "Trans adults", "Children")
REASONS_SUPPORT_ENDED = (
    "Support completed",
    "Moved to other accommodation",
    "Evicted or asked to leave",
    "Returned to the perpetrator",
    "Left without notice",
    "Other",
)
SAFE_ACCOMMODATION_TYPES = (
    "Refuge",
    "Sanctuary scheme",
    "Dispersed accommodation",
    "Second stage accommodation",
    "Other safe accommodation",
)


@dataclass(frozen=True)
class KpiSpec:
    code: str
    name: str
    definition: str
    unit: str = "count"
    direction: str = "higher is better"
    category: str = "output"
    rollup: str = "sum"
    breakdowns: tuple[str, ...] = ()
    numerator_label: str | None = None
    denominator_label: str | None = None
    extra: dict[str, str] = field(default_factory=dict)


STANDARD_KPIS: tuple[KpiSpec, ...] = (
    KpiSpec(
        "REF-RECEIVED",
        "Referrals received",
        "Referrals received in the quarter, by the agency that referred. Count each referral once, "
        "including repeat referrals of the same household.",
        breakdowns=REFERRAL_SOURCES,
    ),
    KpiSpec(
        "REF-ACCEPTED", "Referrals accepted", "Referrals received in the quarter that the service accepted."
    ),
    KpiSpec(
        "CONTACT-2WD",
        "Contacted within two working days",
        "Accepted referrals where the service made contact within two working days of the referral.",
        unit="percentage",
        category="quality",
        rollup="mean",
        numerator_label="Accepted referrals contacted within two working days",
        denominator_label="Referrals accepted",
    ),
    KpiSpec(
        "CASELOAD",
        "Active caseload",
        "Open cases on the last day of the quarter.",
        rollup="latest",
    ),
    KpiSpec("CASES-CLOSED", "Cases closed", "Cases closed in the quarter, whatever the reason."),
    KpiSpec(
        "PLANNED-ENDING",
        "Cases closed with a planned ending",
        "Cases closed in the quarter that ended as planned with the client, rather than through lost contact.",
        unit="percentage",
        category="quality",
        rollup="mean",
        numerator_label="Cases closed with a planned ending",
        denominator_label="Cases closed",
    ),
    KpiSpec(
        "SAFETY-PLAN",
        "Cases with a safety plan",
        "Cases closed in the quarter that had a safety plan in place.",
        unit="percentage",
        category="quality",
        rollup="mean",
        numerator_label="Cases closed with a safety plan",
        denominator_label="Cases closed",
    ),
    KpiSpec(
        "FEEL-SAFER",
        "Feeling safer at closure",
        "Clients asked at case closure who reported feeling safer (SafeLives Insights outcome).",
        unit="percentage",
        category="outcome",
        rollup="mean",
        numerator_label="Clients reporting feeling safer",
        denominator_label="Clients asked at closure",
    ),
    KpiSpec(
        "ABUSE-STOPPED",
        "Abuse stopped at closure",
        "Clients asked at case closure who reported that the abuse had stopped.",
        unit="percentage",
        category="outcome",
        rollup="mean",
        numerator_label="Clients reporting the abuse stopped",
        denominator_label="Clients asked at closure",
    ),
    KpiSpec(
        "PERP-STARTS", "Perpetrator programme starts", "People who started the programme in the quarter."
    ),
    KpiSpec(
        "PERP-COMPLETIONS",
        "Perpetrator programme completions",
        "People who completed the whole programme in the quarter.",
    ),
    KpiSpec(
        "MARAC-REPEAT",
        "Repeat MARAC referrals",
        "Cases referred to MARAC in the quarter that had been heard at MARAC in the previous 12 months.",
        direction="lower is better",
        category="outcome",
    ),
    KpiSpec(
        "CP-CIN-SUPPORTED",
        "Children on plans supported",
        "Children on a child protection or child in need plan whom the service supported in the quarter.",
        breakdowns=("Child protection plan", "Child in need plan"),
    ),
    KpiSpec(
        "SDQ-IMPROVED",
        "Children with reliable improvement (SDQ)",
        "Children with paired SDQ scores whose total difficulties fell by at least the reliable change "
        "threshold. Worked out from the outcome measures sheet.",
        unit="percentage",
        category="outcome",
        rollup="mean",
    ),
    KpiSpec(
        "WEMWBS-IMPROVED",
        "Adults with meaningful wellbeing improvement (WEMWBS)",
        "Adults with paired WEMWBS scores whose score rose by at least the meaningful change threshold. "
        "Worked out from the outcome measures sheet.",
        unit="percentage",
        category="outcome",
        rollup="mean",
    ),
    KpiSpec(
        "COST-PER-CASE",
        "Cost per case closed",
        "Contract spend in the quarter divided by cases closed.",
        unit="currency",
        direction="lower is better",
        category="finance",
        rollup="mean",
    ),
    KpiSpec(
        "WAIT-DAYS",
        "Average wait for first appointment",
        "Mean working days from referral to first appointment for cases starting in the quarter.",
        unit="days",
        direction="lower is better",
        category="quality",
        rollup="mean",
    ),
    # Unmet need: who the service could not help, and how long people wait.
    KpiSpec(
        "REF-NOT-TAKEN",
        "Referrals not taken",
        "Referrals received in the quarter that the service could not take, by the main reason. "
        "For safe accommodation a referral is a household.",
        direction="lower is better",
        breakdowns=REASONS_NOT_TAKEN,
    ),
    KpiSpec(
        "WAITING-END",
        "People waiting at the end of the quarter",
        "People referred and accepted who were still waiting for support on the last day of the quarter.",
        direction="lower is better",
        rollup="latest",
    ),
    KpiSpec(
        "DAYS-TO-CONTACT",
        "Median days from referral to first contact",
        "The median number of calendar days from referral to the service's first contact, for referrals "
        "first contacted in the quarter. A year's figure is the mean of its quarters' medians.",
        unit="days",
        direction="lower is better",
        category="quality",
        rollup="mean",
    ),
    KpiSpec(
        "CHILD-SUPPORT-WANTED",
        "Children whose support was asked for",
        "Children of the service's clients for whom the client or the child wanted support in the quarter.",
    ),
    KpiSpec(
        "CHILD-SUPPORT-RECEIVED",
        "Children who received support",
        "Children counted in 'Children whose support was asked for' who received support in the quarter, "
        "from the service or one it referred them to.",
    ),
    # The statutory safe-accommodation return (monitor/statutory) is worked
    # out from these, summed over the safe accommodation contracts.
    KpiSpec(
        "SA-SUPPORTED",
        "Individuals supported in safe accommodation",
        "Individuals who started support in relevant safe accommodation in the quarter (in Q1, also "
        "those already supported on 1 April), adults by gender identity and children: the four "
        "quarters add up to everyone supported in the year, each counted once.",
        breakdowns=PEOPLE_SUPPORTED,
    ),
    KpiSpec(
        "SA-BLACK-MINORITISED",
        "Individuals supported who are black or minoritised",
        "Individuals counted in 'Individuals supported in safe accommodation' who are black or minoritised.",
    ),
    KpiSpec(
        "SA-MENTAL-HEALTH",
        "Individuals supported with mental health needs",
        "Individuals counted in 'Individuals supported in safe accommodation' with mental health needs.",
    ),
    KpiSpec(
        "SA-DISABLED",
        "Individuals supported who are disabled",
        "Individuals counted in 'Individuals supported in safe accommodation' who are disabled.",
    ),
    KpiSpec(
        "SA-LGBT",
        "Individuals supported who are LGBT+",
        "Individuals counted in 'Individuals supported in safe accommodation' who are lesbian, gay, "
        "bisexual, trans or of another minority sexual orientation or gender identity.",
    ),
    KpiSpec(
        "SA-ENDED",
        "Households whose support ended",
        "Households whose support in safe accommodation ended in the quarter, by the main reason.",
        breakdowns=REASONS_SUPPORT_ENDED,
    ),
    KpiSpec(
        "SA-BEDSPACES",
        "Commissioned bedspaces or units",
        "Bedspaces or units of safe accommodation the contract provides on the last day of the quarter, "
        "by type.",
        rollup="latest",
        breakdowns=SAFE_ACCOMMODATION_TYPES,
    ),
)

# Worked out by the app from the outcome measures sheet, not typed in.
DERIVED_FROM_OUTCOMES = {"SDQ-IMPROVED": "SDQ", "WEMWBS-IMPROVED": "WEMWBS"}

# How the standard KPIs relate: (kind, KPI, the KPI it is checked against).
# Every KPI reported by breakdown also has a rule that its parts add up.
STANDARD_RULES: tuple[tuple[RuleKind, str, str], ...] = (
    # A service accepts only referrals it received.
    (RuleKind.PART_OF, "REF-ACCEPTED", "REF-RECEIVED"),
    # People complete a programme only after starting it.
    (RuleKind.PART_OF, "PERP-COMPLETIONS", "PERP-STARTS"),
    (RuleKind.DENOMINATOR, "CONTACT-2WD", "REF-ACCEPTED"),
    (RuleKind.DENOMINATOR, "PLANNED-ENDING", "CASES-CLOSED"),
    (RuleKind.DENOMINATOR, "SAFETY-PLAN", "CASES-CLOSED"),
    # A referral the service could not take was still received.
    (RuleKind.PART_OF, "REF-NOT-TAKEN", "REF-RECEIVED"),
    (RuleKind.PART_OF, "CHILD-SUPPORT-RECEIVED", "CHILD-SUPPORT-WANTED"),
    # Each characteristic counts some of the individuals supported.
    (RuleKind.PART_OF, "SA-BLACK-MINORITISED", "SA-SUPPORTED"),
    (RuleKind.PART_OF, "SA-MENTAL-HEALTH", "SA-SUPPORTED"),
    (RuleKind.PART_OF, "SA-DISABLED", "SA-SUPPORTED"),
    (RuleKind.PART_OF, "SA-LGBT", "SA-SUPPORTED"),
)


def load_library(session: Session) -> int:
    """Add any standard KPI not yet present, with the standard rules that
    involve it; returns how many KPIs were added.

    A standard rule between KPIs already in the library is left alone, so a
    rule an administrator deleted stays deleted however often the library is
    loaded (the demo seed loads it on every run). Installations whose library
    was loaded before the rules existed got them from migration 0004."""
    existing = set(session.scalars(select(Kpi.code)))
    added: set[str] = set()
    for spec in STANDARD_KPIS:
        if spec.code in existing:
            continue
        session.add(
            Kpi(
                code=spec.code,
                name=spec.name,
                definition=spec.definition,
                unit=spec.unit,
                direction=spec.direction,
                category=spec.category,
                rollup=spec.rollup,
                numerator_label=spec.numerator_label,
                denominator_label=spec.denominator_label,
                breakdowns=[
                    KpiBreakdown(position=n, label=label) for n, label in enumerate(spec.breakdowns, 1)
                ],
            )
        )
        added.add(spec.code)
    session.flush()
    _load_rules(session, added)
    return len(added)


def _load_rules(session: Session, added: set[str]) -> None:
    kpis = {kpi.code: kpi for kpi in session.scalars(select(Kpi))}
    existing = set(
        session.execute(select(ConsistencyRule.kind, ConsistencyRule.kpi_id, ConsistencyRule.related_kpi_id))
    )
    for kind, code, related in STANDARD_RULES:
        if code not in kpis or related not in kpis or not {code, related} & added:
            continue
        if (kind.value, kpis[code].id, kpis[related].id) not in existing:
            session.add(ConsistencyRule(kind=kind.value, kpi=kpis[code], related_kpi=kpis[related]))
    session.flush()
    for kpi in kpis.values():
        sync_breakdown_rule(session, kpi)


# Codes go into workbook tags and file names, so keep them plain.
_CODE = re.compile(r"^[A-Z0-9]+(-[A-Z0-9]+)*$")
MAX_BREAKDOWNS = 30


@dataclass(frozen=True)
class KpiFields:
    code: str
    name: str
    definition: str
    unit: str
    direction: str
    category: str
    rollup: str
    breakdowns: tuple[str, ...] = ()
    numerator_label: str = ""
    denominator_label: str = ""
    active: bool = True


def breakdown_lines(text: str) -> tuple[str, ...]:
    """Breakdown labels typed one per line; blank lines are ignored."""
    return tuple(line.strip() for line in text.splitlines() if line.strip())


def _check_text(
    errors: dict[str, str], field_name: str, value: str, missing: str, limit: int, what: str
) -> None:
    if not value.strip():
        errors[field_name] = missing
    elif len(value.strip()) > limit:
        errors[field_name] = f"{what} must be {limit} characters or fewer"


def _check_kpi(session: Session, fields: KpiFields, existing: Kpi | None) -> dict[str, str]:
    errors: dict[str, str] = {}
    code = fields.code.strip().upper()
    if not code:
        errors["code"] = "Enter a code for the KPI, like REF-RECEIVED"
    elif len(code) > 30 or not _CODE.match(code):
        errors["code"] = (
            "The code can only use letters, numbers and single hyphens, up to 30 characters, like REF-RECEIVED"
        )
    else:
        clash = select(Kpi.id).where(func.upper(Kpi.code) == code)
        if existing is not None:
            clash = clash.where(Kpi.id != existing.id)
        if session.scalar(clash) is not None:
            errors["code"] = f"A KPI with the code {code} already exists; enter a different code"
    _check_text(errors, "name", fields.name, "Enter the KPI's name", 200, "The name")
    _check_text(
        errors,
        "definition",
        fields.definition,
        "Enter a plain-English definition of what to count",
        4000,
        "The definition",
    )
    for field_name, enum, message in (
        ("unit", Unit, "Choose the unit: count, percentage, currency, score or days"),
        ("direction", Direction, "Choose whether higher or lower is better"),
        ("category", KpiCategory, "Choose output, outcome, quality or finance"),
        ("rollup", Rollup, "Choose how quarters add up to a year: sum, mean or latest"),
    ):
        if getattr(fields, field_name) not in {member.value for member in enum}:
            errors[field_name] = message
    labels = fields.breakdowns
    if len(labels) > MAX_BREAKDOWNS:
        errors["breakdowns"] = f"Enter at most {MAX_BREAKDOWNS} breakdowns"
    elif any(len(label) > 100 for label in labels):
        errors["breakdowns"] = "Each breakdown must be 100 characters or fewer"
    elif len({label.lower() for label in labels}) != len(labels):
        errors["breakdowns"] = "Enter each breakdown once"
    numerator, denominator = fields.numerator_label.strip(), fields.denominator_label.strip()
    if bool(numerator) != bool(denominator):
        missing = "denominator_label" if numerator else "numerator_label"
        errors[missing] = "Enter both the numerator and the denominator, or neither"
    elif numerator and fields.unit != Unit.PERCENTAGE:
        errors["numerator_label"] = "Only a percentage KPI can have a numerator and denominator"
    for field_name, value in (("numerator_label", numerator), ("denominator_label", denominator)):
        if len(value) > 200 and field_name not in errors:
            errors[field_name] = "The label must be 200 characters or fewer"
    return errors


def _require_admin(user: User) -> None:
    if not can_change_library(user):
        raise Forbidden("Only an administrator can change the KPI library")


def _write(session: Session, kpi: Kpi, fields: KpiFields) -> None:
    kpi.code = fields.code.strip().upper()
    kpi.name = fields.name.strip()
    kpi.definition = fields.definition.strip()
    kpi.unit, kpi.direction = fields.unit, fields.direction
    kpi.category, kpi.rollup = fields.category, fields.rollup
    kpi.numerator_label = fields.numerator_label.strip() or None
    kpi.denominator_label = fields.denominator_label.strip() or None
    kpi.active = fields.active
    if [b.label for b in kpi.breakdowns] != list(fields.breakdowns):
        # Positions and labels are unique per KPI and the unit of work inserts
        # before it deletes, so the old rows must be gone before the new go in.
        kpi.breakdowns.clear()
        session.flush()
        kpi.breakdowns.extend(
            KpiBreakdown(position=n, label=label) for n, label in enumerate(fields.breakdowns, 1)
        )
    session.flush()
    sync_breakdown_rule(session, kpi)


def create_kpi(session: Session, user: User, fields: KpiFields) -> Kpi:
    _require_admin(user)
    errors = _check_kpi(session, fields, None)
    if errors:
        raise ValidationFailed(errors)
    kpi = Kpi()
    session.add(kpi)
    _write(session, kpi, fields)
    return kpi


def update_kpi(session: Session, user: User, kpi: Kpi, fields: KpiFields) -> Kpi:
    _require_admin(user)
    errors = _check_kpi(session, fields, kpi)
    if errors:
        raise ValidationFailed(errors)
    _write(session, kpi, fields)
    return kpi


CHOOSE_SEVERITY = "Choose whether a return that breaks the rule is refused or warned"


def set_rule_severity(session: Session, user: User, rule: ConsistencyRule, severity: str) -> ConsistencyRule:
    """Whether breaking `rule` stops a return (error) or asks the provider to confirm (warning)."""
    _require_admin(user)
    if severity not in {member.value for member in RuleSeverity}:
        raise ValidationFailed({"severity": CHOOSE_SEVERITY})
    rule.severity = severity
    session.flush()
    return rule


@dataclass(frozen=True)
class RuleFields:
    kind: str
    kpi_id: int | None
    related_kpi_id: int | None
    severity: str


def _is_count(kpi: Kpi) -> bool:
    return kpi.unit == Unit.COUNT and not kpi.has_fraction


def _check_rule(session: Session, fields: RuleFields) -> dict[str, str]:
    errors: dict[str, str] = {}
    # Breakdown rules follow a KPI's breakdowns (see `sync_breakdown_rule`), so they are not added here.
    if fields.kind not in (RuleKind.PART_OF, RuleKind.DENOMINATOR):
        errors["kind"] = "Choose whether one KPI is part of another, or a percentage is out of a count"
    kpi = session.get(Kpi, fields.kpi_id) if fields.kpi_id is not None else None
    related = session.get(Kpi, fields.related_kpi_id) if fields.related_kpi_id is not None else None
    if kpi is None:
        errors["kpi_id"] = "Choose the KPI the rule checks"
    if related is None:
        errors["related_kpi_id"] = "Choose the KPI it is checked against"
    if fields.severity not in {member.value for member in RuleSeverity}:
        errors["severity"] = CHOOSE_SEVERITY
    if errors or kpi is None or related is None:
        return errors
    if kpi.id == related.id:
        return {"related_kpi_id": "Choose a different KPI to check it against"}
    if fields.kind == RuleKind.PART_OF:
        for name, which in (("kpi_id", kpi), ("related_kpi_id", related)):
            if not _is_count(which):
                errors[name] = (
                    f"{which.code} is not a count: a part and the whole it is part of are both counts"
                )
    else:
        if not kpi.has_fraction:
            errors["kpi_id"] = (
                f"{kpi.code} is not a percentage with a numerator and denominator: choose one that is"
            )
        if not _is_count(related):
            errors["related_kpi_id"] = f"{related.code} is not a count: a percentage's denominator is a count"
    if errors:
        return errors
    same = select(ConsistencyRule.id).where(
        ConsistencyRule.kind == fields.kind,
        ConsistencyRule.kpi_id == kpi.id,
        ConsistencyRule.related_kpi_id == related.id,
    )
    if session.scalar(same) is not None:
        return {"related_kpi_id": "The library already has this rule"}
    if fields.kind == RuleKind.DENOMINATOR:
        other = select(ConsistencyRule.id).where(
            ConsistencyRule.kind == RuleKind.DENOMINATOR.value, ConsistencyRule.kpi_id == kpi.id
        )
        if session.scalar(other) is not None:
            return {"kpi_id": f"{kpi.code}'s denominator is already the same as another count"}
    return errors


def add_rule(session: Session, user: User, fields: RuleFields) -> ConsistencyRule:
    """A relation between two KPIs of the library, applied to every return that has both."""
    _require_admin(user)
    errors = _check_rule(session, fields)
    if errors:
        raise ValidationFailed(errors)
    rule = ConsistencyRule(
        kind=fields.kind, kpi_id=fields.kpi_id, related_kpi_id=fields.related_kpi_id, severity=fields.severity
    )
    session.add(rule)
    session.flush()
    return rule


def why_rule_stays(rule: ConsistencyRule) -> str | None:
    """Why `rule` cannot be deleted, or None when it can. A breakdown rule
    follows its KPI's breakdowns (`sync_breakdown_rule` would add it back)."""
    if rule.kind == RuleKind.BREAKDOWN:
        return (
            f"The breakdowns of {rule.kpi.code} always have a rule that they add up to its total. "
            "To stop checking them, remove the breakdowns from the KPI"
        )
    return None


def delete_rule(session: Session, user: User, rule: ConsistencyRule) -> str:
    """Stop checking returns against `rule`; returns the rule's label.

    Returns already checked keep the messages they were given; the audit
    trail keeps the rule as it was."""
    _require_admin(user)
    refusal = why_rule_stays(rule)
    if refusal is not None:
        raise ValidationFailed({"submit": refusal})
    # Read before the delete: the audit trail labels the deleted row with it too.
    label = rule.label
    session.delete(rule)
    session.flush()
    return label
