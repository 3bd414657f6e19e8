"""Managing people: admins for everyone, organisation admins for their own organisation.

Views only translate: each action is one service call in one transaction
(monitor.people.services), and a person the manager may not see is a 404.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from flask import Blueprint, abort, after_this_request, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from sqlalchemy import select
from werkzeug.wrappers import Response

from monitor.access.roles import Role
from monitor.auth.models import Organisation, User
from monitor.clock import real_utcnow as utcnow  # security timing: the real clock, never pinned
from monitor.db import db
from monitor.errors import NotFound, ValidationFailed
from monitor.forms import form_page, save
from monitor.people import services
from monitor.people.forms import (
    AcceptInvitationForm,
    ButtonForm,
    DeactivateForm,
    EditForm,
    InviteForm,
)

blueprint = Blueprint("people", __name__)


def me() -> User:
    user: User = current_user._get_current_object()
    return user


def managers_only(view: Callable[..., Any]) -> Callable[..., Any]:
    """Admins, and organisation admins; everyone else is refused outright."""

    @wraps(view)
    @login_required
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if not services.is_manager(me()):
            abort(403)
        return view(*args, **kwargs)

    return wrapper


def _fixed_scope(manager: User, role: str, organisation_id: int | None) -> dict[str, Any]:
    """An organisation admin chooses no role or organisation: the form is given
    theirs (or the person's) where the request leaves them out, and the service
    still checks them, so a forged value is refused, never used."""
    if manager.role == Role.ADMIN or request.method != "POST":
        return {}
    formdata = request.form.copy()
    formdata.setdefault("role", role)
    formdata.setdefault("organisation", str(organisation_id or ""))
    return {"formdata": formdata}


def _person(person_id: int) -> User:
    try:
        return services.person_for(db.session(), me(), person_id)
    except NotFound:
        abort(404)


@blueprint.route("/people")
@managers_only
def index() -> Any:
    session = db.session()
    manager = me()
    organisations: list[tuple[int, str]] = []
    chosen = request.args.get("organisation", "")
    organisation_id = int(chosen) if chosen.isascii() and chosen.isdigit() else None
    if manager.role == Role.ADMIN:
        organisations = [
            (o.id, o.name) for o in session.scalars(select(Organisation).order_by(Organisation.name))
        ]
    people = list(session.scalars(services.people_query(manager, organisation_id)))
    return render_template(
        "people/index.html",
        title="People",
        people=people,
        statuses={p.id: services.status_of(p) for p in people},
        invitations=services.open_invitations(session, people),
        organisations=organisations,
        chosen=organisation_id,
        manager=manager,
        now=utcnow(),
    )


@blueprint.route("/people/invite", methods=["GET", "POST"])
@managers_only
def invite() -> Any:
    manager = me()
    form = InviteForm(
        **_fixed_scope(manager, str(manager.role), manager.organisation_id),
        data={"role": manager.role, "organisation": str(manager.organisation_id or "")}
        if manager.role != Role.ADMIN
        else None,
    )
    form.offer(db.session(), manager)
    if form.validate_on_submit():

        def write(session: Any) -> User:
            person, token = services.invite(session, manager, form.email.data or "", form.choices())
            services.send_invitation(session, manager, person, token)
            return person

        person = save(form, write)
        if person is not None:
            flash(f"Invitation sent to {person.email}", "success")
            return redirect(url_for("people.person", person_id=person.id))
    return form_page("people/invite.html", form, title="Invite someone", manager=manager)


@blueprint.route("/people/<int:person_id>")
@managers_only
def person(person_id: int) -> Any:
    return _person_page(_person(person_id), [])


def _person_page(person: User, problems: list[str]) -> Any:
    session = db.session()
    return render_template(
        "people/person.html",
        title=person.name,
        person=person,
        status=services.status_of(person),
        invitation=services.invitation_of(session, person),
        tokens=services.api_tokens_of(session, person),
        manager=me(),
        problems=problems,
        now=utcnow(),
    ), (400 if problems else 200)


def _act(person_id: int, action: Callable[[Any, User, User], Any], done: str) -> Any:
    """One POSTed action on a person: done, flashed, back to their page; or the
    page again with what stopped it."""
    person = _person(person_id)
    form = ButtonForm()
    if not form.validate_on_submit():
        return _person_page(person, ["The form had expired: try again"])
    try:
        with db.transaction() as session:
            action(session, me(), person)
    except ValidationFailed as failed:
        return _person_page(person, list(failed.errors.values()))
    flash(done.format(name=person.name), "success")
    return redirect(url_for("people.person", person_id=person.id))


@blueprint.route("/people/<int:person_id>/edit", methods=["GET", "POST"])
@managers_only
def edit(person_id: int) -> Any:
    manager, person = me(), _person(person_id)
    # The person's details fill the form when it is first shown; a POST says it all.
    current = {
        "name": person.name,
        "role": person.role or "",
        "organisation": str(person.organisation_id or ""),
        "partnership": str(person.partnership_id or ""),
        "organisation_admin": "yes" if person.organisation_admin else "no",
    }
    form = EditForm(
        **_fixed_scope(manager, person.role or "", person.organisation_id),
        data=current if request.method == "GET" else None,
    )
    form.offer(db.session(), manager)
    if manager.role != Role.ADMIN:
        # Name and the organisation-admin flag only; role and scope stay as they are.
        form.role.choices = [(person.role or "", str(person.role or "None yet"))]
        if person.role is None:
            form.role.validators = []  # waiting for approval: no role to keep
    if form.validate_on_submit():
        saved = save(form, lambda session: services.update_person(session, manager, person, form.choices()))
        if saved is not None:
            flash(f"{person.name}'s details saved", "success")
            return redirect(url_for("people.person", person_id=person.id))
    return form_page("people/edit.html", form, title=f"Change {person.name}'s details", person=person)


@blueprint.route("/people/<int:person_id>/approve", methods=["POST"])
@managers_only
def approve(person_id: int) -> Any:
    return _act(person_id, services.approve, "{name} approved: they can now sign in")


@blueprint.route("/people/<int:person_id>/resend-invitation", methods=["POST"])
@managers_only
def resend_invitation(person_id: int) -> Any:
    def resend(session: Any, manager: User, person: User) -> None:
        token = services.resend_invitation(session, manager, person)
        services.send_invitation(session, manager, person, token)

    return _act(person_id, resend, "A new invitation was sent to {name}; the old link no longer works")


@blueprint.route("/people/<int:person_id>/deactivate", methods=["GET", "POST"])
@managers_only
def deactivate(person_id: int) -> Any:
    """Asks first: deactivating ends the person's sessions and revokes their API tokens."""
    person = _person(person_id)
    form = DeactivateForm()
    problem = ""
    if form.validate_on_submit():
        try:
            with db.transaction() as session:
                services.deactivate(session, me(), person)
        except ValidationFailed as failed:
            problem = next(iter(failed.errors.values()))
        else:
            flash(f"{person.name} deactivated: they have been signed out and cannot sign in", "success")
            return redirect(url_for("people.person", person_id=person.id))
    return render_template(
        "people/deactivate.html",
        title=f"Deactivate {person.name}?",
        form=form,
        person=person,
        problem=problem,
    ), (409 if problem else 200)


@blueprint.route("/people/<int:person_id>/reactivate", methods=["POST"])
@managers_only
def reactivate(person_id: int) -> Any:
    return _act(person_id, services.reactivate, "{name} reactivated: they can sign in again")


@blueprint.route("/people/<int:person_id>/unlock", methods=["POST"])
@managers_only
def unlock(person_id: int) -> Any:
    return _act(person_id, services.unlock, "{name}'s account unlocked: they can sign in now")


@blueprint.route("/people/<int:person_id>/reset-two-factor", methods=["POST"])
@managers_only
def reset_two_factor(person_id: int) -> Any:
    return _act(
        person_id,
        services.reset_two_factor,
        "{name}'s two-factor authentication is reset: they set it up again when they next sign in",
    )


@blueprint.route("/people/<int:person_id>/api-tokens/<int:token_id>/revoke", methods=["POST"])
@managers_only
def revoke_token(person_id: int, token_id: int) -> Any:
    def revoke(session: Any, manager: User, person: User) -> None:
        try:
            services.revoke_api_token(session, manager, person, token_id)
        except NotFound:
            abort(404)

    return _act(person_id, revoke, "{name}'s API token revoked: it no longer works")


@blueprint.route("/invitation/<token>", methods=["GET", "POST"])
def accept_invitation(token: str) -> Any:
    """Public: the invited person chooses their password. They sign in afterwards,
    through the sign-in page, which asks admins to set up two-factor authentication."""

    @after_this_request
    def no_referrer(response: Response) -> Response:
        # The link's token is in the URL: never let it travel in a Referer header.
        response.headers["Referrer-Policy"] = "no-referrer"
        return response

    form = AcceptInvitationForm()
    with db.transaction() as session:
        invitation = services.invitation_for(session, token)
        if invitation is None:
            return render_template(
                "people/invitation_gone.html", title="This invitation link has expired"
            ), 410
        person = invitation.user
        if form.validate_on_submit():
            try:
                services.accept_invitation(
                    session, invitation, form.password.data or "", form.confirm.data or ""
                )
            except ValidationFailed as failed:
                for name, message in failed.errors.items():
                    getattr(form, name).errors = [message]
            else:
                return render_template("people/accepted.html", title="Your account is ready", person=person)
    return form_page("people/accept.html", form, title="Create your password", person=person)
