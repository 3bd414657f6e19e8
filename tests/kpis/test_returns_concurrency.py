"""Two uploads of the same return at once leave it consistent: every upload
that succeeds adds exactly one version, numbers stay unique, and the loser
gets a plain message rather than an error page."""

from __future__ import annotations

import threading
from datetime import date

import pytest
from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session

from monitor.auth.models import User
from monitor.contracts.models import Contract
from monitor.db import db
from monitor.errors import ValidationFailed
from monitor.kpis.models import Return, ReturnVersion
from monitor.kpis.returns.services import CONFLICT_MESSAGE, ReturnConflict, store_version
from tests.conftest import DEMO_USERS
from tests.kpis.test_returns_builders import Q1, REFUGE, checked, stored, upload, workbook_bytes


def _upload_in(session: Session, app: Flask, tag: str) -> ReturnVersion:
    person = session.execute(select(User).where(User.email == DEMO_USERS["refuge"])).scalar_one()
    item = session.execute(select(Contract).where(Contract.reference == REFUGE)).scalar_one()
    return store_version(
        session,
        person,
        item,
        Q1,
        workbook_bytes(tag),
        f"{tag}.xlsx",
        checked(item.id, Q1),
        submit=True,
        acknowledge_warnings=False,
        settings=app.config,
        today=date(2013, 12, 2),
    )


def test_a_second_session_working_from_an_old_copy_loses(frameworks: Flask) -> None:
    upload("refuge", submit=False)
    late = Session(db.engine, expire_on_commit=False)
    try:
        # The second writer has the return loaded, as a page would, before the first saves
        # (held in a variable: the session forgets objects nobody refers to).
        held = late.scalar(select(Return))
        assert held is not None
        upload("refuge")
        with pytest.raises(ReturnConflict) as conflict:
            _upload_in(late, frameworks, "late")
        assert conflict.value.errors == {"return": CONFLICT_MESSAGE}
        late.rollback()
    finally:
        late.close()
    ret = stored()
    assert ret is not None and [v.number for v in ret.versions] == [1, 2]


@pytest.mark.parametrize("existing", [False, True], ids=["first-upload", "later-upload"])
def test_racing_uploads(frameworks: Flask, existing: bool) -> None:
    if existing:
        upload("refuge", submit=False)
    before = len(stored().versions) if existing else 0  # type: ignore[union-attr]
    start = threading.Barrier(2)
    outcomes: list[object] = []
    lock = threading.Lock()

    def race(tag: str) -> None:
        with frameworks.app_context():
            session = Session(db.engine, expire_on_commit=False)
            held: Return | None = None
            try:
                if existing:
                    held = session.scalar(select(Return))  # both hold the same revision
                start.wait(timeout=10)
                version = _upload_in(session, frameworks, tag)
                session.commit()
                result: object = version.number
            except ValidationFailed as failed:
                session.rollback()
                result = failed
            except Exception as unexpected:  # recorded, so the test fails with it
                session.rollback()
                result = unexpected
            finally:
                session.close()
                del held
            with lock:
                outcomes.append(result)

    threads = [threading.Thread(target=race, args=(tag,)) for tag in ("one", "two")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert len(outcomes) == 2
    numbers = [o for o in outcomes if isinstance(o, int)]
    refusals = [o for o in outcomes if not isinstance(o, int)]
    assert all(isinstance(o, ReturnConflict) for o in refusals), refusals
    assert numbers, "at least one upload must succeed"
    assert len(set(numbers)) == len(numbers)
    ret = stored()
    assert ret is not None
    stored_numbers = [v.number for v in ret.versions]
    assert stored_numbers == list(range(1, before + len(numbers) + 1))
    assert sorted(numbers) == stored_numbers[before:]
