"""Talking to an organisation's OpenID Connect provider: its discovery document
and signing keys, cached per issuer, and every check on an ID token.

The cache lives on the app (one per process), so an admin's change of issuer
takes effect at the next sign-in: entries are keyed by issuer, never by
organisation. An ID token signed with a key id the cached JWKS lacks (the
provider rotated its keys) fetches the JWKS again, at most once a minute per
issuer, so forged key ids cannot make us hammer the provider.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import requests
from joserfc import jws, jwt
from joserfc.errors import (
    BadSignatureError,
    DecodeError,
    ExpiredTokenError,
    InvalidClaimError,
    JoseError,
    MissingClaimError,
)
from joserfc.jwk import KeySet

HTTP_TIMEOUT_SECONDS = 10
DISCOVERY_TTL_SECONDS = 3600
JWKS_TTL_SECONDS = 3600
# An unknown key id may fetch the JWKS again at most this often per issuer.
JWKS_REFRESH_INTERVAL_SECONDS = 60
# Clock skew allowed on exp and iat.
LEEWAY_SECONDS = 60
# Asymmetric algorithms only: never "none", never a shared-secret HMAC.
SIGNING_ALGORITHMS = (
    "RS256",
    "RS384",
    "RS512",
    "PS256",
    "PS384",
    "PS512",
    "ES256",
    "ES384",
    "ES512",
    "EdDSA",
)


class SignInRefused(Exception):
    """A single sign-on that cannot go on: `reason` is for the log, `message` for the person."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(f"{reason}: {message}")
        self.reason = reason
        self.message = message
        # Set once the sign-in's organisation is known, for the log.
        self.organisation_id: int | None = None


UNREACHABLE = (
    "Your organisation's sign-in service could not be reached, or did not answer as expected. "
    "Try again in a few minutes. If it keeps happening, tell your organisation's IT team."
)


def fetch_json(url: str) -> dict[str, Any]:
    """GET a JSON object from a provider, or refuse the sign-in saying it could not be reached."""
    try:
        response = requests.get(url, timeout=HTTP_TIMEOUT_SECONDS, headers={"Accept": "application/json"})
        response.raise_for_status()
        document = response.json()
    except (requests.RequestException, ValueError) as error:
        raise SignInRefused("provider_unreachable", UNREACHABLE) from error
    if not isinstance(document, dict):
        raise SignInRefused("provider_unreachable", UNREACHABLE)
    return document


@dataclass(frozen=True)
class ProviderMetadata:
    issuer: str
    authorization_endpoint: str
    token_endpoint: str
    jwks_uri: str
    algorithms: tuple[str, ...]
    token_auth_methods: tuple[str, ...]

    @property
    def token_auth_method(self) -> str:
        # client_secret_basic is the default when a provider lists none (OpenID Discovery 1.0, 3).
        methods = self.token_auth_methods or ("client_secret_basic",)
        return "client_secret_basic" if "client_secret_basic" in methods else "client_secret_post"


def discovery_url(issuer: str) -> str:
    return issuer.rstrip("/") + "/.well-known/openid-configuration"


def read_metadata(issuer: str, document: dict[str, Any]) -> ProviderMetadata:
    """The parts of a discovery document we use; its issuer must be exactly the one configured."""
    if document.get("issuer") != issuer:
        raise SignInRefused(
            "discovery_issuer_mismatch",
            f"The provider at {issuer} says its issuer is {document.get('issuer')!r}, not {issuer!r}. "
            "An admin must set the issuer exactly as the provider states it.",
        )
    endpoints = [document.get(name) for name in ("authorization_endpoint", "token_endpoint", "jwks_uri")]
    if not all(isinstance(value, str) and value for value in endpoints):
        raise SignInRefused("discovery_incomplete", UNREACHABLE)
    advertised = document.get("id_token_signing_alg_values_supported") or ["RS256"]
    algorithms = tuple(alg for alg in advertised if alg in SIGNING_ALGORITHMS)
    if not algorithms:
        raise SignInRefused(
            "no_usable_algorithm",
            "Your organisation's provider signs ID tokens only in ways this service does not accept.",
        )
    methods = tuple(str(m) for m in document.get("token_endpoint_auth_methods_supported") or ())
    authorization_endpoint, token_endpoint, jwks_uri = (str(value) for value in endpoints)
    return ProviderMetadata(issuer, authorization_endpoint, token_endpoint, jwks_uri, algorithms, methods)


@dataclass
class _Keys:
    key_set: KeySet
    fetched_at: float
    forced_at: float | None = None


@dataclass
class ProviderCache:
    """Discovery documents and JWKS per issuer, each kept for a while."""

    fetch: Callable[[str], dict[str, Any]] = fetch_json
    clock: Callable[[], float] = time.monotonic
    discovery_ttl: float = DISCOVERY_TTL_SECONDS
    jwks_ttl: float = JWKS_TTL_SECONDS
    refresh_interval: float = JWKS_REFRESH_INTERVAL_SECONDS
    _metadata: dict[str, tuple[float, ProviderMetadata]] = field(default_factory=dict)
    _keys: dict[str, _Keys] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def metadata(self, issuer: str) -> ProviderMetadata:
        now = self.clock()
        with self._lock:
            cached = self._metadata.get(issuer)
        if cached is not None and now - cached[0] < self.discovery_ttl:
            return cached[1]
        metadata = read_metadata(issuer, self.fetch(discovery_url(issuer)))
        with self._lock:
            self._metadata[issuer] = (now, metadata)
        return metadata

    def key_set(self, metadata: ProviderMetadata, kid: str | None) -> KeySet:
        """The provider's keys, fetched again once (rate limited) when `kid` is not among them."""
        now = self.clock()
        with self._lock:
            cached = self._keys.get(metadata.issuer)
        if cached is None or now - cached.fetched_at >= self.jwks_ttl:
            cached = self._fetch_keys(metadata, now, forced_at=cached.forced_at if cached else None)
        if _has_kid(cached.key_set, kid):
            return cached.key_set
        if cached.forced_at is not None and now - cached.forced_at < self.refresh_interval:
            return cached.key_set
        # The provider may have rotated its keys since we last asked.
        return self._fetch_keys(metadata, now, forced_at=now).key_set

    def _fetch_keys(self, metadata: ProviderMetadata, now: float, forced_at: float | None) -> _Keys:
        document = self.fetch(metadata.jwks_uri)
        try:
            key_set = KeySet.import_key_set(document)  # type: ignore[arg-type]
        except (JoseError, KeyError, TypeError, ValueError) as error:
            raise SignInRefused("jwks_unreadable", UNREACHABLE) from error
        keys = _Keys(key_set, now, forced_at)
        with self._lock:
            self._keys[metadata.issuer] = keys
        return keys


def _has_kid(key_set: KeySet, kid: str | None) -> bool:
    if kid is None:
        return len(key_set.keys) == 1
    return any(key.kid == kid for key in key_set.keys)


def check_id_token(
    id_token: str, *, metadata: ProviderMetadata, cache: ProviderCache, client_id: str, nonce: str
) -> dict[str, Any]:
    """The ID token's claims once its signature, issuer, audience, times, subject and nonce are right."""
    try:
        header = jws.extract_compact(id_token.encode()).protected
    except (JoseError, ValueError) as error:
        raise SignInRefused(
            "malformed_id_token", "The ID token from your organisation's provider was not readable."
        ) from error
    algorithm = header.get("alg")
    if algorithm not in metadata.algorithms:
        raise SignInRefused(
            "unexpected_algorithm",
            f"The ID token was signed with {algorithm!r}, which your organisation's provider does not advertise.",
        )
    kid = header.get("kid")
    key_set = cache.key_set(metadata, kid)
    if not _has_kid(key_set, kid):
        raise SignInRefused(
            "unknown_signing_key",
            "The ID token was signed with a key your organisation's provider does not publish, so it was refused.",
        )
    try:
        token = jwt.decode(id_token, key_set, algorithms=[str(algorithm)])
    except BadSignatureError as error:
        raise SignInRefused(
            "bad_signature",
            "The ID token's signature does not match your organisation's provider's published keys, so it was refused.",
        ) from error
    except (DecodeError, JoseError, ValueError) as error:
        raise SignInRefused(
            "malformed_id_token", "The ID token from your organisation's provider was not readable."
        ) from error
    claims = dict(token.claims)
    registry = jwt.JWTClaimsRegistry(
        leeway=LEEWAY_SECONDS,
        iss={"essential": True, "value": metadata.issuer},
        aud={"essential": True, "value": client_id},
        sub={"essential": True},
        exp={"essential": True},
        iat={"essential": True},
        nonce={"essential": True, "value": nonce},
    )
    try:
        registry.validate(claims)
    except ExpiredTokenError as error:
        raise SignInRefused(
            "expired_id_token",
            "The ID token from your organisation's provider had expired. Start again from the sign-in page; "
            "if it keeps happening, check that your computer's clock is right.",
        ) from error
    except MissingClaimError as error:
        raise SignInRefused(
            "missing_claim",
            f"The ID token from your organisation's provider lacks a claim this service needs ({error.claim}).",
        ) from error
    except InvalidClaimError as error:
        raise _claim_refusal(error.claim) from error
    audiences = claims["aud"] if isinstance(claims["aud"], list) else [claims["aud"]]
    if len(audiences) > 1 and claims.get("azp") != client_id:
        raise _claim_refusal("azp")
    return claims


def _claim_refusal(claim: str) -> SignInRefused:
    messages = {
        "iss": "The ID token came from a different issuer than the one set for your organisation, so it was refused.",
        "aud": "The ID token was meant for a different service (its audience is not this service's client ID), "
        "so it was refused. Your organisation's IT team should check the client ID set here.",
        "azp": "The ID token was issued to a different service (its authorised party is not this service), "
        "so it was refused.",
        "nonce": "The ID token does not belong to the sign-in this service started (the nonce differs), "
        "so it was refused. Start again from the sign-in page.",
        "iat": "The ID token says it was issued in the future, so it was refused. Check your computer's clock.",
    }
    message = messages.get(claim, f"The ID token's {claim} claim is not valid, so it was refused.")
    return SignInRefused(f"invalid_{claim}", message)
