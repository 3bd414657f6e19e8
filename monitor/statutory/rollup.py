"""A year's figure from a contract's quarterly figures, by the KPI's rollup.

The one home of this rule for the statutory return: "sum" adds the quarters
(people supported, referrals), "latest" takes the latest quarter reported
(bedspaces in place at the year's end), "mean" averages the quarters
reported. Only quarters whose figures were accepted are passed in, so a
quarter not yet accepted never counts, and no quarters at all gives None,
never zero.

Pure: no Flask, no database.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal

from monitor.kpis.vocabulary import Rollup


def year_figure(rollup: str, quarter_values: Mapping[int, Decimal]) -> Decimal | None:
    """The year's figure from {quarter number (1 to 4): accepted value}.

    None when no quarter has an accepted value. A "sum" over fewer than four
    quarters is the sum of those reported: the caller flags the quarters
    missing, so the figure is never passed off as the whole year's."""
    if not quarter_values:
        return None
    if rollup == Rollup.SUM:
        return sum(quarter_values.values(), Decimal(0))
    if rollup == Rollup.LATEST:
        return quarter_values[max(quarter_values)]
    if rollup == Rollup.MEAN:
        return sum(quarter_values.values(), Decimal(0)) / len(quarter_values)
    raise ValueError(f"the rollup '{rollup}' is not one of sum, latest or mean; fix the KPI's rollup")
