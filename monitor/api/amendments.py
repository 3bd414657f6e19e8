"""Amendments: exercising an extension option, or recording a variation,
value change, termination or decommissioning."""

from __future__ import annotations

from typing import Any

from flask import jsonify, url_for

from monitor.api import serialise
from monitor.api.access import amendment_of, changeable_contract, readable_contract
from monitor.api.auth import current_api_user
from monitor.api.blueprint import blueprint
from monitor.api.errors import field_error
from monitor.api.parsing import parse_body, read_json_object
from monitor.api.schemas import AMENDMENT, AMENDMENT_CORRECTION
from monitor.contracts import services
from monitor.contracts.models import AmendmentKind
from monitor.db import db


def _check_kind_fields(values: dict[str, Any]) -> None:
    """Fields that only make sense for some kinds of amendment."""
    kind = values["kind"]
    errors: dict[str, str] = {}
    if kind == AmendmentKind.VALUE_CHANGE and values.get("new_value") is None:
        errors["new_value"] = "new_value is required for a value change: the new total value in pounds"
    if kind != AmendmentKind.VALUE_CHANGE and "new_value" in values:
        errors["new_value"] = "new_value is only for a value change; leave it out"
    if kind != AmendmentKind.EXTENSION and "option_id" in values:
        errors["option_id"] = "option_id is only for an extension; leave it out"
    if errors:
        raise field_error(422, errors)


@blueprint.get("/contracts/<int:contract_id>/amendments/<int:amendment_id>")
def amendment(contract_id: int, amendment_id: int) -> Any:
    item = readable_contract(db.session(), current_api_user(), contract_id)
    return jsonify(serialise.amendment(amendment_of(item, amendment_id)))


@blueprint.patch("/contracts/<int:contract_id>/amendments/<int:amendment_id>")
def correct_amendment(contract_id: int, amendment_id: int) -> Any:
    user = current_api_user()
    with db.transaction() as session:
        item = changeable_contract(session, user, contract_id)
        values = parse_body(AMENDMENT_CORRECTION, read_json_object(), partial=True)
        corrected = services.correct_amendment(
            session, user, item, amendment_of(item, amendment_id), **values
        )
    return jsonify(serialise.amendment(corrected))


@blueprint.post("/contracts/<int:contract_id>/amendments")
def record_amendment(contract_id: int) -> Any:
    user = current_api_user()
    with db.transaction() as session:
        item = changeable_contract(session, user, contract_id)
        values = parse_body(AMENDMENT, read_json_object())
        _check_kind_fields(values)
        option_id = values.pop("option_id", None)
        fields = services.AmendmentFields(**values)
        if fields.kind == AmendmentKind.EXTENSION:
            created = services.exercise_extension(session, user, item, option_id, fields)
        else:
            created = services.record_amendment(session, user, item, fields)
    response = jsonify(serialise.amendment(created))
    response.headers["Location"] = url_for("api.amendment", contract_id=item.id, amendment_id=created.id)
    return response, 201
