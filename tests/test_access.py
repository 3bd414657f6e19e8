"""One access package: the rules agree with the SQL that lists contracts, the
viewer key has one builder and one parser, uploads are decided in one place,
and a name filter answers alike for a name you may not see and one that does
not exist. On SQLite and PostgreSQL."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from monitor.access import rules
from monitor.access.roles import Role
from monitor.access.viewers import (
    board_viewer,
    organisation_key,
    parse_viewer_key,
    partnership_key,
    sees_board_figures,
)
from monitor.auth.models import Organisation, Partnership, User
from monitor.contracts.access import visible_contracts
from monitor.contracts.models import Contract
from monitor.db import db
from monitor.reports.audience import Audience, UnknownAudience, find_commissioner, find_partnership
from tests.api.conftest import token_for
from tests.conftest import DEMO_USERS


def _users() -> list[User]:
    return list(db.session.scalars(select(User).order_by(User.email)))


def test_can_read_agrees_with_the_sql_that_lists_contracts(demo: Flask) -> None:
    contracts = list(db.session.scalars(select(Contract)))
    assert len(contracts) > 3
    for user in _users():
        listed = set(db.session.scalars(select(Contract.id).where(visible_contracts(user))))
        readable = {c.id for c in contracts if rules.can_read(user, c)}
        assert listed == readable, user.email


@dataclass
class _Org:
    id: int


@dataclass
class _Partnership:
    id: int
    members: list[_Org] = field(default_factory=list)


@dataclass
class _Person:
    role: str
    organisation_id: int | None = None
    partnership: _Partnership | None = None


@dataclass
class _Contract:
    provider_id: int
    commissioner_ids: set[int]


CONTRACT = _Contract(provider_id=9, commissioner_ids={1, 2})


@pytest.mark.parametrize(
    ("person", "upload", "review", "figures"),
    [
        (_Person(Role.PROVIDER, 9), True, False, True),
        (_Person(Role.PROVIDER, 8), False, False, False),
        (_Person(Role.COMMISSIONER, 2), True, True, True),
        (_Person(Role.COMMISSIONER, 3), False, False, False),
        (_Person(Role.BOARD, partnership=_Partnership(5, [_Org(1)])), False, False, False),
        (_Person(Role.ADMIN), False, False, True),
        (_Person(Role.PROVIDER, None), False, False, False),
    ],
)
def test_who_may_upload_review_and_see_a_returns_figures(
    person: _Person, upload: bool, review: bool, figures: bool
) -> None:
    assert rules.can_upload(person, CONTRACT) is upload
    assert rules.can_review(person, CONTRACT) is review
    assert rules.can_see_return_figures(person, CONTRACT) is figures


@pytest.mark.parametrize("role", list(Role))
def test_only_administrators_change_the_kpi_library(role: Role) -> None:
    assert rules.can_change_library(_Person(role, 1)) is (role == Role.ADMIN)


def test_a_board_reads_its_partnerships_contracts_and_board_figures_only() -> None:
    board = _Person(Role.BOARD, partnership=_Partnership(5, [_Org(2)]))
    assert rules.can_read(board, CONTRACT) and not rules.can_change(board, CONTRACT)
    assert sees_board_figures(board)
    assert not sees_board_figures(_Person(Role.COMMISSIONER, 1))
    unlinked = _Person(Role.BOARD)
    assert not rules.can_read(unlinked, CONTRACT) and sees_board_figures(unlinked)


def test_the_viewer_key_has_one_builder_and_one_parser() -> None:
    assert organisation_key(5) == "organisation:5" and partnership_key(12) == "partnership:12"
    assert parse_viewer_key("partnership:12") == ("partnership", 12)
    for bad in ("partnership:0", "organisation:1 OR 1=1", "team:3", "organisation:", "organisation:-1"):
        with pytest.raises(ValueError, match="not a warehouse viewer key"):
            parse_viewer_key(bad)
    for bad_id in (0, -3, True):
        with pytest.raises(ValueError, match="not a database id"):
            organisation_key(bad_id)


def test_a_board_users_viewer_is_its_partnerships(demo: Flask) -> None:
    user = db.session.execute(select(User).where(User.email == DEMO_USERS["bd_board"])).scalar_one()
    viewer = board_viewer(user)
    assert user.partnership is not None and viewer is not None
    assert viewer.key == partnership_key(user.partnership.id) and viewer.suppressed
    assert Audience("partnership", user.partnership.id, user.partnership.name).viewer == viewer.key
    commissioner = db.session.execute(select(User).where(User.email == DEMO_USERS["lbbd"])).scalar_one()
    assert board_viewer(commissioner) is None


def _user(who: str) -> User:
    return db.session.execute(select(User).where(User.email == DEMO_USERS[who])).scalar_one()


def _error(find: Any, text: str, user: User) -> str:
    with pytest.raises(UnknownAudience) as caught:
        find(db.session(), text, user)
    return str(caught.value)


def test_a_name_you_may_not_see_answers_as_one_that_does_not_exist(demo: Flask) -> None:
    halton = _user("halton_board").partnership
    assert isinstance(halton, Partnership)
    westminster = db.session.execute(
        select(Organisation).where(Organisation.name.like("%Westminster%"))
    ).scalar_one()
    board = _user("bd_board")
    # The board's own partnership and its members' names are found...
    assert board.partnership is not None
    assert find_partnership(db.session(), board.partnership.name, board).id == board.partnership.id
    assert find_commissioner(db.session(), "London Borough of Barking", board).name.startswith(
        "London Borough of Barking"
    )
    # ...another partnership's, or an organisation it does not oversee, are not, in the same words.
    for text, missing in ((halton.name, "No such partnership"), (str(halton.id), "999999")):
        assert _error(find_partnership, text, board) == _error(find_partnership, missing, board).replace(
            missing, text
        )
    for text in (westminster.name, str(westminster.id)):
        assert _error(find_commissioner, text, board) == _error(
            find_commissioner, "No such council", board
        ).replace("No such council", text)
    # An administrator finds any.
    admin = _user("admin")
    assert find_partnership(db.session(), halton.name, admin).id == halton.id


def test_the_open_data_api_answers_alike_for_hidden_and_unknown_names(
    demo: Flask, client: FlaskClient
) -> None:
    headers = {"Authorization": f"Bearer {token_for(DEMO_USERS['bd_board'])}"}
    westminster = db.session.execute(
        select(Organisation).where(Organisation.name.like("%Westminster%"))
    ).scalar_one()
    hidden = client.get("/api/v1/ocds", query_string={"commissioner": westminster.name}, headers=headers)
    unknown = client.get("/api/v1/ocds", query_string={"commissioner": "Nowhere Council"}, headers=headers)
    assert hidden.status_code == unknown.status_code == 422
    hidden_message = hidden.get_json()["errors"][0]["message"]
    unknown_message = unknown.get_json()["errors"][0]["message"]
    assert hidden_message.replace(westminster.name, "X") == unknown_message.replace("Nowhere Council", "X")
