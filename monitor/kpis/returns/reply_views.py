"""The provider's reply to a query, and the thread of queries and replies
that the return pages show (the template global `query_thread`)."""

from __future__ import annotations

from typing import Any

from flask import abort, flash, redirect, render_template, url_for
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from govuk_frontend_wtf.wtforms_widgets import GovSubmitInput, GovTextArea
from wtforms import IntegerField, SubmitField, TextAreaField
from wtforms.validators import InputRequired, Length, Optional
from wtforms.widgets import HiddenInput

from monitor.access.rules import can_see_return_figures, can_upload
from monitor.db import db
from monitor.kpis.blueprint import blueprint
from monitor.kpis.models import Return
from monitor.kpis.returns import replies
from monitor.kpis.returns.views import _return_for


class ReplyForm(FlaskForm):
    # The revision the provider looked at: a reply to a page that is out of
    # date (the commissioner acted meanwhile) is refused, not applied.
    revision = IntegerField(widget=HiddenInput(), validators=[Optional()])
    reply = TextAreaField(
        "Your reply",
        widget=GovTextArea(),
        description=(
            "The commissioner sees this reply. Explain the figures they asked about, using figures about "
            "the service only: never names or details of anyone who uses it. If a figure is wrong, do not "
            "reply here: upload a corrected workbook instead."
        ),
        validators=[
            InputRequired(replies.MISSING_REPLY),
            Length(max=replies.MAX_REPLY_LENGTH, message=replies.TOO_LONG),
        ],
    )
    send = SubmitField("Send reply", widget=GovSubmitInput())


@blueprint.app_template_global("query_thread")
def query_thread(record: Return | None) -> list[replies.ThreadEntry]:
    """The queries and replies on a return, oldest first, for whoever may read
    the return's comments (the same people who see its figures: never boards)."""
    if record is None or not current_user.is_authenticated:
        return []
    if not can_see_return_figures(current_user, record.contract):
        return []
    return replies.query_thread(db.session(), record)


@blueprint.route("/contracts/<int:contract_id>/returns/<period>/reply", methods=["GET", "POST"])
@login_required
def reply_to_query(contract_id: int, period: str) -> Any:
    user, contract, expected = _return_for(contract_id, period)
    if not can_upload(user, contract):
        abort(403)
    record = expected.record
    back = url_for("kpis.return_page", contract_id=contract.id, period=expected.period)
    if record is None or replies.open_query(record) is None:
        flash("There is no open query on this return to reply to", "info")
        return redirect(back)
    form = ReplyForm(prefix="reply", revision=record.revision)
    errors: dict[str, str] = {}
    status = 200
    if form.is_submitted():
        if form.validate():
            outcome = replies.ReplyToQuery(user, record, form.reply.data or "", form.revision.data).run()
            if isinstance(outcome, replies.Replied):
                flash("Reply sent: the return is back with the commissioner to review", "success")
                return redirect(back)
            errors, status = outcome.errors, (409 if outcome.conflict else 400)
            _, contract, expected = _return_for(contract_id, period)
            record = expected.record
            if record is not None:
                # The page now shows the return as it is: sending again answers that.
                form.revision.data = record.revision
        else:
            errors = {field.short_name: str(field.errors[0]) for field in form if field.errors}
            status = 400
    targets = {
        "reply": f"#{form.reply.id}",
        "revision": "#thread",
        "state": "#thread",
        "csrf_token": "#thread",
    }
    return render_template(
        "kpis/return_reply.html",
        title=f"Reply to the query: {contract.reference} {expected.quarter.short_label}",
        contract=contract,
        expected=expected,
        record=record,
        form=form,
        error_form=None,  # the page lists its own errors, the service's as well as the form's
        page_errors=[{"text": text, "href": targets.get(name, "#thread")} for name, text in errors.items()],
    ), status
