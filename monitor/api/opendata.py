"""Open data: OCDS release packages and 360Giving grants, as published.

Token-protected like the rest of the API and scoped to what the token's user
may see; the content is register data only. A contract that cannot be
published yet is answered 422 with each missing field and how to fill it in.
"""

from __future__ import annotations

from typing import Any

from flask import Response, request

from monitor.api import openapi
from monitor.api.access import readable_contract
from monitor.api.auth import current_api_user
from monitor.api.blueprint import blueprint
from monitor.api.errors import ApiError, field_error
from monitor.clock import today
from monitor.db import db
from monitor.opendata.service import (
    JSON_MIMETYPE,
    Export,
    ExportRefused,
    NothingToPublish,
    contract_grant,
    contract_ocds,
    contracts_in_scope,
    publishing,
    register_grants,
    register_ocds,
)
from monitor.opendata.settings import Publishing
from monitor.reports.audience import Audience, UnknownAudience, find_commissioner, find_partnership

SCOPE_PARAMETERS = ("partnership", "commissioner")


def _settings() -> Publishing:
    # SERVICE_URL when set, else the address this request came in on.
    configured = publishing()
    return publishing(configured.base_url or request.host_url.rstrip("/"))


def _served(export: Export) -> Response:
    return Response(export.text, mimetype=JSON_MIMETYPE)


def _audience() -> Audience | None:
    # Unknown, empty, overlong and NUL-bearing values were refused against
    # the document before the view ran (monitor.api.openapi.check_parameters).
    errors: dict[str, str] = {}
    given = {name: request.args.get(name, "").strip() for name in SCOPE_PARAMETERS if name in request.args}
    for name, text in given.items():
        if not text:
            errors[name] = f"{name} must be the name or id of a {name}, like 3"
    if len(given) > 1:
        errors["commissioner"] = "Give partnership or commissioner, not both"
    if errors:
        raise field_error(422, errors)
    if not given:
        return None
    session = db.session()
    name, text = next(iter(given.items()))
    try:
        user = current_api_user()
        if name == "partnership":
            return find_partnership(session, text, user)
        return find_commissioner(session, text, user)
    except UnknownAudience as error:
        raise field_error(422, {name: str(error)}) from error


def _refused(error: ExportRefused, *, by_contract: bool) -> ApiError:
    return field_error(422, error.errors(by_contract=by_contract))


@blueprint.get("/contracts/<int:contract_id>/ocds")
def contract_ocds_package(contract_id: int) -> Any:
    session = db.session()
    contract = readable_contract(session, current_api_user(), contract_id)
    try:
        return _served(contract_ocds(session, contract, _settings(), today()))
    except ExportRefused as error:
        raise _refused(error, by_contract=False) from error


@blueprint.get("/contracts/<int:contract_id>/360giving")
def contract_360giving_package(contract_id: int) -> Any:
    session = db.session()
    contract = readable_contract(session, current_api_user(), contract_id)
    try:
        return _served(contract_grant(session, contract, _settings(), today()))
    except ExportRefused as error:
        raise _refused(error, by_contract=False) from error


def _register(build: Any) -> Any:
    audience = _audience()
    session = db.session()
    contracts = contracts_in_scope(session, current_api_user(), audience)
    try:
        return _served(build(session, contracts, _settings(), today(), audience))
    except NothingToPublish as error:
        scope = f" commissioned by {audience.name}" if audience else ""
        raise ApiError(404, f"Nothing to publish from the contracts you can see{scope}: {error}") from error
    except ExportRefused as error:
        raise _refused(error, by_contract=True) from error


@blueprint.get("/ocds")
def ocds_register() -> Any:
    return _register(register_ocds)


@blueprint.get("/360giving")
def giving_register() -> Any:
    return _register(register_grants)


def _describe() -> None:
    op, ok, query = openapi._operation, openapi._json, openapi._query
    not_found = {"404": openapi._response("NotFound")}
    refused = {"422": openapi._response("Unprocessable")}
    scope = [
        query(
            "partnership",
            "Only contracts the members of this partnership (board) lead or partner: its name or id",
            {"type": "string", "minLength": 1, "maxLength": 200, "examples": ["3"]},
        ),
        query(
            "commissioner",
            "Only contracts this commissioning organisation leads or partners: its name or id",
            {"type": "string", "minLength": 1, "maxLength": 200, "examples": ["3"]},
        ),
    ]
    openapi.extend(
        {
            "/contracts/{contract_id}/ocds": {
                "parameters": [openapi.CONTRACT_ID],
                "get": op(
                    "getContractOcds",
                    "The contract as an OCDS 1.1 release package: the award and one release per "
                    "amendment (and its ending), validated against the release package schema. 422 names "
                    "each register field that must be filled in first",
                    {"200": ok("OcdsReleasePackage", "The release package"), **not_found, **refused},
                ),
            },
            "/contracts/{contract_id}/360giving": {
                "parameters": [openapi.CONTRACT_ID],
                "get": op(
                    "getContract360Giving",
                    "A grant as a 360Giving package of one grant, validated against the 360Giving schema. "
                    "422 when the service is not paid as a grant or a required field is missing",
                    {"200": ok("GivingPackage", "The 360Giving package"), **not_found, **refused},
                ),
            },
            "/ocds": {
                "get": op(
                    "getRegisterOcds",
                    "Every contract you can see (or a partnership's or commissioner's) as one OCDS release "
                    "package. 422 lists every contract and field that stops it being published",
                    {
                        "200": ok("OcdsReleasePackage", "The release package"),
                        "422": openapi._response("Unprocessable"),
                        **not_found,
                        **refused,
                    },
                    parameters=scope,
                ),
            },
            "/360giving": {
                "get": op(
                    "getRegister360Giving",
                    "Every service paid as a grant that you can see (or a partnership's or "
                    "commissioner's) as one 360Giving package",
                    {
                        "200": ok("GivingPackage", "The 360Giving package"),
                        "422": openapi._response("Unprocessable"),
                        **not_found,
                        **refused,
                    },
                    parameters=scope,
                ),
            },
        },
        {
            "OcdsReleasePackage": {
                "type": "object",
                "description": "An OCDS 1.1 release package "
                "(https://standard.open-contracting.org/schema/1__1__5/release-package-schema.json), with the "
                "Budget Breakdown extension for the funding split. Money is a JSON number here",
                "required": ["uri", "version", "publishedDate", "publisher", "releases"],
            },
            "GivingPackage": {
                "type": "object",
                "description": "A 360Giving 1.4 package of grants (360-giving-package-schema.json). Money is "
                "a JSON number here",
                "required": ["grants"],
            },
        },
    )


_describe()
