"""Data-quality checks run on the warehouse before a run commits. A failed
check fails the run, so the previous warehouse stays as it was."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import Column, Connection, func, select

from etl.extract import accepted_versions
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
    mart_outcomes,
    mart_value_for_money,
)
from monitor.contracts.models import FundingLine
from monitor.kpis.models import ReturnValue


@dataclass(frozen=True)
class Check:
    name: str
    passed: bool
    detail: str

    def as_dict(self) -> dict[str, object]:
        return asdict(self)


def _orphans(warehouse: Connection, child: Column[Any], parent: Column[Any]) -> int:
    """Rows of `child` whose key has no row in `parent`."""
    query = select(func.count()).select_from(child.table).where(~child.in_(select(parent)))
    return int(warehouse.scalar(query) or 0)


def keys_resolve(warehouse: Connection) -> Check:
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
        count = _orphans(warehouse, child, parent)
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


def results_reconcile(warehouse: Connection, app: Connection) -> Check:
    """Every accepted figure, and nothing else, is a KPI result."""
    accepted = accepted_versions().subquery()
    theirs = int(
        app.scalar(
            select(func.count())
            .select_from(ReturnValue)
            .join(accepted, accepted.c.version_id == ReturnValue.version_id)
        )
        or 0
    )
    ours = int(warehouse.scalar(select(func.count()).select_from(fact_kpi_result)) or 0)
    return Check("results reconcile", ours == theirs, f"{ours:,} KPI results for {theirs:,} accepted figures")


def boards_see_no_small_counts(warehouse: Connection, threshold: int) -> Check:
    """No board row shows a count from 1 to the threshold."""
    small = 0
    perf = mart_board_performance.c
    small += int(
        warehouse.scalar(
            select(func.count())
            .select_from(mart_board_performance)
            .where(perf.viewer_kind == "board", perf.unit == "count", perf.actual.between(1, threshold))
        )
        or 0
    )
    vfm = mart_value_for_money.c
    for column in (vfm.referrals, vfm.completions, vfm.positive_outcomes):
        small += int(
            warehouse.scalar(
                select(func.count())
                .select_from(mart_value_for_money)
                .where(vfm.viewer_kind == "board", column.between(1, threshold))
            )
            or 0
        )
    out = mart_outcomes.c
    small += int(
        warehouse.scalar(
            select(func.count())
            .select_from(mart_outcomes)
            .where(out.viewer_kind == "board", out.paired_cases.between(1, threshold))
        )
        or 0
    )
    return Check(
        "disclosure control",
        small == 0,
        f"{small} board figures from 1 to {threshold} are visible"
        if small
        else f"no board count from 1 to {threshold}",
    )


def run_checks(warehouse: Connection, app: Connection, threshold: int) -> list[Check]:
    return [
        keys_resolve(warehouse),
        funding_reconciles(warehouse, app),
        results_reconcile(warehouse, app),
        boards_see_no_small_counts(warehouse, threshold),
    ]
