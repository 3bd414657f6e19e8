"""The national register (bench/national.py) as a test bed for benchmarking
and the statutory return: a generated register of three areas and their
force, on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from bench.national import AS_AT, Generated
from bench.national_figures import MONITORED
from monitor.auth.models import Partnership
from monitor.benchmarking.models import AreaRegion, BenchmarkingDecision, ComparisonGroup
from monitor.benchmarking.service import comparison_groups_for, opted_in_areas
from monitor.benchmarking.vocabulary import REGIONS, GroupKind
from monitor.contracts.models import Contract, ServiceType
from monitor.contracts.periods import financial_year_bounds
from monitor.db import db
from monitor.kpis.library.relations import broken_rules
from monitor.kpis.library.rules import declared_rules
from monitor.kpis.models import ReturnValue, ReturnVersion
from monitor.statutory.models import SafeAccommodationContract
from tests.conftest import Warehouse
from tests.kpis.test_demo_performance import stored_figures
from tests.national_register import generated_register

register = pytest.fixture(scope="module")(generated_register)


def test_every_partnership_has_a_region_and_most_take_part(register: tuple[Warehouse, Generated]) -> None:
    warehouse, generated = register
    with warehouse.app.app_context():
        session = db.session()
        partnerships = set(session.scalars(select(Partnership.id)))
        regions = {
            row[0]: row[1] for row in session.execute(select(AreaRegion.partnership_id, AreaRegion.region))
        }
        assert set(regions) == partnerships and set(regions.values()) <= set(REGIONS)
        # Every decision is named and dated before the register's as-at date.
        latest = session.scalar(select(func.max(BenchmarkingDecision.decided_on)))
        assert latest is not None and latest < AS_AT
        assert "" not in set(session.scalars(select(BenchmarkingDecision.approver_name)))
        taking_part = opted_in_areas(session, AS_AT)
        # Area 3's board opted in, then out; everyone else takes part.
        area_3 = session.scalar(select(Partnership.id).where(Partnership.name.startswith("Area 003")))
        assert generated.not_compared == [area_3]
        assert taking_part == partnerships - {area_3}
        # Its history is kept: it had opted in before opting out.
        first = session.scalar(
            select(func.min(BenchmarkingDecision.decided_on)).where(
                BenchmarkingDecision.partnership_id == area_3
            )
        )
        assert first is not None and area_3 in opted_in_areas(session, first)


def test_the_sample_viewers_area_is_compared_within_its_region_and_similar_areas(
    register: tuple[Warehouse, Generated],
) -> None:
    warehouse, generated = register
    with warehouse.app.app_context():
        board = int(generated.viewers["board"][0].split(":")[1])
        groups = comparison_groups_for(db.session(), board, AS_AT)
        kinds = {group.kind for group in groups}
        assert kinds == {GroupKind.ALL_AREAS, GroupKind.REGION, GroupKind.SIMILAR_AREAS}
        assert (db.session.scalar(select(func.count(ComparisonGroup.id))) or 0) >= 1
        # The area that opted out is in no group, even its similar-areas group.
        for group in groups:
            assert not set(generated.not_compared) & group.member_ids


def test_every_generated_return_keeps_the_librarys_rules(register: tuple[Warehouse, Generated]) -> None:
    """The unmet need and safe accommodation figures added to the refuges add
    up to their totals and keep every PART_OF rule, as a provider's must."""
    warehouse, _generated = register
    with warehouse.app.app_context():
        rules = declared_rules(db.session())
        versions = db.session.scalars(
            select(ReturnVersion).options(selectinload(ReturnVersion.values).selectinload(ReturnValue.kpi))
        ).all()
        # A queried first version had a wrong referral total on purpose; the
        # version that stands for each return is its latest.
        latest: dict[int, ReturnVersion] = {}
        for version in versions:
            if version.return_id not in latest or version.number > latest[version.return_id].number:
                latest[version.return_id] = version
        versions = list(latest.values())
        codes = {value.kpi.code for version in versions for value in version.values}
        assert set(MONITORED[ServiceType.REFUGE]) <= codes
        broken = {
            version.id: [(b.rule.kind.value, b.rule.kpi, b.rule.related) for b in found]
            for version in versions
            if (found := broken_rules(rules, stored_figures(version)))
        }
        assert broken == {}


def test_each_councils_refuges_count_as_safe_accommodation_in_the_years_they_are_live(
    register: tuple[Warehouse, Generated],
) -> None:
    warehouse, _generated = register
    with warehouse.app.app_context():
        session = db.session()
        flags = session.execute(
            select(
                Contract.service_type, Contract.start_date, Contract.end_date, SafeAccommodationContract
            ).join(SafeAccommodationContract, SafeAccommodationContract.contract_id == Contract.id)
        ).all()
        refuges = session.scalars(
            select(Contract).where(Contract.service_type == ServiceType.REFUGE.value)
        ).all()
        assert {service for service, *_ in flags} == {ServiceType.REFUGE.value}
        assert {flag.contract_id for *_, flag in flags} == {refuge.id for refuge in refuges}
        for _service, start, end, flag in flags:
            first_day, last_day = financial_year_bounds(flag.financial_year)
            assert start <= last_day and end >= first_day, flag.label
