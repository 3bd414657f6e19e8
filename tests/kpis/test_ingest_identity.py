"""The identity stage: our template, a version we read, this contract, this quarter,
someone who may submit. Any failure stops the check before a cell is read."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from flask import Flask

from monitor.kpis.returns.ingest.result import Severity
from tests.kpis.fixtures.workbooks import Q4, add_item, edit, fill, template
from tests.kpis.test_ingest import check, only, where


def _metadata(key: str, value: Any) -> Any:
    def change(book: Any) -> None:
        sheet = book["Metadata"]
        for row in sheet.iter_rows():
            if row[1].value == key:
                row[2].value = value

    return change


def test_wrong_contract(frameworks: Flask) -> None:
    refuge_template = template("LBBD-DV-002")
    # An operator may see every contract, so the other one is named (see test_ingest_defects).
    message = only(check(refuge_template, user=None))
    assert (message.severity, message.sheet, message.cell, message.kpi) == (Severity.ERROR, "", "", "")
    assert message.message.startswith("This workbook is the return for LBBD-DV-002, not HBC-CYP-DA-01.")


def test_wrong_quarter(frameworks: Flask) -> None:
    message = only(check(fill(template()), quarter=Q4))
    assert message.message.startswith(
        "This workbook is the return for Q3 2013/14 (October to December 2013), not "
        "Q4 2013/14 (January to March 2014)."
    )


def test_unknown_template_version(frameworks: Flask) -> None:
    message = only(check(edit(fill(template()), _metadata("template_version", "2019.3"))))
    assert message.message.startswith(
        "This workbook was made from template version 2019.3, which is not accepted"
    )


def test_other_providers_user(frameworks: Flask) -> None:
    message = only(check(fill(template()), user="refuge"))
    assert message.message.startswith("You cannot submit returns for HBC-CYP-DA-01")


@pytest.mark.parametrize("user", ["bd_board", "halton_board", "lbbd", "admin"])
def test_only_the_provider_or_its_commissioners_submit(frameworks: Flask, user: str) -> None:
    assert "You cannot submit" in only(check(fill(template()), user=user)).message


def test_no_cells_are_checked_after_an_identity_failure(frameworks: Flask) -> None:
    result = check(template(), user="refuge", quarter=Q4)  # blank, wrong quarter, wrong person
    assert [m.cell for m in result.messages] == ["", ""]
    assert result.figures == [] and result.template_version == "2026.1"


def test_a_workbook_without_metadata_is_not_our_template(frameworks: Flask) -> None:
    message = only(check(edit(fill(template()), lambda book: book.remove(book["Metadata"]))))
    assert message.message.startswith("This workbook is not the return template from this service")


def test_metadata_contract_tampered(frameworks: Flask) -> None:
    message = only(check(edit(fill(template()), _metadata("contract_id", "not a number"))))
    assert message.message.startswith("This workbook is not the return template")


def test_framework_changed_since_the_template_was_made(frameworks: Flask) -> None:
    old = fill(template())
    add_item("HBC-CYP-DA-01", "CASELOAD", Decimal(40), effective_from="2013-14-Q3")
    result = check(old)
    assert where(result) == [("error", "KPIs", "", "CASELOAD")]
    assert result.messages[0].message == (
        "The row for active caseload is missing from the KPIs sheet. "
        "Download the template again and copy your figures into it."
    )


def test_a_kpi_no_longer_in_force(frameworks: Flask) -> None:
    from sqlalchemy import select

    from monitor.db import db
    from monitor.kpis.models import FrameworkItem, Kpi

    old = fill(template())
    item = db.session.execute(select(FrameworkItem).join(Kpi).where(Kpi.code == "CASES-CLOSED")).scalar_one()
    item.effective_from, item.effective_to = "2013-14-Q4", None
    db.session.commit()
    message = only(check(old))
    assert (message.sheet, message.cell, message.kpi) == ("KPIs", "H8", "CASES-CLOSED")
    assert "is not in this contract's performance framework for the quarter" in message.message


def test_moved_table_markers(frameworks: Flask) -> None:
    def delete_start(book: Any) -> None:
        for row in book["KPIs"].iter_rows():
            if row[0].value == "START:KPIS":
                row[0].value = None

    message = only(check(edit(fill(template()), delete_start)))
    assert (message.sheet, message.cell) == ("KPIs", "")
    assert message.message.startswith("The table on the KPIs sheet cannot be found")


def test_deleted_sheet(frameworks: Flask) -> None:
    result = check(edit(fill(template()), lambda book: book.remove(book["Commentary"])))
    assert where(result) == [("error", "Commentary", "", "")]
    assert result.messages[0].message.startswith("The Commentary sheet is missing")


def test_figure_typed_outside_the_rows(frameworks: Flask) -> None:
    def stray(book: Any) -> None:
        sheet = book["KPIs"]
        for row in sheet.iter_rows():
            if row[0].value == "END:KPIS":
                end = row[0].row
                sheet.insert_rows(end)
                sheet.cell(end, 8).value = 12
                break

    message = only(check(edit(fill(template()), stray)))
    assert (message.sheet, message.cell) == ("KPIs", "H27")
    assert message.message.startswith("This figure is not on a row of the template")
