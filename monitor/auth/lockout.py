"""Unlocking an account: the one home for clearing what locks it.

Failed sign-ins are kept per email address in `login_failures` (so an unknown
address behaves exactly like a real one) and mirrored on the user row.
"""

from __future__ import annotations

from sqlalchemy import delete
from sqlalchemy.orm import Session

from monitor.auth.models import LoginFailure, User


def unlock_account(session: Session, user: User) -> None:
    """Forget the account's failed sign-ins, so it can sign in again at once."""
    session.execute(delete(LoginFailure).where(LoginFailure.email == user.email))
    user.failed_logins = 0
    user.locked_until = None
