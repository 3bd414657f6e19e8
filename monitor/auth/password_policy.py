"""What a new password must be: the one home for the rule, used wherever a
person chooses one (accepting an invitation, resetting, changing).

NCSC guidance: length over complexity. At least MIN_PASSWORD_LENGTH
characters, not a commonly used password, and not built from the person's
own email address or name. No rules about symbols or digits, no expiry.
"""

from __future__ import annotations

import gzip
from functools import cache
from pathlib import Path

from monitor.auth.passwords import MIN_PASSWORD_LENGTH

MAX_PASSWORD_LENGTH = 256  # argon2 takes any length; this only bounds the work per request
_COMMON_PASSWORDS = Path(__file__).parent / "data" / "common-passwords.txt.gz"


@cache
def common_passwords() -> frozenset[str]:
    with gzip.open(_COMMON_PASSWORDS, "rt", encoding="utf-8") as lines:
        return frozenset(line.strip() for line in lines if line.strip())


def password_problem(password: str, *, email: str = "", name: str = "") -> str | None:
    """Why `password` cannot be used, in words for the person choosing it; None if it can."""
    if len(password) < MIN_PASSWORD_LENGTH:
        return f"Enter a password of at least {MIN_PASSWORD_LENGTH} characters"
    if len(password) > MAX_PASSWORD_LENGTH:
        return f"Enter a password of {MAX_PASSWORD_LENGTH} characters or fewer"
    folded = password.casefold()
    if folded in common_passwords() or len(set(folded)) <= 2:
        return "Choose a password that is harder to guess: this one is commonly used"
    personal = {email.casefold(), email.casefold().partition("@")[0], name.casefold().replace(" ", "")}
    if any(part and len(part) >= 4 and part in folded.replace(" ", "") for part in personal):
        return "Choose a password that does not contain your name or email address"
    return None
