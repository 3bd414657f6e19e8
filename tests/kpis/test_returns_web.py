"""The return pages in a browser's shoes: download, upload, problems, warnings,
versions, comparison and the commissioner's review."""

from __future__ import annotations

import io
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path

import pytest
from bs4 import BeautifulSoup
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from monitor.db import db
from monitor.kpis.models import ReturnVersion
from monitor.kpis.returns.ingest.result import Message, Severity
from monitor.kpis.returns.views import problem_summary
from monitor.kpis.vocabulary import ReturnState
from tests.conftest import DEMO_USERS, Auth
from tests.kpis.test_returns_builders import HALTON, Q2, Q3, REFUGE, contract, refuge_workbook, stored, upload

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@pytest.fixture
def page(frameworks: Flask, client: FlaskClient, auth: Auth, tmp_path: Path) -> Callable[[str], str]:
    """`page("refuge")` signs that demo user in and returns the refuge Q1 return's address."""
    frameworks.instance_path = str(tmp_path)  # held uploads go here, not into the real instance folder

    def sign_in(who: str, reference: str = REFUGE, period: str = "2013-14-Q1") -> str:
        auth.sign_out()
        assert auth.sign_in(DEMO_USERS[who]).status_code == 302
        return f"/contracts/{contract(reference).id}/returns/{period}"

    return sign_in


def soup(response: object) -> BeautifulSoup:
    return BeautifulSoup(response.get_data(as_text=True), "html.parser")  # type: ignore[attr-defined]


def send(
    client: FlaskClient, url: str, content: bytes, *, submit: bool = True, name: str = "return.xlsx"
) -> object:
    data = {"file": (io.BytesIO(content), name), ("submit_return" if submit else "save_draft"): "y"}
    return client.post(f"{url}/upload", data=data, content_type="multipart/form-data")


def summary_items(response: object) -> list[str]:
    box = soup(response).select_one(".govuk-error-summary")
    return (
        [item.get_text(" ", strip=True) for item in box.select(".govuk-error-summary__list li")]
        if box
        else []
    )


def versions() -> int:
    return db.session.scalar(select(func.count(ReturnVersion.id))) or 0


def test_provider_sees_a_missing_return_and_how_to_send_it(
    page: Callable[..., str], client: FlaskClient
) -> None:
    url = page("refuge")
    response = client.get(url)
    assert response.status_code == 200
    html = soup(response)
    assert html.h1.get_text(strip=True) == "Return for Q1 2013/14 (April to June 2013)"
    tags = [t.get_text(strip=True) for t in html.select("p .govuk-tag")]
    assert tags == ["Not started", "Missing"]
    text = html.get_text(" ", strip=True)
    assert "1 April 2013 to 30 June 2013" in text and "19 July 2013" in text
    assert "more than 10 working days late" in text
    assert html.select_one(f'a[href="{url}/template.xlsx"]') is not None
    form = html.select_one(f'form[action="{url}/upload"]')
    assert form is not None and form["enctype"] == "multipart/form-data"
    assert [b.get_text(strip=True) for b in form.select("button")] == [
        "Check and submit",
        "Check and save as draft",
    ]
    assert html.select_one("#review") is None  # providers do not review


def test_template_download(page: Callable[..., str], client: FlaskClient) -> None:
    response = client.get(page("refuge") + "/template.xlsx")
    assert response.status_code == 200
    assert response.mimetype == XLSX
    assert response.data.startswith(b"PK\x03\x04")
    assert "LBBD-DV-002-2013-14-Q1-return.xlsx" in response.headers["Content-Disposition"]


def test_upload_and_submit_a_good_workbook(page: Callable[..., str], client: FlaskClient) -> None:
    url = page("refuge")
    response = send(client, url, refuge_workbook())
    assert response.status_code == 302 and response.headers["Location"] == url  # type: ignore[attr-defined]
    shown = client.get(url)
    html = soup(shown)
    # A confirmation panel with the reference; the upload form folds away behind
    # "Upload a corrected version", as a new version is still allowed.
    panel = html.select_one(".govuk-panel")
    assert panel is not None and panel.h1.get_text(strip=True) == "Return submitted"  # type: ignore[union-attr]
    reference = panel.select_one(".govuk-panel__body strong")
    assert reference is not None and reference.get_text(strip=True) == "LBBD-DV-002 Q1 2013/14 version 1"
    upload_form = html.select_one(f'form[action="{url}/upload"]')
    assert upload_form is not None and upload_form.find_parent("details") is not None
    assert "Upload a corrected version" in upload_form.find_parent("details").summary.get_text()  # type: ignore[union-attr]
    assert [t.get_text(strip=True) for t in html.select("p .govuk-tag")] == ["Submitted"]
    figures = html.select_one("#figures + table")
    assert figures is not None
    referrals = next(r for r in figures.select("tbody tr") if "REF-RECEIVED" in r.get_text())
    assert [c.get_text(" ", strip=True) for c in referrals.select("td")][:3] == [
        "42",
        "40",
        "Green: on target",
    ]
    versions_table = html.select_one("#versions ~ table")
    first = versions_table.select_one("tbody tr")  # type: ignore[union-attr]
    ret = stored()
    assert ret is not None
    assert ret.versions[0].sha256[:12] in first.get_text()  # type: ignore[union-attr]
    download = client.get(f"{url}/versions/1/file")
    assert download.status_code == 200 and download.data == ret.versions[0].content


def test_problems_are_listed_cell_by_cell_and_nothing_is_stored(
    page: Callable[..., str], client: FlaskClient
) -> None:
    url = page("refuge")
    # Referrals below target with no explanation, and parts that do not add up to the total.
    workbook = refuge_workbook(**{"REF-RECEIVED//total": 30, "CASELOAD//value": 10})
    response = send(client, url, workbook)
    assert response.status_code == 400
    assert versions() == 0 and stored() is None
    html = soup(response)
    assert html.title.get_text().startswith("Error: ")
    items = summary_items(response)
    assert items and all(":" in item for item in items)
    rows = html.select("#workbook-problems ~ table tbody tr")
    assert len(rows) >= len(items)
    assert rows[0]["id"] == "problem-1"
    assert html.select_one(".govuk-error-summary a")["href"] == "#problem-1"  # type: ignore[index]
    link = html.find("a", string="Download your workbook with the problems marked")
    assert link is not None
    annotated = client.get(link["href"])
    assert annotated.status_code == 200 and annotated.mimetype == XLSX
    assert annotated.data != workbook
    # The annotated copy is the uploader's alone.
    page("lbbd")
    assert client.get(link["href"]).status_code == 404


def test_error_summary_stops_at_twenty() -> None:
    messages = [
        Message("KPIs", f"H{n}", "REF-RECEIVED", Severity.ERROR, f"Problem {n}") for n in range(1, 26)
    ]
    items = problem_summary(messages)
    assert len(items) == 21
    assert items[0] == {"text": "KPIs H1: Problem 1", "href": "#problem-1"}
    assert items[-1] == {"text": "and 5 more: see the table of problems below", "href": "#workbook-problems"}


def test_warnings_are_confirmed_without_uploading_again(
    page: Callable[..., str], client: FlaskClient
) -> None:
    url = page("refuge")
    assert send(client, url, refuge_workbook()).status_code == 302  # type: ignore[attr-defined]
    # Last quarter is compared only once accepted.
    page("lbbd")
    assert client.post(f"{url}/accept", data={}).status_code == 302
    page("refuge")
    q2 = url.replace("2013-14-Q1", "2013-14-Q2")
    # Referrals up from 42 to 70 with no comment: a warning, not an error.
    jump = refuge_workbook(Q2, **{"REF-RECEIVED/Police/breakdown": 43, "REF-RECEIVED//total": 70})
    response = send(client, q2, jump)
    assert response.status_code == 200
    html = soup(response)
    assert html.select_one("#warnings") is not None
    assert "REF-RECEIVED" in html.select_one("#warnings ~ table").get_text()  # type: ignore[union-attr]
    assert versions() == 1
    token = html.select_one('input[name="token"]')["value"]  # type: ignore[index]
    unticked = client.post(f"{q2}/confirm", data={"token": token})
    assert unticked.status_code == 400
    assert "Confirm that you have read the warnings" in summary_items(unticked)[0]
    confirmed = client.post(f"{q2}/confirm", data={"token": token, "acknowledge": "y"})
    assert confirmed.status_code == 302
    ret = stored(quarter=Q2)
    assert ret is not None and ret.state == ReturnState.SUBMITTED
    assert ret.versions[0].warnings_acknowledged and ret.versions[0].content == jump
    again = client.post(f"{q2}/confirm", data={"token": token, "acknowledge": "y"})
    assert again.status_code == 400
    assert "expired or was already saved" in summary_items(again)[0]


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        # What the file really is comes from the staged checks (issue 11), not a pre-check.
        ("figures.csv", b"a,b\n1,2\n", "This is a CSV (comma-separated text) file, not an Excel workbook"),
        ("return.xlsx", b"not a zip at all", "This is a text file, not an Excel workbook"),
        # Over the limit: refused by the command in the words every channel gives, unread past the limit.
        ("return.xlsx", b"PK\x03\x04" + b"x" * 2000, "The file is larger than the 1 KB we accept."),
    ],
)
def test_file_checks_before_reading(
    page: Callable[..., str], client: FlaskClient, frameworks: Flask, name: str, content: bytes, message: str
) -> None:
    frameworks.config["MAX_UPLOAD_BYTES"] = 1000
    response = send(client, page("refuge"), content, name=name)
    assert response.status_code == 400  # type: ignore[attr-defined]
    assert summary_items(response)[0].startswith(message)
    assert versions() == 0


def test_no_file_chosen(page: Callable[..., str], client: FlaskClient) -> None:
    response = client.post(
        page("refuge") + "/upload", data={"submit_return": "y"}, content_type="multipart/form-data"
    )
    assert response.status_code == 400
    assert summary_items(response) == ["Select the completed return workbook (.xlsx) to upload"]


def test_a_draft_before_the_quarter_ends(page: Callable[..., str], client: FlaskClient) -> None:
    url = page("halton_provider", HALTON, "2013-14-Q3")
    html = soup(client.get(url))
    assert "You can save a draft now and submit the return from 1 January 2014" in html.get_text(
        " ", strip=True
    )
    form = html.select_one(f'form[action="{url}/upload"]')
    assert [b.get_text(strip=True) for b in form.select("button")] == ["Check and save as draft"]  # type: ignore[union-attr]
    from tests.kpis.fixtures.workbooks import fill, template

    response = send(client, url, fill(template()), submit=False)
    assert response.status_code == 302  # type: ignore[attr-defined]
    shown = soup(client.get(url))
    assert "Draft saved as version 1" in shown.get_text(" ", strip=True)
    assert shown.select_one("#outcomes") is not None  # the outcome measures partial
    values = {v.kpi.code: v.value for v in stored(HALTON, Q3).versions[0].values if not v.breakdown}  # type: ignore[union-attr]
    assert values["SDQ-IMPROVED"] == Decimal("50.0")  # worked out from the outcome scores


def test_review_query_accept_and_reopen(page: Callable[..., str], client: FlaskClient) -> None:
    url = page("refuge")
    send(client, url, refuge_workbook())
    url = page("lbbd")
    html = soup(client.get(url))
    assert html.select_one("#review") is not None
    # The review page's one decision form carries the revision the reviewer saw.
    revision = html.select_one('input[name="revision"]')["value"]  # type: ignore[index]
    empty = client.post(f"{url}/query", data={"query-comment": "", "query-revision": revision})
    assert empty.status_code == 400
    assert summary_items(empty) == ["Enter a comment telling the provider what to check or correct"]
    comment = "Police referrals look high against the MASH log; please check."
    assert (
        client.post(f"{url}/query", data={"query-comment": comment, "query-revision": revision}).status_code
        == 302
    )
    # The provider sees the comment.
    provider_view = soup(client.get(page("refuge")))
    banner = provider_view.select_one(".govuk-notification-banner")
    assert banner is not None and comment in banner.get_text()
    send(client, url, refuge_workbook(**{"REF-RECEIVED/Police/breakdown": 14, "REF-RECEIVED//total": 41}))
    url = page("ccg")
    html = soup(client.get(url))
    revision = html.select_one('input[name="revision"]')["value"]  # type: ignore[index]
    assert client.post(f"{url}/accept", data={"accept-revision": revision}).status_code == 302
    assert stored().state == ReturnState.ACCEPTED  # type: ignore[union-attr]
    locked = soup(client.get(url))
    assert locked.select_one(f'form[action="{url}/upload"]') is None
    no_reason = client.post(f"{url}/reopen", data={"reopen-reason": "  "})
    assert no_reason.status_code == 400
    assert client.post(f"{url}/reopen", data={"reopen-reason": "Caseload restated"}).status_code == 302
    assert stored().state == ReturnState.QUERIED  # type: ignore[union-attr]
    history = soup(client.get(url)).select_one("#history ~ table")
    kinds = [row.select("td")[1].get_text(strip=True) for row in history.select("tbody tr")]  # type: ignore[union-attr]
    assert kinds == [
        "Submitted (version 1)",
        "Queried (version 1)",
        "Resubmitted (version 2)",
        "Accepted (version 2)",
        "Reopened (version 2)",
    ]


def test_a_stale_page_cannot_accept(page: Callable[..., str], client: FlaskClient) -> None:
    url = page("refuge")
    send(client, url, refuge_workbook())
    page("lbbd")
    html = soup(client.get(url))
    revision = html.select_one('input[name="revision"]')["value"]  # type: ignore[index]
    upload("lbbd", content=b"PK\x03\x04 corrected")  # someone uploads again meanwhile
    response = client.post(f"{url}/accept", data={"accept-revision": revision})
    assert response.status_code == 409
    assert summary_items(response) == [
        "Another version of this return was saved at the same moment; reload the page and check it"
    ]
    assert stored().state == ReturnState.SUBMITTED  # type: ignore[union-attr]


def test_compare_two_versions(page: Callable[..., str], client: FlaskClient) -> None:
    url = page("refuge")
    send(client, url, refuge_workbook(), submit=False)
    send(client, url, refuge_workbook(**{"REF-RECEIVED/Police/breakdown": 20, "REF-RECEIVED//total": 47}))
    response = client.get(f"{url}/compare?a=1&b=2")
    assert response.status_code == 200
    rows = {
        tuple(cell.get_text(" ", strip=True) for cell in row.select("th, td")[:2]): [
            cell.get_text(" ", strip=True) for cell in row.select("td")[1:]
        ]
        for row in soup(response).select("table tbody tr")
    }
    assert rows[("REF-RECEIVED: Referrals received", "Total")] == ["42", "47", "+5"]
    assert rows[("REF-RECEIVED: Referrals received", "Police")] == ["15", "20", "+5"]
    assert rows[("CASELOAD: Active caseload", "Total")][-1] == "No change"
    # Stacked on small screens: every cell names its column.
    table = soup(response).select_one("table.app-table--stacked")
    assert table is not None and all(c.get("data-label") for c in table.select("tbody th, tbody td"))
    assert client.get(f"{url}/compare?a=1&b=9").status_code == 400
    assert client.get(f"{url}/compare?a=x").status_code == 400


def test_contract_returns_list(page: Callable[..., str], client: FlaskClient) -> None:
    page("halton")
    response = client.get(f"/contracts/{contract(HALTON).id}/returns")
    assert response.status_code == 200
    rows = soup(response).select("table tbody tr")
    assert len(rows) == 1
    assert "Q3 2013/14 (October to December 2013)" in rows[0].get_text()
    assert "Quarter in progress: not due yet" in rows[0].get_text()
    page("lbbd")
    text = soup(client.get(f"/contracts/{contract(REFUGE).id}/returns")).get_text(" ", strip=True)
    assert "Q2 2013/14 (July to September 2013)" in text and "Missing" in text


def test_calendar_counts_and_filters(page: Callable[..., str], client: FlaskClient) -> None:
    url = page("refuge")
    send(client, url, refuge_workbook())
    page("lbbd")
    response = client.get("/returns")
    assert response.status_code == 200
    html = soup(response)
    glance = {
        row.dt.get_text(strip=True): row.dd.get_text(" ", strip=True)
        for row in html.select(".govuk-summary-list__row")
    }
    # Each return counted once: the one not submitted is late, so it is not also "due".
    assert glance["Due, not yet submitted"] == "0"
    assert glance["Late"] == "1, of which 1 missing (more than 10 working days late)"
    assert glance["Waiting for a commissioner to review"] == "1"
    headers = [th.get_text(strip=True) for th in html.select("table thead th")]
    assert headers == ["Contract", "Provider", "Quarter", "Due date", "State"]
    assert len(html.select("table tbody tr")) == 2
    missing = soup(client.get("/returns?state=missing"))
    assert [r.select("td")[1].get_text(strip=True) for r in missing.select("table tbody tr")] == [
        "Q2 2013/14 (July to September 2013)"
    ]
    by_quarter = soup(client.get("/returns?quarter=2013-14-Q1"))
    assert len(by_quarter.select("table tbody tr")) == 1
    bad = client.get("/returns?quarter=Q1&state=lost")
    assert bad.status_code == 400
    assert summary_items(bad) == [
        "Choose a state from the list",
        "Write the quarter as the financial year and quarter, like 2013-14-Q3",
    ]


def test_boards_see_state_but_not_figures_or_files(
    page: Callable[..., str], client: FlaskClient, tmp_path: Path
) -> None:
    url = page("refuge")
    send(client, url, refuge_workbook())
    url = page("bd_board")
    response = client.get(url)
    assert response.status_code == 200
    html = soup(response)
    assert html.select_one("#figures") is None
    assert html.select_one(f'form[action="{url}/upload"]') is None
    assert "performance pages, where small numbers are suppressed" in html.get_text(" ", strip=True)
    assert client.get(f"{url}/versions/1/file").status_code == 403
    assert client.get(f"{url}/compare").status_code == 403


def test_template_for_a_quarter_without_kpis(page: Callable[..., str], client: FlaskClient) -> None:
    from tests.kpis.fixtures.workbooks import add_return

    # A return stored for a quarter before the framework began (loaded from an older system, say).
    add_return(REFUGE, "2012-13-Q4", {})
    url = page("refuge", period="2012-13-Q4")
    response = client.get(f"{url}/template.xlsx")
    assert response.status_code == 400
    assert "has no KPIs in force" in summary_items(response)[0]
