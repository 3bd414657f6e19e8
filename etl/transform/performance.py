"""KPI results: each accepted figure against the framework item then in force."""

from __future__ import annotations

import numpy as np
import pandas as pd

from monitor.kpis.library.definitions import DERIVED_FROM_OUTCOMES
from monitor.kpis.performance.rag import ProcurementRating, Rag
from monitor.kpis.vocabulary import Direction, Rollup, TargetBasis

QUARTERS_IN_YEAR = 4


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
    return figures.merge(
        matched[[*keys, "target", "target_basis", "amber_tolerance_pct", "item_direction"]],
        on=keys,
        how="left",
    )


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
    contract dimension). Targets apply to a KPI's total, not its breakdown."""
    columns = ["contract_id", "kpi_id", "period_key", "breakdown", "actual", "numerator", "denominator"]
    frame = figures[columns].copy()
    for column in ("actual", "numerator", "denominator"):
        frame[column] = pd.to_numeric(frame[column], errors="coerce").astype(float)
    frame = _in_force(frame, framework).merge(
        kpis[["kpi_id", "direction", "rollup"]], on="kpi_id", how="left"
    )
    target = pd.to_numeric(frame["target"], errors="coerce").astype(float)
    yearly_sum = frame["target_basis"].eq(TargetBasis.YEAR.value) & frame["rollup"].eq(Rollup.SUM.value)
    target = target.where(~yearly_sum, target / QUARTERS_IN_YEAR).where(frame["breakdown"].eq(""))
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
