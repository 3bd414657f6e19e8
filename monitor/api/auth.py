"""Bearer-token sign-in for the API.

Only `Authorization: Bearer <token>` counts: a browser's session cookie is
ignored, so a page on another site cannot ride on someone's signed-in session
(the API is exempt from CSRF checks for that reason). The token's user is
bound as the audit actor, so every API write is recorded against them.
"""

from __future__ import annotations

from flask import Blueprint, g, request

from monitor.api.errors import ApiError
from monitor.audit import Actor, bind_actor, unbind_actor
from monitor.auth.models import User
from monitor.auth.services import user_for_token
from monitor.db import db

# Endpoints anyone may call without a token.
PUBLIC_ENDPOINTS = frozenset({"api.openapi"})
# Issued tokens are about 46 characters; anything far longer is not one.
MAX_TOKEN_LENGTH = 200

_CHALLENGE = 'Bearer realm="api"'


def _unauthorised(message: str, *, invalid: bool = False) -> ApiError:
    challenge = f'{_CHALLENGE}, error="invalid_token"' if invalid else _CHALLENGE
    return ApiError(401, message, headers={"WWW-Authenticate": challenge})


def bearer_token() -> str:
    header = request.headers.get("Authorization", "").strip()
    if not header:
        raise _unauthorised(
            "Authorization header missing: send your API token as 'Authorization: Bearer <token>'"
        )
    scheme, _, token = header.partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token:
        raise _unauthorised("Authorization header must be 'Bearer <token>'", invalid=True)
    if len(token) > MAX_TOKEN_LENGTH or not token.isascii():
        raise _unauthorised("Authorization: the API token is not valid or has been revoked", invalid=True)
    return token


def current_api_user() -> User:
    user: User = g.api_user
    return user


def install(blueprint: Blueprint) -> None:
    @blueprint.before_request
    def authenticate() -> None:
        if request.endpoint in PUBLIC_ENDPOINTS:
            return
        token = bearer_token()
        with db.transaction() as session:  # commits the token's last_used_at
            user = user_for_token(session, token)
        if user is None:
            raise _unauthorised("Authorization: the API token is not valid or has been revoked", invalid=True)
        # Drop any actor bound from a session cookie: only the token counts here.
        cookie_actor = g.pop("audit_actor", None)
        if cookie_actor is not None:
            unbind_actor(cookie_actor)
        g.api_user = user
        g.api_audit_actor = bind_actor(Actor(user.id, user.email))

    @blueprint.teardown_request
    def release(_exc: BaseException | None) -> None:
        token = g.pop("api_audit_actor", None)
        if token is not None:
            unbind_actor(token)
