"""KPI results: each accepted figure against the framework item then in force,
with the quarter's target from monitor.kpis.performance.targets (pro-rated by
the days in force in a quarter the contract started or ended in)."""

from __future__ import annotations

from decimal import Decimal

import numpy as np
import pandas as pd

from monitor.kpis.library.definitions import DERIVED_FROM_OUTCOMES
from monitor.kpis.performance.rag import ProcurementRating, Rag
from monitor.kpis.performance.targets import days_in_force, quarter_target
from monitor.kpis.periods import Quarter
from monitor.kpis.vocabulary import Direction

CONTRACT_DAYS = ["contract_start", "contract_last_day"]
# What each result carries beyond fact_kpi_result's columns, for value for
# money: the contract's days in force, in all and in the result's quarter.
DAYS_COLUMNS = [*CONTRACT_DAYS, "days_in_force"]


def _in_force(figures: pd.DataFrame, framework: pd.DataFrame) -> pd.DataFrame:
    """Attach to each figure the framework item in force in its quarter
    (period keys sort in time order, so string comparison is enough)."""
    items = framework.rename(columns={"direction": "item_direction"})
    merged = figures.merge(items, on=["contract_id", "kpi_id"], how="left")
    in_force = (merged["effective_from"] <= merged["period_key"]) & (
        merged["effective_to"].isna() | (merged["effective_to"] >= merged["period_key"])
    )
    keys = ["contract_id", "kpi_id", "period_key", "breakdown"]
    matched = merged[in_force].drop_duplicates(keys, keep="last")
    spans = framework[["contract_id", *CONTRACT_DAYS]].drop_duplicates("contract_id")
    return figures.merge(
        matched[[*keys, "target", "target_basis", "amber_tolerance_pct", "item_direction"]],
        on=keys,
        how="left",
    ).merge(spans, on="contract_id", how="left")


def _known(value: object) -> bool:
    return value is not None and not pd.isna(value)


def _quarter_target(
    target: object, basis: object, unit: str, rollup: str, period: str, start: object, last_day: object
) -> tuple[float, float]:
    """(the quarter's target, the days in force in the quarter), NaN when unknown."""
    quarter = Quarter.parse(period)
    if quarter is None or not (_known(start) and _known(last_day)):
        return np.nan, np.nan
    first, last = pd.Timestamp(start).date(), pd.Timestamp(last_day).date()
    span = days_in_force(quarter, first, last)
    days = float(span.days) if span is not None else 0.0
    if not _known(target):
        return np.nan, days
    found = quarter_target(Decimal(str(target)), str(basis), unit, rollup, quarter, first, last)
    return (float(found.value) if found.value is not None else np.nan), days


def _targets(frame: pd.DataFrame) -> pd.DataFrame:
    """The quarter's target and days in force of every row, worked out once
    per distinct target, quarter and contract span by the app's own rule."""
    keys = ["target", "target_basis", "unit", "rollup", "period_key", *CONTRACT_DAYS]
    cache: dict[tuple[object, ...], tuple[float, float]] = {}
    rows = []
    for key in frame[keys].itertuples(index=False, name=None):
        if key not in cache:
            cache[key] = _quarter_target(*key)
        rows.append(cache[key])
    return pd.DataFrame(rows, columns=["target", "days_in_force"], index=frame.index, dtype=float)


def rag(
    actual: pd.Series, target: pd.Series, higher_is_better: pd.Series, tolerance_pct: pd.Series
) -> pd.Series:
    """The same rule as monitor.kpis.performance.rag.rate, on whole columns."""
    margin = target.abs() * tolerance_pct / 100
    better_or_equal = np.where(higher_is_better, actual >= target, actual <= target)
    within = np.where(higher_is_better, actual >= target - margin, actual <= target + margin)
    result = np.where(better_or_equal, Rag.GREEN.value, np.where(within, Rag.AMBER.value, Rag.RED.value))
    missing = actual.isna() | target.isna()
    return pd.Series(np.where(missing, Rag.NONE.value, result), index=actual.index)


def kpi_results(figures: pd.DataFrame, framework: pd.DataFrame, kpis: pd.DataFrame) -> pd.DataFrame:
    """fact_kpi_result rows (without contract_version_key, which needs the
    contract dimension). Targets apply to a KPI's total, not its breakdown.
    `framework` carries each contract's contract_start and contract_last_day
    (etl.transform.periods.contract_days)."""
    columns = ["contract_id", "kpi_id", "period_key", "breakdown", "actual", "numerator", "denominator"]
    frame = figures[columns].copy()
    for column in ("actual", "numerator", "denominator"):
        frame[column] = pd.to_numeric(frame[column], errors="coerce").astype(float)
    frame = _in_force(frame, framework).merge(
        kpis[["kpi_id", "direction", "unit", "rollup"]], on="kpi_id", how="left"
    )
    frame["target"] = pd.to_numeric(frame["target"], errors="coerce").astype(float)
    worked_out = _targets(frame) if len(frame) else pd.DataFrame({"target": [], "days_in_force": []})
    target = worked_out["target"].where(frame["breakdown"].eq(""))
    frame["days_in_force"] = worked_out["days_in_force"]
    direction = frame["item_direction"].fillna(frame["direction"])
    tolerance = pd.to_numeric(frame["amber_tolerance_pct"], errors="coerce").astype(float).fillna(10.0)
    frame["target"] = target
    frame["variance"] = frame["actual"] - target
    frame["variance_pct"] = (frame["variance"] / target.abs().replace(0, np.nan) * 100).round(1)
    frame["rag"] = rag(frame["actual"], target, direction.ne(Direction.LOWER.value), tolerance)
    return frame[
        [
            "contract_id",
            "kpi_id",
            "period_key",
            "breakdown",
            "actual",
            "target",
            "variance",
            "variance_pct",
            "rag",
            "numerator",
            "denominator",
            *DAYS_COLUMNS,
        ]
    ].reset_index(drop=True)


def procurement_ratings(results: pd.DataFrame) -> pd.Series:
    """Procurement Act 2023 rating per row: red for a second quarter running is
    Inadequate, a first red Requires improvement (as monitor.kpis.performance.rag)."""
    ordered = results.sort_values(["viewer", "contract_id", "kpi_code", "breakdown", "period_key"])
    previous = ordered.groupby(["viewer", "contract_id", "kpi_code", "breakdown"], dropna=False)[
        "rag"
    ].shift()
    rating = (
        ordered["rag"]
        .map(
            {
                Rag.GREEN.value: ProcurementRating.GOOD.value,
                Rag.AMBER.value: ProcurementRating.APPROACHING.value,
                Rag.RED.value: ProcurementRating.REQUIRES_IMPROVEMENT.value,
            }
        )
        .fillna(ProcurementRating.OTHER.value)
    )
    rating = rating.where(
        ~(ordered["rag"].eq(Rag.RED.value) & previous.eq(Rag.RED.value)), ProcurementRating.INADEQUATE.value
    )
    return rating.reindex(results.index)


def with_outcome_parts(results: pd.DataFrame, outcomes: pd.DataFrame, kpis: pd.DataFrame) -> pd.DataFrame:
    """The app works out SDQ and WEMWBS improvement percentages from paired
    scores and keeps no parts; take them from the outcome facts (improved
    cases of paired cases, all informants), so disclosure control can judge
    the percentage like any other."""
    if outcomes.empty or results.empty:
        return results
    codes = kpis.set_index("kpi_id")["code"]
    measure = results["kpi_id"].map(codes).map(DERIVED_FROM_OUTCOMES)
    parts = outcomes.groupby(["contract_id", "period_key", "measure"])[
        ["improved_cases", "paired_cases"]
    ].sum()
    keys = pd.MultiIndex.from_arrays([results["contract_id"], results["period_key"], measure])
    found = parts.reindex(keys)
    derived = measure.notna().to_numpy() & results["numerator"].isna().to_numpy()
    results = results.copy()
    results.loc[derived, "numerator"] = found["improved_cases"].to_numpy(dtype=float)[derived]
    results.loc[derived, "denominator"] = found["paired_cases"].to_numpy(dtype=float)[derived]
    return results
