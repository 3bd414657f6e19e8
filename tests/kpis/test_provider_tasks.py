"""The provider's task list: what they owe first (each return once, with its
status), then the next due date, then what they have sent. And the Returns
list as cards on a small screen."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from bs4 import BeautifulSoup, Tag
from flask import Flask
from flask.testing import FlaskClient

from tests.conftest import DEMO_USERS, Auth
from tests.kpis.test_returns_builders import REFUGE, contract


def soup(response: object) -> BeautifulSoup:
    return BeautifulSoup(response.get_data(as_text=True), "html.parser")  # type: ignore[attr-defined]


def tasks(html: BeautifulSoup, section: str) -> list[tuple[str, str, str]]:
    """(title, hint, status) of each task in the list after heading #section."""
    heading = html.select_one(f"#{section}")
    assert heading is not None
    task_list = heading.find_next("ul", class_="govuk-task-list")
    if not isinstance(task_list, Tag) or task_list.find_previous("h2") is not heading:
        return []
    return [
        (
            item.select_one(
                ".govuk-task-list__name-and-hint a, .govuk-task-list__name-and-hint div"
            ).get_text(" ", strip=True),  # type: ignore[union-attr]
            item.select_one(".govuk-task-list__hint").get_text(" ", strip=True),  # type: ignore[union-attr]
            item.select_one(".govuk-task-list__status").get_text(" ", strip=True),  # type: ignore[union-attr]
        )
        for item in task_list.select(".govuk-task-list__item")
    ]


def paragraph_after(html: BeautifulSoup, section: str) -> str:
    found = html.select_one(f"#{section}").find_next("p")  # type: ignore[union-attr]
    return " ".join(found.get_text().split()) if found else ""


@pytest.fixture
def refuge(frameworks: Flask, auth: Auth) -> Flask:
    assert auth.sign_in(DEMO_USERS["refuge"]).status_code == 302
    return frameworks


def test_late_and_queried_first_each_once_then_next_due_then_sent(
    refuge: Flask, client: FlaskClient, auth: Auth, add_return: Callable[..., int]
) -> None:
    # As at 2 December 2013: Q1 accepted, Q2 never sent (missing), Q3 still running.
    add_return(REFUGE, "2013-14-Q1", {"REF-RECEIVED": 38}, state="accepted")
    response = client.get("/tasks")
    assert response.status_code == 200
    html = soup(response)
    q2 = f"/contracts/{contract(REFUGE).id}/returns/2013-14-Q2"
    to_do = tasks(html, "to-do")
    assert [(title, status) for title, _, status in to_do] == [("LBBD-DV-002 return for Q2 2013/14", "Late")]
    assert "more than 10 working days ago" in to_do[0][1]
    assert html.select_one(f'#to-do ~ ul a[href="{q2}"]') is not None
    # The late return is counted once: late, not also "not yet submitted".
    assert paragraph_after(html, "to-do") == "1 return needs action."
    assert paragraph_after(html, "next-due") == "22 January 2014"
    assert paragraph_after(html, "next-due-date").startswith(
        "LBBD-DV-002 return for Q3 2013/14. The quarter ends"
    )
    assert [(title, status) for title, _, status in tasks(html, "sent")] == [
        ("LBBD-DV-002 return for Q1 2013/14", "Accepted")
    ]
    sent = html.select_one("#sent + ul").get_text(" ", strip=True)  # type: ignore[union-attr]
    assert "0 returns waiting for the commissioner to review" in sent and "1 return accepted" in sent

    # Queried by the commissioner: back on the provider's list, as queried.
    add_return(REFUGE, "2013-14-Q2", {"REF-RECEIVED": 41}, state="queried")
    html = soup(client.get("/tasks"))
    assert [(title, status) for title, _, status in tasks(html, "to-do")] == [
        ("LBBD-DV-002 return for Q2 2013/14", "Queried")
    ]
    assert "reply, or upload a corrected workbook" in tasks(html, "to-do")[0][1]

    # Only providers start here: everyone else is sent to their own home.
    auth.sign_out()
    auth.sign_in(DEMO_USERS["lbbd"])
    response = client.get("/tasks")
    assert response.status_code == 302 and response.headers["Location"] == "/"


def test_the_returns_list_stacks_and_counts_once_and_a_due_return_shows_its_date(
    refuge: Flask, client: FlaskClient
) -> None:
    html = soup(client.get("/returns"))
    table = html.select_one("table")
    assert table is not None and "app-table--stacked" in table["class"]
    headers = [th.get_text(strip=True) for th in table.select("thead th")]
    for row in table.select("tbody tr"):
        assert [cell.get("data-label") for cell in row.select("th, td")] == headers
    glance = {
        row.dt.get_text(strip=True): row.dd.get_text(" ", strip=True)  # type: ignore[union-attr]
        for row in html.select(".govuk-summary-list__row")
    }
    # Both Q1 and Q2 are late (missing): neither is also counted as merely due.
    assert glance["Due, not yet submitted"] == "0"
    assert glance["Late"].startswith("2")

    # Before the due date, a return whose quarter has ended is due, with its date.
    refuge.config["TODAY"] = "2013-07-10"  # Q1 ended on 30 June and is due on 19 July
    html = soup(client.get("/tasks"))
    assert [(title, status) for title, _, status in tasks(html, "to-do")] == [
        ("LBBD-DV-002 return for Q1 2013/14", "Due 19 July 2013")
    ]
    assert paragraph_after(html, "next-due") == "21 October 2013"
    assert paragraph_after(html, "next-due-date").startswith("LBBD-DV-002 return for Q2 2013/14.")
    assert paragraph_after(html, "sent") == "You have not sent any returns yet."
    glance = {
        row.dt.get_text(strip=True): row.dd.get_text(" ", strip=True)  # type: ignore[union-attr]
        for row in soup(client.get("/returns")).select(".govuk-summary-list__row")
    }
    assert (glance["Due, not yet submitted"], glance["Late"]) == ("1", "0")
