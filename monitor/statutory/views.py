"""The statutory safe-accommodation return pages: the compiled return, the
contracts that count, and the return as a spreadsheet and a CSV.

A commissioner sees their own authority's return; an administrator chooses
an authority. Everyone else is refused. Years in addresses are written
2013-14 (a slash would split the address)."""

from __future__ import annotations

import csv
from io import BytesIO, StringIO
from typing import Any

import xlsxwriter
from flask import Blueprint, abort, flash, redirect, render_template, request, send_file, url_for
from flask_login import login_required

from etl.app import app_warehouse
from etl.engine import WarehouseUnavailable
from monitor.access.roles import Role
from monitor.access.rules import can_compile_return
from monitor.access.signed_in import signed_in_user
from monitor.auth.models import Organisation, User
from monitor.clock import now, today
from monitor.contracts.export import XLSX_MIMETYPE
from monitor.db import db
from monitor.errors import Forbidden, ValidationFailed
from monitor.formatting import count_text, list_text, time_text
from monitor.forms import save
from monitor.statutory.definition import Definition
from monitor.statutory.forms import SafeAccommodationForm
from monitor.statutory.reconcile import Reconciliation, reconcile
from monitor.statutory.service import (
    CompiledReturn,
    ReturnRow,
    authorities,
    compile_return,
    definitions,
    flagged_contracts,
    kpi_library,
    live_contracts,
    set_contracts,
    year_from_url,
    year_in_url,
    years_with_flags,
)

blueprint = Blueprint("statutory", __name__)

COLUMNS = (
    "Question number",
    "Question",
    "Category",
    "Figure",
    "Mandatory",
    "Status and notes",
    "Warehouse check",
)


def _authority_id(user: User) -> int | None:
    """The authority asked for: a commissioner's own (another's is refused), or the
    administrator's choice (None until they choose). Anyone else is refused."""
    if user.role not in (Role.ADMIN, Role.COMMISSIONER):
        abort(403)
    raw = request.args.get("authority", "").strip()
    if not raw:
        return user.organisation_id if user.role == Role.COMMISSIONER else None
    if not raw.isdigit():
        abort(404)
    authority_id = int(raw)
    if not can_compile_return(user, authority_id):
        abort(403)
    if db.session.get(Organisation, authority_id) is None:
        abort(404)
    return authority_id


def _required_authority(user: User) -> int:
    authority_id = _authority_id(user)
    if authority_id is None:
        abort(404)
    return authority_id


def _year_or_404(text: str, known: dict[str, Definition]) -> str:
    year = year_from_url(text)
    if year is None or year not in known:
        abort(404)
    return year


def _default_year(authority_id: int | None, known: dict[str, Definition]) -> str:
    if authority_id is not None:
        flagged = [year for year in years_with_flags(db.session(), authority_id) if year in known]
        if flagged:
            return flagged[-1]
    return list(known)[-1]


def _reconciled(compiled: CompiledReturn) -> Reconciliation:
    """The compiled return against the warehouse beside the app, if it has one."""
    try:
        warehouse = app_warehouse()
    except WarehouseUnavailable:
        warehouse = None
    return reconcile(db.session(), compiled, warehouse)


def _no_definition(year: str, known: dict[str, Definition]) -> str:
    return (
        f"There is no statutory return definition for {year}; the years with one are "
        f"{list_text(list(known))}. Choose one of those years"
    )


@blueprint.route("/statutory-return")
@login_required
def statutory_return() -> Any:
    user = signed_in_user()
    authority_id = _authority_id(user)
    library = kpi_library(db.session())
    known = definitions(library)
    raw_year = request.args.get("year", "").strip()
    error = None
    year = _default_year(authority_id, known)
    if raw_year:
        asked = year_from_url(raw_year)
        if asked is None:
            error = f"'{raw_year}' is not a financial year: choose a year like 2013-14 from the list"
        elif asked not in known:
            error = _no_definition(asked, known)
        else:
            year = asked
    compiled = reconciliation = None
    if authority_id is not None and error is None:
        compiled = compile_return(db.session(), authority_id, year, library, today())
        reconciliation = _reconciled(compiled)
    return render_template(
        "statutory/return.html",
        title="Statutory safe accommodation return",
        compiled=compiled,
        reconciliation=reconciliation,
        year=year,
        years=list(known),
        year_in_url=year_in_url,
        authority_id=authority_id,
        authorities=authorities(db.session()) if user.role == Role.ADMIN else [],
        is_admin=user.role == Role.ADMIN,
        error=error,
    ), (400 if error else 200)


@blueprint.route("/statutory-return/<year>/contracts", methods=["GET", "POST"])
@login_required
def choose_contracts(year: str) -> Any:
    user = signed_in_user()
    authority_id = _required_authority(user)
    financial_year = _year_or_404(year, definitions(kpi_library(db.session())))
    live = live_contracts(db.session(), authority_id, financial_year)
    form = SafeAccommodationForm()
    form.contract_ids.choices = [
        (str(contract.id), f"{contract.reference}: {contract.title} ({contract.provider.name})")
        for contract in live
    ]
    authority_args: dict[str, Any] = {"authority": authority_id} if user.role == Role.ADMIN else {}
    if request.method == "GET":
        form.contract_ids.data = [
            str(contract.id) for contract in flagged_contracts(db.session(), authority_id, financial_year)
        ]
    elif form.validate_on_submit():
        chosen = _chosen_ids(form)
        if chosen is not None:
            try:
                saved = save(
                    form,
                    lambda session: set_contracts(session, user, authority_id, financial_year, chosen),
                )
            except Forbidden:
                abort(403)
            if saved is not None:
                flash(
                    f"Saved: {count_text(len(saved), 'contract')} "
                    f"{'counts' if len(saved) == 1 else 'count'} towards the {financial_year} return",
                    "success",
                )
                return redirect(url_for("statutory.statutory_return", year=year, **authority_args))
    return render_template(
        "statutory/contracts.html",
        title=f"Contracts in the {financial_year} return",
        form=form,
        error_form=form,
        financial_year=financial_year,
        year=year,
        live=live,
        authority_args=authority_args,
    ), (400 if form.errors else 200)


def _chosen_ids(form: SafeAccommodationForm) -> list[int] | None:
    raw = form.contract_ids.data or []
    if not all(value.isdigit() for value in raw):
        form.contract_ids.errors = ["Choose contracts from the list"]
        return None
    return [int(value) for value in raw]


def _compiled_for_download(year: str) -> tuple[CompiledReturn, Reconciliation]:
    user = signed_in_user()
    authority_id = _required_authority(user)
    library = kpi_library(db.session())
    financial_year = _year_or_404(year, definitions(library))
    try:
        compiled = compile_return(db.session(), authority_id, financial_year, library, today())
    except ValidationFailed:
        abort(404)
    return compiled, _reconciled(compiled)


def header_block(compiled: CompiledReturn, reconciliation: Reconciliation) -> list[tuple[str, str]]:
    """The lines above the table in both downloads."""
    definition = compiled.definition
    lines = [
        ("Return", definition.title),
        ("Authority", compiled.authority.name),
        ("Reporting year", compiled.financial_year),
        ("Definition version", str(definition.version)),
    ]
    if definition.illustrative:
        lines.append(("Illustrative", definition.notes or "Illustrative only: not a real return"))
    lines.append(("Compiled", f"{time_text(now())} (UK time)"))
    lines.append(
        (
            "Sources",
            f"{count_text(len(compiled.contracts), 'contract')}; "
            f"{count_text(compiled.accepted_count, 'return')} accepted, "
            f"{compiled.waiting_count} not yet accepted, {compiled.not_sent_count} not sent",
        )
    )
    lines.append(("Warehouse check", reconciliation.summary))
    return lines


def _cells(row: ReturnRow, reconciliation: Reconciliation) -> list[Any]:
    # A figure not available is left blank, never 0; the notes say why.
    check = reconciliation.check(row)
    return [
        row.number,
        row.question,
        row.category,
        row.value,
        "Yes" if row.mandatory else "No",
        row.notes,
        check.text if check else "Not checked",
    ]


@blueprint.route("/statutory-return/<year>.xlsx")
@login_required
def return_workbook(year: str) -> Any:
    compiled, reconciliation = _compiled_for_download(year)
    buffer = BytesIO()
    workbook = xlsxwriter.Workbook(buffer, {"in_memory": True})
    sheet = workbook.add_worksheet("Return")
    bold = workbook.add_format({"bold": True})
    wrap = workbook.add_format({"text_wrap": True, "valign": "top"})
    figure = workbook.add_format({"num_format": "#,##0", "valign": "top"})
    row_number = 0
    for label, text in header_block(compiled, reconciliation):
        sheet.write_string(row_number, 0, label, bold)
        sheet.write_string(row_number, 1, text)
        row_number += 1
    row_number += 1
    for column, heading in enumerate(COLUMNS):
        sheet.write_string(row_number, column, heading, bold)
    header_row = row_number
    for row in compiled.rows:
        row_number += 1
        for column, value in enumerate(_cells(row, reconciliation)):
            if value is None:
                sheet.write_blank(row_number, column, None, figure)
            elif isinstance(value, float):
                sheet.write_number(row_number, column, value, figure)
            else:
                sheet.write_string(row_number, column, value, wrap)
    sheet.freeze_panes(header_row + 1, 0)
    for column, width in enumerate((10, 60, 30, 12, 10, 60, 60)):
        sheet.set_column(column, column, width)
    workbook.close()
    buffer.seek(0)
    return send_file(
        buffer,
        mimetype=XLSX_MIMETYPE,
        as_attachment=True,
        download_name=f"statutory-return-{year_in_url(compiled.financial_year)}.xlsx",
    )


def _plain_number(value: float | None) -> str:
    """1250 or 12.5 for a CSV: no thousands separator, no exponent; "" for none."""
    if value is None:
        return ""
    return str(int(value)) if value == int(value) else f"{value:.2f}".rstrip("0")


@blueprint.route("/statutory-return/<year>.csv")
@login_required
def return_csv(year: str) -> Any:
    compiled, reconciliation = _compiled_for_download(year)
    text = StringIO()
    writer = csv.writer(text)
    for label, value in header_block(compiled, reconciliation):
        writer.writerow([label, value])
    writer.writerow([])
    writer.writerow(COLUMNS)
    for row in compiled.rows:
        cells = _cells(row, reconciliation)
        cells[3] = _plain_number(row.value)
        writer.writerow(cells)
    return send_file(
        BytesIO(text.getvalue().encode("utf-8-sig")),
        mimetype="text/csv",
        as_attachment=True,
        download_name=f"statutory-return-{year_in_url(compiled.financial_year)}.csv",
    )
