"""Who may read, change, upload, review and download what. Every page, API
call, command and export asks here; nothing else restates a rule.

The rules read only a few attributes of the user and the contract (the
`User` and `Contract` models have them all), so they stay pure and the same
rule answers for an object loaded by the ORM or built in a test.

`monitor.contracts.access.visible_contracts` is the same `can_read` as a
WHERE clause, for lists; a test checks that the two agree for every demo
user and contract.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Protocol

from monitor.access.roles import Role


class HasId(Protocol):
    @property
    def id(self) -> int: ...


class Partnership(Protocol):
    @property
    def id(self) -> int: ...

    @property
    def members(self) -> Iterable[HasId]: ...


class Person(Protocol):
    @property
    def role(self) -> str: ...

    @property
    def organisation_id(self) -> int | None: ...

    @property
    def partnership(self) -> Partnership | None: ...


class Parties(Protocol):
    """Who holds a contract."""

    @property
    def provider_id(self) -> int: ...

    @property
    def commissioner_ids(self) -> set[int]: ...


def partnership_members(user: Person) -> set[int]:
    """The commissioning organisations whose contracts a board user oversees."""
    if user.role != Role.BOARD or user.partnership is None:
        return set()
    return {member.id for member in user.partnership.members}


def can_read(user: Person, contract: Parties) -> bool:
    role = user.role
    if role == Role.ADMIN:
        return True
    if role == Role.COMMISSIONER:
        return user.organisation_id in contract.commissioner_ids
    if role == Role.PROVIDER:
        return user.organisation_id is not None and user.organisation_id == contract.provider_id
    if role == Role.BOARD:
        return bool(partnership_members(user) & contract.commissioner_ids)
    return False


def can_change(user: Person, contract: Parties) -> bool:
    """The lead or a partner commissioner changes a contract, its framework and its returns' state."""
    return user.role == Role.COMMISSIONER and user.organisation_id in contract.commissioner_ids


def can_create_contracts(user: Person) -> bool:
    return user.role == Role.COMMISSIONER


def can_compile_return(user: Person, authority_id: int) -> bool:
    """An authority's own commissioners, and administrators, see its statutory
    safe-accommodation return and choose which contracts count."""
    if user.role == Role.ADMIN:
        return True
    return user.role == Role.COMMISSIONER and user.organisation_id == authority_id


def can_manage_benchmarking(user: Person) -> bool:
    """Who takes part in comparisons, regions and similar-areas groups shape
    every area's comparisons: only administrators change them."""
    return user.role == Role.ADMIN


def can_change_library(user: Person) -> bool:
    """The KPI library and its consistency rules apply to every contract:
    only administrators change them."""
    return user.role == Role.ADMIN


def can_see_audit(user: Person, contract: Parties) -> bool:
    return user.role == Role.ADMIN or can_change(user, contract)


def can_upload(user: Person, contract: Parties) -> bool:
    """The contract's provider submits its returns; a commissioner of the
    contract may upload on its behalf. Never boards or administrators. The
    web page, the API and the workbook's identity check all ask here."""
    if user.role == Role.PROVIDER:
        return user.organisation_id is not None and user.organisation_id == contract.provider_id
    return can_change(user, contract)


def can_review(user: Person, contract: Parties) -> bool:
    """Only the lead or a partner commissioner queries, accepts or reopens a return."""
    return can_change(user, contract)


def can_see_return_figures(user: Person, contract: Parties) -> bool:
    """A return's own figures are exact, so boards never see them: boards
    read disclosure-controlled figures on the performance pages instead."""
    return can_read(user, contract) and user.role != Role.BOARD


def may_download_board_pack(user: Person) -> bool:
    """Providers never get a board pack: it covers other providers' services."""
    return user.role in (Role.ADMIN, Role.COMMISSIONER, Role.BOARD)
