"""The viewers an administrator may choose between, read from the database."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from monitor.access.viewers import Viewer, organisation_viewer, partnership_viewer
from monitor.auth.models import Organisation, OrganisationKind, Partnership


def admin_viewer_choices(session: Session) -> list[Viewer]:
    """Every commissioning organisation (own contracts) and every board (suppressed)."""
    organisations = session.execute(
        select(Organisation.id, Organisation.name)
        .where(Organisation.kind == OrganisationKind.COMMISSIONER.value)
        .order_by(Organisation.name)
    )
    partnerships = session.execute(select(Partnership.id, Partnership.name).order_by(Partnership.name))
    return [organisation_viewer(i, n) for i, n in organisations] + [
        partnership_viewer(i, n) for i, n in partnerships
    ]
