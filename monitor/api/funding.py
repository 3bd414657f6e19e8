"""Funding totals by funder and by category, with the lines behind them."""

from __future__ import annotations

from typing import Any

from flask import jsonify, request

from monitor.api import serialise
from monitor.api.auth import current_api_user
from monitor.api.blueprint import blueprint
from monitor.api.errors import field_error
from monitor.contracts import funding as totals
from monitor.contracts.funding import Matrix
from monitor.contracts.periods import FINANCIAL_YEAR_HINT, parse_financial_year
from monitor.db import db


def _financial_year() -> str | None:
    """The financial year asked for, or None for every year. Unknown parameters and
    a year not written like 2013/14 were refused against the OpenAPI document before
    the view ran (monitor.api.openapi.check_parameters); the document cannot tell
    that 2013/15 is not a financial year, so that is checked here."""
    raw = request.args.get("financial_year", "").strip()
    if not raw:
        return None
    year = parse_financial_year(raw)
    if year is None:
        raise field_error(422, {"financial_year": FINANCIAL_YEAR_HINT})
    return year


def _rows(matrix: Matrix, label: str) -> list[dict[str, Any]]:
    return [{label: row, "amount": serialise.money(matrix.row_total(row))} for row in matrix.rows]


@blueprint.get("/funding")
def funding_summary() -> Any:
    year = _financial_year()
    user = current_api_user()
    session = db.session()
    by_funder = totals.by_funder(session, user, year)
    by_category = totals.by_category(session, user, year)
    lines = totals.lines(session, user, year)
    return jsonify(
        {
            "financial_year": year,
            "by_funder": _rows(by_funder, "funder"),
            "by_category": _rows(by_category, "category"),
            "by_year": [
                {"financial_year": y, "amount": serialise.money(by_funder.year_total(y))}
                for y in by_funder.years
            ],
            "total": serialise.money(by_funder.grand_total),
            "lines": [
                {**serialise.funding_line(line), "contract_reference": line.contract.reference}
                for line in lines
            ],
        }
    )
