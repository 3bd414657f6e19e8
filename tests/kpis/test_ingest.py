"""Checking a filled-in return: one test per check, each naming the sheet, cell and KPI."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select

from monitor.db import db
from monitor.kpis.returns.ingest.result import FigureIn, OutcomeIn, Severity
from tests.kpis.fixtures.checks import (
    HALTON,
    REFUGE,
    REFUGE_GOOD,
    add_satisfaction,
    check,
    only,
    where,
    with_figures,
)
from tests.kpis.fixtures.workbooks import HALTON_OUTCOMES, Q4, add_item, add_return, contract, fill, template

# -- a good return ---------------------------------------------------------


def test_good_return_passes_and_yields_figures_outcomes(frameworks: Flask) -> None:
    result = check(fill(template()))
    assert result.messages == []
    assert result.ok and result.contract_id == contract(HALTON).id and result.period == "2013-14-Q3"
    assert result.template_version == "2026.1"
    figures = {(f.kpi_code, f.breakdown): f for f in result.figures}
    assert figures[("REF-RECEIVED", "")] == FigureIn("REF-RECEIVED", "", Decimal(32))
    assert figures[("REF-RECEIVED", "Police")].value == 12
    assert len([f for f in result.figures if f.kpi_code == "REF-RECEIVED"]) == 8
    assert figures[("CONTACT-2WD", "")] == FigureIn(
        "CONTACT-2WD", "", Decimal("92.86"), numerator=Decimal(26), denominator=Decimal(28)
    )
    assert figures[("SAFETY-PLAN", "")].value == Decimal("100.00")
    assert figures[("CP-CIN-SUPPORTED", "")].value == 15
    assert ("SDQ-IMPROVED", "") not in figures  # worked out from the outcomes, not typed in
    assert result.outcomes == [
        OutcomeIn("SDQ", "parent", Decimal(22), Decimal(15)),
        OutcomeIn("SDQ", "teacher", Decimal(18), Decimal(17)),
        OutcomeIn("WEMWBS", None, Decimal(40), Decimal(48)),
        OutcomeIn("SWEMWBS", None, Decimal(20), Decimal(25)),
    ]
    assert result.commentary == {}


def test_commissioner_may_upload_for_the_provider(frameworks: Flask) -> None:
    assert check(fill(template()), user="halton").ok


def test_commentary_is_returned_by_kpi(frameworks: Flask) -> None:
    result = check(fill(template(), commentary={"REF-RECEIVED": "  Two new schools referred.  "}))
    assert result.ok and result.commentary == {"REF-RECEIVED": "Two new schools referred."}


# -- cells -----------------------------------------------------------------


def test_blank_required_cell(frameworks: Flask) -> None:
    message = only(check(fill(template(), with_figures(**{"CASES-CLOSED//value": None}))))
    assert (message.severity, message.sheet, message.cell, message.kpi) == (
        Severity.ERROR,
        "KPIs",
        "H8",
        "CASES-CLOSED",
    )
    assert message.message == (
        "This cell is blank. Enter the number of cases closed as a whole number, like 12. "
        "Enter 0 if there were none."
    )


@pytest.mark.parametrize("typed", ["N/A", "-", "n/a", "TBC", "   "])
def test_placeholders_are_not_figures(frameworks: Flask, typed: str) -> None:
    message = only(check(fill(template(), with_figures(**{"REF-RECEIVED/Police/breakdown": typed}))))
    assert (message.sheet, message.cell, message.kpi) == ("KPIs", "H13", "REF-RECEIVED")
    assert "Enter the number of referrals received (Police) as a whole number, like 12." in message.message
    # N/A and "five" are the same mistake, said the same way (issue 14: not "'N/A' is not a figure").
    said = "This cell is blank." if not typed.strip() else f"'{typed}' is not a number."
    assert message.message.startswith(said)


def test_words_are_not_a_number(frameworks: Flask) -> None:
    message = only(check(fill(template(), with_figures(**{"REF-ACCEPTED//value": "about twenty"}))))
    assert (message.cell, message.kpi) == ("H12", "REF-ACCEPTED")
    assert message.message.startswith("'about twenty' is not a number.")


@pytest.mark.parametrize(
    ("typed", "read"), [("1,234", 1234), (" 12 ", 12), ("18", 18), (18.0, 18), ("+20", 20)]
)
def test_numbers_written_as_text_are_read(frameworks: Flask, typed: Any, read: int) -> None:
    # Cases closed is also the safety-plan percentage's denominator (a library consistency rule).
    closed = {"CASES-CLOSED//value": typed, "SAFETY-PLAN//numerator": read, "SAFETY-PLAN//denominator": read}
    content = fill(template(), with_figures(**closed), commentary={"CASES-CLOSED": "Fewer closures."})
    result = check(content)
    assert result.ok, where(result)
    assert next(f.value for f in result.figures if f.kpi_code == "CASES-CLOSED") == read


def test_count_must_be_whole(frameworks: Flask) -> None:
    message = only(check(fill(template(), with_figures(**{"CASES-CLOSED//value": 17.5}))))
    assert (message.cell, message.kpi) == ("H8", "CASES-CLOSED")
    assert message.message.startswith("17.5 is not a whole number. Enter the number of cases closed")


def test_count_cannot_be_negative(frameworks: Flask) -> None:
    message = only(check(fill(template(), with_figures(**{"REF-ACCEPTED//value": -3}))))
    assert (message.cell, message.kpi) == ("H12", "REF-ACCEPTED")
    assert message.message.startswith("-3 is less than 0.")


def test_percentage_sign_in_a_count(frameworks: Flask) -> None:
    message = only(check(fill(template(), with_figures(**{"REF-ACCEPTED//value": "85%"}))))
    assert (message.cell, message.kpi) == ("H12", "REF-ACCEPTED")
    assert "is a percentage" in message.message


@pytest.fixture
def satisfaction(frameworks: Flask) -> str:
    """A percentage typed in directly (no numerator and denominator), target 80%."""
    return add_satisfaction(Decimal(80))


@pytest.mark.parametrize(
    ("typed", "number_format", "read"),
    [("85%", None, 85), (85, None, 85), (0.85, "0%", 85), ("92.5", None, Decimal("92.5"))],
)
def test_percentages_typed_with_or_without_a_sign(
    satisfaction: str, typed: Any, number_format: str | None, read: Decimal
) -> None:
    code, breakdown, line = satisfaction.split("/")
    key = (code, breakdown, line)
    result = check(
        fill(
            template(),
            with_figures(**{satisfaction: typed}),
            formats={key: number_format} if number_format else None,
        )
    )
    assert result.ok, where(result)
    assert next(f.value for f in result.figures if f.kpi_code == "SATISFIED") == read


def test_percentage_above_100(satisfaction: str) -> None:
    message = only(check(fill(template(), with_figures(**{satisfaction: 120}))))
    assert (message.sheet, message.cell, message.kpi) == ("KPIs", "H27", "SATISFIED")
    assert message.message.startswith("120 is more than 100%.")


# -- cross-checks ----------------------------------------------------------


def test_breakdowns_must_add_up_to_the_total(frameworks: Flask) -> None:
    message = only(check(fill(template(), with_figures(**{"REF-RECEIVED//total": 35}))))
    assert (message.severity, message.sheet, message.cell, message.kpi) == (
        Severity.ERROR,
        "KPIs",
        "H20",
        "REF-RECEIVED",
    )
    assert message.message == (
        "The parts of referrals received add up to 32, but the total is 35. "
        "Correct the parts or the total so that they match."
    )


def test_numerator_not_above_denominator(frameworks: Flask) -> None:
    message = only(check(fill(template(), with_figures(**{"CONTACT-2WD//numerator": 30}))))
    assert (message.sheet, message.cell, message.kpi) == ("KPIs", "H21", "CONTACT-2WD")
    assert message.message.startswith(
        "Accepted referrals contacted within two working days (30) is more than referrals accepted (28)"
    )


def test_completions_not_above_starts(library: Flask) -> None:
    reference = "LBBD-DV-003"  # the perpetrator programme
    add_item(reference, "PERP-STARTS", Decimal(4))
    add_item(reference, "PERP-COMPLETIONS", Decimal(3))
    figures = {("PERP-STARTS", "", "value"): 5, ("PERP-COMPLETIONS", "", "value"): 6}
    result = check(fill(template(reference), figures, outcomes=[]), reference=reference, user="lbbd")
    message = only(result)
    assert (message.sheet, message.cell, message.kpi) == ("KPIs", "H6", "PERP-COMPLETIONS")
    assert message.message.startswith(
        "Perpetrator programme completions (6) is more than perpetrator programme starts (5)."
    )


@pytest.mark.parametrize(
    ("row", "cell", "text"),
    [
        (
            ("SDQ", "parent", 41, 30),
            "D7",
            "41 is outside the range of the SDQ total difficulties score. Enter a score from 0 to 40.",
        ),
        (
            ("WEMWBS", None, 13, 30),
            "D7",
            "13 is outside the range of the WEMWBS total score. Enter a score from 14 to 70.",
        ),
        (
            ("SWEMWBS", None, 20, 36),
            "E7",
            "36 is outside the range of the SWEMWBS raw total score. Enter a score from 7 to 35.",
        ),
    ],
)
def test_outcome_scores_in_range_for_their_measure(
    frameworks: Flask, row: tuple[Any, ...], cell: str, text: str
) -> None:
    message = only(check(fill(template(), outcomes=[row])))
    assert (message.sheet, message.cell, message.kpi, message.message) == ("Outcomes", cell, "", text)


def test_sdq_needs_an_informant(frameworks: Flask) -> None:
    message = only(check(fill(template(), outcomes=[*HALTON_OUTCOMES, ("SDQ", None, 20, 12)])))
    assert (message.sheet, message.cell) == ("Outcomes", "C11")
    assert message.message == "Enter who completed the SDQ: parent, teacher or self."


def test_sdq_informant_must_be_a_choice(frameworks: Flask) -> None:
    message = only(check(fill(template(), outcomes=[("SDQ", "mum", 20, 12)])))
    assert (message.sheet, message.cell) == ("Outcomes", "C7")
    assert message.message.startswith("'mum' is not one of the choices.")


def test_informant_only_for_sdq(frameworks: Flask) -> None:
    message = only(check(fill(template(), outcomes=[("WEMWBS", "self", 40, 44)])))
    assert (message.sheet, message.cell) == ("Outcomes", "C7")
    assert message.message == "Leave the informant blank for WEMWBS: only SDQ scores have an informant."


def test_outcome_measure_must_be_one_we_collect(frameworks: Flask) -> None:
    message = only(check(fill(template(), outcomes=[("GAD-7", None, 12, 8)])))
    assert (message.sheet, message.cell) == ("Outcomes", "B7")
    assert message.message.startswith("'GAD-7' is not one of the choices. Choose the measure")


def test_outcome_row_needs_both_scores(frameworks: Flask) -> None:
    message = only(check(fill(template(), outcomes=[("WEMWBS", None, 40, None)])))
    assert (message.sheet, message.cell) == ("Outcomes", "E7")
    assert message.message == (
        "This cell is blank. Enter the score at case closure as a whole number, like 17. "
        "Every row needs both scores."
    )


def test_outcome_scores_are_checked_in_the_figures_words(frameworks: Flask) -> None:
    # A score's problems read as a KPI figure's do, with the score's own fix (one workbook, one row each).
    typed_and_said = [
        ("N/A", "'N/A' is not a number."),
        ("five", "'five' is not a number."),
        (-2, "-2 is less than 0."),
        (12.5, "12.5 is not a whole number."),
    ]
    result = check(fill(template(), outcomes=[("WEMWBS", None, typed, 44) for typed, _ in typed_and_said]))
    fix = "Enter the score at the start of support as a whole number, like 17."
    assert [(m.sheet, m.cell, m.message) for m in result.messages] == [
        ("Outcomes", f"D{row}", f"{said} {fix}") for row, (_, said) in enumerate(typed_and_said, start=7)
    ]


def test_outcome_measures_are_read_whatever_the_case(frameworks: Flask) -> None:
    result = check(fill(template(), outcomes=[("sdq", "Parent", 20, 12), ("swemwbs", None, 20, 22)]))
    assert result.ok and [(o.measure, o.informant) for o in result.outcomes] == [
        ("SDQ", "parent"),
        ("SWEMWBS", None),
    ]


# -- against target and last quarter ---------------------------------------


def test_off_target_needs_commentary(frameworks: Flask) -> None:
    # Cases closed is also the safety-plan percentage's denominator (a library consistency rule).
    # Halton's service started on 4 November 2013: its Q3 target of 15 is pro-rated to 9 (58 of 92 days).
    eight = {"CASES-CLOSED//value": 8, "SAFETY-PLAN//numerator": 8, "SAFETY-PLAN//denominator": 8}
    content = fill(template(), with_figures(**eight))
    message = only(check(content))
    assert (message.severity, message.sheet, message.cell, message.kpi) == (
        Severity.ERROR,
        "Commentary",
        "E8",
        "CASES-CLOSED",
    )
    assert message.message == (
        "Explain on the Commentary sheet why cases closed is below target: 8 this quarter against a "
        "target of 9 or more (pro-rated: 58 of 92 days)."
    )
    explained = fill(template(), with_figures(**eight), commentary={"CASES-CLOSED": "Two staff vacancies."})
    assert check(explained).messages == []


def test_off_target_percentage_worked_out_from_its_counts(frameworks: Flask) -> None:
    message = only(check(fill(template(), with_figures(**{"CONTACT-2WD//numerator": 20}))))
    assert (message.sheet, message.cell, message.kpi) == ("Commentary", "E12", "CONTACT-2WD")
    assert "71.4% this quarter against a target of 90% or more" in message.message


def test_lower_is_better_is_above_target(library: Flask) -> None:
    from tests.kpis.conftest import REFUGE_FRAMEWORK, add_framework

    add_framework(REFUGE, dict(REFUGE_FRAMEWORK), "2013-14-Q1")
    figures = REFUGE_GOOD | {("MARAC-REPEAT", "", "value"): 7}
    result = check(fill(template(REFUGE), figures, outcomes=[]), reference=REFUGE, user="refuge")
    message = only(result)
    assert (message.sheet, message.kpi) == ("Commentary", "MARAC-REPEAT")
    assert message.message.startswith(
        "Explain on the Commentary sheet why repeat MARAC referrals is above target: 7"
    )


def test_yearly_target_is_compared_pro_rata(frameworks: Flask) -> None:
    from monitor.kpis.models import FrameworkItem, Kpi

    item = db.session.execute(
        select(FrameworkItem)
        .join(Kpi)
        .where(Kpi.code == "REF-ACCEPTED", FrameworkItem.contract_id == contract(HALTON).id)
    ).scalar_one()
    item.target, item.target_basis = Decimal(120), "year"
    db.session.commit()

    def accepted(count: int) -> dict[tuple[str, str, str], Any]:
        # Referrals accepted is also the 2-day contact percentage's denominator (a consistency rule).
        return with_figures(
            **{
                "REF-ACCEPTED//value": count,
                "CONTACT-2WD//numerator": count - 1,
                "CONTACT-2WD//denominator": count,
            }
        )

    # A quarter of 120 a year is 30, pro-rated to 19 for Halton's 58 days in force in Q3.
    assert check(fill(template(), accepted(19))).messages == []
    message = only(check(fill(template(), accepted(18))))
    assert (message.cell, message.kpi) == ("E10", "REF-ACCEPTED")
    assert "18 this quarter against a target of 19" in message.message


def test_big_change_on_last_quarter_is_a_warning_until_explained(frameworks: Flask) -> None:
    add_return(HALTON, "2013-14-Q3", {("REF-ACCEPTED", ""): Decimal(60), ("CASES-CLOSED", ""): Decimal(17)})
    result = check(fill(template(quarter=Q4)), quarter=Q4)
    message = only(result)
    assert (message.severity, message.sheet, message.cell, message.kpi) == (
        Severity.WARNING,
        "Commentary",
        "E10",
        "REF-ACCEPTED",
    )
    assert result.ok  # a warning to acknowledge, not an error
    assert message.message == (
        "Referrals accepted went from 60 last quarter to 28 (down 53%). Explain the change on the "
        "Commentary sheet, or confirm the figure is right when you submit."
    )
    explained = fill(template(quarter=Q4), commentary={"REF-ACCEPTED": "A partner paused referrals."})
    assert check(explained, quarter=Q4).messages == []
    assert check(fill(template(quarter=Q4)), quarter=Q4, PERIOD_CHANGE_WARNING_PCT=60).messages == []


def test_a_percentages_change_on_last_quarter_is_said_in_percentage_points(frameworks: Flask) -> None:
    add_return(HALTON, "2013-14-Q3", {("REF-ACCEPTED", ""): Decimal(28), ("CONTACT-2WD", ""): Decimal(50)})
    message = only(check(fill(template(quarter=Q4)), quarter=Q4))
    assert message.kpi == "CONTACT-2WD"
    # Not "up 93%": the share moved by points, not by a share of itself.
    assert "went from 50.0% last quarter to 92.9% (up 42.9 percentage points)." in message.message


def test_zero_denominator_gives_no_percentage_and_a_warning(frameworks: Flask) -> None:
    # No cases closed, so none with a safety plan (cases closed is its denominator).
    figures = with_figures(
        **{"CASES-CLOSED//value": 0, "SAFETY-PLAN//numerator": 0, "SAFETY-PLAN//denominator": 0}
    )
    result = check(fill(template(), figures, commentary={"CASES-CLOSED": "No cases were ready to close."}))
    message = only(result)
    assert (message.severity, message.cell, message.kpi) == (Severity.WARNING, "H25", "SAFETY-PLAN")
    assert message.message.startswith("Cases closed is 0, so cases with a safety plan cannot be worked out")
    assert "SAFETY-PLAN" not in {f.kpi_code for f in result.figures}


# -- order of messages -----------------------------------------------------


def test_messages_sorted_as_excel_sorts_cells(frameworks: Flask) -> None:
    figures = with_figures(
        **{
            "CASES-CLOSED//value": None,
            "REF-RECEIVED//total": 15,
            "REF-ACCEPTED//value": "x",
            "CONTACT-2WD//numerator": 10,
        }
    )
    result = check(fill(template(), figures, outcomes=[("SDQ", None, 50, 10)]))
    assert where(result) == [
        ("error", "KPIs", "H8", "CASES-CLOSED"),
        ("error", "KPIs", "H12", "REF-ACCEPTED"),
        ("error", "KPIs", "H20", "REF-RECEIVED"),
        ("error", "Outcomes", "C7", ""),
        ("error", "Outcomes", "D7", ""),
        ("error", "Commentary", "E11", "REF-RECEIVED"),
        ("error", "Commentary", "E12", "CONTACT-2WD"),
    ]
