"""The one error a service raises when input breaks the rules.

It carries every message at once, keyed by field name, so a form can show
them all beside their fields and the API can name each field.
"""

from __future__ import annotations


class ValidationFailed(Exception):
    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__("; ".join(f"{field}: {message}" for field, message in errors.items()))
        self.errors = errors


class NotFound(Exception):
    """The record does not exist or this user may not see it (we never say which)."""


class Forbidden(Exception):
    """The user may see the record but not do this to it."""
