"""The return template: what a provider sees, what is locked, and what the importer relies on."""

from __future__ import annotations

import io
from decimal import Decimal

import openpyxl
import pytest
from flask import Flask
from sqlalchemy import select

from monitor.db import db
from monitor.kpis.models import FrameworkItem, Kpi
from monitor.kpis.periods import Quarter
from monitor.kpis.returns.template import CURRENT_LAYOUT, TemplateError, build_template
from tests.kpis.fixtures.workbooks import GENERATED_AT, Q3, Q4, add_return, contract, template

# Where the Halton template puts things (rows counted as Excel does): pinned so a layout
# change is a deliberate, versioned one.
HALTON_INPUTS = {
    "H8": ("CASES-CLOSED", "", "value"),
    "H9": ("CP-CIN-SUPPORTED", "Child protection plan", "breakdown"),
    "H11": ("CP-CIN-SUPPORTED", "", "total"),
    "H13": ("REF-RECEIVED", "Police", "breakdown"),
    "H20": ("REF-RECEIVED", "", "total"),
    "H21": ("CONTACT-2WD", "", "numerator"),
    "H22": ("CONTACT-2WD", "", "denominator"),
}


def _book(content: bytes) -> openpyxl.Workbook:
    return openpyxl.load_workbook(io.BytesIO(content))


def _rows(sheet: openpyxl.worksheet.worksheet.Worksheet, tag: str) -> tuple[dict[str, int], list[int]]:
    columns: dict[str, int] = {}
    rows: list[int] = []
    inside = False
    for row in sheet.iter_rows():
        if row[0].value == f"START:{tag}":
            columns = {c.value: c.column for c in row[1:] if c.value}
            inside = True
        elif row[0].value == f"END:{tag}":
            break
        elif inside:
            rows.append(row[0].row)
    return columns, rows


def test_sheets_cover_and_hidden_metadata(frameworks: Flask) -> None:
    book = _book(template())
    assert book.sheetnames == ["Cover", "KPIs", "Outcomes", "Commentary", "Metadata"]
    assert [sheet.sheet_state for sheet in book] == ["visible"] * 4 + ["hidden"]
    cover = " ".join(str(c.value) for row in book["Cover"].iter_rows() for c in row if c.value)
    assert "HBC-CYP-DA-01" in cover and "Halton Children's Recovery Service" in cover
    assert "Q3 2013/14 (October to December 2013)" in cover
    assert "Due by" in cover and "January 2014" in cover
    assert "Never enter names" in cover
    metadata = {row[1].value: row[2].value for row in book["Metadata"].iter_rows(min_row=2) if row[1].value}
    assert len(metadata.pop("signature")) == 64  # an HMAC-SHA256 of the rest, in hex
    assert metadata == {
        "template_version": CURRENT_LAYOUT.version,
        "contract_id": contract("HBC-CYP-DA-01").id,
        "contract_reference": "HBC-CYP-DA-01",
        "period": "2013-14-Q3",
        "generated_at": GENERATED_AT.isoformat(timespec="seconds"),
    }
    assert book["Metadata"]["A1"].value == "START:METADATA"


def test_one_input_row_per_item_breakdown_and_part(frameworks: Flask) -> None:
    sheet = _book(template())["KPIs"]
    columns, rows = _rows(sheet, "KPIS")
    keys = [
        tuple(sheet.cell(r, columns[k]).value or "" for k in ("kpi_code", "breakdown", "line")) for r in rows
    ]
    for cell, key in HALTON_INPUTS.items():
        assert keys[sheet[cell].row - rows[0]] == key
        assert sheet[cell].column == columns["value"]
    referral_rows = [k for k in keys if k[0] == "REF-RECEIVED"]
    assert len(referral_rows) == 8  # seven sources and the total
    assert [k[2] for k in keys if k[0] == "CONTACT-2WD"] == ["numerator", "denominator", "percentage"]
    derived = rows[keys.index(("SDQ-IMPROVED", "", "derived"))]
    assert sheet.cell(derived, columns["value"]).value == "Worked out from the Outcomes sheet"
    targets = {
        k[0]: sheet.cell(r, columns["target"]).value
        for r, k in zip(rows, keys, strict=True)
        if k[2] != "breakdown"
    }
    # Halton's service started on 4 November 2013, so its Q3 target is pro-rated.
    assert targets["REF-RECEIVED"] == "19 or more (pro-rated: 58 of 92 days)"
    assert targets["CP-CIN-SUPPORTED"] == "no target"
    labels = {k: sheet.cell(r, columns["label"]).value for r, k in zip(rows, keys, strict=True)}
    assert labels[("CONTACT-2WD", "", "numerator")] == "Accepted referrals contacted within two working days"
    assert labels[("CONTACT-2WD", "", "denominator")] == "Referrals accepted"


def test_inputs_unlocked_everything_else_locked_and_protected(frameworks: Flask) -> None:
    book = _book(template())
    for sheet in book:
        assert sheet.protection.sheet is True, sheet.title
        assert not sheet.protection.password, "protected without a password"
    kpis = book["KPIs"]
    columns, rows = _rows(kpis, "KPIS")
    for row in rows:
        line = kpis.cell(row, columns["line"]).value
        for column in range(1, kpis.max_column + 1):
            cell = kpis.cell(row, column)
            wanted_unlocked = column == columns["value"] and line not in ("percentage", "derived")
            assert cell.protection.locked is not wanted_unlocked, cell.coordinate
    assert kpis["B4"].protection.locked and kpis["A1"].protection.locked
    outcomes = book["Outcomes"]
    columns, rows = _rows(outcomes, "OUTCOMES")
    assert len(rows) == 500
    for row in (rows[0], rows[-1]):
        for key in ("measure", "informant", "pre_score", "post_score"):
            assert outcomes.cell(row, columns[key]).protection.locked is False
    commentary = book["Commentary"]
    columns, rows = _rows(commentary, "COMMENTARY")
    assert len(rows) == 8
    for row in rows:
        assert commentary.cell(row, columns["explanation"]).protection.locked is False
        assert commentary.cell(row, columns["code"]).protection.locked is True
    assert all(c.protection.locked for row in book["Cover"].iter_rows() for c in row)


def test_tag_columns_and_key_rows_are_hidden(frameworks: Flask) -> None:
    book = _book(template())
    for name in ("KPIs", "Outcomes", "Commentary"):
        sheet = book[name]
        assert sheet.column_dimensions["A"].hidden
        start = next(
            row[0].row for row in sheet.iter_rows() if row[0].value and str(row[0].value).startswith("START:")
        )
        assert sheet.row_dimensions[start].hidden
    kpis = book["KPIs"]
    hidden = {n for d in kpis.column_dimensions.values() if d.hidden for n in range(d.min, d.max + 1)}
    assert hidden == {1, 9, 10, 11}  # the tag column and the KPI code, breakdown and line keys


def test_data_validation_on_every_input(frameworks: Flask) -> None:
    book = _book(template())
    kpis = book["KPIs"]
    rules = {}
    for validation in kpis.data_validations.dataValidation:
        for cell_range in validation.sqref.ranges:
            rules[cell_range.coord] = validation
    for cell in HALTON_INPUTS:
        assert rules[cell].type == "whole" and rules[cell].operator in (None, "between")
        assert rules[cell].formula1 == "0"
        assert rules[cell].showInputMessage and rules[cell].prompt
    assert "police" in rules["H13"].prompt.lower()
    outcomes = {str(v.sqref): v for v in book["Outcomes"].data_validations.dataValidation}
    assert outcomes["B7:B506"].type == "list" and outcomes["B7:B506"].formula1 == '"SDQ,WEMWBS,SWEMWBS"'
    assert outcomes["C7:C506"].formula1 == '"parent,teacher,self"'
    assert outcomes["D7:E506"].type == "whole"


def test_percentage_kpi_typed_directly_is_validated_0_to_100(frameworks: Flask) -> None:
    from tests.kpis.fixtures.workbooks import add_item, add_kpi

    add_kpi("SATISFIED", unit="percentage", rollup="mean")
    add_item("HBC-CYP-DA-01", "SATISFIED", Decimal(80))
    sheet = _book(template())["KPIs"]
    columns, rows = _rows(sheet, "KPIS")
    row = next(r for r in rows if sheet.cell(r, columns["kpi_code"]).value == "SATISFIED")
    cell = sheet.cell(row, columns["value"]).coordinate
    rule = next(v for v in sheet.data_validations.dataValidation if cell in v.sqref)
    assert (rule.type, rule.formula1, rule.formula2) == ("decimal", "0", "100")
    assert sheet.cell(row, columns["target"]).value == "80% or more"


def test_yearly_target_and_last_quarter_from_latest_submitted_version(frameworks: Flask) -> None:
    item = db.session.execute(
        select(FrameworkItem)
        .join(Kpi)
        .where(Kpi.code == "REF-ACCEPTED", FrameworkItem.contract_id == contract("HBC-CYP-DA-01").id)
    ).scalar_one()
    item.target, item.target_basis = Decimal(120), "year"
    db.session.commit()
    add_return(
        "HBC-CYP-DA-01",
        "2013-14-Q3",
        {("REF-ACCEPTED", ""): Decimal(21), ("REF-RECEIVED", "Police"): Decimal(7)},
    )
    add_return(
        "HBC-CYP-DA-01",
        "2013-14-Q3",
        {("REF-ACCEPTED", ""): Decimal(24), ("CONTACT-2WD", ""): (Decimal("87.5"), Decimal(21), Decimal(24))},
    )
    add_return("HBC-CYP-DA-01", "2013-14-Q3", {("REF-ACCEPTED", ""): Decimal(99)}, submitted=False)
    sheet = _book(template(quarter=Q4))["KPIs"]
    columns, rows = _rows(sheet, "KPIS")
    by_key = {
        tuple(sheet.cell(r, columns[k]).value or "" for k in ("kpi_code", "breakdown", "line")): r
        for r in rows
    }
    accepted = by_key[("REF-ACCEPTED", "", "value")]
    assert sheet.cell(accepted, columns["target"]).value == "120 or more a year"
    assert (
        sheet.cell(accepted, columns["last_quarter"]).value == 24
    )  # version 2; version 3 was never submitted
    assert sheet.cell(by_key[("REF-RECEIVED", "Police", "breakdown")], columns["last_quarter"]).value is None
    assert sheet.cell(by_key[("CONTACT-2WD", "", "numerator")], columns["last_quarter"]).value == 21
    assert sheet.cell(by_key[("CONTACT-2WD", "", "denominator")], columns["last_quarter"]).value == 24
    assert sheet.cell(by_key[("CONTACT-2WD", "", "percentage")], columns["last_quarter"]).value == 87.5


def test_no_framework_in_force_is_a_clear_error(frameworks: Flask) -> None:
    with pytest.raises(TemplateError, match="HBC-CYP-DA-01 has no KPIs in force in Q2 2013/14"):
        build_template(db.session(), contract("HBC-CYP-DA-01"), Quarter(2013, 2), generated_at=GENERATED_AT)


def test_same_inputs_same_workbook(frameworks: Flask) -> None:
    assert template() == template()
    assert Q3.label in str(_book(template())["KPIs"]["B1"].value)
