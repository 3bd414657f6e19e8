"""Does each figure of the statutory return agree with the warehouse?

The return is compiled from the app's accepted returns (monitor.statutory.
service); the warehouse holds the same accepted figures as last loaded
(fact_kpi_result, one row per contract, KPI, quarter and breakdown). Here
each question's figure is worked out again from the warehouse, for the same
flagged contracts and year, by the same definition and the same rule
(`service.evaluate_figures`), and the two are compared line by line.

A difference is expected for a while after a return is accepted: the
warehouse catches up at its next run. Where no return has changed since
the load, a difference is a fault to report. A warehouse not built is said
plainly; the return itself never depends on it.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from sqlalchemy import Engine, func, select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from etl.engine import WarehouseUnavailable
from etl.run import is_built, last_success
from etl.schema import dim_kpi, dim_period, fact_kpi_result
from monitor.formatting import count_text, format_figure, time_text
from monitor.kpis.models import Return, ReturnEvent
from monitor.kpis.periods import Quarter
from monitor.kpis.vocabulary import EventKind, Unit
from monitor.reports.pack_data import last_loaded, require_warehouse
from monitor.statutory.definition import EvaluatedReturn
from monitor.statutory.service import (
    QUARTER_NUMBERS,
    CompiledReturn,
    ReturnRow,
    evaluate_figures,
)

NOT_BUILT = (
    "The warehouse has not been loaded yet, so these figures could not be checked against it. "
    "An administrator runs `flask etl run --full` to load it"
)
AGREES = "Agrees with the warehouse"
WAIT_FOR_RUN = "The warehouse was loaded before the last acceptance: it will agree after the next ETL run"
FAULT = (
    "No return has changed since the warehouse was loaded, so this is a fault: an administrator runs "
    "`flask etl run --full`, and reports it if the figures still differ"
)

# A line's key: (question number, category, whether it is the question's total).
RowKey = tuple[str, str, bool]


def row_key(row: ReturnRow) -> RowKey:
    return (row.number, row.category, row.is_total)


@dataclass(frozen=True)
class RowCheck:
    """One line of the return against the warehouse."""

    agrees: bool
    warehouse_value: float | None
    # "Agrees with the warehouse", or the two figures and what to do.
    text: str


@dataclass(frozen=True)
class Reconciliation:
    """Every line of one compiled return against the warehouse as last loaded."""

    # When the warehouse was last loaded; None when it has never been.
    loaded_at: datetime | None
    checks: Mapping[RowKey, RowCheck] = field(default_factory=dict)
    # Set when there is nothing to check against (the warehouse is not built).
    unavailable: str = ""
    # A return of the flagged contracts for the year changed after the load.
    changed_since_load: bool = False

    @property
    def available(self) -> bool:
        return not self.unavailable

    def check(self, row: ReturnRow) -> RowCheck | None:
        return self.checks.get(row_key(row))

    @property
    def differing(self) -> int:
        return sum(1 for check in self.checks.values() if not check.agrees)

    @property
    def summary(self) -> str:
        """One sentence for the page's summary and the downloads' header."""
        if not self.available:
            return self.unavailable
        loaded = (
            f"the warehouse as loaded on {time_text(self.loaded_at)}" if self.loaded_at else "the warehouse"
        )
        if not self.differing:
            return f"Every figure agrees with {loaded}"
        what_to_do = WAIT_FOR_RUN if self.changed_since_load else FAULT
        differ = "differs" if self.differing == 1 else "differ"
        return f"{count_text(self.differing, 'figure')} {differ} from {loaded}. {what_to_do}"


def warehouse_figures(
    warehouse: Engine, contract_ids: Sequence[int], financial_year: str
) -> tuple[dict[tuple[int, str, str], dict[int, Decimal]], dict[str, str]]:
    """The warehouse's accepted figures for the contracts and year, shaped as the
    app's (contract, code, breakdown) -> {quarter: value}, and each KPI's rollup
    as the warehouse holds it. One query for the figures, one for the rollups."""
    accepted: dict[tuple[int, str, str], dict[int, Decimal]] = {}
    with warehouse.connect() as connection:
        rollups = {
            code: rollup for code, rollup in connection.execute(select(dim_kpi.c.code, dim_kpi.c.rollup))
        }
        if contract_ids:
            rows = connection.execute(
                select(
                    fact_kpi_result.c.contract_id,
                    dim_kpi.c.code,
                    fact_kpi_result.c.breakdown,
                    dim_period.c.quarter,
                    fact_kpi_result.c.actual,
                )
                .join(dim_kpi, dim_kpi.c.kpi_id == fact_kpi_result.c.kpi_id)
                .join(dim_period, dim_period.c.period_key == fact_kpi_result.c.period_key)
                .where(
                    fact_kpi_result.c.contract_id.in_(list(contract_ids)),
                    dim_period.c.financial_year == financial_year,
                    fact_kpi_result.c.actual.is_not(None),
                )
            )
            for contract_id, code, breakdown, quarter, actual in rows:
                # The warehouse stores floats; repr gives back the figure the app stored.
                accepted.setdefault((contract_id, code, breakdown), {})[quarter] = Decimal(repr(actual))
    return accepted, rollups


# The events that change which figures are accepted, so what the warehouse should hold.
CHANGES_ACCEPTED = (EventKind.ACCEPTED.value, EventKind.REOPENED.value)


def _last_change(session: Session, contract_ids: Sequence[int], financial_year: str) -> datetime | None:
    """When a return of the contracts for the year was last accepted or reopened."""
    if not contract_ids:
        return None
    periods = [str(Quarter(int(financial_year[:4]), number)) for number in QUARTER_NUMBERS]
    return session.scalar(
        select(func.max(ReturnEvent.at))
        .join(Return, Return.id == ReturnEvent.return_id)
        .where(
            Return.contract_id.in_(list(contract_ids)),
            Return.period.in_(periods),
            ReturnEvent.kind.in_(CHANGES_ACCEPTED),
        )
    )


def _same(app: float | None, warehouse: float | None) -> bool:
    if app is None or warehouse is None:
        return app is None and warehouse is None
    return math.isclose(app, warehouse, rel_tol=1e-9, abs_tol=1e-6)


def _figure(value: float | None) -> str:
    return format_figure(value, Unit.COUNT.value) if value is not None else "no figure"


def compare(
    compiled: CompiledReturn,
    warehouse: EvaluatedReturn,
    loaded_at: datetime | None,
    changed_since_load: bool,
) -> Reconciliation:
    """Each line of the compiled return against the same line worked out from the warehouse."""
    values: dict[RowKey, float | None] = {}
    for question in warehouse.questions:
        number = question.question.number
        for category in question.categories:
            values[(number, category.name, False)] = category.value
        if question.total is not None:
            values[(number, "Total", True)] = question.total.value
    what_to_do = WAIT_FOR_RUN if changed_since_load else FAULT
    checks: dict[RowKey, RowCheck] = {}
    for row in compiled.rows:
        theirs = values.get(row_key(row))
        if _same(row.value, theirs):
            checks[row_key(row)] = RowCheck(True, theirs, AGREES)
        else:
            checks[row_key(row)] = RowCheck(
                False,
                theirs,
                f"Differs from the warehouse: this return has {_figure(row.value)}, "
                f"the warehouse {_figure(theirs)}. {what_to_do}",
            )
    return Reconciliation(loaded_at, checks, changed_since_load=changed_since_load)


def reconcile(session: Session, compiled: CompiledReturn, warehouse: Engine | None) -> Reconciliation:
    """The compiled return against the warehouse (None: the app has none beside it).

    Never raises for a warehouse that is missing, not built or unreachable: the
    reconciliation says so instead, and the return is shown as compiled."""
    if warehouse is None:
        return Reconciliation(None, unavailable=NOT_BUILT)
    contract_ids = [contract.id for contract in compiled.contracts]
    try:
        require_warehouse(warehouse)
        if not is_built(warehouse):
            return Reconciliation(None, unavailable=NOT_BUILT)
        loaded_at = last_loaded(warehouse)
        last_run = last_success(warehouse)
        if loaded_at is None or last_run is None:
            return Reconciliation(None, unavailable=NOT_BUILT)
        accepted, rollups = warehouse_figures(warehouse, contract_ids, compiled.financial_year)
    except (WarehouseUnavailable, SQLAlchemyError):
        return Reconciliation(None, unavailable=NOT_BUILT)
    evaluated = evaluate_figures(compiled.definition, rollups, accepted, contract_ids)
    changed = _last_change(session, contract_ids, compiled.financial_year)
    return compare(compiled, evaluated, loaded_at, changed is not None and changed > last_run.watermark)
