"""The small pure parts of the checks: reading figures as typed, and Excel's cell order."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from monitor.kpis.returns.ingest.messages import cell_position, error, file_error, sort_messages, warning
from monitor.kpis.returns.ingest.numbers import Problem, read_number


@pytest.mark.parametrize(
    ("typed", "number", "percent"),
    [
        ("1,234", Decimal(1234), False),
        (" 12 ", Decimal(12), False),
        ("85%", Decimal(85), True),
        ("£1,250.50", Decimal("1250.5"), False),
        ("12\u00a0000", Decimal(12000), False),
        ("0", Decimal(0), False),
        (12.0, Decimal(12), False),
        (0.1, Decimal("0.1"), False),
        (7, Decimal(7), False),
    ],
)
def test_figures_as_people_type_them(typed: Any, number: Decimal, percent: bool) -> None:
    reading = read_number(typed)
    assert (reading.number, reading.percent, reading.problem) == (number, percent, None)


def test_a_cell_formatted_as_a_percentage() -> None:
    reading = read_number(0.85, "0%")
    assert (reading.number, reading.percent, reading.shown) == (Decimal(85), True, "85%")


@pytest.mark.parametrize(
    ("typed", "problem"),
    [
        (None, Problem.BLANK),
        ("  ", Problem.BLANK),
        ("N/A", Problem.PLACEHOLDER),
        ("-", Problem.PLACEHOLDER),
        ("tbc", Problem.PLACEHOLDER),
        ("1,23", Problem.NOT_A_NUMBER),
        ("12 cases", Problem.NOT_A_NUMBER),
        ("1e6", Problem.NOT_A_NUMBER),
        (True, Problem.NOT_A_NUMBER),
        (float("nan"), Problem.NOT_A_NUMBER),
        ("#DIV/0!", Problem.NOT_A_NUMBER),
    ],
)
def test_not_figures(typed: Any, problem: str) -> None:
    assert read_number(typed).problem == problem


@given(st.one_of(st.text(), st.floats(), st.integers(), st.booleans(), st.none()))
def test_reading_never_raises(value: Any) -> None:
    reading = read_number(value)
    assert (reading.number is None) == (reading.problem is not None)


def test_cell_positions() -> None:
    assert cell_position("H12") == (12, 8)
    assert cell_position("AA1") == (1, 27)
    assert cell_position("") == (0, 0)


def test_sorted_as_excel_lists_cells() -> None:
    messages = [
        warning("Commentary", "E8", "X", ""),
        error("KPIs", "H10", "X", ""),
        error("KPIs", "AA9", "X", ""),
        error("KPIs", "H9", "X", ""),
        error("Outcomes", "B7", "", ""),
        file_error(""),
        error("KPIs", "", "X", ""),
    ]
    ordered = sort_messages(messages, ["Cover", "KPIs", "Outcomes", "Commentary"])
    assert [(m.sheet, m.cell) for m in ordered] == [
        ("", ""),
        ("KPIs", ""),
        ("KPIs", "H9"),
        ("KPIs", "AA9"),
        ("KPIs", "H10"),
        ("Outcomes", "B7"),
        ("Commentary", "E8"),
    ]
