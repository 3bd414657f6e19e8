"""Every web route, requested as every role, including other organisations' ids.

Expectations come from the table below (who commissions, provides and
oversees each demo contract), not from the permission code under test.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from monitor.audit import AuditEvent
from monitor.auth.models import ApiToken, Organisation, User
from monitor.auth.services import issue_api_token
from monitor.contracts.models import Contract
from monitor.db import db
from monitor.reports.models import PartnershipMeeting
from tests.conftest import DEMO_USERS, Auth

READERS = {
    "LBBD-DV-002": {"admin", "lbbd", "ccg", "refuge", "refuge_admin", "bd_board"},
    "HBC-CYP-DA-01": {"admin", "halton", "halton_provider", "halton_board"},
    "TRI-VAWG-01": {"admin", "westminster"},
}
CHANGERS = {
    "LBBD-DV-002": {"lbbd", "ccg"},
    "HBC-CYP-DA-01": {"halton"},
    "TRI-VAWG-01": {"westminster"},
}

# (method, url template) for routes about one contract; {c} contract, {line} a funding line,
# {option} an option, {amendment} an amendment.
CONTRACT_READ_ROUTES = [
    ("GET", "/contracts/{c}"),
    ("GET", "/contracts/{c}/ocds.json"),
    ("GET", "/contracts/{c}/360giving.json"),
]
# Open data downloads answer 422 (the contract page with what is missing) to a
# reader when the contract cannot be published that way, like a contract as 360Giving.
OPEN_DATA_ROUTES = {("GET", "/contracts/{c}/ocds.json"), ("GET", "/contracts/{c}/360giving.json")}
CONTRACT_CHANGE_ROUTES = [
    ("GET", "/contracts/{c}/edit"),
    ("POST", "/contracts/{c}/edit"),
    ("GET", "/contracts/{c}/extend"),
    ("POST", "/contracts/{c}/extend"),
    ("GET", "/contracts/{c}/extend/check"),
    ("POST", "/contracts/{c}/extend/check"),
    ("GET", "/contracts/{c}/amendments/check"),
    ("POST", "/contracts/{c}/amendments/check"),
    ("GET", "/contracts/{c}/options/{option}/decline"),
    ("GET", "/contracts/{c}/amendments/new"),
    ("POST", "/contracts/{c}/amendments/new"),
    ("GET", "/contracts/{c}/amendments/{amendment}/correct"),
    ("POST", "/contracts/{c}/amendments/{amendment}/correct"),
    ("GET", "/contracts/{c}/funding/new"),
    ("POST", "/contracts/{c}/funding/new"),
    ("GET", "/contracts/{c}/funding/{line}/edit"),
    ("POST", "/contracts/{c}/funding/{line}/edit"),
    ("POST", "/contracts/{c}/funding/{line}/delete"),
    ("POST", "/contracts/{c}/options/{option}/decline"),
    ("GET", "/contracts/{c}/milestones/new"),
    ("POST", "/contracts/{c}/milestones/new"),
]
# A contract's change history: its commissioners (those who may change it) and admins.
AUDIT_ROUTES = [("GET", "/contracts/{c}/history")]
LIST_ROUTES = [
    "/",
    "/contracts",
    "/renewals",
    "/decisions",
    "/funding",
    "/contracts/export.xlsx",
    "/funding/export.xlsx",
]
ADMIN_ROUTES = [
    ("GET", "/admin"),
    ("GET", "/admin/organisations"),
    ("POST", "/admin/organisations"),
    ("POST", "/admin/partnerships"),
    # The old Users page: a permanent redirect to People, for admins only.
    ("GET", "/admin/users"),
    # Single sign-on settings for an organisation ({organisation}).
    ("GET", "/admin/organisations/{organisation}/sign-in"),
    ("POST", "/admin/organisations/{organisation}/sign-in"),
    # {partnership} a demo partnership, {meeting} one of its meetings.
    ("GET", "/admin/partnerships/{partnership}/meetings"),
    ("POST", "/admin/partnerships/{partnership}/meetings"),
    ("GET", "/admin/partnerships/{partnership}/meetings/{meeting}/remove"),
    ("POST", "/admin/partnerships/{partnership}/meetings/{meeting}/remove"),
]
OTHER_ROUTES = [("GET", "/contracts/new"), ("POST", "/contracts/new")]
# The board pack: commissioners get their own organisation's, board users their own
# partnership's, administrators any; providers none. Its full matrix is in tests/reports.
REPORT_ROUTES = ["/reports/board-pack", "/reports/board-pack.xlsx"]
# Dashboards: commissioners, boards and admins; never providers. {slug} is a dashboard's slug.
DASHBOARD_ROUTES = [
    ("GET", "/dashboards"),
    ("GET", "/dashboards/{slug}"),
    ("POST", "/dashboards/{slug}/guest-token"),
]
DASHBOARD_VIEWERS = {"admin", "lbbd", "ccg", "halton", "westminster", "bd_board", "halton_board"}
PUBLIC = {"/sign-in", "/static/<path:filename>", "/healthz"}

# Managing people ({person} a demo person, {token} one of their API tokens):
# admins manage everyone; an organisation admin (refuge_admin) only their own
# organisation's people, everyone else is 404 to them; anybody else gets 403.
PEOPLE_ROUTES = [
    ("GET", "/people"),
    ("GET", "/people/invite"),
    ("POST", "/people/invite"),
    ("GET", "/people/{person}"),
    ("GET", "/people/{person}/edit"),
    ("POST", "/people/{person}/edit"),
    ("POST", "/people/{person}/approve"),
    ("POST", "/people/{person}/resend-invitation"),
    ("POST", "/people/{person}/unlock"),
    ("POST", "/people/{person}/reset-two-factor"),
    ("POST", "/people/{person}/api-tokens/{token}/revoke"),
    ("GET", "/people/{person}/deactivate"),
    ("POST", "/people/{person}/deactivate"),
    ("POST", "/people/{person}/reactivate"),
]
PEOPLE_MANAGERS = {"admin", "refuge_admin"}
# Whose people each manager may see: admins everyone, refuge_admin Refuge's.
MANAGED = {"admin": set(DEMO_USERS), "refuge_admin": {"refuge", "refuge_admin"}}
# The people each role's requests aim at: their own organisation's, another
# provider's, a commissioner, an admin and a board member.
TARGETS = ["refuge", "halton_provider", "lbbd", "admin", "bd_board"]
# Each person's own account: everyone signed in; {token} is someone else's.
ACCOUNT_ROUTES = [
    ("GET", "/account"),
    ("POST", "/account/api-tokens/{token}/revoke"),
    ("GET", "/account/password"),
    ("POST", "/account/password"),
    ("GET", "/account/two-factor"),
    ("GET", "/account/two-factor/set-up"),
    ("POST", "/account/two-factor/set-up"),
    ("GET", "/account/two-factor/turn-off"),
    ("POST", "/account/two-factor/turn-off"),
    ("POST", "/account/two-factor/recovery-codes"),
    ("POST", "/account/sign-out-everywhere"),  # last: it ends the session
]
# Reached before or without a session: the links in emails, the sign-in steps
# and single sign-on. {token} is a made-up link; {organisation} Refuge.
SIGN_IN_ROUTES = [
    ("GET", "/invitation/{token}"),
    ("POST", "/invitation/{token}"),
    ("GET", "/forgot-password"),
    ("POST", "/forgot-password"),
    ("GET", "/reset-password/{token}"),
    ("POST", "/reset-password/{token}"),
    ("GET", "/sign-in/two-factor"),
    ("POST", "/sign-in/two-factor"),
    ("GET", "/sign-in/two-factor/set-up"),
    ("POST", "/sign-in/two-factor/set-up"),
    ("GET", "/sign-in/two-factor/recovery-code"),
    ("POST", "/sign-in/two-factor/recovery-code"),
    ("GET", "/sso/{organisation}/start"),
    ("GET", "/sso/callback"),
]


# The id used for a funding line, option or amendment a contract does not have.
NONE_YET = 999_999


def _ids(reference: str) -> dict[str, int]:
    contract = db.session.execute(select(Contract).where(Contract.reference == reference)).scalar_one()
    line = contract.funding_lines[0].id if contract.funding_lines else NONE_YET
    option = contract.options[0].id if contract.options else NONE_YET
    amendment = contract.amendments[0].id if contract.amendments else NONE_YET
    return {"c": contract.id, "line": line, "option": option, "amendment": amendment} | _meeting_ids()


def _meeting_ids() -> dict[str, int]:
    """A demo partnership and its first meeting, and an organisation, for the admin routes."""
    meeting = db.session.scalars(select(PartnershipMeeting).order_by(PartnershipMeeting.id)).first()
    assert meeting is not None, "the demo has partnership meetings"
    organisation = db.session.execute(
        select(Organisation.id).where(Organisation.name == "Refuge")
    ).scalar_one()
    return {"partnership": meeting.partnership_id, "meeting": meeting.id, "organisation": organisation}


def _people() -> dict[str, User]:
    return {
        role: db.session.execute(select(User).where(User.email == email)).scalar_one()
        for role, email in DEMO_USERS.items()
    }


def _tokens(roles: list[str]) -> dict[str, int]:
    """An API token for each of these demo people, by role key."""
    people = _people()
    with db.transaction() as session:
        for role in roles:
            issue_api_token(session, people[role])
    return {
        role: db.session.execute(
            select(ApiToken.id).where(ApiToken.user_id == people[role].id).order_by(ApiToken.id.desc())
        )
        .scalars()
        .first()
        or 0
        for role in roles
    }


def _audit_count() -> int:
    return db.session.scalar(select(func.count(AuditEvent.id))) or 0


def _rule(url: str) -> str:
    """A matrix URL template as the app's URL rule spells it."""
    return (
        url.replace("{c}", "<int:contract_id>")
        .replace("{line}", "<int:line_id>")
        .replace("{option}", "<int:option_id>")
        .replace("{amendment}", "<int:amendment_id>")
        .replace("{slug}", "<slug>")
        .replace("{partnership}", "<int:partnership_id>")
        .replace("{meeting}", "<int:meeting_id>")
        .replace("{organisation}", "<int:organisation_id>")
        .replace("/people/{person}/api-tokens/{token}", "/people/<int:person_id>/api-tokens/<int:token_id>")
        .replace("/account/api-tokens/{token}", "/account/api-tokens/<int:token_id>")
        .replace("{person}", "<int:person_id>")
        .replace("{token}", "<token>")
    )


def test_every_route_is_in_the_matrix(app: Flask) -> None:
    requests = CONTRACT_READ_ROUTES + CONTRACT_CHANGE_ROUTES + ADMIN_ROUTES + OTHER_ROUTES + DASHBOARD_ROUTES
    requests += AUDIT_ROUTES
    requests += PEOPLE_ROUTES + ACCOUNT_ROUTES + SIGN_IN_ROUTES
    requests += [("GET", url) for url in LIST_ROUTES + REPORT_ROUTES]
    covered = {url for _, url in requests}
    covered |= PUBLIC | {"/sign-out"}
    normalised = {_rule(url) for url in covered}
    # The other way round: every route the matrix lists exists, with the method
    # it is requested with, so a stale or misspelt entry (whose requests would
    # all be 404s, passing for refusals) is caught here.
    answered = {(method, rule.rule) for rule in app.url_map.iter_rules() for method in rule.methods or ()}
    listed = {(method, _rule(url)) for method, url in requests}
    assert listed - answered == set(), "the permission matrix lists routes the app does not have"
    assert normalised - {rule for _, rule in answered} == set(), (
        "the matrix lists routes the app does not have"
    )
    # The framework and returns pages have their own matrix in tests/kpis,
    # the statutory return's in tests/statutory and benchmarking's in tests/benchmarking.
    kpi_prefixes = (
        "/api/",
        "/kpis",
        "/returns",
        "/tasks",
        "/performance",
        "/contracts/<int:contract_id>/framework",
        "/contracts/<int:contract_id>/performance",
        "/contracts/<int:contract_id>/returns",
        "/statutory-return",
        "/admin/benchmarking",
    )
    web_rules = {rule.rule for rule in app.url_map.iter_rules() if not rule.rule.startswith(kpi_prefixes)}
    assert web_rules - normalised == set(), "add new routes to the permission matrix"


@pytest.mark.parametrize("role", sorted(DEMO_USERS))
def test_contract_routes_refuse_without_data(demo: Flask, client: FlaskClient, auth: Auth, role: str) -> None:
    assert auth.sign_in(DEMO_USERS[role]).status_code == 302
    for reference in READERS:
        ids = _ids(reference)
        title = db.session.execute(select(Contract.title).where(Contract.reference == reference)).scalar_one()
        for method, template in CONTRACT_READ_ROUTES + CONTRACT_CHANGE_ROUTES + AUDIT_ROUTES:
            url = template.format(**ids)
            before = _audit_count()
            response = client.open(url, method=method, data={})
            body = response.get_data(as_text=True)
            is_change = (method, template) in CONTRACT_CHANGE_ROUTES
            allowed = role in (CHANGERS[reference] if is_change else READERS[reference])
            if (method, template) in AUDIT_ROUTES:
                allowed = role in CHANGERS[reference] | {"admin"}
            if allowed:
                expected_ok: tuple[int, ...] = (
                    (200, 302, 400, 422) if (method, template) in OPEN_DATA_ROUTES else (200, 302, 400)
                )
                if str(NONE_YET) in url:  # the contract has no such record: not found, for those allowed
                    expected_ok = (404,)
                assert response.status_code in expected_ok, (role, method, url, response.status_code)
                continue
            expected = 404 if role not in READERS[reference] else 403
            assert response.status_code == expected, (role, method, url, response.status_code)
            assert title not in body and reference not in body, (role, url)
            assert _audit_count() == before, f"{role} changed something through {method} {url}"


@pytest.mark.parametrize("role", sorted(DEMO_USERS))
def test_lists_show_only_visible_contracts(demo: Flask, client: FlaskClient, auth: Auth, role: str) -> None:
    auth.sign_in(DEMO_USERS[role])
    for url in ["/contracts", "/renewals", "/decisions?within=18"]:
        body = client.get(url).get_data(as_text=True)
        for reference, readers in READERS.items():
            if role not in readers:
                assert reference not in body, (role, url, reference)
    funding = client.get("/funding").get_data(as_text=True)
    if role not in READERS["TRI-VAWG-01"]:
        assert "Westminster City Council" not in funding
    if role not in READERS["HBC-CYP-DA-01"]:
        assert "Children&#39;s specialist budget" not in funding and "Halton Borough Council" not in funding


@pytest.mark.parametrize("role", sorted(DEMO_USERS))
def test_admin_and_create_routes(demo: Flask, client: FlaskClient, auth: Auth, role: str) -> None:
    auth.sign_in(DEMO_USERS[role])
    ids = _meeting_ids()
    for method, template in ADMIN_ROUTES:
        url = template.format(**ids)
        before = _audit_count()
        response = client.open(url, method=method, data={"name": "Sneaky Org", "kind": "provider"})
        if role == "admin":
            assert response.status_code in (200, 301, 302, 400), (method, url, response.status_code)
        else:
            assert response.status_code == 403, (role, method, url)
            assert "Sneaky Org" not in response.get_data(as_text=True)
            assert _audit_count() == before
    for method, url in OTHER_ROUTES:
        response = client.open(url, method=method, data={})
        commissioner = role in {"lbbd", "ccg", "halton", "westminster"}
        assert (response.status_code in (200, 400)) if commissioner else response.status_code == 403, (
            role,
            url,
        )


@pytest.mark.parametrize("role", sorted(DEMO_USERS))
def test_dashboard_routes(demo: Flask, client: FlaskClient, auth: Auth, role: str) -> None:
    # Superset is not configured in these tests: a viewer's token request is
    # answered 503 ("not set up"), an admin's without a chosen viewer 400.
    auth.sign_in(DEMO_USERS[role])
    for method, template in DASHBOARD_ROUTES:
        for slug in ["board-performance", "provision-gaps"]:
            url = template.format(slug=slug)
            response = client.open(url, method=method, data={"viewer": "partnership:1"})
            if role in DASHBOARD_VIEWERS:
                assert response.status_code in (200, 400, 503), (role, method, url, response.status_code)
                continue
            assert response.status_code == 403, (role, method, url, response.status_code)
            body = response.get_data(as_text=True)
            assert "Health and Wellbeing Board" not in body and "token" not in (response.json or {}), (
                role,
                url,
            )


def test_signed_out_users_are_sent_to_sign_in(
    demo: Flask, client: FlaskClient, contract_id: Callable[[str], int]
) -> None:
    ids = _ids("LBBD-DV-002")
    urls = [
        (m, t.format(**ids))
        for m, t in CONTRACT_READ_ROUTES + CONTRACT_CHANGE_ROUTES + AUDIT_ROUTES + ADMIN_ROUTES + OTHER_ROUTES
    ]
    people = _people()
    urls += [(m, t.format(person=people["refuge"].id, token=1)) for m, t in PEOPLE_ROUTES + ACCOUNT_ROUTES]
    urls += [(m, t.format(slug="outcomes")) for m, t in DASHBOARD_ROUTES]
    urls += [("GET", url) for url in LIST_ROUTES + REPORT_ROUTES]
    for method, url in urls:
        response = client.open(url, method=method, data={})
        assert response.status_code == 302, (method, url)
        assert response.headers["Location"].startswith("/sign-in"), url
        assert "Refuge" not in response.get_data(as_text=True)


@pytest.mark.parametrize("role", sorted(DEMO_USERS))
def test_board_pack_routes(demo: Flask, client: FlaskClient, auth: Auth, role: str) -> None:
    """Refusals come before the warehouse is read, so they hold whether or not it is built."""
    auth.sign_in(DEMO_USERS[role])
    organisations = {o.name: o.id for o in db.session.scalars(select(Organisation))}
    others = [f"organisation:{organisations['Westminster City Council']}", "partnership:999999"]
    page = client.get("/reports/board-pack")
    download = client.get("/reports/board-pack.xlsx")  # no quarter chosen
    if role in {"refuge", "refuge_admin", "halton_provider"}:
        assert (page.status_code, download.status_code) == (403, 403)
        assert client.get("/reports/board-pack.xlsx", query_string={"viewer": others[0]}).status_code == 403
        return
    assert page.status_code == 200
    assert download.status_code == 400
    for viewer in others:
        response = client.get(
            "/reports/board-pack.xlsx", query_string={"viewer": viewer, "period": "2013-14-Q4"}
        )
        # Westminster's pack is the Westminster commissioner's and any administrator's to have.
        expected = 200 if role in {"admin", "westminster"} and viewer == others[0] else 404
        # 200 needs a built warehouse; without one the page says so with 503.
        assert response.status_code in ({200, 503} if expected == 200 else {expected}), (role, viewer)


@pytest.mark.parametrize("role", sorted(DEMO_USERS))
def test_people_routes(demo: Flask, client: FlaskClient, auth: Auth, role: str) -> None:
    """Organisation admins see their own organisation's people and nobody else's (404,
    as for any record a user may not see); people who manage nobody are refused (403)."""
    people = _people()
    tokens = _tokens(TARGETS)
    assert auth.sign_in(DEMO_USERS[role]).status_code == 302
    for target in TARGETS:
        for method, template in PEOPLE_ROUTES:
            url = template.format(person=people[target].id, token=tokens[target])
            before = _audit_count()
            response = client.open(url, method=method, data={})
            if role not in PEOPLE_MANAGERS:
                expected = {403}
            elif "{person}" not in template or target in MANAGED[role]:
                # Allowed: a page, a change, a form with errors, or a refusal
                # that explains itself (deactivating yourself: 409).
                expected = {200, 301, 302, 400, 409}
            else:
                expected = {404}
            assert response.status_code in expected, (role, method, url, response.status_code)
            if expected != {200, 301, 302, 400, 409}:
                assert people[target].email not in response.get_data(as_text=True), (role, url)
                assert _audit_count() == before, f"{role} changed something through {method} {url}"
    listing = client.get("/people")
    if role in PEOPLE_MANAGERS:
        body = listing.get_data(as_text=True)
        for target in TARGETS:
            assert (people[target].email in body) == (target in MANAGED[role]), (role, target)


@pytest.mark.parametrize("role", sorted(DEMO_USERS))
def test_account_routes(demo: Flask, client: FlaskClient, auth: Auth, role: str) -> None:
    """Everyone signed in has their own account pages, and only their own API tokens."""
    someone_else = "lbbd" if role != "lbbd" else "ccg"
    token = _tokens([someone_else])[someone_else]
    assert auth.sign_in(DEMO_USERS[role]).status_code == 302
    for method, template in ACCOUNT_ROUTES:
        url = template.format(token=token)
        before = _audit_count()
        response = client.open(url, method=method, data={})
        if "/api-tokens/" in template:
            assert response.status_code == 404, (role, url)
            assert _audit_count() == before
            continue
        if "/turn-off" in template and role == "admin":
            # Two-factor authentication is required of admins: they cannot turn it off.
            assert response.status_code == 403, (role, method, url)
            continue
        assert response.status_code in {200, 302, 400}, (role, method, url, response.status_code)
    # The last request signed them out everywhere.
    assert client.get("/account").status_code == 302


def test_sign_in_routes_answer_without_a_session(demo: Flask, client: FlaskClient) -> None:
    """The links in emails and the steps of signing in work signed out, and a made-up
    link is refused plainly; none of them shows anyone's details."""
    ids = _meeting_ids()
    for method, template in SIGN_IN_ROUTES:
        url = template.format(token="made-up-link", organisation=ids["organisation"])
        response = client.open(url, method=method, data={})
        assert response.status_code < 500, (method, url, response.status_code)
        assert response.status_code != 403, (method, url)
        if template.startswith("/invitation/"):
            assert response.status_code == 410
        body = response.get_data(as_text=True)
        assert DEMO_USERS["refuge"] not in body and DEMO_USERS["admin"] not in body, url
