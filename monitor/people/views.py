"""Managing people: admins for everyone, organisation admins for their own organisation."""

from __future__ import annotations

from flask import Blueprint

blueprint = Blueprint("people", __name__)
