"""Amendments: exercising an extension option, or recording a variation,
value change, termination or decommissioning; and correcting the record of one
with a correcting amendment that names it."""

from __future__ import annotations

from typing import Any

from flask import jsonify, url_for

from monitor.api import serialise
from monitor.api.access import amendment_of, changeable_contract, readable_contract
from monitor.api.auth import current_api_user
from monitor.api.blueprint import blueprint
from monitor.api.errors import ApiError, field_error
from monitor.api.parsing import parse_body, read_json_object
from monitor.api.schemas import AMENDMENT, AMENDMENT_CORRECTION
from monitor.clock import today
from monitor.contracts import services
from monitor.contracts.models import AmendmentKind, Contract
from monitor.db import db

PLANNED = "planned"


def _kind_field_errors(values: dict[str, Any]) -> dict[str, str]:
    """Fields that only make sense for some kinds of amendment."""
    kind = values.get("kind")
    errors: dict[str, str] = {}
    if kind == AmendmentKind.VALUE_CHANGE and values.get("new_value") is None:
        errors["new_value"] = "new_value is required for a value change: the new total value in pounds"
    if kind is not None and kind != AmendmentKind.VALUE_CHANGE and "new_value" in values:
        errors["new_value"] = "new_value is only for a value change; leave it out"
    if kind is not None and kind != AmendmentKind.EXTENSION and "option_id" in values:
        errors["option_id"] = "option_id is only for an extension; leave it out"
    if kind == AmendmentKind.CORRECTION:
        errors["kind"] = (
            "A correction is recorded with PATCH on the amendment it corrects, not as a new amendment"
        )
    return errors


def _parse(body: dict[str, Any]) -> tuple[dict[str, Any], dict[str, str]]:
    """The fields that parse, and a message for each that does not."""
    try:
        return parse_body(AMENDMENT, body), {}
    except ApiError as refused:
        shape = dict(refused.errors)
    # Parse again without the broken fields, so the rules can judge the rest.
    usable = {name: value for name, value in body.items() if name not in shape}
    return parse_body(AMENDMENT, usable, partial=True), shape


def _check(contract: Contract, values: dict[str, Any], option_id: int | None) -> dict[str, str]:
    fields = services.AmendmentFields(
        kind=values.get("kind", ""),
        effective_date=values.get("effective_date"),
        rationale=values.get("rationale", ""),
        approved_by=values.get("approved_by", ""),
        board_minute_reference=values.get("board_minute_reference", ""),
        new_value=values.get("new_value"),
        planned=values.get(PLANNED, False),
    )
    if fields.kind == AmendmentKind.EXTENSION:
        return services.check_extension(contract, option_id, fields, today())
    return services.check_amendment(contract, fields, today())


@blueprint.get("/contracts/<int:contract_id>/amendments/<int:amendment_id>")
def amendment(contract_id: int, amendment_id: int) -> Any:
    item = readable_contract(db.session(), current_api_user(), contract_id)
    return jsonify(serialise.amendment(amendment_of(item, amendment_id)))


@blueprint.patch("/contracts/<int:contract_id>/amendments/<int:amendment_id>")
def correct_amendment(contract_id: int, amendment_id: int) -> Any:
    """Records a correcting amendment naming this one, and answers with it."""
    user = current_api_user()
    with db.transaction() as session:
        item = changeable_contract(session, user, contract_id)
        values = parse_body(AMENDMENT_CORRECTION, read_json_object(), partial=True)
        correction = services.correct_amendment(
            session, user, item, amendment_of(item, amendment_id), **values
        )
    return jsonify(serialise.amendment(correction))


@blueprint.post("/contracts/<int:contract_id>/amendments")
def record_amendment(contract_id: int) -> Any:
    user = current_api_user()
    with db.transaction() as session:
        item = changeable_contract(session, user, contract_id)
        values, errors = _parse(dict(read_json_object()))
        values.setdefault(PLANNED, False)
        errors.update({k: v for k, v in _kind_field_errors(values).items() if k not in errors})
        option_id = values.pop("option_id", None)
        rules = _check(item, values, option_id)
        errors.update({k: v for k, v in rules.items() if k not in errors})
        if errors:
            raise field_error(422, errors)
        fields = services.AmendmentFields(**values)
        if fields.kind == AmendmentKind.EXTENSION:
            created = services.exercise_extension(session, user, item, option_id, fields)
        else:
            created = services.record_amendment(session, user, item, fields)
    response = jsonify(serialise.amendment(created))
    response.headers["Location"] = url_for("api.amendment", contract_id=item.id, amendment_id=created.id)
    return response, 201
