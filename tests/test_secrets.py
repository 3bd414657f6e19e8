"""Secrets: the rule for an acceptable one, the generated file, and who refuses a bad one.

The rule (`monitor.secret_keys`) is pure and has one home; the app's
production settings and Superset's settings (in every environment) call it.
Superset's refusal is tested by executing superset_config.py in Superset's
own Python, as Superset does, with bad values in the environment.
"""

from __future__ import annotations

import os
import secrets
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from monitor import secret_keys
from monitor.config import ConfigError, load_config

ROOT = Path(__file__).resolve().parents[1]
SUPERSET_PYTHON = Path(os.environ.get("SUPERSET_VENV", ROOT / ".superset-venv")) / "bin" / "python"
SCRIPT = ROOT / "monitor" / "secret_keys.py"


def random_secret() -> str:
    return secrets.token_urlsafe(48)


# --- the rule -------------------------------------------------------------------------


def test_a_long_random_value_is_accepted() -> None:
    assert secret_keys.secret_problem("SECRET_KEY", random_secret()) is None
    assert secret_keys.secret_problem("SECRET_KEY", "a" * 31 + "b") is None


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        (None, "is not set"),
        ("", "is not set"),
        ("k" * 31, "is 31 characters long"),
        # Superset's own defaults, public in its source.
        ("CHANGE_ME_TO_A_COMPLEX_RANDOM_SECRET", "published default"),
        ("test-guest-secret-change-me" + "!" * 10, "published default"),
        # The fixed keys this repository's tests and benchmarks use.
        ("test-secret-" + "x" * 32, "published default"),
        ("bench-" + "x" * 40, "published default"),
        # Placeholders, whatever their punctuation and case.
        ("Please-CHANGE-me-before-going-live-0123456789", "published default"),
        ("DEV_ONLY_" + random_secret(), "published default"),
        ("not_for_production_" + random_secret(), "published default"),
    ],
)
def test_a_missing_short_or_published_value_is_refused(value: str | None, reason: str) -> None:
    problem = secret_keys.secret_problem("SECRET_KEY", value)
    assert problem is not None and reason in problem
    assert problem.startswith("SECRET_KEY ")
    assert "secrets.token_urlsafe" in problem  # says how to make a good one


def test_two_jobs_sharing_one_key_are_refused() -> None:
    key = random_secret()
    assert secret_keys.secret_problems({"SUPERSET_SECRET_KEY": key, "SUPERSET_GUEST_TOKEN_SECRET": key}) == [
        "SUPERSET_GUEST_TOKEN_SECRET is the same as SUPERSET_SECRET_KEY. Give each its own random value."
    ]
    assert secret_keys.secret_problems({"SECRET_KEY": key}, others={"SUPERSET_GUEST_TOKEN_SECRET": key}) == [
        "SUPERSET_GUEST_TOKEN_SECRET is the same as SECRET_KEY. Give each its own random value."
    ]
    # Keys set elsewhere are compared only with the required ones, never judged themselves.
    assert secret_keys.secret_problems({"SECRET_KEY": key}, others={"A": "short", "B": ""}) == []


def test_every_problem_is_reported_at_once() -> None:
    problems = secret_keys.secret_problems(
        {"SUPERSET_SECRET_KEY": "short", "SUPERSET_GUEST_TOKEN_SECRET": "short"}
    )
    assert len(problems) == 3, problems


# --- the generated file ---------------------------------------------------------------


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_the_file_is_made_once_private_and_random_then_reused(tmp_path: Path) -> None:
    path = tmp_path / "instance" / "secrets.env"
    first = secret_keys.ensure(path)
    assert mode(path) == 0o600
    assert set(first) == set(secret_keys.GENERATED)
    assert len(set(first.values())) == len(first), "every secret must differ"
    for name, value in first.items():
        if name.endswith("PASSWORD"):
            assert len(value) >= 20
        else:
            assert secret_keys.secret_problem(name, value) is None
    assert secret_keys.ensure(path) == first  # reused, not remade
    assert secret_keys.read(path) == first
    # Another checkout gets its own.
    other = secret_keys.ensure(tmp_path / "other" / "secrets.env")
    assert not set(other.values()) & set(first.values())


def test_a_missing_name_is_added_and_the_rest_kept(tmp_path: Path) -> None:
    path = tmp_path / "secrets.env"
    path.write_text("# by hand\nSECRET_KEY=" + "k" * 40 + "\n", encoding="utf-8")
    path.chmod(0o644)
    values = secret_keys.ensure(path)
    assert values["SECRET_KEY"] == "k" * 40
    assert set(values) == set(secret_keys.GENERATED)
    assert mode(path) == 0o600  # a readable file is made private again
    assert secret_keys.read(path) == values


def test_deleting_the_file_rotates_every_secret(tmp_path: Path) -> None:
    path = tmp_path / "secrets.env"
    before = secret_keys.ensure(path)
    path.unlink()
    after = secret_keys.ensure(path)
    assert all(before[name] != after[name] for name in secret_keys.GENERATED)


def run_script(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    # Run by path with a plain Python, as the Makefile and superset.sh do.
    return subprocess.run(
        [sys.executable, "-I", str(SCRIPT), *args],
        capture_output=True,
        text=True,
        check=False,
        env=env if env is not None else {"PATH": os.environ.get("PATH", "")},
    )


def test_the_command_exports_what_the_environment_lacks(tmp_path: Path) -> None:
    path = tmp_path / "secrets.env"
    made = run_script("ensure", str(path))
    assert made.returncode == 0 and made.stdout == ""
    assert "generated" in made.stderr and mode(path) == 0o600
    values = secret_keys.read(path)
    exported = run_script("env", str(path), "SECRET_KEY", "SUPERSET_ADMIN_PASSWORD")
    assert exported.returncode == 0, exported.stderr
    assert exported.stdout.splitlines() == [
        f"export SECRET_KEY={values['SECRET_KEY']}",
        f"export SUPERSET_ADMIN_PASSWORD={values['SUPERSET_ADMIN_PASSWORD']}",
    ]
    # A value set by hand wins: the command says nothing about it.
    by_hand = run_script("env", str(path), "SECRET_KEY", env={"SECRET_KEY": random_secret()})
    assert by_hand.returncode == 0 and by_hand.stdout == ""
    assert run_script("env", str(path), "NO_SUCH_SECRET").returncode == 1
    assert run_script("rotate", str(path)).returncode == 2


# --- the app --------------------------------------------------------------------------


@pytest.fixture
def production(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_URL", "postgresql+psycopg://db/monitor")
    for name in ("SECRET_KEY", "SUPERSET_SECRET_KEY", "SUPERSET_GUEST_TOKEN_SECRET"):
        monkeypatch.delenv(name, raising=False)


@pytest.mark.usefixtures("production")
@pytest.mark.parametrize(
    "value", ["", "k" * 31, "CHANGE_ME_TO_A_COMPLEX_RANDOM_SECRET", "test-secret-" + "x" * 32]
)
def test_production_refuses_a_bad_secret_key(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, value: str
) -> None:
    monkeypatch.setenv("SECRET_KEY", value)
    with pytest.raises(ConfigError, match="SECRET_KEY"):
        load_config(tmp_path, "production")
    assert not (tmp_path / "secrets.env").exists()  # production never makes one


@pytest.mark.usefixtures("production")
@pytest.mark.parametrize("superset_name", ["SUPERSET_SECRET_KEY", "SUPERSET_GUEST_TOKEN_SECRET"])
def test_production_refuses_a_key_shared_with_superset(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, superset_name: str
) -> None:
    key = random_secret()
    monkeypatch.setenv("SECRET_KEY", key)
    assert load_config(tmp_path, "production").SECRET_KEY == key
    monkeypatch.setenv(superset_name, key)
    with pytest.raises(ConfigError, match=f"{superset_name} is the same as SECRET_KEY"):
        load_config(tmp_path, "production")


def test_development_uses_the_instance_secrets_file(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("SECRET_KEY", raising=False)
    config = load_config(tmp_path, "development")
    path = tmp_path / "secrets.env"
    assert mode(path) == 0o600
    assert config.SECRET_KEY == secret_keys.read(path)["SECRET_KEY"]
    assert secret_keys.secret_problem("SECRET_KEY", config.SECRET_KEY) is None
    # The same key after a restart, so sessions survive it.
    assert load_config(tmp_path, "development").SECRET_KEY == config.SECRET_KEY
    monkeypatch.setenv("SECRET_KEY", "set-by-hand-" + "k" * 30)
    assert load_config(tmp_path, "development").SECRET_KEY == "set-by-hand-" + "k" * 30


def test_tests_get_a_fresh_random_key(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("SECRET_KEY", raising=False)
    first, second = load_config(tmp_path, "test").SECRET_KEY, load_config(tmp_path, "test").SECRET_KEY
    assert first != second
    assert secret_keys.secret_problem("SECRET_KEY", first) is None
    assert not (tmp_path / "secrets.env").exists()


def test_the_apps_cookies_are_named_apart_from_superset(tmp_path: Path) -> None:
    config = load_config(tmp_path, "test")
    assert config.SESSION_COOKIE_NAME == "monitor_session"
    assert config.REMEMBER_COOKIE_NAME == "monitor_remember_token"


# --- Superset -------------------------------------------------------------------------


def superset_settings(**secrets_env: str) -> subprocess.CompletedProcess[str]:
    """Execute superset_config.py in Superset's Python with only these secrets set."""
    if not SUPERSET_PYTHON.is_file():
        pytest.fail(
            f"Superset is not installed at {SUPERSET_PYTHON}: run `make superset-venv`", pytrace=False
        )
    env = {
        name: value
        for name, value in os.environ.items()
        if name not in ("SUPERSET_SECRET_KEY", "SUPERSET_GUEST_TOKEN_SECRET", "MONITOR_ENV")
    }
    env.update(secrets_env)
    code = (
        "import runpy, sys; settings = runpy.run_path(sys.argv[1]); "
        "print(settings['SESSION_COOKIE_NAME'], settings['REMEMBER_COOKIE_NAME'], settings['SESSION_COOKIE_SECURE'])"
    )
    return subprocess.run(
        [str(SUPERSET_PYTHON), "-c", code, str(ROOT / "superset_config" / "superset_config.py")],
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )


def test_superset_starts_with_two_good_keys() -> None:
    result = superset_settings(
        SUPERSET_SECRET_KEY=random_secret(), SUPERSET_GUEST_TOKEN_SECRET=random_secret()
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split()[-3:] == ["superset_session", "superset_remember_token", "False"]


def test_superset_cookies_are_secure_in_production() -> None:
    result = superset_settings(
        SUPERSET_SECRET_KEY=random_secret(),
        SUPERSET_GUEST_TOKEN_SECRET=random_secret(),
        MONITOR_ENV="production",
        # Production also needs its metadata database and Redis (superset_config/production.py);
        # only read here, never connected to.
        SUPERSET_METADATA_URL="postgresql://127.0.0.1:5432/superset_meta",
        SUPERSET_REDIS_URL="redis://127.0.0.1:6379/13",
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split()[-1] == "True"


SHARED = random_secret()


@pytest.mark.parametrize(
    ("secrets_env", "reason"),
    [
        ({}, "SUPERSET_SECRET_KEY is not set"),
        ({"SUPERSET_SECRET_KEY": random_secret()}, "SUPERSET_GUEST_TOKEN_SECRET is not set"),
        (
            {"SUPERSET_SECRET_KEY": "short", "SUPERSET_GUEST_TOKEN_SECRET": random_secret()},
            "SUPERSET_SECRET_KEY is 5 characters long",
        ),
        (
            {
                "SUPERSET_SECRET_KEY": random_secret(),
                "SUPERSET_GUEST_TOKEN_SECRET": "test-guest-secret-change-me-" + random_secret(),
            },
            "SUPERSET_GUEST_TOKEN_SECRET is a published default",
        ),
        (
            {
                "SUPERSET_SECRET_KEY": "CHANGE_ME_TO_A_COMPLEX_RANDOM_SECRET",
                "SUPERSET_GUEST_TOKEN_SECRET": random_secret(),
            },
            "SUPERSET_SECRET_KEY is a published default",
        ),
        (
            {"SUPERSET_SECRET_KEY": SHARED, "SUPERSET_GUEST_TOKEN_SECRET": SHARED},
            "SUPERSET_GUEST_TOKEN_SECRET is the same as SUPERSET_SECRET_KEY",
        ),
    ],
)
def test_superset_refuses_to_start_with_a_bad_key_in_any_environment(
    secrets_env: dict[str, str], reason: str
) -> None:
    # No MONITOR_ENV at all: development is no excuse.
    result = superset_settings(**secrets_env)
    assert result.returncode != 0
    assert "Superset will not start" in result.stderr and reason in result.stderr, result.stderr
