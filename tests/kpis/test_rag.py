"""RAG rules, direction of travel and the Procurement Act mapping: pure
functions, no app or database."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from monitor.kpis.performance.rag import (
    ProcurementRating,
    Rag,
    Travel,
    direction_of_travel,
    procurement_rating,
    quarterly_target,
    rate,
    worst_rating,
)

HIGHER, LOWER = "higher is better", "lower is better"
D = Decimal

figures = st.decimals(min_value=0, max_value=100_000, places=2, allow_nan=False, allow_infinity=False)
tolerances = st.decimals(min_value=0, max_value=100, places=2, allow_nan=False, allow_infinity=False)
directions = st.sampled_from([HIGHER, LOWER])
ORDER = {Rag.RED: 0, Rag.AMBER: 1, Rag.GREEN: 2}


@pytest.mark.parametrize(
    ("actual", "target", "direction", "expected"),
    [
        (D(30), D(30), HIGHER, Rag.GREEN),  # at target is green
        (D(31), D(30), HIGHER, Rag.GREEN),
        (D(27), D(30), HIGHER, Rag.AMBER),  # exactly 10% short is still amber
        (D("26.99"), D(30), HIGHER, Rag.RED),
        (D(5), D(5), LOWER, Rag.GREEN),
        (D("5.5"), D(5), LOWER, Rag.AMBER),  # exactly 10% over
        (D("5.51"), D(5), LOWER, Rag.RED),
        (D(0), D(0), LOWER, Rag.GREEN),
        (D(1), D(0), LOWER, Rag.RED),  # no room for amber round a zero target
        (None, D(30), HIGHER, Rag.NONE),
        (D(30), None, HIGHER, Rag.NONE),
    ],
)
def test_rate_examples(actual: Decimal | None, target: Decimal | None, direction: str, expected: Rag) -> None:
    assert rate(actual, target, direction, D(10)) == expected


def test_tolerance_is_a_setting() -> None:
    assert rate(D(24), D(30), HIGHER, D(20)) == Rag.AMBER
    assert rate(D(24), D(30), HIGHER, D(10)) == Rag.RED
    assert rate(D(29), D(30), HIGHER, 0) == Rag.RED


def test_tags_say_the_rating_in_words() -> None:
    for rag in Rag:
        assert rag.text and rag.tag_class.startswith("govuk-tag--")
    assert Rag.RED.text == "Red: off target"


@given(figures, figures, figures, directions, tolerances)
def test_rating_is_monotonic_in_the_actual(
    first: Decimal, second: Decimal, target: Decimal, direction: str, tolerance: Decimal
) -> None:
    low, high = sorted((first, second))
    better, worse = (high, low) if direction == HIGHER else (low, high)
    assert (
        ORDER[rate(better, target, direction, tolerance)] >= ORDER[rate(worse, target, direction, tolerance)]
    )


@given(figures, figures, tolerances)
def test_directions_mirror_each_other(actual: Decimal, target: Decimal, tolerance: Decimal) -> None:
    """Lower-is-better about the target is higher-is-better reflected through it."""
    mirrored = 2 * target - actual
    assert rate(actual, target, LOWER, tolerance) == rate(mirrored, target, HIGHER, tolerance)


@given(figures, directions, tolerances)
def test_meeting_the_target_is_always_green(target: Decimal, direction: str, tolerance: Decimal) -> None:
    assert rate(target, target, direction, tolerance) == Rag.GREEN


@given(figures, figures, directions)
def test_wider_tolerance_never_makes_a_rating_worse(actual: Decimal, target: Decimal, direction: str) -> None:
    assert ORDER[rate(actual, target, direction, D(25))] >= ORDER[rate(actual, target, direction, D(10))]


def test_yearly_targets() -> None:
    assert quarterly_target(D(120), "year", "sum") == D(30)  # referrals add up over the year
    assert quarterly_target(D(90), "year", "mean") == D(90)  # a percentage averages
    assert quarterly_target(D(20), "year", "latest") == D(20)  # a caseload is a snapshot
    assert quarterly_target(D(30), "quarter", "sum") == D(30)
    assert quarterly_target(None, "year", "sum") is None
    assert rate(D(28), quarterly_target(D(120), "year", "sum"), HIGHER, D(10)) == Rag.AMBER


@pytest.mark.parametrize(
    ("current", "previous", "direction", "expected"),
    [
        (D(32), D(30), HIGHER, Travel.IMPROVING),
        (D(28), D(30), HIGHER, Travel.WORSENING),
        (D(4), D(6), LOWER, Travel.IMPROVING),
        (D(6), D(4), LOWER, Travel.WORSENING),
        (D(30), D(30), HIGHER, Travel.NO_CHANGE),
        (D(30), None, HIGHER, Travel.NO_PREVIOUS),
        (None, D(30), HIGHER, Travel.NO_PREVIOUS),
    ],
)
def test_direction_of_travel(current: Decimal, previous: Decimal, direction: str, expected: Travel) -> None:
    assert direction_of_travel(current, previous, direction) == expected


@given(figures, figures)
def test_travel_is_symmetric_in_direction(current: Decimal, previous: Decimal) -> None:
    up, down = direction_of_travel(current, previous, HIGHER), direction_of_travel(current, previous, LOWER)
    swapped = {Travel.IMPROVING: Travel.WORSENING, Travel.WORSENING: Travel.IMPROVING}
    assert down == swapped.get(up, up)


def test_procurement_act_mapping() -> None:
    assert procurement_rating(Rag.GREEN) == ProcurementRating.GOOD == "Good"
    assert procurement_rating(Rag.AMBER) == "Approaching target"
    assert procurement_rating(Rag.RED) == "Requires improvement"
    assert procurement_rating(Rag.NONE) == "Other"
    assert procurement_rating(Rag.RED, [Rag.RED]) == "Inadequate"
    assert procurement_rating(Rag.RED, [Rag.RED, Rag.RED]) == "Inadequate"
    # Only consecutive quarters count: a green in between resets it.
    assert procurement_rating(Rag.RED, [Rag.RED, Rag.GREEN]) == "Requires improvement"
    assert procurement_rating(Rag.RED, [Rag.RED, Rag.NONE]) == "Requires improvement"
    assert procurement_rating(Rag.GREEN, [Rag.RED, Rag.RED]) == "Good"


def test_a_contract_is_rated_by_its_worst_kpi() -> None:
    assert worst_rating([ProcurementRating.GOOD, ProcurementRating.APPROACHING]) == "Approaching target"
    assert worst_rating([ProcurementRating.OTHER, ProcurementRating.GOOD]) == "Good"
    assert (
        worst_rating([ProcurementRating.INADEQUATE, ProcurementRating.REQUIRES_IMPROVEMENT]) == "Inadequate"
    )
    assert worst_rating([]) == worst_rating([ProcurementRating.OTHER]) == "Other"
