"""Disclosure control for board-facing figures, following GSS practice.

- A count from 1 to the threshold (a setting, default 4) is shown as `[c]`;
  zero is shown as 0.
- Secondary suppression: wherever figures add up to a total the reader also
  sees (breakdowns to a KPI's total, services to the partnership's total,
  quarters to a year), a hidden figure is never the only unknown, and hidden
  figures are never all ones (their sum would give each away). Every `[c]`
  is at least 1, so the extra figure hidden is never a zero.
- A percentage is hidden when its numerator, its denominator, or the part
  of the denominator not in the numerator is a small count; a figure worked
  out from a hidden count (cost per case, cost per referral, the mean change
  of a handful of scores) is hidden with it.
- Markers: `[c]` confidential, `[x]` not available, `[z]` not applicable.

Commissioners see their own contracts unsuppressed, so these functions run
only on rows a board (or anything published) reads. They are pure: frames in,
frames out.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from etl.disclosure_audit import disclosed

CONFIDENTIAL = "[c]"
NOT_AVAILABLE = "[x]"
NOT_APPLICABLE = "[z]"

# Value-for-money measures that are sums of quarterly count KPIs, so a year
# is the total of its quarters.
VFM_PARTS: dict[str, tuple[str, ...]] = {
    "referrals": ("REF-RECEIVED",),
    "completions": ("CASES-CLOSED", "PERP-COMPLETIONS"),
}
VFM_RATIOS = {
    "referrals": "cost_per_referral",
    "completions": "cost_per_completion",
    "positive_outcomes": "cost_per_positive_outcome",
}
# A figure worked out from another KPI's count is hidden with that count.
DERIVED_FROM = {"COST-PER-CASE": "CASES-CLOSED"}


def is_small(values: pd.Series | np.ndarray, threshold: int) -> np.ndarray:
    """Counts from 1 to the threshold: the ones that could identify someone."""
    array = np.asarray(values, dtype=float)
    with np.errstate(invalid="ignore"):
        return (array >= 1) & (array <= threshold)


def protect(values: pd.Series, primary: pd.Series, groups: pd.DataFrame, max_rounds: int = 100) -> pd.Series:
    """Add secondary suppression until no group gives a hidden figure away.

    `values` and `primary` are indexed by cell id. `groups` has one row per
    cell in a group: `group`, `cell` and `is_total` (the members add up to
    the total). A missing figure counts as a known zero. Returns the hidden
    cells. In each round every group with exactly one hidden cell hides its
    smallest positive visible member (or its total), and every group whose
    hidden members are all ones hides its total; rounds repeat because a cell
    hidden for one group can leave another with a single unknown.
    """
    suppressed = primary.astype(bool).copy()
    if groups.empty:
        return suppressed
    frame = pd.DataFrame(
        {
            "group": groups["group"].to_numpy(),
            "cell": groups["cell"].to_numpy(),
            "value": values.reindex(groups["cell"]).fillna(0).to_numpy(dtype=float),
            "is_total": groups["is_total"].to_numpy(dtype=bool),
        }
    )
    for _ in range(max_rounds):
        frame["hidden"] = suppressed.reindex(frame["cell"]).to_numpy(dtype=bool)
        hidden_member = frame["hidden"] & ~frame["is_total"]
        stats = (
            frame.assign(
                hidden_member=hidden_member,
                hidden_value=frame["value"].where(hidden_member, 0.0),
                visible_total=frame["is_total"] & ~frame["hidden"],
            )
            .groupby("group", sort=False)
            .agg(
                hidden=("hidden", "sum"),
                hidden_members=("hidden_member", "sum"),
                hidden_value=("hidden_value", "sum"),
                total_visible=("visible_total", "any"),
            )
        )
        lone = stats.index[stats["hidden"] == 1]
        all_ones = stats.index[
            stats["total_visible"]
            & (stats["hidden_members"] >= 2)
            & (stats["hidden_value"] <= stats["hidden_members"])
        ]
        if len(lone) == 0 and len(all_ones) == 0:
            # The simple rules hold; the audit looks for what they miss
            # (figures pinned by several totals at once).
            given_away = disclosed(values, suppressed, groups)
            if not given_away:
                return suppressed
            lone = pd.Index(frame[frame["cell"].isin(given_away)]["group"].unique())
        chosen: list[pd.Series] = []
        if len(lone):
            candidates = frame[frame["group"].isin(lone) & ~frame["hidden"] & (frame["value"] > 0)]
            candidates = candidates.sort_values(["group", "is_total", "value"], kind="stable")
            chosen.append(candidates.drop_duplicates("group")["cell"])
        if len(all_ones):
            chosen.append(frame[frame["group"].isin(all_ones) & frame["is_total"]]["cell"])
        picked = pd.concat(chosen).unique()
        if len(picked) == 0:
            # The figure is pinned through a chain of totals whose own groups
            # have nothing left to hide: hide the smallest figure still shown
            # in any group that hides something.
            picked = _spare_cells(frame, given_away)
        suppressed.loc[picked] = True
    raise RuntimeError("disclosure control did not settle")


def _spare_cells(frame: pd.DataFrame, given_away: set[int]) -> np.ndarray:
    """For each cluster of groups linked by hidden cells that holds a figure
    given away, the smallest figure still shown in it."""
    component = _group_components(frame)
    frame = frame.assign(component=frame["group"].map(component))
    wanted = set(frame[frame["cell"].isin(given_away)]["component"])
    spare = frame[frame["component"].isin(wanted) & ~frame["hidden"] & (frame["value"] > 0)]
    spare = spare.sort_values(["component", "value"], kind="stable").drop_duplicates("component")
    if len(spare) < len(wanted):
        raise RuntimeError("disclosure control could not protect the table")
    return spare["cell"].to_numpy()


def _group_components(frame: pd.DataFrame) -> dict[object, object]:
    """Union-find over groups that share a hidden cell."""
    parent: dict[object, object] = {g: g for g in frame["group"].unique()}

    def find(g: object) -> object:
        while parent[g] != g:
            parent[g] = parent[parent[g]]
            g = parent[g]
        return g

    hidden = frame[frame["hidden"]]
    first_group: dict[int, object] = {}
    for cell, group in zip(hidden["cell"].tolist(), hidden["group"].tolist(), strict=True):
        if cell in first_group:
            parent[find(group)] = find(first_group[cell])
        else:
            first_group[cell] = group
    return {g: find(g) for g in parent}


def _membership(frame: pd.DataFrame, keys: Sequence[str], is_total: pd.Series, prefix: str) -> pd.DataFrame:
    """Groups of `frame`'s rows sharing `keys`, each with one total row."""
    if frame.empty:
        return pd.DataFrame(columns=["group", "cell", "is_total"])
    group_ids = frame.groupby(list(keys), sort=False, dropna=False).ngroup()
    membership = pd.DataFrame(
        {"group": prefix + group_ids.astype(str), "cell": frame.index, "is_total": is_total.to_numpy()}
    )
    # Only groups that have a total and at least one member constrain anything.
    per_group = membership.groupby("group")["is_total"].agg(["sum", "size"])
    complete = per_group.index[(per_group["sum"] == 1) & (per_group["size"] >= 2)]
    return membership[membership["group"].isin(complete)]


def format_figure(value: float | None, unit: str) -> str:
    if value is None or pd.isna(value):
        return NOT_AVAILABLE
    if unit == "percentage":
        return f"{value:.1f}%"
    if unit == "currency":
        return f"£{value:,.0f}"
    if unit == "count":
        return f"{value:,.0f}"
    return f"{value:,.1f}"


def display_column(values: pd.Series, units: pd.Series | str, hidden: pd.Series) -> pd.Series:
    unit_of = units if isinstance(units, pd.Series) else pd.Series(units, index=values.index)
    shown = [format_figure(v, u) for v, u in zip(values.tolist(), unit_of.tolist(), strict=True)]
    return pd.Series(shown, index=values.index, dtype=object).where(~hidden, CONFIDENTIAL)


def _percentage_disclosive(frame: pd.DataFrame, threshold: int) -> np.ndarray:
    """A percentage is hidden when a part, or what the part leaves out, is a
    small count; and when its parts are unknown, since nothing shows it safe."""
    numerator = frame["numerator"].to_numpy(dtype=float)
    denominator = frame["denominator"].to_numpy(dtype=float)
    figure = frame["actual"].notna().to_numpy()
    return (
        is_small(numerator, threshold)
        | is_small(denominator, threshold)
        | is_small(denominator - numerator, threshold)
        | (figure & (np.isnan(numerator) | np.isnan(denominator)))
    )


def suppress_marts(
    performance: pd.DataFrame,
    value_for_money: pd.DataFrame,
    outcomes: pd.DataFrame,
    threshold: int,
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Board views of the performance, value-for-money and outcome marts.

    The three are protected together, because a year's referrals in value for
    money is the total of the quarters on the performance dashboard. Rows are
    grouped by `viewer`, so frames holding several viewers are protected
    each on its own terms.
    """
    performance = performance.reset_index(drop=True)
    value_for_money = value_for_money.reset_index(drop=True)
    n_perf = len(performance)

    # Cells: performance rows, then one per value-for-money row and measure.
    vfm_measures = list(VFM_RATIOS)
    vfm_cells = {
        measure: pd.Series(range(len(value_for_money)), dtype="int64") + n_perf + i * len(value_for_money)
        for i, measure in enumerate(vfm_measures)
    }
    values = pd.concat(
        [performance["actual"].astype(float)]
        + [
            pd.Series(value_for_money[m].astype(float).to_numpy(), index=vfm_cells[m].to_numpy())
            for m in vfm_measures
        ]
    )
    is_count = pd.concat(
        [performance["unit"].eq("count")]
        + [pd.Series(True, index=vfm_cells[m].to_numpy()) for m in vfm_measures]
    )
    primary = pd.Series(is_small(values, threshold), index=values.index) & is_count

    groups = pd.concat(
        _performance_groups(performance) + _vfm_groups(performance, value_for_money, vfm_cells)
    )
    hidden = protect(values.where(is_count), primary, groups)

    perf_hidden = hidden.iloc[:n_perf].reset_index(drop=True)
    perf_hidden |= _dependent_performance(performance, perf_hidden, threshold)
    performance = _apply_to_performance(performance, perf_hidden)

    vfm_hidden = {m: hidden.loc[vfm_cells[m].to_numpy()].reset_index(drop=True) for m in vfm_measures}
    value_for_money = _apply_to_vfm(value_for_money, vfm_hidden)
    return performance, value_for_money, suppress_outcomes(outcomes, threshold)


def _performance_groups(performance: pd.DataFrame) -> list[pd.DataFrame]:
    counts = performance[performance["unit"].eq("count")]
    by_breakdown = _membership(
        counts,
        ["viewer", "scope", "contract_reference", "kpi_code", "period_key"],
        counts["breakdown"].eq(""),
        "b",
    )
    across_services = _membership(
        counts,
        ["viewer", "kpi_code", "breakdown", "period_key"],
        counts["scope"].eq("all services"),
        "s",
    )
    return [by_breakdown, across_services]


def _vfm_groups(
    performance: pd.DataFrame, value_for_money: pd.DataFrame, vfm_cells: dict[str, pd.Series]
) -> list[pd.DataFrame]:
    """A year's count in value for money is the total of its quarters' counts."""
    groups: list[pd.DataFrame] = []
    if value_for_money.empty:
        return groups
    quarters = performance[
        performance["scope"].eq("service") & performance["breakdown"].eq("") & performance["unit"].eq("count")
    ]

    def keys(frame: pd.DataFrame) -> pd.Series:
        parts = frame[["viewer", "contract_id", "financial_year"]]
        parts = parts.assign(contract_id=pd.to_numeric(parts["contract_id"]).astype("Int64")).astype(str)
        return parts.agg("|".join, axis=1) if len(parts) else pd.Series(dtype=str)

    vfm_keys = keys(value_for_money)
    for measure, codes in VFM_PARTS.items():
        members = quarters[quarters["kpi_code"].isin(codes)]
        totals = pd.DataFrame(
            {"group": "v" + measure + vfm_keys, "cell": vfm_cells[measure].to_numpy(), "is_total": True}
        )
        parts = pd.DataFrame(
            {"group": "v" + measure + keys(members), "cell": members.index, "is_total": False}
        )
        combined = pd.concat([totals, parts])
        # A year with no quarters, or quarters with no year shown, constrain nothing.
        per_group = combined.groupby("group")["is_total"].agg(["sum", "size"])
        complete = per_group.index[(per_group["sum"] == 1) & (per_group["size"] >= 2)]
        groups.append(combined[combined["group"].isin(complete)])
    return groups


def _dependent_performance(performance: pd.DataFrame, hidden: pd.Series, threshold: int) -> pd.Series:
    """Figures that would give a hidden or small count away."""
    extra = pd.Series(False, index=performance.index)
    is_percentage = performance["unit"].eq("percentage")
    if is_percentage.any():
        extra |= is_percentage & _percentage_disclosive(performance, threshold)
    for derived, base in DERIVED_FROM.items():
        keys = ["viewer", "scope", "contract_reference", "period_key"]
        base_rows = performance[performance["kpi_code"].eq(base) & performance["breakdown"].eq("")]
        hidden_keys = set(map(tuple, base_rows.loc[hidden[base_rows.index], keys].to_numpy().tolist()))
        if not hidden_keys:
            continue
        derived_rows = performance["kpi_code"].eq(derived)
        row_keys = performance.loc[derived_rows, keys].to_numpy().tolist()
        extra.loc[derived_rows] = [tuple(k) in hidden_keys for k in row_keys]
    return extra


def _apply_to_performance(performance: pd.DataFrame, hidden: pd.Series) -> pd.DataFrame:
    result = performance.copy()
    result["actual_display"] = display_column(result["actual"], result["unit"], hidden)
    missing = result["actual"].isna() & ~hidden
    result["marker"] = np.where(hidden, CONFIDENTIAL, np.where(missing, NOT_AVAILABLE, ""))
    result.loc[hidden, ["actual", "variance_pct"]] = np.nan
    # The rating of a hidden figure against a known target narrows it down.
    result.loc[hidden, ["rag", "rating"]] = CONFIDENTIAL
    result["numerator"] = np.nan
    result["denominator"] = np.nan
    return result


def _apply_to_vfm(value_for_money: pd.DataFrame, hidden: dict[str, pd.Series]) -> pd.DataFrame:
    result = value_for_money.copy()
    for measure, ratio in VFM_RATIOS.items():
        mask = hidden[measure].to_numpy()
        result[f"{measure}_display"] = display_column(result[measure], "count", hidden[measure])
        result.loc[mask, [measure, ratio]] = np.nan
    return result


def suppress_outcomes(outcomes: pd.DataFrame, threshold: int) -> pd.DataFrame:
    """Paired cases from 1 to the threshold, and any share or mean that would
    give away a small number of children or adults, are hidden."""
    result = outcomes.copy()
    if result.empty:
        return result
    cases = result["paired_cases"].astype(float)
    improved = result["improved_cases"].astype(float) if "improved_cases" in result else cases * np.nan
    hidden_cases = is_small(cases, threshold)
    hidden_share = hidden_cases | is_small(improved, threshold) | is_small(cases - improved, threshold)
    result["paired_cases_display"] = display_column(
        cases, "count", pd.Series(hidden_cases, index=result.index)
    )
    result["improved_display"] = display_column(
        result["improved_pct"], "percentage", pd.Series(hidden_share, index=result.index)
    )
    result.loc[hidden_cases, ["paired_cases", "mean_change"]] = np.nan
    result.loc[hidden_share, "improved_pct"] = np.nan
    if "improved_cases" in result:
        result = result.drop(columns="improved_cases")
    return result


def suppress_board_performance(performance: pd.DataFrame, threshold: int) -> pd.DataFrame:
    """The performance mart alone. Use `suppress_marts` when the reader also
    sees value for money, so a year's total can't undo a quarter's `[c]`."""
    empty_vfm = pd.DataFrame(
        columns=["viewer", "contract_id", "financial_year", *VFM_RATIOS, *VFM_RATIOS.values()]
    )
    return suppress_marts(performance, empty_vfm, _empty_outcomes(), threshold)[0]


def suppress_value_for_money(value_for_money: pd.DataFrame, threshold: int) -> pd.DataFrame:
    """Value for money alone (see `suppress_board_performance`)."""
    empty_performance = pd.DataFrame(
        columns=[
            "viewer",
            "scope",
            "contract_reference",
            "contract_id",
            "kpi_code",
            "unit",
            "breakdown",
            "period_key",
            "financial_year",
            "actual",
            "variance_pct",
            "numerator",
            "denominator",
            "rag",
            "rating",
        ]
    )
    return suppress_marts(empty_performance, value_for_money, _empty_outcomes(), threshold)[1]


def _empty_outcomes() -> pd.DataFrame:
    return pd.DataFrame(columns=["paired_cases", "improved_cases", "improved_pct", "mean_change"])
