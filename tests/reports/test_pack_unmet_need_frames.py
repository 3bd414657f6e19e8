"""The board pack's "Unmet need" sheet from hand-made frames: a
commissioner's own rows get the board's disclosure control before they are
added up by cohort, by the ETL's own function."""

from __future__ import annotations

from datetime import date

import pytest

from monitor.disclosure.suppression import CONFIDENTIAL
from monitor.reports.audience import Audience
from monitor.reports.pack_data import build_pack_data
from monitor.reports.writer import write_board_pack
from tests.reports import builders
from tests.reports.xlsx import assert_no_small_counts, open_pack, tables

THRESHOLD = 4
COUNCIL = Audience("commissioner", 1, builders.VIEWER_NAME)


def _pack(period: str = "2013-14-Q4", with_cohorts: bool = True) -> bytes:
    data = build_pack_data(
        builders.marts(with_unmet_need=True),
        COUNCIL,
        period,
        THRESHOLD,
        cohorts=builders.cohorts() if with_cohorts else None,
    )
    return write_board_pack(data, date(2014, 5, 7))


@pytest.fixture(scope="module")
def pack() -> bytes:
    return _pack()


def test_referrals_not_taken_by_cohort_and_reason(pack: bytes) -> None:
    reasons = tables(open_pack(pack))["UnmetNeedReasons"]
    assert reasons.header == [
        "Cohort",
        "Referrals not taken",
        "No space",
        "Not eligible",
        "Services reporting",
    ]
    # The IDVA service (14: 9 no space, 5 not eligible) is for adults and
    # children; the children's service (0) for children: it counts in both.
    assert reasons.rows == [
        ["Children and young people", 14, 9, 5, 2],
        ["Adults", 14, 9, 5, 1],
    ]


def test_a_hidden_service_figure_hides_the_cohort_figure_and_its_share(pack: bytes) -> None:
    support = tables(open_pack(pack))["UnmetNeedSupport"]
    assert support.header == [
        "Cohort",
        "People waiting at the quarter's end",
        "Children whose support was asked for",
        "Children who received support",
        "Share of children who received support",
    ]
    # The children's service's 3 children supported is hidden, and the IDVA
    # service's 6 with it (else all services' 9 would give the 3 away), so
    # both cohorts' figures and shares are hidden; 20 + 12 asked for are shown.
    assert support.rows == [
        ["Children and young people", 18, 32, CONFIDENTIAL, CONFIDENTIAL],
        ["Adults", 11, 20, CONFIDENTIAL, CONFIDENTIAL],
    ]
    assert_no_small_counts(pack, THRESHOLD)


def test_a_quarter_without_figures_and_a_pack_without_cohorts_say_so() -> None:
    for content in (_pack("2013-14-Q3"), _pack(with_cohorts=False)):
        workbook = open_pack(content)
        assert not {"UnmetNeedReasons", "UnmetNeedSupport"} & set(tables(workbook))
        texts = [
            c.value for row in workbook["Unmet need"].iter_rows() for c in row if isinstance(c.value, str)
        ]
        assert any(t.startswith("No service reported referrals it could not take") for t in texts)
