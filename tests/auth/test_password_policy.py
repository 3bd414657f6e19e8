"""The one rule for a new password (NCSC: length over complexity)."""

from __future__ import annotations

import pytest

from monitor.auth.password_policy import common_passwords, password_problem


@pytest.mark.parametrize(
    ("password", "problem"),
    [
        ("short-one", "at least 12 characters"),
        ("x" * 257, "256 characters or fewer"),
        ("password1234", "commonly used"),
        ("PASSWORD1234", "commonly used"),
        ("aaaaaaaaaaaaaaaa", "commonly used"),
        ("ababababababab", "commonly used"),
        ("priya.provider-2014", "your name or email address"),
        ("Priya Provider rocks", "your name or email address"),
    ],
)
def test_passwords_that_are_refused_and_why(password: str, problem: str) -> None:
    found = password_problem(password, email="priya.provider@refuge.example", name="Priya Provider")
    assert found is not None and problem in found


def test_a_long_uncommon_password_without_complexity_rules_is_accepted() -> None:
    # No digits, symbols or capitals needed: four random words will do.
    assert password_problem("correct horse battery staple", email="a@b.example", name="Al Bo") is None


def test_the_common_list_is_the_real_one() -> None:
    listed = common_passwords()
    assert len(listed) > 19_000
    assert {"password", "123456", "qwerty"} <= listed
