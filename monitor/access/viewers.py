"""Who sees which warehouse rows through the embedded dashboards.

Every mart row carries `viewer` (see etl/schema.py): `organisation:<id>` for
a commissioner's own contracts, unsuppressed, and `partnership:<id>` for what
a board sees, after disclosure control. A guest token carries one row-level
security clause, `viewer = '<key>'`, which Superset adds to every query of
every dataset the token reaches.

The functions here are pure: the key is built from integer ids taken from the
user's database record (or, for an administrator, from a choice that
`choose_viewer` has matched against rows read from the database), never from
text a person typed, so no request can widen the clause.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Protocol

from monitor.access.roles import Role

# The only shape a viewer key may take; anything else is refused before it
# could reach an SQL clause.
VIEWER_KEY = re.compile(r"(organisation|partnership):[1-9][0-9]{0,9}")
# A commissioner's own contracts, exact; a board's view, disclosure-controlled.
ORGANISATION_PREFIX = "organisation:"
PARTNERSHIP_PREFIX = "partnership:"


class Named(Protocol):
    @property
    def id(self) -> int: ...

    @property
    def name(self) -> str: ...


class DashboardUser(Protocol):
    """What these rules read from a user (the `User` model has all of it)."""

    @property
    def role(self) -> str: ...

    @property
    def organisation(self) -> Named | None: ...

    @property
    def partnership(self) -> Named | None: ...


@dataclass(frozen=True)
class Viewer:
    """One set of warehouse rows: a commissioner's own contracts or a board's view."""

    key: str
    kind: str  # "commissioner" or "board", as the warehouse's viewer_kind
    name: str

    def __post_init__(self) -> None:
        if not VIEWER_KEY.fullmatch(self.key):
            raise ValueError(f"not a warehouse viewer key: {self.key!r}")

    @property
    def suppressed(self) -> bool:
        """Boards see figures after disclosure control; commissioners see their own as they are."""
        return self.kind == "board"


@dataclass(frozen=True)
class AdminChooses:
    """An administrator sees any viewer's dashboards, once they choose which."""


@dataclass(frozen=True)
class NoDashboards:
    """This user has no dashboards; `reason` tells them why, in plain English."""

    reason: str


Access = Viewer | AdminChooses | NoDashboards


def organisation_key(organisation_id: int) -> str:
    return f"{ORGANISATION_PREFIX}{_positive(organisation_id)}"


def partnership_key(partnership_id: int) -> str:
    return f"{PARTNERSHIP_PREFIX}{_positive(partnership_id)}"


def parse_viewer_key(key: str) -> tuple[str, int]:
    """("organisation" or "partnership", id) from a key; ValueError for anything else."""
    if not VIEWER_KEY.fullmatch(key):
        raise ValueError(f"not a warehouse viewer key: {key!r}")
    kind, identifier = key.split(":")
    return kind, int(identifier)


def organisation_viewer(organisation_id: int, name: str) -> Viewer:
    return Viewer(organisation_key(organisation_id), "commissioner", name)


def partnership_viewer(partnership_id: int, name: str) -> Viewer:
    return Viewer(partnership_key(partnership_id), "board", name)


def dashboard_access(user: DashboardUser) -> Access:
    """The rows this user's dashboards show, decided from their role and record alone."""
    role = user.role
    if role == Role.ADMIN:
        return AdminChooses()
    if role == Role.COMMISSIONER:
        if user.organisation is None:
            return NoDashboards(
                "Your account is not linked to a commissioning organisation, so there are no "
                "contracts to show. Ask an administrator to link your account to your organisation."
            )
        return organisation_viewer(user.organisation.id, user.organisation.name)
    if role == Role.BOARD:
        if user.partnership is None:
            return NoDashboards(
                "Your account is not linked to a board or partnership, so there are no figures "
                "to show. Ask an administrator to link your account to your board."
            )
        return partnership_viewer(user.partnership.id, user.partnership.name)
    if role == Role.PROVIDER:
        return NoDashboards(
            "Dashboards are for commissioners and boards: they show how every commissioned "
            "service performs against its framework. Providers see their own contracts' figures "
            "on the Performance and Returns pages."
        )
    return NoDashboards("Your account's role does not include dashboards. Ask an administrator.")


def sees_board_figures(user: DashboardUser) -> bool:
    """Board users read disclosure-controlled figures on every surface (pages,
    API, board pack, dashboards); everyone else reads the exact figures of
    the contracts they may see."""
    return user.role == Role.BOARD


def board_viewer(user: DashboardUser) -> Viewer | None:
    """The warehouse rows a board user's figures come from (None when the
    account is not linked to a partnership, so there are none)."""
    access = dashboard_access(user)
    return access if isinstance(access, Viewer) and access.suppressed else None


def choose_viewer(requested_key: str | None, choices: list[Viewer]) -> Viewer | None:
    """The administrator's choice, if it is one of `choices` (read from the database)."""
    if not requested_key:
        return None
    for viewer in choices:
        if viewer.key == requested_key:
            return viewer
    return None


def rls_clause(key: str) -> dict[str, str]:
    """The Superset row-level security rule limiting every dataset to one
    viewer's rows. A rule without `dataset` applies to every dataset, so a
    chart added later is limited too. The key must match VIEWER_KEY, so it
    holds no quote that could end the string literal."""
    if not VIEWER_KEY.fullmatch(key):
        raise ValueError(f"not a warehouse viewer key: {key!r}")
    return {"clause": f"viewer = '{key}'"}


def rls_clauses(viewer: Viewer) -> list[dict[str, str]]:
    """Superset guest-token RLS rules for this viewer (Viewer checked its key too)."""
    return [rls_clause(viewer.key)]


def _positive(identifier: int) -> int:
    # bool is an int; an id from a record is never one, nor zero or negative.
    if isinstance(identifier, bool) or not isinstance(identifier, int) or identifier < 1:
        raise ValueError(f"not a database id: {identifier!r}")
    return identifier
