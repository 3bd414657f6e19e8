"""Passwords: forgotten-password reset by email, changing one's own, and the change a temporary password forces."""

from __future__ import annotations

from flask import Blueprint

blueprint = Blueprint("passwords", __name__)
