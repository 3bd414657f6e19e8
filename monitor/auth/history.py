"""Each person's sign-in history: one home for writing it, whatever the method."""

from __future__ import annotations

from flask import has_request_context, request
from sqlalchemy.orm import Session

from monitor.auth.models import SignInEvent, SignInMethod, SignInOutcome, User


def record_sign_in(session: Session, user: User, method: SignInMethod, outcome: SignInOutcome) -> None:
    """Add an entry to `user`'s history in the caller's transaction."""
    address, agent = "", ""
    if has_request_context():
        address = (request.remote_addr or "")[:64]
        agent = (request.user_agent.string or "")[:300]
    session.add(
        SignInEvent(user_id=user.id, method=method, outcome=outcome, client_address=address, user_agent=agent)
    )
