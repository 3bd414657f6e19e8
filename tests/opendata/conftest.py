"""Open data test helpers: the exports as a reader gets them, a blocked network,
and plain walks over every key and string of a document."""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import select, update

from monitor.contracts.models import Contract
from monitor.db import db

SERVICE_URL = "https://monitor.example.gov.uk"


@pytest.fixture
def offline(monkeypatch: pytest.MonkeyPatch) -> None:
    """Any attempt to reach the network fails the test (the schemas must be local)."""

    def refuse(*_args: Any, **_kwargs: Any) -> None:
        raise AssertionError("open data code tried to use the network")

    # PostgreSQL is reached through libpq, which never calls these.
    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)


def contract_by_reference(reference: str) -> Contract:
    return db.session.execute(select(Contract).where(Contract.reference == reference)).scalar_one()


def change_contract(reference: str, **values: Any) -> None:
    """Change stored fields directly, as data from before a rule existed might be."""
    with db.transaction() as session:
        session.execute(update(Contract).where(Contract.reference == reference).values(**values))
    db.session.remove()


def keys_and_strings(node: Any, path: str = "") -> Iterator[tuple[str, Any]]:
    """(path with list indices as [], leaf value) for every leaf of a JSON document."""
    if isinstance(node, dict):
        for key, value in node.items():
            yield from keys_and_strings(value, f"{path}/{key}")
    elif isinstance(node, list):
        for item in node:
            yield from keys_and_strings(item, f"{path}[]")
    else:
        yield path, node


def parsed(text: str) -> dict[str, Any]:
    document: dict[str, Any] = json.loads(text)
    return document
