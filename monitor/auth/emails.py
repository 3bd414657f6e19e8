"""Account emails (invitations, password resets): sent through the same mail
path as reminders (SMTP, or .eml files in OUTBOX_DIR), once the transaction
that made the link has committed, so a rolled-back change never sends one."""

from __future__ import annotations

import logging

from flask import current_app, has_request_context, request
from sqlalchemy.orm import Session

from monitor.db import after_commit
from monitor.kpis.returns.mail import Mailer, build_message

log = logging.getLogger(__name__)


def service_link(path: str) -> str:
    """A whole link for an email: SERVICE_URL and the path, or the request's host."""
    base = str(current_app.config.get("SERVICE_URL") or "").rstrip("/")
    if not base:
        base = request.host_url.rstrip("/") if has_request_context() else ""
    return base + path


def send_after_commit(session: Session, to: str, subject: str, body: str) -> None:
    """Send one email when `session` commits; a failure is logged, never raised to the person."""
    settings = dict(current_app.config)
    message = build_message(settings, to, subject, body)

    def send() -> None:
        try:
            with Mailer(settings) as mailer:
                mailer.send(message)
        except Exception:
            log.exception("account email not sent", extra={"subject": subject})

    after_commit(session, send)
