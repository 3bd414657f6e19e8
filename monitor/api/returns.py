"""Quarterly returns: list a contract's returns, download a quarter's workbook,
upload a completed one, and (commissioners) query, accept or reopen a return.

Uploads are multipart/form-data with the workbook in a field named `file`.
A workbook with problems answers 422 with every problem, each naming its
sheet, cell and KPI; nothing is stored. Warnings are problems too until the
upload says `acknowledge_warnings=true`.
"""

from __future__ import annotations

from decimal import Decimal
from io import BytesIO
from typing import Any

from flask import current_app, jsonify, request, send_file, url_for

from monitor.access.rules import can_review, can_see_return_figures, can_upload
from monitor.api import openapi
from monitor.api.access import readable_contract
from monitor.api.auth import current_api_user
from monitor.api.blueprint import blueprint
from monitor.api.errors import ApiError, field_error
from monitor.api.parsing import Field, Kind, parse_body, read_json_object
from monitor.api.serialise import day, moment
from monitor.auth.models import User
from monitor.clock import today
from monitor.contracts.models import Contract
from monitor.db import db
from monitor.formatting import count_text
from monitor.kpis.models import ReturnVersion
from monitor.kpis.periods import Quarter
from monitor.kpis.returns.calendar import CalendarRules, ExpectedReturn, expected_return, expected_returns
from monitor.kpis.returns.commands import NeedsAcknowledgement, Refused, ReviewReturn, SubmitReturn, Upload
from monitor.kpis.returns.ingest.result import Message
from monitor.kpis.returns.services import CONFLICT_MESSAGE
from monitor.kpis.vocabulary import ReturnState
from monitor.model_helpers import utcnow

XLSX_MIMETYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
UPLOAD_FIELDS = ("file", "submit", "acknowledge_warnings")
_TRUE = {"true", "1", "yes", "on"}
_FALSE = {"false", "0", "no", "off"}

QUERY = (
    Field(
        "comment",
        Kind.TEXT,
        "What the provider should check or correct (they see it)",
        required=True,
        max_length=4000,
    ),
    Field("revision", Kind.INTEGER, "The return's revision you reviewed; refused if it has changed since"),
)
ACCEPT = (
    Field("comment", Kind.TEXT, "An optional note kept with the acceptance", max_length=4000),
    Field("revision", Kind.INTEGER, "The return's revision you reviewed; refused if it has changed since"),
)
REOPEN = (
    Field(
        "reason",
        Kind.TEXT,
        "Why the accepted return must change (the provider sees it)",
        required=True,
        max_length=4000,
    ),
    Field("revision", Kind.INTEGER, "The return's revision you reviewed; refused if it has changed since"),
)


def _rules() -> CalendarRules:
    return CalendarRules.from_config(current_app.config)


def _quarter(period: str) -> Quarter:
    quarter = Quarter.parse(period)
    if quarter is None or str(quarter) != period:
        shown = period[:40]
        raise field_error(422, {"period": f"period {shown!r} is not a quarter; write it like 2013-14-Q3"})
    return quarter


def _expected(contract: Contract, period: str) -> ExpectedReturn:
    quarter = _quarter(period)
    expected = expected_return(db.session(), contract, quarter, today(), _rules())
    if expected is None:
        raise ApiError(
            404,
            f"period: {contract.reference} has no return for {period}: it was not running then, the quarter "
            "has not begun, or it had no performance framework for that quarter",
        )
    return expected


# Shapes -----------------------------------------------------------------------


def _version(version: ReturnVersion) -> dict[str, Any]:
    return {
        "number": version.number,
        "filename": version.filename,
        "sha256": version.sha256,
        "size_bytes": version.size_bytes,
        "template_version": version.template_version,
        "submitted": version.submitted,
        "warnings_acknowledged": version.warnings_acknowledged,
        "uploaded_by": version.uploaded_by.name if version.uploaded_by else None,
        "uploaded_at": moment(version.uploaded_at),
    }


def _summary(expected: ExpectedReturn) -> dict[str, Any]:
    record = expected.record
    quarter = expected.quarter
    return {
        "period": expected.period,
        "quarter": {"label": quarter.label, "start": day(quarter.start), "end": day(quarter.end)},
        "due_date": day(expected.due_date),
        "state": expected.state.value,
        "late": expected.late,
        "missing": expected.missing,
        "revision": record.revision if record is not None else None,
        "needs_resubmission": record.needs_resubmission if record is not None else False,
        "resubmission_reason": record.resubmission_reason if record is not None else "",
        "versions": [_version(v) for v in record.versions] if record is not None else [],
    }


def _figure(value: Decimal | None) -> str | None:
    """Figures as strings with two decimal places, like money: never floats."""
    return None if value is None else f"{value:.2f}"


def _detail(expected: ExpectedReturn, user: User) -> dict[str, Any]:
    body = _summary(expected)
    record = expected.record
    show = can_see_return_figures(user, expected.contract)
    body["events"] = [
        {
            "kind": event.kind,
            "at": moment(event.at),
            "by": event.by.name if event.by else None,
            "version": event.version_number,
            "comment": event.comment if show else None,
        }
        for event in (record.events if record is not None else [])
    ]
    latest = record.versions[-1] if record is not None and record.versions else None
    body["figures"] = (
        [
            {
                "kpi": value.kpi.code,
                "breakdown": value.breakdown,
                "value": _figure(value.value),
                "numerator": _figure(value.numerator),
                "denominator": _figure(value.denominator),
            }
            for value in sorted(latest.values, key=lambda v: (v.kpi.code, v.breakdown))
        ]
        if latest is not None and show
        else None
    )
    return body


def _problem(message: str, field: str = "file") -> dict[str, str]:
    return {"sheet": "", "cell": "", "kpi": "", "severity": "error", "message": message, "field": field}


class WorkbookRefused(Exception):
    """A 422 (413 for a file over the limit) listing workbook problems: its own shape,
    one item per cell at fault."""

    def __init__(self, message: str, problems: list[dict[str, str]], status: int = 422) -> None:
        super().__init__(message)
        self.message = message
        self.problems = problems
        self.status = status  # 413 for a file over the limit, in the same shape


@blueprint.errorhandler(WorkbookRefused)
def workbook_refused(error: WorkbookRefused) -> Any:
    return jsonify({"message": error.message, "errors": error.problems}), error.status


# Routes -----------------------------------------------------------------------


@blueprint.get("/contracts/<int:contract_id>/returns")
def contract_returns(contract_id: int) -> Any:
    contract = readable_contract(db.session(), current_api_user(), contract_id)
    expected = expected_returns(
        db.session(), Contract.id == contract.id, today(), _rules(), include_current=True
    )
    return jsonify({"contract_id": contract.id, "returns": [_summary(e) for e in expected]})


@blueprint.get("/contracts/<int:contract_id>/returns/<period>")
def contract_return(contract_id: int, period: str) -> Any:
    user = current_api_user()
    contract = readable_contract(db.session(), user, contract_id)
    return jsonify(_detail(_expected(contract, period), user))


@blueprint.get("/contracts/<int:contract_id>/returns/<period>/template")
def return_template(contract_id: int, period: str) -> Any:
    from monitor.kpis.returns.template import TemplateError, build_template

    contract = readable_contract(db.session(), current_api_user(), contract_id)
    expected = _expected(contract, period)
    try:
        content = build_template(db.session(), contract, expected.quarter, generated_at=utcnow())
    except TemplateError as problem:
        raise ApiError(409, f"period: {problem}") from problem
    return send_file(
        BytesIO(content),
        mimetype=XLSX_MIMETYPE,
        as_attachment=True,
        download_name=f"{contract.reference}-{expected.period}-return.xlsx",
    )


def _flag(name: str, default: bool) -> bool:
    raw = request.form.get(name)
    if raw is None or raw.strip() == "":
        return default
    value = raw.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise field_error(400, {name: f"{name} must be true or false"})


def _read_file() -> tuple[Upload, bool, bool]:
    """The upload and its flags. Only the request's shape and size are judged
    here (a malformed form is 400; this operation's 422 means the workbook's
    own problems): what the file is, the command's staged checks say."""
    if request.mimetype != "multipart/form-data":
        raise ApiError(
            415,
            "file: send the workbook as multipart/form-data, with the .xlsx file in a field named file",
            {"file": "Send the request as multipart/form-data"},
        )
    unknown = sorted((set(request.form) | set(request.files)) - set(UPLOAD_FIELDS))
    if unknown:
        raise field_error(
            400,
            {
                name[:100]: f"{name[:100]} is not a field of this request; use {', '.join(UPLOAD_FIELDS)}"
                for name in unknown
            },
        )
    submit = _flag("submit", True)
    acknowledge = _flag("acknowledge_warnings", False)
    storage = request.files.get("file")
    if storage is None:
        raise field_error(400, {"file": "file is required: the completed .xlsx workbook"})
    # A file over the limit is refused by the command, in its words, like any other broken file.
    return Upload.receive(storage.filename or "return.xlsx", storage.stream), submit, acknowledge


def _as_items(messages: list[Message]) -> list[dict[str, str]]:
    return [m.as_dict() for m in messages]


def _refusal(refused: Refused) -> list[dict[str, str]]:
    in_workbook = set(refused.checked.messages) if refused.checked is not None else set()
    return [
        m.as_dict() if m in in_workbook else {**m.as_dict(), "field": refused.field_of(m)}
        for m in refused.messages
    ]


def _headline(refused: Refused) -> str:
    count = len(refused.messages)
    if refused.checked is not None and set(refused.messages) <= set(refused.checked.errors):
        return (
            f"file: the workbook has {count_text(count, 'problem')}; correct "
            f"{'it' if count == 1 else 'them'} and send it again. Nothing was saved"
        )
    if count == 1:
        only = refused.messages[0]
        return f"{refused.field_of(only)}: {only.message.rstrip('.')}. Nothing was saved"
    return f"file: the upload has {count} problems; correct them and send it again. Nothing was saved"


@blueprint.post("/contracts/<int:contract_id>/returns/<period>")
def upload_return(contract_id: int, period: str) -> Any:
    user = current_api_user()
    contract = readable_contract(db.session(), user, contract_id)
    expected = _expected(contract, period)
    if not can_upload(user, contract):
        raise ApiError(403, "Only the provider or a commissioner of this contract can upload its returns")
    upload, submit, acknowledge = _read_file()
    outcome = SubmitReturn(user, contract, expected.quarter, upload, submit, acknowledge).run()
    if isinstance(outcome, Refused):
        if outcome.conflict:
            raise ApiError(409, f"return: {CONFLICT_MESSAGE}")
        warnings = _as_items(outcome.checked.warnings) if outcome.checked is not None else []
        raise WorkbookRefused(
            _headline(outcome), _refusal(outcome) + warnings, 413 if upload.too_large else 422
        )
    if isinstance(outcome, NeedsAcknowledgement):
        count = len(outcome.warnings)
        raise WorkbookRefused(
            f"acknowledge_warnings: the workbook has {count_text(count, 'warning')}; check "
            f"{'it' if count == 1 else 'them'}, then send it again with acknowledge_warnings=true to save it "
            "anyway. Nothing was saved",
            _as_items(outcome.warnings),
        )
    response = jsonify(
        {
            "version": outcome.number,
            "state": outcome.state.value,
            "submitted": outcome.submitted,
            "sha256": outcome.sha256,
            "warnings": _as_items(outcome.warnings),
        }
    )
    response.headers["Location"] = url_for(
        "api.contract_return", contract_id=contract.id, period=expected.period
    )
    return response, 201


def _review(contract_id: int, period: str, action: str) -> Any:
    user = current_api_user()
    contract = readable_contract(db.session(), user, contract_id)
    expected = _expected(contract, period)
    if not can_review(user, contract):
        raise ApiError(
            403, f"Only the lead or a partner commissioner of this contract can {action} its returns"
        )
    fields = {"query": QUERY, "accept": ACCEPT, "reopen": REOPEN}[action]
    values = parse_body(fields, read_json_object())
    if expected.record is None:
        raise ApiError(
            409,
            f"state: nothing has been uploaded for {expected.period} yet, so there is nothing to {action}",
        )
    text = values.get("reason", "") if action == "reopen" else values.get("comment", "")
    outcome = ReviewReturn(user, expected.record, action, text, values.get("revision")).run()
    if isinstance(outcome, Refused):
        if outcome.conflict:
            raise ApiError(409, f"revision: {CONFLICT_MESSAGE}")
        raise field_error(422, {outcome.field_of(m): m.message for m in outcome.messages})
    db.session.expire_all()
    return jsonify(_detail(_expected(contract, period), user))


@blueprint.post("/contracts/<int:contract_id>/returns/<period>/query")
def query_return_api(contract_id: int, period: str) -> Any:
    return _review(contract_id, period, "query")


@blueprint.post("/contracts/<int:contract_id>/returns/<period>/accept")
def accept_return_api(contract_id: int, period: str) -> Any:
    return _review(contract_id, period, "accept")


@blueprint.post("/contracts/<int:contract_id>/returns/<period>/reopen")
def reopen_return_api(contract_id: int, period: str) -> Any:
    return _review(contract_id, period, "reopen")


# OpenAPI ----------------------------------------------------------------------

_ref = openapi._ref
_response = openapi._response
_json = openapi._json
_body = openapi._body
_operation = openapi._operation
_error_response = openapi._error
_STRING = openapi.STRING
_DATE = openapi.DATE

PERIOD = {
    "name": "period",
    "in": "path",
    "required": True,
    "description": "The quarter, as financial year and quarter: 2013-14-Q3 is October to December 2013",
    "schema": {"type": "string", "pattern": r"^\d{4}-\d{2}-Q[1-4]$", "examples": ["2013-14-Q3"]},
}
_STATE = {"type": "string", "enum": [s.value for s in ReturnState]}
_PROBLEM = {
    "type": "object",
    "required": ["sheet", "cell", "kpi", "severity", "message"],
    "properties": {
        "sheet": {**_STRING, "description": "Sheet name; empty when about the whole file"},
        "cell": {**_STRING, "description": "Cell in A1 notation; empty when about the whole file"},
        "kpi": {**_STRING, "description": "KPI code; empty when not about one KPI"},
        "severity": {"type": "string", "enum": ["error", "warning"]},
        "message": {**_STRING, "description": "What is wrong and how to fix it"},
        "field": {**_STRING, "description": "The request field at fault, when it is not a cell"},
    },
}
_VERSION = {
    "type": "object",
    "properties": {
        "number": {"type": "integer", "minimum": 1},
        "filename": _STRING,
        "sha256": {"type": "string", "pattern": "^[0-9a-f]{64}$"},
        "size_bytes": {"type": "integer", "minimum": 1},
        "template_version": _STRING,
        "submitted": {"type": "boolean"},
        "warnings_acknowledged": {"type": "boolean"},
        "uploaded_by": {"type": ["string", "null"]},
        "uploaded_at": {"type": "string", "format": "date-time"},
    },
}
_SUMMARY = {
    "type": "object",
    "description": "One expected return: due for each quarter a contract ran with a framework in force",
    "properties": {
        "period": _STRING,
        "quarter": {
            "type": "object",
            "properties": {"label": _STRING, "start": _DATE, "end": _DATE},
        },
        "due_date": _DATE,
        "state": _STATE,
        "late": {"type": "boolean", "description": "Due date passed and not submitted"},
        "missing": {"type": "boolean", "description": "More than 10 working days late"},
        "revision": {
            "type": ["integer", "null"],
            "description": "Send it back when reviewing, to refuse stale pages",
        },
        "needs_resubmission": {
            "type": "boolean",
            "description": "The framework changed after submission: the return lacks figures now required",
        },
        "resubmission_reason": {
            **_STRING,
            "description": "What is missing; empty unless it needs resubmission",
        },
        "versions": {"type": "array", "items": _ref("ReturnVersion")},
    },
}
_REVIEW_RESPONSES = {
    "200": _json("ReturnDetail", "The return after the change"),
    "404": _response("NotFound"),
    **openapi._WRITE,
}

openapi.extend(
    {
        "/contracts/{contract_id}/returns": {
            "parameters": [openapi.CONTRACT_ID],
            "get": _operation(
                "listReturns",
                "Every return the contract owes or has sent, newest quarter first, with its state, due date "
                "and versions (the quarter in progress included)",
                {"200": _json("ReturnList", "The contract's returns"), "404": _response("NotFound")},
            ),
        },
        "/contracts/{contract_id}/returns/{period}": {
            "parameters": [openapi.CONTRACT_ID, PERIOD],
            "get": _operation(
                "getReturn",
                "One return with its versions, history and the latest version's figures (figures and comments "
                "are null for boards, who see suppressed figures on the performance pages)",
                {
                    "200": _json("ReturnDetail", "The return"),
                    "422": _response("Unprocessable"),
                    "404": _response("NotFound"),
                },
            ),
            "post": _operation(
                "uploadReturn",
                "Upload a completed workbook as the next version. It is checked first: any error, or any warning "
                "without acknowledge_warnings=true, answers 422 listing every problem, and nothing is stored",
                {
                    "201": _json(
                        "ReturnUploaded",
                        "The version was stored",
                        headers={"Location": {"schema": _STRING, "description": "Address of the return"}},
                    ),
                    "404": _response("NotFound"),
                    **openapi._WRITE,
                    "413": {
                        "description": "The workbook is larger than the service accepts (listed like any other "
                        "problem with the file), or the whole request is",
                        "content": {
                            "application/json": {
                                "schema": {"anyOf": [openapi._ref("WorkbookProblems"), openapi._ref("Error")]}
                            }
                        },
                    },
                    "422": {
                        "description": "The workbook has problems (or unacknowledged warnings), or a "
                        "parameter breaks this document (the quarter, say)",
                        "content": {
                            "application/json": {
                                "schema": {"anyOf": [openapi._ref("WorkbookProblems"), openapi._ref("Error")]}
                            }
                        },
                    },
                },
                requestBody={
                    "required": True,
                    "description": "The workbook and how to save it",
                    "content": {
                        "multipart/form-data": {
                            "schema": {
                                "type": "object",
                                "required": ["file"],
                                "properties": {
                                    "file": {
                                        "type": "string",
                                        "format": "binary",
                                        "description": "The .xlsx workbook",
                                    },
                                    "submit": {
                                        "type": "boolean",
                                        "default": True,
                                        "description": "true submits it; false saves a draft",
                                    },
                                    "acknowledge_warnings": {
                                        "type": "boolean",
                                        "default": False,
                                        "description": "true saves it despite warnings you have read",
                                    },
                                },
                            }
                        }
                    },
                },
            ),
        },
        "/contracts/{contract_id}/returns/{period}/template": {
            "parameters": [openapi.CONTRACT_ID, PERIOD],
            "get": _operation(
                "downloadReturnTemplate",
                "The quarter's workbook, filled in with the contract, quarter and KPIs, ready to complete",
                {
                    "200": {
                        "description": "The workbook",
                        "content": {XLSX_MIMETYPE: {"schema": {"type": "string", "format": "binary"}}},
                    },
                    "422": _response("Unprocessable"),
                    "404": _response("NotFound"),
                    "409": _error_response(
                        "The workbook cannot be built for that quarter; the message says why"
                    ),
                },
            ),
        },
        "/contracts/{contract_id}/returns/{period}/query": {
            "parameters": [openapi.CONTRACT_ID, PERIOD],
            "post": _operation(
                "queryReturn",
                "Send a submitted return back to the provider with a comment (commissioners of the contract)",
                _REVIEW_RESPONSES,
                requestBody=_body("ReturnQuery", "The comment"),
            ),
        },
        "/contracts/{contract_id}/returns/{period}/accept": {
            "parameters": [openapi.CONTRACT_ID, PERIOD],
            "post": _operation(
                "acceptReturn",
                "Accept a submitted return; it is then locked (commissioners of the contract)",
                _REVIEW_RESPONSES,
                requestBody=_body("ReturnAccept", "An optional note ({} is fine)"),
            ),
        },
        "/contracts/{contract_id}/returns/{period}/reopen": {
            "parameters": [openapi.CONTRACT_ID, PERIOD],
            "post": _operation(
                "reopenReturn",
                "Reopen an accepted return: it goes back to the provider as queried, with the reason",
                _REVIEW_RESPONSES,
                requestBody=_body("ReturnReopen", "The reason"),
            ),
        },
    },
    {
        "ReturnVersion": _VERSION,
        "ReturnSummary": _SUMMARY,
        "ReturnList": {
            "type": "object",
            "properties": {
                "contract_id": openapi.ID,
                "returns": {"type": "array", "items": _ref("ReturnSummary")},
            },
        },
        "ReturnDetail": {
            "allOf": [
                _ref("ReturnSummary"),
                {
                    "type": "object",
                    "properties": {
                        "events": {
                            "type": "array",
                            "items": {
                                "type": "object",
                                "properties": {
                                    "kind": _STRING,
                                    "at": {"type": "string", "format": "date-time"},
                                    "by": {"type": ["string", "null"]},
                                    "version": {"type": ["integer", "null"]},
                                    "comment": {"type": ["string", "null"]},
                                },
                            },
                        },
                        "figures": {
                            "type": ["array", "null"],
                            "items": {
                                "type": "object",
                                "properties": {
                                    "kpi": _STRING,
                                    "breakdown": _STRING,
                                    "value": {"type": "string", "pattern": r"^-?\d+\.\d{2}$"},
                                    "numerator": {"type": ["string", "null"]},
                                    "denominator": {"type": ["string", "null"]},
                                },
                            },
                        },
                    },
                },
            ]
        },
        "ReturnUploaded": {
            "type": "object",
            "required": ["version", "state", "warnings"],
            "properties": {
                "version": {"type": "integer", "minimum": 1},
                "state": _STATE,
                "submitted": {"type": "boolean"},
                "sha256": _STRING,
                "warnings": {"type": "array", "items": _ref("WorkbookProblem")},
            },
        },
        "WorkbookProblem": _PROBLEM,
        "WorkbookProblems": {
            "type": "object",
            "required": ["message", "errors"],
            "properties": {"message": _STRING, "errors": {"type": "array", "items": _ref("WorkbookProblem")}},
        },
        "ReturnQuery": openapi.request_schema(QUERY),
        "ReturnAccept": openapi.request_schema(ACCEPT),
        "ReturnReopen": openapi.request_schema(REOPEN),
    },
)
