"""A single sign-on from start to finish: the authorisation request (PKCE,
state, nonce) and the callback (state used once, code exchanged, ID token
checked, account found or made).

The state is kept hashed in sso_login_states and marked used in its own
committed transaction before the code is exchanged: a replayed or concurrent
callback finds it used, and a callback that then fails has still used it up.
Its digest is also kept in the browser's session when the sign-in starts, and
the callback must come back to the same browser, so nobody can be signed in
to someone else's account by following a link to a callback they did not
start (login CSRF). The account changes and the sign-in history are one
transaction after that.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import requests
from authlib.integrations.requests_client import OAuth2Session, OAuthError
from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from monitor.audit import Actor, acting_as
from monitor.auth.history import record_sign_in
from monitor.auth.models import Organisation, SignInMethod, SignInOutcome, User
from monitor.clock import real_utcnow as utcnow  # security timing: the real clock, never pinned
from monitor.db import db
from monitor.secret_box import SecretUnreadable, decrypt
from monitor.security import same_site_path
from monitor.sso.accounts import account_for_claims
from monitor.sso.models import SsoLoginState, SsoSettings
from monitor.sso.provider import (
    HTTP_TIMEOUT_SECONDS,
    UNREACHABLE,
    ProviderCache,
    ProviderMetadata,
    SignInRefused,
    check_id_token,
)

SCOPE = "openid email profile"
# How long a person may take at their provider before the sign-in must start again.
STATE_LIFETIME = timedelta(minutes=10)
# Unused states are cleared away after this long.
STATE_KEPT = timedelta(days=1)

START_AGAIN = "Start again from the sign-in page."
USED = f"This sign-in has already been used, and each one works only once. {START_AGAIN}"


def state_digest(state: str) -> str:
    return hashlib.sha256(state.encode()).hexdigest()


@dataclass(frozen=True)
class Started:
    """Where to send the person, and the state's digest for their browser's session to keep."""

    url: str
    state_digest: str


def start_sign_in(
    session: Session,
    settings: SsoSettings,
    cache: ProviderCache,
    *,
    email: str,
    next_path: str,
    redirect_uri: str,
) -> Started:
    """Record a new sign-in (state, nonce, PKCE verifier) and say where to send the person."""
    metadata = cache.metadata(settings.issuer)
    state, nonce, verifier = secrets.token_urlsafe(32), secrets.token_urlsafe(32), secrets.token_urlsafe(64)
    client = OAuth2Session(
        settings.client_id, scope=SCOPE, redirect_uri=redirect_uri, code_challenge_method="S256"
    )
    extra = {"login_hint": email} if email else {}
    url, _ = client.create_authorization_url(
        metadata.authorization_endpoint, state=state, nonce=nonce, code_verifier=verifier, **extra
    )
    session.execute(delete(SsoLoginState).where(SsoLoginState.created_at < utcnow() - STATE_KEPT))
    digest = state_digest(state)
    session.add(
        SsoLoginState(
            state_hash=digest,
            organisation_id=settings.organisation_id,
            nonce=nonce,
            code_verifier=verifier,
            next_path=same_site_path(next_path),
        )
    )
    return Started(str(url), digest)


@dataclass(frozen=True)
class _Claimed:
    organisation_id: int
    nonce: str
    code_verifier: str
    next_path: str


def _claim_state(session: Session, state: str, now: datetime) -> _Claimed:
    row = session.scalar(select(SsoLoginState).where(SsoLoginState.state_hash == state_digest(state)))
    if row is None:
        raise SignInRefused(
            "unknown_state",
            f"This sign-in was not started by this service, or was cleared away. {START_AGAIN}",
        )
    if row.used_at is not None:
        raise SignInRefused("replayed_state", USED)
    if now - row.created_at > STATE_LIFETIME:
        raise SignInRefused(
            "expired_state",
            f"This sign-in took longer than {STATE_LIFETIME.seconds // 60} minutes to come back. {START_AGAIN}",
        )
    # Conditional, so two callbacks racing with the same state cannot both win.
    claimed = session.execute(
        update(SsoLoginState)
        .where(SsoLoginState.id == row.id, SsoLoginState.used_at.is_(None))
        .values(used_at=now)
        .execution_options(synchronize_session=False)
    )
    if claimed.rowcount != 1:  # type: ignore[attr-defined]
        raise SignInRefused("replayed_state", USED)
    return _Claimed(row.organisation_id, row.nonce, row.code_verifier, row.next_path)


@dataclass(frozen=True)
class Outcome:
    """A finished callback: `user` is signed in when `signed_in`, else waits for approval."""

    user: User
    organisation_name: str
    next_path: str
    signed_in: bool


def complete_sign_in(
    args: dict[str, str],
    cache: ProviderCache,
    *,
    started_here: Collection[str],
    redirect_uri: str,
    config: Mapping[str, Any],
) -> Outcome:
    """Finish a sign-in from the provider's redirect, or raise SignInRefused.

    `started_here` holds the digests of the states this browser started."""
    state = args.get("state", "")
    if not state:
        raise SignInRefused(
            "missing_state", f"The provider's answer did not say which sign-in it was for. {START_AGAIN}"
        )
    with db.transaction() as session:
        claimed = _claim_state(session, state, utcnow())
    if state_digest(state) not in started_here:
        raise SignInRefused(
            "state_from_another_browser",
            "This sign-in was started in a different browser, or your browser did not keep this "
            f"service's cookie while you were away. {START_AGAIN}",
        )
    try:
        return _finish(args, claimed, cache, redirect_uri=redirect_uri, config=config)
    except SignInRefused as refused:
        refused.organisation_id = claimed.organisation_id
        raise


@dataclass(frozen=True)
class _Client:
    issuer: str
    client_id: str
    client_secret: str
    organisation_name: str


def _client(organisation_id: int, config: Mapping[str, Any]) -> _Client:
    with db.transaction() as session:
        settings = session.scalar(select(SsoSettings).where(SsoSettings.organisation_id == organisation_id))
        organisation = session.get(Organisation, organisation_id)
        if settings is None or organisation is None or not settings.enabled:
            raise SignInRefused(
                "sso_off", "Single sign-on is not turned on for your organisation. Sign in with a password."
            )
        try:
            secret = decrypt(settings.client_secret_encrypted, config)
        except SecretUnreadable as error:
            raise SignInRefused(
                "secret_unreadable",
                f"The client secret saved for {organisation.name} cannot be read. An admin must enter it again.",
            ) from error
        return _Client(settings.issuer, settings.client_id, secret, organisation.name)


def _exchange_code(
    client: _Client, metadata: ProviderMetadata, code: str, verifier: str, redirect_uri: str
) -> str:
    """The ID token the provider gives for the code (and the PKCE verifier)."""
    session = OAuth2Session(
        client.client_id,
        client.client_secret,
        redirect_uri=redirect_uri,
        code_challenge_method="S256",
        token_endpoint_auth_method=metadata.token_auth_method,
    )
    try:
        token = session.fetch_token(
            metadata.token_endpoint,
            grant_type="authorization_code",
            code=code,
            code_verifier=verifier,
            timeout=HTTP_TIMEOUT_SECONDS,
        )
    except OAuthError as error:
        raise SignInRefused(
            f"token_error:{str(error.error)[:40]}",
            f"{client.organisation_name}'s sign-in service would not complete the sign-in "
            f"({error.description or error.error}). {START_AGAIN}",
        ) from error
    except (requests.RequestException, ValueError) as error:
        raise SignInRefused("provider_unreachable", UNREACHABLE) from error
    id_token = token.get("id_token")
    if not isinstance(id_token, str) or not id_token:
        raise SignInRefused(
            "no_id_token", f"{client.organisation_name}'s sign-in service sent no ID token. {START_AGAIN}"
        )
    return id_token


def _finish(
    args: dict[str, str],
    claimed: _Claimed,
    cache: ProviderCache,
    *,
    redirect_uri: str,
    config: Mapping[str, Any],
) -> Outcome:
    client = _client(claimed.organisation_id, config)
    if "error" in args:
        description = args.get("error_description") or args["error"]
        raise SignInRefused(
            f"provider_error:{args['error'][:40]}",
            f"{client.organisation_name}'s sign-in service did not sign you in: {description[:300]}",
        )
    # RFC 9207: a provider that names itself in the answer must be the one we sent the person to.
    if "iss" in args and args["iss"] != client.issuer:
        raise SignInRefused(
            "mixed_up_issuer",
            f"The answer came from a different provider than the one you were sent to. {START_AGAIN}",
        )
    code = args.get("code", "")
    if not code:
        raise SignInRefused(
            "missing_code", f"The provider's answer carried no authorisation code. {START_AGAIN}"
        )
    metadata = cache.metadata(client.issuer)
    id_token = _exchange_code(client, metadata, code, claimed.code_verifier, redirect_uri)
    claims = check_id_token(
        id_token, metadata=metadata, cache=cache, client_id=client.client_id, nonce=claimed.nonce
    )

    label = f"{str(claims.get('email') or claims['sub'])[:200]} (single sign-on)"
    with acting_as(Actor(None, label)), db.transaction() as session:
        settings = session.scalar(
            select(SsoSettings).where(SsoSettings.organisation_id == claimed.organisation_id)
        )
        if settings is None:
            raise SignInRefused("sso_off", "Single sign-on is not turned on for your organisation.")
        user = account_for_claims(session, settings, claims)
        signed_in = user.role is not None
        if signed_in:
            record_sign_in(session, user, SignInMethod.SSO, SignInOutcome.SIGNED_IN)
    return Outcome(user, client.organisation_name, claimed.next_path, signed_in)
