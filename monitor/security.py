"""Security headers, with a per-request nonce for the template's one inline script,
and the one check on where a sign-in may send someone afterwards."""

from __future__ import annotations

import secrets
from urllib.parse import urlsplit

from flask import Flask, Response, g, request


def _csp(nonce: str, frame_sources: tuple[str, ...] = ()) -> str:
    # Only the dashboards page frames another origin (Superset): see allow_frames_from.
    frames = [" ".join(["frame-src 'self'", *frame_sources])] if frame_sources else []
    return "; ".join(
        [
            "default-src 'self'",
            *frames,
            f"script-src 'self' 'nonce-{nonce}'",
            "style-src 'self'",
            "img-src 'self' data:",
            "font-src 'self'",
            "connect-src 'self'",
            "object-src 'none'",
            "base-uri 'none'",
            "form-action 'self'",
            "frame-ancestors 'none'",
        ]
    )


def same_site_path(target: str | None) -> str:
    """`target` when it is a path on this site, else "" (a crafted link cannot bounce people elsewhere)."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return ""
    parts = urlsplit(target)
    return target[:500] if not parts.netloc and not parts.scheme else ""


def allow_frames_from(origin: str) -> None:
    """Let this response's page frame `origin` (scheme://host[:port]); other pages frame nothing else."""
    g.csp_frame_sources = (*g.get("csp_frame_sources", ()), origin)


def install(app: Flask) -> None:
    @app.before_request
    def make_nonce() -> None:
        g.csp_nonce = secrets.token_urlsafe(16)
        g.csp_frame_sources = ()

    @app.context_processor
    def expose_nonce() -> dict[str, str]:
        return {"cspNonce": g.get("csp_nonce", "")}

    @app.after_request
    def add_headers(response: Response) -> Response:
        headers = response.headers
        csp = _csp(g.get("csp_nonce", "none"), g.get("csp_frame_sources", ()))
        headers.setdefault("Content-Security-Policy", csp)
        headers.setdefault("X-Content-Type-Options", "nosniff")
        headers.setdefault("X-Frame-Options", "DENY")
        headers.setdefault("Referrer-Policy", "same-origin")
        headers.setdefault(
            "Permissions-Policy", "camera=(), microphone=(), geolocation=(), interest-cohort=()"
        )
        headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
        if app.config.get("SESSION_COOKIE_SECURE"):
            headers.setdefault("Strict-Transport-Security", "max-age=31536000; includeSubDomains")
        # Register data is confidential: never keep it in shared caches.
        if not request.path.startswith("/static/"):
            headers.setdefault("Cache-Control", "no-store")
        return response
