"""Sending email. With SMTP_HOST set, messages go through that server (STARTTLS
and login when configured); otherwise, in development and tests, each message
is written as an .eml file into OUTBOX_DIR for people and tests to read."""

from __future__ import annotations

import smtplib
import ssl
import uuid
from collections.abc import Mapping
from datetime import UTC, datetime
from email import policy
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from pathlib import Path
from types import TracebackType
from typing import Any

from flask import current_app, has_app_context

from monitor import clock

SMTP_TIMEOUT_SECONDS = 30
# Header lines may run to 998 characters; not folding keeps .eml files easy to read.
_FILE_POLICY = policy.default.clone(max_line_length=998)


def build_message(settings: Mapping[str, Any], to: str, subject: str, body: str) -> EmailMessage:
    message = EmailMessage()
    message["From"] = settings["MAIL_FROM"]
    message["To"] = to
    message["Subject"] = subject
    # The service's clock, so a demo pinned to a day sends its mail on that day.
    message["Date"] = formatdate(clock.now().replace(tzinfo=UTC).timestamp(), usegmt=True)
    message["Message-ID"] = make_msgid(domain=str(settings["MAIL_FROM"]).rpartition("@")[2] or None)
    message.set_content(body)
    return message


class Mailer:
    """One batch of messages: keeps a single SMTP connection open while sending.

    Use as a context manager; `send` raises on failure so the caller can
    leave that message unrecorded and try again on the next run."""

    def __init__(self, settings: Mapping[str, Any]) -> None:
        self.settings = settings
        self._smtp: smtplib.SMTP | None = None

    @property
    def uses_smtp(self) -> bool:
        return bool(self.settings.get("SMTP_HOST"))

    def __enter__(self) -> Mailer:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self.close()

    def send(self, message: EmailMessage) -> None:
        if self.uses_smtp:
            self._connection().send_message(message)
        else:
            self._write(message)

    def close(self) -> None:
        if self._smtp is not None:
            try:
                self._smtp.quit()
            except smtplib.SMTPException:
                self._smtp.close()
            self._smtp = None

    def _connection(self) -> smtplib.SMTP:
        if self._smtp is None:
            settings = self.settings
            smtp = smtplib.SMTP(
                settings["SMTP_HOST"], int(settings["SMTP_PORT"]), timeout=SMTP_TIMEOUT_SECONDS
            )
            try:
                if settings.get("SMTP_STARTTLS", True):
                    smtp.starttls(context=ssl.create_default_context())
                if settings.get("SMTP_USERNAME"):
                    smtp.login(settings["SMTP_USERNAME"], settings.get("SMTP_PASSWORD", ""))
            except BaseException:
                smtp.close()
                raise
            self._smtp = smtp
        return self._smtp

    def outbox(self) -> Path:
        configured = self.settings.get("OUTBOX_DIR")
        if configured:
            return Path(configured)
        if has_app_context():
            return Path(current_app.instance_path) / "outbox"
        raise RuntimeError("Set OUTBOX_DIR (or SMTP_HOST) to send email")

    def _write(self, message: EmailMessage) -> Path:
        outbox = self.outbox()
        outbox.mkdir(parents=True, exist_ok=True)
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%f")
        path = outbox / f"{stamp}-{uuid.uuid4().hex[:8]}.eml"
        path.write_bytes(message.as_bytes(policy=_FILE_POLICY))
        return path
