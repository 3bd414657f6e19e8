"""The API's one error shape: `{"message": ..., "errors": [{"field", "message"}]}`.

`message` always names the field(s) at fault; `errors` lists each one when
a request had fields to blame. Nothing here ever renders HTML or a trace.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from flask import Blueprint, Response, jsonify
from sqlalchemy.exc import IntegrityError

from monitor.errors import Forbidden, NotFound, ValidationFailed

log = logging.getLogger(__name__)


class ApiError(Exception):
    """Stop handling a request and answer with this status and message."""

    def __init__(
        self,
        status: int,
        message: str,
        errors: Mapping[str, str] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.errors = dict(errors or {})
        self.headers = dict(headers or {})


def field_error(status: int, errors: Mapping[str, str]) -> ApiError:
    """An error blaming named fields; the message lists every one."""
    return ApiError(status, summary(errors), errors)


def summary(errors: Mapping[str, str]) -> str:
    """Every message in one line, each led by its field's name."""
    return "; ".join(
        message if message.startswith(f"{name} ") else f"{name}: {message}"
        for name, message in errors.items()
    )


def error_response(
    status: int,
    message: str,
    errors: Mapping[str, str] | None = None,
    headers: Mapping[str, str] | None = None,
) -> tuple[Response, int]:
    body: dict[str, Any] = {"message": message}
    if errors:
        body["errors"] = [{"field": name, "message": text} for name, text in errors.items()]
    response = jsonify(body)
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response, status


def install(blueprint: Blueprint) -> None:
    @blueprint.errorhandler(ApiError)
    def api_error(error: ApiError) -> Any:
        return error_response(error.status, error.message, error.errors, error.headers)

    @blueprint.errorhandler(ValidationFailed)
    def validation_failed(error: ValidationFailed) -> Any:
        return error_response(422, summary(error.errors), error.errors)

    @blueprint.errorhandler(Forbidden)
    def forbidden(error: Forbidden) -> Any:
        return error_response(403, str(error) or "Your account cannot do that")

    @blueprint.errorhandler(NotFound)
    def not_found(error: NotFound) -> Any:
        return error_response(404, str(error) or "Not found")

    @blueprint.errorhandler(IntegrityError)
    def conflict(_error: IntegrityError) -> Any:
        # The services check uniqueness first, so this is a race with another
        # writer; the transaction was rolled back, so nothing changed.
        log.warning("api write conflicted with another change", exc_info=True)
        return error_response(
            409,
            "The change clashes with another change made at the same time "
            "(for example the same reference or funding line). Nothing was changed; try again.",
        )
