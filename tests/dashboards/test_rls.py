"""Who sees which warehouse rows: the viewer key and the RLS clause, from the user record."""

from __future__ import annotations

import re
from dataclasses import dataclass

import pytest
from hypothesis import given
from hypothesis import strategies as st

from monitor.access.viewers import (
    AdminChooses,
    NoDashboards,
    Viewer,
    choose_viewer,
    dashboard_access,
    organisation_viewer,
    partnership_viewer,
    rls_clauses,
)


@dataclass
class Named:
    id: int
    name: str


@dataclass
class FakeUser:
    role: str
    organisation: Named | None = None
    partnership: Named | None = None


LBBD = Named(5, "London Borough of Barking and Dagenham")
BOARD = Named(2, "Barking and Dagenham Health and Wellbeing Board")


def test_commissioner_sees_own_organisation_unsuppressed() -> None:
    viewer = dashboard_access(FakeUser("commissioner", organisation=LBBD))
    assert viewer == Viewer("organisation:5", "commissioner", LBBD.name)
    assert isinstance(viewer, Viewer) and not viewer.suppressed
    assert rls_clauses(viewer) == [{"clause": "viewer = 'organisation:5'"}]


def test_board_sees_its_partnership_suppressed() -> None:
    viewer = dashboard_access(FakeUser("board", partnership=BOARD))
    assert viewer == Viewer("partnership:2", "board", BOARD.name)
    assert isinstance(viewer, Viewer) and viewer.suppressed
    assert rls_clauses(viewer) == [{"clause": "viewer = 'partnership:2'"}]


def test_a_board_member_with_an_organisation_still_sees_only_the_board_view() -> None:
    # The role decides, not whichever link happens to be filled in.
    viewer = dashboard_access(FakeUser("board", organisation=LBBD, partnership=BOARD))
    assert isinstance(viewer, Viewer) and viewer.key == "partnership:2"


def test_admin_must_choose() -> None:
    assert dashboard_access(FakeUser("admin")) == AdminChooses()


@pytest.mark.parametrize(
    ("user", "says"),
    [
        (FakeUser("provider", organisation=Named(9, "Refuge")), "Providers see their own contracts"),
        (FakeUser("commissioner"), "not linked to a commissioning organisation"),
        (FakeUser("board"), "not linked to a board or partnership"),
        (FakeUser("auditor"), "does not include dashboards"),
    ],
)
def test_no_dashboards_and_why(user: FakeUser, says: str) -> None:
    access = dashboard_access(user)
    assert isinstance(access, NoDashboards)
    assert says in access.reason


def test_a_provider_never_gets_its_organisation_as_a_viewer() -> None:
    # organisation:<provider id> would match no rows today, but must never be asked for.
    assert isinstance(dashboard_access(FakeUser("provider", organisation=LBBD)), NoDashboards)


@pytest.mark.parametrize("bad", [0, -1, True, "5", 5.0, None])
def test_ids_must_be_positive_integers(bad: object) -> None:
    with pytest.raises(ValueError, match="not a database id"):
        organisation_viewer(bad, "x")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="not a database id"):
        partnership_viewer(bad, "x")  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "key",
    ["organisation:5' OR '1'='1", "organisation:", "partnership:05", "provider:3", "organisation:5 ", ""],
)
def test_malformed_keys_are_refused(key: str) -> None:
    with pytest.raises(ValueError, match="not a warehouse viewer key"):
        Viewer(key, "commissioner", "x")


def test_admin_choice_must_be_one_of_the_database_choices() -> None:
    choices = [organisation_viewer(5, LBBD.name), partnership_viewer(2, BOARD.name)]
    assert choose_viewer("partnership:2", choices) == choices[1]
    assert choose_viewer("partnership:3", choices) is None
    assert choose_viewer("organisation:5' OR '1'='1", choices) is None
    assert choose_viewer("", choices) is None
    assert choose_viewer(None, choices) is None


@given(st.integers(min_value=1, max_value=9_999_999_999), st.sampled_from(["organisation", "partnership"]))
def test_every_clause_is_one_literal_comparison(identifier: int, kind: str) -> None:
    make = organisation_viewer if kind == "organisation" else partnership_viewer
    [rule] = rls_clauses(make(identifier, "Any name, even O'Brien's board"))
    assert re.fullmatch(r"viewer = '(organisation|partnership):[1-9][0-9]*'", rule["clause"])
    assert rule == {"clause": f"viewer = '{kind}:{identifier}'"}


@given(st.text())
def test_no_requested_text_is_chosen_unless_it_is_a_choice(requested: str) -> None:
    choices = [organisation_viewer(5, LBBD.name), partnership_viewer(2, BOARD.name)]
    chosen = choose_viewer(requested, choices)
    assert chosen is None or (chosen in choices and chosen.key == requested)
