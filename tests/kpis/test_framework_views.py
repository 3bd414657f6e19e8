"""The framework pages: reading a contract's framework, and adding, changing
and ending items through the forms."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from bs4 import BeautifulSoup
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from monitor.db import db
from monitor.kpis.models import FrameworkItem, Kpi
from tests.conftest import DEMO_USERS, Auth
from tests.kpis.test_library_admin import errors_on

HALTON = "HBC-CYP-DA-01"


def soup_of(response: Any) -> BeautifulSoup:
    return BeautifulSoup(response.get_data(as_text=True), "html.parser")


def items(contract: int, code: str) -> list[FrameworkItem]:
    query = (
        select(FrameworkItem)
        .join(Kpi)
        .where(FrameworkItem.contract_id == contract, Kpi.code == code)
        .order_by(FrameworkItem.effective_from)
    )
    return list(db.session.scalars(query))


def kpi_id(code: str) -> int:
    return db.session.execute(select(Kpi.id).where(Kpi.code == code)).scalar_one()


def test_the_framework_page_groups_items_by_period(
    frameworks: Flask, client: FlaskClient, auth: Auth, contract_id: Callable[[str], int]
) -> None:
    auth.sign_in(DEMO_USERS["halton"])
    halton = contract_id(HALTON)
    soup = soup_of(client.get(f"/contracts/{halton}/framework"))
    table = soup.select_one("table#period-2013-14-Q3-onwards")
    assert table is not None and table.caption is not None
    caption = table.caption.get_text(" ", strip=True)
    assert "From Q3 2013/14 (October 2013) onwards" in caption and "In force now" in caption
    assert [th.get_text(strip=True) for th in table.select("thead th")][:5] == [
        "KPI",
        "Target",
        "Per",
        "Amber tolerance",
        "Better when",
    ]
    row = next(tr for tr in table.select("tbody tr") if "Contacted within two working days" in tr.get_text())
    cells = [td.get_text(" ", strip=True) for td in row.select("td")]
    assert cells[:4] == ["90%", "quarter", "10%", "Higher"]
    assert "No target" in table.get_text()  # CP-CIN-SUPPORTED is monitored, not rated
    assert soup.find("a", string="Add a KPI") is not None
    assert len(soup.select("a[href$='/change']")) == 8


def test_readers_see_the_framework_without_the_controls(
    frameworks: Flask, client: FlaskClient, auth: Auth, contract_id: Callable[[str], int]
) -> None:
    auth.sign_in(DEMO_USERS["halton_provider"])
    soup = soup_of(client.get(f"/contracts/{contract_id(HALTON)}/framework"))
    assert "Contacted within two working days" in soup.get_text()
    assert soup.find("a", string="Add a KPI") is None and not soup.select("a[href$='/change']")


def test_an_empty_framework_says_so(
    library: Flask, client: FlaskClient, auth: Auth, contract_id: Callable[[str], int]
) -> None:
    auth.sign_in(DEMO_USERS["halton"])
    soup = soup_of(client.get(f"/contracts/{contract_id(HALTON)}/framework"))
    assert soup.select_one("#empty-framework") is not None


def test_adding_an_item_through_the_form(
    frameworks: Flask, client: FlaskClient, auth: Auth, contract_id: Callable[[str], int]
) -> None:
    auth.sign_in(DEMO_USERS["halton"])
    halton = contract_id(HALTON)
    form = soup_of(client.get(f"/contracts/{halton}/framework/new"))
    first = form.select_one("input#effective_from")
    assert first is not None and first["value"] == "2013-14-Q3"  # today's quarter, the contract's first
    tolerance = form.select_one("input#amber_tolerance_pct")
    assert tolerance is not None and tolerance["value"] == "10"
    response = client.post(
        f"/contracts/{halton}/framework/new",
        data={
            "kpi_id": str(kpi_id("WAIT-DAYS")),
            "target": "5",
            "target_basis": "quarter",
            "amber_tolerance_pct": "20",
            "direction": "",
            "effective_from": "2013-14-Q4",
            "effective_to": "",
        },
    )
    assert response.status_code == 302
    (added,) = items(halton, "WAIT-DAYS")
    assert (added.effective_from, added.effective_direction) == ("2013-14-Q4", "lower is better")


def test_form_errors_use_the_error_summary(
    frameworks: Flask, client: FlaskClient, auth: Auth, contract_id: Callable[[str], int]
) -> None:
    auth.sign_in(DEMO_USERS["halton"])
    halton = contract_id(HALTON)
    response = client.post(
        f"/contracts/{halton}/framework/new",
        data={"kpi_id": str(kpi_id("WAIT-DAYS")), "target": "five", "effective_from": "Q4 2013/14"},
    )
    assert response.status_code == 400
    errors = errors_on(response.get_data(as_text=True))
    assert errors == {"target": "Enter the target as a number, like 30 or 87.5"}
    response = client.post(
        f"/contracts/{halton}/framework/new",
        data={"kpi_id": str(kpi_id("WAIT-DAYS")), "target": "5", "effective_from": "Q4 2013/14"},
    )
    assert errors_on(response.get_data(as_text=True)) == {
        "effective_from": "Write the quarter like 2013-14-Q3"
    }
    assert items(halton, "WAIT-DAYS") == []


def test_changing_a_target_from_a_quarter(
    frameworks: Flask, client: FlaskClient, auth: Auth, contract_id: Callable[[str], int]
) -> None:
    auth.sign_in(DEMO_USERS["halton"])
    halton = contract_id(HALTON)
    (old,) = items(halton, "REF-RECEIVED")
    page = soup_of(client.get(f"/contracts/{halton}/framework/{old.id}/change"))
    target = page.select_one("input#target")
    assert target is not None and target["value"] == "30"
    response = client.post(
        f"/contracts/{halton}/framework/{old.id}/change",
        data={
            "target": "36",
            "target_basis": "quarter",
            "amber_tolerance_pct": "10",
            "from_quarter": "2014-15-Q1",
        },
    )
    assert response.status_code == 302
    db.session.expire_all()
    assert [(i.target, i.effective_from, i.effective_to) for i in items(halton, "REF-RECEIVED")] == [
        (30, "2013-14-Q3", "2013-14-Q4"),
        (36, "2014-15-Q1", None),
    ]
    soup = soup_of(client.get(f"/contracts/{halton}/framework"))
    assert soup.select_one("table#period-2014-15-Q1-onwards") is not None
    earlier = soup.select_one("table#period-2013-14-Q3-2013-14-Q4")
    assert earlier is not None and earlier.caption is not None
    assert "Q3 2013/14 to Q4 2013/14" in earlier.caption.get_text()


def test_ending_an_item_through_the_form(
    frameworks: Flask, client: FlaskClient, auth: Auth, contract_id: Callable[[str], int]
) -> None:
    auth.sign_in(DEMO_USERS["halton"])
    halton = contract_id(HALTON)
    (old,) = items(halton, "CP-CIN-SUPPORTED")
    bad = client.post(f"/contracts/{halton}/framework/{old.id}/end", data={"effective_to": "2013-14-Q2"})
    assert bad.status_code == 400
    assert "the last quarter cannot be before then" in errors_on(bad.get_data(as_text=True))["effective_to"]
    response = client.post(f"/contracts/{halton}/framework/{old.id}/end", data={"effective_to": "2013-14-Q4"})
    assert response.status_code == 302
    db.session.expire_all()
    assert [i.effective_to for i in items(halton, "CP-CIN-SUPPORTED")] == ["2013-14-Q4"]


def test_an_item_of_another_contract_is_not_found(
    frameworks: Flask, client: FlaskClient, auth: Auth, contract_id: Callable[[str], int]
) -> None:
    auth.sign_in(DEMO_USERS["halton"])
    (refuge_item,) = items(contract_id("LBBD-DV-002"), "REF-RECEIVED")
    halton = contract_id(HALTON)
    for action in ("change", "end"):
        assert client.get(f"/contracts/{halton}/framework/{refuge_item.id}/{action}").status_code == 404
