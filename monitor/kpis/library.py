"""The standard KPI library for domestic abuse services, seeded for every installation.

Definitions follow common practice in local commissioning (SafeLives/CAADA
Insights outcomes at case closure; referrals by source as MASH and MARAC
partners record them). Councils can add their own through the admin pages.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from monitor.kpis.models import Kpi, KpiBreakdown

REFERRAL_SOURCES = (
    "Police",
    "Children's social care",
    "MASH",
    "Health",
    "Education",
    "Self-referral",
    "Other",
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
)

# Worked out by the app from the outcome measures sheet, not typed in.
DERIVED_FROM_OUTCOMES = {"SDQ-IMPROVED": "SDQ", "WEMWBS-IMPROVED": "WEMWBS"}


def load_library(session: Session) -> int:
    """Add any standard KPI not yet present; returns how many were added."""
    existing = set(session.scalars(select(Kpi.code)))
    added = 0
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
        added += 1
    session.flush()
    return added
