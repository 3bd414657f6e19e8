"""Shape checks for JSON request bodies.

Each request declares its fields (`Field`); `parse_body` checks every field's
type and form and reports every problem at once, each keyed by the field's
name, before any service runs. Whether values make sense together (end after
start, a funder that exists) is for the services, which report the same way.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from typing import Any

from flask import request

from monitor.api.errors import ApiError, field_error
from monitor.url_ids import LARGEST_ID

BODY = "body"
MAX_ID = LARGEST_ID
MAX_ITEMS = 50  # in any list field
# Far above any real amount; the services give the precise limit.
MAX_MONEY_MAGNITUDE = Decimal("1e15")
PENCE = Decimal("0.01")

_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_MONEY_TEXT = re.compile(r"^-?\d+(\.\d+)?$")


class Kind(StrEnum):
    TEXT = "text"
    DATE = "date"
    MONEY = "money"
    INTEGER = "integer"
    INTEGERS = "integers"
    ID = "id"
    IDS = "ids"
    CHOICE = "choice"
    CHOICES = "choices"
    BOOLEAN = "boolean"


@dataclass(frozen=True)
class Field:
    name: str
    kind: Kind
    description: str
    required: bool = False
    nullable: bool = False
    max_length: int | None = None
    choices: tuple[str, ...] = ()
    example: Any = None


class _Invalid(Exception):
    pass


def read_json_object() -> dict[str, Any]:
    """The request body as a JSON object; anything else is a 400 (or 415)."""
    if not request.is_json:
        raise ApiError(
            415,
            "body: send the request body as JSON, with the header Content-Type: application/json",
            {BODY: "The request body must be JSON (Content-Type: application/json)"},
        )
    raw = request.get_data(cache=False)  # larger than MAX_CONTENT_LENGTH -> 413
    if not raw.strip():
        raise _body_error("The request body is empty; send a JSON object")
    try:
        text = raw.decode("utf-8")
        value = json.loads(text, parse_float=Decimal, parse_constant=_no_constants)
    except UnicodeDecodeError as error:
        raise _body_error("The request body must be encoded as UTF-8") from error
    except json.JSONDecodeError as error:
        raise _body_error(
            f"The request body is not valid JSON: {error.msg} at line {error.lineno} column {error.colno}"
        ) from error
    except (ValueError, RecursionError) as error:
        raise _body_error(f"The request body is not valid JSON: {_first_line(error)}") from error
    if not isinstance(value, dict):
        raise _body_error('The request body must be a JSON object, like {"title": "Refuge"}')
    return value


def _body_error(message: str) -> ApiError:
    return field_error(400, {BODY: message})


def _first_line(error: BaseException) -> str:
    text = str(error).splitlines()[0] if str(error) else type(error).__name__
    return "nested too deeply" if isinstance(error, RecursionError) else text


class NotANumber:
    """NaN or Infinity in a body: kept so the field's own check can name it."""

    def __init__(self, text: str) -> None:
        self.text = text


def _no_constants(name: str) -> Any:
    return NotANumber(name)


def parse_body(fields: Sequence[Field], body: Mapping[str, Any], *, partial: bool = False) -> dict[str, Any]:
    """Check `body` against `fields`; returns the values given, converted.

    With `partial` (PATCH), no field is required. Raises a 422 naming every
    unknown, missing or malformed field.
    """
    known = {f.name: f for f in fields}
    errors: dict[str, str] = {}
    for name in body:
        if name not in known:
            errors[str(name)[:100]] = (
                f"{str(name)[:100]} is not a field of this request; use {', '.join(known)}"
            )
    values: dict[str, Any] = {}
    for spec in fields:
        if spec.name not in body:
            if spec.required and not partial:
                errors[spec.name] = f"{spec.name} is required"
            continue
        value = body[spec.name]
        if value is None:
            if spec.nullable:
                values[spec.name] = None
            else:
                errors[spec.name] = f"{spec.name} cannot be null; {_expectation(spec)}"
            continue
        try:
            values[spec.name] = _convert(spec, value)
        except _Invalid as invalid:
            errors[spec.name] = str(invalid)
    if errors:
        raise field_error(422, errors)
    return values


def _expectation(spec: Field) -> str:
    name = spec.name
    match spec.kind:
        case Kind.TEXT:
            return f"{name} must be text"
        case Kind.DATE:
            return f"{name} must be a date written like 2013-11-04"
        case Kind.MONEY:
            return f'{name} must be an amount in pounds, as a number or a string like "250000.00"'
        case Kind.INTEGER:
            return f"{name} must be a whole number"
        case Kind.INTEGERS:
            return f"{name} must be a list of whole numbers, like [12, 12]"
        case Kind.ID:
            return f"{name} must be a whole-number id, like 12"
        case Kind.IDS:
            return f"{name} must be a list of whole-number ids, like [3, 4]"
        case Kind.CHOICE:
            return f"{name} must be one of: {', '.join(spec.choices)}"
        case Kind.CHOICES:
            return f"{name} must be a list of values from: {', '.join(spec.choices)}"
        case Kind.BOOLEAN:
            return f"{name} must be true or false"
    raise AssertionError(spec.kind)  # pragma: no cover


def _convert(spec: Field, value: Any) -> Any:
    match spec.kind:
        case Kind.TEXT:
            return _text(spec, value)
        case Kind.DATE:
            return _date(spec, value)
        case Kind.MONEY:
            return _money(spec, value)
        case Kind.INTEGER:
            return _integer(spec, value, minimum=-MAX_ID)
        case Kind.ID:
            return _integer(spec, value, minimum=1)
        case Kind.INTEGERS | Kind.IDS:
            if not isinstance(value, list):
                raise _Invalid(_expectation(spec))
            _check_items(spec, value)
            minimum = 1 if spec.kind == Kind.IDS else -MAX_ID
            return [_integer(spec, item, minimum=minimum) for item in value]
        case Kind.CHOICE:
            if not isinstance(value, str) or value not in spec.choices:
                raise _Invalid(_expectation(spec))
            return value
        case Kind.CHOICES:
            if not isinstance(value, list) or not all(
                isinstance(item, str) and item in spec.choices for item in value
            ):
                raise _Invalid(_expectation(spec))
            _check_items(spec, value)
            return list(value)
        case Kind.BOOLEAN:
            if not isinstance(value, bool):
                raise _Invalid(_expectation(spec))
            return value
    raise AssertionError(spec.kind)  # pragma: no cover


def _check_items(spec: Field, value: list[Any]) -> None:
    if len(value) > MAX_ITEMS:
        raise _Invalid(f"{spec.name} can have at most {MAX_ITEMS} items")


def _text(spec: Field, value: Any) -> str:
    if not isinstance(value, str):
        raise _Invalid(_expectation(spec))
    if "\x00" in value:
        raise _Invalid(f"{spec.name} cannot contain the NUL character")
    if spec.max_length is not None and len(value.strip()) > spec.max_length:
        raise _Invalid(f"{spec.name} must be {spec.max_length} characters or fewer")
    return value


def _date(spec: Field, value: Any) -> date:
    if not isinstance(value, str) or not _DATE.match(value):
        raise _Invalid(_expectation(spec))
    try:
        return date.fromisoformat(value)
    except ValueError as error:
        raise _Invalid(f"{spec.name} must be a real date written like 2013-11-04") from error


def _integer(spec: Field, value: Any, *, minimum: int) -> int:
    # bool is an int in Python, but true is not a number in JSON.
    if isinstance(value, bool) or not isinstance(value, int) or not minimum <= value <= MAX_ID:
        raise _Invalid(_expectation(spec))
    return value


def _money(spec: Field, value: Any) -> Decimal:
    if isinstance(value, NotANumber):
        raise _Invalid(f"{spec.name} must be a finite amount in pounds, not {value.text}")
    if isinstance(value, bool):
        raise _Invalid(_expectation(spec))
    if isinstance(value, int | Decimal):
        amount = Decimal(value)
    elif isinstance(value, str) and _MONEY_TEXT.match(value.strip()):
        amount = Decimal(value.strip())
    else:
        raise _Invalid(_expectation(spec))
    if not amount.is_finite():  # pragma: no cover - NaN and Infinity are refused when parsing
        raise _Invalid(_expectation(spec))
    if abs(amount) >= MAX_MONEY_MAGNITUDE:
        raise _Invalid(f"{spec.name} must be less than £1,000,000,000")
    try:
        pence = amount.quantize(PENCE)
    except InvalidOperation as error:  # pragma: no cover - magnitude checked above
        raise _Invalid(_expectation(spec)) from error
    if pence != amount:
        raise _Invalid(f"{spec.name} can have at most 2 decimal places (pence)")
    return pence
