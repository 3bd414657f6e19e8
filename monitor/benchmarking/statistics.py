"""Benchmarking statistics: intervals, funnel limits, quartiles and the label
"significantly better", "similar" or "significantly worse".

Areas (the local partnerships that commission services) are compared with
their comparison group the way Public Health England's Fingertips does it:
each area's figure with a confidence interval, set against the group's value,
and a label only where the interval supports one, with the method written
beside it.

The methods:

- A proportion (so many of so many) gets a Wilson score interval (Wilson
  1927). Unlike the textbook normal interval it stays inside 0 to 1 and
  behaves for small denominators and for proportions near 0% or 100%, which
  is what small services report. The comparator is the group's pooled
  proportion: all its successes over all its trials, so a large area weighs
  more than a small one, as it would if the group were one service.
- A count (so many events) gets Byar's approximation to the exact Poisson
  interval (Breslow and Day 1987; PHE's "Technical Guide: Confidence
  Intervals"), within about 2% of the exact interval from a count of 10. The
  comparator is the group's median.
- Funnel plots for proportions (Spiegelhalter 2005, "Funnel plots for
  comparing institutional performance") draw control limits around the
  group's proportion for every denominator, at 95% and 99.8% (about two and
  three standard errors). The limits here are the Wilson score interval of
  the group's proportion at that denominator, so an area outside them is
  exactly an area the comparison would label.
- Quartiles interpolate linearly between the ordered values (the
  "inclusive" method; numpy.percentile's default).

"Significantly" means only this: the area's interval, at the level stated,
does not include the group's value, so chance variation in the counts is an
unlikely explanation on its own. It is not a judgement of the service: areas
differ in need, in who is referred and in how they record, and among many
areas that are truly like their group about 1 in 20 will still be labelled
at 95% (about 1 in 500 at 99.8%).

An area is compared with a group that includes it, as in Fingertips; see
`compare_proportion`.

Pure: standard library only, no Flask, no database, no scipy (the tests
check these figures against scipy and statsmodels).
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import Enum, StrEnum

from monitor.formatting import format_figure, percent
from monitor.kpis.vocabulary import Direction, Unit

# Two-sided z values: the standard normal's quantile at 1 - alpha/2, that is
# scipy.stats.norm.ppf(0.975) for 95% (alpha 0.05) and norm.ppf(0.999) for
# 99.8% (alpha 0.002), to double precision. Written out so the module needs
# no scipy; tests/benchmarking checks them against scipy.
Z_95 = 1.959963984540054
Z_99_8 = 3.090232306167813


class ConfidenceLevel(Enum):
    """The two levels Fingertips uses: 95% (about two standard errors) and
    99.8% (about three), the inner and outer lines of a funnel plot."""

    NINETY_FIVE = "95%"
    NINETY_NINE_POINT_EIGHT = "99.8%"

    @property
    def z(self) -> float:
        """The two-sided standard normal value for this level."""
        return _TWO_SIDED_Z[self]

    @property
    def alpha(self) -> float:
        """The chance of an interval missing the true value: 0.05 or 0.002."""
        return _ALPHA[self]


_TWO_SIDED_Z = {ConfidenceLevel.NINETY_FIVE: Z_95, ConfidenceLevel.NINETY_NINE_POINT_EIGHT: Z_99_8}
_ALPHA = {ConfidenceLevel.NINETY_FIVE: 0.05, ConfidenceLevel.NINETY_NINE_POINT_EIGHT: 0.002}


@dataclass(frozen=True)
class Interval:
    """A confidence interval: a proportion's from 0 to 1, a count's in events."""

    lower: float
    upper: float

    def contains(self, value: float) -> bool:
        """True when `value` is inside, bounds included."""
        return self.lower <= value <= self.upper


@dataclass(frozen=True)
class Spread:
    """The middle of a group: its quartiles and median."""

    lower_quartile: float
    median: float
    upper_quartile: float


@dataclass(frozen=True)
class FunnelPoint:
    """One denominator's control limits, a point on each of a funnel plot's four lines."""

    trials: int
    lower_95: float
    upper_95: float
    lower_99_8: float
    upper_99_8: float


class Position(StrEnum):
    """Where an area's interval lies against the comparator, whatever is better."""

    HIGHER = "higher"
    LOWER = "lower"
    SIMILAR = "similar"


class Significance(StrEnum):
    """The label written beside an area's figure."""

    BETTER = "significantly better"
    WORSE = "significantly worse"
    # For figures where neither way is better.
    HIGHER = "significantly higher"
    LOWER = "significantly lower"
    SIMILAR = "similar"
    NOT_COMPARED = "not compared"


@dataclass(frozen=True)
class Comparison:
    """An area's figure against its group: the label, how it was reached
    (`method`) or why there is none (`reason`)."""

    label: Significance
    method: str = ""
    reason: str = ""
    position: Position | None = None
    interval: Interval | None = None
    comparator: float | None = None

    @property
    def note(self) -> str:
        """What is written beside the label: the method, or why there is no comparison."""
        return self.method or self.reason

    @property
    def is_significant(self) -> bool:
        return self.position in (Position.HIGHER, Position.LOWER)


def _check_finite(value: float, name: str) -> None:
    if not math.isfinite(value):
        raise ValueError(f"{name}, {value!r}, is not a number: give a finite figure.")


def _check_proportion(successes: float, trials: float) -> None:
    _check_finite(successes, "The successes")
    _check_finite(trials, "The trials")
    if trials < 0:
        raise ValueError(
            f"The trials, {trials!r}, are below 0: give the number of cases the proportion is out of, 0 or more."
        )
    if successes < 0:
        raise ValueError(
            f"The successes, {successes!r}, are below 0: give the number of cases that count, 0 or more."
        )
    if successes > trials:
        raise ValueError(
            f"The successes, {successes!r}, are more than the trials, {trials!r}: the successes are "
            f"counted among the trials, so give at most {trials!r}."
        )


def _check_count(count: float, name: str = "The count") -> None:
    _check_finite(count, name)
    if count < 0:
        raise ValueError(f"{name}, {count!r}, is below 0: give a number of events, 0 or more.")


def wilson_interval(successes: float, trials: int, level: ConfidenceLevel) -> Interval | None:
    """The Wilson score interval of successes/trials, from 0 to 1; None when
    there are no trials (a proportion of nothing says nothing).

    `successes` may be fractional: the funnel limits ask for the interval of
    the group's proportion at any denominator.
    """
    _check_proportion(successes, trials)
    if trials == 0:
        return None
    p = successes / trials
    z = level.z
    z_squared_over_n = z * z / trials
    scale = 1 + z_squared_over_n
    centre = (p + z_squared_over_n / 2) / scale
    half_width = z * math.sqrt(p * (1 - p) / trials + z_squared_over_n / (4 * trials)) / scale
    # At 0 successes (or all) the lower (or upper) bound is 0 (or 1) in exact
    # arithmetic; floating point can land a hair either side, so pin them.
    lower = 0.0 if successes == 0 else max(0.0, centre - half_width)
    upper = 1.0 if successes == trials else min(1.0, centre + half_width)
    return Interval(lower, upper)


def byar_interval(count: float, level: ConfidenceLevel) -> Interval:
    """Byar's approximation to the exact Poisson interval of an observed count."""
    _check_count(count)
    z = level.z
    lower = 0.0
    if count > 0:
        # Below a count of about 1 the cube's base turns negative; a count cannot.
        lower = max(0.0, count * (1 - 1 / (9 * count) - z / (3 * math.sqrt(count))) ** 3)
    next_count = count + 1
    upper = next_count * (1 - 1 / (9 * next_count) + z / (3 * math.sqrt(next_count))) ** 3
    return Interval(lower, upper)


def _check_group_proportion(group_proportion: float) -> None:
    _check_finite(group_proportion, "The group's proportion")
    if not 0 <= group_proportion <= 1:
        raise ValueError(
            f"The group's proportion, {group_proportion!r}, is outside 0 to 1: give it as a fraction, "
            "like 0.625 for 62.5%."
        )


def funnel_limits(group_proportion: float, trials: int, level: ConfidenceLevel) -> Interval | None:
    """A funnel plot's control limits at denominator `trials`: where an area of
    that size would fall, at `level`, if it were just like its group. None
    when `trials` is 0."""
    _check_group_proportion(group_proportion)
    return wilson_interval(group_proportion * trials, trials, level)


def funnel_denominators(largest_trials: int, points: int = 50) -> list[int]:
    """Whole denominators from 1 to `largest_trials` (both included), spaced
    geometrically: the funnel bends most at small denominators, so that is
    where a chart needs its points. At most `points` of them."""
    if largest_trials < 0:
        raise ValueError(
            f"The largest denominator, {largest_trials!r}, is below 0: give the largest area's trials."
        )
    if points < 2:
        raise ValueError(f"A funnel needs at least 2 points to draw a line, not {points!r}.")
    if largest_trials == 0:
        return []
    steps = points - 1
    spread = {round(largest_trials ** (step / steps)) for step in range(points)}
    return sorted(spread | {1, largest_trials})


def funnel_lines(group_proportion: float, largest_trials: int, points: int = 50) -> list[FunnelPoint]:
    """The points of a funnel plot's four lines (95% and 99.8%, lower and
    upper) for denominators from 1 to `largest_trials`; none when it is 0."""
    _check_group_proportion(group_proportion)
    lines = []
    for trials in funnel_denominators(largest_trials, points):
        inner = wilson_interval(group_proportion * trials, trials, ConfidenceLevel.NINETY_FIVE)
        outer = wilson_interval(group_proportion * trials, trials, ConfidenceLevel.NINETY_NINE_POINT_EIGHT)
        assert inner is not None and outer is not None  # trials is at least 1
        lines.append(FunnelPoint(trials, inner.lower, inner.upper, outer.lower, outer.upper))
    return lines


def pooled_proportion(pairs: Iterable[tuple[float, int]]) -> float | None:
    """The group's proportion from its (successes, trials) pairs: all the
    successes over all the trials; None when there are no trials."""
    total_successes = 0.0
    total_trials = 0
    for successes, trials in pairs:
        _check_proportion(successes, trials)
        total_successes += successes
        total_trials += trials
    if total_trials == 0:
        return None
    return total_successes / total_trials


def quartiles(values: Iterable[float]) -> Spread | None:
    """Lower quartile, median and upper quartile, interpolating linearly
    between the ordered values; all three the value itself for one value;
    None for none."""
    figures = list(values)
    for figure in figures:
        _check_finite(figure, "A value")
    if not figures:
        return None
    if len(figures) == 1:
        # statistics.quantiles wants two values (before Python 3.13); one value is its own spread.
        only = float(figures[0])
        return Spread(only, only, only)
    lower, median, upper = statistics.quantiles(figures, n=4, method="inclusive")
    return Spread(lower, median, upper)


def _polarity(direction: Direction | str | None) -> Direction | None:
    if direction is None or isinstance(direction, Direction):
        return direction
    try:
        return Direction(direction)
    except ValueError:
        raise ValueError(
            f"The direction {direction!r} is not one the platform knows: use "
            f"{Direction.HIGHER.value!r}, {Direction.LOWER.value!r} or None where neither way is better."
        ) from None


_LABELS = {
    (Position.HIGHER, Direction.HIGHER): Significance.BETTER,
    (Position.HIGHER, Direction.LOWER): Significance.WORSE,
    (Position.HIGHER, None): Significance.HIGHER,
    (Position.LOWER, Direction.HIGHER): Significance.WORSE,
    (Position.LOWER, Direction.LOWER): Significance.BETTER,
    (Position.LOWER, None): Significance.LOWER,
}


def not_compared(reason: str) -> Comparison:
    """No label, and why: the reason is written where the method would be."""
    return Comparison(Significance.NOT_COMPARED, reason=reason)


def compare(
    interval: Interval | None,
    comparator: float | None,
    direction: Direction | str | None,
    *,
    method: str,
) -> Comparison:
    """Label an area's interval against its group's value.

    Wholly above the comparator is higher, wholly below is lower, anything
    else (a bound exactly on it included) is similar. `direction` says which
    way is better ("higher is better", "lower is better"); with None the
    labels say higher or lower, not better or worse. `method` is the
    sentence written beside the label, saying what was compared and how.
    """
    polarity = _polarity(direction)
    if interval is None:
        return not_compared("There is no interval for this figure, so it is not compared.")
    if comparator is None:
        return not_compared("The group has no figure to compare with.")
    _check_finite(comparator, "The comparator")
    if interval.lower > comparator:
        position = Position.HIGHER
    elif interval.upper < comparator:
        position = Position.LOWER
    else:
        return Comparison(Significance.SIMILAR, method, "", Position.SIMILAR, interval, comparator)
    return Comparison(_LABELS[position, polarity], method, "", position, interval, comparator)


def compare_proportion(
    successes: float,
    trials: int,
    group_pairs: Sequence[tuple[float, int]],
    direction: Direction | str | None,
    level: ConfidenceLevel = ConfidenceLevel.NINETY_FIVE,
) -> Comparison:
    """One area's proportion against its group's pooled proportion, by the
    area's Wilson score interval.

    `group_pairs` is the whole comparison group, (successes, trials) for
    every area, this area included, as Fingertips does it: every area is
    then judged against the same value, the one line a chart draws (the
    funnel's centre), which would not be so if each area were left out of
    its own comparator. A group without this area's pair is refused, since
    it is the likely mistake.
    """
    interval = wilson_interval(successes, trials, level)
    pairs = list(group_pairs)
    group_proportion = pooled_proportion(pairs)
    if (successes, trials) not in pairs:
        raise ValueError(
            f"The group does not include this area's figure, {successes!r} of {trials!r}: pass the "
            "whole comparison group, this area included."
        )
    if interval is None:
        return not_compared("This area's proportion is out of 0, so there is nothing to compare.")
    if len(pairs) < 2:
        return not_compared("The group has only this area in it, so there is nothing to compare it with.")
    assert group_proportion is not None  # the group holds this area's trials, more than 0
    method = (
        f"Compared with the group's proportion, {percent(group_proportion * 100)}, "
        f"using a {level.value} Wilson score interval"
    )
    return compare(interval, group_proportion, direction, method=method)


def median_text(median: float) -> str:
    # The median of an even number of counts can fall halfway between two;
    # it is written to one place then, so the text shows the value compared.
    unit = Unit.COUNT if float(median).is_integer() else Unit.SCORE
    return format_figure(median, unit.value)


def compare_count(
    count: float,
    group_counts: Sequence[float],
    direction: Direction | str | None,
    level: ConfidenceLevel = ConfidenceLevel.NINETY_FIVE,
) -> Comparison:
    """One area's count against its group's median, by the count's Byar
    interval. `group_counts` is the whole group, this area included, for the
    reason `compare_proportion` gives."""
    interval = byar_interval(count, level)
    counts = list(group_counts)
    for other in counts:
        _check_count(other, "A count in the group")
    if count not in counts:
        raise ValueError(
            f"The group does not include this area's count, {count!r}: pass the whole comparison group, "
            "this area included."
        )
    if len(counts) < 2:
        return not_compared("The group has only this area in it, so there is nothing to compare it with.")
    median = statistics.median(counts)
    method = f"Compared with the group's median, {median_text(median)}, using a {level.value} Byar's interval"
    return compare(interval, median, direction, method=method)
