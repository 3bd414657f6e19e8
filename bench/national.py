"""A national-scale app database for the ETL benchmark, generated with a fixed seed.

Each local area has a council, a Health and Wellbeing Board and fifteen
commissioned services (two IDVA services, two refuges, two outreach services,
children's services, a perpetrator programme and so on), each with the
standard KPI framework for its service type. Areas share a clinical
commissioning group (one per six areas) and a police and crime commissioner
(one per three), who lead or jointly commission some services; each police
force area has a domestic abuse partnership board over its councils and its
commissioner.

Sixteen quarters of returns (Q1 2010/11 to Q4 2013/14) as at 6 May 2014: all
accepted but some of the last quarter's, which are awaiting review, saved as
drafts or not sent; some earlier ones were queried and resubmitted. Small
services report small counts, so disclosure control has work to do.

For benchmarking, every partnership is in a region (a force's boards share
its region), most have opted in to comparisons (about one area in ten has
opted out or never decided) and two similar-areas groups are defined. These
are drawn from each area's number, not the random stream, so adding them
left every other generated row as it was.

The refuges also report unmet need and the statutory safe-accommodation
return's figures from 2012/13 (MONITORED in bench/national_figures.py, drawn
from a stream of each contract's own), and each council counts its refuges
as safe accommodation in every financial year they are live.

Rows go straight into the real app tables with COPY (the upload pipeline
would take hours at this size). Every timestamp is fixed before the bench's
first ETL run, so an incremental run sees only what the bench changes.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

import numpy as np
from sqlalchemy import Connection, Engine, Table, select, text

from bench.national_figures import (
    AREA_SERVICES,
    COHORTS,
    FRAMEWORKS,
    MONITORED,
    MONITORED_FROM,
    RARE_COHORTS,
    SAFE_ACCOMMODATION_SERVICES,
    figures,
    monitored_figures,
)
from monitor.audit import AuditEvent
from monitor.auth.models import Organisation, Partnership, User, partnership_members
from monitor.benchmarking.models import (
    AreaRegion,
    BenchmarkingDecision,
    ComparisonGroup,
    ComparisonGroupMember,
)
from monitor.benchmarking.service import SMALLEST_GROUP
from monitor.benchmarking.vocabulary import REGIONS
from monitor.contracts.models import (
    Amendment,
    Contract,
    ContractCohort,
    ExtensionOption,
    FundingLine,
    ServiceType,
    contract_partners,
)
from monitor.contracts.renewal import extend_end, term_end
from monitor.contracts.value import TermChange, value_in_force
from monitor.db import Base
from monitor.kpis.models import (
    FrameworkItem,
    Kpi,
    OutcomeScore,
    Return,
    ReturnEvent,
    ReturnValue,
    ReturnVersion,
)
from monitor.kpis.periods import Quarter, due_date
from monitor.statutory.models import SafeAccommodationContract

AS_AT = date(2014, 5, 6)
FIRST_QUARTER = Quarter(2010, 1)
LAST_QUARTER = Quarter(2013, 4)
# Every generated timestamp: before any ETL run the bench makes.
STAMP = datetime(2014, 5, 1, 12, 0)
DUE_WORKING_DAYS = 15

NATIONAL_FUNDERS = (
    ("Home Office", "Violence against women and girls grant"),
    ("Ministry of Justice", "Victims' services grant"),
    ("Department for Communities and Local Government", "Domestic abuse new burdens"),
    ("Department of Health", "Public health grant"),
    ("Big Lottery Fund", "Reaching Communities"),
    ("Comic Relief", "Tackling violence against women and girls"),
)
AREAS_PER_CCG = 6
AREAS_PER_FORCE = 3
# Benchmarking, by area number: of every twenty areas, one board opted out
# (after first opting in), one never decided and one opted out before
# opting in again; every fifth force's board never decided. Area 2 opts out
# so a register of three areas has an area left out, and the sample
# viewers' areas (the middle area and its force) always take part.
AREA_CYCLE = 20
OPTED_OUT_AREA, UNDECIDED_AREA, REJOINED_AREA = 2, 12, 7
UNDECIDED_FORCE_EVERY = 5
FIRST_DECISION = date(2013, 4, 1)
PIPELINE_EVERY = 5  # areas per service out to tender (starting after the as-at date)
VALUE_COLUMNS = ("id", "version_id", "kpi_id", "breakdown", "value", "numerator", "denominator")
SCORE_COLUMNS = ("id", "version_id", "measure", "informant", "pre_score", "post_score")


@dataclass(frozen=True)
class Shape:
    """How big a register to build: about 2,850 accepted KPI figures per
    area, so 360 areas give a little over a million and 3 areas (one police
    force area) about ten thousand."""

    areas: int
    seed: int = 2013

    @property
    def contracts(self) -> int:
        """Every area's services, and a new one out to tender in every fifth area."""
        return self.areas * len(AREA_SERVICES) + -(-self.areas // PIPELINE_EVERY)


@dataclass
class Generated:
    shape: Shape
    rows: dict[str, int]
    accepted_figures: int
    # Returns awaiting review in the last quarter, with a reviewer who may
    # accept each: (return id, user id), services led by a council alone.
    awaiting_review: list[tuple[int, int]]
    # Sample viewers for the dashboard queries: kind -> (viewer, viewer name).
    viewers: dict[str, tuple[str, str]]
    seconds: float
    # Partnerships whose decision in force on AS_AT is not to be compared (or
    # that never decided): never shown or counted in any comparison.
    not_compared: list[int] = field(default_factory=list)


@dataclass
class _Ids:
    counters: dict[str, int] = field(default_factory=dict)

    def next(self, table: str) -> int:
        return self.take(table, 1)

    def take(self, table: str, count: int) -> int:
        """The first of `count` consecutive new ids."""
        first = self.counters.get(table, 0) + 1
        self.counters[table] = first + count - 1
        return first


class _Tables:
    """Rows per app table, in the order of the table's own columns."""

    def __init__(self) -> None:
        self.rows: dict[str, list[tuple[Any, ...]]] = {}
        self.columns: dict[str, list[str]] = {}

    def add(self, table: Table, **values: Any) -> None:
        """A row; columns not given take the model's own scalar default (COPY
        applies no Python-side default), so a new flag needs no change here."""
        for column in table.columns:
            default = column.default
            if column.name not in values and default is not None and default.is_scalar:
                values[column.name] = default.arg  # type: ignore[attr-defined]
        names = self.columns.setdefault(table.name, list(values))
        self.rows.setdefault(table.name, []).append(tuple(values[n] for n in names))

    def extend(self, table: Table, names: Sequence[str], rows: Iterable[tuple[Any, ...]]) -> None:
        """Many rows at once, for the large tables (a million figures)."""
        if self.columns.setdefault(table.name, list(names)) != list(names):
            raise ValueError(f"{table.name}: columns given in another order before")
        self.rows.setdefault(table.name, []).extend(rows)


class _Generator:
    def __init__(self, shape: Shape, kpis: dict[str, int], password_hash: str) -> None:
        self.shape = shape
        self.rng = np.random.default_rng(shape.seed)
        self.kpis = kpis
        self.password_hash = password_hash
        self.ids = _Ids()
        self.t = _Tables()
        self.accepted_figures = 0
        self.awaiting: list[tuple[int, int]] = []
        self.quarters = _quarters(FIRST_QUARTER, LAST_QUARTER)
        self.due = {q: due_date(q, DUE_WORKING_DAYS) for q in self.quarters}
        self.content = b"PK\x03\x04 bench placeholder for a return workbook"
        self.sha = hashlib.sha256(self.content).hexdigest()

    # --- organisations and partnerships -----------------------------------------

    def organisation(self, name: str, kind: str, **extra: Any) -> int:
        org_id = self.ids.next("organisations")
        self.t.add(
            Organisation.__table__,  # type: ignore[arg-type]
            id=org_id,
            name=name,
            kind=kind,
            gss_code=extra.get("gss_code"),
            ods_code=extra.get("ods_code"),
            charity_number=extra.get("charity_number"),
            company_number=None,
            created_at=STAMP,
        )
        return org_id

    def user(self, email: str, role: str, organisation_id: int | None, partnership_id: int | None) -> int:
        user_id = self.ids.next("users")
        self.t.add(
            User.__table__,  # type: ignore[arg-type]
            id=user_id,
            email=email,
            name=email.split("@")[0],
            role=role,
            organisation_id=organisation_id,
            partnership_id=partnership_id,
            password_hash=self.password_hash,
            active=True,
            failed_logins=0,
            locked_until=None,
            created_at=STAMP,
        )
        return user_id

    def partnership(self, name: str, members: Iterable[int]) -> int:
        partnership_id = self.ids.next("partnerships")
        self.t.add(
            Partnership.__table__,  # type: ignore[arg-type]
            id=partnership_id,
            name=name,
            description="",
        )
        for member in members:
            self.t.add(partnership_members, partnership_id=partnership_id, organisation_id=member)
        return partnership_id

    def build(self) -> None:
        areas = self.shape.areas
        self.funders = [(self.organisation(name, "funder"), stream) for name, stream in NATIONAL_FUNDERS]
        self.providers = [
            self.organisation(f"National Provider {n}", "provider", charity_number=f"{1_100_000 + n}")
            for n in range(1, 6)
        ]
        self.councils, self.reviewers = [], {}
        for area in range(areas):
            council = self.organisation(
                f"Council of Area {area + 1:03d}", "commissioner", gss_code=f"E{area:08d}"
            )
            self.councils.append(council)
            self.reviewers[council] = self.user(
                f"commissioner@area{area + 1:03d}.bench", "commissioner", council, None
            )
        self.ccgs = [
            self.organisation(f"NHS Area {n + 1:02d} CCG", "commissioner", ods_code=f"0{n:02d}")
            for n in range(-(-areas // AREAS_PER_CCG))
        ]
        self.pccs = [
            self.organisation(f"Police and Crime Commissioner for Force {n + 1:02d}", "commissioner")
            for n in range(-(-areas // AREAS_PER_FORCE))
        ]
        self.local_providers = [
            self.organisation(f"Area {a + 1:03d} Women's Aid", "provider", charity_number=f"{1_000_000 + a}")
            for a in range(areas)
        ]
        self.boards = []
        for area, council in enumerate(self.councils):
            board = self.partnership(f"Area {area + 1:03d} Health and Wellbeing Board", [council])
            self.boards.append(board)
            self.user(f"board@area{area + 1:03d}.bench", "board", None, board)
        self.force_boards = []
        for force, pcc in enumerate(self.pccs):
            members = self.councils[force * AREAS_PER_FORCE : (force + 1) * AREAS_PER_FORCE]
            self.force_boards.append(
                self.partnership(f"Force {force + 1:02d} Domestic Abuse Partnership Board", [*members, pcc])
            )
            self.user(f"board@force{force + 1:02d}.bench", "board", None, self.force_boards[-1])
        for area in range(areas):
            for number, service in enumerate(AREA_SERVICES, start=1):
                self.contract(area, number, service)
            if area % PIPELINE_EVERY == 0:
                self.contract(area, len(AREA_SERVICES) + 1, ServiceType.OUTREACH, pipeline=True)
        self.benchmarking()

    # --- benchmarking: regions, decisions to be compared, similar areas ----------

    def benchmarking(self) -> None:
        """Regions, opt-in decisions and similar-areas groups, by area number
        (no random draws, so the rest of the register is unchanged)."""
        self.not_compared: list[int] = []
        middle = self.shape.areas // 2
        for area, board in enumerate(self.boards):
            force = area // AREAS_PER_FORCE
            self.t.add(
                AreaRegion.__table__,  # type: ignore[arg-type]
                partnership_id=board,
                region=REGIONS[force % len(REGIONS)],
            )
            name = f"Cllr Chair of Area {area + 1:03d}"
            role = "Chair, Health and Wellbeing Board"
            first = FIRST_DECISION + timedelta(days=area % 200)
            cycle = area % AREA_CYCLE if area != middle else 0
            if cycle == UNDECIDED_AREA:
                self.not_compared.append(board)
                continue
            self.decision(board, cycle != REJOINED_AREA, first, name, role)
            if cycle in (OPTED_OUT_AREA, REJOINED_AREA):
                # A change of mind is a later decision; the history stays.
                self.decision(board, cycle == REJOINED_AREA, first + timedelta(days=90), name, role)
            if cycle == OPTED_OUT_AREA:
                self.not_compared.append(board)
        for force, board in enumerate(self.force_boards):
            self.t.add(
                AreaRegion.__table__,  # type: ignore[arg-type]
                partnership_id=board,
                region=REGIONS[force % len(REGIONS)],
            )
            if (
                force % UNDECIDED_FORCE_EVERY == UNDECIDED_FORCE_EVERY - 1
                and force != middle // AREAS_PER_FORCE
            ):
                self.not_compared.append(board)
                continue
            self.decision(
                board,
                True,
                FIRST_DECISION + timedelta(days=force % 200),
                f"Police and Crime Commissioner for Force {force + 1:02d}",
                "Chair, Domestic Abuse Partnership Board",
            )
        groups = (
            (
                "Urban areas with high deprivation",
                "Areas in the two most deprived fifths with mostly urban populations",
                [board for area, board in enumerate(self.boards) if area % 3 != 2],
            ),
            (
                "Mixed urban and rural areas",
                "Areas with a large rural population and one or more market towns",
                [board for area, board in enumerate(self.boards) if area % 3 == 2 or area % 6 == 0],
            ),
        )
        for name, description, members in groups:
            if len(members) < SMALLEST_GROUP:
                continue
            group_id = self.ids.next("comparison_groups")
            self.t.add(
                ComparisonGroup.__table__,  # type: ignore[arg-type]
                id=group_id,
                name=name,
                description=description,
                created_by_id=None,
                created_at=STAMP,
            )
            for member in members:
                self.t.add(
                    ComparisonGroupMember.__table__,  # type: ignore[arg-type]
                    group_id=group_id,
                    partnership_id=member,
                )

    def decision(self, partnership_id: int, opted_in: bool, on: date, name: str, role: str) -> None:
        if on >= AS_AT:
            raise ValueError(f"a generated decision ({on}) must be before the as-at date {AS_AT}")
        self.t.add(
            BenchmarkingDecision.__table__,  # type: ignore[arg-type]
            id=self.ids.next("benchmarking_decisions"),
            partnership_id=partnership_id,
            opted_in=opted_in,
            decided_on=on,
            approver_name=name,
            approver_role=role,
            recorded_by_id=None,
            recorded_at=STAMP,
        )

    # --- contracts ---------------------------------------------------------------

    def contract(self, area: int, number: int, service: ServiceType, pipeline: bool = False) -> None:
        rng = self.rng
        contract_id = self.ids.next("contracts")
        council = self.councils[area]
        ccg, pcc = self.ccgs[area // AREAS_PER_CCG], self.pccs[area // AREAS_PER_FORCE]
        lead, partners = council, []
        if service == ServiceType.ISVA:
            lead, partners = pcc, [council]
        elif service == ServiceType.IDVA and number == 2:
            lead, partners = ccg, [council]
        elif rng.random() < 0.15:
            partners = [pcc if rng.random() < 0.5 else ccg]
        elif rng.random() < 0.03 and self.shape.areas > 1:
            partners = [self.councils[(area + 1) % self.shape.areas]]
        provider = self.local_providers[area] if rng.random() < 0.6 else int(rng.choice(self.providers))
        size = float(np.clip(rng.lognormal(0.0, 0.6), 0.15, 4.0))
        annual_value = round(60_000 * size + 20_000, -3)

        if pipeline:
            start = date(2014, 7, 1)
        elif rng.random() < 0.7:
            start = date(2009, 4, 1) + timedelta(days=int(rng.integers(0, 365)))
        else:
            start = date(2010, 4, 1) + timedelta(days=int(rng.integers(0, 900)))
        original_end = term_end(start, 36)
        lengths = [(12, 12), (24, 12), (12,), (12, 12, 12)][int(rng.integers(0, 4))]
        end = original_end
        options, extensions = [], []
        for sequence, months in enumerate(lengths, start=1):
            option_id = self.ids.next("extension_options")
            if end < AS_AT + timedelta(days=60) and rng.random() < 0.9:
                state = "exercised"
                extensions.append((option_id, end, extend_end(end, months)))
                end = extend_end(end, months)
            elif end < AS_AT:
                state = "declined" if rng.random() < 0.5 else "lapsed"
            else:
                state = "available"
            options.append((option_id, sequence, months, state))
        ending: tuple[str, date] | None = None
        if not pipeline and rng.random() < 0.02:
            ending = ("decommissioning", start + timedelta(days=int(rng.integers(400, 1200))))
            if ending[1] >= end or ending[1] >= AS_AT:
                ending = None
        final_end = ending[1] if ending else end
        initial_value = annual_value * 3
        # The total of the terms in force, by the register's own rule.
        changes = [TermChange("extension", old, new) for _, old, new in extensions]
        if ending:
            changes.append(TermChange("ending", end, final_end))
        total_value = value_in_force(Decimal(initial_value), Decimal(annual_value), changes)

        reference = f"NAT-{area + 1:03d}-{number:02d}"
        self.t.add(
            Contract.__table__,  # type: ignore[arg-type]
            id=contract_id,
            reference=reference,
            title=f"Area {area + 1:03d} {service.value} service {number}",
            description="",
            service_type=service.value,
            category="core" if number <= 8 else ("supporting" if number <= 12 else "supplementary"),
            agreement_type="grant" if service == ServiceType.PREVENTION else "contract",
            provider_id=provider,
            lead_commissioner_id=lead,
            start_date=start,
            original_end_date=original_end,
            end_date=final_end,
            award_date=start - timedelta(days=90),
            notice_period_months=6,
            annual_value=annual_value,
            initial_value=initial_value,
            total_value=total_value,
            contract_manager="",
            created_at=STAMP,
            updated_at=STAMP,
        )
        for partner in partners:
            self.t.add(contract_partners, contract_id=contract_id, organisation_id=partner)
        cohorts = list(COHORTS[service])
        if rng.random() < 0.1:
            cohorts.append(RARE_COHORTS[int(rng.integers(0, len(RARE_COHORTS)))])
        for cohort in dict.fromkeys(cohorts):
            self.t.add(ContractCohort.__table__, contract_id=contract_id, cohort=cohort.value)  # type: ignore[arg-type]
        for option_id, sequence, months, state in options:
            self.t.add(
                ExtensionOption.__table__,  # type: ignore[arg-type]
                id=option_id,
                contract_id=contract_id,
                sequence=sequence,
                length_months=months,
                state=state,
            )
        for option_id, old_end, new_end in extensions:
            self.amendment(
                contract_id, "extension", old_end - timedelta(days=120), old_end, new_end, option_id
            )
        if ending:
            self.amendment(contract_id, ending[0], ending[1], None, None, None)
        self.funding(contract_id, lead, start, final_end, annual_value)
        items = self.framework(contract_id, service, start, size, annual_value)
        if service in SAFE_ACCOMMODATION_SERVICES and not pipeline:
            self.safe_accommodation(contract_id, start, final_end)
        # Candidates for the incremental runs: a council's own service, in a
        # force with its full three areas, so the rows a run must rebuild
        # (that council, its board and its force's board) are alike in
        # every size of register.
        full_force = (area // AREAS_PER_FORCE + 1) * AREAS_PER_FORCE <= self.shape.areas
        full_force |= self.shape.areas < AREAS_PER_FORCE  # a smoke run's register is one partial force
        reviewer = self.reviewers[council] if lead == council and not partners and full_force else None
        if not pipeline:
            self.returns(contract_id, service, start, final_end, size, annual_value, items, reviewer)

    def amendment(
        self,
        contract_id: int,
        kind: str,
        effective: date,
        old_end: date | None,
        new_end: date | None,
        option_id: int | None,
    ) -> None:
        self.t.add(
            Amendment.__table__,  # type: ignore[arg-type]
            id=self.ids.next("amendments"),
            contract_id=contract_id,
            kind=kind,
            effective_date=effective,
            rationale="Performance on target; board agreed the extension"
            if kind == "extension"
            else "Service decommissioned after the needs assessment",
            old_end_date=old_end,
            new_end_date=new_end,
            old_value=None,
            new_value=None,
            approved_by="Health and Wellbeing Board",
            board_minute_reference=f"HWB/{effective:%Y}/{contract_id}",
            extension_option_id=option_id,
            recorded_by_id=None,
            recorded_at=STAMP,
        )

    def funding(self, contract_id: int, lead: int, start: date, end: date, annual_value: float) -> None:
        first = Quarter.containing(start).fy_start
        last = min(Quarter.containing(end).fy_start, 2015)
        chosen = self.rng.choice(len(self.funders), size=int(self.rng.integers(0, 3)), replace=False)
        for year in range(max(first, 2009), last + 1):
            financial_year = f"{year}/{(year + 1) % 100:02d}"
            shares = [(lead, "Core grant", 1.0)] + [
                (self.funders[i][0], self.funders[i][1], 0.5) for i in chosen
            ]
            weight = sum(s for _, _, s in shares)
            for funder, stream, share in shares:
                self.t.add(
                    FundingLine.__table__,  # type: ignore[arg-type]
                    id=self.ids.next("funding_lines"),
                    contract_id=contract_id,
                    funder_id=funder,
                    funding_stream=stream,
                    financial_year=financial_year,
                    amount=round(annual_value * share / weight),
                )

    def safe_accommodation(self, contract_id: int, start: date, end: date) -> None:
        """Count the contract as safe accommodation in each financial year it is
        live, up to the as-at date's year (its lead council compiles the return)."""
        for year in range(Quarter.containing(start).fy_start, Quarter.containing(AS_AT).fy_start + 1):
            first_day, last_day = date(year, 4, 1), date(year + 1, 3, 31)
            if start <= last_day and end >= first_day:
                self.t.add(
                    SafeAccommodationContract.__table__,  # type: ignore[arg-type]
                    id=self.ids.next("safe_accommodation_contracts"),
                    contract_id=contract_id,
                    financial_year=f"{year}/{(year + 1) % 100:02d}",
                    flagged_by_id=None,
                    flagged_at=STAMP,
                )

    # --- framework and returns ---------------------------------------------------

    def framework(
        self, contract_id: int, service: ServiceType, start: date, size: float, annual_value: float
    ) -> dict[str, list[tuple[str, str | None]]]:
        """Targets per KPI; some contracts changed their referral target in 2012/13.
        Returns code -> [(effective_from, effective_to)]."""
        rng = self.rng
        first = str(max(Quarter.containing(start), FIRST_QUARTER))
        targets = {
            "REF-RECEIVED": round(40 * size),
            "REF-ACCEPTED": round(34 * size),
            "CONTACT-2WD": 90,
            "CASELOAD": round(25 * size),
            "CASES-CLOSED": round(20 * size),
            "PLANNED-ENDING": 75,
            "SAFETY-PLAN": 95,
            "FEEL-SAFER": 85,
            "ABUSE-STOPPED": 70,
            "MARAC-REPEAT": max(1, round(4 * size)),
            "WAIT-DAYS": 10,
            "COST-PER-CASE": round(annual_value / 4 / max(1, 20 * size)),
            "PERP-STARTS": round(8 * size),
            "PERP-COMPLETIONS": round(5 * size),
            "SDQ-IMPROVED": 60,
            "WEMWBS-IMPROVED": 50,
            "CP-CIN-SUPPORTED": None,
        }
        spans: dict[str, list[tuple[str, str | None]]] = {}
        yearly = rng.random() < 0.1
        changed = rng.random() < 0.15 and first < "2012-13-Q1"
        for code in FRAMEWORKS[service]:
            target = targets[code]
            periods: list[tuple[str, str | None, float | None]] = [(first, None, target)]
            if code == "REF-RECEIVED" and changed and target is not None:
                periods = [(first, "2011-12-Q4", target), ("2012-13-Q1", None, round(target * 1.2))]
            for effective_from, effective_to, value in periods:
                sums = code in (
                    "REF-RECEIVED",
                    "REF-ACCEPTED",
                    "CASES-CLOSED",
                    "PERP-STARTS",
                    "PERP-COMPLETIONS",
                )
                basis = "year" if yearly and sums else "quarter"
                self.t.add(
                    FrameworkItem.__table__,  # type: ignore[arg-type]
                    id=self.ids.next("framework_items"),
                    contract_id=contract_id,
                    kpi_id=self.kpis[code],
                    target=None if value is None else (value * 4 if basis == "year" else value),
                    target_basis=basis,
                    amber_tolerance_pct=10,
                    direction=None,
                    effective_from=effective_from,
                    effective_to=effective_to,
                )
                spans.setdefault(code, []).append((effective_from, effective_to))
        # Monitored without a target since the council started collecting them.
        for code in MONITORED.get(service, ()):
            self.t.add(
                FrameworkItem.__table__,  # type: ignore[arg-type]
                id=self.ids.next("framework_items"),
                contract_id=contract_id,
                kpi_id=self.kpis[code],
                target=None,
                target_basis="quarter",
                amber_tolerance_pct=10,
                direction=None,
                effective_from=max(first, MONITORED_FROM),
                effective_to=None,
            )
            spans.setdefault(code, []).append((max(first, MONITORED_FROM), None))
        return spans

    def returns(
        self,
        contract_id: int,
        service: ServiceType,
        start: date,
        end: date,
        size: float,
        annual_value: float,
        items: dict[str, list[tuple[str, str | None]]],
        reviewer: int | None,
    ) -> None:
        quarters = [q for q in self.quarters if q.end >= start and q.start <= end]
        if not quarters:
            return
        drawn, outcomes = figures(self.rng, FRAMEWORKS[service], size, annual_value, len(quarters))
        if service in MONITORED:
            # A stream of the contract's own, so the main stream's draws are as before.
            stream = np.random.default_rng([self.shape.seed, contract_id])
            extra = monitored_figures(
                stream, MONITORED[service], size, drawn, [q.number == 1 for q in quarters]
            )
            drawn = [[*mine, *more] for mine, more in zip(drawn, extra, strict=True)]
        for index, quarter in enumerate(quarters):
            last = quarter == LAST_QUARTER
            draw = self.rng.random()
            # Early May: some of the last quarter's returns are late or in
            # draft, and many await review.
            if last and draw < 0.03:
                continue
            state = "accepted"
            if last and draw < 0.08:
                state = "draft"
            elif last and draw < 0.38:
                state = "submitted"
            resubmitted = not last and draw < 0.05
            return_id = self.ids.next("returns")
            self.t.add(
                Return.__table__,  # type: ignore[arg-type]
                id=return_id,
                contract_id=contract_id,
                period=str(quarter),
                state=state,
                due_date=self.due[quarter],
                revision=3 if state == "accepted" else 1,
                updated_at=STAMP,
            )
            period = str(quarter)
            rows = [
                row
                for row in drawn[index]
                if any(f <= period and (t is None or t >= period) for f, t in items.get(row[0], []))
            ]
            versions = [(1, state != "draft", rows)]
            if resubmitted:
                # The first version had a wrong referral total; the second was accepted.
                wrong = [
                    (c, b, v + 3 if (c, b) == ("REF-RECEIVED", "") else v, n, d) for c, b, v, n, d in rows
                ]
                versions = [(1, True, wrong), (2, True, rows)]
            for number, submitted, version_rows in versions:
                version_id = self.ids.next("return_versions")
                self.t.add(
                    ReturnVersion.__table__,  # type: ignore[arg-type]
                    id=version_id,
                    return_id=return_id,
                    number=number,
                    filename=f"NAT-{contract_id}-{period}.xlsx",
                    content=self.content,
                    sha256=self.sha,
                    size_bytes=len(self.content),
                    template_version="2",
                    submitted=submitted,
                    warnings_acknowledged=False,
                    uploaded_by_id=None,
                    uploaded_at=STAMP,
                )
                first_value = self.ids.take("return_values", len(version_rows))
                self.t.extend(
                    ReturnValue.__table__,  # type: ignore[arg-type]
                    VALUE_COLUMNS,
                    (
                        (
                            first_value + n,
                            version_id,
                            self.kpis[code],
                            breakdown,
                            value,
                            numerator,
                            denominator,
                        )
                        for n, (code, breakdown, value, numerator, denominator) in enumerate(version_rows)
                    ),
                )
                first_score = self.ids.take("outcome_scores", len(outcomes[index]))
                self.t.extend(
                    OutcomeScore.__table__,  # type: ignore[arg-type]
                    SCORE_COLUMNS,
                    (
                        (first_score + n, version_id, measure, informant, pre, post)
                        for n, (measure, informant, pre, post) in enumerate(outcomes[index])
                    ),
                )
                if submitted:
                    kind = "resubmitted" if number > 1 else "submitted"
                    self.event(return_id, contract_id, kind, number)
            if resubmitted:
                self.event(return_id, contract_id, "queried", 1)
            if state == "accepted":
                self.accepted_figures += len(rows)
                self.event(return_id, contract_id, "accepted", versions[-1][0])
            elif state == "submitted" and reviewer is not None:
                self.awaiting.append((return_id, reviewer))

    def event(self, return_id: int, contract_id: int, kind: str, version: int) -> None:
        event_id = self.ids.next("return_events")
        self.t.add(
            ReturnEvent.__table__,  # type: ignore[arg-type]
            id=event_id,
            return_id=return_id,
            kind=kind,
            comment="",
            version_number=version,
            by_id=None,
            at=STAMP,
        )
        # The audit trail the app keeps for each review step (what incremental
        # ETL runs search by time).
        self.t.add(
            AuditEvent.__table__,  # type: ignore[arg-type]
            id=self.ids.next("audit_events"),
            at=STAMP,
            actor_id=None,
            actor_label="bench",
            action="create",
            entity_type="return event",
            entity_id=event_id,
            entity_label="",
            contract_id=contract_id,
            changes=json.dumps({"kind": [None, kind]}),  # COPY takes the JSON column as text
        )


def _quarters(first: Quarter, last: Quarter) -> list[Quarter]:
    quarters, quarter = [], first
    while quarter <= last:
        quarters.append(quarter)
        quarter = quarter.next()
    return quarters


def _insert(engine: Engine, tables: _Tables) -> None:
    """SQLite has no COPY: plain inserts in foreign-key order, for the tests'
    small registers (its ids need no sequences moved)."""
    with engine.begin() as connection:
        for table in Base.metadata.sorted_tables:
            rows = tables.rows.get(table.name)
            if rows:
                names = tables.columns[table.name]
                connection.execute(table.insert(), [dict(zip(names, row, strict=True)) for row in rows])


def _copy(engine: Engine, tables: _Tables) -> None:
    """COPY every table in foreign-key order, then move the id sequences past
    the ids given here, so the app's own inserts (the bench's accepted
    returns) get fresh ids. On SQLite, plain inserts (`_insert`).

    Foreign-key triggers are off during the COPY (they check row by row and
    made it four times slower) and every key is checked afterwards instead,
    with one anti-join per foreign key."""
    if engine.dialect.name != "postgresql":
        _insert(engine, tables)
        return
    order = [t.name for t in Base.metadata.sorted_tables]
    with engine.begin() as connection:
        raw = connection.connection.driver_connection
        with raw.cursor() as cursor:  # type: ignore[union-attr]
            cursor.execute("SET LOCAL session_replication_role = replica")
            for name in order:
                rows = tables.rows.get(name)
                if not rows:
                    continue
                columns = ", ".join(f'"{c}"' for c in tables.columns[name])
                with cursor.copy(f'COPY "{name}" ({columns}) FROM STDIN') as copy:
                    for row in rows:
                        copy.write_row(row)
        for table in Base.metadata.sorted_tables:
            if "id" in table.c and table.c.id.primary_key and table.c.id.autoincrement in (True, "auto"):
                last = f'coalesce((SELECT max(id) FROM "{table.name}"), 0) + 1'  # noqa: S608 - model names
                sequence = f"pg_get_serial_sequence('\"{table.name}\"', 'id')"
                connection.execute(text(f"SELECT setval({sequence}, {last}, false)"))
        _check_foreign_keys(connection)
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.execute(text("VACUUM ANALYZE"))


def _check_foreign_keys(connection: Connection) -> None:
    broken = []
    for table in Base.metadata.sorted_tables:
        for key in table.foreign_key_constraints:
            pairs = list(zip(key.column_keys, [e.column.name for e in key.elements], strict=True))
            parent = key.referred_table.name
            joined = " AND ".join(f'p."{theirs}" = c."{ours}"' for ours, theirs in pairs)
            present = " AND ".join(f'c."{ours}" IS NOT NULL' for ours, _ in pairs)
            orphans = connection.scalar(
                text(
                    f'SELECT count(*) FROM "{table.name}" c WHERE {present} '  # noqa: S608 - names from the models
                    f'AND NOT EXISTS (SELECT 1 FROM "{parent}" p WHERE {joined})'
                )
            )
            if orphans:
                broken.append(f"{orphans} {table.name} rows point at no {parent}")
    if broken:
        raise RuntimeError("the generated register breaks foreign keys: " + "; ".join(broken))


def generate(engine: Engine, shape: Shape, password_hash: str) -> Generated:
    """Fill an empty, migrated app database (with the KPI library loaded)."""
    started = time.perf_counter()
    with engine.connect() as connection:
        kpis = {code: kpi_id for kpi_id, code in connection.execute(select(Kpi.id, Kpi.code))}
        # Loading the KPI library wrote rows (and their audit trail) already.
        taken = {
            table.name: int(connection.scalar(text(f'SELECT max(id) FROM "{table.name}"')) or 0)  # noqa: S608
            for table in Base.metadata.sorted_tables
            if "id" in table.c
        }
    generator = _Generator(shape, kpis, password_hash)
    generator.ids.counters.update(taken)
    generator.build()
    _copy(engine, generator.t)
    middle = shape.areas // 2
    force = middle // AREAS_PER_FORCE
    return Generated(
        shape=shape,
        rows={name: len(rows) for name, rows in generator.t.rows.items()},
        accepted_figures=generator.accepted_figures,
        awaiting_review=generator.awaiting,
        viewers={
            "commissioner": (
                f"organisation:{generator.councils[middle]}",
                f"Council of Area {middle + 1:03d}",
            ),
            "board": (
                f"partnership:{generator.boards[middle]}",
                f"Area {middle + 1:03d} Health and Wellbeing Board",
            ),
            "force board": (
                f"partnership:{generator.force_boards[force]}",
                f"Force {force + 1:02d} Domestic Abuse Partnership Board",
            ),
        },
        seconds=time.perf_counter() - started,
        not_compared=generator.not_compared,
    )
