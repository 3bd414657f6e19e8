"""Single sign-on: starting a sign-in at the organisation's provider, the callback, and the admin page for an organisation's settings."""

from __future__ import annotations

import logging
from typing import Any

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, session, url_for
from flask.blueprints import BlueprintSetupState
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from govuk_frontend_wtf.wtforms_widgets import (
    GovCheckboxInput,
    GovPasswordInput,
    GovSubmitInput,
    GovTextArea,
    GovTextInput,
)
from wtforms import BooleanField, PasswordField, StringField, SubmitField, TextAreaField

from monitor.access.roles import Role
from monitor.auth.emails import service_link
from monitor.auth.models import Organisation, OrganisationKind
from monitor.auth.views import start_session
from monitor.db import db
from monitor.forms import form_page, save
from monitor.sso.flow import complete_sign_in, start_sign_in
from monitor.sso.provider import ProviderCache, SignInRefused, discovery_url, fetch_json, read_metadata
from monitor.sso.settings import SettingsInput, issuer_error, mappings_text, save_settings, settings_for

log = logging.getLogger(__name__)

blueprint = Blueprint("sso", __name__)

CACHE_KEY = "sso_providers"
# The digests of the sign-ins this browser started, in its session.
STATES_KEY = "sso_states"
STATES_KEPT = 3


@blueprint.record_once
def _install_cache(state: BlueprintSetupState) -> None:
    state.app.extensions[CACHE_KEY] = ProviderCache()


def provider_cache() -> ProviderCache:
    cache: ProviderCache = current_app.extensions[CACHE_KEY]
    return cache


def redirect_uri() -> str:
    return service_link(url_for("sso.callback"))


def refused(error: SignInRefused, organisation_id: int | None = None) -> tuple[str, int]:
    """The page for a sign-in that cannot go on (400), with a structured warning in the log."""
    log.warning(
        "single sign-on refused",
        extra={
            "reason": error.reason,
            "organisation_id": organisation_id or error.organisation_id,
            "client": request.remote_addr,
        },
    )
    return render_template("sso/refused.html", title="You could not be signed in", message=error.message), 400


@blueprint.route("/sso/<int:organisation_id>/start")
def start(organisation_id: int) -> Any:
    """Send the person to their organisation's provider (the sign-in page links here)."""
    organisation = db.session.get(Organisation, organisation_id)
    settings = settings_for(db.session(), organisation) if organisation is not None else None
    if settings is None or not settings.enabled:
        return refused(
            SignInRefused(
                "sso_off", "Single sign-on is not turned on for this organisation. Sign in with a password."
            ),
            organisation_id,
        )
    try:
        with db.transaction() as dbs:
            started = start_sign_in(
                dbs,
                settings,
                provider_cache(),
                email=(request.args.get("email") or "").strip()[:254],
                next_path=request.args.get("next") or "",
                redirect_uri=redirect_uri(),
            )
    except SignInRefused as error:
        return refused(error, organisation_id)
    # A few at once, for sign-ins started in several tabs.
    session[STATES_KEY] = [*session.get(STATES_KEY, [])[-(STATES_KEPT - 1) :], started.state_digest]
    return redirect(started.url)


@blueprint.route("/sso/callback")
def callback() -> Any:
    """The provider sends the person back here with a code (or an error) and the state."""
    try:
        outcome = complete_sign_in(
            request.args.to_dict(),
            provider_cache(),
            started_here=session.get(STATES_KEY, []),
            redirect_uri=redirect_uri(),
            config=current_app.config,
        )
    except SignInRefused as error:
        return refused(error)
    if not outcome.signed_in:
        log.info("single sign-on account waits for approval", extra={"user_id": outcome.user.id})
        return render_template(
            "sso/pending.html",
            title="Your account waits for approval",
            organisation_name=outcome.organisation_name,
            email=outcome.user.email,
        )
    start_session(outcome.user)
    return redirect(outcome.next_path or "/")


class SettingsForm(FlaskForm):
    issuer = StringField(
        "Issuer",
        widget=GovTextInput(),
        description="Entra ID: https://login.microsoftonline.com/<tenant id>/v2.0. "
        "Google Workspace: https://accounts.google.com",
    )
    client_id = StringField(
        "Client ID", widget=GovTextInput(), description="In Entra ID, the application (client) ID"
    )
    client_secret = PasswordField("Client secret", widget=GovPasswordInput())
    domains = TextAreaField(
        "Email domains",
        widget=GovTextArea(),
        description="One per line, like example.gov.uk. People with these addresses sign in here.",
    )
    group_claim = StringField("Group claim", widget=GovTextInput(), default="groups")
    group_mappings = TextAreaField(
        "Group mappings (optional)",
        widget=GovTextArea(),
        description="One per line: group id = role, optionally followed by “, organisation admin”. "
        "Members of a mapped group get the role at their first sign-in; everyone else waits for approval.",
    )
    enabled = BooleanField("Turn on single sign-on for this organisation", widget=GovCheckboxInput())
    submit = SubmitField("Save sign-in settings", widget=GovSubmitInput())
    check = SubmitField("Check the provider", widget=GovSubmitInput())


def _organisation_for_settings(organisation_id: int) -> Organisation:
    if current_user.role != Role.ADMIN:
        abort(403)
    organisation = db.session.get(Organisation, organisation_id)
    if organisation is None or organisation.kind not in (
        OrganisationKind.COMMISSIONER,
        OrganisationKind.PROVIDER,
    ):
        abort(404)
    return organisation


@blueprint.route("/admin/organisations/<int:organisation_id>/sign-in", methods=["GET", "POST"])
@login_required
def settings(organisation_id: int) -> Any:
    organisation = _organisation_for_settings(organisation_id)
    existing = settings_for(db.session(), organisation)
    form = SettingsForm()
    if request.method == "GET":
        if existing is not None:
            form.issuer.data = existing.issuer
            form.client_id.data = existing.client_id
            form.domains.data = "\n".join(d.domain for d in existing.domains)
            form.group_claim.data = existing.group_claim
            form.group_mappings.data = mappings_text(existing)
            form.enabled.data = existing.enabled
        else:
            form.enabled.data = True
    elif form.validate_on_submit():
        if form.check.data:
            return _check_provider(form, organisation, existing)
        data = SettingsInput(
            issuer=form.issuer.data or "",
            client_id=form.client_id.data or "",
            client_secret=form.client_secret.data or "",
            domains=form.domains.data or "",
            group_mappings=form.group_mappings.data or "",
            group_claim=form.group_claim.data or "",
            enabled=bool(form.enabled.data),
        )
        saved = save(form, lambda dbs: save_settings(dbs, organisation, data, current_app.config))
        if saved is not None:
            flash(f"Sign-in settings for {organisation.name} saved", "success")
            return redirect(url_for("sso.settings", organisation_id=organisation.id))
    return _settings_page(form, organisation, existing)


def _check_provider(form: SettingsForm, organisation: Organisation, existing: Any) -> Any:
    issuer = (form.issuer.data or "").strip()
    problem = issuer_error(issuer)
    found = None
    if problem is None:
        try:
            found = read_metadata(issuer, fetch_json(discovery_url(issuer)))
        except SignInRefused as error:
            problem = error.message
    if problem is not None:
        form.issuer.errors = [*form.issuer.errors, problem]
    return _settings_page(form, organisation, existing, found=found)


def _settings_page(form: SettingsForm, organisation: Organisation, existing: Any, found: Any = None) -> Any:
    form.client_secret.data = ""
    return form_page(
        "sso/settings.html",
        form,
        title=f"Sign-in settings: {organisation.name}",
        organisation=organisation,
        existing=existing,
        found=found,
        redirect_uri=redirect_uri(),
    )
