"""Secrets: whether one is acceptable, and the generated file the demo keeps them in.

One home for both rules, used by the app's settings (`monitor.config`), by
Superset's (`superset_config/superset_config.py` loads this file by path, as
Superset's Python does not have the app installed) and by the command line:

    python monitor/secret_keys.py ensure instance/secrets.env
    eval "$(python monitor/secret_keys.py env instance/secrets.env SECRET_KEY ...)"

`ensure` creates the file once per checkout with fresh random values, mode
0600, and afterwards only reads it (adding any name it lacks), so sessions
and the Superset admin's password survive a restart. Delete the file to
rotate every secret. `env` prints `export NAME=value` lines for the names the
environment does not already set, so a value set by hand always wins.

Standard library only, and nothing runs at import time.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import shlex
import sys
from collections.abc import Iterable, Mapping
from pathlib import Path

MIN_LENGTH = 32
HOW_TO_MAKE_ONE = 'python3 -c "import secrets; print(secrets.token_urlsafe(48))"'

# What the demo's file holds: the app's session key, Superset's session key
# and guest-token signing key, and the password of the Superset admin the
# app signs in as. The app never needs the guest-token key: it asks Superset
# for guest tokens through Superset's API.
GENERATED = ("SECRET_KEY", "SUPERSET_SECRET_KEY", "SUPERSET_GUEST_TOKEN_SECRET", "SUPERSET_ADMIN_PASSWORD")
_PASSWORD_BYTES = 18  # 24 characters
_KEY_BYTES = 48  # 64 characters

# Values published somewhere an attacker can read them: Superset's own
# defaults and documented example, and the fixed values this repository's
# tests and benchmarks use. The development defaults it once shipped (in its
# history) are placeholders that _PLACEHOLDER_WORDS catches.
_PUBLISHED_VALUES = frozenset(
    {
        "CHANGE_ME_TO_A_COMPLEX_RANDOM_SECRET",  # Superset's SECRET_KEY default
        "test-guest-secret-change-me",  # Superset's GUEST_TOKEN_JWT_SECRET default
        "test-secret-change-me",  # Superset's GLOBAL_ASYNC_QUERIES_JWT_SECRET default
        "YOUR_OWN_RANDOM_GENERATED_SECRET_KEY",  # the example in Superset's documentation
        "test-secret-" + "x" * 32,  # tests/conftest.py
        "bench-" + "x" * 40,  # bench/
    }
)
# Words only a placeholder contains, compared without case or punctuation
# ("Dev Only", "Change me!", "not_for_production" ...).
_PLACEHOLDER_WORDS = (
    "changeme",
    "notsecret",
    "notforproduction",
    "devonly",
    "yoursecret",
    "insecure",
    "testsecret",
    "guestsecret",
    "placeholder",
    "example",
    "thisismyscretkey",  # Superset's default SECRET_KEY before 2.1
)


def is_published(value: str) -> bool:
    """Whether the value is one anyone could look up (a default, an example, a placeholder)."""
    squashed = "".join(character for character in value.lower() if character.isalnum())
    return value in _PUBLISHED_VALUES or any(word in squashed for word in _PLACEHOLDER_WORDS)


def secret_problem(name: str, value: str | None) -> str | None:
    """Why `value` will not do as the signing key `name`, in a sentence; None when it will."""
    if not value:
        return f"{name} is not set. Set it to a random value of at least {MIN_LENGTH} characters: {HOW_TO_MAKE_ONE}"
    if len(value) < MIN_LENGTH:
        return (
            f"{name} is {len(value)} characters long. Set it to a random value of at least {MIN_LENGTH} "
            f"characters: {HOW_TO_MAKE_ONE}"
        )
    if is_published(value):
        return (
            f"{name} is a published default or placeholder, so anyone could sign with it. Set it to a new "
            f"random value: {HOW_TO_MAKE_ONE}"
        )
    return None


def secret_problems(
    required: Mapping[str, str | None], others: Mapping[str, str | None] | None = None
) -> list[str]:
    """Every problem with the `required` secrets, and any two of them (or one of
    them and one of `others`, set elsewhere) that are the same value: a key
    shared between two jobs lets whoever holds one forge the other's tokens."""
    problems = [problem for name, value in required.items() if (problem := secret_problem(name, value))]
    seen: dict[str, str] = {}
    for name, value in [*required.items(), *(others or {}).items()]:
        if not value:
            continue
        if value in seen:
            if name in required or seen[value] in required:
                problems.append(f"{name} is the same as {seen[value]}. Give each its own random value.")
        else:
            seen[value] = name
    return problems


# --- the generated file ---------------------------------------------------------------


def _fresh(name: str) -> str:
    return secrets.token_urlsafe(_PASSWORD_BYTES if name.endswith("PASSWORD") else _KEY_BYTES)


def read(path: Path) -> dict[str, str]:
    """NAME=value lines; blank lines and # comments are skipped."""
    values: dict[str, str] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if not line or line.startswith("#") or "=" not in line:
            continue
        name, value = line.split("=", 1)
        values[name.strip()] = value.strip()
    return values


def _text(values: Mapping[str, str]) -> str:
    lines = [
        "# Generated once per checkout by monitor/secret_keys.py; never commit it.",
        "# Delete this file to rotate every secret (the next `make` run makes new ones).",
        *(f"{name}={value}" for name, value in values.items()),
    ]
    return "\n".join(lines) + "\n"


def _write_new(path: Path, values: Mapping[str, str], replace: bool) -> None:
    """Write the whole file at once with mode 0600: to a private temporary file
    first, then into place, so no reader sees half a file or a readable one."""
    temporary = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
            handle.write(_text(values))
        if replace:
            os.replace(temporary, path)
        else:
            os.link(temporary, path)  # fails if another process made the file first
    finally:
        temporary.unlink(missing_ok=True)


def ensure(path: Path, names: Iterable[str] = GENERATED) -> dict[str, str]:
    """The secrets in `path`, creating the file (mode 0600, random values) the
    first time and adding any of `names` it lacks; existing values are kept."""
    path.parent.mkdir(parents=True, exist_ok=True)
    wanted = list(names)
    if not path.exists():
        # Another process may make it at the same moment: then use theirs.
        with contextlib.suppress(FileExistsError):
            _write_new(path, {name: _fresh(name) for name in wanted}, replace=False)
    if path.stat().st_mode & 0o077:
        os.chmod(path, 0o600)
    values = read(path)
    missing = [name for name in wanted if not values.get(name)]
    if missing:
        values.update({name: _fresh(name) for name in missing})
        _write_new(path, values, replace=True)
    return values


def main(argv: list[str]) -> int:
    usage = "usage: secret_keys.py ensure FILE | env FILE [NAME ...]"
    if len(argv) < 2 or argv[0] not in ("ensure", "env"):
        print(usage, file=sys.stderr)
        return 2
    path = Path(argv[1])
    created = not path.exists()
    values = ensure(path)
    if created:
        print(f"secrets: generated {path} (mode 0600); delete it to rotate them", file=sys.stderr)
    if argv[0] == "env":
        for name in argv[2:] or GENERATED:
            if name not in values:
                print(f"secrets: {path} has no {name}", file=sys.stderr)
                return 1
            if not os.environ.get(name):
                print(f"export {name}={shlex.quote(values[name])}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
