"""Unmet need by cohort: referrals not taken (by reason), people waiting at
the quarter's end, and children whose support was asked for and who got it,
for each viewer, cohort and quarter (`mart_unmet_need`).

A service for several cohorts counts in each, as the provision map's spend
does: the cohorts overlap, so the cohorts' figures do not add up to all
services'.

Disclosure control has one rule here, and it adds nothing to what the
board already sees. A cohort figure is the sum of service figures the board
sees on the performance dashboard, so it is built from the board's rows
*after* suppression (`monitor.disclosure.suppression.suppress_marts`):

- it is shown only when every service figure it adds up is shown; one
  hidden service figure hides it as [c] (otherwise the cohort's figure less
  the services shown would give the hidden one away);
- a figure shown is still hidden as [c] when it is itself a small count
  (`is_small`, the ETL's threshold). A sum of figures a board sees is 0 or
  above the threshold, so on a board's rows this is a safeguard, not a
  second rule;
- the share of children who received support is hidden when either count
  it is made from is hidden, and by the project's percentage rule (a
  numerator, denominator, or the difference between them that is a small
  count: `percentage_disclosive`, as for the KPIs' percentages).

Because every figure shown is a sum of figures already shown, the
protection audit (`monitor.disclosure.audit`) has nothing new to attack.
Commissioners' own rows are as they are, like the other marts'. The board
pack applies the same function to a commissioner's rows after it has
suppressed them (`as_board=True`), so the rule has one home.

Median days to first contact is left out: a median of the services'
medians is not the cohort's median (services differ in size, and the
warehouse holds no figure per person to work out a real one), and each
service's median is on the performance dashboard already.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from etl.transform import labels
from monitor.disclosure.suppression import (
    CONFIDENTIAL,
    NOT_APPLICABLE,
    NOT_AVAILABLE,
    is_small,
    percentage_disclosive,
)
from monitor.kpis.library.definitions import REASONS_NOT_TAKEN

VIEWER = ["viewer", "viewer_kind", "viewer_name"]
PERIOD = ["period_key", "period_label", "financial_year", "period_sort"]

NOT_TAKEN = "not_taken"
WAITING = "waiting"
CHILDREN_WANTED = "children_wanted"
CHILDREN_RECEIVED = "children_received"
CHILDREN_SHARE = "children_share"
# measure -> (KPI it adds up, label, unit); listed in the order shown.
MEASURES: dict[str, tuple[str | None, str, str]] = {
    NOT_TAKEN: ("REF-NOT-TAKEN", "Referrals not taken", "count"),
    WAITING: ("WAITING-END", "People waiting at the quarter's end", "count"),
    CHILDREN_WANTED: ("CHILD-SUPPORT-WANTED", "Children whose support was asked for", "count"),
    CHILDREN_RECEIVED: ("CHILD-SUPPORT-RECEIVED", "Children who received support", "count"),
    CHILDREN_SHARE: (None, "Share of children who received support", "percentage"),
}
KPI_MEASURES = {kpi: measure for measure, (kpi, _, _) in MEASURES.items() if kpi is not None}
TOTAL_LABEL = "Total"

COLUMNS = [
    *VIEWER,
    "cohort",
    *PERIOD,
    "measure",
    "unit",
    "part",
    "part_sort",
    "value",
    "value_display",
    "services_reporting",
    "latest_quarter",
    "cohort_label",
    "measure_label",
    "measure_sort",
    "part_label",
]


def unmet_need(
    performance: pd.DataFrame, cohorts: pd.DataFrame, threshold: int, *, as_board: bool = False
) -> pd.DataFrame:
    """Cohort figures from `performance` (rows shaped like
    mart_board_performance, a board's already suppressed) and `cohorts`
    (contract_id, cohort). Rows of `viewer_kind` "board", or every row with
    `as_board`, get disclosure control; the others are summed as they are."""
    services = performance[
        performance["scope"].eq("service") & performance["kpi_code"].isin(list(KPI_MEASURES))
    ]
    if services.empty or cohorts.empty:
        return pd.DataFrame(columns=COLUMNS)
    services = services.assign(contract_id=pd.to_numeric(services["contract_id"]).astype("int64"))
    rows = services.merge(cohorts[["contract_id", "cohort"]].drop_duplicates(), on="contract_id")
    if rows.empty:
        return pd.DataFrame(columns=COLUMNS)
    hidden = rows["actual_display"].eq(CONFIDENTIAL)
    rows = rows.assign(
        measure=rows["kpi_code"].map(KPI_MEASURES),
        hidden=hidden,
        # A hidden figure was reported; a missing one ([x]) was not.
        reported=rows["actual"].notna() | hidden,
        board=rows["viewer_kind"].eq("board") | as_board,
    )
    keys = [*VIEWER, "cohort", *PERIOD, "measure", "breakdown"]
    sums = rows.groupby(keys, as_index=False, dropna=False, sort=False).agg(
        total=("actual", lambda s: s.sum(min_count=1)),
        services_reporting=("reported", "sum"),
        any_hidden=("hidden", "any"),
        board=("board", "any"),
    )
    sums = sums.rename(columns={"breakdown": "part"})
    value, display = _shown(sums, threshold)
    sums = sums.assign(value=value, value_display=display, unit="count")
    figures = pd.concat([sums, _not_shown(sums, threshold), _shares(sums, threshold)], ignore_index=True)
    return _labelled(figures)[COLUMNS]


def _shown(sums: pd.DataFrame, threshold: int) -> tuple[pd.Series, pd.Series]:
    """Each cohort count, or NaN with its marker: [c] when a service figure
    in it is hidden or it is a small count on a board's rows, [x] when no
    service reported it."""
    small = sums["board"].to_numpy(dtype=bool) & is_small(sums["total"], threshold)
    confidential = sums["any_hidden"].to_numpy(dtype=bool) | small
    missing = sums["services_reporting"].eq(0).to_numpy() | sums["total"].isna().to_numpy()
    value = sums["total"].where(~(confidential | missing))
    marker = np.where(confidential, CONFIDENTIAL, NOT_AVAILABLE)
    return value, labels.figures(value, "count", pd.Series(marker, index=sums.index))


def _not_shown(sums: pd.DataFrame, threshold: int) -> pd.DataFrame:
    """For a count broken down (referrals not taken by reason), a "Not shown"
    part: the total less its parts shown, so a stacked bar reaches the
    total. The reader can work it out already; on a board's rows it is
    hidden as [c] when it alone is a small count (labels.not_shown, as for
    mart_board_parts)."""
    keys = [*VIEWER, "cohort", *PERIOD, "measure"]
    totals = sums[sums["part"].eq("")]
    parts = sums[~sums["part"].eq("")]
    if parts.empty:
        return pd.DataFrame(columns=sums.columns)
    shown_parts = parts.groupby(keys, dropna=False, sort=False)["value"].sum().rename("shown_parts")
    broken = totals.merge(shown_parts.reset_index(), on=keys)
    rows = []
    for row in broken.to_dict("records"):
        rest = labels.not_shown(row["value"], row["shown_parts"], threshold, suppressed=bool(row["board"]))
        if rest is not None:
            rows.append(
                {**{k: row[k] for k in keys}, "part": labels.NOT_SHOWN, "value": rest[0]}
                | {"value_display": rest[1], "unit": "count", "services_reporting": row["services_reporting"]}
            )
    return pd.DataFrame(rows, columns=[*keys, "part", "value", "value_display", "unit", "services_reporting"])


def _shares(sums: pd.DataFrame, threshold: int) -> pd.DataFrame:
    """Children who received support as a share of those whose support was
    asked for. [c] when either count is hidden or the share would give a
    small count away (the percentage rule); [x] when either is missing or
    the two come from different numbers of services (the share would
    compare unlike things); [z] when no child's support was asked for."""
    keys = [*VIEWER, "cohort", *PERIOD]
    wanted = sums[sums["measure"].eq(CHILDREN_WANTED) & sums["part"].eq("")]
    received = sums[sums["measure"].eq(CHILDREN_RECEIVED) & sums["part"].eq("")]
    if wanted.empty and received.empty:
        return pd.DataFrame(columns=[*keys, "measure", "part", "value", "value_display", "unit"])
    columns = [*keys, "value", "value_display", "services_reporting", "board"]
    pairs = wanted[columns].merge(received[columns], on=keys, how="outer", suffixes=("_wanted", "_received"))
    numerator = pairs["value_received"].astype(float)
    denominator = pairs["value_wanted"].astype(float)
    # eq(True): a side with no row is NaN, and not a board's.
    board = pairs["board_wanted"].eq(True) | pairs["board_received"].eq(True)
    confidential = pairs["value_display_wanted"].eq(CONFIDENTIAL) | pairs["value_display_received"].eq(
        CONFIDENTIAL
    )
    percentage = pd.DataFrame(
        {"numerator": numerator, "denominator": denominator, "actual": numerator / denominator}
    )
    confidential |= board & percentage_disclosive(percentage, threshold)
    missing = (
        numerator.isna()
        | denominator.isna()
        | pairs["services_reporting_wanted"].ne(pairs["services_reporting_received"])
    )
    none_asked = denominator.eq(0)
    share = (numerator / denominator.where(denominator > 0) * 100).round(1)
    marker = np.where(confidential, CONFIDENTIAL, np.where(missing, NOT_AVAILABLE, NOT_APPLICABLE))
    value = share.where(~(confidential | missing | none_asked))
    return pairs[keys].assign(
        measure=CHILDREN_SHARE,
        part="",
        value=value,
        value_display=labels.figures(value, "percentage", pd.Series(marker, index=pairs.index)),
        unit="percentage",
        services_reporting=pairs["services_reporting_wanted"].fillna(0),
    )


def _part_sort(parts: pd.Series) -> pd.Series:
    """The total first, then the library's reasons in its order, any others
    by name, and "Not shown" last."""
    known = {reason: number for number, reason in enumerate(REASONS_NOT_TAKEN, start=1)}
    others = sorted(set(parts) - set(known) - {"", labels.NOT_SHOWN})
    known |= {name: len(REASONS_NOT_TAKEN) + number for number, name in enumerate(others, start=1)}
    known |= {"": 0, labels.NOT_SHOWN: len(known) + 1}
    return parts.map(known).astype(int)


def _labelled(frame: pd.DataFrame) -> pd.DataFrame:
    frame = frame.reset_index(drop=True)
    frame["services_reporting"] = frame["services_reporting"].fillna(0).astype(int)
    frame["period_sort"] = frame["period_sort"].astype(int)
    frame["part_sort"] = _part_sort(frame["part"])
    frame["cohort_label"] = labels.words(frame["cohort"])
    frame["measure_label"] = frame["measure"].map({m: label for m, (_, label, _) in MEASURES.items()})
    frame["measure_sort"] = frame["measure"].map({m: n for n, m in enumerate(MEASURES, start=1)})
    frame["part_label"] = labels.words(frame["part"], empty=TOTAL_LABEL)
    # Each viewer's latest quarter: what the provision dashboard's unmet
    # need charts show (a stock such as people waiting can't be added up
    # over quarters).
    latest = frame.groupby("viewer")["period_sort"].transform("max")
    frame["latest_quarter"] = frame["period_sort"].eq(latest)
    return frame.sort_values(["viewer", "period_sort", "cohort", "measure_sort", "part_sort"])
