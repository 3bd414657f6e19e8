"""What each kind of service reports, and quarterly figures drawn for it.

Figures are drawn around each framework's targets with numpy's seeded
generator: counts from Poisson distributions, shares as binomial draws on
their denominators, so small services report counts of 1 to 4 and small
denominators, which disclosure control must hide from boards.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from monitor.contracts.models import Cohort, ServiceType
from monitor.kpis.library.definitions import REFERRAL_SOURCES

# Fifteen services per area; the second IDVA is health-based (led by the CCG)
# and the ISVA is led by the police and crime commissioner.
AREA_SERVICES: tuple[ServiceType, ...] = (
    ServiceType.IDVA,
    ServiceType.IDVA,
    ServiceType.REFUGE,
    ServiceType.REFUGE,
    ServiceType.OUTREACH,
    ServiceType.OUTREACH,
    ServiceType.CHILDRENS_THERAPEUTIC,
    ServiceType.CHILDRENS_ADVOCACY,
    ServiceType.PERPETRATOR,
    ServiceType.COUNSELLING,
    ServiceType.MARAC,
    ServiceType.ISVA,
    ServiceType.SANCTUARY,
    ServiceType.PREVENTION,
    ServiceType.HELPLINE,
)

FRAMEWORKS: dict[ServiceType, tuple[str, ...]] = {
    ServiceType.IDVA: (
        "REF-RECEIVED",
        "REF-ACCEPTED",
        "CONTACT-2WD",
        "CASELOAD",
        "CASES-CLOSED",
        "SAFETY-PLAN",
        "FEEL-SAFER",
        "ABUSE-STOPPED",
        "MARAC-REPEAT",
        "WAIT-DAYS",
    ),
    ServiceType.REFUGE: (
        "REF-RECEIVED",
        "REF-ACCEPTED",
        "CASELOAD",
        "CASES-CLOSED",
        "PLANNED-ENDING",
        "SAFETY-PLAN",
        "FEEL-SAFER",
        "COST-PER-CASE",
        "WEMWBS-IMPROVED",
    ),
    ServiceType.OUTREACH: (
        "REF-RECEIVED",
        "REF-ACCEPTED",
        "CONTACT-2WD",
        "CASELOAD",
        "CASES-CLOSED",
        "PLANNED-ENDING",
        "FEEL-SAFER",
        "ABUSE-STOPPED",
        "WAIT-DAYS",
    ),
    ServiceType.CHILDRENS_THERAPEUTIC: (
        "REF-RECEIVED",
        "REF-ACCEPTED",
        "CASELOAD",
        "CASES-CLOSED",
        "CP-CIN-SUPPORTED",
        "SDQ-IMPROVED",
        "PLANNED-ENDING",
        "WAIT-DAYS",
    ),
    ServiceType.CHILDRENS_ADVOCACY: (
        "REF-RECEIVED",
        "CASES-CLOSED",
        "CP-CIN-SUPPORTED",
        "SDQ-IMPROVED",
        "SAFETY-PLAN",
    ),
    ServiceType.PERPETRATOR: (
        "REF-RECEIVED",
        "PERP-STARTS",
        "PERP-COMPLETIONS",
        "CASES-CLOSED",
        "PLANNED-ENDING",
        "COST-PER-CASE",
        "WAIT-DAYS",
    ),
    ServiceType.COUNSELLING: (
        "REF-RECEIVED",
        "REF-ACCEPTED",
        "CASES-CLOSED",
        "WAIT-DAYS",
        "WEMWBS-IMPROVED",
        "PLANNED-ENDING",
    ),
    ServiceType.MARAC: ("REF-RECEIVED", "MARAC-REPEAT", "CASELOAD"),
    ServiceType.ISVA: ("REF-RECEIVED", "REF-ACCEPTED", "CASELOAD", "CASES-CLOSED", "FEEL-SAFER", "WAIT-DAYS"),
    ServiceType.SANCTUARY: ("REF-RECEIVED", "CASES-CLOSED", "COST-PER-CASE"),
    ServiceType.PREVENTION: ("REF-RECEIVED", "CASES-CLOSED"),
    ServiceType.HELPLINE: ("REF-RECEIVED", "CASES-CLOSED", "CONTACT-2WD"),
}

COHORTS: dict[ServiceType, tuple[Cohort, ...]] = {
    ServiceType.IDVA: (Cohort.ADULTS,),
    ServiceType.REFUGE: (Cohort.ADULTS, Cohort.CHILDREN),
    ServiceType.OUTREACH: (Cohort.ADULTS, Cohort.MINORITY_ETHNIC),
    ServiceType.CHILDRENS_THERAPEUTIC: (Cohort.CHILDREN,),
    ServiceType.CHILDRENS_ADVOCACY: (Cohort.CHILDREN,),
    ServiceType.PERPETRATOR: (Cohort.PERPETRATORS,),
    ServiceType.COUNSELLING: (Cohort.ADULTS, Cohort.OLDER_PEOPLE),
    ServiceType.MARAC: (Cohort.ADULTS,),
    ServiceType.ISVA: (Cohort.ADULTS,),
    ServiceType.SANCTUARY: (Cohort.ADULTS, Cohort.DISABLED_PEOPLE),
    ServiceType.PREVENTION: (Cohort.CHILDREN,),
    ServiceType.HELPLINE: (Cohort.ADULTS,),
}
# Reached only by some areas, so the provision map has gaps to show.
RARE_COHORTS = (Cohort.LGBT, Cohort.MALE_VICTIMS, Cohort.PREGNANT_WOMEN)

# Share of referrals by source (REFERRAL_SOURCES order): education and
# "other" are small, so small services report counts of 1 to 4.
SOURCE_SHARES = (0.35, 0.15, 0.12, 0.10, 0.05, 0.15, 0.08)
BREAKDOWNS = {
    "REF-RECEIVED": REFERRAL_SOURCES,
    "CP-CIN-SUPPORTED": ("Child protection plan", "Child in need plan"),
}


Figure = tuple[str, str, float, float | None, float | None]


def figures(
    rng: np.random.Generator, codes: Sequence[str], size: float, annual_value: float, n: int
) -> tuple[list[list[Figure]], list[list[tuple[str, str | None, float, float]]]]:
    """Each quarter's figures for a framework, drawn around its targets, and
    its outcome scores. Percentages with a denominator of 0 are left out, as
    a provider leaves them blank."""
    sources = np.stack([rng.poisson(40 * size * share, n) for share in SOURCE_SHARES])
    received = sources.sum(axis=0)
    accepted = rng.binomial(received, 0.85)
    closed = rng.poisson(20 * size, n)
    asked = rng.binomial(closed, 0.8)
    starts = rng.poisson(8 * size, n)
    plans = np.stack([rng.poisson(6 * size, n), rng.poisson(9 * size, n)])
    sdq_pairs = rng.integers(0, 12, n)
    wemwbs_pairs = rng.integers(0, 12, n)
    per_quarter: list[list[Figure]] = [[] for _ in range(n)]
    outcomes: list[list[tuple[str, str | None, float, float]]] = [[] for _ in range(n)]

    def count(code: str, values: np.ndarray, parts: np.ndarray | None = None) -> None:
        for q in range(n):
            per_quarter[q].append((code, "", float(values[q]), None, None))
            if parts is not None:
                for label, part in zip(BREAKDOWNS[code], parts[:, q], strict=True):
                    per_quarter[q].append((code, label, float(part), None, None))

    def share(code: str, base: np.ndarray, rate: float) -> None:
        numerators = rng.binomial(base, np.clip(rng.normal(rate, 0.05, n), 0.05, 1.0))
        for q in range(n):
            if base[q] > 0:
                value = round(100 * numerators[q] / base[q], 1)
                per_quarter[q].append((code, "", value, float(numerators[q]), float(base[q])))

    def improved(code: str, measure: str, pairs: np.ndarray) -> None:
        for q in range(n):
            if pairs[q] == 0:
                continue
            if measure == "SDQ":
                pre = rng.integers(12, 32, pairs[q])
                post = np.clip(pre - rng.normal(4, 4, pairs[q]).round(), 0, 40)
                better = int((pre - post >= 5).sum())
                informants = rng.choice(["parent", "teacher", "self"], pairs[q])
            else:
                pre = rng.integers(28, 50, pairs[q])
                post = np.clip(pre + rng.normal(4, 5, pairs[q]).round(), 14, 70)
                better = int((post - pre >= 3).sum())
                informants = np.array([None] * pairs[q])
            outcomes[q].extend(
                (measure, informant, float(a), float(b))
                for informant, a, b in zip(informants, pre, post, strict=True)
            )
            per_quarter[q].append((code, "", round(100 * better / pairs[q], 1), None, None))

    for code in codes:
        if code == "REF-RECEIVED":
            count(code, received, sources)
        elif code == "REF-ACCEPTED":
            count(code, accepted)
        elif code == "CASELOAD":
            count(code, rng.poisson(25 * size, n))
        elif code == "CASES-CLOSED":
            count(code, closed)
        elif code == "MARAC-REPEAT":
            count(code, rng.poisson(4 * size, n))
        elif code == "PERP-STARTS":
            count(code, starts)
        elif code == "PERP-COMPLETIONS":
            count(code, rng.binomial(starts, 0.6))
        elif code == "CP-CIN-SUPPORTED":
            count(code, plans.sum(axis=0), plans)
        elif code == "CONTACT-2WD":
            share(code, accepted if "REF-ACCEPTED" in codes else received, 0.9)
        elif code == "PLANNED-ENDING":
            share(code, closed, 0.75)
        elif code == "SAFETY-PLAN":
            share(code, closed, 0.92)
        elif code == "FEEL-SAFER":
            share(code, asked, 0.85)
        elif code == "ABUSE-STOPPED":
            share(code, asked, 0.7)
        elif code == "WAIT-DAYS":
            for q, days in enumerate(rng.gamma(4, 2.5, n).round(1)):
                per_quarter[q].append((code, "", float(days), None, None))
        elif code == "COST-PER-CASE":
            for q in range(n):
                per_quarter[q].append(
                    (code, "", round(annual_value / 4 / max(1, int(closed[q])), 2), None, None)
                )
        elif code == "SDQ-IMPROVED":
            improved(code, "SDQ", sdq_pairs)
        elif code == "WEMWBS-IMPROVED":
            improved(code, "WEMWBS", wemwbs_pairs)
        else:
            raise ValueError(f"no figures for {code}")
    return per_quarter, outcomes
