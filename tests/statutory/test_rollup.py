"""A year's figure from a contract's accepted quarters, by the KPI's rollup."""

from __future__ import annotations

from decimal import Decimal

import pytest

from monitor.statutory.rollup import year_figure


def test_sum_adds_the_accepted_quarters() -> None:
    assert year_figure("sum", {1: Decimal(10), 2: Decimal(12), 4: Decimal(5)}) == Decimal(27)


def test_latest_takes_the_latest_accepted_quarter_not_the_last_given() -> None:
    # Given out of order: the latest quarter is 3, whatever the mapping's order.
    assert year_figure("latest", {3: Decimal(18), 1: Decimal(20), 2: Decimal(19)}) == Decimal(18)


def test_mean_averages_only_the_quarters_given() -> None:
    assert year_figure("mean", {1: Decimal(80), 2: Decimal(90)}) == Decimal(85)


@pytest.mark.parametrize("rollup", ["sum", "latest", "mean"])
def test_no_accepted_quarter_is_no_figure_never_zero(rollup: str) -> None:
    assert year_figure(rollup, {}) is None


def test_a_zero_quarter_is_a_figure() -> None:
    assert year_figure("sum", {1: Decimal(0)}) == Decimal(0)


def test_an_unknown_rollup_says_what_to_fix() -> None:
    with pytest.raises(ValueError, match="'median' is not one of sum, latest or mean"):
        year_figure("median", {1: Decimal(1)})
