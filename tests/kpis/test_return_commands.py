"""One return command for every channel (issue 11): the web page, the API and
`flask returns check` give the same words for each broken file, and an
identical file is answered with a message instead of a new version."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

from bs4 import BeautifulSoup
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from monitor.audit import Actor, acting_as
from monitor.config import BaseConfig
from monitor.db import db
from monitor.kpis.models import ReturnEvent, ReturnValue, ReturnVersion
from monitor.kpis.returns.commands import (
    NeedsAcknowledgement,
    Refused,
    Reviewed,
    ReviewReturn,
    Stored,
    SubmitReturn,
    Upload,
)
from monitor.kpis.returns.ingest.file import OLE_SIGNATURE
from tests.api.conftest import (
    Headers,
    headers,  # noqa: F401 - fixture used below
)
from tests.conftest import DEMO_USERS, Auth
from tests.kpis.fixtures.workbooks import fill, template
from tests.kpis.test_returns_builders import (
    HALTON,
    Q1,
    Q2,
    Q3,
    REFUGE,
    contract,
    refuge_workbook,
    stored,
    user,
)

PERIOD = "2013-14-Q1"


def _halton_workbook() -> bytes:
    return fill(template())


def _corpus() -> dict[str, tuple[str, bytes, str]]:
    """name -> (file name, bytes, how the staged checks' message starts)."""
    good = refuge_workbook()
    return {
        "password": (
            "return.xlsx",
            OLE_SIGNATURE + bytes(4096 - len(OLE_SIGNATURE)),
            "The workbook is protected with a password",
        ),
        "xls": (
            "return.xls",
            OLE_SIGNATURE + bytes(1024) + "Workbook".encode("utf-16-le") + bytes(2048),
            "This is an older Excel file (.xls)",
        ),
        "csv": (
            "figures.csv",
            b"code,value\r\nREF-RECEIVED,12\r\n",
            "This is a CSV (comma-separated text) file",
        ),
        "pdf": ("return.pdf", b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<<>>\nendobj\n", "This is a PDF"),
        "xlsm": ("return.xlsm", good, "The workbook contains macros"),
        "damaged": ("return.xlsx", good[: len(good) // 2], "The file is damaged or incomplete"),
        "empty": ("return.xlsx", b"", "The file is empty"),
        "not a workbook zip": ("return.xlsx", _zip_of_text(), "This file is not an Excel workbook (.xlsx)"),
        "too large": (
            "return.xlsx",
            good + bytes(BaseConfig.MAX_UPLOAD_BYTES),
            "The file is larger than the 4 MB we accept.",
        ),
        "wrong quarter": ("return.xlsx", refuge_workbook(Q2), ""),
        "wrong contract": ("return.xlsx", _halton_workbook(), ""),
    }


def _zip_of_text() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("notes.txt", "figures to follow")
    return buffer.getvalue()


def _web(client: FlaskClient, auth: Auth, name: str, content: bytes) -> str:
    auth.sign_out()
    auth.sign_in(DEMO_USERS["refuge"])
    url = f"/contracts/{contract(REFUGE).id}/returns/{PERIOD}/upload"
    data = {"file": (io.BytesIO(content), name), "submit_return": "y"}
    response = client.post(url, data=data, content_type="multipart/form-data")
    assert response.status_code == 400, name
    box = BeautifulSoup(response.get_data(as_text=True), "html.parser").select_one(".govuk-error-summary")
    assert box is not None
    return box.get_text(" ", strip=True)


def _api(api: FlaskClient, headers: Headers, name: str, content: bytes) -> list[str]:  # noqa: F811
    url = f"/api/v1/contracts/{contract(REFUGE).id}/returns/{PERIOD}"
    data = {"file": (io.BytesIO(content), name)}
    response = api.post(url, data=data, content_type="multipart/form-data", headers=headers("refuge"))
    # A file over the limit is 413, in the same shape as the 422 for every other broken file.
    assert response.status_code == (413 if len(content) > BaseConfig.MAX_UPLOAD_BYTES else 422), name
    return [e["message"] for e in response.get_json()["errors"] if e["severity"] == "error"]


def _cli(app: Flask, tmp_path: Path, name: str, content: bytes) -> str:
    path = tmp_path / name
    path.write_bytes(content)
    result = app.test_cli_runner().invoke(
        args=[
            "returns",
            "check",
            str(path),
            "--contract",
            REFUGE,
            "--period",
            PERIOD,
            "--as",
            DEMO_USERS["refuge"],
        ]
    )
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output
    return result.output


def _count(model: type) -> int:
    return db.session.scalar(select(func.count()).select_from(model)) or 0


def test_every_channel_gives_the_same_message_for_each_broken_file(
    frameworks: Flask,
    client: FlaskClient,
    auth: Auth,
    headers: Headers,  # noqa: F811 - the imported fixture
    tmp_path: Path,
) -> None:
    frameworks.instance_path = str(tmp_path)  # held uploads go here
    api = frameworks.test_client()
    for case, (name, content, starts) in _corpus().items():
        messages = _api(api, headers, name, content)
        assert messages, case
        if starts:
            assert messages[0].startswith(starts), (case, messages)
        web = _web(client, auth, name, content)
        cli = _cli(frameworks, tmp_path, name, content)
        for message in messages:
            assert message in web, (case, message, web)
            assert message in cli, (case, message, cli)
        assert "must be an Excel workbook saved as .xlsx" not in web
    assert _count(ReturnVersion) == 0 and _count(ReturnEvent) == 0


def test_an_identical_file_is_not_a_new_version(
    frameworks: Flask,
    headers: Headers,  # noqa: F811 - the imported fixture
) -> None:
    api = frameworks.test_client()
    url = f"/api/v1/contracts/{contract(REFUGE).id}/returns/{PERIOD}"
    content = refuge_workbook()

    def send(submit: str = "true") -> object:
        data = {"file": (io.BytesIO(content), "refuge.xlsx"), "submit": submit}
        return api.post(url, data=data, content_type="multipart/form-data", headers=headers("refuge"))

    assert send().status_code == 201  # type: ignore[attr-defined]
    values = _count(ReturnValue)
    again = send()
    assert again.status_code == 422  # type: ignore[attr-defined]
    body = again.get_json()  # type: ignore[attr-defined]
    assert body["errors"][0]["message"].startswith(
        "This file is identical to version 1, already submitted, so nothing was saved"
    )
    assert body["errors"][0]["field"] == "file"
    as_draft = send("false")
    assert as_draft.status_code == 422  # type: ignore[attr-defined]
    record = stored()
    assert record is not None and [v.number for v in record.versions] == [1]
    assert [e.kind for e in record.events] == ["submitted"]
    assert _count(ReturnValue) == values


def test_an_identical_file_through_the_web_page(
    frameworks: Flask, client: FlaskClient, auth: Auth, tmp_path: Path
) -> None:
    frameworks.instance_path = str(tmp_path)
    auth.sign_in(DEMO_USERS["refuge"])
    url = f"/contracts/{contract(REFUGE).id}/returns/{PERIOD}/upload"
    content = refuge_workbook()

    def send() -> object:
        data = {"file": (io.BytesIO(content), "refuge.xlsx"), "submit_return": "y"}
        return client.post(url, data=data, content_type="multipart/form-data")

    assert send().status_code == 302  # type: ignore[attr-defined]
    again = send()
    assert again.status_code == 400  # type: ignore[attr-defined]
    assert "This file is identical to version 1, already submitted" in again.get_data(as_text=True)  # type: ignore[attr-defined]
    record = stored()
    assert record is not None and len(record.versions) == 1 and len(record.events) == 1


def test_a_draft_may_be_submitted_as_it_stands(
    frameworks: Flask,
    headers: Headers,  # noqa: F811 - the imported fixture
) -> None:
    api = frameworks.test_client()
    url = f"/api/v1/contracts/{contract(REFUGE).id}/returns/{PERIOD}"
    content = refuge_workbook()

    def send(flag: str) -> object:
        data = {"file": (io.BytesIO(content), "refuge.xlsx"), "submit": flag}
        return api.post(url, data=data, content_type="multipart/form-data", headers=headers("refuge"))

    for flag in ("false", "true"):
        response = send(flag)
        assert response.status_code == 201, response.get_json()  # type: ignore[attr-defined]
    record = stored()
    assert record is not None and [v.submitted for v in record.versions] == [False, True]
    # Once submitted, the same file again is not a new version: the draft was
    # let through for being a draft, not because every upload is kept.
    values = _count(ReturnValue)
    again = send("true")
    assert again.status_code == 422  # type: ignore[attr-defined]
    body = again.get_json()  # type: ignore[attr-defined]
    assert body["errors"][0]["field"] == "file"
    assert body["errors"][0]["message"].startswith(
        "This file is identical to version 2, already submitted, so nothing was saved"
    )
    record = stored()
    assert record is not None and [(v.number, v.submitted) for v in record.versions] == [
        (1, False),
        (2, True),
    ]
    assert _count(ReturnVersion) == 2 and _count(ReturnValue) == values


def test_the_command_answers_refused_needs_acknowledgement_or_stored(frameworks: Flask) -> None:
    provider, refuge = user("refuge"), contract(REFUGE)
    with acting_as(Actor(provider.id, provider.email)):
        nothing = ReviewReturn(user("lbbd"), None, "accept").run()
        assert isinstance(nothing, Refused) and nothing.field_of(nothing.messages[0]) == "state"

        bad = Upload("r.xlsx", refuge_workbook(Q1, **{"REF-RECEIVED//total": 30}))
        refused = SubmitReturn(provider, refuge, Q1, bad, True, False).run()
        assert isinstance(refused, Refused) and refused.checked is not None
        assert refused.messages == refused.checked.errors and refused.messages[0].cell

        good = Upload("r.xlsx", refuge_workbook())
        stored_ = SubmitReturn(provider, refuge, Q1, good, True, False).run()
        assert isinstance(stored_, Stored) and (stored_.number, stored_.submitted) == (1, True)

        accepted = ReviewReturn(user("lbbd"), stored(), "accept").run()
        assert isinstance(accepted, Reviewed) and accepted.state == "accepted"

        jump = Upload(
            "q2.xlsx", refuge_workbook(Q2, **{"REF-RECEIVED/Police/breakdown": 43, "REF-RECEIVED//total": 70})
        )
        asked = SubmitReturn(provider, refuge, Q2, jump, True, False).run()
        assert isinstance(asked, NeedsAcknowledgement) and asked.warnings
        shown = [m.message for m in asked.warnings]
        assert isinstance(SubmitReturn(provider, refuge, Q2, jump, True, shown).run(), Stored)
    assert _count(ReturnVersion) == 2


def test_validation_gathers_the_returns_rules_and_the_workbooks_problems(frameworks: Flask) -> None:
    # Halton's Q3 is still running: submitting is refused, and the blank template's cells are too.
    outcome = SubmitReturn(
        user("halton_provider"), contract(HALTON), Q3, Upload("q3.xlsx", template()), True, False
    ).validate()
    assert isinstance(outcome, Refused)
    texts = [m.message for m in outcome.messages]
    assert any(text.startswith("This cell is blank") for text in texts)
    submit = next(m for m in outcome.messages if m.message.startswith("You can submit the return for"))
    assert outcome.field_of(submit) == "submit"
    assert _count(ReturnVersion) == 0
