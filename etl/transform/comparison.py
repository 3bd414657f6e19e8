"""The "How we compare" mart: each opted-in area's KPIs against its comparison
groups (all areas, its region, each similar-areas group it is in), by the
methods of monitor.benchmarking.statistics.

Pure: frames in, frames out. The ETL gives it the accepted figures
(fact_kpi_result), which services each area sees (bridge_contract_viewer's
partnership rows), the opted-in areas and their groups on the run's as-at
date (monitor.benchmarking.service), and the quarters the areas' own board
views hide.

- **Which KPIs.** The standard library's KPIs whose definition is the same
  in every area and that add up over services and quarters: counts summed
  over the year (COMPARED_COUNTS) and percentages with a numerator and
  denominator, pooled (COMPARED_PROPORTIONS). A council's own KPIs, means,
  "latest" figures and money are left out: they do not pool, or mean
  different things in different places. Which way is better comes from
  dim_kpi's direction.
- **An area's figure for a year** sums its services' accepted quarterly
  totals (breakdown ""); a percentage pools its numerators and
  denominators, so a large service weighs more than a small one.
- **Disclosure, the same for every viewer** (the viewer's own area
  included): a count from 1 to the threshold is `[c]`; a proportion is `[c]`
  when its numerator, denominator or the rest is small (the rule in
  monitor.disclosure.suppression); and a year figure is `[c]` when one of
  the quarters it adds up is hidden on the area's own board view, since the
  board could otherwise work that quarter out. A hidden figure has no
  value, interval or label. A group statistic is hidden when it would show
  a small count: a median or quartile that is itself small or that is
  interpolated from a hidden area's figure; a pooled proportion whose
  parts, or the part of them the hidden areas make up, are small. Against a
  hidden group figure no area is labelled.
- **Size.** Rows are per viewer (Superset's row-level security filters on
  `viewer`), so every area's figure is repeated for every area it is
  compared with, which grows with the square of the areas. To hold that
  down, the other areas' rows are written only where a chart needs them:
  their proportions in the latest financial year (the funnel plot's
  points), with the funnel's limits; a count's group figures (median and
  quartiles) are on the viewer's own row, and the viewer's own area has
  every year. Measured at national scale in bench/comparison.py.
- **When.** Full runs work it out, and a roll that passes a decision to
  take part or to stop; incremental runs leave it as it was (etl/run.py
  says why). Every row carries the day it was worked out for (`as_at`), so
  the dashboard and the board pack can say which day their figures are from.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

import numpy as np
import pandas as pd

from etl.transform import labels
from monitor import formatting
from monitor.benchmarking.statistics import (
    Comparison,
    ConfidenceLevel,
    Interval,
    byar_interval,
    compare_count,
    compare_proportion,
    funnel_limits,
    funnel_lines,
    median_text,
    not_compared,
    pooled_proportion,
    quartiles,
    wilson_interval,
)
from monitor.disclosure.suppression import CONFIDENTIAL, NOT_APPLICABLE, is_small, percentage_disclosive

COMPARED_COUNTS: tuple[str, ...] = (
    "REF-RECEIVED",
    "REF-ACCEPTED",
    "CASES-CLOSED",
    "REF-NOT-TAKEN",
    "MARAC-REPEAT",
)
COMPARED_PROPORTIONS: tuple[str, ...] = (
    "CONTACT-2WD",
    "PLANNED-ENDING",
    "SAFETY-PLAN",
    "FEEL-SAFER",
    "ABUSE-STOPPED",
)
PROPORTION = "proportion"
COUNT = "count"
AREA_ROW = "area"
LIMIT_ROW = "limit"
# Enough points for a smooth funnel; each is a row for every viewer.
FUNNEL_POINTS = 20

HIDDEN_REASON = "Hidden ([c]): the figure is a small count or would give one away."
HIDDEN_GROUP_REASON = (
    "Not compared: the group's figure is hidden ([c]) because it would give a small count away."
)

COLUMNS = [
    "viewer",
    "viewer_kind",
    "viewer_name",
    "viewer_area_id",
    "viewer_area_name",
    "row_kind",
    "group_name",
    "group_kind",
    "group_sort",
    "group_members",
    "kpi_code",
    "kpi_name",
    "unit",
    "direction",
    "measure",
    "financial_year",
    "is_latest_year",
    "area_id",
    "area_name",
    "is_viewer_area",
    "value",
    "value_display",
    "trials",
    "lower_95",
    "upper_95",
    "lower_99_8",
    "upper_99_8",
    "interval_display",
    "comparator",
    "comparator_display",
    "lower_quartile",
    "median",
    "upper_quartile",
    "lower_quartile_display",
    "median_display",
    "upper_quartile_display",
    "label",
    "note",
    "limit_95_lower",
    "limit_95_upper",
    "limit_99_8_lower",
    "limit_99_8_upper",
    "as_at",
    "as_at_label",
]

LEVELS = (ConfidenceLevel.NINETY_FIVE, ConfidenceLevel.NINETY_NINE_POINT_EIGHT)


def financial_year(period_key: pd.Series) -> pd.Series:
    """2013/14 from 2013-14-Q3."""
    keys = period_key.astype(str)
    return keys.str[:4] + "/" + keys.str[5:7]


def area_figures(
    results: pd.DataFrame,
    services: pd.DataFrame,
    kpis: pd.DataFrame,
    hidden_quarters: pd.DataFrame,
    threshold: int,
) -> pd.DataFrame:
    """One row per area, KPI and financial year: the year's figure from its
    services' accepted quarterly totals, and whether disclosure control hides it.

    `results`: fact_kpi_result rows (contract_id, kpi_id, period_key,
    breakdown, actual, numerator, denominator). `services`: (contract_id,
    area_id). `kpis`: dim_kpi rows. `hidden_quarters`: (area_id, kpi_code,
    period_key) of the quarters' all-services figures the area's board view hides.
    """
    compared = kpis[kpis["code"].isin(COMPARED_COUNTS + COMPARED_PROPORTIONS)][
        ["kpi_id", "code", "name", "unit", "direction"]
    ].rename(columns={"code": "kpi_code", "name": "kpi_name"})
    totals = results[results["breakdown"].eq("")][
        ["contract_id", "kpi_id", "period_key", "actual", "numerator", "denominator"]
    ]
    frame = totals.merge(compared, on="kpi_id").merge(services, on="contract_id")
    frame["measure"] = np.where(frame["kpi_code"].isin(COMPARED_PROPORTIONS), PROPORTION, COUNT)
    is_proportion = frame["measure"].eq(PROPORTION)
    # A count needs its figure, a proportion both its parts.
    usable = np.where(
        is_proportion, frame["numerator"].notna() & frame["denominator"].notna(), frame["actual"].notna()
    )
    frame = frame[usable].copy()
    frame["financial_year"] = financial_year(frame["period_key"])
    keys = ["area_id", "kpi_code", "financial_year"]
    # A quarter hidden on the area's board view hides the year it adds up to.
    hidden = hidden_quarters.assign(financial_year=financial_year(hidden_quarters["period_key"]))
    hidden_years = set(map(tuple, hidden[keys].drop_duplicates().to_numpy().tolist()))
    figures = (
        frame.groupby([*keys, "kpi_name", "unit", "direction", "measure"], as_index=False)
        .agg(count=("actual", "sum"), numerator=("numerator", "sum"), denominator=("denominator", "sum"))
        .reset_index(drop=True)
    )
    proportions = figures["measure"].eq(PROPORTION)
    figures["value"] = np.where(
        proportions,
        figures["numerator"] / figures["denominator"].replace(0, np.nan) * 100,
        figures["count"],
    )
    small = np.where(
        proportions,
        percentage_disclosive(figures.assign(actual=figures["value"]), threshold),
        is_small(figures["count"], threshold),
    )
    secondary = [tuple(row) in hidden_years for row in figures[keys].to_numpy().tolist()]
    figures["hidden"] = np.asarray(small, dtype=bool) | np.asarray(secondary, dtype=bool)
    return figures


@dataclass
class _Statistic:
    value: float | None
    hidden: bool


def _quartile_positions(members: int, fraction: float) -> tuple[int, int]:
    position = (members - 1) * fraction
    return math.floor(position), math.ceil(position)


def _spread(values: list[float], hidden: list[bool]) -> list[_Statistic]:
    """Lower quartile, median and upper quartile, each hidden when it is a
    small count or is interpolated from a hidden figure."""
    spread = quartiles(values)
    if spread is None:
        return [_Statistic(None, False) for _ in range(3)]
    # Shown figures first among equals: a statistic equal to a shown figure gives nothing away.
    order = sorted(range(len(values)), key=lambda i: (values[i], hidden[i]))
    found = []
    for fraction, value in zip(
        (0.25, 0.5, 0.75), (spread.lower_quartile, spread.median, spread.upper_quartile), strict=True
    ):
        low, high = _quartile_positions(len(values), fraction)
        uses_hidden = hidden[order[low]] or hidden[order[high]]
        found.append(_Statistic(value, uses_hidden))
    return found


def _pool_hidden(group: pd.DataFrame, threshold: int) -> bool:
    """Is the pooled proportion hidden: its parts small, or the part the hidden
    areas make up (the pool less what is shown) small?"""
    hidden = group.loc[group["hidden"], ["numerator", "denominator"]]
    # Areas can share services (a council's board and its forum), so two
    # hidden figures may be one figure twice: the part is then that figure.
    distinct = hidden.drop_duplicates()
    pooled = pd.DataFrame(
        {
            "numerator": [group["numerator"].sum(), hidden["numerator"].sum(), distinct["numerator"].sum()],
            "denominator": [
                group["denominator"].sum(),
                hidden["denominator"].sum(),
                distinct["denominator"].sum(),
            ],
        }
    )
    pooled["actual"] = pooled["numerator"]
    disclosive = percentage_disclosive(pooled, threshold)
    return bool(disclosive[0] or (len(hidden) and (disclosive[1] or disclosive[2])))


def _display(value: float | None, unit: str, hidden: bool = False) -> str:
    if hidden:
        return CONFIDENTIAL
    if value is None or pd.isna(value):
        return NOT_APPLICABLE
    if unit == COUNT:
        # A median or quartile of counts can fall between two; it is written
        # as the method sentence writes it, so the two read the same.
        return median_text(value)
    return formatting.format_figure(value, unit)


def _interval_text(lower: float | None, upper: float | None, unit: str) -> str:
    if lower is None or upper is None:
        return NOT_APPLICABLE
    return f"{formatting.format_figure(lower, unit)} to {formatting.format_figure(upper, unit)}"


def _label(comparison: Comparison) -> str:
    return formatting.sentence_case(comparison.label.value)


def compare_group(
    figures: pd.DataFrame, threshold: int, latest_year: bool
) -> tuple[list[dict[str, object]], list[dict[str, object]]]:
    """The area rows and funnel limit rows of one group's KPI and year.
    `figures` holds only the group's opted-in members' figures."""
    first = figures.iloc[0]
    measure, direction = str(first["measure"]), str(first["direction"])
    shown_unit = "percentage" if measure == PROPORTION else "count"
    values = figures["value"].astype(float).tolist()
    hidden = figures["hidden"].astype(bool).tolist()
    lower_q, median, upper_q = _spread(values, hidden)
    if measure == PROPORTION:
        pairs = list(zip(figures["numerator"].astype(float), figures["denominator"].astype(int), strict=True))
        pooled = pooled_proportion(pairs)
        comparator = _Statistic(
            None if pooled is None else pooled * 100, pooled is not None and _pool_hidden(figures, threshold)
        )
    else:
        counts = figures["count"].astype(float).tolist()
        comparator = median
        # A count median in the small range shows a small count.
        for statistic in (lower_q, median, upper_q):
            if statistic.value is not None and bool(is_small(np.array([statistic.value]), threshold)[0]):
                statistic.hidden = True
    rows: list[dict[str, object]] = []
    group_figures = {
        "group_members": len(figures),
        "comparator": None if comparator.hidden else comparator.value,
        "comparator_display": _display(comparator.value, shown_unit, comparator.hidden),
        "lower_quartile": None if lower_q.hidden else lower_q.value,
        "median": None if median.hidden else median.value,
        "upper_quartile": None if upper_q.hidden else upper_q.value,
        "lower_quartile_display": _display(lower_q.value, shown_unit, lower_q.hidden),
        "median_display": _display(median.value, shown_unit, median.hidden),
        "upper_quartile_display": _display(upper_q.value, shown_unit, upper_q.hidden),
    }
    for index, figure in enumerate(figures.itertuples(index=False)):
        row: dict[str, object] = {
            "area_id": int(figure.area_id),
            "area_name": figure.area_name,
            "value": None,
            "value_display": CONFIDENTIAL,
            "trials": None,
            "interval_display": CONFIDENTIAL,
            "label": CONFIDENTIAL,
            "note": HIDDEN_REASON,
            **group_figures,
        }
        if not hidden[index]:
            row.update(
                _area_comparison(
                    figure, measure, direction, shown_unit, pairs if measure == PROPORTION else counts
                )
            )
            if comparator.hidden:
                row.update(label=_label(not_compared(HIDDEN_GROUP_REASON)), note=HIDDEN_GROUP_REASON)
            elif measure == PROPORTION and comparator.value is not None and row["trials"]:
                # The funnel's limits at the area's own denominator too, so the
                # chart's lines run unbroken through every area's point.
                row.update(_limits_at(comparator.value / 100, int(str(row["trials"]))))
        rows.append(row)
    limits: list[dict[str, object]] = []
    if measure == PROPORTION and latest_year and comparator.value is not None and not comparator.hidden:
        shown_trials = [int(d) for d, h in zip(figures["denominator"], hidden, strict=True) if not h]
        for point in funnel_lines(comparator.value / 100, max(shown_trials, default=0), FUNNEL_POINTS):
            limits.append(
                {
                    "trials": point.trials,
                    "limit_95_lower": point.lower_95 * 100,
                    "limit_95_upper": point.upper_95 * 100,
                    "limit_99_8_lower": point.lower_99_8 * 100,
                    "limit_99_8_upper": point.upper_99_8 * 100,
                    "value_display": NOT_APPLICABLE,
                    "interval_display": NOT_APPLICABLE,
                    "label": NOT_APPLICABLE,
                    "note": "Funnel limits: the Wilson score interval of the group's proportion at each "
                    "number of cases, at 95% and 99.8%",
                    **group_figures,
                }
            )
    return rows, limits


def _limits_at(group_proportion: float, trials: int) -> dict[str, float]:
    bounds = {}
    for level, suffix in zip(LEVELS, ("95", "99_8"), strict=True):
        limits = funnel_limits(group_proportion, trials, level)
        assert limits is not None  # trials is at least 1
        bounds[f"limit_{suffix}_lower"] = limits.lower * 100
        bounds[f"limit_{suffix}_upper"] = limits.upper * 100
    return bounds


def _area_comparison(
    figure: Any, measure: str, direction: str, unit: str, group: list[Any]
) -> dict[str, object]:
    """An area's shown figure: its intervals, label and method."""
    intervals: list[Interval | None]
    if measure == PROPORTION:
        successes, denominator = float(figure.numerator), int(figure.denominator)
        trials: int | None = denominator
        intervals = [wilson_interval(successes, denominator, level) for level in LEVELS]
        comparison = compare_proportion(successes, denominator, group, direction)
        scale = 100.0
    else:
        count = float(figure.count)
        trials = None
        intervals = [byar_interval(count, level) for level in LEVELS]
        comparison = compare_count(count, group, direction)
        scale = 1.0
    inner, outer = intervals
    bounds = {
        "lower_95": None if inner is None else inner.lower * scale,
        "upper_95": None if inner is None else inner.upper * scale,
        "lower_99_8": None if outer is None else outer.lower * scale,
        "upper_99_8": None if outer is None else outer.upper * scale,
    }
    value = float(figure.value)
    return {
        "value": value,
        "value_display": _display(value, unit),
        "trials": trials,
        **bounds,
        "interval_display": _interval_text(bounds["lower_95"], bounds["upper_95"], unit),
        "label": _label(comparison),
        "note": comparison.note,
    }


def group_rows(
    figures: pd.DataFrame, areas: pd.DataFrame, groups: pd.DataFrame, threshold: int
) -> pd.DataFrame:
    """Every group's rows before they are given to viewers: each member's
    figure against the group, per KPI and year, and the funnel limits.

    `figures`: area_figures' rows. `areas`: (area_id, area_name) of the areas
    opted in on the as-at date: no other area is in any row. `groups`:
    (group_name, group_kind, group_sort, area_id), each group's members.
    """
    opted_in = set(areas["area_id"].astype(int))
    figures = figures[figures["area_id"].isin(opted_in)].merge(areas, on="area_id")
    groups = groups[groups["area_id"].isin(opted_in)]
    if figures.empty or groups.empty:
        return pd.DataFrame(columns=[c for c in COLUMNS if not c.startswith("viewer")])
    latest = figures.groupby("kpi_code")["financial_year"].max()
    figures = figures.assign(is_latest_year=figures["financial_year"].eq(figures["kpi_code"].map(latest)))
    in_groups = groups.merge(figures, on="area_id")
    found: list[pd.DataFrame] = []
    keys = ["group_name", "group_kind", "group_sort", "kpi_code", "financial_year"]
    for key, members in in_groups.groupby(keys, sort=True):
        members = members.sort_values("area_name").reset_index(drop=True)
        latest_year = bool(members["is_latest_year"].iloc[0])
        rows, limits = compare_group(members, threshold, latest_year)
        common = dict(zip(keys, key, strict=True))
        first = members.iloc[0]
        common.update(
            kpi_name=first["kpi_name"],
            unit=first["unit"],
            direction=first["direction"],
            measure=first["measure"],
            is_latest_year=latest_year,
        )
        found.append(pd.DataFrame(rows).assign(row_kind=AREA_ROW, **common))
        if limits:
            found.append(
                pd.DataFrame(limits).assign(row_kind=LIMIT_ROW, area_id=np.nan, area_name="", **common)
            )
    return pd.concat(found, ignore_index=True)


def viewer_rows(
    per_group: pd.DataFrame,
    areas: pd.DataFrame,
    groups: pd.DataFrame,
    viewers: pd.DataFrame,
    as_at: date,
    viewers_at_once: int = 50,
) -> Iterator[pd.DataFrame]:
    """mart_comparison's rows, a few viewers at a time (at national scale the
    mart is millions of rows, too many to hold at once).

    Each viewer of an area sees the rows of every group the area is in: its
    own area's for every year; for the latest year, the other areas'
    proportions and the funnel limits (the funnel plot's points and lines);
    a count's group figures (median and quartiles) are on the area's own row.
    `viewers`: (viewer, viewer_kind, viewer_name, area_id, sees_others):
    a viewer without `sees_others` gets its own area's rows alone.
    `as_at`: the day the comparison is worked out for, on every row.
    """
    opted_in = set(areas["area_id"].astype(int))
    who = viewers[viewers["area_id"].isin(opted_in)].rename(columns={"area_id": "viewer_area_id"})
    who = who.sort_values("viewer").reset_index(drop=True)
    names = areas.set_index("area_id")["area_name"]
    members_of = groups[groups["area_id"].isin(opted_in)][["group_name", "area_id"]].rename(
        columns={"area_id": "viewer_area_id"}
    )
    per_group = per_group.assign(
        for_others=per_group["is_latest_year"].astype(bool)
        & (per_group["measure"].eq(PROPORTION) | per_group["row_kind"].eq(LIMIT_ROW))
    )
    for start in range(0, len(who), viewers_at_once):
        some = who.iloc[start : start + viewers_at_once]
        seen = per_group.merge(
            members_of[members_of["viewer_area_id"].isin(some["viewer_area_id"])], on="group_name"
        )
        own = seen["area_id"].eq(seen["viewer_area_id"])
        seen = seen[own | seen["for_others"]]
        mart = seen.merge(some, on="viewer_area_id")
        mart = mart[
            mart["area_id"].eq(mart["viewer_area_id"]).fillna(False).astype(bool) | mart["sees_others"]
        ]
        if mart.empty:
            continue
        yield _finished(mart, names, as_at)


def _finished(mart: pd.DataFrame, names: pd.Series, as_at: date) -> pd.DataFrame:
    mart = mart.assign(
        as_at=as_at,
        as_at_label=labels.days(pd.Series([as_at])).iloc[0],
        viewer_area_name=mart["viewer_area_id"].map(names),
        is_viewer_area=mart["area_id"].eq(mart["viewer_area_id"]).fillna(False).astype(bool),
    )
    for column in COLUMNS:
        if column not in mart.columns:
            mart[column] = None
    mart["area_id"] = pd.to_numeric(mart["area_id"]).astype("Int64")
    mart["trials"] = pd.to_numeric(mart["trials"]).astype("Int64")
    order = [
        "viewer",
        "group_sort",
        "group_name",
        "kpi_code",
        "financial_year",
        "row_kind",
        "area_name",
        "trials",
    ]
    return mart[COLUMNS].sort_values(order).reset_index(drop=True)


def comparison_mart(
    figures: pd.DataFrame,
    areas: pd.DataFrame,
    groups: pd.DataFrame,
    viewers: pd.DataFrame,
    threshold: int,
    as_at: date,
) -> pd.DataFrame:
    """mart_comparison's rows all at once (group_rows, then viewer_rows)."""
    per_group = group_rows(figures, areas, groups, threshold)
    parts = list(viewer_rows(per_group, areas, groups, viewers, as_at)) if len(per_group) else []
    if not parts:
        return pd.DataFrame(columns=COLUMNS)
    return pd.concat(parts, ignore_index=True)


def own_latest_rows(marts: Mapping[str, pd.DataFrame], financial_year: str) -> pd.DataFrame:
    """The board pack's rows: one viewer's own area rows in mart_comparison
    (`marts` as monitor.reports.pack_data.read_marts gives them) for the
    latest financial year with figures up to the pack's `financial_year`, by
    area, KPI and group. Empty when the viewer's board has not opted in."""
    rows = marts.get("mart_comparison", pd.DataFrame(columns=COLUMNS))
    own = rows[
        rows["is_viewer_area"].astype(bool)
        & rows["row_kind"].eq(AREA_ROW)
        & rows["financial_year"].le(financial_year)
    ]
    if own.empty:
        return own.reset_index(drop=True)
    latest = own["financial_year"].max()
    return (
        own[own["financial_year"].eq(latest)]
        .sort_values(["viewer_area_name", "kpi_name", "group_sort", "group_name"])
        .reset_index(drop=True)
    )
