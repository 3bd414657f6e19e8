"""Writes and checks for organisations, users and API tokens (signing in is monitor.auth.sign_in)."""

from __future__ import annotations

import re

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from monitor.auth.models import (
    ROLE_NEEDS_ORGANISATION,
    ApiToken,
    Organisation,
    OrganisationKind,
    Partnership,
    Role,
    User,
)
from monitor.auth.password_policy import password_problem
from monitor.auth.passwords import hash_password, new_api_token, token_digest
from monitor.errors import ValidationFailed
from monitor.model_helpers import utcnow

EMAIL_PATTERN = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def create_organisation(
    session: Session,
    *,
    name: str,
    kind: str,
    gss_code: str | None = None,
    ods_code: str | None = None,
    charity_number: str | None = None,
    company_number: str | None = None,
) -> Organisation:
    errors: dict[str, str] = {}
    name = name.strip()
    if not name:
        errors["name"] = "Enter the organisation's name"
    elif session.scalar(select(Organisation.id).where(func.lower(Organisation.name) == name.lower())):
        errors["name"] = f"An organisation called {name} already exists"
    if kind not in OrganisationKind.__members__.values():
        errors["kind"] = "Choose commissioner, provider or funder"
    if gss_code and not re.fullmatch(r"[EW]\d{8}", gss_code.strip()):
        errors["gss_code"] = "Enter a GSS code as a letter E or W and 8 digits, like E09000002"
    if charity_number and not re.fullmatch(r"\d{6,8}(-\d+)?", charity_number.strip()):
        errors["charity_number"] = "Enter a charity number as 6 to 8 digits, like 1015536"
    if errors:
        raise ValidationFailed(errors)
    organisation = Organisation(
        name=name,
        kind=kind,
        gss_code=(gss_code or "").strip() or None,
        ods_code=(ods_code or "").strip() or None,
        charity_number=(charity_number or "").strip() or None,
        company_number=(company_number or "").strip() or None,
    )
    session.add(organisation)
    session.flush()
    return organisation


def create_partnership(session: Session, *, name: str, member_ids: list[int]) -> Partnership:
    errors: dict[str, str] = {}
    name = name.strip()
    if not name:
        errors["name"] = "Enter the board or forum's name, like Halton Health and Wellbeing Board"
    elif session.scalar(select(Partnership.id).where(func.lower(Partnership.name) == name.lower())):
        errors["name"] = f"A partnership called {name} already exists"
    members = [session.get(Organisation, member_id) for member_id in dict.fromkeys(member_ids)]
    if not members:
        errors["member_ids"] = "Choose at least one commissioner the partnership oversees"
    elif any(m is None or m.kind != OrganisationKind.COMMISSIONER for m in members):
        errors["member_ids"] = "Choose members from the list of commissioners"
    if errors:
        raise ValidationFailed(errors)
    partnership = Partnership(name=name, members=members)
    session.add(partnership)
    session.flush()
    return partnership


def find_organisation(session: Session, name_or_id: str) -> Organisation | None:
    if name_or_id.isdigit():
        return session.get(Organisation, int(name_or_id))
    return session.scalar(select(Organisation).where(func.lower(Organisation.name) == name_or_id.lower()))


def find_partnership(session: Session, name_or_id: str) -> Partnership | None:
    if name_or_id.isdigit():
        return session.get(Partnership, int(name_or_id))
    return session.scalar(select(Partnership).where(func.lower(Partnership.name) == name_or_id.lower()))


def scope_errors(
    role: str | None,
    organisation: Organisation | None,
    partnership: Partnership | None,
    *,
    organisation_admin: bool = False,
) -> dict[str, str]:
    """The one rule for where a role belongs, keyed by form field.

    Commissioners and providers belong to an organisation of their kind, board
    members to a partnership, admins to neither. A choice that does not fit the
    role is an error, never silently dropped: a provider given a partnership
    would otherwise look as if they could see the board's pages.
    """
    errors: dict[str, str] = {}
    if role is None or role not in Role.__members__.values():
        return {"role": "Choose admin, commissioner, provider or board"}
    needed_kind = ROLE_NEEDS_ORGANISATION.get(Role(role))
    if needed_kind is not None:
        if organisation is None or organisation.kind != needed_kind:
            errors["organisation"] = f"A {role} must belong to a {needed_kind.value} organisation"
        if partnership is not None:
            errors["partnership"] = (
                f"A {role} belongs to an organisation, not a partnership: choose no partnership"
            )
    elif role == Role.BOARD:
        if partnership is None:
            errors["partnership"] = "A board member must belong to a partnership (a board or forum)"
        if organisation is not None:
            errors["organisation"] = (
                "A board member belongs to a partnership, not an organisation: choose no organisation"
            )
    else:
        if organisation is not None:
            errors["organisation"] = "An admin manages every organisation: choose no organisation"
        if partnership is not None:
            errors["partnership"] = "An admin manages every partnership: choose no partnership"
    if organisation_admin and needed_kind is None:
        errors["organisation_admin"] = (
            "Only a commissioner or provider can be their organisation's admin: choose No"
        )
    return errors


def email_errors(session: Session, email: str) -> dict[str, str]:
    """Shape and uniqueness of a new person's email address (already folded to lower case)."""
    if not EMAIL_PATTERN.match(email) or len(email) > 254:
        return {"email": "Enter an email address in the correct format, like name@example.org"}
    if session.scalar(select(User.id).where(User.email == email)):
        return {"email": f"Someone with the email address {email} already has an account"}
    return {}


def create_user(
    session: Session,
    *,
    email: str,
    name: str,
    role: str,
    password: str,
    organisation: Organisation | None = None,
    partnership: Partnership | None = None,
) -> User:
    """A user with a password an operator chose (`flask users create`, the demo)."""
    email = email.strip().lower()
    errors = email_errors(session, email)
    if not name.strip():
        errors["name"] = "Enter the user's full name"
    errors |= scope_errors(role, organisation, partnership)
    # The same rule as a password people choose for themselves.
    problem = password_problem(password, email=email, name=name)
    if problem:
        errors["password"] = problem
    if errors:
        raise ValidationFailed(errors)
    user = User(
        email=email,
        name=name.strip(),
        role=role,
        organisation=organisation,
        partnership=partnership,
        password_hash=hash_password(password),
    )
    session.add(user)
    session.flush()
    return user


def issue_api_token(session: Session, user: User) -> str:
    token, digest = new_api_token()
    session.add(ApiToken(user_id=user.id, token_hash=digest))
    session.flush()
    return token


def user_for_token(session: Session, token: str) -> User | None:
    api_token = session.scalar(
        select(ApiToken).where(ApiToken.token_hash == token_digest(token), ApiToken.revoked.is_(False))
    )
    if api_token is None or not api_token.user.active:
        return None
    api_token.last_used_at = utcnow()
    return api_token.user
