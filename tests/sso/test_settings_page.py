"""The admin page for an organisation's single sign-on settings."""

from __future__ import annotations

import html

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from monitor.audit import AuditEvent
from monitor.auth.models import OrganisationKind
from monitor.db import db
from monitor.secret_box import decrypt
from monitor.sso.models import SsoDomain, SsoGroupRole, SsoSettings
from tests.oidc import OidcProvider
from tests.sso.conftest import add_organisation, add_user, configure_sso, sign_in_directly

SECRET = "a-client-secret-from-entra"


def settings_url(organisation_id: int) -> str:
    return f"/admin/organisations/{organisation_id}/sign-in"


def form(**fields: str) -> dict[str, str]:
    data = {
        "issuer": "https://login.microsoftonline.com/2b4f0d4e-1111-2222-3333-444455556666/v2.0",
        "client_id": "8a1b2c3d-client",
        "client_secret": SECRET,
        "domains": "halton.gov.uk\n@Halton-Nhs.example\n",
        "group_claim": "groups",
        "group_mappings": "grp-commissioners = commissioner\ngrp-leads = commissioner, organisation admin",
        "enabled": "y",
    }
    data.update(fields)
    return data


def admin_client(app: Flask) -> FlaskClient:
    client = app.test_client()
    sign_in_directly(app, client, add_user(email="admin@service.example", name="Admin", role="admin"))
    return client


def page_text(response: object) -> str:
    return html.unescape(response.get_data(as_text=True))  # type: ignore[attr-defined]


def stored(organisation_id: int) -> SsoSettings:
    db.session.expire_all()
    settings = db.session.scalar(select(SsoSettings).where(SsoSettings.organisation_id == organisation_id))
    assert settings is not None
    return settings


def test_an_admin_saves_settings_with_the_secret_encrypted_and_audited(app: Flask) -> None:
    halton = add_organisation("Halton Borough Council", OrganisationKind.COMMISSIONER)
    client = admin_client(app)

    page = client.get(settings_url(halton))
    assert page.status_code == 200
    assert "http://localhost/sso/callback" in page_text(page)

    response = client.post(settings_url(halton), data=form())
    assert response.status_code == 302, page_text(response)

    settings = stored(halton)
    assert settings.client_secret_encrypted != SECRET and SECRET not in settings.client_secret_encrypted
    assert decrypt(settings.client_secret_encrypted, app.config) == SECRET
    assert [d.domain for d in settings.domains] == ["halton-nhs.example", "halton.gov.uk"]
    assert [(m.group_value, m.role, m.organisation_admin) for m in settings.group_roles] == [
        ("grp-commissioners", "commissioner", False),
        ("grp-leads", "commissioner", True),
    ]
    assert settings.enabled

    # The secret is never shown again.
    again = page_text(client.get(settings_url(halton)))
    assert SECRET not in again and settings.client_secret_encrypted not in again
    assert "grp-leads = commissioner, organisation admin" in again

    events = db.session.scalars(select(AuditEvent).order_by(AuditEvent.id)).all()
    kinds = [(e.entity_type, e.action) for e in events if e.entity_type.startswith("sso")]
    assert ("sso_settings", "create") in kinds
    assert kinds.count(("sso_domain", "create")) == 2 and kinds.count(("sso_group_role", "create")) == 2
    assert all("client_secret_encrypted" not in e.changes for e in events)
    assert all(e.actor_label == "admin@service.example" for e in events if e.entity_type.startswith("sso"))


def test_a_blank_secret_keeps_the_old_one_and_changes_are_audited(app: Flask) -> None:
    halton = add_organisation("Halton Borough Council", OrganisationKind.COMMISSIONER)
    client = admin_client(app)
    assert client.post(settings_url(halton), data=form()).status_code == 302
    before = stored(halton).client_secret_encrypted

    response = client.post(
        settings_url(halton),
        data=form(
            client_secret="", domains="halton.gov.uk", group_mappings="grp-commissioners = commissioner"
        ),
    )

    assert response.status_code == 302
    settings = stored(halton)
    assert settings.client_secret_encrypted == before
    assert [d.domain for d in settings.domains] == ["halton.gov.uk"]
    assert [m.group_value for m in settings.group_roles] == ["grp-commissioners"]
    deletes = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "delete")).all()
    assert sorted(e.entity_type for e in deletes) == ["sso_domain", "sso_group_role"]


def test_every_problem_is_shown_and_nothing_is_saved(app: Flask) -> None:
    halton = add_organisation("Halton Borough Council", OrganisationKind.COMMISSIONER)
    client = admin_client(app)

    response = client.post(
        settings_url(halton),
        data=form(
            issuer="http://idp.example.com",
            client_id="",
            client_secret="",
            domains="not a domain",
            group_mappings="grp = provider\nno equals sign",
        ),
    )

    assert response.status_code == 400
    text = page_text(response)
    assert "There is a problem" in text
    assert "The issuer must start with https://" in text
    assert "Enter the client ID" in text
    assert "Enter the client secret" in text
    assert "“not a domain” is not an email domain" in text
    assert "Line 1: the role must be commissioner" in text
    assert "Line 2: write the group" in text
    assert db.session.scalar(select(SsoSettings)) is None
    assert db.session.scalar(select(AuditEvent).where(AuditEvent.entity_type.like("sso%"))) is None


def test_entra_common_issuer_is_refused(app: Flask) -> None:
    halton = add_organisation("Halton Borough Council", OrganisationKind.COMMISSIONER)
    response = admin_client(app).post(
        settings_url(halton), data=form(issuer="https://login.microsoftonline.com/common/v2.0")
    )
    assert response.status_code == 400
    assert "not the multi-tenant /common" in page_text(response)


def test_a_domain_of_another_organisation_is_refused_by_name(app: Flask) -> None:
    refuge = add_organisation("Refuge")
    configure_sso(app, refuge, "https://accounts.google.com", ["refuge.example"], [])
    halton = add_organisation("Halton Borough Council", OrganisationKind.COMMISSIONER)

    response = admin_client(app).post(
        settings_url(halton), data=form(domains="halton.gov.uk\nrefuge.example")
    )

    assert response.status_code == 400
    assert "refuge.example already signs in through Refuge" in page_text(response)
    assert db.session.scalar(select(SsoDomain).where(SsoDomain.domain == "halton.gov.uk")) is None


def test_a_provider_organisation_maps_groups_to_provider_only(app: Flask) -> None:
    refuge = add_organisation("Refuge")
    client = admin_client(app)
    refused = client.post(settings_url(refuge), data=form(group_mappings="grp = admin"))
    assert refused.status_code == 400
    assert (
        "Line 1: the role must be provider, the role of this organisation's people, not “admin”"
        in page_text(refused)
    )

    accepted = client.post(
        settings_url(refuge), data=form(group_mappings="grp = Provider, Organisation admin")
    )
    assert accepted.status_code == 302
    mapping = db.session.scalar(select(SsoGroupRole))
    assert mapping is not None and (mapping.role, mapping.organisation_admin) == ("provider", True)


def test_only_admins_and_only_commissioners_and_providers(app: Flask) -> None:
    refuge = add_organisation("Refuge")
    funder = add_organisation("A funder", OrganisationKind.FUNDER)
    provider_user = add_user(email="p@refuge.example", name="P", role="provider", organisation_id=refuge)

    anonymous = app.test_client().get(settings_url(refuge))
    assert anonymous.status_code == 302 and "/sign-in" in anonymous.headers["Location"]

    client = app.test_client()
    sign_in_directly(app, client, provider_user)
    assert client.get(settings_url(refuge)).status_code == 403
    assert client.post(settings_url(refuge), data=form()).status_code == 403

    admin = admin_client(app)
    assert admin.get(settings_url(funder)).status_code == 404
    assert admin.get(settings_url(999999)).status_code == 404
    assert db.session.scalar(select(SsoSettings)) is None


def test_check_the_provider_reads_its_discovery_document(app: Flask, provider: OidcProvider) -> None:
    refuge = add_organisation("Refuge")
    client = admin_client(app)

    found = client.post(settings_url(refuge), data=form(issuer=provider.issuer, check="Check the provider"))
    assert found.status_code == 200
    assert f"The provider at {provider.issuer} answered" in page_text(found)

    wrong = client.post(
        settings_url(refuge), data=form(issuer=provider.issuer + "/", check="Check the provider")
    )
    assert wrong.status_code == 400
    assert "says its issuer is" in page_text(wrong)
    assert db.session.scalar(select(SsoSettings)) is None
