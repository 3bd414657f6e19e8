"""Forms for the people pages and for accepting an invitation: shape only; the
rules about roles and scope live in monitor.auth.services.scope_errors."""

from __future__ import annotations

from flask_wtf import FlaskForm
from govuk_frontend_wtf.wtforms_widgets import (
    GovRadioInput,
    GovSelect,
    GovSubmitInput,
    GovTextInput,
)
from sqlalchemy import select
from sqlalchemy.orm import Session
from wtforms import RadioField, SelectField, StringField, SubmitField
from wtforms.validators import InputRequired, Length, ValidationError

from monitor.access.roles import Role
from monitor.auth.models import Organisation, Partnership, User
from monitor.auth.password_forms import confirm_password_field, new_password_field
from monitor.people.services import PersonChoices, roles_offered

ROLE_LABELS = {
    Role.ADMIN: "Admin: manages the whole service",
    Role.COMMISSIONER: "Commissioner: manages their organisation's contracts",
    Role.PROVIDER: "Provider: sends returns for their organisation's contracts",
    Role.BOARD: "Board member: sees their partnership's performance",
}
YES_NO = [("no", "No"), ("yes", "Yes")]


class ListedSelect(SelectField):
    """A select whose forged or stale value gets a message saying what to do."""

    def pre_validate(self, form: object) -> None:
        if not any(str(value) == str(self.data) for value, *_ in self.iter_choices()):
            raise ValidationError(f"Choose {self.label.text.lower()} from the list")


class ListedRadio(RadioField):
    def pre_validate(self, form: object) -> None:
        if not any(str(value) == str(self.data) for value, *_ in self.iter_choices()):
            raise ValidationError(f"Choose one of the {self.label.text.lower()} options shown")


class PersonForm(FlaskForm):
    name = StringField(
        "Full name",
        widget=GovTextInput(),
        validators=[
            InputRequired("Enter the person's full name"),
            Length(max=200, message="The name must be 200 characters or fewer"),
        ],
    )
    role = ListedRadio("Role", widget=GovRadioInput(), validators=[InputRequired("Choose a role")])
    organisation = ListedSelect(
        "Organisation",
        widget=GovSelect(),
        description="For commissioners and providers",
        coerce=str,
        default="",
    )
    partnership = ListedSelect(
        "Partnership", widget=GovSelect(), description="For board members", coerce=str, default=""
    )
    organisation_admin = ListedRadio(
        "Organisation admin",
        widget=GovRadioInput(),
        description="An organisation admin invites and manages the people of their own organisation",
        choices=YES_NO,
        default="no",
        validators=[InputRequired("Choose yes or no")],
    )

    def offer(self, session: Session, manager: User) -> None:
        """The choices `manager` may make; an organisation admin's are their own organisation's."""
        self.role.choices = [(role, ROLE_LABELS[Role(role)]) for role in roles_offered(manager)]
        if manager.role == Role.ADMIN:
            organisations = session.scalars(select(Organisation).order_by(Organisation.name))
            self.organisation.choices = [("", "None")] + [
                (str(o.id), f"{o.name} ({o.kind})") for o in organisations
            ]
            partnerships = session.scalars(select(Partnership).order_by(Partnership.name))
            self.partnership.choices = [("", "None")] + [(str(p.id), p.name) for p in partnerships]
        else:
            own = manager.organisation
            self.organisation.choices = [(str(own.id), own.name)] if own else []
            self.partnership.choices = [("", "None")]

    def choices(self) -> PersonChoices:
        organisation, partnership = self.organisation.data or "", self.partnership.data or ""
        return PersonChoices(
            name=self.name.data or "",
            role=self.role.data or "",
            organisation_id=int(organisation) if organisation.isascii() and organisation.isdigit() else None,
            partnership_id=int(partnership) if partnership.isascii() and partnership.isdigit() else None,
            organisation_admin=self.organisation_admin.data == "yes",
        )


class InviteForm(PersonForm):
    email = StringField(
        "Email address",
        widget=GovTextInput(),
        description="The invitation is sent here; it is also how they sign in",
        validators=[
            InputRequired("Enter the person's email address"),
            Length(max=254, message="The email address must be 254 characters or fewer"),
        ],
    )
    submit = SubmitField("Send invitation", widget=GovSubmitInput())


class EditForm(PersonForm):
    submit = SubmitField("Save changes", widget=GovSubmitInput())


class ButtonForm(FlaskForm):
    """A POST with its CSRF token and nothing else: approve, resend, unlock, revoke."""

    submit = SubmitField("Continue", widget=GovSubmitInput())


class DeactivateForm(FlaskForm):
    submit = SubmitField(
        "Deactivate account", widget=GovSubmitInput(), render_kw={"class": "govuk-button--warning"}
    )


class AcceptInvitationForm(FlaskForm):
    password = new_password_field("Create a password")
    confirm = confirm_password_field("Confirm the password")
    submit = SubmitField("Set password", widget=GovSubmitInput())
