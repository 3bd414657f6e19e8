"""What each kind of service reports, and quarterly figures drawn for it.

Figures are drawn around each framework's targets with numpy's seeded
generator: counts from Poisson distributions, shares as binomial draws on
their denominators, so small services report counts of 1 to 4 and small
denominators, which disclosure control must hide from boards.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np

from monitor.contracts.models import Cohort, ServiceType
from monitor.kpis.library.definitions import (
    PEOPLE_SUPPORTED,
    REASONS_NOT_TAKEN,
    REASONS_SUPPORT_ENDED,
    REFERRAL_SOURCES,
    SAFE_ACCOMMODATION_TYPES,
)

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

# Unmet need and the statutory safe-accommodation return's figures: the
# refuges have monitored them, without targets, since MONITORED_FROM (as a
# council adds KPIs when it starts collecting them), and every area's
# refuges count as safe accommodation. They are drawn from a stream of
# their own per contract (`monitored_figures`), so the figures drawn for
# the other KPIs stay as they were.
MONITORED_FROM = "2012-13-Q1"
MONITORED: dict[ServiceType, tuple[str, ...]] = {
    ServiceType.REFUGE: (
        "REF-NOT-TAKEN",
        "WAITING-END",
        "CHILD-SUPPORT-WANTED",
        "CHILD-SUPPORT-RECEIVED",
        "SA-SUPPORTED",
        "SA-BLACK-MINORITISED",
        "SA-MENTAL-HEALTH",
        "SA-DISABLED",
        "SA-LGBT",
        "SA-ENDED",
        "SA-BEDSPACES",
    ),
}
SAFE_ACCOMMODATION_SERVICES = (ServiceType.REFUGE,)
# Shares of referrals not taken by reason (REASONS_NOT_TAKEN order): a
# refuge most often has no space.
NOT_TAKEN_SHARES = (0.55, 0.12, 0.1, 0.1, 0.08, 0.05)
# Individuals starting support in a quarter per unit of size (PEOPLE_SUPPORTED
# order), and those already supported on 1 April, counted in Q1.
STARTS = (6.0, 0.3, 0.15, 6.5)
ALREADY_SUPPORTED = (5.0, 0.2, 0.1, 5.5)
# Of the individuals supported, the share with each characteristic.
CHARACTERISTICS = (
    ("SA-BLACK-MINORITISED", 0.3),
    ("SA-MENTAL-HEALTH", 0.4),
    ("SA-DISABLED", 0.15),
    ("SA-LGBT", 0.05),
)
ENDED_SHARES = (0.45, 0.2, 0.05, 0.12, 0.13, 0.05)  # REASONS_SUPPORT_ENDED order


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
        if code in MONITORED_CODES:
            continue  # drawn by monitored_figures, from a stream of their own
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


MONITORED_CODES = frozenset(code for codes in MONITORED.values() for code in codes)


def monitored_figures(
    rng: np.random.Generator,
    codes: Sequence[str],
    size: float,
    drawn: Sequence[Sequence[Figure]],
    year_starts: Sequence[bool],
) -> list[list[Figure]]:
    """Each quarter's unmet need and safe accommodation figures, consistent
    with the quarter's other figures (`drawn`, in the same order) and by the
    library's rules: breakdowns add up to their totals, referrals not taken
    are among those received but not accepted, characteristics and children
    who got support are among those counted. A quarter that starts a
    financial year (`year_starts`) also counts the individuals already
    supported on 1 April, so a year's quarters add up to everyone supported."""
    n = len(drawn)
    totals = [{(code, breakdown): value for code, breakdown, value, _, _ in quarter} for quarter in drawn]
    received = np.array([t.get(("REF-RECEIVED", ""), 0.0) for t in totals], dtype=np.int64)
    accepted = np.array([t.get(("REF-ACCEPTED", ""), 0.0) for t in totals], dtype=np.int64)
    not_taken = rng.binomial(np.maximum(received - accepted, 0), 0.8)
    not_taken_parts = np.stack([rng.multinomial(total, NOT_TAKEN_SHARES) for total in not_taken], axis=1)
    waiting = rng.poisson(2 * size, n)
    wanted = rng.poisson(5 * size, n)
    got = rng.binomial(wanted, 0.3)
    starts = np.stack([rng.poisson(rate * size, n) for rate in STARTS])
    already = np.stack([rng.poisson(rate * size, n) for rate in ALREADY_SUPPORTED])
    ended = rng.poisson(9 * size, n)
    ended_parts = np.stack([rng.multinomial(total, ENDED_SHARES) for total in ended], axis=1)
    refuge_beds = max(4, round(10 * size))
    second_stage = int(rng.integers(0, 5))
    per_quarter: list[list[Figure]] = [[] for _ in range(n)]

    def count(q: int, code: str, total: float, labels: Sequence[str] = (), parts: Iterable[Any] = ()) -> None:
        per_quarter[q].append((code, "", float(total), None, None))
        for label, part in zip(labels, parts, strict=True):
            per_quarter[q].append((code, label, float(part), None, None))

    for q in range(n):
        for code in codes:
            if code == "REF-NOT-TAKEN":
                count(q, code, not_taken[q], REASONS_NOT_TAKEN, not_taken_parts[:, q])
            elif code == "WAITING-END":
                count(q, code, waiting[q])
            elif code == "CHILD-SUPPORT-WANTED":
                count(q, code, wanted[q])
            elif code == "CHILD-SUPPORT-RECEIVED":
                count(q, code, got[q])
            elif code == "SA-SUPPORTED":
                supported = starts[:, q] + (already[:, q] if year_starts[q] else 0)
                count(q, code, supported.sum(), PEOPLE_SUPPORTED, supported)
            elif code == "SA-ENDED":
                count(q, code, ended[q], REASONS_SUPPORT_ENDED, ended_parts[:, q])
            elif code == "SA-BEDSPACES":
                beds = {"Refuge": refuge_beds, "Second stage accommodation": second_stage}
                parts = [beds.get(kind, 0) for kind in SAFE_ACCOMMODATION_TYPES]
                count(q, code, sum(parts), SAFE_ACCOMMODATION_TYPES, parts)
            elif code not in dict(CHARACTERISTICS):
                raise ValueError(f"no monitored figures for {code}")
        supported_total = sum(starts[:, q]) + (sum(already[:, q]) if year_starts[q] else 0)
        for code, share in CHARACTERISTICS:
            if code in codes:
                count(q, code, rng.binomial(int(supported_total), share))
    return per_quarter
