"""Outcome measures: paired pre and post scores summarised per measure.

Pure calculations: no Flask, no database. Give `summarise_outcomes` the rows a
provider submitted (anything with `measure`, `informant`, `pre_score` and
`post_score` attributes, such as `OutcomeIn` or `OutcomeScore`) and the
settings, and it returns one `MeasureSummary` per measure found.

Rules (DESIGN.md section 4, "Outcome measures"):

- Only paired cases count: rows with both a pre and a post score.
- SWEMWBS raw scores (7-35) are converted to metric scores with the published
  table *before* any arithmetic; every SWEMWBS figure here is a metric score.
- Improvement: SDQ total difficulties fell by at least the reliable change
  threshold; WEMWBS rose by at least the meaningful change threshold; SWEMWBS
  (metric) rose by at least its meaningful change threshold.
- Bands: SDQ uses the four-band categories, whose cut-offs depend on who
  completed the questionnaire (parent, teacher or self). WEMWBS and SWEMWBS
  use a single "low wellbeing" band; the cut-offs are settings because local
  practice varies. "Left a raised band" counts cases that started in a raised
  band (SDQ: slightly raised or above; WEMWBS/SWEMWBS: low wellbeing) and
  ended outside every raised band (SDQ: close to average).
- Fewer paired cases than OUTCOME_SMALL_SAMPLE carry a small sample flag.

Means, changes and percentages are Decimals rounded half up to 1 decimal
place; percentages are None when their denominator is 0, means None when there
are no paired cases. `mean_change` is post minus pre (so an SDQ improvement is
negative), worked out from the unrounded means.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from itertools import pairwise
from types import MappingProxyType
from typing import Any, Protocol

SDQ = "SDQ"
WEMWBS = "WEMWBS"
SWEMWBS = "SWEMWBS"
MEASURES: tuple[str, ...] = (SDQ, WEMWBS, SWEMWBS)  # display order

# Derived KPI code -> the measure whose improved_pct it records
# (kept in step with monitor.kpis.library.definitions.DERIVED_FROM_OUTCOMES; a test checks).
IMPROVEMENT_KPIS: Mapping[str, str] = MappingProxyType({"SDQ-IMPROVED": SDQ, "WEMWBS-IMPROVED": WEMWBS})

# SWEMWBS raw score (7-35) -> metric score (DESIGN.md section 4).
SWEMWBS_RAW_TO_METRIC: Mapping[int, Decimal] = MappingProxyType(
    {
        raw: Decimal(metric)
        for raw, metric in (
            (7, "7.00"),
            (8, "9.51"),
            (9, "11.25"),
            (10, "12.40"),
            (11, "13.33"),
            (12, "14.08"),
            (13, "14.75"),
            (14, "15.32"),
            (15, "15.84"),
            (16, "16.36"),
            (17, "16.88"),
            (18, "17.43"),
            (19, "17.98"),
            (20, "18.59"),
            (21, "19.25"),
            (22, "19.98"),
            (23, "20.73"),
            (24, "21.54"),
            (25, "22.35"),
            (26, "23.21"),
            (27, "24.11"),
            (28, "25.03"),
            (29, "26.02"),
            (30, "27.03"),
            (31, "28.13"),
            (32, "29.31"),
            (33, "30.70"),
            (34, "32.55"),
            (35, "35.00"),
        )
    }
)

# SDQ four-band category names, lowest (best) first; the first is not raised.
SDQ_BAND_NAMES: tuple[str, ...] = ("close to average", "slightly raised", "high", "very high")
# Upper bound (inclusive) of each SDQ band but the last, by informant.
DEFAULT_SDQ_CUTOFFS: Mapping[str, tuple[int, int, int]] = MappingProxyType(
    {"teacher": (11, 15, 18), "parent": (13, 16, 19), "self": (14, 17, 19)}
)
LOW_WELLBEING = "low wellbeing"
NOT_LOW_WELLBEING = "not low wellbeing"
DEFAULT_WEMWBS_LOW_MAX = Decimal(40)
DEFAULT_SWEMWBS_LOW_MAX = Decimal("19.5")  # metric score
# bands_before/bands_after key for SDQ cases whose informant is missing or not
# one with cut-offs: they count everywhere except the band figures.
NO_INFORMANT = "informant not known"

ONE_DP = Decimal("0.1")


class OutcomeRow(Protocol):
    """One closed case's scores on one measure."""

    @property
    def measure(self) -> str: ...

    @property
    def informant(self) -> str | None: ...

    @property
    def pre_score(self) -> Decimal | int | float | None: ...

    @property
    def post_score(self) -> Decimal | int | float | None: ...


@dataclass(frozen=True)
class Band:
    """Scores up to and including `upper` (None: no upper limit) fall in this band
    unless an earlier band took them."""

    name: str
    upper: Decimal | None
    raised: bool


BandScheme = tuple[Band, ...]


def _sdq_scheme(cutoffs: Sequence[Any]) -> BandScheme:
    uppers = [_decimal(c, "SDQ band cut-off") for c in cutoffs]
    if len(uppers) != len(SDQ_BAND_NAMES) - 1:
        raise ValueError(f"SDQ band cut-offs need {len(SDQ_BAND_NAMES) - 1} upper bounds, got {len(uppers)}")
    if any(b <= a for a, b in pairwise(uppers)):
        raise ValueError(f"SDQ band cut-offs must rise, got {cutoffs!r}")
    limits: list[Decimal | None] = [*uppers, None]
    return tuple(
        Band(name, upper, raised=index > 0)
        for index, (name, upper) in enumerate(zip(SDQ_BAND_NAMES, limits, strict=True))
    )


def _wellbeing_scheme(low_max: Decimal) -> BandScheme:
    return (Band(LOW_WELLBEING, low_max, raised=True), Band(NOT_LOW_WELLBEING, None, raised=False))


def _decimal(value: object, what: str) -> Decimal:
    if isinstance(value, Decimal):
        result = value
    elif isinstance(value, (int, float, str)) and not isinstance(value, bool):
        try:
            result = Decimal(str(value).strip())
        except ArithmeticError as error:
            raise ValueError(f"{what} must be a number, got {value!r}") from error
    else:
        raise ValueError(f"{what} must be a number, got {value!r}")
    if not result.is_finite():
        raise ValueError(f"{what} must be a number, got {value!r}")
    return result


DEFAULT_WEMWBS_BANDS = _wellbeing_scheme(DEFAULT_WEMWBS_LOW_MAX)
DEFAULT_SWEMWBS_BANDS = _wellbeing_scheme(DEFAULT_SWEMWBS_LOW_MAX)


@dataclass(frozen=True)
class OutcomeSettings:
    """Thresholds and band cut-offs; authorities and tools differ.

    Config keys read by `from_config` (all optional, defaults as below):
    OUTCOME_SMALL_SAMPLE (30), SDQ_RELIABLE_CHANGE (5), WEMWBS_MEANINGFUL_CHANGE
    (3), SWEMWBS_MEANINGFUL_CHANGE (1, metric), SDQ_BAND_CUTOFFS (informant ->
    the inclusive upper bounds of close to average, slightly raised and high;
    informants not given keep their defaults), WEMWBS_LOW_WELLBEING_MAX (40)
    and SWEMWBS_LOW_WELLBEING_MAX (19.5, metric).
    """

    small_sample: int = 30
    sdq_reliable_change: Decimal = Decimal(5)
    wemwbs_meaningful_change: Decimal = Decimal(3)
    swemwbs_meaningful_change: Decimal = Decimal(1)
    sdq_bands: Mapping[str, BandScheme] = field(
        default_factory=lambda: MappingProxyType(
            {informant: _sdq_scheme(cutoffs) for informant, cutoffs in DEFAULT_SDQ_CUTOFFS.items()}
        )
    )
    wemwbs_bands: BandScheme = DEFAULT_WEMWBS_BANDS
    swemwbs_bands: BandScheme = DEFAULT_SWEMWBS_BANDS

    @classmethod
    def from_config(cls, config: Mapping[str, Any] | object) -> OutcomeSettings:
        """Read settings from a mapping (Flask's app.config) or a settings object."""

        def get(key: str, default: Any) -> Any:
            value = config.get(key, default) if isinstance(config, Mapping) else getattr(config, key, default)
            return default if value is None or value == "" else value

        defaults = cls()
        small = get("OUTCOME_SMALL_SAMPLE", defaults.small_sample)
        if isinstance(small, bool) or not isinstance(small, int) or small < 0:
            raise ValueError(f"OUTCOME_SMALL_SAMPLE must be a whole number of 0 or more, got {small!r}")
        cutoffs: dict[str, Sequence[Any]] = dict(DEFAULT_SDQ_CUTOFFS)
        override = get("SDQ_BAND_CUTOFFS", {})
        if not isinstance(override, Mapping):
            raise ValueError(f"SDQ_BAND_CUTOFFS must map informant to cut-offs, got {override!r}")
        for informant, values in override.items():
            cutoffs[_informant_key(str(informant))] = values
        return cls(
            small_sample=small,
            sdq_reliable_change=_positive(
                get("SDQ_RELIABLE_CHANGE", defaults.sdq_reliable_change), "SDQ_RELIABLE_CHANGE"
            ),
            wemwbs_meaningful_change=_positive(
                get("WEMWBS_MEANINGFUL_CHANGE", defaults.wemwbs_meaningful_change), "WEMWBS_MEANINGFUL_CHANGE"
            ),
            swemwbs_meaningful_change=_positive(
                get("SWEMWBS_MEANINGFUL_CHANGE", defaults.swemwbs_meaningful_change),
                "SWEMWBS_MEANINGFUL_CHANGE",
            ),
            sdq_bands=MappingProxyType({key: _sdq_scheme(values) for key, values in cutoffs.items()}),
            wemwbs_bands=_wellbeing_scheme(
                _decimal(get("WEMWBS_LOW_WELLBEING_MAX", DEFAULT_WEMWBS_LOW_MAX), "WEMWBS_LOW_WELLBEING_MAX")
            ),
            swemwbs_bands=_wellbeing_scheme(
                _decimal(
                    get("SWEMWBS_LOW_WELLBEING_MAX", DEFAULT_SWEMWBS_LOW_MAX), "SWEMWBS_LOW_WELLBEING_MAX"
                )
            ),
        )

    def improvement_threshold(self, measure: str) -> Decimal:
        return {
            SDQ: self.sdq_reliable_change,
            WEMWBS: self.wemwbs_meaningful_change,
            SWEMWBS: self.swemwbs_meaningful_change,
        }[measure]

    def bands_for(self, measure: str, informant: str | None) -> BandScheme | None:
        """The band scheme for one case; None for an SDQ case with no (known) informant."""
        if measure == SDQ:
            return self.sdq_bands.get(_informant_key(informant)) if informant else None
        return self.wemwbs_bands if measure == WEMWBS else self.swemwbs_bands


def _positive(value: object, what: str) -> Decimal:
    result = _decimal(value, what)
    if result <= 0:
        raise ValueError(f"{what} must be more than 0, got {value!r}")
    return result


def _informant_key(informant: str | None) -> str:
    return (informant or "").strip().lower()


def _measure_key(measure: str) -> str:
    return str(measure).strip().upper()


def swemwbs_metric(raw: Decimal | int | float) -> Decimal:
    """Convert a SWEMWBS raw score (a whole number 7-35) to its metric score."""
    value = _decimal(raw, "SWEMWBS raw score")
    if value != value.to_integral_value() or int(value) not in SWEMWBS_RAW_TO_METRIC:
        raise ValueError(f"SWEMWBS raw score must be a whole number from 7 to 35, got {raw!r}")
    return SWEMWBS_RAW_TO_METRIC[int(value)]


def band_of(score: Decimal | int, scheme: BandScheme) -> Band:
    """The first band whose inclusive upper bound the score does not exceed."""
    value = Decimal(score)
    for band in scheme:
        if band.upper is None or value <= band.upper:
            return band
    raise ValueError(f"score {score} is above every band")  # only if a scheme has no open last band


def working_score(measure: str, score: Decimal | int | float) -> Decimal:
    """The score arithmetic uses: SWEMWBS metric, otherwise the score as given."""
    measure = _measure_key(measure)
    return swemwbs_metric(score) if measure == SWEMWBS else _decimal(score, f"{measure} score")


@dataclass(frozen=True)
class MeasureSummary:
    measure: str
    paired: int
    mean_pre: Decimal | None
    mean_post: Decimal | None
    mean_change: Decimal | None  # post minus pre
    improved_pct: Decimal | None  # of paired
    improved_count: int
    left_raised_pct: Decimal | None  # of started_raised_count
    left_raised_count: int
    started_raised_count: int
    small_sample: bool
    bands_before: dict[str, int]  # band name -> cases, lowest band first
    bands_after: dict[str, int]
    # What the figures were judged against, for explaining them on the page.
    small_sample_threshold: int = 30
    improvement_threshold: Decimal = Decimal(0)

    @property
    def improvement_direction(self) -> str:
        """'fell' for SDQ (lower is better), otherwise 'rose'."""
        return "fell" if self.measure == SDQ else "rose"


def _round(value: Decimal) -> Decimal:
    return value.quantize(ONE_DP, rounding=ROUND_HALF_UP)


def _pct(count: int, denominator: int) -> Decimal | None:
    return None if denominator == 0 else _round(Decimal(count) * 100 / denominator)


def _empty_bands(measure: str, settings: OutcomeSettings) -> dict[str, int]:
    if measure == SDQ:
        names = SDQ_BAND_NAMES
    else:
        names = tuple(band.name for band in settings.bands_for(measure, None) or ())
    return dict.fromkeys(names, 0)


def summarise_measure(measure: str, rows: Iterable[OutcomeRow], settings: OutcomeSettings) -> MeasureSummary:
    """Summarise the paired cases among `rows` that are on `measure` (others are ignored)."""
    measure = _measure_key(measure)
    if measure not in MEASURES:
        raise ValueError(f"unknown outcome measure {measure!r}; expected one of {', '.join(MEASURES)}")
    threshold = settings.improvement_threshold(measure)
    pres: list[Decimal] = []
    posts: list[Decimal] = []
    improved = started_raised = left_raised = 0
    before = _empty_bands(measure, settings)
    after = dict(before)
    for row in rows:
        if _measure_key(row.measure) != measure or row.pre_score is None or row.post_score is None:
            continue
        pre = working_score(measure, row.pre_score)
        post = working_score(measure, row.post_score)
        pres.append(pre)
        posts.append(post)
        change = pre - post if measure == SDQ else post - pre
        if change >= threshold:
            improved += 1
        scheme = settings.bands_for(measure, row.informant)
        if scheme is None:
            before[NO_INFORMANT] = before.get(NO_INFORMANT, 0) + 1
            after[NO_INFORMANT] = after.get(NO_INFORMANT, 0) + 1
            continue
        band_pre, band_post = band_of(pre, scheme), band_of(post, scheme)
        before[band_pre.name] = before.get(band_pre.name, 0) + 1
        after[band_post.name] = after.get(band_post.name, 0) + 1
        if band_pre.raised:
            started_raised += 1
            if not band_post.raised:
                left_raised += 1
    paired = len(pres)
    mean_pre = sum(pres, Decimal(0)) / paired if paired else None
    mean_post = sum(posts, Decimal(0)) / paired if paired else None
    return MeasureSummary(
        measure=measure,
        paired=paired,
        mean_pre=None if mean_pre is None else _round(mean_pre),
        mean_post=None if mean_post is None else _round(mean_post),
        mean_change=None if mean_pre is None or mean_post is None else _round(mean_post - mean_pre),
        improved_pct=_pct(improved, paired),
        improved_count=improved,
        left_raised_pct=_pct(left_raised, started_raised),
        left_raised_count=left_raised,
        started_raised_count=started_raised,
        small_sample=paired < settings.small_sample,
        bands_before=before,
        bands_after=after,
        small_sample_threshold=settings.small_sample,
        improvement_threshold=threshold,
    )


def summarise_outcomes(rows: Iterable[OutcomeRow], settings: OutcomeSettings) -> list[MeasureSummary]:
    """One summary per known measure that has at least one row, in SDQ, WEMWBS,
    SWEMWBS order. Rows on other measures are ignored."""
    rows = list(rows)
    present = {_measure_key(row.measure) for row in rows}
    return [summarise_measure(measure, rows, settings) for measure in MEASURES if measure in present]


def improvement_kpis(summaries: Iterable[MeasureSummary]) -> dict[str, Decimal | None]:
    """Derived KPI code -> % improved (None when that measure has no paired cases)."""
    by_measure = {summary.measure: summary for summary in summaries}
    return {
        code: (by_measure[measure].improved_pct if measure in by_measure else None)
        for code, measure in IMPROVEMENT_KPIS.items()
    }
