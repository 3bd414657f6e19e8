"""Disclosure control for board-facing figures, following GSS practice.

- A count from 1 to the threshold (a setting, default 4) is shown as `[c]`;
  zero is shown as 0.
- Secondary suppression: wherever figures add up to a total the reader also
  sees (breakdowns to a KPI's total, services to the partnership's total,
  quarters to a year, a year's improved cases and feel-safer numerators to
  its positive outcomes), enough other figures are hidden that, from
  everything the reader sees, each small count could still be any value
  from 1 to the threshold (for a total of several `[c]`s, from their number
  up): the audit (`monitor.disclosure.audit`) proves it with linear
  programming, and no hidden figure can be worked out. Every `[c]` is at
  least 1, so the extra figure hidden is never a zero.
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

from monitor import formatting
from monitor.disclosure.audit import Settled, disclosed
from monitor.kpis.performance.rag import Rag
from monitor.kpis.periods import Quarter

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
# Positive outcomes in value for money: these KPIs' numerators (people who
# said they felt safer), with the improved cases of the year's outcome rows.
POSITIVE_OUTCOME_PARTS = ("FEEL-SAFER",)
# A figure worked out from another KPI's count is hidden with that count.
DERIVED_FROM = {"COST-PER-CASE": "CASES-CLOSED"}


def is_small(values: pd.Series | np.ndarray, threshold: int) -> np.ndarray:
    """Counts from 1 to the threshold: the ones that could identify someone."""
    array = np.asarray(values, dtype=float)
    with np.errstate(invalid="ignore"):
        return (array >= 1) & (array <= threshold)


def protect(
    values: pd.Series,
    primary: pd.Series,
    groups: pd.DataFrame,
    threshold: int,
    max_rounds: int = 1000,
    never_shown: pd.Series | None = None,
    ceilings: pd.Series | None = None,
) -> pd.Series:
    """Add secondary suppression until no group gives a hidden figure away.

    `values` and `primary` are indexed by cell id. `groups` has one row per
    cell in a group: `group`, `cell` and `is_total` (the members add up to
    the total). `never_shown` marks figures a board never sees although
    they are not small (a percentage's numerator): they are hidden from the
    start and protect the others, but working one out gives nobody away, so
    nothing more is hidden for their sake. `ceilings` are upper bounds a
    reader sees for some cells (at most the paired cases shown). Returns
    the hidden cells. In each round every group with
    exactly one hidden cell hides its smallest positive visible member (or
    its total), and every group whose hidden members add up to too little
    for one of them to reach `threshold` while the others are 1 (two `[c]`s
    adding up to 3, say) hides its total; rounds repeat because a cell
    hidden for one group can leave another with a single unknown. When these
    rules hold, the audit looks for small counts that several totals at once
    narrow (the least value above 1, or the greatest below the threshold)
    and figures they pin, and each one found takes the nearest figure still
    shown with it. Every round hides at least one more figure, so the
    rounds end. The simple rules count a missing figure as a known zero;
    the audit treats it as unknown.
    """
    suppressed = primary.astype(bool).copy()
    recoverable: set[int] = set()
    if never_shown is not None:
        suppressed |= never_shown.reindex(suppressed.index, fill_value=False).astype(bool)
        recoverable = set(
            never_shown.index[never_shown & ~primary.reindex(never_shown.index, fill_value=False)]
        )
    if groups.empty:
        return suppressed
    # Groups as integer codes: every round groups and sorts by them.
    groups = groups.assign(group=pd.factorize(groups["group"])[0])
    frame = pd.DataFrame(
        {
            "group": groups["group"].to_numpy(),
            "cell": groups["cell"].to_numpy(),
            "value": values.reindex(groups["cell"]).fillna(0).to_numpy(dtype=float),
            "is_total": groups["is_total"].to_numpy(dtype=bool),
            "recoverable": groups["cell"].isin(recoverable).to_numpy(),
        }
    )
    links = _Links(frame)
    audited: pd.Series | None = None
    # The audit checks no recoverable figure for being pinned, as if an
    # earlier audit had seen it move.
    settled = Settled(moving=set(recoverable))
    # Only groups holding a figure hidden in the last round can break a rule.
    touched: np.ndarray | None = None
    for _ in range(max_rounds):
        rows = frame if touched is None else links.members(touched)
        rows = rows.assign(hidden=suppressed.reindex(rows["cell"]).to_numpy(dtype=bool))
        picked = _simple_rules(rows, threshold)
        if len(picked) == 0:
            # Only clusters holding a figure hidden since the last audit can
            # have changed their answer.
            changed = None if audited is None else set(suppressed.index[suppressed & ~audited])
            audited = suppressed.copy()
            given_away = disclosed(values, suppressed, groups, changed, primary, threshold, settled, ceilings)
            if not given_away:
                return suppressed
            picked = _nearest_shown(links, suppressed, given_away)
        suppressed.loc[picked] = True
        touched = links.groups_of(picked)
    raise RuntimeError("disclosure control did not settle")


def _simple_rules(frame: pd.DataFrame, threshold: int) -> np.ndarray:
    """Cells to hide for groups with a lone hidden cell that must not be
    worked out (its smallest positive visible member, else its total) and
    groups whose hidden members add up, against a total that is shown, to
    too little for one of them to reach the threshold while the others are
    at least 1 (the total)."""
    hidden_member = frame["hidden"] & ~frame["is_total"]
    stats = (
        frame.assign(
            guarded=frame["hidden"] & ~frame["recoverable"],
            hidden_member=hidden_member,
            hidden_value=frame["value"].where(hidden_member, 0.0),
            visible_total=frame["is_total"] & ~frame["hidden"],
        )
        .groupby("group", sort=False)
        .agg(
            hidden=("hidden", "sum"),
            guarded=("guarded", "sum"),
            hidden_members=("hidden_member", "sum"),
            hidden_value=("hidden_value", "sum"),
            total_visible=("visible_total", "any"),
        )
    )
    lone = stats.index[(stats["hidden"] == 1) & (stats["guarded"] == 1)]
    short = stats.index[
        stats["total_visible"]
        & (stats["hidden_members"] >= 2)
        & (stats["hidden_value"] - (stats["hidden_members"] - 1) < threshold)
    ]
    candidates = frame[frame["group"].isin(lone) & ~frame["hidden"] & (frame["value"] > 0)]
    candidates = candidates.sort_values(["group", "is_total", "value"], kind="stable")
    totals = frame[frame["group"].isin(short) & frame["is_total"]]
    return pd.concat([candidates.drop_duplicates("group")["cell"], totals["cell"]]).unique()


class _Links:
    """The cells of each group and the groups of each cell, sorted once so
    that each look-up is a binary search rather than a scan of every row."""

    def __init__(self, frame: pd.DataFrame) -> None:
        self._by_group = frame.sort_values("group", kind="stable").reset_index(drop=True)
        self._group_keys = self._by_group["group"].to_numpy()
        by_cell = frame.sort_values("cell", kind="stable")
        self._cell_keys = by_cell["cell"].to_numpy()
        self._cell_groups = by_cell["group"].to_numpy()

    def members(self, groups: np.ndarray) -> pd.DataFrame:
        return self._by_group.iloc[_positions(self._group_keys, groups)]

    def groups_of(self, cells: np.ndarray) -> np.ndarray:
        return np.unique(self._cell_groups[_positions(self._cell_keys, cells)])

    def seeds(self, cells: set[int]) -> pd.DataFrame:
        """(seed, group) for each group of each of `cells`."""
        at = _positions(self._cell_keys, np.fromiter(cells, dtype=np.int64))
        return pd.DataFrame({"seed": self._cell_keys[at], "group": self._cell_groups[at]})


def _positions(sorted_keys: np.ndarray, keys: np.ndarray) -> np.ndarray:
    """Positions in `sorted_keys` of every entry equal to one of `keys`."""
    keys = np.unique(np.asarray(keys))
    start = np.searchsorted(sorted_keys, keys, "left")
    lengths = np.searchsorted(sorted_keys, keys, "right") - start
    # Each key's run start..start+length, laid end to end.
    first = np.repeat(start - (np.cumsum(lengths) - lengths), lengths)
    return first + np.arange(int(lengths.sum()))


def _nearest_shown(links: _Links, hidden: pd.Series, given_away: set[int], max_steps: int = 50) -> np.ndarray:
    """For each figure given away, the smallest positive figure still shown
    in each of the groups nearest to it: its own groups, else the groups of
    the hidden figures in those, and so on. Hiding them adds an unknown to
    the equations that pin the figure, or to ones a step away."""
    reached = links.seeds(given_away)
    visited = reached
    picked: list[pd.Series] = []
    for _ in range(max_steps):
        if reached.empty:
            break
        members = reached.merge(links.members(reached["group"].to_numpy()), on="group")
        members["hidden"] = hidden.reindex(members["cell"]).to_numpy(dtype=bool)
        shown = members[~members["hidden"] & (members["value"] > 0)]
        shown = shown.sort_values(["seed", "group", "is_total", "value"], kind="stable")
        picked.append(shown.drop_duplicates(["seed", "group"])["cell"])
        # Seeds still without a figure to hide go a step further.
        onward = members[members["hidden"] & ~members["seed"].isin(shown["seed"])]
        if onward.empty:
            break
        step = onward[["seed", "cell"]].merge(
            links.seeds(set(onward["cell"])).rename(columns={"seed": "cell"})
        )
        reached = step[["seed", "group"]].drop_duplicates().merge(visited, how="left", indicator=True)
        reached = reached[reached["_merge"] == "left_only"].drop(columns="_merge")
        visited = pd.concat([visited, reached])
    found = pd.concat(picked).unique() if picked else np.array([], dtype=np.int64)
    if len(found) == 0:
        raise RuntimeError("disclosure control could not protect the table")
    return found


def _membership(frame: pd.DataFrame, keys: Sequence[str], is_total: pd.Series, prefix: str) -> pd.DataFrame:
    """Groups of `frame`'s rows sharing `keys`, each with one total row."""
    if frame.empty:
        return pd.DataFrame(columns=["group", "cell", "is_total"])
    group_ids = frame.groupby(list(keys), sort=False, dropna=False).ngroup()
    membership = pd.DataFrame(
        {"group": prefix + group_ids.astype(str), "cell": frame.index, "is_total": is_total.to_numpy()}
    )
    return _complete(membership)


def format_figure(value: float | None, unit: str) -> str:
    """A board-facing figure as written everywhere (monitor.formatting), or [x]."""
    if value is None or pd.isna(value):
        return NOT_AVAILABLE
    return formatting.format_figure(value, unit)


def display_column(values: pd.Series, units: pd.Series | str, hidden: pd.Series) -> pd.Series:
    """`format_figure` for a whole column, a unit at a time."""
    unit_of = units if isinstance(units, pd.Series) else pd.Series(units, index=values.index)
    shown = pd.Series(NOT_AVAILABLE, index=values.index, dtype=object)
    present = values.notna()
    for unit in unit_of[present].unique():
        rows = present & unit_of.eq(unit)
        shown[rows] = [formatting.format_figure(v, unit) for v in values[rows].astype(float).tolist()]
    return shown.where(~hidden, CONFIDENTIAL)


def percentage_disclosive(frame: pd.DataFrame, threshold: int) -> np.ndarray:
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

    The three are protected together: a year's referrals in value for money
    is the total of the quarters on the performance dashboard, and its
    positive outcomes are the improved cases of that year's outcome rows
    (which a share and its paired cases give away) plus the numerators of
    its feel-safer percentages (never shown, but at least 1 when the
    percentage shown is above 0). Rows are grouped by `viewer`, so frames
    holding several viewers are protected each on its own terms.
    """
    performance = performance.reset_index(drop=True)
    value_for_money = value_for_money.reset_index(drop=True)
    outcomes = outcomes.reset_index(drop=True)
    cells = _CellIds()
    perf_cells = cells.take(len(performance))
    vfm_cells = {measure: cells.take(len(value_for_money)) for measure in VFM_RATIOS}
    improved_cells = cells.take(len(outcomes))
    feel_safer = performance[
        performance["scope"].eq("service")
        & performance["kpi_code"].isin(POSITIVE_OUTCOME_PARTS)
        & performance["breakdown"].eq("")
    ]
    numerator_cells = cells.take(len(feel_safer))

    perf_counts = performance["unit"].eq("count").to_numpy()
    improved = _improved_cases(outcomes)
    share_hidden = _share_disclosive(outcomes, improved, threshold)
    numerators = feel_safer["numerator"].astype(float).to_numpy()
    # A numerator is known only where its percentage shows 0.
    numerator_shown = ~percentage_disclosive(feel_safer, threshold) & (numerators == 0)
    values = pd.concat(
        [
            pd.Series(np.where(perf_counts, performance["actual"].astype(float), np.nan), index=perf_cells),
            *(pd.Series(value_for_money[m].astype(float).to_numpy(), index=vfm_cells[m]) for m in VFM_RATIOS),
            # A hidden figure is at least 1 to the audit; a hidden zero is
            # only known to be at least 0, as a missing figure is.
            pd.Series(np.where(share_hidden & (improved == 0), np.nan, improved), index=improved_cells),
            pd.Series(
                np.where(numerator_shown, 0.0, np.where(numerators > 0, numerators, np.nan)),
                index=numerator_cells,
            ),
        ]
    )
    # Every count of people, wherever it is, is primary when small.
    primary = pd.Series(is_small(values, threshold), index=values.index)
    never_shown = pd.concat(
        [
            pd.Series(False, index=np.concatenate([perf_cells, *vfm_cells.values()])),
            pd.Series(share_hidden, index=improved_cells),
            pd.Series(~numerator_shown, index=numerator_cells),
        ]
    )
    groups = pd.concat(
        _performance_groups(performance.set_axis(perf_cells))
        + _vfm_groups(performance.set_axis(perf_cells), value_for_money, vfm_cells)
        + [
            _positive_outcome_groups(
                value_for_money,
                vfm_cells["positive_outcomes"],
                outcomes,
                improved_cells,
                feel_safer,
                numerator_cells,
            )
        ]
    )
    # A hidden share's improved cases are at most its paired cases, when
    # those are shown (they are never hidden to protect another figure).
    paired = outcomes["paired_cases"].astype(float).to_numpy() if len(outcomes) else np.zeros(0)
    ceilings = pd.Series(np.where(is_small(paired, threshold), np.inf, paired), index=improved_cells)
    hidden = protect(values, primary, groups, threshold, never_shown=never_shown, ceilings=ceilings)

    perf_hidden = pd.Series(hidden.loc[perf_cells].to_numpy(), index=performance.index)
    perf_hidden |= _dependent_performance(performance, perf_hidden, threshold)
    performance = _apply_to_performance(performance, perf_hidden)

    vfm_hidden = {m: hidden.loc[vfm_cells[m]].reset_index(drop=True) for m in VFM_RATIOS}
    value_for_money = _apply_to_vfm(value_for_money, vfm_hidden)
    outcomes = suppress_outcomes(outcomes, threshold, share_hidden=hidden.loc[improved_cells].to_numpy())
    return performance, value_for_money, outcomes


class _CellIds:
    """Consecutive cell ids for the figures of several tables."""

    def __init__(self) -> None:
        self._next = 0

    def take(self, n: int) -> np.ndarray:
        ids = np.arange(self._next, self._next + n, dtype=np.int64)
        self._next += n
        return ids


def _improved_cases(outcomes: pd.DataFrame) -> np.ndarray:
    """Each outcome row's improved cases (none of no paired cases)."""
    if outcomes.empty:
        return np.zeros(0)
    improved = (
        outcomes["improved_cases"].astype(float).to_numpy()
        if "improved_cases" in outcomes
        else np.full(len(outcomes), np.nan)
    )
    return np.where(outcomes["paired_cases"].astype(float).to_numpy() == 0, 0.0, improved)


def _share_disclosive(outcomes: pd.DataFrame, improved: np.ndarray, threshold: int) -> np.ndarray:
    """A share improved is hidden when its paired cases, its improved cases
    or those not improved are a small count."""
    if outcomes.empty:
        return np.zeros(0, dtype=bool)
    cases = outcomes["paired_cases"].astype(float).to_numpy()
    return is_small(cases, threshold) | is_small(improved, threshold) | is_small(cases - improved, threshold)


def _positive_outcome_groups(
    value_for_money: pd.DataFrame,
    totals: np.ndarray,
    outcomes: pd.DataFrame,
    improved_cells: np.ndarray,
    feel_safer: pd.DataFrame,
    numerator_cells: np.ndarray,
) -> pd.DataFrame:
    """A year's positive outcomes is the total of its outcome rows' improved
    cases and its feel-safer numerators."""
    keys = ["viewer", "contract_id", "financial_year"]
    if value_for_money.empty or (outcomes.empty and feel_safer.empty):
        return pd.DataFrame(columns=["group", "cell", "is_total"])
    outcome_years = pd.DataFrame(
        {
            "viewer": outcomes.get("viewer", pd.Series(dtype=object)),
            "contract_id": outcomes.get("contract_id", pd.Series(dtype=float)),
            "financial_year": [_financial_year(key) for key in outcomes.get("period_key", [])],
        }
    )
    rows = pd.concat(
        [value_for_money[keys], outcome_years[keys], feel_safer[keys]], ignore_index=True
    ).assign(contract_id=lambda frame: pd.to_numeric(frame["contract_id"]))
    membership = pd.DataFrame(
        {
            "group": "o" + rows.groupby(keys, sort=False, dropna=False).ngroup().astype(str).to_numpy(),
            "cell": np.concatenate([totals, improved_cells, numerator_cells]),
            "is_total": np.arange(len(rows)) < len(value_for_money),
        }
    )
    return _complete(membership)


def _financial_year(period_key: str) -> str:
    quarter = Quarter.parse(period_key)
    if quarter is None:
        raise ValueError(f"not a quarter: {period_key!r}")
    return quarter.financial_year


def _complete(membership: pd.DataFrame) -> pd.DataFrame:
    """Only groups with one total and at least one member constrain anything."""
    per_group = membership.groupby("group")["is_total"].agg(["sum", "size"])
    complete = per_group.index[(per_group["sum"] == 1) & (per_group["size"] >= 2)]
    return membership[membership["group"].isin(complete)]


def _performance_groups(performance: pd.DataFrame) -> list[pd.DataFrame]:
    counts = performance[performance["unit"].eq("count")]
    parts = counts[~_breakdowns_not_adding_up(counts)]
    by_breakdown = _membership(
        parts,
        ["viewer", "scope", "contract_reference", "kpi_code", "period_key"],
        parts["breakdown"].eq(""),
        "b",
    )
    across_services = _membership(
        counts,
        ["viewer", "kpi_code", "breakdown", "period_key"],
        counts["scope"].eq("all services"),
        "s",
    )
    return [by_breakdown, across_services]


def _breakdowns_not_adding_up(counts: pd.DataFrame) -> pd.Series:
    """All services' breakdowns of a figure that a service does not break
    down: they add up to all services' figure only when every service's
    does, so otherwise they are no parts of it (each is still the total of
    the services' own breakdowns)."""
    keys = ["viewer", "kpi_code", "period_key"]
    services = counts[counts["scope"].eq("service")]
    broken = services[~services["breakdown"].eq("")][[*keys, "contract_reference"]].drop_duplicates()
    figures = services[services["breakdown"].eq("")][[*keys, "contract_reference"]].drop_duplicates()
    missing = figures.merge(broken, how="left", indicator=True)
    short = missing[missing["_merge"].eq("left_only")][keys].drop_duplicates().assign(short=True)
    if short.empty:
        return pd.Series(False, index=counts.index)
    all_services = counts["scope"].eq("all services") & ~counts["breakdown"].eq("")
    flagged = counts[keys].merge(short, how="left", on=keys)["short"].notna().to_numpy()
    return all_services & flagged


def _vfm_groups(
    performance: pd.DataFrame, value_for_money: pd.DataFrame, vfm_cells: dict[str, np.ndarray]
) -> list[pd.DataFrame]:
    """A year's count in value for money is the total of its quarters' counts."""
    groups: list[pd.DataFrame] = []
    if value_for_money.empty:
        return groups
    quarters = performance[
        performance["scope"].eq("service") & performance["breakdown"].eq("") & performance["unit"].eq("count")
    ]

    keys = ["viewer", "contract_id", "financial_year"]
    years = value_for_money[keys].assign(contract_id=pd.to_numeric(value_for_money["contract_id"]))
    for measure, codes in VFM_PARTS.items():
        members = quarters[quarters["kpi_code"].isin(codes)]
        rows = pd.concat(
            [years, members[keys].assign(contract_id=pd.to_numeric(members["contract_id"]))],
            ignore_index=True,
        )
        group = "v" + measure + rows.groupby(keys, sort=False, dropna=False).ngroup().astype(str).to_numpy()
        combined = pd.DataFrame(
            {
                "group": group,
                "cell": np.concatenate([vfm_cells[measure], members.index.to_numpy()]),
                "is_total": np.arange(len(rows)) < len(years),
            }
        )
        groups.append(_complete(combined))
    return groups


def _dependent_performance(performance: pd.DataFrame, hidden: pd.Series, threshold: int) -> pd.Series:
    """Figures that would give a hidden or small count away."""
    extra = pd.Series(False, index=performance.index)
    is_percentage = performance["unit"].eq("percentage")
    if is_percentage.any():
        extra |= is_percentage & percentage_disclosive(performance, threshold)
    for derived, base in DERIVED_FROM.items():
        keys = ["viewer", "scope", "contract_reference", "period_key"]
        base_rows = performance[performance["kpi_code"].eq(base) & performance["breakdown"].eq("")]
        hidden_keys = set(map(tuple, base_rows.loc[hidden[base_rows.index], keys].to_numpy().tolist()))
        if not hidden_keys:
            continue
        derived_rows = performance["kpi_code"].eq(derived)
        if not derived_rows.any():
            continue
        row_keys = performance.loc[derived_rows, keys].to_numpy().tolist()
        extra.loc[derived_rows] = [tuple(k) in hidden_keys for k in row_keys]
    return extra


def _apply_to_performance(performance: pd.DataFrame, hidden: pd.Series) -> pd.DataFrame:
    result = performance.copy()
    result["actual_display"] = display_column(result["actual"], result["unit"], hidden)
    missing = result["actual"].isna() & ~hidden
    result["marker"] = np.where(hidden, CONFIDENTIAL, np.where(missing, NOT_AVAILABLE, ""))
    result.loc[hidden, ["actual", "variance_pct"]] = np.nan
    # The rating of a hidden figure against a known target narrows it down;
    # so does the next red figure's (Inadequate says the one before was red).
    result.loc[_red_after_hidden(result, hidden), "rating"] = CONFIDENTIAL
    result.loc[hidden, ["rag", "rating"]] = CONFIDENTIAL
    result["numerator"] = np.nan
    result["denominator"] = np.nan
    return result


def _red_after_hidden(performance: pd.DataFrame, hidden: pd.Series) -> pd.Series:
    """Red figures whose quarter before (as the ratings were worked out:
    the row before in the same service, KPI and breakdown) is hidden."""
    keys = ["viewer", "scope", "contract_reference", "kpi_code", "breakdown"]
    ordered = performance.assign(_hidden=hidden.to_numpy(dtype=bool)).sort_values([*keys, "period_key"])
    before = ordered.groupby(keys, sort=False, dropna=False)["_hidden"].shift(fill_value=False)
    red = ordered["rag"].eq(Rag.RED.value)
    return (before.astype(bool) & red).reindex(performance.index).fillna(False).astype(bool)


def _apply_to_vfm(value_for_money: pd.DataFrame, hidden: dict[str, pd.Series]) -> pd.DataFrame:
    result = value_for_money.copy()
    for measure, ratio in VFM_RATIOS.items():
        mask = hidden[measure].to_numpy()
        result[f"{measure}_display"] = display_column(result[measure], "count", hidden[measure])
        result.loc[mask, [measure, ratio]] = np.nan
    return result


def suppress_outcomes(
    outcomes: pd.DataFrame, threshold: int, share_hidden: np.ndarray | None = None
) -> pd.DataFrame:
    """Paired cases from 1 to the threshold, and any share or mean that would
    give away a small number of children or adults, are hidden; and the
    shares in `share_hidden`, hidden to protect positive outcomes in value
    for money (`suppress_marts`)."""
    result = outcomes.copy()
    if result.empty:
        return result
    cases = result["paired_cases"].astype(float)
    hidden_cases = is_small(cases, threshold)
    hidden_share = _share_disclosive(result, _improved_cases(result), threshold)
    if share_hidden is not None:
        hidden_share = hidden_share | share_hidden
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
