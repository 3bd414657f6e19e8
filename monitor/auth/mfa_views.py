"""Two-factor authentication: the second sign-in step, setting it up, recovery codes."""

from __future__ import annotations

from flask import Blueprint

blueprint = Blueprint("mfa", __name__)
