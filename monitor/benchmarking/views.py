"""The benchmarking admin pages: which partnerships have decided to be
compared (as dated decisions with a named approver), their regions, and the
similar-areas groups administrators define. Administrators only: who may
manage benchmarking is decided by monitor.access.rules.

Every write goes through monitor.benchmarking.service in one transaction; its
models are audited, and a refusal's messages go beside the fields."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_login import login_required
from sqlalchemy import select

from monitor.access.rules import can_manage_benchmarking
from monitor.access.signed_in import signed_in_user
from monitor.auth.models import Partnership
from monitor.benchmarking.forms import (
    NO_REGION,
    OPTED_IN,
    DecisionForm,
    DeleteGroupForm,
    GroupForm,
    RegionForm,
)
from monitor.benchmarking.models import AreaRegion, BenchmarkingDecision, ComparisonGroup
from monitor.benchmarking.service import (
    change_group,
    create_group,
    decision_in_force,
    decisions,
    delete_group,
    groups,
    record_decision,
    set_region,
)
from monitor.clock import today
from monitor.db import db
from monitor.errors import Forbidden, NotFound
from monitor.formatting import count_text, day_text
from monitor.forms import form_page, save

blueprint = Blueprint("benchmarking", __name__, url_prefix="/admin/benchmarking")


def benchmarking_managers_only(view: Callable[..., Any]) -> Callable[..., Any]:
    @wraps(view)
    @login_required
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if not can_manage_benchmarking(signed_in_user()):
            abort(403)
        return view(*args, **kwargs)

    return wrapper


def _partnership(partnership_id: int) -> Partnership:
    partnership = db.session.get(Partnership, partnership_id)
    if partnership is None:
        abort(404)
    return partnership


def _all_partnerships() -> list[Partnership]:
    return list(db.session.scalars(select(Partnership).order_by(Partnership.name)))


def _written(write: Callable[[], Any]) -> Any:
    """The service's Forbidden and NotFound as the web's 403 and 404 (the
    views check first, so these are races, like a group deleted meanwhile)."""
    try:
        return write()
    except Forbidden:
        abort(403)
    except NotFound:
        abort(404)


# ---------------------------------------------------------------- the overview


@blueprint.route("")
@benchmarking_managers_only
def index() -> Any:
    partnerships = _all_partnerships()
    on = today()
    in_force = {p.id: decision_in_force(db.session(), p.id, on) for p in partnerships}
    regions = {area.partnership_id: area.region for area in db.session.scalars(select(AreaRegion))}
    all_groups = groups(db.session())
    groups_of: dict[int, list[str]] = {p.id: [] for p in partnerships}
    for group in all_groups:
        for member_id in group.member_ids:
            groups_of.setdefault(member_id, []).append(group.name)
    names = {p.id: p.name for p in partnerships}
    return render_template(
        "benchmarking/index.html",
        title="Benchmarking",
        partnerships=partnerships,
        in_force=in_force,
        regions=regions,
        groups_of=groups_of,
        groups=all_groups,
        member_names={
            group.id: sorted(names[member_id] for member_id in group.member_ids) for group in all_groups
        },
        today=on,
    )


# ---------------------------------------------------------------- decisions to take part


def _decision_text(decision: BenchmarkingDecision) -> str:
    return "opted in" if decision.opted_in else "opted out"


@blueprint.route("/partnerships/<int:partnership_id>/decisions", methods=["GET", "POST"])
@benchmarking_managers_only
def decision(partnership_id: int) -> Any:
    """Record a decision; the partnership's earlier ones are listed, never edited."""
    partnership = _partnership(partnership_id)
    user = signed_in_user()
    form = DecisionForm()
    if form.validate_on_submit() and form.decided_on.data is not None:
        decided_on = form.decided_on.data
        recorded = _written(
            lambda: save(
                form,
                lambda session: record_decision(
                    session,
                    user,
                    partnership.id,
                    form.opted_in.data == OPTED_IN,
                    decided_on,
                    form.approver_name.data or "",
                    form.approver_role.data or "",
                ),
            )
        )
        if recorded is not None:
            flash(
                f"Recorded: {partnership.name} {_decision_text(recorded)} on {day_text(recorded.decided_on)}",
                "success",
            )
            return redirect(url_for("benchmarking.decision", partnership_id=partnership.id))
    history = list(reversed(decisions(db.session(), partnership.id)))
    return form_page(
        "benchmarking/decision.html",
        form,
        title=f"Decision to be compared: {partnership.name}",
        partnership=partnership,
        history=history,
        in_force=decision_in_force(db.session(), partnership.id, today()),
    )


# ---------------------------------------------------------------- regions


@blueprint.route("/partnerships/<int:partnership_id>/region", methods=["GET", "POST"])
@benchmarking_managers_only
def region(partnership_id: int) -> Any:
    partnership = _partnership(partnership_id)
    user = signed_in_user()
    current = db.session.get(AreaRegion, partnership.id)
    form = RegionForm(data={"region": current.region if current else NO_REGION})
    if form.validate_on_submit():
        chosen = form.region.data or None
        saved = _written(
            lambda: save(form, lambda session: set_region(session, user, partnership.id, chosen))
        )
        if not form.errors:
            where = f"in {saved.region}" if saved is not None else "in no region"
            flash(f"{partnership.name} is now {where}", "success")
            return redirect(url_for("benchmarking.index"))
    return form_page(
        "benchmarking/region.html", form, title=f"Region of {partnership.name}", partnership=partnership
    )


# ---------------------------------------------------------------- similar-areas groups


def _group_form(**data: Any) -> GroupForm:
    form = GroupForm(data=data or None)
    form.members.choices = [(str(p.id), p.name) for p in _all_partnerships()]
    return form


def _chosen_members(form: GroupForm) -> list[int] | None:
    raw = form.members.data or []
    if not all(value.isascii() and value.isdigit() for value in raw):
        form.members.errors = [*form.members.errors, "Choose the group's areas from the list"]
        return None
    return [int(value) for value in raw]


def _group_or_404(group_id: int) -> ComparisonGroup:
    group = db.session.get(ComparisonGroup, group_id)
    if group is None:
        abort(404)
    return group


@blueprint.route("/groups/new", methods=["GET", "POST"])
@benchmarking_managers_only
def new_group() -> Any:
    user = signed_in_user()
    form = _group_form()
    if form.validate_on_submit():
        chosen = _chosen_members(form)
        if chosen is not None:
            group = _written(
                lambda: save(
                    form,
                    lambda session: create_group(
                        session, user, form.name.data or "", form.description.data or "", chosen
                    ),
                )
            )
            if group is not None:
                flash(
                    f"Group {group.name} created with {count_text(len(group.member_ids), 'area')}", "success"
                )
                return redirect(url_for("benchmarking.index"))
    return form_page("benchmarking/group.html", form, title="Create a similar-areas group", group=None)


@blueprint.route("/groups/<int:group_id>", methods=["GET", "POST"])
@benchmarking_managers_only
def change_group_page(group_id: int) -> Any:
    group = _group_or_404(group_id)
    user = signed_in_user()
    form = _group_form(
        name=group.name,
        description=group.description,
        members=[str(member_id) for member_id in sorted(group.member_ids)],
    )
    if form.validate_on_submit():
        chosen = _chosen_members(form)
        if chosen is not None:
            changed = _written(
                lambda: save(
                    form,
                    lambda session: change_group(
                        session, user, group.id, form.name.data or "", form.description.data or "", chosen
                    ),
                )
            )
            if changed is not None:
                flash(
                    f"Group {changed.name} saved with {count_text(len(changed.member_ids), 'area')}",
                    "success",
                )
                return redirect(url_for("benchmarking.index"))
    return form_page("benchmarking/group.html", form, title=f"Change the group {group.name}", group=group)


@blueprint.route("/groups/<int:group_id>/delete", methods=["GET", "POST"])
@benchmarking_managers_only
def delete_group_page(group_id: int) -> Any:
    """Asks before deleting: the group's areas are then no longer compared within it."""
    group = _group_or_404(group_id)
    user = signed_in_user()
    form = DeleteGroupForm()
    if form.validate_on_submit():
        name = group.name

        def delete() -> None:
            with db.transaction() as session:
                delete_group(session, user, group_id)

        _written(delete)
        flash(f"Group {name} deleted", "success")
        return redirect(url_for("benchmarking.index"))
    names = sorted(
        db.session.scalars(select(Partnership.name).where(Partnership.id.in_(group.member_ids))).all()
    )
    return render_template(
        "benchmarking/delete_group.html",
        title=f"Delete the group {group.name}",
        form=form,
        group=group,
        names=names,
    )
