"""Every operation fuzzed against the API's own OpenAPI document.

Schemathesis reads the document, makes requests for each operation (ones
the document allows and ones it does not) and sends them to the app in
process, through WSGI, with an LBBD commissioner's bearer token. Every answer
must be something the document promises: never a server error, only the
status codes the operation declares, bodies that match their declared schemas,
and a request that breaks the document is refused.

Each operation is its own test on a fresh copy of the demo database (with
the refuge's performance framework and a submitted return where the
operation reaches them), so the writes one operation's examples make cannot
reach another's, whatever order the tests run in. Path ids are mostly mapped
onto demo records the user can see (the rest stay made up), so operations
are fuzzed on real contracts and not only answered 404.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest
import schemathesis
from flask import Flask
from hypothesis import HealthCheck, settings
from schemathesis.config import SchemathesisConfig
from schemathesis.generation import GenerationMode
from sqlalchemy import select

from monitor.api.openapi import DOCUMENT
from monitor.contracts.models import Contract
from monitor.db import db
from monitor.kpis.models import FrameworkItem
from tests.api.conftest import Headers
from tests.kpis.conftest import add_return, frameworks, library  # noqa: F401 - fixtures used below

BASE_URL = "http://localhost/api/v1"
# Bounded so each backend fuzzes all operations in well under three minutes
# on two cores; the seed makes every run (and CI) send the same requests.
MAX_EXAMPLES = 10
CONFIG = SchemathesisConfig.from_dict(
    {
        "seed": 11,
        "suppress-health-check": ["too_slow", "filter_too_much", "data_too_large"],
        "generation": {
            "max-examples": MAX_EXAMPLES,
            "deterministic": True,
            "database": "none",
            # The token is sent by the test; made-up tokens are test_auth's job.
            "with-security-parameters": False,
        },
        "phases": {"stateful": {"enabled": False}},
        "checks": {
            # A request the document allows may still break a business rule
            # (an end before the start, a funder that does not exist): 422 is
            # a right answer for it, so only the document's promises are held.
            "positive_data_acceptance": {"enabled": False},
            # These follow one request with another, which needs state across
            # operations; each operation here has a database of its own.
            "use_after_free": {"enabled": False},
            "ensure_resource_availability": {"enabled": False},
            # 401 without a token is test_auth's; 405 is Flask's own answer.
            "ignored_auth": {"enabled": False},
            "unsupported_method": {"enabled": False},
        },
    }
)
SCHEMA = schemathesis.openapi.from_dict(DOCUMENT, config=CONFIG)
# Quarters the demo's contracts report, as at the tests' today (2 December 2013).
PERIODS = ("2013-14-Q1", "2013-14-Q2", "2013-14-Q3")


@dataclass(frozen=True)
class DemoRecords:
    """Ids of records the LBBD commissioner can see, by contract."""

    contracts: tuple[int, ...]
    lines: dict[int, tuple[int, ...]]
    amendments: dict[int, tuple[int, ...]]
    items: dict[int, tuple[int, ...]]


# Operations that reach a performance framework or returns: only these get
# the library, the refuge's framework and a return (they take a while to add).
NEEDS_FRAMEWORK = ("/framework", "/performance", "/returns")


@pytest.fixture
def records(request: pytest.FixtureRequest, demo: Flask) -> DemoRecords:
    """Ids of the demo's LBBD records; for an operation on frameworks or
    returns, with the refuge's framework and a submitted first-quarter return."""
    if any(part in request.node.name for part in NEEDS_FRAMEWORK):
        request.getfixturevalue("frameworks")
        add_return = request.getfixturevalue("add_return")
        add_return("LBBD-DV-002", "2013-14-Q1", {"REF-RECEIVED": 38}, state="submitted")
    session = db.session()
    contracts = session.scalars(
        select(Contract).where(Contract.reference.like("LBBD-%")).order_by(Contract.id)
    ).all()
    items: dict[int, tuple[int, ...]] = {c.id: () for c in contracts}
    for item in session.scalars(select(FrameworkItem).order_by(FrameworkItem.id)):
        if item.contract_id in items:
            items[item.contract_id] += (item.id,)
    return DemoRecords(
        contracts=tuple(c.id for c in contracts),
        lines={c.id: tuple(x.id for x in c.funding_lines) for c in contracts},
        amendments={c.id: tuple(x.id for x in c.amendments) for c in contracts},
        items=items,
    )


def _pick(choices: tuple[int, ...], seed: int) -> int:
    return choices[seed % len(choices)] if choices else seed


def on_demo_records(case: Any, records: DemoRecords) -> None:
    """Point four in five of the allowed requests at real records: a contract
    that has the record the path names (a line, an amendment, a framework
    item; returns are owed where there is a framework)."""
    params = case.path_parameters
    if not params or case.meta.generation.mode != GenerationMode.POSITIVE:
        return
    seed = params.get("contract_id")
    if not isinstance(seed, int) or seed % 5 == 0:
        return
    children = {"line_id": records.lines, "amendment_id": records.amendments, "item_id": records.items}
    needs = next((children[name] for name in children if name in params), None)
    if "period" in params:
        needs = records.items
    candidates = tuple(c for c in records.contracts if needs is None or needs[c])
    contract = _pick(candidates, seed)
    params["contract_id"] = contract
    for name, by_contract in children.items():
        if isinstance(params.get(name), int):
            params[name] = _pick(by_contract[contract], params[name])
    if "period" in params:
        params["period"] = PERIODS[seed % len(PERIODS)]


@SCHEMA.parametrize()
@settings(
    deadline=None,
    # One fresh database per operation, shared by that operation's examples.
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
def test_every_operation_keeps_to_the_document(
    case: Any, app: Flask, records: DemoRecords, headers: Headers
) -> None:
    on_demo_records(case, records)
    case.call_and_validate(app=app, base_url=BASE_URL, headers=headers("lbbd"))
