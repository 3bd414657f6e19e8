"""Data-quality checks run on the warehouse before a run commits. A failed
check fails the run, so the previous warehouse stays as it was."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import asdict, dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import Column, ColumnElement, Connection, Select, Table, func, select
from sqlalchemy.orm import Session

from etl.extract import accepted_versions
from etl.load import chunks
from etl.schema import (
    bridge_contract_viewer,
    dim_contract,
    dim_kpi,
    dim_organisation,
    dim_period,
    fact_funding,
    fact_kpi_result,
    fact_outcome,
    mart_board_performance,
    mart_comparison,
    mart_outcomes,
    mart_renewals,
    mart_value_for_money,
)
from etl.transform.periods import quarter_key
from monitor.benchmarking.service import opted_in_areas
from monitor.contracts.models import FundingLine
from monitor.kpis.models import ReturnValue


@dataclass(frozen=True)
class Check:
    name: str
    passed: bool
    detail: str

    def as_dict(self) -> dict[str, object]:
        return asdict(self)


def _count(connection: Connection, query: Select, column: Any, only: Collection[Any] | None) -> int:
    """`query`'s count, of the rows whose `column` is in `only` when given."""
    if only is None:
        return int(connection.scalar(query) or 0)
    return sum(int(connection.scalar(query.where(column.in_(chunk))) or 0) for chunk in chunks(sorted(only)))


def _orphans(
    warehouse: Connection, child: Column[Any], parent: Column[Any], contracts: Collection[int] | None
) -> int:
    """Rows of `child` whose key has no row in `parent`."""
    query = select(func.count()).select_from(child.table).where(~child.in_(select(parent)))
    return _count(warehouse, query, child.table.c.contract_id, contracts)


def keys_resolve(warehouse: Connection, contracts: Collection[int] | None = None) -> Check:
    pairs = [
        (fact_kpi_result.c.contract_version_key, dim_contract.c.contract_version_key),
        (fact_kpi_result.c.kpi_id, dim_kpi.c.kpi_id),
        (fact_kpi_result.c.period_key, dim_period.c.period_key),
        (fact_funding.c.contract_id, dim_contract.c.contract_id),
        (fact_funding.c.funder_id, dim_organisation.c.organisation_id),
        (fact_outcome.c.period_key, dim_period.c.period_key),
        (bridge_contract_viewer.c.contract_id, dim_contract.c.contract_id),
    ]
    problems = []
    for child, parent in pairs:
        count = _orphans(warehouse, child, parent, contracts)
        if count:
            problems.append(f"{count} {child.table.name}.{child.name} not in {parent.table.name}")
    return Check(
        "keys resolve", not problems, "; ".join(problems) or "every fact's keys are in its dimensions"
    )


def funding_reconciles(warehouse: Connection, app: Connection) -> Check:
    """Funding per financial year equals the register's, to the penny."""
    ours = dict(
        warehouse.execute(
            select(fact_funding.c.financial_year, func.sum(fact_funding.c.amount)).group_by(
                fact_funding.c.financial_year
            )
        ).all()
    )
    theirs = dict(
        app.execute(
            select(FundingLine.financial_year, func.sum(FundingLine.amount)).group_by(
                FundingLine.financial_year
            )
        ).all()
    )
    differ = sorted(
        year
        for year in set(ours) | set(theirs)
        if Decimal(str(ours.get(year) or 0)).quantize(Decimal("0.01"))
        != Decimal(str(theirs.get(year) or 0)).quantize(Decimal("0.01"))
    )
    detail = (
        "; ".join(
            f"{y}: warehouse £{ours.get(y) or 0:,.2f}, register £{theirs.get(y) or 0:,.2f}" for y in differ
        )
        or f"{len(theirs)} financial years match the register"
    )
    return Check("funding reconciles", not differ, detail)


def results_reconcile(
    warehouse: Connection, app: Connection, contracts: Collection[int] | None = None
) -> Check:
    """Every accepted figure, and nothing else, is a KPI result."""
    accepted = accepted_versions().subquery()
    theirs = _count(
        app,
        select(func.count())
        .select_from(ReturnValue)
        .join(accepted, accepted.c.version_id == ReturnValue.version_id),
        accepted.c.contract_id,
        contracts,
    )
    ours = _count(
        warehouse, select(func.count()).select_from(fact_kpi_result), fact_kpi_result.c.contract_id, contracts
    )
    return Check("results reconcile", ours == theirs, f"{ours:,} KPI results for {theirs:,} accepted figures")


def boards_see_no_small_counts(
    warehouse: Connection, threshold: int, viewers: Collection[str] | None = None
) -> Check:
    """No board row shows a count from 1 to the threshold."""
    perf, vfm, out = mart_board_performance.c, mart_value_for_money.c, mart_outcomes.c
    small_count: list[tuple[Table, list[ColumnElement[bool]]]] = [
        (mart_board_performance, [perf.unit == "count", perf.actual.between(1, threshold)]),
        (mart_outcomes, [out.paired_cases.between(1, threshold)]),
    ]
    small_count += [
        (mart_value_for_money, [column.between(1, threshold)])
        for column in (vfm.referrals, vfm.completions, vfm.positive_outcomes)
    ]
    small = sum(
        _count(
            warehouse,
            select(func.count()).select_from(mart).where(mart.c.viewer_kind == "board", *conditions),
            mart.c.viewer,
            viewers,
        )
        for mart, conditions in small_count
    )
    return Check(
        "disclosure control",
        small == 0,
        f"{small} board figures from 1 to {threshold} are visible"
        if small
        else f"no board count from 1 to {threshold}",
    )


def run_checks(
    warehouse: Connection,
    app: Connection,
    threshold: int,
    contracts: Collection[int] | None = None,
    viewers: Collection[str] | None = None,
) -> list[Check]:
    """The checks, on the whole warehouse, or (after an incremental run) on
    the contracts and viewers it rebuilt: the rest was checked when it was
    written, and scanning it all would make every small change cost as much
    as the warehouse is large."""
    return [
        keys_resolve(warehouse, contracts),
        funding_reconciles(warehouse, app),
        results_reconcile(warehouse, app, contracts),
        boards_see_no_small_counts(warehouse, threshold, viewers),
    ]


def renewals_complete(warehouse: Connection) -> Check:
    """Every viewer has one renewal row for each contract it sees."""
    seen = int(
        warehouse.scalar(
            select(func.count())
            .select_from(bridge_contract_viewer)
            .join(dim_contract, dim_contract.c.contract_id == bridge_contract_viewer.c.contract_id)
            .where(dim_contract.c.is_current.is_(True))
        )
        or 0
    )
    rows = int(warehouse.scalar(select(func.count()).select_from(mart_renewals)) or 0)
    return Check(
        "renewals complete", rows == seen, f"{rows:,} renewal rows for {seen:,} contracts seen by viewers"
    )


def periods_reach(warehouse: Connection, as_at: date) -> Check:
    """The period dimension runs to the as-at date's quarter."""
    key = quarter_key(as_at)
    found = warehouse.scalar(
        select(func.count()).select_from(dim_period).where(dim_period.c.period_key == key)
    )
    return Check(
        "periods reach the date",
        bool(found),
        f"{key} is in the period dimension" if found else f"{key}, the quarter of {as_at}, is missing",
    )


def dated_checks(warehouse: Connection, as_at: date) -> list[Check]:
    """The checks of what a roll of the as-at date rewrites."""
    return [renewals_complete(warehouse), periods_reach(warehouse, as_at)]


def comparison_check(warehouse: Connection, app: Connection, as_at: date, threshold: int) -> Check:
    """The comparison mart holds only areas opted in on the as-at date (as
    members, in group statistics through them, or as viewers), and shows no
    count from 1 to the threshold and no interval of a hidden figure."""
    with Session(bind=app) as session:
        taking_part = opted_in_areas(session, as_at)
    table = mart_comparison.c
    problems = []
    areas = {int(a) for (a,) in warehouse.execute(select(table.area_id).distinct()) if a is not None}
    viewing = {int(a) for (a,) in warehouse.execute(select(table.viewer_area_id).distinct())}
    outside = sorted((areas | viewing) - taking_part)
    if outside:
        problems.append(f"areas not opted in on {as_at.isoformat()}: {', '.join(map(str, outside))}")
    small = int(
        warehouse.scalar(
            select(func.count())
            .select_from(mart_comparison)
            .where(
                table.measure == "count",
                table.value.between(1, threshold),
            )
        )
        or 0
    )
    if small:
        problems.append(f"{small} rows show a count from 1 to {threshold}")
    leaking = int(
        warehouse.scalar(
            select(func.count())
            .select_from(mart_comparison)
            .where(table.value.is_(None), table.row_kind == "area", table.lower_95.is_not(None))
        )
        or 0
    )
    if leaking:
        problems.append(f"{leaking} hidden figures show an interval")
    return Check(
        "comparison shows opted-in areas only and no small count",
        not problems,
        "; ".join(problems) or "only opted-in areas, no count from 1 to the threshold",
    )
