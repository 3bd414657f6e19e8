"""Managing people: who may manage whom, invitations, and each change to an account.

Admins manage everyone. An organisation admin (a commissioner or provider with
`organisation_admin`) manages the people of their own organisation only: people
with their organisation's role, or still waiting for one after signing in
through single sign-on. Never admins, board members or anyone else's people.

Every write here validates first, raises one ValidationFailed carrying every
message, and leaves committing to the caller's transaction. User is audited,
so each column change lands in the audit trail with the change itself.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from flask import current_app, render_template, url_for
from sqlalchemy import Select, false, select
from sqlalchemy.orm import Session

from monitor.access.roles import Role
from monitor.audit import AuditEvent
from monitor.auth import mfa
from monitor.auth.account_tokens import issue_token, spend, valid_token
from monitor.auth.emails import send_after_commit, service_link
from monitor.auth.history import record_sign_in
from monitor.auth.lockout import unlock_account
from monitor.auth.models import (
    ROLE_NEEDS_ORGANISATION,
    AccountToken,
    ApiToken,
    Organisation,
    OrganisationKind,
    Partnership,
    SignInEvent,
    SignInMethod,
    SignInOutcome,
    TokenPurpose,
    User,
)
from monitor.auth.password_forms import PASSWORDS_DIFFER
from monitor.auth.password_policy import password_problem
from monitor.auth.passwords import hash_password
from monitor.auth.services import email_errors, scope_errors
from monitor.clock import real_utcnow as utcnow  # security timing: the real clock, never pinned
from monitor.errors import NotFound, ValidationFailed
from monitor.url_ids import LARGEST_ID

HISTORY_LENGTH = 30
# The role an approved single sign-on account gets from its organisation's kind.
ROLE_FOR_KIND = {kind: role for role, kind in ROLE_NEEDS_ORGANISATION.items()}


class Status(StrEnum):
    ACTIVE = "active"
    DEACTIVATED = "deactivated"
    LOCKED = "locked"
    INVITED = "invited"
    AWAITING_APPROVAL = "awaiting approval"


def status_of(person: User, now: datetime | None = None) -> Status:
    """One status for the list and the person's page; the first that applies."""
    now = now or utcnow()
    if not person.active:
        return Status.DEACTIVATED
    if person.role is None:
        return Status.AWAITING_APPROVAL
    if person.password_hash is None and not person.signs_in_with_sso:
        return Status.INVITED
    if person.locked_until is not None and person.locked_until > now:
        return Status.LOCKED
    return Status.ACTIVE


# Who may manage whom -----------------------------------------------------------


def is_manager(user: User) -> bool:
    """May use the people pages at all."""
    return user.role == Role.ADMIN or (
        user.organisation_admin and user.role in ROLE_NEEDS_ORGANISATION and user.organisation_id is not None
    )


def manages(manager: User, person: User) -> bool:
    if manager.role == Role.ADMIN:
        return True
    if not is_manager(manager):
        return False
    return person.organisation_id == manager.organisation_id and person.role in (manager.role, None)


def people_query(manager: User, organisation_id: int | None = None) -> Select[User]:
    """Everyone `manager` may see, optionally one organisation's people (admins' filter)."""
    query = select(User).order_by(User.name, User.email)
    if manager.role != Role.ADMIN:
        query = query.where(
            User.organisation_id == manager.organisation_id,
            (User.role == manager.role) | User.role.is_(None),
        )
    elif organisation_id is not None:
        query = query.where(
            User.organisation_id == organisation_id if organisation_id <= LARGEST_ID else false()
        )
    return query


def person_for(session: Session, manager: User, person_id: int) -> User:
    """The person, if `manager` may see them; NotFound otherwise (we never say which)."""
    person = session.get(User, person_id) if 0 < person_id <= LARGEST_ID else None
    if person is None or not manages(manager, person):
        raise NotFound
    return person


def roles_offered(manager: User) -> list[str]:
    if manager.role == Role.ADMIN:
        return [role.value for role in Role]
    return [str(manager.role)]


def invitation_of(session: Session, person: User) -> AccountToken | None:
    """The person's newest unused invitation, expired or not."""
    return session.scalar(
        select(AccountToken)
        .where(
            AccountToken.user_id == person.id,
            AccountToken.purpose == TokenPurpose.INVITATION,
            AccountToken.used_at.is_(None),
        )
        .order_by(AccountToken.created_at.desc(), AccountToken.id.desc())
        .limit(1)
    )


def open_invitations(session: Session, people: list[User]) -> dict[int, AccountToken]:
    """Each person's newest unused invitation, for the list."""
    if not people:
        return {}
    unused = session.scalars(
        select(AccountToken)
        .where(
            AccountToken.user_id.in_([p.id for p in people]),
            AccountToken.purpose == TokenPurpose.INVITATION,
            AccountToken.used_at.is_(None),
        )
        .order_by(AccountToken.created_at, AccountToken.id)
    )
    return {token.user_id: token for token in unused}


def api_tokens_of(session: Session, person: User) -> list[ApiToken]:
    return list(
        session.scalars(
            select(ApiToken).where(ApiToken.user_id == person.id).order_by(ApiToken.created_at.desc())
        )
    )


def history_of(session: Session, person: User, limit: int = HISTORY_LENGTH) -> list[SignInEvent]:
    return list(
        session.scalars(
            select(SignInEvent)
            .where(SignInEvent.user_id == person.id)
            .order_by(SignInEvent.at.desc(), SignInEvent.id.desc())
            .limit(limit)
        )
    )


# Invitations --------------------------------------------------------------------


@dataclass(frozen=True)
class PersonChoices:
    """What a manager chose on the invite or edit form; ids as typed, checked here."""

    name: str
    role: str
    organisation_id: int | None
    partnership_id: int | None
    organisation_admin: bool


def _scope(
    session: Session, manager: User, choices: PersonChoices
) -> tuple[Organisation | None, Partnership | None, dict[str, str]]:
    errors: dict[str, str] = {}
    organisation = (
        session.get(Organisation, choices.organisation_id) if choices.organisation_id is not None else None
    )
    partnership = (
        session.get(Partnership, choices.partnership_id) if choices.partnership_id is not None else None
    )
    if choices.organisation_id is not None and organisation is None:
        errors["organisation"] = "Choose an organisation from the list"
    if choices.partnership_id is not None and partnership is None:
        errors["partnership"] = "Choose a partnership from the list"
    if manager.role != Role.ADMIN:
        # An organisation admin's people are their own organisation's, with its role.
        if choices.role != manager.role:
            errors["role"] = f"You can only add people with your organisation's role ({manager.role})"
        if organisation is None or organisation.id != manager.organisation_id:
            errors["organisation"] = "You can only add people to your own organisation"
        if partnership is not None:
            errors["partnership"] = "You can only add people to your own organisation"
    for field, message in scope_errors(
        choices.role, organisation, partnership, organisation_admin=choices.organisation_admin
    ).items():
        errors.setdefault(field, message)
    return organisation, partnership, errors


def invite(session: Session, manager: User, email: str, choices: PersonChoices) -> tuple[User, str]:
    """A new person with no password yet and an invitation link for them to choose one.

    Returns the person and the link's token; `send_invitation` emails it."""
    email = email.strip().lower()
    errors = email_errors(session, email)
    if not choices.name.strip():
        errors["name"] = "Enter the person's full name"
    elif len(choices.name.strip()) > 200:
        errors["name"] = "The name must be 200 characters or fewer"
    organisation, partnership, scope_problems = _scope(session, manager, choices)
    errors |= scope_problems
    if errors:
        raise ValidationFailed(errors)
    person = User(
        email=email,
        name=choices.name.strip(),
        role=choices.role,
        organisation=organisation,
        partnership=partnership,
        organisation_admin=choices.organisation_admin,
        password_hash=None,
    )
    session.add(person)
    session.flush()
    return person, _new_invitation(session, manager, person)


def _new_invitation(session: Session, manager: User, person: User) -> str:
    lifetime = timedelta(days=int(current_app.config["INVITATION_DAYS"]))
    return issue_token(session, person, TokenPurpose.INVITATION, lifetime, created_by=manager)


def send_invitation(session: Session, manager: User, person: User, token: str) -> None:
    """Email the link once the transaction that made it commits."""
    invitation = invitation_of(session, person)
    body = render_template(
        "emails/invitation.txt",
        person=person,
        inviter=manager,
        link=service_link(url_for("people.accept_invitation", token=token)),
        expires=invitation.expires_at if invitation else None,
    )
    send_after_commit(session, person.email, "You have been invited to the commissioning monitor", body)


def resend_invitation(session: Session, manager: User, person: User) -> str:
    """A fresh link (the old one stops working) for someone who has not accepted yet."""
    if status_of(person) != Status.INVITED:
        raise ValidationFailed({"person": f"{person.name} has already set a password"})
    return _new_invitation(session, manager, person)


def invitation_for(session: Session, token: str) -> AccountToken | None:
    """The live invitation for a link, or None for an unknown, expired or used one."""
    if not token or len(token) > 200:
        return None
    return valid_token(session, token, TokenPurpose.INVITATION)


def accept_invitation(session: Session, invitation: AccountToken, password: str, confirm: str) -> User:
    """The invited person's own password; the link is spent. They sign in next."""
    person = invitation.user
    problem = password_problem(password, email=person.email, name=person.name)
    if problem is not None:
        raise ValidationFailed({"password": problem})
    if password != confirm:
        raise ValidationFailed({"confirm": PASSWORDS_DIFFER})
    person.password_hash = hash_password(password)
    person.must_change_password = False
    spend(invitation)
    _note(session, person, "user", person.id, person.name, {"invitation": ["sent", "accepted"]})
    return person


def _note(
    session: Session,
    actor: User,
    entity_type: str,
    entity_id: int,
    label: str,
    changes: dict[str, list[object]],
) -> None:
    """An audit row for a change the audit listener cannot see: columns kept out
    of the trail (password, lockout counters) and the API tokens table."""
    session.add(
        AuditEvent(
            actor_id=actor.id,
            actor_label=actor.email,
            action="update",
            entity_type=entity_type,
            entity_id=entity_id,
            entity_label=label[:300],
            changes=changes,
        )
    )


# Changes to a person ------------------------------------------------------------


def update_person(session: Session, manager: User, person: User, choices: PersonChoices) -> User:
    """Name, and for admins role and scope; the organisation-admin flag for both."""
    errors: dict[str, str] = {}
    name = choices.name.strip()
    if not name:
        errors["name"] = "Enter the person's full name"
    elif len(name) > 200:
        errors["name"] = "The name must be 200 characters or fewer"
    if person.id == manager.id and person.organisation_admin and not choices.organisation_admin:
        # So an organisation is never left without its admin by its own admin.
        errors["organisation_admin"] = (
            "You cannot remove your own organisation admin rights: ask another admin to"
        )
    if manager.role == Role.ADMIN:
        organisation, partnership, scope_problems = _scope(session, manager, choices)
        if person.id == manager.id and choices.role != Role.ADMIN:
            scope_problems["role"] = "You cannot remove your own admin role: ask another admin to"
    else:
        # Organisation admins change only the name and the flag; the rest stays.
        organisation, partnership = person.organisation, person.partnership
        unchanged = PersonChoices(
            name, str(person.role or ""), person.organisation_id, None, choices.organisation_admin
        )
        scope_problems = {} if person.role is None else _scope(session, manager, unchanged)[2]
        if person.role is None and choices.organisation_admin:
            scope_problems["organisation_admin"] = "Approve this person before making them an admin"
    errors |= scope_problems
    if errors:
        raise ValidationFailed(errors)
    person.name = name
    if manager.role == Role.ADMIN:
        person.role = choices.role
        person.organisation = organisation
        person.partnership = partnership
    person.organisation_admin = choices.organisation_admin
    return person


def approve(session: Session, manager: User, person: User) -> str:
    """Give a single sign-on account waiting for approval its organisation's role."""
    if person.role is not None:
        raise ValidationFailed({"person": f"{person.name} already has a role"})
    organisation = person.organisation
    role = ROLE_FOR_KIND.get(OrganisationKind(organisation.kind)) if organisation else None
    if role is None:
        raise ValidationFailed(
            {"person": f"Nobody at {person.scope_name} can have an account: there is no role for a funder"}
        )
    person.role = role
    return role


def deactivate(session: Session, manager: User, person: User) -> None:
    """Stops the person at once: every session (the epoch moves) and every API token."""
    if person.id == manager.id:
        raise ValidationFailed({"person": "You cannot deactivate your own account"})
    if not person.active:
        raise ValidationFailed({"person": f"{person.name} is already deactivated"})
    person.active = False
    person.session_epoch += 1
    # Revoked, not just refused while inactive: reactivating someone should
    # not quietly bring back keys held by whoever had them meanwhile.
    for token in session.scalars(
        select(ApiToken).where(ApiToken.user_id == person.id, ApiToken.revoked.is_(False))
    ):
        token.revoked = True
        _note(session, manager, "api_token", token.id, person.name, {"revoked": [False, True]})


def reactivate(session: Session, manager: User, person: User) -> None:
    if person.active:
        raise ValidationFailed({"person": f"{person.name} is already active"})
    person.active = True
    unlock_account(session, person)


def unlock(session: Session, manager: User, person: User) -> None:
    unlock_account(session, person)
    _note(session, manager, "user", person.id, person.name, {"locked": [True, False]})


def reset_two_factor(session: Session, manager: User, person: User) -> None:
    """For someone who lost their authenticator and recovery codes: two-factor
    off and every session ended; if it is required of them, they set it up
    again after their password at the next sign-in."""
    if person.id == manager.id:
        raise ValidationFailed({"person": "Turn your own two-factor authentication off on Your account"})
    if not person.mfa_enabled:
        raise ValidationFailed({"person": f"{person.name} does not use two-factor authentication"})
    person.session_epoch += 1
    mfa.disable(session, person)


def revoke_api_token(session: Session, actor: User, owner: User, token_id: int) -> ApiToken:
    """Revoke one of `owner`'s API tokens; NotFound for anyone else's."""
    token = session.get(ApiToken, token_id) if 0 < token_id <= LARGEST_ID else None
    if token is None or token.user_id != owner.id:
        raise NotFound
    if token.revoked:
        raise ValidationFailed({"token": "That API token was already revoked"})
    token.revoked = True
    _note(session, actor, "api_token", token.id, owner.name, {"revoked": [False, True]})
    return token


def sign_out_everywhere(session: Session, person: User) -> None:
    """End every session the person has, this one included, and note it in their history."""
    person.session_epoch += 1
    method = SignInMethod.SSO if person.signs_in_with_sso else SignInMethod.PASSWORD
    record_sign_in(session, person, method, SignInOutcome.SIGNED_OUT_EVERYWHERE)
