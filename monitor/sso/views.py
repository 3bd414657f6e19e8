"""Single sign-on: starting a sign-in at the organisation's provider, the callback, and the admin page for an organisation's settings."""

from __future__ import annotations

from flask import Blueprint

blueprint = Blueprint("sso", __name__)
