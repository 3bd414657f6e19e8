"""The real OpenID Connect provider the single sign-on tests run against (provider.mjs), and a client for its test endpoints."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urljoin, urlsplit

import requests

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "tests" / "oidc" / "provider.mjs"
CLIENT_ID = "monitor-test-client"
CLIENT_SECRET = "test-client-secret-not-real"
TEST_REDIRECT_URI = "http://localhost/sso/callback"  # the Flask test client's host


@dataclass
class OidcProvider:
    issuer: str
    process: subprocess.Popen[bytes]
    http: requests.Session = field(default_factory=requests.Session)

    def _post(self, name: str, body: dict[str, Any]) -> dict[str, Any]:
        response = self.http.post(f"{self.issuer}/__test__/{name}", json=body, timeout=10)
        response.raise_for_status()
        result: dict[str, Any] = response.json()
        return result

    def set_accounts(self, *accounts: dict[str, Any]) -> None:
        self._post("accounts", {"accounts": list(accounts)})

    def set_redirect_uris(self, *uris: str) -> None:
        self._post("client", {"redirect_uris": list(uris)})

    def rotate_key(self, keep_old: bool = False) -> str:
        return str(self._post("rotate", {"keep_old": keep_old})["kid"])

    def tamper_next_id_token(
        self, claims: dict[str, Any] | None = None, unpublished_key: bool = False
    ) -> None:
        self._post("tamper", {"claims": claims or {}, "unpublished_key": unpublished_key})

    def stats(self) -> dict[str, Any]:
        return self._post("stats", {})

    def reset(self) -> None:
        """No tampering left armed from an earlier test."""
        self._post("reset", {})

    def sign_in_at_provider(self, authorize_url: str, email: str) -> str:
        """Go through the provider's own sign-in as a person would: returns the URL it sends them back to."""
        browser = requests.Session()
        url = authorize_url
        for _ in range(10):
            response = browser.get(url, allow_redirects=False, timeout=10)
            if response.is_redirect:
                url = urljoin(url, response.headers["Location"])
                if not url.startswith(self.issuer):
                    return url
                continue
            if urlsplit(url).path.startswith("/interaction/") and response.status_code == 200:
                posted = browser.post(url, data={"email": email}, allow_redirects=False, timeout=10)
                if not posted.is_redirect:
                    raise AssertionError(
                        f"the provider refused the sign-in: {posted.status_code} {posted.text[:300]}"
                    )
                url = urljoin(url, posted.headers["Location"])
                continue
            raise AssertionError(
                f"unexpected answer from the provider at {url}: {response.status_code} {response.text[:300]}"
            )
        raise AssertionError("the provider redirected too many times")


@contextmanager
def running_provider(redirect_uris: list[str]) -> Iterator[OidcProvider]:
    """Start provider.mjs under the machine's node on a free loopback port; stop it afterwards."""
    node = shutil.which("node")
    if node is None or not (ROOT / "node_modules" / "oidc-provider").is_dir():
        raise RuntimeError("node and node_modules/oidc-provider are needed: run `make assets` (npm ci)")
    env = {
        **os.environ,
        "PORT": "0",
        "WATCH_STDIN": "1",
        "CLIENT_ID": CLIENT_ID,
        "CLIENT_SECRET": CLIENT_SECRET,
        "REDIRECT_URIS": ",".join(redirect_uris),
    }
    process = subprocess.Popen(
        [node, str(SCRIPT)],
        cwd=ROOT,
        env=env,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline().decode()
        if not line.startswith("{"):
            raise RuntimeError(f"the test provider did not start (exit code {process.poll()}): {line!r}")
        provider = OidcProvider(json.loads(line)["issuer"], process)
        yield provider
    finally:
        if process.stdin is not None:
            process.stdin.close()
        try:
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        if process.stdout is not None:
            process.stdout.close()
