"""Error pages: HTML for people, JSON for the API, never a stack trace."""

from __future__ import annotations

import logging
from typing import Any

from flask import Flask, jsonify, render_template, request
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import DBAPIError
from werkzeug.exceptions import HTTPException

log = logging.getLogger(__name__)

MESSAGES = {
    400: ("There is a problem with the request", "Check what you entered and try again."),
    401: ("Sign in to continue", "Sign in to use this service."),
    403: ("You cannot do that", "Your account does not have permission for this page or action."),
    404: ("Page not found", "The page does not exist, or your account cannot see it."),
    405: ("Method not allowed", "This address does not accept that kind of request."),
    413: ("The request is too large", "The data sent was larger than this service accepts."),
    429: ("Too many requests", "Wait a few minutes, then try again."),
    500: ("Sorry, there is a problem with the service", "Try again later. Nothing was changed."),
    503: ("The service is not available", "Try again in a few minutes. Nothing was changed."),
}


LOST_CONNECTION = (
    "Nothing was saved: the service lost its connection to the database. Wait a moment, then send it again."
)


def wants_json() -> bool:
    return request.path.startswith("/api/")


def error_response(status: int, message: str | None = None) -> Any:
    title, detail = MESSAGES.get(status, MESSAGES[500])
    if wants_json():
        return jsonify({"message": message or title}), status
    return render_template("errors/error.html", title=title, detail=message or detail, status=status), status


def install(app: Flask) -> None:
    @app.errorhandler(CSRFError)
    def csrf_failed(_error: CSRFError) -> Any:
        return error_response(
            400,
            "The form was missing its security token or it had expired. "
            "Go back, reload the page and submit the form again. Nothing was changed.",
        )

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException) -> Any:
        status = error.code or 500
        if status == 413:
            limit = app.config["MAX_CONTENT_LENGTH"] // (1024 * 1024)
            return error_response(
                413, f"The request is larger than {limit} MB; send less data. Nothing was changed."
            )
        return error_response(status)

    @app.errorhandler(DBAPIError)
    def database_error(error: DBAPIError) -> Any:
        # A connection lost mid-request (the server restarted, a failover, an
        # operator ended it): the transaction was rolled back, so say so plainly.
        if not error.connection_invalidated:
            log.exception("unhandled error", extra={"path": request.path})
            return error_response(500)
        log.warning(
            "database connection lost", extra={"path": request.path, "error": type(error.orig).__name__}
        )
        return error_response(503, LOST_CONNECTION)

    @app.errorhandler(Exception)
    def unexpected(error: Exception) -> Any:
        log.exception("unhandled error", extra={"path": request.path})
        return error_response(500)
