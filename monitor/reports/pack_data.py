"""What goes into a board pack, read from the warehouse marts.

A partnership's rows are suppressed by the ETL already. A commissioner's own
rows are not (commissioners see their figures in full on screen), but a pack
is a board paper, so the ETL's disclosure control is applied to them here,
to performance, value for money and outcomes together, because a year's
referrals in value for money is the total of the quarters beside it. Their
unmet need by cohort is then added up from that suppressed performance by
the ETL's own function (etl.transform.unmet_need), so a commissioner's pack
hides a cohort figure exactly where a board's mart row would.

Before anything is written the figures are checked once more: a pack that
would show a count from 1 to the threshold is refused, whatever its source.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pandas as pd
from sqlalchemy import Engine, Float, Numeric, Table, desc, select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from etl import schema
from etl.engine import WarehouseUnavailable as NoWarehouse
from etl.transform.comparison import COUNT, own_latest_rows
from etl.transform.unmet_need import unmet_need
from monitor.contracts.models import ContractCohort
from monitor.disclosure.suppression import is_small, suppress_marts
from monitor.kpis.periods import PERIOD_HINT, Quarter
from monitor.reports.audience import Audience

# Quarters shown on the charts and tables, ending with the pack's quarter.
WINDOW_QUARTERS = 8
# The measures in value for money that count people.
VFM_COUNTS = ("referrals", "completions", "positive_outcomes")
UNMET_NEED_COLUMNS = [c.name for c in schema.mart_unmet_need.columns]


class PackError(Exception):
    """The pack cannot be made; the message says why and what to do."""


class WarehouseUnavailable(PackError, NoWarehouse):
    """The warehouse has not been built, or cannot be reached: a pack error
    with what to do, and the ETL's own "no warehouse", so code that reads
    the warehouse through the pack's functions needs to catch only that."""


WAREHOUSE_MISSING = (
    "The warehouse has not been loaded yet, or cannot be reached. "
    "Run `flask etl run --full`, then make the pack again"
)


@dataclass(frozen=True)
class Period:
    key: str  # "2013-14-Q4"
    label: str  # "Q4 2013/14 (January to March 2014)"
    short_label: str  # "Q4 2013/14"
    financial_year: str  # "2013/14"
    start: date
    end: date
    sort_order: int


@dataclass
class PackData:
    audience: Audience
    period: Period
    quarters: list[Period]  # the window, oldest first, ending with `period`
    as_at: date | None
    loaded_at: datetime | None  # when the ETL last finished
    threshold: int
    performance: pd.DataFrame  # services' KPI totals in the window, suppressed
    value_for_money: pd.DataFrame
    outcomes: pd.DataFrame
    funding: pd.DataFrame
    renewals: pd.DataFrame
    # Unmet need by cohort in the pack's quarter (rows shaped like
    # mart_unmet_need), under the board's disclosure control.
    unmet_need: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=UNMET_NEED_COLUMNS))
    # The audience's own area against its comparison groups (mart_comparison
    # rows) in the latest year with figures up to the pack's; empty when its
    # board has not opted in.
    comparison: pd.DataFrame = field(default_factory=pd.DataFrame)
    commentary: Mapping[tuple[int, str], str] = field(default_factory=dict)
    # (contract id, KPI code, period key) -> the framework's target, for quarters
    # whose figures are not in the warehouse (no accepted return yet).
    known_targets: Mapping[tuple[int, str, str], float] = field(default_factory=dict)

    @property
    def current(self) -> pd.DataFrame:
        """The pack's quarter."""
        return self.performance[self.performance["period_key"].eq(self.period.key)]


def parse_period(text: str) -> Quarter:
    quarter = Quarter.parse(text or "")
    if quarter is None:
        raise PackError(f'"{text}" is not a quarter. {PERIOD_HINT.replace("2013-14-Q3", "2013-14-Q4")}')
    return quarter


def _rows(connection: Any, table: Table, viewer: str | None = None) -> pd.DataFrame:
    query = select(table)
    if viewer is not None:
        query = query.where(table.c.viewer == viewer)
    records = connection.execute(query).mappings().all()
    frame = pd.DataFrame.from_records([dict(r) for r in records], columns=[c.name for c in table.columns])
    for column in table.columns:
        # Money arrives as Decimal; the writer and the suppression work in floats.
        if isinstance(column.type, Numeric) and not isinstance(column.type, Float):
            frame[column.name] = pd.to_numeric(frame[column.name].map(_to_float), errors="coerce")
    return frame


def _to_float(value: Any) -> float | None:
    return float(value) if isinstance(value, Decimal | int | float) else None


def require_warehouse(engine: Engine) -> None:
    """Refuse before connecting to a SQLite warehouse that was never built:
    connecting would leave an empty file behind."""
    url = engine.url
    if url.get_backend_name() == "sqlite" and url.database and not Path(url.database).exists():
        raise WarehouseUnavailable(WAREHOUSE_MISSING)


def read_marts(engine: Engine, viewer: str) -> dict[str, pd.DataFrame]:
    """Every mart's rows for one viewer, and the dimensions the pack needs."""
    require_warehouse(engine)
    try:
        with engine.connect() as connection:
            frames = {table.name: _rows(connection, table, viewer) for table in schema.MARTS}
            frames["dim_period"] = _rows(connection, schema.dim_period)
            frames["dim_kpi"] = _rows(connection, schema.dim_kpi)
    except SQLAlchemyError as error:
        raise WarehouseUnavailable(WAREHOUSE_MISSING) from error
    return frames


def last_loaded(engine: Engine) -> datetime | None:
    """When the last successful ETL run finished."""
    try:
        with engine.connect() as connection:
            finished = connection.execute(
                select(schema.etl_run.c.finished_at)
                .where(schema.etl_run.c.status == "succeeded")
                .order_by(desc(schema.etl_run.c.finished_at))
                .limit(1)
            ).scalar()
    except SQLAlchemyError as error:
        raise WarehouseUnavailable(WAREHOUSE_MISSING) from error
    return finished if isinstance(finished, datetime) else None


def period_from(row: Mapping[str, Any]) -> Period:
    return Period(
        key=row["period_key"],
        label=row["label"],
        short_label=row["short_label"],
        financial_year=row["financial_year"],
        start=row["start_date"],
        end=row["end_date"],
        sort_order=int(row["sort_order"]),
    )


def choose_period(periods: pd.DataFrame, key: str) -> tuple[Period, list[Period]]:
    quarter = parse_period(key)
    ordered = periods.sort_values("sort_order")
    known = ordered[ordered["period_key"].eq(str(quarter))]
    if known.empty:
        if ordered.empty:
            raise PackError("The warehouse holds no quarters yet. Run `flask etl run --full`, then try again")
        first, last = ordered.iloc[0], ordered.iloc[-1]
        raise PackError(
            f"The warehouse has no figures for {quarter.label}. "
            f"Choose a quarter from {first['short_label']} to {last['short_label']}"
        )
    chosen = period_from(known.iloc[0].to_dict())
    window = ordered[
        ordered["sort_order"].between(chosen.sort_order - WINDOW_QUARTERS + 1, chosen.sort_order)
    ]
    return chosen, [period_from(row) for row in window.to_dict("records")]


def improved_counts(outcomes: pd.DataFrame) -> pd.DataFrame:
    """The mart keeps the share improved, not the count; suppression needs
    the count to tell whether the share gives a handful of people away."""
    frame = outcomes.copy()
    cases = frame["paired_cases"].astype(float)
    frame["improved_cases"] = (cases * frame["improved_pct"].astype(float) / 100).round()
    return frame


def suppress_for_board(marts: Mapping[str, pd.DataFrame], threshold: int) -> dict[str, pd.DataFrame]:
    """A commissioner's own rows, with the disclosure control a board's get."""
    performance, value_for_money, outcomes = suppress_marts(
        marts["mart_board_performance"],
        marts["mart_value_for_money"],
        improved_counts(marts["mart_outcomes"]),
        threshold,
    )
    return {
        "mart_board_performance": performance,
        "mart_value_for_money": value_for_money,
        "mart_outcomes": outcomes,
    }


def read_cohorts(session: Session, contract_ids: set[int]) -> pd.DataFrame:
    """The cohorts each of these contracts serves (contract_id, cohort): a
    commissioner's pack adds its services up by cohort itself, and the
    warehouse keeps no contract's cohorts apart from the marts."""
    rows = session.execute(
        select(ContractCohort.contract_id, ContractCohort.cohort).where(
            ContractCohort.contract_id.in_(sorted(contract_ids))
        )
    ).all()
    return pd.DataFrame([tuple(r) for r in rows], columns=["contract_id", "cohort"])


def pack_unmet_need(
    frames: Mapping[str, pd.DataFrame],
    audience: Audience,
    period_key: str,
    threshold: int,
    cohorts: pd.DataFrame | None,
) -> pd.DataFrame:
    """The quarter's unmet need by cohort: a board's mart rows as they are;
    for a commissioner, the ETL's function over their performance after
    `suppress_for_board`, with the board's rule (`as_board`). Without the
    cohorts (`read_cohorts`) a commissioner's figures can't be added up by
    cohort, and the sheet has none to show."""
    if audience.kind == "commissioner":
        if cohorts is None:
            return pd.DataFrame(columns=UNMET_NEED_COLUMNS)
        rows = unmet_need(frames["mart_board_performance"], cohorts, threshold, as_board=True)
    else:
        rows = frames["mart_unmet_need"]
    return rows[rows["period_key"].eq(period_key)].reset_index(drop=True)


def check_disclosure(
    performance: pd.DataFrame,
    value_for_money: pd.DataFrame,
    outcomes: pd.DataFrame,
    threshold: int,
    unmet: pd.DataFrame | None = None,
    comparison: pd.DataFrame | None = None,
) -> None:
    """Refuse a pack holding a count a board must not see."""
    counts = performance[performance["unit"].eq("count")]["actual"]
    leaks = int(is_small(counts, threshold).sum())
    if unmet is not None:
        leaks += int(is_small(unmet[unmet["unit"].eq("count")]["value"], threshold).sum())
    if comparison is not None and len(comparison):
        compared_counts = comparison[comparison["measure"].eq(COUNT)]
        for column in ("value", "median", "lower_quartile", "upper_quartile"):
            leaks += int(is_small(compared_counts[column], threshold).sum())
    for measure in VFM_COUNTS:
        leaks += int(is_small(value_for_money[measure], threshold).sum())
    leaks += int(is_small(outcomes["paired_cases"], threshold).sum())
    if leaks:
        raise PackError(
            f"The warehouse holds {leaks} count{'s' if leaks != 1 else ''} from 1 to {threshold} that should "
            "have been hidden, so no pack was made. Run `flask etl run --full` to rebuild the warehouse "
            "with the current disclosure threshold, then try again"
        )


def _with_kpi_details(performance: pd.DataFrame, kpis: pd.DataFrame) -> pd.DataFrame:
    details = kpis[["code", "category", "direction"]].rename(columns={"code": "kpi_code"})
    merged = performance.merge(details.drop_duplicates("kpi_code"), on="kpi_code", how="left")
    merged["category"] = merged["category"].fillna("output")
    merged["direction"] = merged["direction"].fillna("higher is better")
    return merged


def _as_at(renewals: pd.DataFrame) -> date | None:
    dates = [d for d in renewals["as_at"].tolist() if isinstance(d, date)]
    return max(dates) if dates else None


def build_pack_data(
    marts: Mapping[str, pd.DataFrame],
    audience: Audience,
    period_key: str,
    threshold: int,
    commentary: Mapping[tuple[int, str], str] | None = None,
    loaded_at: datetime | None = None,
    cohorts: pd.DataFrame | None = None,
) -> PackData:
    """Everything the workbook shows, from frames shaped like the warehouse's.
    `cohorts` (contract_id, cohort; `read_cohorts`) are needed for a
    commissioner's unmet need by cohort."""
    period, window = choose_period(marts["dim_period"], period_key)
    frames = dict(marts)
    if audience.kind == "commissioner":
        frames |= suppress_for_board(marts, threshold)
    performance = frames["mart_board_performance"]
    value_for_money = frames["mart_value_for_money"]
    outcomes = frames["mart_outcomes"]
    unmet = pack_unmet_need(frames, audience, period.key, threshold, cohorts)
    comparison = own_latest_rows(frames, period.financial_year)
    check_disclosure(performance, value_for_money, outcomes, threshold, unmet, comparison)

    keys = {p.key for p in window}
    shown = performance[
        performance["scope"].eq("service")
        & performance["breakdown"].eq("")
        & performance["period_key"].isin(keys)
    ]
    shown = _with_kpi_details(shown, marts["dim_kpi"])
    # Start the window at the first quarter with any figures for this audience.
    reported = set(shown["period_key"]) | set(outcomes[outcomes["period_key"].isin(keys)]["period_key"])
    first = next((i for i, p in enumerate(window) if p.key in reported), len(window) - 1)
    window = window[first:]

    return PackData(
        audience=audience,
        period=period,
        quarters=window,
        as_at=_as_at(frames["mart_renewals"]),
        loaded_at=loaded_at,
        threshold=threshold,
        performance=shown.reset_index(drop=True),
        value_for_money=value_for_money[
            value_for_money["financial_year"].le(period.financial_year)
        ].reset_index(drop=True),
        outcomes=outcomes[outcomes["period_key"].isin({p.key for p in window})].reset_index(drop=True),
        funding=frames["mart_funding"].reset_index(drop=True),
        renewals=frames["mart_renewals"].reset_index(drop=True),
        unmet_need=unmet,
        comparison=comparison,
        commentary=dict(commentary or {}),
    )
