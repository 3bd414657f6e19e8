"""A contract's funding lines: read one, add, change and remove."""

from __future__ import annotations

from typing import Any

from flask import jsonify, url_for

from monitor.api import serialise
from monitor.api.access import changeable_contract, funding_line_of, readable_contract
from monitor.api.auth import current_api_user
from monitor.api.blueprint import blueprint
from monitor.api.parsing import parse_body, read_json_object
from monitor.api.schemas import FUNDING_LINE
from monitor.contracts import services
from monitor.contracts.models import FundingLine
from monitor.db import db


def _location(line: FundingLine) -> str:
    return url_for("api.funding_line", contract_id=line.contract_id, line_id=line.id)


@blueprint.get("/contracts/<int:contract_id>/funding-lines/<int:line_id>")
def funding_line(contract_id: int, line_id: int) -> Any:
    item = readable_contract(db.session(), current_api_user(), contract_id)
    return jsonify(serialise.funding_line(funding_line_of(item, line_id)))


@blueprint.post("/contracts/<int:contract_id>/funding-lines")
def add_funding_line(contract_id: int) -> Any:
    user = current_api_user()
    with db.transaction() as session:
        item = changeable_contract(session, user, contract_id)
        values = parse_body(FUNDING_LINE, read_json_object())
        line = services.add_funding_line(session, user, item, services.FundingFields(**values))
    response = jsonify(serialise.funding_line(line))
    response.headers["Location"] = _location(line)
    return response, 201


@blueprint.patch("/contracts/<int:contract_id>/funding-lines/<int:line_id>")
def update_funding_line(contract_id: int, line_id: int) -> Any:
    user = current_api_user()
    with db.transaction() as session:
        item = changeable_contract(session, user, contract_id)
        line = funding_line_of(item, line_id)
        changes = parse_body(FUNDING_LINE, read_json_object(), partial=True)
        current = {
            "funder_id": line.funder_id,
            "funding_stream": line.funding_stream,
            "financial_year": line.financial_year,
            "amount": line.amount,
        }
        services.update_funding_line(
            session, user, item, line, services.FundingFields(**{**current, **changes})
        )
    return jsonify(serialise.funding_line(line))


@blueprint.delete("/contracts/<int:contract_id>/funding-lines/<int:line_id>")
def delete_funding_line(contract_id: int, line_id: int) -> Any:
    user = current_api_user()
    with db.transaction() as session:
        item = changeable_contract(session, user, contract_id)
        services.delete_funding_line(session, user, item, funding_line_of(item, line_id))
    return "", 204
