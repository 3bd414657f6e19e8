"""The return-check defects of issue 11, one test each: a formula without its
saved result, 0.85 in a percentage cell, signed template metadata and the
visible period, half-up rounding, contracts named only to those who may see
them, last quarter from the accepted version, and the Outcomes sheet only
where the framework has outcome KPIs."""

from __future__ import annotations

import io
from decimal import Decimal
from typing import Any

import openpyxl
import pytest
from flask import Flask

from monitor.kpis.periods import Quarter
from monitor.kpis.returns.ingest.result import Severity
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
from tests.kpis.fixtures.workbooks import Q3, Q4, add_item, add_kpi, add_return, edit, fill, template


def _book(content: bytes) -> openpyxl.Workbook:
    return openpyxl.load_workbook(io.BytesIO(content))


def _metadata(key: str, value: Any) -> Any:
    def change(book: Any) -> None:
        for row in book["Metadata"].iter_rows():
            if row[1].value == key:
                row[2].value = value

    return change


# -- a formula saved without its result --------------------------------------


def test_formula_without_a_saved_result_is_not_called_blank(frameworks: Flask) -> None:
    # openpyxl, like many tools, writes the formula and no result (<f> with no <v>).
    message = only(check(fill(template(), with_figures(**{"REF-ACCEPTED//value": "=20+8"}))))
    assert (message.severity, message.sheet, message.cell, message.kpi) == (
        Severity.ERROR,
        "KPIs",
        "H12",
        "REF-ACCEPTED",
    )
    assert "blank" not in message.message
    assert message.message.startswith(
        "This cell has a formula (=20+8) but no saved result, so there is no figure to read: the program "
        "that saved the file did not work it out. Open the workbook in Excel and save it, or type the "
        "figure in place of the formula."
    )


def test_outcome_score_formula_without_a_saved_result(frameworks: Flask) -> None:
    message = only(check(fill(template(), outcomes=[("WEMWBS", None, 40, "=40+8")])))
    assert (message.sheet, message.cell) == ("Outcomes", "E7")
    assert message.message.startswith("This cell has a formula (=40+8) but no saved result")
    assert "missing" not in message.message


# -- 0.85 in a percentage cell -------------------------------------------------


@pytest.fixture
def satisfaction(frameworks: Flask) -> str:
    """A percentage typed in directly (no numerator and denominator), monitored without a target."""
    return add_satisfaction(None)


def test_a_fraction_in_a_percentage_cell_asks_did_you_mean(satisfaction: str) -> None:
    result = check(fill(template(), with_figures(**{satisfaction: 0.85})))
    message = only(result)
    assert (message.severity, message.sheet, message.cell, message.kpi) == (
        Severity.WARNING,
        "KPIs",
        "H27",
        "SATISFIED",
    )
    assert message.message == (
        "0.85 in this percentage cell is read as 0.85%. Did you mean 85%? If so, type 85 here. If 0.85% "
        "is right, confirm it when you submit."
    )
    assert result.ok  # acknowledged on submit, not refused
    assert next(f.value for f in result.figures if f.kpi_code == "SATISFIED") == Decimal("0.85")


@pytest.mark.parametrize("typed", [85, "0.85%", 0, 1.5])
def test_percentages_that_are_clearly_meant_pass_quietly(satisfaction: str, typed: Any) -> None:
    assert check(fill(template(), with_figures(**{satisfaction: typed}))).messages == []


# -- one rounding rule -------------------------------------------------------------


@pytest.mark.parametrize("typed", [4.565, "4.565", "4.5650"])
def test_decimals_round_half_up_as_excel_shows_them(frameworks: Flask, typed: Any) -> None:
    add_kpi("TEST-DAYS", unit="days", direction="lower is better", rollup="mean")
    add_item(HALTON, "TEST-DAYS", None)
    result = check(fill(template(), with_figures(**{"TEST-DAYS//value": typed})))
    assert result.ok, where(result)
    assert next(f.value for f in result.figures if f.kpi_code == "TEST-DAYS") == Decimal("4.57")


def test_worked_out_percentages_round_half_up(frameworks: Flask) -> None:
    # 1 of 8 is 12.5%; 1 of 16 is 6.25%; 1 of 32 is 3.125%, which Excel shows as 3.13%.
    figures = with_figures(**{"SAFETY-PLAN//numerator": 1, "SAFETY-PLAN//denominator": 32})
    result = check(fill(template(), figures))
    assert next(f.value for f in result.figures if f.kpi_code == "SAFETY-PLAN") == Decimal("3.13")


# -- contracts named only to those who may see them ------------------------------


def test_another_contract_is_not_named_to_someone_who_cannot_see_it(frameworks: Flask) -> None:
    message = only(check(fill(template(REFUGE), REFUGE_GOOD, outcomes=[]), user="halton_provider"))
    assert REFUGE not in message.message
    assert message.message == (
        "This workbook is the return for another contract, not HBC-CYP-DA-01. Download the template "
        "for HBC-CYP-DA-01 and use that."
    )


def test_another_contract_is_named_to_an_operator(frameworks: Flask) -> None:
    message = only(check(template(REFUGE), user=None))
    assert message.message.startswith(
        "This workbook is the return for LBBD-DV-002, not HBC-CYP-DA-01. Upload it to LBBD-DV-002's return"
    )


# -- last quarter from the accepted version ----------------------------------------


def test_last_quarter_is_the_accepted_version_not_one_awaiting_review(frameworks: Flask) -> None:
    add_return(HALTON, "2013-14-Q3", {("REF-ACCEPTED", ""): Decimal(28), ("CASES-CLOSED", ""): Decimal(18)})
    # Resubmitted and awaiting review: not what the commissioner accepted.
    add_return(
        HALTON,
        "2013-14-Q3",
        {("REF-ACCEPTED", ""): Decimal(60), ("CASES-CLOSED", ""): Decimal(18)},
        accepted=False,
    )
    workbook = template(quarter=Q4)
    sheet = _book(workbook)["KPIs"]
    last_quarter = {
        row[1].value: row[6].value for row in sheet.iter_rows() if row[10].value == "value" and row[1].value
    }
    assert last_quarter["REF-ACCEPTED"] == 28
    assert check(fill(workbook), quarter=Q4).messages == []  # 28 on 28: no change to explain


def test_no_accepted_version_means_no_comparison(frameworks: Flask) -> None:
    add_return(HALTON, "2013-14-Q3", {("REF-ACCEPTED", ""): Decimal(60)}, accepted=False)
    assert check(fill(template(quarter=Q4)), quarter=Q4).messages == []


# -- the Outcomes sheet only for outcome KPIs ----------------------------------------


def test_no_outcomes_sheet_without_outcome_kpis(frameworks: Flask) -> None:
    refuge = template(REFUGE)
    book = _book(refuge)
    assert book.sheetnames == ["Cover", "KPIs", "Commentary", "Metadata"]
    cover = " ".join(str(c.value) for row in book["Cover"].iter_rows() for c in row if c.value)
    assert "Outcomes" not in cover
    result = check(fill(refuge, REFUGE_GOOD, outcomes=[]), reference=REFUGE, user="refuge")
    assert result.messages == [] and result.outcomes == []
    assert "Outcomes" in _book(template())  # Halton's framework has SDQ and WEMWBS KPIs


def test_an_outcomes_sheet_is_neither_required_nor_read_without_outcome_kpis(frameworks: Flask) -> None:
    old = fill(template(REFUGE), REFUGE_GOOD, outcomes=[])

    def add_outcomes(book: Any) -> None:
        # A sheet of that name, but not the template's table: read, it would be an error.
        book.create_sheet("Outcomes").append(["SDQ", "parent", 99, 1])

    assert "Outcomes" not in _book(old).sheetnames

    assert check(edit(old, add_outcomes), reference=REFUGE, user="refuge").messages == []


def test_outcomes_sheet_still_required_with_outcome_kpis(frameworks: Flask) -> None:
    message = only(check(edit(fill(template()), lambda book: book.remove(book["Outcomes"]))))
    assert (message.sheet, message.message) == (
        "Outcomes",
        "The Outcomes sheet is missing: it may have been deleted or renamed. Download the template again "
        "and copy your figures into it.",
    )


# -- signed metadata and the visible period ---------------------------------------


def test_last_quarters_template_relabelled_as_this_quarter_is_refused(frameworks: Flask) -> None:
    relabelled = edit(fill(template(quarter=Q3)), _metadata("period", str(Q4)))
    result = check(relabelled, quarter=Q4)
    message = only(result)
    assert (message.severity, message.sheet, message.cell) == (Severity.ERROR, "", "")
    assert message.message == (
        "The hidden details of this workbook (the contract, quarter and template version it was made for) "
        "have been changed since it was downloaded, so we cannot tell which return it is. Download a "
        "fresh template for this contract and quarter, copy your figures into it and upload that."
    )
    assert result.figures == []


def test_an_unsigned_workbook_is_refused(frameworks: Flask) -> None:
    def unsign(book: Any) -> None:
        for row in book["Metadata"].iter_rows():
            if row[1].value == "signature":
                row[1].value = row[2].value = None

    message = only(check(edit(fill(template()), unsign)))
    assert message.message == (
        "This workbook has no signature in its hidden details, so we cannot tell it is a template from "
        "this service: it may have been made before templates were signed, or rebuilt by another program. "
        "Download a fresh template for this contract and quarter, copy your figures into it and upload "
        "that."
    )


def test_a_template_signed_with_another_key_is_refused(frameworks: Flask) -> None:
    message = only(check(fill(template()), SECRET_KEY="another-service-" + "y" * 32))
    assert message.message.startswith("The hidden details of this workbook")


def test_visible_period_is_cross_checked_against_the_metadata(frameworks: Flask) -> None:
    # This quarter's workbook with last quarter's KPIs sheet pasted over it: the title gives it away.
    earlier = Quarter(2013, 2)

    def paste_last_quarter(book: Any) -> None:
        book["KPIs"]["B1"].value = f"KPIs for HBC-CYP-DA-01, {earlier.label}"

    result = check(edit(fill(template(quarter=Q4)), paste_last_quarter), quarter=Q4)
    message = only(result)
    assert (message.severity, message.sheet, message.cell) == (Severity.ERROR, "KPIs", "B1")
    assert message.message == (
        f"This sheet's title says 'KPIs for HBC-CYP-DA-01, {earlier.label}', but the workbook is the "
        f"return for {Q4.label}: the sheet may have been copied from another quarter's return. Download "
        f"the template for {Q4.label}, copy this quarter's figures into it and upload that."
    )


def test_the_signature_is_in_the_hidden_metadata(frameworks: Flask) -> None:
    metadata = {
        row[1].value: row[2].value for row in _book(template())["Metadata"].iter_rows() if row[1].value
    }
    assert len(metadata["signature"]) == 64
    assert check(fill(template())).messages == []
    assert Q3.label in str(_book(template())["KPIs"]["B1"].value)
