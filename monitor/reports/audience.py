"""Who a board pack is for: one commissioning organisation or one partnership.

A pack for a commissioner reads its `organisation:<id>` mart rows; a pack for
a board its `partnership:<id>` rows. Either way the pack is board-facing, so
its figures are suppressed (see monitor.reports.pack_data).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from sqlalchemy import Select, false, func, select
from sqlalchemy.orm import Session

from monitor.access.viewers import (
    Viewer,
    dashboard_access,
    organisation_key,
    parse_viewer_key,
    partnership_key,
)
from monitor.auth.models import Organisation, OrganisationKind, Partnership, Role, User, partnership_members
from monitor.contracts.access import visible_contracts
from monitor.contracts.models import Contract, contract_partners

AudienceKind = Literal["commissioner", "partnership"]


class UnknownAudience(LookupError):
    """No commissioner or partnership matches what was asked for."""


@dataclass(frozen=True)
class Audience:
    kind: AudienceKind
    id: int
    name: str

    @property
    def viewer(self) -> str:
        """The mart rows this audience reads (the warehouse's row-level key)."""
        return organisation_key(self.id) if self.kind == "commissioner" else partnership_key(self.id)

    @property
    def slug(self) -> str:
        """A file-name friendly form of the name."""
        return slug(self.name) or self.viewer.replace(":", "-")


def slug(text: str) -> str:
    """A file-name friendly form of `text`: its words, lower case, joined by hyphens."""
    words = "".join(c if c.isalnum() else " " for c in text).split()
    return "-".join(words).lower()[:60]


def _by_id_or_name(
    session: Session, model: type[Organisation] | type[Partnership], text: str, allowed: Select | None
) -> list:
    """Records matching an id, a name, or a unique part of a name, among
    those `allowed` (ids; None: all). Filtering before matching means a name
    the reader may not see gets the same answer as one that does not exist."""
    text = text.strip()
    scope = [model.id.in_(allowed)] if allowed is not None else []
    if text.isdigit():
        return list(session.scalars(select(model).where(model.id == int(text), *scope)).all())
    exact = session.scalars(select(model).where(func.lower(model.name) == text.lower(), *scope)).all()
    if exact:
        return list(exact)
    # A unique part of a name is enough ("Halton Domestic"), as people type them.
    pattern = "%" + text.lower().replace("%", r"\%").replace("_", r"\_") + "%"
    return list(
        session.scalars(select(model).where(func.lower(model.name).like(pattern, escape="\\"), *scope)).all()
    )


def commissioners_seen_by(user: User) -> Select | None:
    """Ids of the commissioning organisations a user may name: those holding
    a contract the user can read (None: an administrator, every one)."""
    if user.role == Role.ADMIN:
        return None
    visible = select(Contract.id).where(visible_contracts(user))
    partners = select(contract_partners.c.organisation_id).where(contract_partners.c.contract_id.in_(visible))
    leads = select(Contract.lead_commissioner_id).where(visible_contracts(user))
    return leads.union(partners)  # type: ignore[return-value]


def partnerships_seen_by(user: User) -> Select | None:
    """Ids of the partnerships a user may name: a board user's own, those a
    commissioner's organisation belongs to (None: an administrator, every one)."""
    if user.role == Role.ADMIN:
        return None
    if user.role == Role.BOARD and user.partnership_id is not None:
        return select(Partnership.id).where(Partnership.id == user.partnership_id)
    if user.role == Role.COMMISSIONER and user.organisation_id is not None:
        return select(partnership_members.c.partnership_id).where(
            partnership_members.c.organisation_id == user.organisation_id
        )
    return select(Partnership.id).where(false())


def find_commissioner(session: Session, text: str, user: User | None = None) -> Audience:
    """By id or name; with `user`, only among the commissioners they may name."""
    allowed = commissioners_seen_by(user) if user is not None else None
    matches = [
        org
        for org in _by_id_or_name(session, Organisation, text, allowed)
        if org.kind == OrganisationKind.COMMISSIONER.value
    ]
    return Audience("commissioner", *_one(matches, text, "commissioning organisation"))


def find_partnership(session: Session, text: str, user: User | None = None) -> Audience:
    """By id or name; with `user`, only among the partnerships they may name."""
    allowed = partnerships_seen_by(user) if user is not None else None
    return Audience(
        "partnership", *_one(_by_id_or_name(session, Partnership, text, allowed), text, "partnership")
    )


def _one(matches: list, text: str, what: str) -> tuple[int, str]:
    if not matches:
        raise UnknownAudience(
            f'No {what} is called "{text.strip()}" or has that id. '
            f"Check the name on the admin pages, or give the {what}'s id"
        )
    if len(matches) > 1:
        names = "; ".join(sorted(m.name for m in matches))
        raise UnknownAudience(
            f'"{text.strip()}" matches more than one {what} ({names}). Give the full name or id'
        )
    return matches[0].id, matches[0].name


def own_audience(user: User) -> Audience | None:
    """The pack a commissioner or board user gets without choosing: the rows
    their dashboards show (monitor.access.viewers decides which)."""
    viewer = dashboard_access(user)
    if not isinstance(viewer, Viewer):
        return None
    kind, identifier = parse_viewer_key(viewer.key)
    return Audience("commissioner" if kind == "organisation" else "partnership", identifier, viewer.name)


def may_read(user: User, audience: Audience) -> bool:
    """Commissioners their own organisation's pack, board users their own
    partnership's, administrators any."""
    if user.role == Role.ADMIN:
        return True
    return own_audience(user) == audience
