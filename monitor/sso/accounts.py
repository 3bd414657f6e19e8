"""Which account a checked ID token signs in to, and the rules for a first sign-in.

- An account is found by the provider's issuer and subject, never by email.
- At a first sign-in, an account already holding the token's email address is
  linked to this identity only when it belongs to the same organisation, has
  no single sign-on identity yet, and the address is on one of the
  organisation's single sign-on domains (so an organisation's provider can
  only claim its own people's accounts). Otherwise, when nobody holds the
  address, a new account is made for the organisation from the token's name
  and email.
- Role: an account with none gets the role of a mapped group in the token's
  group claim (and the organisation admin flag if that mapping says so);
  with no mapped group it keeps none and waits for an admin of the
  organisation to approve it. A role already given is never changed here.
- A deactivated account is refused.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from monitor.access.roles import Role
from monitor.auth.models import ROLE_NEEDS_ORGANISATION, User
from monitor.sso.models import SsoSettings
from monitor.sso.provider import SignInRefused


def role_for_kind(kind: str) -> Role | None:
    """The one role people of an organisation of this kind can hold (None for funders)."""
    return next((role for role, needed in ROLE_NEEDS_ORGANISATION.items() if needed == kind), None)


def groups_in(claims: dict[str, Any], group_claim: str) -> set[str]:
    value = claims.get(group_claim)
    if isinstance(value, str):
        return {value}
    if isinstance(value, list):
        return {str(item) for item in value if isinstance(item, str | int)}
    return set()


def mapped_role(settings: SsoSettings, claims: dict[str, Any]) -> tuple[Role, bool] | None:
    """The role (and organisation admin flag) the token's groups map to, if any."""
    role = role_for_kind(settings.organisation.kind)
    groups = groups_in(claims, settings.group_claim)
    matches = [m for m in settings.group_roles if m.group_value in groups and m.role == role]
    if role is None or not matches:
        return None
    return role, any(m.organisation_admin for m in matches)


def _email(claims: dict[str, Any], settings: SsoSettings) -> str:
    organisation = settings.organisation.name
    email = str(claims.get("email") or "").strip().lower()
    if "@" not in email:
        raise SignInRefused(
            "no_email",
            f"{organisation}'s sign-in service did not send your email address, which this service needs. "
            "Your organisation's IT team can add the email claim.",
        )
    if claims.get("email_verified") is False:
        raise SignInRefused(
            "email_unverified", f"{organisation}'s sign-in service says {email} is not verified."
        )
    domains = {d.domain for d in settings.domains}
    if email.rpartition("@")[2] not in domains:
        raise SignInRefused(
            "email_outside_domains",
            f"Your address {email} is not on one of {organisation}'s email domains, "
            "so it cannot have an account through its sign-in service. Ask an admin of the service.",
        )
    return email


def account_for_claims(session: Session, settings: SsoSettings, claims: dict[str, Any]) -> User:
    """The account for this identity, linked or made at a first sign-in; its role set from a mapped group."""
    issuer, subject = str(claims["iss"]), str(claims["sub"])
    organisation = settings.organisation
    user = session.scalar(select(User).where(User.sso_issuer == issuer, User.sso_subject == subject))
    if user is None:
        email = _email(claims, settings)
        holder = session.scalar(select(User).where(func.lower(User.email) == email))
        if holder is not None:
            if holder.organisation_id != organisation.id or holder.sso_subject is not None:
                raise SignInRefused(
                    "email_taken",
                    f"An account with the address {email} already exists and cannot be joined to "
                    f"{organisation.name}'s sign-in. Ask an admin of the service to sort it out.",
                )
            holder.sso_issuer, holder.sso_subject = issuer, subject
            user = holder
        else:
            name = str(claims.get("name") or "").strip()[:200] or email
            user = User(
                email=email,
                name=name,
                role=None,
                organisation_id=organisation.id,
                sso_issuer=issuer,
                sso_subject=subject,
            )
            session.add(user)
            session.flush()  # column defaults (active, session epoch) from here on
    if not user.active:
        raise SignInRefused(
            "deactivated",
            f"Your account has been deactivated. Ask an admin of {organisation.name} if you still need it.",
        )
    if user.organisation_id != organisation.id:
        raise SignInRefused(
            "other_organisation",
            "Your account belongs to another organisation: sign in through that organisation's page.",
        )
    if user.role is None:
        mapping = mapped_role(settings, claims)
        if mapping is not None:
            user.role, user.organisation_admin = mapping
    session.flush()
    return user
