"""The users of bench/peak.py, for locust: run only by bench/peak.py, which
writes the plan (who signs in with what, which returns each works on) to the
JSON file named by PEAK_PLAN and reads back the events this file appends to
the plan's `events` file (one JSON object a line: every upload and its
answer, every acceptance and when it was answered).

- ProviderUser: an API client of a provider (a token of its own). Works
  through its returns for the quarter: reads the return, downloads the
  template, fills it; some upload it with a figure typed as a word first
  (422), then the fixed workbook (201). Queried returns are sent again.
- CommissionerUser: a council's commissioner through the API. Reads the
  returns of the contracts it leads and, once a provider has uploaded,
  queries some (the provider sends it again) and accepts the rest.
- BoardUser: a board member in the browser: signs in, opens a dashboard's
  page and asks for its guest token, as the page's script does.
- ApiClient: pages through the register, 100 contracts a page.
- SoloUser: each of the above in turn, one at a time: the one-user baseline.
"""

from __future__ import annotations

import hashlib
import json
import os
import random
import re
import threading
import time
from itertools import count
from typing import Any

from locust import HttpUser, between, events, task
from locust.exception import StopUser

from bench.returns import fill

PLAN: dict[str, Any] = json.loads(open(os.environ["PEAK_PLAN"], encoding="utf-8").read())  # noqa: SIM115
_LOCK = threading.Lock()
_EVENTS = open(PLAN["events"], "a", encoding="utf-8")  # noqa: SIM115 - closed when locust exits
_CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')
_DATA_CSRF = re.compile(r'data-csrf-token="([^"]+)"')
_requests = count(1)


def record(kind: str, **fields: Any) -> None:
    line = json.dumps({"kind": kind, "t": time.time(), **fields})
    with _LOCK:
        _EVENTS.write(line + "\n")
        _EVENTS.flush()


@events.request.add_listener
def _count(name: str, response: Any = None, exception: Any = None, **_kwargs: Any) -> None:
    """Record server errors (5xx, or no answer at all); stop the run once it
    has sent the plan's most requests."""
    status = getattr(response, "status_code", 0) or 0
    if status >= 500 or (exception is not None and status == 0):
        record("server_error", name=name, status=status, error=str(exception)[:200] if exception else "")
    if next(_requests) == PLAN["max_requests"]:
        record("cap", requests=PLAN["max_requests"])
        runner = _environment.runner if _environment is not None else None
        if runner is not None:
            runner.quit()


_environment: Any = None


@events.user_error.add_listener
def _client_error(user_instance: Any, exception: BaseException, tb: Any, **_kwargs: Any) -> None:
    """A bench bug, not the app's: counted, so a run with any is not trusted."""
    record("client_error", user=type(user_instance).__name__, error=repr(exception)[:300])


@events.init.add_listener
def _keep(environment: Any, **_kwargs: Any) -> None:
    global _environment
    _environment = environment


# Each user class takes the next entry of its list in the plan.
_taken = {name: count() for name in ("providers", "commissioners", "boards", "api_clients", "solo")}


def _take(kind: str) -> dict[str, Any]:
    entries = PLAN[kind]
    index = next(_taken[kind])
    if index >= len(entries):
        raise StopUser()
    entry: dict[str, Any] = entries[index]
    return entry


def _api_headers(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}", "Accept": "application/json"}


# --- what each kind of user does, shared with the one-user baseline ----------------


def _tokens(entry: dict[str, Any]) -> dict[tuple[int, str], dict[str, str]]:
    """Each target's headers: one token for all, or (the baseline's user) one per target."""
    tokens = entry.get("tokens") or [entry["token"]] * len(entry["targets"])
    return {(t[0], t[1]): _api_headers(token) for t, token in zip(entry["targets"], tokens, strict=True)}


class Provider:
    def __init__(self, user: HttpUser, entry: dict[str, Any]) -> None:
        self.user = user
        self.headers_for = _tokens(entry)
        self.targets = list(self.headers_for)
        self.uploaded: set[tuple[int, str]] = set()
        low, high = PLAN["fix_seconds"]
        self.fix_seconds: tuple[float, float] = (low, high)

    def work(self) -> bool:
        """One step on one return; False when nothing is left to do."""
        open_targets = [t for t in self.targets if t not in self.uploaded]
        target = random.choice(open_targets or self.targets)
        contract_id, period = target
        self.headers = self.headers_for[target]
        base = f"/api/v1/contracts/{contract_id}/returns/{period}"
        with self.user.client.get(
            base, headers=self.headers, name="GET return (provider)", catch_response=True
        ) as response:
            if response.status_code != 200:
                response.failure(f"{response.status_code}")
                return True
            state = response.json()["state"]
        queried = state == "queried"
        if target in self.uploaded and not queried:
            return bool(open_targets)
        template = self.user.client.get(f"{base}/template", headers=self.headers, name="GET template")
        if template.status_code != 200:
            return True
        if random.random() < PLAN["error_share"]:
            self.upload(
                base, target, fill(template.content, outcome_rows=0, broken=True, explain=True), broken=True
            )
            # Reading the messages and correcting the cell in Excel.
            time.sleep(random.uniform(*self.fix_seconds))
        self.upload(
            base, target, fill(template.content, outcome_rows=0, explain=True), broken=False, resubmit=queried
        )
        return True

    def upload(
        self, base: str, target: tuple[int, str], content: bytes, *, broken: bool, resubmit: bool = False
    ) -> None:
        name = (
            "POST return (with an error)"
            if broken
            else ("POST return (resubmitted)" if resubmit else "POST return")
        )
        sha = hashlib.sha256(content).hexdigest()
        files = {"file": (f"{target[0]}-{target[1]}.xlsx", content)}
        data = {"submit": "true", "acknowledge_warnings": "true"}
        with self.user.client.post(
            base, headers=self.headers, files=files, data=data, name=name, catch_response=True
        ) as response:
            status = response.status_code
            body = _json(response)
            expected = 422 if broken else 201
            if status == expected:
                response.success()
            else:
                response.failure(f"{status} (expected {expected}): {str(body.get('message', ''))[:200]}")
        record(
            "upload",
            contract_id=target[0],
            period=target[1],
            status=status,
            broken=broken,
            sha256=sha,
            version=body.get("version") if status == 201 else None,
            answered_sha256=body.get("sha256") if status == 201 else None,
            message=_problems(body) if status != 201 else "",
        )
        if status == 201:
            self.uploaded.add(target)


class Commissioner:
    def __init__(self, user: HttpUser, entry: dict[str, Any]) -> None:
        self.user = user
        self.headers_for = _tokens(entry)
        self.targets = list(self.headers_for)
        self.done: set[tuple[int, str]] = set()

    def work(self) -> bool:
        open_targets = [t for t in self.targets if t not in self.done]
        if not open_targets:
            return False
        contract_id, period = target = random.choice(open_targets)
        self.headers = self.headers_for[target]
        base = f"/api/v1/contracts/{contract_id}/returns/{period}"
        with self.user.client.get(
            base, headers=self.headers, name="GET return (commissioner)", catch_response=True
        ) as response:
            if response.status_code != 200:
                response.failure(f"{response.status_code}")
                return True
            detail = response.json()
        versions = detail["versions"]
        # Only what a provider uploaded in this run (the register's own versions have no uploader).
        if (
            detail["state"] not in ("submitted", "resubmitted")
            or not versions
            or versions[-1]["uploaded_by"] is None
        ):
            return True
        queried_before = sum(1 for e in detail["events"] if e["kind"] == "queried")
        action = "query" if queried_before == 0 and random.random() < PLAN["query_share"] else "accept"
        body: dict[str, Any] = {"revision": detail["revision"]}
        if action == "query":
            body["comment"] = "The referrals total looks high against last quarter: please check it"
        with self.user.client.post(
            f"{base}/{action}", headers=self.headers, json=body, name=f"POST {action}", catch_response=True
        ) as response:
            status = response.status_code
            if status == 200 or status == 409:
                # 409: the provider sent a new version while it was being read; read it again.
                response.success()
            else:
                response.failure(f"{status}: {str(_json(response).get('message', ''))[:200]}")
        if action == "accept":
            record("accept", contract_id=contract_id, period=period, status=status)
            if status == 200:
                self.done.add(target)
        return True


class Board:
    def __init__(self, user: HttpUser, entry: dict[str, Any]) -> None:
        self.user = user
        self.entry = entry

    def sign_in(self) -> None:
        page = self.user.client.get("/sign-in", name="GET /sign-in")
        token = _CSRF.search(page.text)
        data = {"email": self.entry["email"], "password": self.entry["password"]}
        data["csrf_token"] = token.group(1) if token else ""
        with self.user.client.post(
            "/sign-in", data=data, name="POST /sign-in", catch_response=True
        ) as response:
            if response.status_code != 200 or "/sign-in" in response.url:
                response.failure(f"not signed in ({response.status_code}, {response.url})")

    def work(self) -> bool:
        if not PLAN["guest_tokens"]:
            # Without Superset a dashboard's page says it is not available (503): the list only.
            self.user.client.get("/dashboards", name="GET /dashboards")
            return True
        slug = random.choice(PLAN["slugs"])
        with self.user.client.get(
            f"/dashboards/{slug}", name="GET /dashboards/<slug>", catch_response=True
        ) as page:
            if page.status_code != 200:
                page.failure(f"{page.status_code}")
                return True
            token = _DATA_CSRF.search(page.text)
        headers = {"X-CSRFToken": token.group(1) if token else "", "Accept": "application/json"}
        with self.user.client.post(
            f"/dashboards/{slug}/guest-token",
            headers=headers,
            name="POST /dashboards/<slug>/guest-token",
            catch_response=True,
        ) as response:
            if response.status_code != 200 or not _json(response).get("token"):
                response.failure(f"{response.status_code}: {response.text[:200]}")
        return True


class Pager:
    def __init__(self, user: HttpUser, entry: dict[str, Any]) -> None:
        self.user = user
        self.headers = _api_headers(entry["token"])
        self.page = 1

    def work(self) -> bool:
        with self.user.client.get(
            f"/api/v1/contracts?page={self.page}&per_page=100",
            headers=self.headers,
            name="GET /api/v1/contracts?page=n",
            catch_response=True,
        ) as response:
            if response.status_code != 200:
                response.failure(f"{response.status_code}")
                return True
            pages = response.json()["pages"]
        self.page = self.page % max(pages, 1) + 1
        return True


def _problems(body: dict[str, Any]) -> str:
    problems = "; ".join(
        f"{e.get('sheet', e.get('field', ''))} {e.get('cell', '')}: {e.get('message', '')}"
        for e in body.get("errors", [])[:3]
    )
    return f"{body.get('message', '')} [{problems}]"[:600]


def _json(response: Any) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


# --- the locust users ---------------------------------------------------------------


def _wait(kind: str) -> Any:
    low, high = PLAN["wait_seconds"][kind]
    return between(low, high)


class ProviderUser(HttpUser):
    fixed_count = len(PLAN["providers"])
    wait_time = _wait("provider")

    def on_start(self) -> None:
        self.role = Provider(self, _take("providers"))

    @task
    def step(self) -> None:
        self.role.work()


class CommissionerUser(HttpUser):
    fixed_count = len(PLAN["commissioners"])
    wait_time = _wait("commissioner")

    def on_start(self) -> None:
        self.role = Commissioner(self, _take("commissioners"))

    @task
    def step(self) -> None:
        self.role.work()


class BoardUser(HttpUser):
    fixed_count = len(PLAN["boards"])
    wait_time = _wait("board")

    def on_start(self) -> None:
        self.role = Board(self, _take("boards"))
        self.role.sign_in()

    @task
    def step(self) -> None:
        self.role.work()


class ApiClient(HttpUser):
    fixed_count = len(PLAN["api_clients"])
    wait_time = _wait("api")

    def on_start(self) -> None:
        self.role = Pager(self, _take("api_clients"))

    @task
    def step(self) -> None:
        self.role.work()


class SoloUser(HttpUser):
    """One user doing every kind of work in turn, with short pauses: the baseline."""

    fixed_count = 1
    wait_time = between(0.5, 1.0)

    def on_start(self) -> None:
        solo = PLAN["solo"][int(os.environ.get("PEAK_SOLO", "0"))]
        provider = Provider(self, solo["provider"])
        provider.fix_seconds = (0.5, 1.0)  # one user alone: the pause only spaces the requests
        board = Board(self, solo["board"])
        board.sign_in()
        self.roles: list[Provider | Commissioner | Board | Pager] = [
            provider,
            Commissioner(self, solo["commissioner"]),
            board,
            Pager(self, solo["api_client"]),
        ]

    @task
    def step(self) -> None:
        for role in self.roles:
            role.work()
