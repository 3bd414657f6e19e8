"""The Dashboards pages and the guest-token endpoint, with Superset replaced or unreachable."""

from __future__ import annotations

import re
from typing import Any

import pytest
from bs4 import BeautifulSoup
from flask import Flask, g
from flask.testing import FlaskClient
from sqlalchemy import select

from monitor.auth.models import Organisation, Partnership, User
from monitor.dashboards.catalogue import DASHBOARDS
from monitor.dashboards.tokens import ISSUER_KEY
from monitor.db import db
from tests.conftest import DEMO_USERS, Auth
from tests.dashboards.conftest import FakeIssuer

SLUG = "board-performance"


def org_id(name: str) -> int:
    return db.session.execute(select(Organisation.id).where(Organisation.name == name)).scalar_one()


def partnership_id(name: str) -> int:
    return db.session.execute(select(Partnership.id).where(Partnership.name == name)).scalar_one()


def user_id(email: str) -> int:
    return db.session.execute(select(User.id).where(User.email == email)).scalar_one()


def page(response: Any) -> BeautifulSoup:
    return BeautifulSoup(response.get_data(as_text=True), "html.parser")


def text_of(response: Any) -> str:
    return " ".join(page(response).get_text(" ").split())


def test_commissioner_lists_dashboards_for_own_contracts(
    issuer: FakeIssuer, client: FlaskClient, auth: Auth
) -> None:
    auth.sign_in(DEMO_USERS["lbbd"])
    response = client.get("/dashboards")
    assert response.status_code == 200
    html = page(response)
    links = [(a.get_text(strip=True), a["href"]) for a in html.select("#dashboard-list a")]
    assert links == [(d.title, f"/dashboards/{d.slug}") for d in DASHBOARDS]
    note = text_of(response)
    assert "London Borough of Barking and Dagenham's own contracts are not suppressed" in note
    for marker in ("[c]", "[x]", "[z]"):
        assert marker in html.select_one("#markers").get_text()
    nav = [a.get_text(strip=True) for a in html.select(".govuk-service-navigation__link")]
    assert "Dashboards" in nav
    assert issuer.issued == []  # listing asks Superset for nothing


def test_dashboard_page_embeds_through_the_script_only(
    issuer: FakeIssuer, client: FlaskClient, auth: Auth
) -> None:
    auth.sign_in(DEMO_USERS["lbbd"])
    response = client.get(f"/dashboards/{SLUG}")
    assert response.status_code == 200
    html = page(response)
    assert html.h1.get_text(strip=True) == "Board performance overview"
    mount = html.select_one("#dashboard-mount")
    assert mount["data-token-url"] == f"/dashboards/{SLUG}/guest-token"
    assert mount["data-viewer"] == ""  # a commissioner's viewer comes from the server, not the page
    assert mount["data-iframe-title"] == (
        "Board performance overview dashboard for London Borough of Barking and Dagenham"
    )
    scripts = html.find_all("script")
    nonce = re.search(r"'nonce-([^']+)'", response.headers["Content-Security-Policy"])
    inline = [s for s in scripts if not s.get("src")]
    # Only GOV.UK Frontend's own one-line script runs inline (under the nonce); embedding is external.
    assert nonce and all(s.get("nonce") == nonce.group(1) and "embed" not in s.get_text() for s in inline)
    assert {s.get("src") for s in scripts} >= {
        "/static/js/superset-embedded-sdk.js",
        "/static/js/dashboards.js",
    }
    csp = response.headers["Content-Security-Policy"]
    assert "frame-src 'self' http://superset.test:8088;" in csp
    assert "frame-ancestors 'none'" in csp and "unsafe-inline" not in csp
    assert "not suppressed" in text_of(response)


def test_only_the_dashboard_page_may_frame_superset(
    issuer: FakeIssuer, client: FlaskClient, auth: Auth
) -> None:
    auth.sign_in(DEMO_USERS["lbbd"])
    for url in ["/dashboards", "/contracts"]:
        assert "superset.test" not in client.get(url).headers["Content-Security-Policy"], url


def test_commissioner_token_is_for_own_organisation_whatever_is_asked(
    issuer: FakeIssuer, client: FlaskClient, auth: Auth
) -> None:
    auth.sign_in(DEMO_USERS["lbbd"])
    lbbd = org_id("London Borough of Barking and Dagenham")
    westminster = org_id("Westminster City Council")
    for asked in [None, f"organisation:{westminster}", "partnership:1", "organisation:1' OR '1'='1"]:
        response = client.post(f"/dashboards/{SLUG}/guest-token", data={"viewer": asked} if asked else {})
        assert response.status_code == 200, asked
        assert response.json == {
            "token": f"token-for-organisation:{lbbd}",
            "dashboardId": f"embed-{SLUG}",
            "supersetDomain": "http://superset.test:8088",
        }
    me = user_id(DEMO_USERS["lbbd"])
    assert issuer.issued == [(SLUG, f"organisation:{lbbd}", me)] * 4


def test_board_sees_suppressed_partnership_figures(
    issuer: FakeIssuer, client: FlaskClient, auth: Auth
) -> None:
    auth.sign_in(DEMO_USERS["bd_board"])
    board = partnership_id("Barking and Dagenham Health and Wellbeing Board")
    listing = text_of(client.get("/dashboards"))
    assert "Figures for Barking and Dagenham Health and Wellbeing Board are suppressed" in listing
    assert "counts from 1 to 4 are shown as [c]" in listing
    response = client.post("/dashboards/outcomes/guest-token")
    assert response.status_code == 200
    assert issuer.issued == [("outcomes", f"partnership:{board}", user_id(DEMO_USERS["bd_board"]))]


@pytest.mark.parametrize("role", ["refuge", "halton_provider"])
def test_providers_get_no_dashboards_and_are_told_why(
    issuer: FakeIssuer, client: FlaskClient, auth: Auth, role: str
) -> None:
    auth.sign_in(DEMO_USERS[role])
    for url in ["/dashboards", f"/dashboards/{SLUG}"]:
        response = client.get(url)
        assert response.status_code == 403, url
        assert "Dashboards are for commissioners and boards" in text_of(response)
        assert "dashboard-mount" not in response.get_data(as_text=True)
    token = client.post(f"/dashboards/{SLUG}/guest-token", data={"viewer": "partnership:1"})
    assert token.status_code == 403
    assert "Dashboards are for commissioners and boards" in token.json["message"]
    assert issuer.issued == []
    nav = [
        a.get_text(strip=True)
        for a in page(client.get("/contracts")).select(".govuk-service-navigation__link")
    ]
    assert "Dashboards" not in nav


def test_admin_chooses_a_viewer_from_the_database(
    issuer: FakeIssuer, client: FlaskClient, auth: Auth
) -> None:
    auth.sign_in(DEMO_USERS["admin"])
    listing = page(client.get("/dashboards"))
    options = {o["value"]: o.get_text(strip=True) for o in listing.select("select#viewer option")}
    halton = org_id("Halton Borough Council")
    forum = partnership_id("Halton Domestic Abuse Forum")
    assert options[f"organisation:{halton}"] == "Halton Borough Council (own contracts: not suppressed)"
    assert options[f"partnership:{forum}"] == "Halton Domestic Abuse Forum (board: suppressed)"
    refuge = org_id("Refuge")
    assert f"organisation:{refuge}" not in options, "providers are not viewers"
    # Until a viewer is chosen nothing is embedded.
    unchosen = client.get(f"/dashboards/{SLUG}")
    assert unchosen.status_code == 200 and page(unchosen).select_one("#dashboard-mount") is None
    chosen = client.get(f"/dashboards/{SLUG}", query_string={"viewer": f"partnership:{forum}"})
    assert chosen.status_code == 200
    assert page(chosen).select_one("#dashboard-mount")["data-viewer"] == f"partnership:{forum}"
    assert "Halton Domestic Abuse Forum are suppressed" in text_of(chosen)
    links = [
        a["href"]
        for a in page(client.get("/dashboards", query_string={"viewer": f"partnership:{forum}"})).select(
            "#dashboard-list a"
        )
    ]
    assert links[0] == f"/dashboards/{DASHBOARDS[0].slug}?viewer=partnership:{forum}"
    response = client.post(f"/dashboards/{SLUG}/guest-token", data={"viewer": f"organisation:{halton}"})
    assert response.status_code == 200
    assert issuer.issued == [(SLUG, f"organisation:{halton}", user_id(DEMO_USERS["admin"]))]


@pytest.mark.parametrize(
    "asked", ["", "organisation:999999", "organisation:1' OR '1'='1", "provider:1", "refuge"]
)
def test_admin_cannot_ask_for_a_viewer_outside_the_choices(
    issuer: FakeIssuer, client: FlaskClient, auth: Auth, asked: str
) -> None:
    auth.sign_in(DEMO_USERS["admin"])
    if asked == "refuge":
        asked = f"organisation:{org_id('Refuge')}"  # a provider, not a commissioner
    response = client.post(f"/dashboards/{SLUG}/guest-token", data={"viewer": asked})
    assert response.status_code == 400
    assert response.json == {"message": "Choose an organisation or board from the list"}
    assert issuer.issued == []
    if asked:
        shown = client.get(f"/dashboards/{SLUG}", query_string={"viewer": asked})
        assert shown.status_code == 400
        assert "Choose an organisation or board from the list" in text_of(shown)
        assert page(shown).select_one("#dashboard-mount") is None


def test_unknown_dashboard_is_not_found(issuer: FakeIssuer, client: FlaskClient, auth: Auth) -> None:
    auth.sign_in(DEMO_USERS["lbbd"])
    assert client.get("/dashboards/sql-lab").status_code == 404
    response = client.post("/dashboards/sql-lab/guest-token")
    assert (
        response.status_code == 404 and response.json["message"] == "There is no dashboard at this address."
    )
    assert issuer.issued == []


def test_superset_down_is_said_plainly(issuer: FakeIssuer, client: FlaskClient, auth: Auth) -> None:
    issuer.up = False
    auth.sign_in(DEMO_USERS["lbbd"])
    response = client.get(f"/dashboards/{SLUG}")
    assert response.status_code == 503
    assert "The dashboard cannot be shown" in text_of(response)
    assert "dashboard service is not responding" in text_of(response)
    assert page(response).select_one("#dashboard-mount") is None
    assert "For administrators" not in text_of(response)
    token = client.post(f"/dashboards/{SLUG}/guest-token")
    assert token.status_code == 503 and token.json == {"message": "Superset is down (fake)"}


def _real_issuer(demo: Flask, **config: str) -> None:
    demo.extensions.pop(ISSUER_KEY, None)
    demo.config.update(config)


def test_unreachable_superset_with_the_real_client(demo: Flask, client: FlaskClient, auth: Auth) -> None:
    # Nothing listens on port 9 (discard) here: the connection is refused at once.
    _real_issuer(
        demo,
        SUPERSET_URL="http://127.0.0.1:9",
        SUPERSET_PUBLIC_URL="http://127.0.0.1:9",
        SUPERSET_PASSWORD="anything",
    )
    auth.sign_in(DEMO_USERS["lbbd"])
    response = client.get(f"/dashboards/{SLUG}")
    assert response.status_code == 503
    assert "dashboard service is not responding" in text_of(response)
    token = client.post(f"/dashboards/{SLUG}/guest-token")
    assert token.status_code == 503
    assert token.json["message"].startswith("The dashboards are not available at the moment")
    assert "127.0.0.1:9" not in token.json["message"], "people get no addresses; the log has them"
    auth.sign_out()
    auth.sign_in(DEMO_USERS["admin"])
    forum = partnership_id("Halton Domestic Abuse Forum")
    admin = client.post(f"/dashboards/{SLUG}/guest-token", data={"viewer": f"partnership:{forum}"})
    assert admin.status_code == 503 and "not reachable at http://127.0.0.1:9" in admin.json["message"]
    shown = client.get(f"/dashboards/{SLUG}", query_string={"viewer": f"partnership:{forum}"})
    assert "For administrators: Superset did not answer its health check" in text_of(shown)


def test_superset_not_configured(demo: Flask, client: FlaskClient, auth: Auth) -> None:
    _real_issuer(demo, SUPERSET_PASSWORD="")
    auth.sign_in(DEMO_USERS["bd_board"])
    response = client.get(f"/dashboards/{SLUG}")
    assert response.status_code == 503
    token = client.post(f"/dashboards/{SLUG}/guest-token")
    assert token.status_code == 503 and token.json["message"] == (
        "The dashboards are not set up yet. Tell your administrator."
    )


def test_guest_token_needs_the_csrf_token(issuer: FakeIssuer, demo: Flask) -> None:
    demo.config["WTF_CSRF_ENABLED"] = True
    client = demo.test_client()
    sign_in_page = page(client.get("/sign-in"))
    client.post(
        "/sign-in",
        data={
            "email": DEMO_USERS["lbbd"],
            "password": "demo-password-2013",
            "csrf_token": sign_in_page.select_one("input[name=csrf_token]")["value"],
        },
    )
    refused = client.post(f"/dashboards/{SLUG}/guest-token")
    assert refused.status_code == 400 and issuer.issued == []
    # The test's app context outlives each request, and Flask-WTF caches the
    # token in `g`: drop the one made before sign-in cleared the session.
    g.pop("csrf_token", None)
    csrf = page(client.get(f"/dashboards/{SLUG}")).select_one("#dashboard-mount")["data-csrf-token"]
    accepted = client.post(f"/dashboards/{SLUG}/guest-token", headers={"X-CSRFToken": csrf})
    assert accepted.status_code == 200 and len(issuer.issued) == 1


def test_signed_out_gets_no_token(issuer: FakeIssuer, client: FlaskClient) -> None:
    response = client.post(f"/dashboards/{SLUG}/guest-token")
    assert response.status_code == 302 and response.headers["Location"].startswith("/sign-in")
    assert issuer.issued == []
    assert not re.search(r"token-for", response.get_data(as_text=True))


def test_superset_under_a_path(issuer: FakeIssuer, demo: Flask, client: FlaskClient, auth: Auth) -> None:
    demo.config["SUPERSET_PUBLIC_URL"] = "https://bi.example.org/superset/"
    auth.sign_in(DEMO_USERS["halton"])
    csp = client.get(f"/dashboards/{SLUG}").headers["Content-Security-Policy"]
    assert "frame-src 'self' https://bi.example.org;" in csp
    token = client.post(f"/dashboards/{SLUG}/guest-token")
    assert token.json["supersetDomain"] == "https://bi.example.org/superset"
