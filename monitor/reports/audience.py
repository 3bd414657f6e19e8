"""Who a board pack is for: one commissioning organisation or one partnership.

A pack for a commissioner reads its `organisation:<id>` mart rows; a pack for
a board its `partnership:<id>` rows. Either way the pack is board-facing, so
its figures are suppressed (see monitor.reports.pack_data).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from monitor.auth.models import Organisation, OrganisationKind, Partnership, Role, User

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
        prefix = "organisation" if self.kind == "commissioner" else "partnership"
        return f"{prefix}:{self.id}"

    @property
    def slug(self) -> str:
        """A file-name friendly form of the name."""
        return slug(self.name) or self.viewer.replace(":", "-")


def slug(text: str) -> str:
    """A file-name friendly form of `text`: its words, lower case, joined by hyphens."""
    words = "".join(c if c.isalnum() else " " for c in text).split()
    return "-".join(words).lower()[:60]


def _by_id_or_name(session: Session, model: type[Organisation] | type[Partnership], text: str) -> list:
    text = text.strip()
    if text.isdigit():
        record = session.get(model, int(text))
        return [record] if record is not None else []
    exact = session.scalars(select(model).where(func.lower(model.name) == text.lower())).all()
    if exact:
        return list(exact)
    # A unique part of a name is enough ("Halton Domestic"), as people type them.
    pattern = "%" + text.lower().replace("%", r"\%").replace("_", r"\_") + "%"
    return list(session.scalars(select(model).where(func.lower(model.name).like(pattern, escape="\\"))).all())


def find_commissioner(session: Session, text: str) -> Audience:
    matches = [
        org
        for org in _by_id_or_name(session, Organisation, text)
        if org.kind == OrganisationKind.COMMISSIONER.value
    ]
    return Audience("commissioner", *_one(matches, text, "commissioning organisation"))


def find_partnership(session: Session, text: str) -> Audience:
    return Audience("partnership", *_one(_by_id_or_name(session, Partnership, text), text, "partnership"))


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


def may_download(user: User) -> bool:
    """Providers never get a board pack: it covers other providers' services."""
    return user.role in (Role.ADMIN, Role.COMMISSIONER, Role.BOARD)


def own_audience(user: User) -> Audience | None:
    """The pack a commissioner or board user gets without choosing."""
    if user.role == Role.COMMISSIONER and user.organisation is not None:
        return Audience("commissioner", user.organisation.id, user.organisation.name)
    if user.role == Role.BOARD and user.partnership is not None:
        return Audience("partnership", user.partnership.id, user.partnership.name)
    return None


def may_read(user: User, audience: Audience) -> bool:
    """Commissioners their own organisation's pack, board users their own
    partnership's, administrators any."""
    if user.role == Role.ADMIN:
        return True
    return own_audience(user) == audience
