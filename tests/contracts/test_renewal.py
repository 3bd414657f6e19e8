"""Tests for monitor.contracts.renewal: calendar-month renewal dates and status."""

from __future__ import annotations

import calendar
from collections.abc import Callable
from datetime import date, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from monitor.contracts.renewal import (
    DUE_SOON_DAYS,
    UPCOMING_DAYS,
    Ending,
    KeyDate,
    Leads,
    Renewal,
    Status,
    Terms,
    Urgency,
    assess,
    derive_status,
    extend_end,
    last_notice_date,
    maximum_extent_date,
    subtract_months,
    term_end,
    urgency,
)

DAY = timedelta(days=1)
KEYS = {"decision_by", "last_notice", "reprocurement_start", "end", "maximum_extent"}

# More examples than the default so month-end/leap-day combinations get hit; no
# deadline because timing failures on a loaded CI runner would only be noise.
hyp = settings(max_examples=300, deadline=None)


# --- independent month arithmetic used as the oracle in property tests ------------


def days_in_month(year: int, month: int) -> int:
    return calendar.monthrange(year, month)[1]


def is_month_end(d: date) -> bool:
    return d.day == days_in_month(d.year, d.month)


def add_months(year: int, month: int, months: int) -> tuple[int, int]:
    year, month0 = divmod(year * 12 + (month - 1) + months, 12)
    return year, month0 + 1


def shift_clamped(d: date, months: int) -> date:
    """Same day-of-month ``months`` later, or that month's last day if it is shorter.

    Still the rule for counting back (notice and lead times).
    """
    year, month = add_months(d.year, d.month, months)
    return date(year, month, min(d.day, days_in_month(year, month)))


def anniversary(d: date, months: int) -> date:
    """Same day-of-month ``months`` later, or the 1st of the next month if it is shorter.

    The rule for counting forward (terms and extensions).
    """
    year, month = add_months(d.year, d.month, months)
    if d.day <= days_in_month(year, month):
        return date(year, month, d.day)
    year, month = add_months(year, month, 1)
    return date(year, month, 1)


# --- strategies biased towards month ends and leap days ----------------------------

years = st.integers(min_value=1901, max_value=2150)
month_ends = st.builds(
    lambda y, m: date(y, m, days_in_month(y, m)), years, st.integers(min_value=1, max_value=12)
)
leap_days = years.filter(calendar.isleap).map(lambda y: date(y, 2, 29))
late_in_month = st.builds(
    lambda y, m, back: date(y, m, days_in_month(y, m) - back),
    years,
    st.integers(min_value=1, max_value=12),
    st.integers(min_value=0, max_value=3),
)
dates = st.one_of(
    st.dates(min_value=date(1901, 1, 1), max_value=date(2150, 12, 31)),
    month_ends,
    leap_days,
    late_in_month,
)
months = st.integers(min_value=0, max_value=600)


# --- worked examples from the spec ----------------------------------------------------


def test_twelve_month_term_from_4_nov_2013_ends_3_nov_2014() -> None:
    assert term_end(date(2013, 11, 4), 12) == date(2014, 11, 3)


def test_one_twelve_month_option_gives_maximum_extent_3_nov_2015() -> None:
    assert maximum_extent_date(date(2014, 11, 3), (12,)) == date(2015, 11, 3)
    assert extend_end(date(2014, 11, 3), 12) == date(2015, 11, 3)


def test_end_31_mar_2014_with_six_months_notice() -> None:
    assert last_notice_date(date(2014, 3, 31), 6) == date(2013, 9, 30)


def test_six_month_extensions_keep_month_ends() -> None:
    assert extend_end(date(2014, 3, 31), 6) == date(2014, 9, 30)
    assert extend_end(date(2014, 9, 30), 6) == date(2015, 3, 31)


def test_end_30_sep_2014_with_six_months_notice() -> None:
    assert last_notice_date(date(2014, 9, 30), 6) == date(2014, 3, 31)


def test_zero_notice_means_the_end_date_itself() -> None:
    assert last_notice_date(date(2014, 3, 31), 0) == date(2014, 3, 31)
    assert last_notice_date(date(2016, 2, 29), 0) == date(2016, 2, 29)


def test_subtract_months_uses_the_day_after_the_end() -> None:
    # Plain "minus 9 months" would give 31 Jul 2013; the convention counts back from
    # 1 Apr 2014 and so lands on a month end.
    assert subtract_months(date(2014, 3, 31), 9) == date(2013, 6, 30)
    assert subtract_months(date(2014, 11, 3), 9) == date(2014, 2, 3)


def test_leap_day_edges() -> None:
    # 2017 has no 29 Feb, so the anniversary is 1 Mar and the term ends on 28 Feb.
    assert term_end(date(2016, 2, 29), 12) == date(2017, 2, 28)
    assert term_end(date(2016, 2, 29), 48) == date(2020, 2, 28)
    # An end on 29 Feb is a month end, so its extension ends on the next Feb month end.
    assert extend_end(date(2016, 2, 29), 12) == date(2017, 2, 28)
    assert extend_end(date(2015, 2, 28), 12) == date(2016, 2, 29)
    assert extend_end(date(2015, 12, 31), 2) == date(2016, 2, 29)
    assert last_notice_date(date(2016, 2, 29), 12) == date(2015, 2, 28)
    assert last_notice_date(date(2017, 2, 28), 12) == date(2016, 2, 29)


def test_short_months_run_to_their_last_day() -> None:
    # There is no 31 Feb, so the anniversary is 1 Mar and the term ends on 28 Feb
    # (clamping the anniversary to 28 Feb would have lost a day: 27 Feb).
    assert term_end(date(2015, 1, 31), 1) == date(2015, 2, 28)
    assert term_end(date(2015, 1, 30), 1) == date(2015, 2, 28)
    assert term_end(date(2014, 8, 31), 1) == date(2014, 9, 30)
    assert term_end(date(2015, 1, 28), 1) == date(2015, 2, 27)
    assert extend_end(date(2015, 1, 30), 1) == date(2015, 2, 28)
    assert extend_end(date(2015, 1, 31), 1) == date(2015, 2, 28)
    assert extend_end(date(2015, 1, 27), 1) == date(2015, 2, 27)


def test_notice_round_trip_is_lossy_where_months_clamp() -> None:
    # No date + 1 month notice ends on 28 Mar 2014 under the convention (29 Mar has no
    # 29 Feb to count back to), so the latest workable notice date falls a day short.
    notice = last_notice_date(date(2014, 3, 28), 1)
    assert notice == date(2014, 2, 27)
    assert extend_end(notice, 1) == date(2014, 3, 27)


def test_options_are_applied_in_order() -> None:
    # Two 1-month options from an end of 29 Jan are not the same as one 2-month option:
    # the first runs to the end of February, so the second runs to the end of March.
    assert maximum_extent_date(date(2015, 1, 29), (1, 1)) == date(2015, 3, 31)
    assert extend_end(date(2015, 1, 29), 2) == date(2015, 3, 29)
    assert maximum_extent_date(date(2014, 11, 3), ()) == date(2014, 11, 3)
    assert maximum_extent_date(date(2014, 3, 31), (6, 6, 12)) == date(2016, 3, 31)


# --- status ------------------------------------------------------------------------


def make_terms(
    *,
    start: date = date(2013, 4, 1),
    end: date = date(2014, 3, 31),
    original_end: date | None = None,
    notice: int = 6,
    options: tuple[int, ...] = (6,),
    award: date | None = None,
    ending: Ending | None = None,
) -> Terms:
    return Terms(
        start_date=start,
        end_date=end,
        original_end_date=original_end if original_end is not None else end,
        notice_months=notice,
        remaining_option_months=options,
        award_date=award,
        ending=ending,
    )


@pytest.mark.parametrize(
    ("terms", "today", "expected"),
    [
        pytest.param(make_terms(), date(2013, 3, 31), Status.PIPELINE, id="not-awarded"),
        pytest.param(
            make_terms(award=date(2013, 4, 1)),
            date(2013, 3, 31),
            Status.PIPELINE,
            id="award-date-still-to-come",
        ),
        pytest.param(
            make_terms(award=date(2013, 3, 31)),
            date(2013, 3, 31),
            Status.MOBILISING,
            id="awarded-today",
        ),
        pytest.param(make_terms(), date(2013, 4, 1), Status.LIVE, id="first-day"),
        pytest.param(make_terms(), date(2014, 3, 31), Status.LIVE, id="last-day"),
        pytest.param(make_terms(), date(2014, 4, 1), Status.EXPIRED, id="day-after-end"),
        pytest.param(
            make_terms(end=date(2014, 9, 30), original_end=date(2014, 3, 31), options=()),
            date(2014, 4, 1),
            Status.EXTENDED,
            id="extended",
        ),
        pytest.param(
            make_terms(end=date(2014, 9, 30), original_end=date(2014, 3, 31), options=()),
            date(2014, 10, 1),
            Status.EXPIRED,
            id="extension-ran-out",
        ),
        pytest.param(
            make_terms(ending=Ending("termination", date(2013, 12, 31))),
            date(2013, 12, 30),
            Status.IN_NOTICE,
            id="termination-notice-served",
        ),
        pytest.param(
            make_terms(ending=Ending("termination", date(2013, 12, 31))),
            date(2013, 12, 31),
            Status.TERMINATED,
            id="terminated-on-effective-date",
        ),
        pytest.param(
            make_terms(ending=Ending("decommissioning", date(2014, 3, 31))),
            date(2014, 4, 1),
            Status.DECOMMISSIONED,
            id="decommissioned",
        ),
        pytest.param(
            make_terms(ending=Ending("decommissioning", date(2013, 3, 1))),
            date(2013, 3, 1),
            Status.DECOMMISSIONED,
            id="ending-beats-pipeline",
        ),
    ],
)
def test_derive_status(terms: Terms, today: date, expected: Status) -> None:
    assert derive_status(terms, today) is expected


def test_status_values_are_the_display_strings() -> None:
    assert Status.IN_NOTICE == "in notice"
    assert Urgency.DUE_SOON == "due soon"
    assert [s.value for s in Status] == [
        "pipeline",
        "mobilising",
        "live",
        "in notice",
        "extended",
        "expired",
        "terminated",
        "decommissioned",
    ]


# --- urgency -------------------------------------------------------------------------

TODAY = date(2024, 1, 15)


@pytest.mark.parametrize(
    ("offset", "expected"),
    [
        (-1, Urgency.PASSED),
        (0, Urgency.DUE_SOON),
        (DUE_SOON_DAYS, Urgency.DUE_SOON),
        (DUE_SOON_DAYS + 1, Urgency.UPCOMING),
        (UPCOMING_DAYS, Urgency.UPCOMING),
        (UPCOMING_DAYS + 1, Urgency.LATER),
    ],
)
def test_urgency_thresholds(offset: int, expected: Urgency) -> None:
    assert urgency(TODAY + timedelta(days=offset), TODAY) is expected


def test_threshold_constants_are_one_and_three_months() -> None:
    assert (DUE_SOON_DAYS, UPCOMING_DAYS) == (31, 92)


def test_missed_decision_is_overdue_not_passed() -> None:
    yesterday = TODAY - DAY
    assert urgency(yesterday, TODAY, is_decision=True) is Urgency.OVERDUE
    # A decision deadline that is still ahead is graded like any other date.
    assert urgency(TODAY, TODAY, is_decision=True) is Urgency.DUE_SOON


# --- assess ----------------------------------------------------------------------------


def by_key(renewal: Renewal) -> dict[str, KeyDate]:
    return {k.key: k for k in renewal.key_dates}


def test_assess_worked_contract() -> None:
    start = date(2013, 11, 4)
    end = term_end(start, 12)
    terms = Terms(
        start_date=start,
        end_date=end,
        original_end_date=end,
        notice_months=3,
        remaining_option_months=(12,),
        award_date=date(2013, 9, 1),
    )
    r = assess(terms, date(2014, 5, 1))

    assert r.status is Status.LIVE
    assert r.end_date == date(2014, 11, 3)
    assert r.maximum_extent_date == date(2015, 11, 3)
    assert r.last_notice_date == date(2014, 8, 3)
    assert r.decision_by == date(2014, 6, 3)
    assert r.reprocurement_start == date(2014, 2, 3)
    assert r.days_to_end == 186
    assert not r.decision_overdue

    assert [k.key for k in r.key_dates] == [
        "reprocurement_start",
        "decision_by",
        "last_notice",
        "end",
        "maximum_extent",
    ]
    assert [k.name for k in r.key_dates] == [
        "Re-procurement starts",
        "Decision needed by",
        "Last date to serve notice",
        "Contract ends",
        "Maximum extent",
    ]
    assert [k.urgency for k in r.key_dates] == [
        Urgency.PASSED,  # re-procurement started 3 Feb
        Urgency.UPCOMING,  # decision due in 33 days
        Urgency.LATER,  # notice deadline in 94 days
        Urgency.LATER,
        Urgency.LATER,
    ]
    assert r.next_key_date == by_key(r)["decision_by"]


def test_leads_are_calendar_months_with_the_end_date_convention() -> None:
    terms = make_terms()  # ends 31 Mar 2014, 6 months' notice
    default = assess(terms, date(2013, 5, 1))
    assert default.last_notice_date == date(2013, 9, 30)
    assert default.decision_by == date(2013, 7, 31)
    assert default.reprocurement_start == date(2013, 6, 30)

    custom = assess(terms, date(2013, 5, 1), Leads(decision_lead_months=0, procurement_lead_months=12))
    assert custom.decision_by == date(2013, 9, 30)
    assert custom.reprocurement_start == date(2013, 3, 31)


def test_decision_on_its_deadline_day_is_not_yet_overdue() -> None:
    r = assess(make_terms(), date(2013, 7, 31))
    assert not r.decision_overdue
    assert by_key(r)["decision_by"].urgency is Urgency.DUE_SOON
    assert r.next_key_date == by_key(r)["decision_by"]


def test_decision_overdue_the_day_after() -> None:
    r = assess(make_terms(), date(2013, 8, 1))
    assert r.status is Status.LIVE
    assert r.decision_overdue
    keys = by_key(r)
    assert keys["decision_by"].urgency is Urgency.OVERDUE
    assert keys["last_notice"].urgency is Urgency.UPCOMING  # 30 Sep is 60 days away
    assert keys["reprocurement_start"].urgency is Urgency.PASSED  # not a decision
    # The overdue decision leads, even though later dates are still to come.
    assert r.next_key_date == keys["decision_by"]


def test_missed_notice_deadline_is_overdue_while_live() -> None:
    r = assess(make_terms(), date(2013, 10, 1))
    keys = by_key(r)
    assert r.decision_overdue
    assert keys["decision_by"].urgency is Urgency.OVERDUE
    assert keys["last_notice"].urgency is Urgency.OVERDUE


def test_extension_clears_overdue_decision() -> None:
    today = date(2013, 10, 1)
    assert assess(make_terms(), today).decision_overdue
    extended = make_terms(end=date(2014, 9, 30), original_end=date(2014, 3, 31), options=())
    r = assess(extended, today)
    assert r.status is Status.EXTENDED
    assert not r.decision_overdue
    assert r.last_notice_date == date(2014, 3, 31)
    assert r.decision_by == date(2014, 1, 31)
    assert by_key(r)["decision_by"].urgency is Urgency.LATER


def test_extended_contract_can_be_overdue_again() -> None:
    extended = make_terms(end=date(2014, 9, 30), original_end=date(2014, 3, 31), options=())
    r = assess(extended, date(2014, 2, 1))
    assert r.status is Status.EXTENDED
    assert r.decision_overdue
    assert by_key(r)["decision_by"].urgency is Urgency.OVERDUE


def test_serving_notice_clears_overdue_decision() -> None:
    served = make_terms(ending=Ending("decommissioning", date(2014, 3, 31)))
    r = assess(served, date(2013, 10, 1))
    assert r.status is Status.IN_NOTICE
    assert not r.decision_overdue
    keys = by_key(r)
    assert keys["decision_by"].urgency is Urgency.PASSED
    assert keys["last_notice"].urgency is Urgency.PASSED
    assert r.next_key_date == keys["end"]


def test_early_termination_moves_the_end() -> None:
    terms = make_terms(ending=Ending("termination", date(2013, 12, 31)))
    r = assess(terms, date(2013, 12, 1))
    assert r.status is Status.IN_NOTICE
    assert r.end_date == date(2013, 12, 31)
    assert r.days_to_end == 30
    assert by_key(r)["end"].on == date(2013, 12, 31)
    assert by_key(r)["end"].urgency is Urgency.DUE_SOON
    # Notice dates still come from the contractual end.
    assert r.last_notice_date == date(2013, 9, 30)


@pytest.mark.parametrize(
    ("terms", "today", "status"),
    [
        (make_terms(), date(2014, 4, 1), Status.EXPIRED),
        (
            make_terms(ending=Ending("termination", date(2013, 12, 31))),
            date(2014, 1, 1),
            Status.TERMINATED,
        ),
        (
            make_terms(ending=Ending("decommissioning", date(2013, 12, 31))),
            date(2013, 12, 31),
            Status.DECOMMISSIONED,
        ),
    ],
)
def test_finished_contracts_have_nothing_outstanding(terms: Terms, today: date, status: Status) -> None:
    r = assess(terms, today)
    assert r.status is status
    assert not r.decision_overdue
    assert r.next_key_date is None
    # Even a maximum extent still in the future is history once the contract is over.
    assert {k.urgency for k in r.key_dates} == {Urgency.PASSED}


def test_expired_contract_counts_days_since_end() -> None:
    r = assess(make_terms(), date(2014, 4, 10))
    assert r.days_to_end == -10


def test_pipeline_contract_is_never_overdue() -> None:
    # Decision dates already missed before the contract even starts: flag as passed,
    # not overdue, because there is no running contract to decide about yet.
    terms = make_terms(start=date(2014, 1, 1), end=date(2014, 3, 31), notice=6)
    r = assess(terms, date(2013, 12, 1))
    assert r.status is Status.PIPELINE
    assert not r.decision_overdue
    assert by_key(r)["decision_by"].urgency is Urgency.PASSED
    assert r.next_key_date == by_key(r)["end"]


def test_same_day_key_dates_keep_the_natural_order() -> None:
    terms = make_terms(notice=0, options=())
    r = assess(terms, date(2014, 3, 31), Leads(decision_lead_months=0))
    assert r.status is Status.LIVE
    assert r.next_key_date is not None
    assert r.next_key_date.on == date(2014, 3, 31)
    assert r.next_key_date.key == "decision_by"  # ties keep the natural order


# --- validation --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "call",
    [
        lambda: term_end(date(2014, 1, 1), -1),
        lambda: term_end(date(2014, 1, 1), 0),
        lambda: extend_end(date(2014, 1, 1), -1),
        lambda: subtract_months(date(2014, 1, 1), -1),
        lambda: last_notice_date(date(2014, 1, 1), -3),
        lambda: maximum_extent_date(date(2014, 1, 1), (12, -6)),
        lambda: make_terms(notice=-1),
        lambda: make_terms(options=(6, -1)),
        lambda: make_terms(start=date(2014, 4, 1), end=date(2014, 3, 31)),
        lambda: make_terms(original_end=date(2013, 3, 31)),
        lambda: Leads(decision_lead_months=-1),
        lambda: Leads(procurement_lead_months=-1),
        lambda: Ending("cancellation", date(2014, 1, 1)),  # type: ignore[arg-type]
    ],
)
def test_invalid_input_is_rejected(call: Callable[[], object]) -> None:
    with pytest.raises(ValueError, match=r"cannot be negative|at least one month|before|must be"):
        call()


def test_error_messages_are_plain_english() -> None:
    with pytest.raises(ValueError, match=r"^Notice period cannot be negative \(got -1\)\.$"):
        make_terms(notice=-1)
    with pytest.raises(ValueError, match=r"end date \(31 March 2014\) is before the start date"):
        make_terms(start=date(2014, 4, 1), end=date(2014, 3, 31))


def test_terms_accept_a_list_of_options_but_stay_hashable() -> None:
    terms = make_terms(options=[6, 12])  # type: ignore[arg-type]
    assert terms.remaining_option_months == (6, 12)
    assert hash(terms) == hash(make_terms(options=(6, 12)))


# --- properties ---------------------------------------------------------------------------


@hyp
@given(start=dates, years_=st.integers(min_value=1, max_value=50))
def test_whole_year_terms_end_the_day_before_the_anniversary(start: date, years_: int) -> None:
    end = term_end(start, 12 * years_)
    year = start.year + years_
    # 29 Feb starts have no anniversary in ordinary years; 1 Mar stands in.
    if start.month == 2 and start.day == 29 and not calendar.isleap(year):
        assert end == date(year, 2, 28)
    else:
        assert end + DAY == date(year, start.month, start.day)
        assert subtract_months(end, 12 * years_) == start - DAY


@hyp
@given(end=dates, n=months)
def test_extend_end_is_the_day_before_an_anniversary_of_the_day_after(end: date, n: int) -> None:
    new_end = extend_end(end, n)
    assert new_end + DAY == anniversary(end + DAY, n)
    assert new_end >= end
    if n > 0:
        assert new_end > end


@hyp
@given(end=dates, n=months)
def test_month_ends_stay_month_ends(end: date, n: int) -> None:
    if is_month_end(end):
        assert is_month_end(extend_end(end, n))
        assert is_month_end(last_notice_date(end, n))


@hyp
@given(end=dates, n=months)
def test_last_notice_round_trip(end: date, n: int) -> None:
    notice = last_notice_date(end, n)
    assert notice <= end
    assert notice + DAY == shift_clamped(end + DAY, -n)
    if is_month_end(end) or (end + DAY).day <= 28:
        assert extend_end(notice, n) == end


@hyp
@given(end=dates, n=months)
def test_notice_on_the_last_notice_date_runs_out_in_time(end: date, n: int) -> None:
    # Counting back clamps (29-31 Mar -> 28 Feb), so the notice can end up to three
    # days early, but never after the end date.
    back = extend_end(last_notice_date(end, n), n)
    assert end - timedelta(days=3) <= back <= end


@hyp
@given(end=dates, n=months)
def test_notice_from_an_extended_end_returns_to_that_end(end: date, n: int) -> None:
    new_end = extend_end(end, n)
    notice = last_notice_date(new_end, n)
    if (new_end + DAY).day == (end + DAY).day:
        assert notice == end
    else:
        # The anniversary rolled to a 1st, so the new end is a month end and counting
        # back lands on the month end of the original end's month.
        assert is_month_end(new_end)
        assert notice == date(end.year, end.month, days_in_month(end.year, end.month))


@hyp
@given(start=dates, n=st.integers(min_value=1, max_value=600))
def test_term_never_ends_before_the_month_before_its_anniversary(start: date, n: int) -> None:
    # Nominal anniversary month, ignoring any roll-over to the next month's 1st.
    year, month = add_months(start.year, start.month, n - 1)
    assert term_end(start, n) >= date(year, month, days_in_month(year, month))


@hyp
@given(start=dates, n=st.integers(min_value=1, max_value=600))
def test_term_ends_the_day_before_an_anniversary_or_a_first(start: date, n: int) -> None:
    after = term_end(start, n) + DAY
    assert after.day in {start.day, 1}
    assert after == anniversary(start, n)


@hyp
@given(
    year=years,
    month=st.integers(min_value=1, max_value=12),
    n=st.integers(min_value=1, max_value=600),
)
def test_term_from_the_first_ends_on_a_month_end(year: int, month: int, n: int) -> None:
    assert is_month_end(term_end(date(year, month, 1), n))


@hyp
@given(end=dates, n=st.integers(min_value=0, max_value=599))
def test_extend_end_is_strictly_increasing_in_months(end: date, n: int) -> None:
    assert extend_end(end, n + 1) > extend_end(end, n)


@hyp
@given(
    end=dates,
    options=st.lists(st.integers(min_value=0, max_value=60), max_size=5),
    extra=st.integers(min_value=0, max_value=60),
    index=st.integers(min_value=0, max_value=5),
)
def test_maximum_extent_is_monotone_in_options(end: date, options: list[int], extra: int, index: int) -> None:
    base = maximum_extent_date(end, options)
    assert base >= end
    # Another option anywhere in the sequence never brings the maximum extent forward.
    more = [*options[:index], extra, *options[index:]]
    assert maximum_extent_date(end, more) >= base
    # Nor does lengthening one of the existing options.
    if options:
        i = index % len(options)
        longer = [*options[:i], options[i] + 1, *options[i + 1 :]]
        assert maximum_extent_date(end, longer) > base


@hyp
@given(end=dates, n=months)
def test_single_option_equals_extension(end: date, n: int) -> None:
    assert maximum_extent_date(end, (n,)) == extend_end(end, n)


@hyp
@given(
    start=dates,
    term=st.integers(min_value=1, max_value=120),
    extensions=st.lists(st.integers(min_value=1, max_value=24), max_size=2),
    options=st.lists(st.integers(min_value=1, max_value=24), max_size=3),
    notice=st.integers(min_value=0, max_value=12),
    award_offset=st.none() | st.integers(min_value=-400, max_value=30),
    ending=st.none()
    | st.tuples(
        st.sampled_from(["termination", "decommissioning"]),
        st.integers(min_value=0, max_value=4000),
    ),
    today_offset=st.integers(min_value=-800, max_value=5000),
    decision_lead=st.integers(min_value=0, max_value=6),
    procurement_lead=st.integers(min_value=0, max_value=24),
)
def test_assess_invariants(
    start: date,
    term: int,
    extensions: list[int],
    options: list[int],
    notice: int,
    award_offset: int | None,
    ending: tuple[str, int] | None,
    today_offset: int,
    decision_lead: int,
    procurement_lead: int,
) -> None:
    original_end = term_end(start, term)
    terms = Terms(
        start_date=start,
        end_date=maximum_extent_date(original_end, extensions),
        original_end_date=original_end,
        notice_months=notice,
        remaining_option_months=tuple(options),
        award_date=None if award_offset is None else start + timedelta(days=award_offset),
        ending=(
            None
            if ending is None
            else Ending(
                "termination" if ending[0] == "termination" else "decommissioning",
                start + timedelta(days=ending[1]),
            )
        ),
    )
    today = start + timedelta(days=today_offset)
    r = assess(terms, today, Leads(decision_lead, procurement_lead))

    assert r.status is derive_status(terms, today)
    assert [k.on for k in r.key_dates] == sorted(k.on for k in r.key_dates)
    assert {k.key for k in r.key_dates} == KEYS
    assert r.decision_by <= r.last_notice_date <= terms.end_date <= r.maximum_extent_date
    assert r.reprocurement_start <= terms.end_date
    assert r.end_date <= terms.end_date
    assert r.days_to_end == (r.end_date - today).days

    decision = by_key(r)["decision_by"]
    assert r.decision_overdue == (decision.urgency is Urgency.OVERDUE)
    if r.decision_overdue:
        assert r.status in {Status.LIVE, Status.EXTENDED}
        assert r.next_key_date == decision
    elif r.status not in {Status.EXPIRED, Status.TERMINATED, Status.DECOMMISSIONED}:
        assert r.next_key_date == next((k for k in r.key_dates if k.on >= today), None)
    for k in r.key_dates:
        if k.urgency is Urgency.OVERDUE:
            assert r.decision_overdue
            assert k.key in {"decision_by", "last_notice"}
    if r.status in {Status.EXPIRED, Status.TERMINATED, Status.DECOMMISSIONED}:
        assert r.next_key_date is None
        assert all(k.urgency is Urgency.PASSED for k in r.key_dates)
