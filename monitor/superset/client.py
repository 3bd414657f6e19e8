"""A small client for Superset's REST API (standard library only).

The app uses it to provision dashboards (`flask superset provision`) and to
ask for guest tokens for the embedded dashboards; the tests use it to read
chart data as an admin and as a guest.

    client = SupersetClient.from_config(app.config)
    token = client.guest_token(
        resources=[dashboard_resource(embedded_uuid)],
        rls=[rls_clause("partnership:2")],
        user={"username": "board-7", "first_name": "Board", "last_name": "member"},
    )

Superset answers every call with JSON; a refusal or an unreachable server
raises `SupersetError` whose message says what failed and how to fix it.
The client logs in lazily with the service account and logs in again once
when its access token has expired. One client keeps one cookie session (the
CSRF token is bound to it), so share a client between threads only behind
its lock, which every call takes.
"""

from __future__ import annotations

import json
import threading
import uuid
from collections.abc import Iterable, Mapping
from http.cookiejar import CookieJar
from typing import Any
from urllib.error import HTTPError, URLError
from urllib.parse import quote
from urllib.request import HTTPCookieProcessor, Request, build_opener

DEFAULT_TIMEOUT = 60.0


class SupersetError(RuntimeError):
    """Superset refused a request or could not be reached; the message says which and why."""

    def __init__(self, message: str, status: int | None = None, body: Any = None) -> None:
        super().__init__(message)
        self.status = status
        self.body = body


def dashboard_resource(embedded_uuid: str) -> dict[str, str]:
    """A guest-token resource: one embedded dashboard, by its embedded uuid
    (not the dashboard id; see `SupersetClient.ensure_embedded`)."""
    return {"type": "dashboard", "id": embedded_uuid}


class SupersetClient:
    """Superset's REST API as the service account (an admin).

    `base_url` is where this process reaches Superset (SUPERSET_URL), which
    may differ from the address browsers use (SUPERSET_PUBLIC_URL).
    """

    def __init__(self, base_url: str, username: str, password: str, timeout: float = DEFAULT_TIMEOUT):
        self.base_url = base_url.rstrip("/")
        self.username = username
        self.password = password
        self.timeout = timeout
        self.lock = threading.RLock()
        self._cookies = CookieJar()
        self._opener = build_opener(HTTPCookieProcessor(self._cookies))
        self._access_token: str | None = None
        self._csrf_token: str | None = None

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> SupersetClient:
        """A client for the app's settings (SUPERSET_URL, SUPERSET_USERNAME, SUPERSET_PASSWORD)."""
        if not config.get("SUPERSET_PASSWORD"):
            raise SupersetError(
                "SUPERSET_PASSWORD is not set: set it to the password of the Superset "
                f"account {config.get('SUPERSET_USERNAME') or 'admin'!r} the app signs in as"
            )
        return cls(config["SUPERSET_URL"], config["SUPERSET_USERNAME"], config["SUPERSET_PASSWORD"])

    # --- sessions ---------------------------------------------------------------

    def health(self) -> bool:
        """Whether Superset answers its health check."""
        try:
            with self._opener.open(self.base_url + "/health", timeout=5) as response:
                return bool(response.status == 200)
        except (URLError, OSError):
            return False

    def login(self) -> None:
        """Sign in with the service account; later calls carry its access token."""
        with self.lock:
            self._access_token = None
            self._csrf_token = None
            body = self._call(
                "POST",
                "/api/v1/security/login",
                json_body={
                    "username": self.username,
                    "password": self.password,
                    "provider": "db",
                    "refresh": False,
                },
                authenticated=False,
            )
            self._access_token = body["access_token"]

    def csrf_token(self) -> str:
        """The CSRF token every POST, PUT and DELETE needs (bound to this client's cookies)."""
        with self.lock:
            if self._csrf_token is None:
                self._csrf_token = self.get("/api/v1/security/csrf_token/")["result"]
            return self._csrf_token

    # --- plain calls --------------------------------------------------------------

    def get(self, path: str) -> Any:
        return self.request("GET", path)

    def post(self, path: str, payload: Any) -> Any:
        return self.request("POST", path, json_body=payload)

    def put(self, path: str, payload: Any) -> Any:
        return self.request("PUT", path, json_body=payload)

    def request(
        self,
        method: str,
        path: str,
        *,
        json_body: Any = None,
        form: Mapping[str, str] | None = None,
        files: Mapping[str, tuple[str, bytes, str]] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> Any:
        """Call the API as the service account: logs in first if need be, and
        once more if the access token has expired."""
        with self.lock:
            if self._access_token is None:
                self.login()
            try:
                return self._call(method, path, json_body=json_body, form=form, files=files, headers=headers)
            except SupersetError as error:
                if error.status != 401:
                    raise
                self.login()
                return self._call(method, path, json_body=json_body, form=form, files=files, headers=headers)

    # --- dashboards -----------------------------------------------------------------

    def import_assets(self, bundle: bytes, passwords: Mapping[str, str] | None = None) -> None:
        """Apply an export bundle (zip), overwriting databases, datasets, charts
        and dashboards with the same uuids (`superset import-dashboards` would
        keep old charts and datasets)."""
        form = {"overwrite": "true"}
        if passwords:
            form["passwords"] = json.dumps(dict(passwords))
        self.request(
            "POST",
            "/api/v1/assets/import/",
            form=form,
            files={"bundle": ("bundle.zip", bundle, "application/zip")},
        )

    def dashboard(self, id_or_slug: int | str) -> dict[str, Any]:
        result: dict[str, Any] = self.get(f"/api/v1/dashboard/{quote(str(id_or_slug))}")["result"]
        return result

    def dashboard_charts(self, id_or_slug: int | str) -> list[dict[str, Any]]:
        """The charts on a dashboard, each with its `form_data` (params)."""
        result: list[dict[str, Any]] = self.get(f"/api/v1/dashboard/{quote(str(id_or_slug))}/charts")[
            "result"
        ]
        return result

    def chart(self, chart_id: int) -> dict[str, Any]:
        result: dict[str, Any] = self.get(f"/api/v1/chart/{chart_id}")["result"]
        return result

    def embedded_uuid(self, dashboard_id: int) -> str | None:
        """The uuid of the dashboard's embedded config, or None when it has none."""
        try:
            result = self.get(f"/api/v1/dashboard/{dashboard_id}/embedded")["result"]
        except SupersetError as error:
            if error.status == 404:
                return None
            raise
        return str(result["uuid"])

    def ensure_embedded(self, dashboard_id: int, allowed_domains: Iterable[str] = ()) -> str:
        """Make the dashboard embeddable and return its embedded uuid.

        POSTing again keeps the uuid and updates the allowed domains, so this
        is safe to repeat; an empty list allows any origin that holds a guest token."""
        result = self.post(
            f"/api/v1/dashboard/{dashboard_id}/embedded", {"allowed_domains": list(allowed_domains)}
        )["result"]
        return str(result["uuid"])

    # --- guest tokens and chart data -------------------------------------------------

    def guest_token(
        self,
        resources: list[dict[str, str]],
        rls: list[dict[str, Any]],
        user: Mapping[str, str] | None = None,
        *,
        unrestricted: bool = False,
    ) -> str:
        """A short-lived token that lets a browser (or `chart_data`) read the given
        embedded dashboards, with every query limited by the `rls` clauses.

        `resources`: `[dashboard_resource(embedded_uuid), ...]`.
        `rls`: e.g. `[rls_clause("organisation:5")]` (monitor.access.viewers). An empty list would let
        the guest read every viewer's rows, so it is refused unless
        `unrestricted=True` says that is meant.
        `user`: shown in Superset's logs, e.g. {"username": "user-12",
        "first_name": "Ann", "last_name": "Smith"}.
        """
        if not rls and not unrestricted:
            raise ValueError("a guest token without row-level security rules would show every viewer's rows")
        payload: dict[str, Any] = {"resources": resources, "rls": rls}
        payload["user"] = dict(user) if user else {"username": f"guest-{uuid.uuid4().hex[:8]}"}
        return str(self.post("/api/v1/security/guest_token/", payload)["token"])

    def chart_data(
        self, query_context: Mapping[str, Any], guest_token: str | None = None
    ) -> list[dict[str, Any]]:
        """Run a chart's query context (POST /api/v1/chart/data) and return its
        results, one per query, each with `data` (rows as dicts) and `colnames`.

        With `guest_token` the request is made as that guest, not as the
        service account, exactly as an embedded dashboard makes it."""
        if guest_token is None:
            body = self.request("POST", "/api/v1/chart/data", json_body=query_context)
        else:
            body = self._call(
                "POST",
                "/api/v1/chart/data",
                json_body=query_context,
                headers={"X-GuestToken": guest_token},
                authenticated=False,
            )
        results: list[dict[str, Any]] = body["result"]
        return results

    # --- the wire ---------------------------------------------------------------------

    def _call(
        self,
        method: str,
        path: str,
        *,
        json_body: Any = None,
        form: Mapping[str, str] | None = None,
        files: Mapping[str, tuple[str, bytes, str]] | None = None,
        headers: Mapping[str, str] | None = None,
        authenticated: bool = True,
    ) -> Any:
        all_headers = {"Accept": "application/json", "Referer": self.base_url + "/"}
        data: bytes | None = None
        if files is not None or form is not None:
            data, content_type = _multipart(form or {}, files or {})
            all_headers["Content-Type"] = content_type
        elif json_body is not None:
            data = json.dumps(json_body).encode("utf-8")
            all_headers["Content-Type"] = "application/json"
        if authenticated:
            all_headers["Authorization"] = f"Bearer {self._access_token}"
            if method != "GET" and path != "/api/v1/security/csrf_token/":
                all_headers["X-CSRFToken"] = self.csrf_token()
        all_headers.update(headers or {})
        request = Request(self.base_url + path, data=data, headers=all_headers, method=method)  # noqa: S310
        try:
            with self._opener.open(request, timeout=self.timeout) as response:
                raw = response.read()
        except HTTPError as error:
            raw = error.read()
            body = _json_or_text(raw)
            raise SupersetError(
                f"Superset refused {method} {path} ({error.code}): {_reason(body)}", error.code, body
            ) from error
        except (URLError, OSError) as error:
            raise SupersetError(
                f"Superset is not reachable at {self.base_url} ({error}); start it "
                "(`superset_config/superset.sh start`) or set SUPERSET_URL"
            ) from error
        return _json_or_text(raw)


def _json_or_text(raw: bytes) -> Any:
    try:
        return json.loads(raw)
    except ValueError:
        return raw.decode("utf-8", "replace")


def _reason(body: Any) -> str:
    if isinstance(body, dict):
        for key in ("message", "msg", "errors", "error"):
            if body.get(key):
                return json.dumps(body[key]) if not isinstance(body[key], str) else body[key]
        return json.dumps(body)[:500]
    return str(body)[:500]


def _multipart(form: Mapping[str, str], files: Mapping[str, tuple[str, bytes, str]]) -> tuple[bytes, str]:
    boundary = uuid.uuid4().hex
    parts: list[bytes] = []
    for name, value in form.items():
        parts.append(
            f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode()
        )
    for name, (filename, content, content_type) in files.items():
        parts.append(
            (
                f"--{boundary}\r\n"
                f'Content-Disposition: form-data; name="{name}"; filename="{filename}"\r\n'
                f"Content-Type: {content_type}\r\n\r\n"
            ).encode()
            + content
            + b"\r\n"
        )
    parts.append(f"--{boundary}--\r\n".encode())
    return b"".join(parts), f"multipart/form-data; boundary={boundary}"
