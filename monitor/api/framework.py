"""A contract's performance framework and its performance, through the API.

Same rules as the web pages: anyone who can read the contract can read these;
only its commissioners can change the framework. Targets and tolerances are
plain numbers, not pounds, so they are parsed here rather than as money.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from decimal import Decimal
from typing import Any

from flask import jsonify, url_for
from sqlalchemy import select

from monitor.api import openapi
from monitor.api.access import changeable_contract, readable_contract
from monitor.api.auth import current_api_user
from monitor.api.blueprint import blueprint
from monitor.api.errors import ApiError, field_error
from monitor.api.parsing import Field, Kind, NotANumber, parse_body, read_json_object
from monitor.clock import today
from monitor.contracts.models import Contract
from monitor.db import db
from monitor.disclosure.suppression import CONFIDENTIAL
from monitor.errors import ValidationFailed
from monitor.kpis.framework import services
from monitor.kpis.framework.history import framework_history, in_force
from monitor.kpis.models import FrameworkItem, Kpi
from monitor.kpis.performance.figures import Cell, ContractPerformance
from monitor.kpis.performance.rag import ProcurementRating, Rag, Travel
from monitor.kpis.performance.service import performances_for
from monitor.kpis.periods import Quarter
from monitor.kpis.vocabulary import Direction, TargetBasis

_NUMBER_TEXT = re.compile(r"^-?\d+(\.\d+)?$")
# Far beyond any real target; the services give the precise limits.
_MAX_MAGNITUDE = Decimal("1e15")


@dataclass(frozen=True)
class NumberField:
    name: str
    description: str
    nullable: bool = False
    example: str = ""


def _values(enum: type) -> tuple[str, ...]:
    return tuple(member.value for member in enum)  # type: ignore[attr-defined]


TARGET = NumberField("target", "The target, or null to monitor without rating", nullable=True, example="30")
TOLERANCE = NumberField("amber_tolerance_pct", "Per cent of the target that is amber, 0 to 100 (default 10)")
ITEM_FIELDS: tuple[Field, ...] = (
    Field(
        "kpi_code",
        Kind.TEXT,
        "Code of a KPI in the library",
        required=True,
        max_length=30,
        example="REF-RECEIVED",
    ),
    Field(
        "target_basis",
        Kind.CHOICE,
        "Whether the target is per quarter or per year",
        choices=_values(TargetBasis),
    ),
    Field(
        "direction",
        Kind.CHOICE,
        "Which way is better, if not the KPI's own way (null: the KPI's)",
        nullable=True,
        choices=_values(Direction),
    ),
    Field(
        "effective_from",
        Kind.TEXT,
        "First quarter in force",
        required=True,
        max_length=10,
        example="2013-14-Q3",
    ),
    Field(
        "effective_to", Kind.TEXT, "Last quarter in force (null: until changed)", nullable=True, max_length=10
    ),
)
CHANGE_FIELDS: tuple[Field, ...] = (
    *(f for f in ITEM_FIELDS if f.name in {"target_basis", "direction"}),
    Field(
        "from_quarter",
        Kind.TEXT,
        "With new terms: the first quarter they apply to. Earlier quarters keep the old terms",
        max_length=10,
        example="2014-15-Q1",
    ),
    Field(
        "effective_to",
        Kind.TEXT,
        "To end the item: its last quarter in force",
        max_length=10,
        example="2014-15-Q2",
    ),
)
_TERMS = {"target", "target_basis", "amber_tolerance_pct", "direction"}


def _number(spec: NumberField, value: Any) -> Decimal:
    expected = f'{spec.name} must be a number, like 30 or 87.5, or a string of digits like "87.5"'
    if isinstance(value, NotANumber):
        raise ValueError(f"{spec.name} must be a finite number, not {value.text}")
    if isinstance(value, bool) or not isinstance(value, int | Decimal | str):
        raise ValueError(expected)
    if isinstance(value, str):
        if not _NUMBER_TEXT.match(value.strip()):
            raise ValueError(expected)
        value = value.strip()
    number = Decimal(value)
    if abs(number) >= _MAX_MAGNITUDE:
        raise ValueError(f"{spec.name} is far too large")
    return number


def _parse(
    fields: tuple[Field, ...], numbers: tuple[NumberField, ...], body: dict[str, Any], *, partial: bool
) -> dict[str, Any]:
    """parse_body, plus the number fields; every problem reported at once."""
    names = [f.name for f in fields] + [n.name for n in numbers]
    errors: dict[str, str] = {
        str(key)[:100]: f"{str(key)[:100]} is not a field of this request; use {', '.join(names)}"
        for key in body
        if key not in names
    }
    values: dict[str, Any] = {}
    for spec in numbers:
        if spec.name not in body:
            continue
        if body[spec.name] is None and spec.nullable:
            values[spec.name] = None
            continue
        try:
            values[spec.name] = _number(spec, body[spec.name])
        except ValueError as invalid:
            errors[spec.name] = str(invalid)
    known = {f.name for f in fields}
    try:
        values.update(parse_body(fields, {k: v for k, v in body.items() if k in known}, partial=partial))
    except ApiError as failed:
        if failed.status != 422:
            raise
        errors = {**failed.errors, **errors}
    if errors:
        raise field_error(422, errors)
    return values


def _figure(value: Decimal | None) -> str | None:
    return None if value is None else f"{value:.2f}"


def item_json(item: FrameworkItem) -> dict[str, Any]:
    return {
        "id": item.id,
        "contract_id": item.contract_id,
        "kpi": {"code": item.kpi.code, "name": item.kpi.name, "unit": item.kpi.unit},
        "target": _figure(item.target),
        "target_basis": item.target_basis,
        "amber_tolerance_pct": _figure(item.amber_tolerance_pct),
        "direction": item.effective_direction,
        "direction_set_for_contract": item.direction is not None,
        "effective_from": item.effective_from,
        "effective_to": item.effective_to,
        "in_force_now": in_force(item, Quarter.containing(today())),
    }


def _item_of(contract: Contract, item_id: int) -> FrameworkItem:
    item = db.session.get(FrameworkItem, item_id)
    if item is None or item.contract_id != contract.id:
        raise ApiError(404, f"item_id: framework item {item_id} was not found on contract {contract.id}")
    return item


def _location(item: FrameworkItem) -> str:
    return url_for("api.framework_item", contract_id=item.contract_id, item_id=item.id)


@blueprint.get("/contracts/<int:contract_id>/framework")
def framework(contract_id: int) -> Any:
    contract = readable_contract(db.session(), current_api_user(), contract_id)
    items = framework_history(db.session(), [contract.id])
    items.sort(key=lambda i: (i.effective_from, i.kpi.code))
    return jsonify({"contract_id": contract.id, "items": [item_json(i) for i in items]})


@blueprint.get("/contracts/<int:contract_id>/framework/<int:item_id>")
def framework_item(contract_id: int, item_id: int) -> Any:
    contract = readable_contract(db.session(), current_api_user(), contract_id)
    return jsonify(item_json(_item_of(contract, item_id)))


@blueprint.post("/contracts/<int:contract_id>/framework")
def add_framework_item(contract_id: int) -> Any:
    user = current_api_user()
    with db.transaction() as session:
        contract = changeable_contract(session, user, contract_id)
        values = _parse(ITEM_FIELDS, (TARGET, TOLERANCE), read_json_object(), partial=False)
        code = values["kpi_code"].strip().upper()
        kpi_id = session.scalar(select(Kpi.id).where(Kpi.code == code))
        if kpi_id is None:
            raise field_error(422, {"kpi_code": f"There is no KPI with the code {code} in the library"})
        fields = services.ItemFields(
            kpi_id=kpi_id,
            terms=services.ItemTerms(
                target=values.get("target"),
                target_basis=values.get("target_basis", TargetBasis.QUARTER.value),
                amber_tolerance_pct=values.get("amber_tolerance_pct"),
                direction=values.get("direction"),
            ),
            effective_from=values["effective_from"],
            effective_to=values.get("effective_to") or "",
        )
        try:
            item = services.add_item(session, user, contract, fields)
        except ValidationFailed as failed:
            # The API names the KPI by its code, so blame that field.
            renamed = {("kpi_code" if k == "kpi_id" else k): v for k, v in failed.errors.items()}
            raise ValidationFailed(renamed) from None
        body = item_json(item)
    response = jsonify(body)
    response.headers["Location"] = _location(item)
    return response, 201


@blueprint.patch("/contracts/<int:contract_id>/framework/<int:item_id>")
def change_framework_item(contract_id: int, item_id: int) -> Any:
    """New terms from a quarter (200 when changed in place, 201 with Location
    when a new item took over), or the end of the item (200)."""
    user = current_api_user()
    with db.transaction() as session:
        contract = changeable_contract(session, user, contract_id)
        item = _item_of(contract, item_id)
        values = _parse(CHANGE_FIELDS, (TARGET, TOLERANCE), read_json_object(), partial=True)
        changing = _TERMS & set(values)
        if changing and "effective_to" in values:
            raise field_error(
                422, {"effective_to": "effective_to ends the item; send it on its own, not with new terms"}
            )
        if "effective_to" in values:
            changed = services.end_item(session, user, contract, item, values["effective_to"])
        elif changing:
            current = services.terms_of(item)
            terms = replace(current, **{k: values[k] for k in changing})
            start = values.get("from_quarter")
            if start is None:
                raise field_error(
                    422, {"from_quarter": "from_quarter is required with new terms, like 2014-15-Q1"}
                )
            changed = services.change_item(session, user, contract, item, terms, start)
        else:
            raise field_error(
                422, {"body": "Send new terms with from_quarter, or effective_to to end the item"}
            )
        body, created = item_json(changed), changed.id != item.id
    response = jsonify(body)
    if created:
        response.headers["Location"] = _location(changed)
    return response, 201 if created else 200


def _cell_json(cell: Cell) -> dict[str, Any]:
    hidden = cell.marker == CONFIDENTIAL
    return {
        "quarter": str(cell.quarter),
        "actual": cell.marker or _figure(cell.actual),
        "suppressed": hidden,
        "marker": cell.marker or None,
        "target": _figure(cell.target),
        "target_note": cell.target_note or None,
        "in_framework": cell.item is not None,
        # A hidden figure's rating and direction of travel would narrow it down.
        "rag": None if hidden else cell.rag.value,
        "direction_of_travel": None if hidden else cell.travel.value,
        "provisional": cell.provisional,
        "awaiting_acceptance": cell.awaiting_acceptance,
    }


def performance_json(performance: ContractPerformance) -> dict[str, Any]:
    summary = performance.summary()
    return {
        "contract_id": performance.contract.id,
        "quarters": [str(q) for q in performance.quarters],
        "summary": {
            "quarter": str(summary.quarter) if summary.quarter else None,
            "green": summary.green,
            "amber": summary.amber,
            "red": summary.red,
            "procurement_rating": summary.rating.value,
            "provisional": summary.provisional,
            "hidden": summary.hidden,
        },
        "kpis": [
            {
                "code": row.kpi.code,
                "name": row.kpi.name,
                "unit": row.kpi.unit,
                "quarters": [_cell_json(cell) for cell in row.cells],
            }
            for row in performance.rows
        ],
    }


@blueprint.get("/contracts/<int:contract_id>/performance")
def performance(contract_id: int) -> Any:
    user = current_api_user()
    contract = readable_contract(db.session(), user, contract_id)
    found, board = performances_for(user, [contract])
    performance = found[0] if found else ContractPerformance(contract, [])
    body = performance_json(performance)
    # Boards: whether their figures are in yet (None for exact figures).
    body["board_figures"] = (
        None if board is None else {"available": not board.missing, "message": board.missing}
    )
    return jsonify(body)


# --- The OpenAPI description of the routes above -------------------------------

_NUMBER_INPUT = {
    "oneOf": [{"type": "number"}, {"type": "string", "pattern": r"^-?\d+(\.\d+)?$"}],
}
_FIGURE = {"type": ["string", "null"], "pattern": r"^-?\d+\.\d{2}$", "description": "Two decimal places"}
_QUARTER = {"type": "string", "pattern": r"^\d{4}-\d{2}-Q[1-4]$", "examples": ["2013-14-Q3"]}


def _number_schema(spec: NumberField) -> dict[str, Any]:
    schema: dict[str, Any] = dict(_NUMBER_INPUT)
    if spec.nullable:
        schema = {"anyOf": [schema, {"type": "null"}]}
    return {**schema, "description": spec.description, "examples": [spec.example or "10"]}


def _request(fields: tuple[Field, ...], *, partial: bool) -> dict[str, Any]:
    schema = openapi.request_schema(fields, partial=partial)
    schema["properties"].update({n.name: _number_schema(n) for n in (TARGET, TOLERANCE)})
    return schema


def _describe() -> None:
    op, ok, body, ref = openapi._operation, openapi._json, openapi._body, openapi._ref
    not_found = {"404": openapi._response("NotFound")}
    item_id = openapi._path_parameter("item_id", "The framework item's id")
    created = {"201": ok("FrameworkItem", "The new item", headers=openapi._LOCATION)}
    openapi.extend(
        {
            "/contracts/{contract_id}/framework": {
                "parameters": [openapi.CONTRACT_ID],
                "get": op(
                    "getFramework",
                    "Every KPI item the contract's framework has had, with the quarters each was in force",
                    {"200": ok("Framework", "The framework"), **not_found},
                ),
                "post": op(
                    "addFrameworkItem",
                    "Add a KPI to the framework (commissioners of the contract only)",
                    {**created, **not_found, **openapi._WRITE},
                    requestBody=body("FrameworkItemCreate", "The item"),
                ),
            },
            "/contracts/{contract_id}/framework/{item_id}": {
                "parameters": [openapi.CONTRACT_ID, item_id],
                "get": op(
                    "getFrameworkItem",
                    "One framework item",
                    {"200": ok("FrameworkItem", "The item"), **not_found},
                ),
                "patch": op(
                    "changeFrameworkItem",
                    "Either new terms (target, basis, tolerance, direction) from `from_quarter` on, or "
                    "`effective_to` to end the item. Earlier quarters keep the terms they were judged by: "
                    "if the item was in force before `from_quarter`, it ends the quarter before and a new "
                    "item carries the new terms (201, with its Location)",
                    {
                        "200": ok("FrameworkItem", "The item, changed in place or ended"),
                        **created,
                        **not_found,
                        **openapi._WRITE,
                    },
                    requestBody=body("FrameworkItemChange", "New terms with from_quarter, or effective_to"),
                ),
            },
            "/contracts/{contract_id}/performance": {
                "parameters": [openapi.CONTRACT_ID],
                "get": op(
                    "getPerformance",
                    "Each KPI's reported figure, target, RAG rating and direction of travel for each quarter "
                    "of the contract up to today; board members see small counts as [c]",
                    {"200": ok("Performance", "Performance by quarter"), **not_found},
                ),
            },
        },
        {
            "FrameworkItem": openapi._object(
                {
                    "id": openapi.ID,
                    "contract_id": openapi.ID,
                    "kpi": openapi._object(
                        {"code": openapi.STRING, "name": openapi.STRING, "unit": openapi.STRING}
                    ),
                    "target": _FIGURE,
                    "target_basis": {"type": "string", "enum": list(_values(TargetBasis))},
                    "amber_tolerance_pct": _FIGURE,
                    "direction": {"type": "string", "enum": list(_values(Direction))},
                    "direction_set_for_contract": {"type": "boolean"},
                    "effective_from": _QUARTER,
                    "effective_to": {"anyOf": [_QUARTER, {"type": "null"}]},
                    "in_force_now": {"type": "boolean"},
                }
            ),
            "Framework": openapi._object(
                {"contract_id": openapi.ID, "items": {"type": "array", "items": ref("FrameworkItem")}}
            ),
            "FrameworkItemCreate": _request(ITEM_FIELDS, partial=False),
            "FrameworkItemChange": _request(CHANGE_FIELDS, partial=True),
            "Performance": openapi._object(
                {
                    "contract_id": openapi.ID,
                    "quarters": {"type": "array", "items": _QUARTER},
                    "summary": openapi._object(
                        {
                            "quarter": {"anyOf": [_QUARTER, {"type": "null"}]},
                            "green": {"type": "integer"},
                            "amber": {"type": "integer"},
                            "red": {"type": "integer"},
                            "procurement_rating": {
                                "type": "string",
                                "enum": list(_values(ProcurementRating)),
                            },
                            "provisional": {"type": "boolean"},
                            "hidden": {
                                "type": "integer",
                                "description": "Ratings hidden with their figures (boards), not counted above",
                            },
                        },
                        "The latest quarter with a rated KPI; the rating is the worst KPI's",
                    ),
                    "kpis": {"type": "array", "items": ref("KpiPerformance")},
                    "board_figures": {
                        "anyOf": [
                            {"type": "null"},
                            openapi._object(
                                {"available": {"type": "boolean"}, "message": openapi.STRING},
                                "Boards read the warehouse's figures; until it is loaded, none are available",
                            ),
                        ]
                    },
                }
            ),
            "KpiPerformance": openapi._object(
                {
                    "code": openapi.STRING,
                    "name": openapi.STRING,
                    "unit": openapi.STRING,
                    "quarters": {
                        "type": "array",
                        "items": openapi._object(
                            {
                                "quarter": _QUARTER,
                                "actual": {
                                    "type": ["string", "null"],
                                    "description": (
                                        "The reported total (two decimal places), or a marker: [c] hidden "
                                        "to protect privacy, [x] not yet available (boards)"
                                    ),
                                },
                                "suppressed": {"type": "boolean"},
                                "marker": {"type": ["string", "null"], "enum": ["[c]", "[x]", "[z]", None]},
                                "target": {**_FIGURE, "description": "The target for one quarter"},
                                "target_note": {
                                    "type": ["string", "null"],
                                    "description": (
                                        "How the target was pro-rated for a quarter the contract was in force "
                                        "only part of ('pro-rated: 31 of 90 days'); null when it was not"
                                    ),
                                },
                                "in_framework": {"type": "boolean"},
                                "rag": {
                                    "type": ["string", "null"],
                                    "enum": [*_values(Rag), None],
                                    "description": "null when the figure is hidden",
                                },
                                "direction_of_travel": {
                                    "type": ["string", "null"],
                                    "enum": [*_values(Travel), None],
                                    "description": "null when the figure is hidden",
                                },
                                "provisional": {
                                    "type": "boolean",
                                    "description": "From a return not yet accepted (never for boards)",
                                },
                                "awaiting_acceptance": {
                                    "type": "boolean",
                                    "description": "Boards: a return is in for the quarter but not yet accepted",
                                },
                            }
                        ),
                    },
                }
            ),
        },
    )


_describe()
