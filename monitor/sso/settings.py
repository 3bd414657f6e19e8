"""Saving an organisation's single sign-on settings: every rule checked first,
every message gathered, then one write (or none).

Errors are keyed by the admin form's field names."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import select
from sqlalchemy.orm import Session

from monitor.auth.models import Organisation
from monitor.errors import ValidationFailed
from monitor.secret_box import encrypt
from monitor.sso.accounts import role_for_kind
from monitor.sso.models import SsoDomain, SsoGroupRole, SsoSettings

# Plain http only for a provider on this machine (the tests' provider).
LOOPBACK_HOSTS = {"127.0.0.1", "localhost", "::1"}
# Entra ID's multi-tenant endpoints: their issuer is a template, never one tenant's.
ENTRA_TEMPLATES = {"common", "organizations", "consumers"}
DOMAIN = re.compile(r"^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$")
ORGANISATION_ADMIN = "organisation admin"
CLAIM_NAME = re.compile(r"^[A-Za-z0-9_.:/-]{1,100}$")


@dataclass(frozen=True)
class SettingsInput:
    issuer: str
    client_id: str
    client_secret: str
    domains: str
    group_mappings: str
    group_claim: str
    enabled: bool


@dataclass(frozen=True)
class GroupMapping:
    group_value: str
    role: str
    organisation_admin: bool


def issuer_error(issuer: str) -> str | None:
    if not issuer:
        return "Enter the issuer, like https://login.microsoftonline.com/<tenant id>/v2.0"
    if len(issuer) > 500:
        return "The issuer must be 500 characters or fewer"
    parts = urlsplit(issuer)
    if parts.scheme not in ("https", "http") or not parts.hostname or parts.query or parts.fragment:
        return "Enter the issuer as a web address, like https://accounts.google.com"
    if parts.scheme == "http" and parts.hostname not in LOOPBACK_HOSTS:
        return "The issuer must start with https://"
    if (
        parts.hostname == "login.microsoftonline.com"
        and parts.path.strip("/").split("/")[0] in ENTRA_TEMPLATES
    ):
        return (
            "Use your tenant's own issuer, https://login.microsoftonline.com/<tenant id>/v2.0, "
            "not the multi-tenant /common, /organizations or /consumers address"
        )
    return None


def parse_domains(text: str) -> tuple[list[str], list[str]]:
    """(domains, problems): one per line, lower case, a leading "@" allowed."""
    domains: list[str] = []
    problems: list[str] = []
    for line in text.splitlines():
        domain = line.strip().lower().removeprefix("@")
        if not domain:
            continue
        if not DOMAIN.match(domain):
            problems.append(
                f"“{line.strip()}” is not an email domain; enter one per line, like example.gov.uk"
            )
        elif domain not in domains:
            domains.append(domain)
    return domains, problems


def parse_group_mappings(text: str, role: str | None) -> tuple[list[GroupMapping], list[str]]:
    """(mappings, problems) from lines like `group id = provider` or `group id = provider, organisation admin`."""
    mappings: list[GroupMapping] = []
    problems: list[str] = []
    seen: set[str] = set()
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        group, equals, rest = line.partition("=")
        group = group.strip()
        words = [word.strip().lower() for word in rest.split(",")]
        if not equals or not group or not words[0]:
            problems.append(
                f"Line {number}: write the group, “=”, then the role, like “group id = {role or 'provider'}”"
            )
            continue
        if len(group) > 255:
            problems.append(f"Line {number}: the group must be 255 characters or fewer")
            continue
        if words[0] != role:
            problems.append(
                f"Line {number}: the role must be {role}, the role of this organisation's people, not “{words[0]}”"
            )
            continue
        extras = [word for word in words[1:] if word]
        if any(word != ORGANISATION_ADMIN for word in extras):
            problems.append(f"Line {number}: after the role, only “{ORGANISATION_ADMIN}” may follow")
            continue
        if group in seen:
            problems.append(f"Line {number}: the group {group} is already mapped above")
            continue
        seen.add(group)
        mappings.append(GroupMapping(group, words[0], bool(extras)))
    return mappings, problems


def mappings_text(settings: SsoSettings | None) -> str:
    if settings is None:
        return ""
    return "\n".join(
        f"{m.group_value} = {m.role}" + (f", {ORGANISATION_ADMIN}" if m.organisation_admin else "")
        for m in settings.group_roles
    )


def settings_for(session: Session, organisation: Organisation) -> SsoSettings | None:
    return session.scalar(select(SsoSettings).where(SsoSettings.organisation_id == organisation.id))


def save_settings(
    session: Session, organisation: Organisation, data: SettingsInput, config: Mapping[str, Any]
) -> SsoSettings:
    """Create or update the organisation's settings, or raise ValidationFailed with every problem."""
    settings = settings_for(session, organisation)
    errors: dict[str, str] = {}
    issuer = data.issuer.strip()
    if (problem := issuer_error(issuer)) is not None:
        errors["issuer"] = problem
    client_id = data.client_id.strip()
    if not client_id:
        errors["client_id"] = "Enter the client ID (in Entra ID, the application (client) ID)"
    elif len(client_id) > 255:
        errors["client_id"] = "The client ID must be 255 characters or fewer"
    if not data.client_secret and settings is None:
        errors["client_secret"] = "Enter the client secret"  # noqa: S105 - a message, not a secret
    elif len(data.client_secret) > 2000:
        errors["client_secret"] = "The client secret must be 2000 characters or fewer"  # noqa: S105
    group_claim = data.group_claim.strip() or "groups"
    if not CLAIM_NAME.match(group_claim):
        errors["group_claim"] = "Enter the group claim's name, like groups"

    domains, domain_problems = parse_domains(data.domains)
    if not domain_problems and not domains:
        domain_problems.append("Enter at least one email domain, like example.gov.uk")
    if not domain_problems:
        taken = session.execute(
            select(SsoDomain.domain, Organisation.name)
            .join(SsoSettings, SsoDomain.settings_id == SsoSettings.id)
            .join(Organisation, SsoSettings.organisation_id == Organisation.id)
            .where(SsoDomain.domain.in_(domains), Organisation.id != organisation.id)
            .order_by(SsoDomain.domain)
        ).all()
        domain_problems.extend(f"{domain} already signs in through {name}" for domain, name in taken)
    if domain_problems:
        errors["domains"] = "; ".join(domain_problems)

    mappings, mapping_problems = parse_group_mappings(data.group_mappings, role_for_kind(organisation.kind))
    if mapping_problems:
        errors["group_mappings"] = "; ".join(mapping_problems)
    if errors:
        raise ValidationFailed(errors)

    if settings is None:
        settings = SsoSettings(
            organisation=organisation, client_secret_encrypted=encrypt(data.client_secret, config)
        )
        session.add(settings)
    elif data.client_secret:
        settings.client_secret_encrypted = encrypt(data.client_secret, config)
    settings.issuer = issuer
    settings.client_id = client_id
    settings.group_claim = group_claim
    settings.enabled = data.enabled
    _replace_domains(session, settings, domains)
    _replace_mappings(session, settings, mappings)
    session.flush()
    return settings


def _replace_domains(session: Session, settings: SsoSettings, domains: list[str]) -> None:
    # Only what changed is deleted or added, so the audit trail shows the change
    # itself; deleted explicitly, as the trail does not see orphans removed at flush.
    for existing in list(settings.domains):
        if existing.domain not in domains:
            settings.domains.remove(existing)
            session.delete(existing)
    have = {d.domain for d in settings.domains}
    settings.domains.extend(SsoDomain(domain=d) for d in domains if d not in have)


def _replace_mappings(session: Session, settings: SsoSettings, mappings: list[GroupMapping]) -> None:
    wanted = {m.group_value: m for m in mappings}
    for existing in list(settings.group_roles):
        mapping = wanted.pop(existing.group_value, None)
        if mapping is None:
            settings.group_roles.remove(existing)
            session.delete(existing)
        else:
            existing.role, existing.organisation_admin = mapping.role, mapping.organisation_admin
    settings.group_roles.extend(
        SsoGroupRole(group_value=m.group_value, role=m.role, organisation_admin=m.organisation_admin)
        for m in wanted.values()
    )
