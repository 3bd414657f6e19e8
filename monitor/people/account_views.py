"""Each person's own account: details, sign-in history, API tokens, signing out everywhere."""

from __future__ import annotations

from flask import Blueprint

blueprint = Blueprint("account", __name__)
