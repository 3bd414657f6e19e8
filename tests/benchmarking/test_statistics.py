"""The benchmarking statistics: worked by hand, and checked against scipy,
statsmodels and numpy on small tables."""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy
import pytest
from scipy.stats import chi2, norm
from statsmodels.stats.proportion import proportion_confint

from monitor.benchmarking.statistics import (
    ConfidenceLevel,
    FunnelPoint,
    Interval,
    Position,
    Significance,
    Spread,
    byar_interval,
    compare,
    compare_count,
    compare_proportion,
    funnel_denominators,
    funnel_limits,
    funnel_lines,
    pooled_proportion,
    quartiles,
    wilson_interval,
)
from monitor.kpis.vocabulary import Direction

NINETY_FIVE = ConfidenceLevel.NINETY_FIVE
NINETY_NINE_POINT_EIGHT = ConfidenceLevel.NINETY_NINE_POINT_EIGHT
LEVELS = [NINETY_FIVE, NINETY_NINE_POINT_EIGHT]


def wilson(successes: float, trials: int, level: ConfidenceLevel = NINETY_FIVE) -> Interval:
    interval = wilson_interval(successes, trials, level)
    assert interval is not None
    return interval


# Confidence levels


def test_z_values_are_the_normal_quantiles_scipy_gives() -> None:
    assert NINETY_FIVE.z == pytest.approx(norm.ppf(1 - 0.05 / 2), abs=1e-15)
    assert NINETY_NINE_POINT_EIGHT.z == pytest.approx(norm.ppf(1 - 0.002 / 2), abs=1e-15)
    for level in LEVELS:
        assert level.z == pytest.approx(norm.isf(level.alpha / 2), abs=1e-14)


def test_levels_are_written_as_fingertips_writes_them() -> None:
    assert [level.value for level in LEVELS] == ["95%", "99.8%"]
    assert [level.alpha for level in LEVELS] == [0.05, 0.002]


# Wilson score interval, by hand


def test_wilson_eight_of_ten_at_95_percent() -> None:
    # p = 0.8, z² = 3.8415, z²/n = 0.38415: centre 0.99207 / 1.38415 = 0.71674,
    # half-width 1.96 × √(0.016 + 0.0096036) / 1.38415 = 0.22658.
    interval = wilson(8, 10)
    assert interval.lower == pytest.approx(0.4902, abs=5e-5)
    assert interval.upper == pytest.approx(0.9433, abs=5e-5)


def test_wilson_none_of_twenty_starts_at_exactly_zero() -> None:
    interval = wilson(0, 20)
    assert interval.lower == 0.0
    # z² / (n + z²) = 3.8415 / 23.8415
    assert interval.upper == pytest.approx(3.841458820694124 / 23.841458820694124, abs=1e-12)


def test_wilson_all_of_twenty_ends_at_exactly_one() -> None:
    interval = wilson(20, 20)
    assert interval.upper == 1.0
    assert interval.lower == pytest.approx(20 / 23.841458820694124, abs=1e-12)
    assert 0 < interval.lower < 1


def test_wilson_stays_inside_zero_to_one_and_off_the_ends_when_not_at_them() -> None:
    for trials in range(1, 60):
        for successes in range(trials + 1):
            for level in LEVELS:
                interval = wilson(successes, trials, level)
                assert 0 <= interval.lower <= successes / trials <= interval.upper <= 1
                assert (interval.lower == 0) == (successes == 0)
                assert (interval.upper == 1) == (successes == trials)


def test_wilson_has_nothing_to_say_about_no_trials() -> None:
    assert wilson_interval(0, 0, NINETY_FIVE) is None


def test_the_wider_level_gives_the_wider_interval() -> None:
    inner, outer = wilson(30, 80, NINETY_FIVE), wilson(30, 80, NINETY_NINE_POINT_EIGHT)
    assert outer.lower < inner.lower < inner.upper < outer.upper


# Wilson score interval, against statsmodels

STATSMODELS_TABLE = [
    (successes, trials)
    for trials in (1, 2, 3, 5, 7, 10, 13, 20, 50, 99, 100, 250, 1000, 12345)
    for successes in sorted({0, 1, trials // 3, trials // 2, trials - 1, trials})
    if successes >= 0
]


@pytest.mark.parametrize("level", LEVELS, ids=lambda level: level.value)
def test_wilson_matches_statsmodels(level: ConfidenceLevel) -> None:
    for successes, trials in STATSMODELS_TABLE:
        expected_lower, expected_upper = proportion_confint(successes, trials, level.alpha, method="wilson")
        interval = wilson(successes, trials, level)
        assert interval.lower == pytest.approx(expected_lower, abs=1e-9), (successes, trials)
        assert interval.upper == pytest.approx(expected_upper, abs=1e-9), (successes, trials)


@pytest.mark.parametrize("level", LEVELS, ids=lambda level: level.value)
def test_wilson_with_fractional_successes_matches_statsmodels(level: ConfidenceLevel) -> None:
    # The funnel limits ask for the group's proportion at any denominator: p0 × n need not be whole.
    for group_proportion in (0.0, 0.037, 0.25, 0.5, 0.625, 0.91, 1.0):
        for trials in (1, 3, 7, 40, 333, 5000):
            successes = group_proportion * trials
            expected_lower, expected_upper = proportion_confint(
                successes, trials, level.alpha, method="wilson"
            )
            limits = funnel_limits(group_proportion, trials, level)
            assert limits == wilson(successes, trials, level)
            assert limits.lower == pytest.approx(expected_lower, abs=1e-9), (group_proportion, trials)
            assert limits.upper == pytest.approx(expected_upper, abs=1e-9), (group_proportion, trials)


# Byar's interval


def exact_poisson(count: int, level: ConfidenceLevel) -> tuple[float, float]:
    lower = 0.0 if count == 0 else chi2.ppf(level.alpha / 2, 2 * count) / 2
    return lower, chi2.ppf(1 - level.alpha / 2, 2 * count + 2) / 2


def test_byar_ten_at_95_percent() -> None:
    # lower = 10 × (1 − 1/90 − 1.96/(3√10))³ = 10 × 0.78229³ = 4.787
    # upper = 11 × (1 − 1/99 + 1.96/(3√11))³ = 11 × 1.18688³ = 18.39
    # (The exact Poisson interval is 4.795 to 18.39: Byar's lower is 0.2% under.)
    interval = byar_interval(10, NINETY_FIVE)
    assert interval.lower == pytest.approx(4.787, abs=5e-4)
    assert interval.upper == pytest.approx(18.39, abs=5e-3)


def test_byar_zero_starts_at_zero() -> None:
    interval = byar_interval(0, NINETY_FIVE)
    assert interval.lower == 0.0
    # upper = 1 × (1 − 1/9 + 1.96/3)³
    assert interval.upper == pytest.approx((1 - 1 / 9 + NINETY_FIVE.z / 3) ** 3, abs=1e-12)
    # 3.668, 0.6% under the exact upper limit for 0, 3.689.
    assert interval.upper == pytest.approx(exact_poisson(0, NINETY_FIVE)[1], rel=0.01)


@pytest.mark.parametrize("level", LEVELS, ids=lambda level: level.value)
def test_byar_is_within_two_percent_of_the_exact_poisson_interval_from_ten(level: ConfidenceLevel) -> None:
    for count in [*range(10, 200), 250, 500, 1000, 5000, 100000]:
        exact_lower, exact_upper = exact_poisson(count, level)
        interval = byar_interval(count, level)
        assert interval.lower == pytest.approx(exact_lower, rel=0.02), count
        assert interval.upper == pytest.approx(exact_upper, rel=0.02), count


@pytest.mark.parametrize("level", LEVELS, ids=lambda level: level.value)
def test_byar_always_contains_the_count(level: ConfidenceLevel) -> None:
    for count in [*range(0, 2000), 0.5, 1.5, 10**6]:
        interval = byar_interval(count, level)
        assert 0 <= interval.lower < count < interval.upper or (count == 0 == interval.lower)


# Funnel plots


def test_funnel_limits_at_a_hundred_around_a_half() -> None:
    # Symmetric at p0 = 0.5: centre 0.5, half-width z × √(0.0025 + z²/40000) / (1 + z²/100).
    inner = funnel_limits(0.5, 100, NINETY_FIVE)
    outer = funnel_limits(0.5, 100, NINETY_NINE_POINT_EIGHT)
    assert inner is not None and outer is not None
    assert (inner.lower, inner.upper) == pytest.approx((0.40383, 0.59617), abs=5e-6)
    assert (outer.lower, outer.upper) == pytest.approx((0.35238, 0.64762), abs=5e-6)
    assert inner.lower + inner.upper == pytest.approx(1.0, abs=1e-15)


def test_funnel_limits_need_a_denominator() -> None:
    assert funnel_limits(0.5, 0, NINETY_FIVE) is None


def test_funnel_denominators_run_from_one_to_the_largest_without_repeats() -> None:
    denominators = funnel_denominators(1234, points=40)
    assert denominators[0] == 1
    assert denominators[-1] == 1234
    assert denominators == sorted(set(denominators))
    assert len(denominators) <= 40
    assert funnel_denominators(1) == [1]
    assert funnel_denominators(6) == [1, 2, 3, 4, 5, 6]
    assert funnel_denominators(0) == []


def test_funnel_lines_hold_both_levels_at_each_denominator() -> None:
    lines = funnel_lines(0.3, 500, points=20)
    assert [point.trials for point in lines] == funnel_denominators(500, points=20)
    assert lines[-1] == FunnelPoint(
        500,
        wilson(150, 500, NINETY_FIVE).lower,
        wilson(150, 500, NINETY_FIVE).upper,
        wilson(150, 500, NINETY_NINE_POINT_EIGHT).lower,
        wilson(150, 500, NINETY_NINE_POINT_EIGHT).upper,
    )
    for point in lines:
        assert point.lower_99_8 < point.lower_95 < 0.3 < point.upper_95 < point.upper_99_8
    # The funnel narrows as the denominator grows.
    widths = [point.upper_95 - point.lower_95 for point in lines]
    assert widths == sorted(widths, reverse=True)


# Pooled proportion and quartiles


def test_pooled_proportion_weighs_areas_by_their_size() -> None:
    assert pooled_proportion([(1, 2), (9, 18)]) == 0.5
    assert pooled_proportion([(2, 4), (60, 96)]) == 0.62
    assert pooled_proportion([]) is None
    assert pooled_proportion([(0, 0), (0, 0)]) is None


@pytest.mark.parametrize(
    "values",
    [
        [7],
        [3, 8],
        [1, 2, 3],
        [5, 1, 4, 2],
        [10, 20, 30, 40, 50],
        [2.5, 9, 9, 14, 3.25, 0, 21],
        list(range(37)),
    ],
    ids=lambda values: f"{len(values)} values",
)
def test_quartiles_match_numpy_percentile(values: list[float]) -> None:
    spread = quartiles(values)
    assert spread is not None
    expected = numpy.percentile(values, [25, 50, 75])
    assert (spread.lower_quartile, spread.median, spread.upper_quartile) == pytest.approx(
        list(expected), abs=1e-12
    )


def test_quartiles_of_one_and_of_none() -> None:
    assert quartiles([14]) == Spread(14.0, 14.0, 14.0)
    assert quartiles([]) is None
    assert quartiles([3, 8]) == Spread(4.25, 5.5, 6.75)


# Comparing one interval with the group's value


def test_an_interval_wholly_above_is_higher_and_wholly_below_is_lower() -> None:
    above = compare(Interval(0.6, 0.8), 0.5, None, method="How")
    below = compare(Interval(0.2, 0.4), 0.5, None, method="How")
    assert (above.label, above.position) == (Significance.HIGHER, Position.HIGHER)
    assert (below.label, below.position) == (Significance.LOWER, Position.LOWER)
    assert above.is_significant and below.is_significant
    assert above.note == "How"
    assert (above.interval, above.comparator) == (Interval(0.6, 0.8), 0.5)


def test_an_interval_touching_or_spanning_the_comparator_is_similar() -> None:
    for interval in (Interval(0.5, 0.8), Interval(0.2, 0.5), Interval(0.4, 0.6)):
        comparison = compare(interval, 0.5, Direction.HIGHER, method="How")
        assert comparison.label == Significance.SIMILAR
        assert comparison.position == Position.SIMILAR
        assert not comparison.is_significant


@pytest.mark.parametrize(
    ("direction", "above", "below"),
    [
        (Direction.HIGHER, Significance.BETTER, Significance.WORSE),
        ("higher is better", Significance.BETTER, Significance.WORSE),
        (Direction.LOWER, Significance.WORSE, Significance.BETTER),
        ("lower is better", Significance.WORSE, Significance.BETTER),
        (None, Significance.HIGHER, Significance.LOWER),
    ],
)
def test_polarity_turns_higher_and_lower_into_better_and_worse(
    direction: Direction | str | None, above: Significance, below: Significance
) -> None:
    assert compare(Interval(11, 20), 10, direction, method="How").label == above
    assert compare(Interval(1, 9), 10, direction, method="How").label == below


def test_no_interval_or_no_comparator_is_not_compared_and_says_why() -> None:
    no_interval = compare(None, 0.5, Direction.HIGHER, method="How")
    assert no_interval.label == Significance.NOT_COMPARED
    assert no_interval.note == "There is no interval for this figure, so it is not compared."
    assert no_interval.position is None
    no_group = compare(Interval(0.2, 0.4), None, Direction.HIGHER, method="How")
    assert no_group.label == Significance.NOT_COMPARED
    assert no_group.note == "The group has no figure to compare with."


def test_labels_read_as_fingertips_writes_them() -> None:
    assert [label.value for label in Significance] == [
        "significantly better",
        "significantly worse",
        "significantly higher",
        "significantly lower",
        "similar",
        "not compared",
    ]


# One area against its group

# Four areas' outcomes achieved out of cases closed: 50 of 80 pooled is 62.5%.
GROUP_PAIRS = [(45, 50), (3, 10), (2, 10), (0, 10)]


def test_compare_proportion_against_the_pooled_proportion() -> None:
    comparison = compare_proportion(45, 50, GROUP_PAIRS, Direction.HIGHER)
    assert comparison.label == Significance.BETTER
    assert (
        comparison.method == "Compared with the group's proportion, 62.5%, using a 95% Wilson score interval"
    )
    assert comparison.comparator == 0.625
    assert comparison.interval == wilson(45, 50)

    assert compare_proportion(0, 10, GROUP_PAIRS, Direction.HIGHER).label == Significance.WORSE
    assert compare_proportion(0, 10, GROUP_PAIRS, Direction.LOWER).label == Significance.BETTER
    # 3 of 10: its 95% interval, 10.8% to 60.3%, stops short of 62.5%; its 99.8% one, to 73.3%, does not.
    assert compare_proportion(3, 10, GROUP_PAIRS, Direction.HIGHER).label == Significance.WORSE
    wide = compare_proportion(3, 10, GROUP_PAIRS, Direction.HIGHER, NINETY_NINE_POINT_EIGHT)
    assert wide.label == Significance.SIMILAR
    assert wide.method == "Compared with the group's proportion, 62.5%, using a 99.8% Wilson score interval"


def test_compare_proportion_with_nothing_to_compare() -> None:
    empty = compare_proportion(0, 0, [*GROUP_PAIRS, (0, 0)], Direction.HIGHER)
    assert empty.label == Significance.NOT_COMPARED
    assert empty.note == "This area's proportion is out of 0, so there is nothing to compare."
    alone = compare_proportion(3, 10, [(3, 10)], None)
    assert alone.label == Significance.NOT_COMPARED
    assert alone.note == "The group has only this area in it, so there is nothing to compare it with."


def test_compare_proportion_wants_the_area_in_its_group() -> None:
    with pytest.raises(ValueError, match=r"^The group does not include this area's figure, 7 of 10: pass"):
        compare_proportion(7, 10, GROUP_PAIRS, Direction.HIGHER)


# Seven areas' referrals in a quarter: the median is 14.
GROUP_COUNTS = [3, 9, 12, 14, 15, 22, 41]


def test_compare_count_against_the_group_median() -> None:
    high = compare_count(41, GROUP_COUNTS, Direction.HIGHER)
    assert high.label == Significance.BETTER
    assert high.method == "Compared with the group's median, 14, using a 95% Byar's interval"
    assert high.comparator == 14
    assert high.interval == byar_interval(41, NINETY_FIVE)
    low = compare_count(3, GROUP_COUNTS, None)
    assert low.label == Significance.LOWER
    # 22's interval (13.8 to 33.3) includes 14.
    assert compare_count(22, GROUP_COUNTS, Direction.LOWER).label == Significance.SIMILAR
    assert compare_count(41, GROUP_COUNTS, Direction.LOWER, NINETY_NINE_POINT_EIGHT).method == (
        "Compared with the group's median, 14, using a 99.8% Byar's interval"
    )


def test_compare_count_writes_a_halfway_median_as_it_is() -> None:
    comparison = compare_count(40, [12, 15, 40, 2], Direction.HIGHER)
    assert comparison.comparator == 13.5
    assert comparison.method == "Compared with the group's median, 13.5, using a 95% Byar's interval"
    assert comparison.label == Significance.BETTER


def test_compare_count_alone_and_missing_from_its_group() -> None:
    assert compare_count(5, [5], None).label == Significance.NOT_COMPARED
    with pytest.raises(ValueError, match=r"^The group does not include this area's count, 6: pass"):
        compare_count(6, GROUP_COUNTS, None)


# Bad input


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: wilson_interval(-1, 10, NINETY_FIVE), r"^The successes, -1, are below 0: "),
        (lambda: wilson_interval(1, -10, NINETY_FIVE), r"^The trials, -10, are below 0: "),
        (
            lambda: wilson_interval(12, 10, NINETY_FIVE),
            r"^The successes, 12, are more than the trials, 10: .* so give at most 10\.$",
        ),
        (lambda: wilson_interval(math.nan, 10, NINETY_FIVE), r"^The successes, nan, is not a number"),
        (lambda: byar_interval(-2, NINETY_FIVE), r"^The count, -2, is below 0: give a number of events"),
        (lambda: funnel_limits(1.2, 10, NINETY_FIVE), r"^The group's proportion, 1.2, is outside 0 to 1: "),
        (lambda: funnel_lines(-0.1, 10), r"^The group's proportion, -0.1, is outside 0 to 1: "),
        (lambda: funnel_denominators(-5), r"^The largest denominator, -5, is below 0"),
        (lambda: funnel_denominators(10, points=1), r"^A funnel needs at least 2 points"),
        (lambda: pooled_proportion([(3, 10), (11, 10)]), r"^The successes, 11, are more than the trials, 10"),
        (lambda: quartiles([1, math.inf]), r"^A value, inf, is not a number"),
        (
            lambda: compare(Interval(1, 2), 1.5, "up is good", method="How"),
            r"^The direction 'up is good' is not one the platform knows: use 'higher is better'",
        ),
        (lambda: compare_count(3, [3, -1], None), r"^A count in the group, -1, is below 0"),
        (lambda: compare_proportion(3, 10, [(3, 10), (-1, 4)], None), r"^The successes, -1, are below 0"),
    ],
)
def test_bad_input_is_refused_with_a_message_that_names_the_figure(
    call: Callable[[], object], message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        call()
