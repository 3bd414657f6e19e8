"""Pages that read the register: the list, a contract, renewals and funding."""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal
from typing import Any

from flask import current_app, redirect, render_template, request, send_file, url_for
from flask_login import login_required
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from monitor.access.roles import Role
from monitor.access.rules import can_change, can_create_contracts, can_see_audit
from monitor.access.signed_in import signed_in_user
from monitor.auth.models import OrganisationKind
from monitor.clock import today
from monitor.contracts import export, funding
from monitor.contracts.access import contract_for, organisation_choices, visible_contracts
from monitor.contracts.blueprint import blueprint
from monitor.contracts.dates import (
    date_within,
    decisions_of,
    offered_options,
    option_states,
    renewal_of,
    status_expression,
)
from monitor.contracts.forms import ConfirmForm
from monitor.contracts.models import Category, Contract, ServiceType
from monitor.contracts.periods import parse_financial_year
from monitor.contracts.queries import SORTS, RegisterFilters, parse_filters, register_page
from monitor.contracts.renewal import DATE_KIND_NAMES, Status
from monitor.db import db
from monitor.opendata.ready import Problem
from monitor.opendata.service import ExportProblem, publishing, readiness

# Where each role's work starts. The providers' task list is another part's page:
# until it is registered they land on the register.
_HOME: dict[str, str] = {
    Role.PROVIDER: "kpis.provider_tasks",
    Role.COMMISSIONER: "contracts.decisions",
    Role.BOARD: "kpis.performance",
    Role.ADMIN: "contracts.register",
}


@blueprint.route("/")
@login_required
def home() -> Any:
    return redirect(url_for(_HOME.get(signed_in_user().role or "", "contracts.register")))


@blueprint.route("/contracts")
@login_required
def register() -> Any:
    user = signed_in_user()
    filters = parse_filters(request.args)
    page = register_page(db.session(), user, filters, today(), current_app.config["REGISTER_PAGE_SIZE"])
    rows = [(contract, status, renewal_of(contract, today())) for contract, status in page.rows]
    session = db.session()
    return render_template(
        "contracts/register.html",
        title="Contracts",
        filters=filters,
        page=page,
        rows=rows,
        sorts=SORTS,
        statuses=[s.value for s in Status],
        categories=[c.value for c in Category],
        service_types=[s.value for s in ServiceType],
        providers=organisation_choices(session, OrganisationKind.PROVIDER),
        commissioners=organisation_choices(session, OrganisationKind.COMMISSIONER),
        funders=organisation_choices(session, OrganisationKind.FUNDER, OrganisationKind.COMMISSIONER),
        can_create=can_create_contracts(user),
        date_names=DATE_KIND_NAMES,
    ), (400 if filters.errors else 200)


@blueprint.route("/contracts/export.xlsx")
@login_required
def register_export() -> Any:
    filters = parse_filters(request.args)
    if filters.errors:
        return register()
    workbook = export.register_workbook(db.session(), signed_in_user(), filters, today())
    return send_file(
        workbook,
        mimetype=export.XLSX_MIMETYPE,
        as_attachment=True,
        download_name=f"contract-register-{today():%Y-%m-%d}.xlsx",
    )


def _funding_table(contract: Contract) -> dict[str, Any]:
    by_year: dict[str, list[Any]] = defaultdict(list)
    for line in contract.funding_lines:
        by_year[line.financial_year].append(line)
    totals = {year: sum((line.amount for line in lines), Decimal(0)) for year, lines in by_year.items()}
    return {
        "by_year": dict(sorted(by_year.items())),
        "totals": totals,
        "grand_total": sum(totals.values(), Decimal(0)),
    }


@blueprint.route("/contracts/<int:contract_id>")
@login_required
def contract(contract_id: int) -> Any:
    return contract_page(contract_for(db.session(), signed_in_user(), contract_id))


def contract_page(item: Contract, refused: list[ExportProblem] | None = None) -> Any:
    """The contract page; `refused` lists why an open data download was refused."""
    user = signed_in_user()
    session = db.session()
    return render_template(
        "contracts/contract.html",
        title=f"{item.reference}: {item.title}",
        contract=item,
        renewal=renewal_of(item, today()),
        decision=decisions_of(item, today()),
        option_states=option_states(item, today()),
        offered_options=offered_options(item, today()),
        funding_table=_funding_table(item),
        show_history=can_see_audit(user, item),
        can_change=can_change(user, item),
        confirm_form=ConfirmForm(),
        open_data=readiness(session, item, publishing()),
        # A refused download lists what refused it (the schema may catch what readiness did not).
        refused_problems=[Problem(p.field, p.message) for p in refused or []],
        refused_errors=[{"text": f"{p.message}.", "href": "#open-data"} for p in refused or []],
    ), (422 if refused else 200)


@blueprint.route("/renewals")
@login_required
def renewals() -> Any:
    user = signed_in_user()
    now = today()
    # Renewals reads only the register's date filter (which date, within how many months).
    parsed = parse_filters(request.args)
    filters = RegisterFilters(
        date_kind=parsed.date_kind,
        ends_within_months=parsed.ends_within_months,
        errors={k: v for k, v in parsed.errors.items() if k in ("which_date", "ends_within")},
    )
    current = [Status.PIPELINE, Status.MOBILISING, Status.LIVE, Status.IN_NOTICE, Status.EXTENDED]
    conditions = [visible_contracts(user), status_expression(now).in_([s.value for s in current])]
    if filters.ends_within_months is not None:
        conditions.append(date_within(filters.date_kind, now, filters.ends_within_months))
    contracts = db.session.scalars(
        select(Contract)
        .where(*conditions)
        .options(
            selectinload(Contract.options),
            selectinload(Contract.amendments),
            selectinload(Contract.provider),
        )
    ).all()
    assessed = [(c, renewal_of(c, now)) for c in contracts]
    # Overdue decisions first, then by the next date anyone must act on.
    assessed.sort(
        key=lambda pair: (
            not pair[1].decision_overdue,
            pair[1].next_key_date.on if pair[1].next_key_date else pair[0].end_date,
            pair[0].reference,
        )
    )
    overdue = sum(1 for _, r in assessed if r.decision_overdue)
    return render_template(
        "contracts/renewals.html",
        title="Renewals",
        rows=assessed,
        overdue=overdue,
        filters=filters,
        filter_errors=[{"text": m, "href": f"#filter-{name}"} for name, m in filters.errors.items()],
        date_names=DATE_KIND_NAMES,
    ), (400 if filters.errors else 200)


@blueprint.route("/funding")
@login_required
def funding_summary() -> Any:
    user = signed_in_user()
    raw_year = request.args.get("financial_year", "").strip()
    year = parse_financial_year(raw_year) if raw_year else None
    error = "Enter the financial year like 2013/14" if raw_year and year is None else None
    session = db.session()
    return render_template(
        "contracts/funding.html",
        title="Funding summary",
        by_funder=funding.by_funder(session, user, year),
        by_category=funding.by_category(session, user, year),
        financial_year=raw_year,
        year_error=error,
    ), (400 if error else 200)


@blueprint.route("/funding/export.xlsx")
@login_required
def funding_export() -> Any:
    raw_year = request.args.get("financial_year", "").strip()
    year = parse_financial_year(raw_year) if raw_year else None
    if raw_year and year is None:
        return funding_summary()
    workbook = export.funding_workbook(db.session(), signed_in_user(), year)
    return send_file(
        workbook,
        mimetype=export.XLSX_MIMETYPE,
        as_attachment=True,
        download_name=f"funding-summary-{year.replace('/', '-') if year else 'all-years'}.xlsx",
    )
