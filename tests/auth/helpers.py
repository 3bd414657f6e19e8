"""Readers shared by the sign-in and two-factor tests."""

from __future__ import annotations

from typing import Any

from bs4 import BeautifulSoup
from sqlalchemy import select

from monitor.auth.models import SignInEvent, User
from monitor.db import db


def page_of(response: Any) -> Any:
    """The page's HTML, parsed (Any: its lookups are asserted by the tests themselves)."""
    return BeautifulSoup(response.get_data(as_text=True), "html.parser")


def first_error(response: object) -> str:
    """The text of the page's first field error, without the hidden "Error:"."""
    page = page_of(response)
    message = page.select_one(".govuk-error-message")
    assert message is not None, page.get_text()[:500]
    return " ".join(message.get_text().replace("Error:", "").split())


def user_row(email: str) -> User:
    db.session.expire_all()
    return db.session.execute(select(User).where(User.email == email)).scalar_one()


def sign_in_history(email: str) -> list[tuple[str, str]]:
    """(method, outcome) of each entry in the person's sign-in history, oldest first."""
    user = user_row(email)
    rows = db.session.execute(
        select(SignInEvent.method, SignInEvent.outcome)
        .where(SignInEvent.user_id == user.id)
        .order_by(SignInEvent.id)
    )
    return [(method, outcome) for method, outcome in rows]
