"""Contracts: the register (with the UI's filters), one contract, and writes."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from flask import current_app, jsonify, request, url_for

from monitor.access.rules import can_create_contracts
from monitor.api import serialise
from monitor.api.access import changeable_contract, readable_contract
from monitor.api.auth import current_api_user
from monitor.api.blueprint import blueprint
from monitor.api.errors import ApiError, field_error
from monitor.api.parsing import parse_body, read_json_object
from monitor.api.schemas import CONTRACT_CREATE, CONTRACT_UPDATE
from monitor.clock import today
from monitor.contracts import services
from monitor.contracts.dates import option_states
from monitor.contracts.models import Contract
from monitor.contracts.queries import MAX_PAGE_SIZE, RegisterFilters, parse_filters, register_page
from monitor.db import db
from monitor.errors import ValidationFailed

# The register's query parameters, in the order the OpenAPI document lists them
# (monitor.api.openapi asserts its LIST_QUERY matches).
LIST_PARAMETERS = (
    "status",
    "category",
    "service_type",
    "provider",
    "commissioner",
    "funder",
    "ends_within",
    "q",
    "sort",
    "order",
    "page",
    "per_page",
)
# The register reads a whole number as at most nine ASCII digits (monitor.contracts.queries),
# a narrower rule than the document's: an id of ten digits, leading zeros past nine
# digits or ends_within=-0 pass the document and are refused here, in the API's words.
_REGISTER_MESSAGES = {
    "provider": "provider must be the whole-number id of a provider organisation, like 12",
    "commissioner": "commissioner must be the whole-number id of a commissioner, like 3",
    "funder": "funder must be the whole-number id of a funder or commissioner, like 7",
    "ends_within": "ends_within must be a whole number of months from 0 to 240, like 6",
    "page": "page must be a whole number, like 2",
}
_WHOLE_NUMBER = re.compile(r"^[0-9]{1,9}$")


def _list_arguments() -> tuple[RegisterFilters, int]:
    """The register's filters and page size. Unknown, empty, out-of-range and
    NUL-bearing parameters were refused against the OpenAPI document before the
    view ran (monitor.api.openapi.check_parameters); this refuses what the
    document allows and the register cannot read."""
    args = request.args
    filters = parse_filters(args)
    errors = {name: _REGISTER_MESSAGES.get(name, message) for name, message in filters.errors.items()}
    per_page = current_app.config["REGISTER_PAGE_SIZE"]
    raw = args.get("per_page", "").strip()
    if raw:
        if _WHOLE_NUMBER.match(raw):
            per_page = int(raw)
        else:
            errors["per_page"] = f"per_page must be a whole number from 1 to {MAX_PAGE_SIZE}"
    if errors:
        raise field_error(422, errors)
    return filters, per_page


@blueprint.get("/contracts")
def contracts() -> Any:
    filters, per_page = _list_arguments()
    now = today()
    page = register_page(db.session(), current_api_user(), filters, now, per_page)
    return jsonify(
        {
            "contracts": [serialise.contract_summary(contract, now) for contract, _status in page.rows],
            "page": page.page,
            "per_page": page.page_size,
            "total": page.total,
            "pages": page.pages,
        }
    )


def _detail(item: Contract) -> dict[str, Any]:
    """A contract as the API shows it, with each option's state on today (a contract
    that has ended shows its remaining options as lapsed, as its page does)."""
    detail = serialise.contract_detail(item, today())
    states = option_states(item, today())
    for option in detail.get("extension_options", []):
        option["state"] = states.get(option["id"], option["state"])
    return detail


@blueprint.get("/contracts/<int:contract_id>")
def contract(contract_id: int) -> Any:
    item = readable_contract(db.session(), current_api_user(), contract_id)
    return jsonify(_detail(item))


def _fields(values: dict[str, Any]) -> services.ContractFields:
    # The request's total_value is what a commissioner knows at award: the value of
    # the initial term. The total of the terms in force is worked out from it.
    values = dict(values)
    if "total_value" in values:
        values["initial_value"] = values.pop("total_value")
    return services.ContractFields(**values)


@contextmanager
def _request_names() -> Iterator[None]:
    """Name refused fields as the request does (total_value, not initial_value)."""
    try:
        yield
    except ValidationFailed as failed:
        raise ValidationFailed(
            {("total_value" if name == "initial_value" else name): m for name, m in failed.errors.items()}
        ) from None


def _current_values(item: Contract) -> dict[str, Any]:
    """A contract's editable values, as the service takes them."""
    return {
        "reference": item.reference,
        "title": item.title,
        "description": item.description,
        "service_type": item.service_type,
        "category": item.category,
        "agreement_type": item.agreement_type,
        "provider_id": item.provider_id,
        "lead_commissioner_id": item.lead_commissioner_id,
        "partner_commissioner_ids": [org.id for org in item.partner_commissioners],
        "cohorts": item.cohorts,
        "award_date": item.award_date,
        "start_date": item.start_date,
        # The initial term; extensions move end_date, and only amendments do that.
        "end_date": item.original_end_date,
        "notice_period_months": item.notice_period_months,
        "annual_value": item.annual_value,
        "initial_value": item.initial_value,
        "contract_manager": item.contract_manager,
        "option_months": [option.length_months for option in item.options],
    }


@blueprint.post("/contracts")
def create_contract() -> Any:
    user = current_api_user()
    if not can_create_contracts(user):
        raise ApiError(403, "Only commissioners can record contracts")
    with db.transaction() as session:
        values = parse_body(CONTRACT_CREATE, read_json_object())
        values.setdefault("lead_commissioner_id", user.organisation_id)
        values.setdefault("notice_period_months", 6)
        with _request_names():
            created = services.create_contract(session, user, _fields(values))
    response = jsonify(_detail(created))
    response.headers["Location"] = url_for("api.contract", contract_id=created.id)
    return response, 201


@blueprint.patch("/contracts/<int:contract_id>")
def update_contract(contract_id: int) -> Any:
    user = current_api_user()
    with db.transaction() as session:
        item = changeable_contract(session, user, contract_id)
        changes = parse_body(CONTRACT_UPDATE, read_json_object(), partial=True)
        with _request_names():
            services.update_contract(session, user, item, _fields({**_current_values(item), **changes}))
    return jsonify(_detail(item))
