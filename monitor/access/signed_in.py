"""The person behind the current web request (Flask-Login keeps the session).
The only module of this package that knows about Flask."""

from __future__ import annotations

from typing import TYPE_CHECKING

from flask_login import current_user

if TYPE_CHECKING:  # the model imports this package's roles; only types flow back
    from monitor.auth.models import User


def signed_in_user() -> User:
    user: User = current_user._get_current_object()
    return user
