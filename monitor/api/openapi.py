"""The OpenAPI 3.1 description of the API, served at /api/v1/openapi.json,
and the one check that holds every request's parameters to it.

Written by hand, except that request bodies are built from the same field
lists the parsers check (monitor.api.schemas), so they always agree. A test
checks every route registered on the blueprint appears here. Before any view
runs, `check_parameters` checks the request's query and path parameters
against its operation's own parameters here, so the document is the rule:
a value it does not allow is refused (422, like any other bad input) naming
each parameter at fault.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import cache
from typing import Any

from flask import jsonify, request
from jsonschema import Draft202012Validator

from monitor.api.blueprint import blueprint
from monitor.api.contracts import LIST_PARAMETERS
from monitor.api.errors import ApiError, field_error
from monitor.api.parsing import MAX_ID, MAX_ITEMS, Field, Kind
from monitor.api.schemas import (
    AMENDMENT,
    AMENDMENT_CORRECTION,
    CONTRACT_CREATE,
    CONTRACT_UPDATE,
    FUNDING_LINE,
)
from monitor.contracts.models import AmendmentKind, Category, Cohort, OptionState, ServiceType
from monitor.contracts.queries import MAX_PAGE_SIZE, SORTS
from monitor.contracts.renewal import Status, Urgency


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _response(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/responses/{name}"}


STRING = {"type": "string"}
DATE = {"type": "string", "format": "date", "examples": ["2013-11-04"]}
NULLABLE_DATE = {"type": ["string", "null"], "format": "date"}
MONEY = {"type": "string", "pattern": r"^\d+\.\d{2}$", "description": "Pounds, two decimal places"}
NULLABLE_MONEY = {"type": ["string", "null"], "pattern": r"^\d+\.\d{2}$"}
ID = {"type": "integer", "minimum": 1, "maximum": MAX_ID}
# Whole numbers in bodies: the parser refuses any the database cannot hold.
_INTEGER = {"type": "integer", "minimum": -MAX_ID, "maximum": MAX_ID}
MONEY_INPUT = {
    "description": "Pounds with at most two decimal places, as a JSON number or a string of digits",
    "oneOf": [
        {"type": "number", "minimum": 0, "multipleOf": 0.01},
        {"type": "string", "pattern": r"^\d+(\.\d{1,2})?$"},
    ],
}


def _field_schema(field: Field) -> dict[str, Any]:
    schema: dict[str, Any]
    match field.kind:
        case Kind.TEXT:
            schema = {"type": "string"}
            if field.max_length is not None:
                schema["maxLength"] = field.max_length
        case Kind.DATE:
            schema = {"type": "string", "format": "date"}
        case Kind.MONEY:
            schema = dict(MONEY_INPUT)
        case Kind.INTEGER:
            schema = dict(_INTEGER)
        case Kind.ID:
            schema = dict(ID)
        case Kind.INTEGERS:
            schema = {"type": "array", "items": dict(_INTEGER), "maxItems": MAX_ITEMS}
        case Kind.IDS:
            schema = {"type": "array", "items": dict(ID), "maxItems": MAX_ITEMS}
        case Kind.CHOICE:
            schema = {"type": "string", "enum": list(field.choices)}
        case Kind.CHOICES:
            schema = {
                "type": "array",
                "items": {"type": "string", "enum": list(field.choices)},
                "maxItems": MAX_ITEMS,
            }
        case Kind.BOOLEAN:
            schema = {"type": "boolean"}
    if field.nullable:
        schema = {"anyOf": [schema, {"type": "null"}]}
    schema["description"] = field.description
    if field.example is not None:
        schema["examples"] = [field.example]
    return schema


def request_schema(fields: Sequence[Field], *, partial: bool = False) -> dict[str, Any]:
    schema: dict[str, Any] = {
        "type": "object",
        "additionalProperties": False,
        "properties": {f.name: _field_schema(f) for f in fields},
    }
    required = [f.name for f in fields if f.required and not partial]
    if required:
        schema["required"] = required
    return schema


def _object(properties: dict[str, Any], description: str = "") -> dict[str, Any]:
    schema: dict[str, Any] = {"type": "object", "required": list(properties), "properties": properties}
    if description:
        schema["description"] = description
    return schema


def _enum(values: Any) -> dict[str, Any]:
    return {"type": "string", "enum": [v.value for v in values]}


_KEY_DATE = _object(
    {
        "key": {
            "type": "string",
            "enum": ["reprocurement_start", "decision_by", "last_notice", "end", "maximum_extent"],
        },
        "name": STRING,
        "on": DATE,
        "urgency": _enum(Urgency),
    }
)

_CONTRACT_SUMMARY = _object(
    {
        "id": ID,
        "reference": STRING,
        "title": STRING,
        "description": STRING,
        "service_type": _enum(ServiceType),
        "category": _enum(Category),
        "agreement_type": STRING,
        "cohorts": {"type": "array", "items": _enum(Cohort)},
        "provider": _ref("Organisation"),
        "lead_commissioner": _ref("Organisation"),
        "partner_commissioners": {"type": "array", "items": _ref("Organisation")},
        "start_date": DATE,
        "original_end_date": {**DATE, "description": "Last day of the initial term"},
        "end_date": {**DATE, "description": "Current contractual end, after any extensions"},
        "award_date": NULLABLE_DATE,
        "notice_period_months": {"type": "integer", "minimum": 0, "maximum": 60},
        "annual_value": MONEY,
        "total_value": MONEY,
        "contract_manager": STRING,
        "status": _enum(Status),
        "key_dates": _ref("KeyDates"),
    },
    "A contract with its status and renewal dates as at today",
)

SCHEMAS: dict[str, Any] = {
    "Error": {
        "type": "object",
        "required": ["message"],
        "properties": {
            "message": {"type": "string", "description": "What went wrong, naming the field(s)"},
            "errors": {
                "type": "array",
                "items": _object({"field": STRING, "message": STRING}),
                "description": "One entry per field at fault (for 400 and 422 answers)",
            },
        },
    },
    "Organisation": _object({"id": ID, "name": STRING}),
    "KeyDate": _KEY_DATE,
    "KeyDates": _object(
        {
            "end_date": {**DATE, "description": "The day the contract actually stops"},
            "maximum_extent_date": {**DATE, "description": "End if every remaining option is taken"},
            "last_notice_date": DATE,
            "decision_by": DATE,
            "reprocurement_start": DATE,
            "next_key_date": {"anyOf": [_ref("KeyDate"), {"type": "null"}]},
            "decision_overdue": {"type": "boolean"},
            "days_to_end": {"type": "integer"},
        }
    ),
    "Contract": _CONTRACT_SUMMARY,
    "ContractDetail": {
        "allOf": [
            _ref("Contract"),
            _object(
                {
                    "funding_lines": {"type": "array", "items": _ref("FundingLine")},
                    "extension_options": {"type": "array", "items": _ref("ExtensionOption")},
                    "amendments": {"type": "array", "items": _ref("Amendment")},
                    "milestones": {"type": "array", "items": _ref("Milestone")},
                }
            ),
        ]
    },
    "ContractPage": _object(
        {
            "contracts": {"type": "array", "items": _ref("Contract")},
            "page": {"type": "integer", "minimum": 1},
            "per_page": {"type": "integer", "minimum": 1, "maximum": MAX_PAGE_SIZE},
            "total": {"type": "integer", "minimum": 0},
            "pages": {"type": "integer", "minimum": 1},
        }
    ),
    "FundingLine": _object(
        {
            "id": ID,
            "contract_id": ID,
            "funder": _ref("Organisation"),
            "funding_stream": STRING,
            "financial_year": {"type": "string", "pattern": r"^\d{4}/\d{2}$", "examples": ["2013/14"]},
            "amount": MONEY,
        }
    ),
    "ExtensionOption": _object(
        {
            "id": ID,
            "sequence": {"type": "integer", "minimum": 1},
            "length_months": {"type": "integer", "minimum": 1, "maximum": 120},
            "state": _enum(OptionState),
        }
    ),
    "Amendment": _object(
        {
            "id": ID,
            "contract_id": ID,
            "kind": _enum(AmendmentKind),
            "effective_date": DATE,
            "rationale": STRING,
            "approved_by": STRING,
            "board_minute_reference": STRING,
            "old_end_date": NULLABLE_DATE,
            "new_end_date": NULLABLE_DATE,
            "old_value": NULLABLE_MONEY,
            "new_value": NULLABLE_MONEY,
            "extension_option_id": {"type": ["integer", "null"]},
            "recorded_at": {"type": "string", "format": "date-time"},
            "planned": {
                "type": "boolean",
                "description": "Agreed to take effect after the day it was recorded",
            },
            "corrects_id": {
                "type": ["integer", "null"],
                "description": "For a correction: the amendment whose record it corrects",
            },
            "correction_ids": {
                "type": "array",
                "items": ID,
                "description": "Corrections recorded for this amendment, oldest first",
            },
        }
    ),
    "Milestone": _object({"id": ID, "title": STRING, "due_date": DATE, "met_on": NULLABLE_DATE}),
    "FundingSummary": _object(
        {
            "financial_year": {"type": ["string", "null"], "examples": ["2013/14"]},
            "by_funder": {"type": "array", "items": _object({"funder": STRING, "amount": MONEY})},
            "by_category": {
                "type": "array",
                "items": _object({"category": _enum(Category), "amount": MONEY}),
            },
            "by_year": {
                "type": "array",
                "items": _object({"financial_year": STRING, "amount": MONEY}),
            },
            "total": MONEY,
            "lines": {
                "type": "array",
                "items": {
                    "allOf": [_ref("FundingLine"), _object({"contract_reference": STRING})],
                },
            },
        }
    ),
    "ContractCreate": request_schema(CONTRACT_CREATE),
    "ContractUpdate": request_schema(CONTRACT_UPDATE, partial=True),
    "FundingLineCreate": request_schema(FUNDING_LINE),
    "FundingLineUpdate": request_schema(FUNDING_LINE, partial=True),
    "AmendmentCreate": request_schema(AMENDMENT),
    "AmendmentCorrection": request_schema(AMENDMENT_CORRECTION, partial=True),
}


def _error(description: str, **extra: Any) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": _ref("Error")}}, **extra}


RESPONSES: dict[str, Any] = {
    "BadRequest": _error("The body is malformed (not JSON, not an object); `errors` says how"),
    "Unauthorised": _error(
        "No bearer token, or a token that is not valid or has been revoked",
        headers={"WWW-Authenticate": {"schema": {"type": "string"}, "description": "Bearer challenge"}},
    ),
    "Forbidden": _error("Your account may see this but not change it"),
    "NotFound": _error("No such record, or one your account cannot see (the two look the same)"),
    "MethodNotAllowed": _error("This address does not accept that method"),
    "Conflict": _error("Another change made at the same time clashed with this one; nothing changed"),
    "TooLarge": _error("The request body is larger than the service accepts"),
    "UnsupportedMediaType": _error("The body was not sent as application/json"),
    "Unprocessable": _error(
        "A query or path parameter breaks this document (unknown, empty, too long, out of range or not one "
        "of its values), or a field of the body is unknown, missing or breaks the rules; `errors` names each one"
    ),
    "ServerError": _error("Something went wrong on the server; nothing was changed"),
}

_ALWAYS = {
    "401": _response("Unauthorised"),
    "405": _response("MethodNotAllowed"),
    "500": _response("ServerError"),
}
_WRITE = {
    "400": _response("BadRequest"),
    "403": _response("Forbidden"),
    "409": _response("Conflict"),
    "413": _response("TooLarge"),
    "415": _response("UnsupportedMediaType"),
    "422": _response("Unprocessable"),
}


def _path_parameter(name: str, description: str) -> dict[str, Any]:
    return {"name": name, "in": "path", "required": True, "description": description, "schema": ID}


CONTRACT_ID = _path_parameter("contract_id", "The contract's id")
LINE_ID = _path_parameter("line_id", "The funding line's id")
AMENDMENT_ID = _path_parameter("amendment_id", "The amendment's id")


def _query(name: str, description: str, schema: dict[str, Any]) -> dict[str, Any]:
    return {"name": name, "in": "query", "required": False, "description": description, "schema": schema}


LIST_QUERY = [
    _query("status", "Only contracts with this status today", _enum(Status)),
    _query("category", "Only this category", _enum(Category)),
    _query("service_type", "Only this type of service", _enum(ServiceType)),
    _query("provider", "Only contracts with this provider (organisation id)", ID),
    _query("commissioner", "Only contracts this organisation leads or partners (id)", ID),
    _query("funder", "Only contracts with a funding line from this organisation (id)", ID),
    _query(
        "ends_within",
        "Only contracts ending within this many months from today (0 to 240)",
        {"type": "integer", "minimum": 0, "maximum": 240},
    ),
    _query("q", "Words in the reference or title", {"type": "string", "maxLength": 100}),
    _query("sort", "Sort by", {"type": "string", "enum": list(SORTS), "default": "end_date"}),
    _query("order", "Sort order", {"type": "string", "enum": ["asc", "desc"], "default": "asc"}),
    _query(
        "page",
        "Page number (past the last page gives the last page)",
        {"type": "integer", "minimum": 1, "maximum": 999_999_999},
    ),
    _query(
        "per_page",
        f"Contracts per page, 1 to {MAX_PAGE_SIZE} (default 25)",
        {"type": "integer", "minimum": 1, "maximum": MAX_PAGE_SIZE},
    ),
]
assert [p["name"] for p in LIST_QUERY] == list(LIST_PARAMETERS)


def _json(schema_name: str, description: str, **extra: Any) -> dict[str, Any]:
    return {
        "description": description,
        "content": {"application/json": {"schema": _ref(schema_name)}},
        **extra,
    }


def _body(schema_name: str, description: str) -> dict[str, Any]:
    return {"required": True, "description": description, **_json(schema_name, description)}


_LOCATION = {"Location": {"schema": {"type": "string"}, "description": "Address of the new record"}}


def _operation(operation_id: str, summary: str, responses: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {"operationId": operation_id, "summary": summary, "responses": {**responses, **_ALWAYS}, **extra}


PATHS: dict[str, Any] = {
    "/contracts": {
        "get": _operation(
            "listContracts",
            "The register: contracts you can see, filtered, sorted and paged as in the web register",
            {"200": _json("ContractPage", "A page of contracts"), "422": _response("Unprocessable")},
            parameters=LIST_QUERY,
        ),
        "post": _operation(
            "createContract",
            "Record a contract (commissioners only; your organisation must lead or partner it)",
            {"201": _json("ContractDetail", "The new contract", headers=_LOCATION), **_WRITE},
            requestBody=_body("ContractCreate", "The contract"),
        ),
    },
    "/contracts/{contract_id}": {
        "parameters": [CONTRACT_ID],
        "get": _operation(
            "getContract",
            "One contract with its funding lines, extension options, amendments and milestones",
            {"200": _json("ContractDetail", "The contract"), "404": _response("NotFound")},
        ),
        "patch": _operation(
            "updateContract",
            "Change some of a contract's details; fields left out keep their values",
            {"200": _json("ContractDetail", "The changed contract"), "404": _response("NotFound"), **_WRITE},
            requestBody=_body("ContractUpdate", "The fields to change"),
        ),
    },
    "/contracts/{contract_id}/funding-lines": {
        "parameters": [CONTRACT_ID],
        "post": _operation(
            "addFundingLine",
            "Add a funding line to a contract",
            {
                "201": _json("FundingLine", "The new funding line", headers=_LOCATION),
                "404": _response("NotFound"),
                **_WRITE,
            },
            requestBody=_body("FundingLineCreate", "The funding line"),
        ),
    },
    "/contracts/{contract_id}/funding-lines/{line_id}": {
        "parameters": [CONTRACT_ID, LINE_ID],
        "get": _operation(
            "getFundingLine",
            "One funding line",
            {"200": _json("FundingLine", "The funding line"), "404": _response("NotFound")},
        ),
        "patch": _operation(
            "updateFundingLine",
            "Change a funding line; fields left out keep their values",
            {"200": _json("FundingLine", "The changed line"), "404": _response("NotFound"), **_WRITE},
            requestBody=_body("FundingLineUpdate", "The fields to change"),
        ),
        "delete": _operation(
            "deleteFundingLine",
            "Remove a funding line",
            {
                "204": {"description": "Removed"},
                "403": _response("Forbidden"),
                "404": _response("NotFound"),
                "409": _response("Conflict"),
            },
        ),
    },
    "/contracts/{contract_id}/amendments": {
        "parameters": [CONTRACT_ID],
        "post": _operation(
            "recordAmendment",
            "Exercise an extension option (kind 'extension', optional option_id) or record a variation, "
            "value change (with new_value), termination or decommissioning",
            {
                "201": _json("Amendment", "The recorded amendment", headers=_LOCATION),
                "404": _response("NotFound"),
                **_WRITE,
            },
            requestBody=_body("AmendmentCreate", "The amendment"),
        ),
    },
    "/contracts/{contract_id}/amendments/{amendment_id}": {
        "parameters": [CONTRACT_ID, AMENDMENT_ID],
        "get": _operation(
            "getAmendment",
            "One amendment",
            {"200": _json("Amendment", "The amendment"), "404": _response("NotFound")},
        ),
        "patch": _operation(
            "correctAmendment",
            "Correct the record of a decision (reason, approver, minute reference); dates and values "
            "cannot change: record a new amendment instead",
            {
                "200": _json("Amendment", "The correcting amendment, recorded beside the original"),
                "404": _response("NotFound"),
                **_WRITE,
            },
            requestBody=_body("AmendmentCorrection", "The fields to correct"),
        ),
    },
    "/funding": {
        "get": _operation(
            "fundingSummary",
            "Funding by funder and by category, with the lines behind them, for contracts you can see",
            {"200": _json("FundingSummary", "Funding totals"), "422": _response("Unprocessable")},
            parameters=[
                _query(
                    "financial_year",
                    "UK financial year, like 2013/14 (all years when left out)",
                    {"type": "string", "pattern": r"^\d{4}/\d{2}$", "examples": ["2013/14"]},
                )
            ],
        ),
    },
    "/openapi.json": {
        "get": {
            "operationId": "openapi",
            "summary": "This document (no token needed)",
            "security": [],
            "responses": {
                "200": {
                    "description": "The OpenAPI document",
                    "content": {"application/json": {"schema": {"type": "object"}}},
                }
            },
        }
    },
}

DOCUMENT: dict[str, Any] = {
    "openapi": "3.1.0",
    "info": {
        "title": "Commissioning monitor API",
        "version": "1.0.0",
        "description": (
            "The contract register for commissioners of domestic abuse services. Send an API token as "
            "'Authorization: Bearer <token>' (an administrator issues tokens with "
            "`flask users token`); you see and change exactly what you can in the web service. Money is a "
            "string with two decimal places, dates are written like 2013-11-04, and every error is JSON "
            "with a message naming the field at fault."
        ),
    },
    "servers": [{"url": "/api/v1"}],
    "security": [{"bearerAuth": []}],
    "paths": PATHS,
    "components": {
        "securitySchemes": {"bearerAuth": {"type": "http", "scheme": "bearer"}},
        "schemas": SCHEMAS,
        "responses": RESPONSES,
    },
}


def extend(paths: dict[str, Any], schemas: dict[str, Any] | None = None) -> None:
    """Add the paths and schemas of another resource module (returns, framework)."""
    overlap = set(paths) & set(PATHS)
    if overlap:
        raise ValueError(f"OpenAPI paths described twice: {sorted(overlap)}")
    PATHS.update(paths)
    SCHEMAS.update(schemas or {})


@blueprint.get("/openapi.json")
def openapi() -> Any:
    return jsonify(DOCUMENT)


# Every request's parameters, held to its operation's ------------------------

_RULE_PARAMETER = re.compile(r"<(?:[a-z]+:)?([a-z_]+)>")
_WHOLE_NUMBER = re.compile(r"^-?[0-9]{1,18}$")


def document_path(rule: str) -> str:
    """A route's rule as the document writes its path: /contracts/{contract_id}."""
    return _RULE_PARAMETER.sub(r"{\1}", rule.removeprefix(blueprint.url_prefix or ""))


@cache
def operation_parameters(path: str, method: str) -> tuple[dict[str, Any], ...] | None:
    """The parameters the document gives one operation (its path's and its own);
    None when the document has no such operation. Read once the document is whole,
    at the first request, so the resource modules' own paths are in it."""
    item: dict[str, Any] = PATHS.get(path) or {}
    operation: dict[str, Any] | None = item.get(method)
    if operation is None:
        return None
    return (*item.get("parameters", ()), *operation.get("parameters", ()))


def _is_valid(schema: dict[str, Any], value: Any) -> bool:
    return bool(Draft202012Validator(schema).is_valid(value))


def _example(schema: dict[str, Any]) -> str:
    examples = schema.get("examples") or []
    return f"write it like {examples[0]}" if examples else "see the API's OpenAPI document"


def _message(name: str, schema: dict[str, Any], raw: str) -> str:
    """What is wrong with a parameter's value, and what to send instead."""
    if "enum" in schema:
        return f"{name} must be one of: {', '.join(str(v) for v in schema['enum'])}"
    if schema.get("type") == "integer":
        low, high = schema.get("minimum"), schema.get("maximum")
        if (low, high) == (1, MAX_ID):
            return f"{name} must be a whole-number id, like 12"
        if low is not None and high is not None:
            return f"{name} must be a whole number from {low} to {high}"
        return f"{name} must be a whole number, like 12"
    if "maxLength" in schema and len(raw) > schema["maxLength"]:
        return f"{name} must be {schema['maxLength']} characters or fewer"
    if not raw:
        return f"{name} cannot be empty; leave it out, or {_example(schema)}"
    return f"{name} {raw[:40]!r} is not in the right form; {_example(schema)}"


def _problem(parameter: dict[str, Any], raw: Any) -> str | None:
    name, schema = parameter["name"], parameter["schema"]
    if isinstance(raw, str) and "\x00" in raw:
        return f"{name} cannot contain the NUL character"
    value = raw
    if schema.get("type") == "integer" and isinstance(raw, str):
        if not _WHOLE_NUMBER.match(raw):
            return _message(name, schema, raw)
        value = int(raw)
    if _is_valid(schema, value):
        return None
    return _message(name, schema, str(raw))


def parameter_errors(path: str, method: str) -> dict[str, str]:
    """Every query and path parameter of this request that breaks the document,
    with what is wrong with it. An operation that takes query parameters
    refuses ones it does not know: a misspelt filter would otherwise be
    silently ignored and answer with everything."""
    parameters = operation_parameters(path, method)
    if parameters is None:
        return {}
    errors: dict[str, str] = {}
    query = [p for p in parameters if p["in"] == "query"]
    known = [p["name"] for p in query]
    if query:
        for name in request.args:
            if name not in known:
                errors[name[:100]] = f"{name[:100]} is not a filter; use {', '.join(known)}"
    for parameter in query:
        name = parameter["name"]
        values = request.args.getlist(name)
        if not values and parameter.get("required"):
            errors[name] = f"{name} is required"
        for raw in values:
            problem = _problem(parameter, raw)
            if problem is not None:
                errors[name] = problem
                break
    for parameter in parameters:
        matched = (request.view_args or {}).get(parameter["name"])
        # Whole-number ids were matched by Flask and are checked by unknown_id.
        if parameter["in"] == "path" and isinstance(matched, str):
            problem = _problem(parameter, matched)
            if problem is not None:
                errors[parameter["name"]] = problem
    return errors


def unknown_id(path: str, method: str) -> str | None:
    """A whole-number id in the path outside the document's range names no
    record: the answer is the views' 404 for a missing record, given before
    any view passes the id to a database that cannot hold it."""
    for parameter in operation_parameters(path, method) or ():
        matched = (request.view_args or {}).get(parameter["name"])
        schema = parameter["schema"]
        if parameter["in"] == "path" and isinstance(matched, int) and not _is_valid(schema, matched):
            return f"{parameter['name']}: nothing has the id {matched}"
    return None


@blueprint.before_request
def check_parameters() -> None:
    """Refuse a request whose parameters break the document, before its view
    runs. Registered after the token check, so an unsigned request gets 401."""
    if request.url_rule is None:  # pragma: no cover - unmatched paths never reach the blueprint
        return
    path = document_path(request.url_rule.rule)
    method = "get" if request.method == "HEAD" else request.method.lower()
    errors = parameter_errors(path, method)
    if errors:
        raise field_error(422, errors)
    missing = unknown_id(path, method)
    if missing is not None:
        raise ApiError(404, missing)
