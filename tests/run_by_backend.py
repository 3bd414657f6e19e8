"""Run the suite once per database backend, the backends side by side.

`make pytest` runs this. Each backend's tests share nothing with the other's
(their own databases, templates, Superset and browser), so two pytest
processes, one per backend, use both cores of a two-core machine where one
process left one idle while it waited on PostgreSQL, Superset or Chromium.
The tests that need no database run once, in the first backend's process,
and so do the benches (they need the PostgreSQL server, not a test database),
which keeps the two runs about the same length.

    python -m tests.run_by_backend [pytest arguments]

TEST_DATABASES chooses the backends as it does for pytest itself (default
"sqlite,postgresql"); with one backend this is plain pytest. Each line of
output is prefixed with its backend, and the exit status is the worst of
the runs'.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import threading
from pathlib import Path
from typing import IO

from tests.conftest import BACKENDS


def _relay(stream: IO[str], prefix: str, lock: threading.Lock) -> None:
    for line in stream:
        with lock:
            sys.stdout.write(f"{prefix}{line}")
            sys.stdout.flush()


def main(arguments: list[str]) -> int:
    if len(BACKENDS) < 2:
        return subprocess.call([sys.executable, "-m", "pytest", *arguments])
    width = max(len(backend) for backend in BACKENDS)
    lock = threading.Lock()
    runs: list[tuple[str, subprocess.Popen[str], threading.Thread]] = []
    with tempfile.TemporaryDirectory(prefix="monitor-pytest-") as scratch:
        for index, backend in enumerate(BACKENDS):
            first = index == 0
            env = {
                **os.environ,
                "TEST_DATABASES": backend,
                "TEST_DATABASE_TESTS_ONLY": "0" if first else "1",
                # The benches need the PostgreSQL server but no test database:
                # they go with the first run, which has the fewer database tests.
                "TEST_POSTGRESQL_SERVER_TESTS": "1" if first and "postgresql" in BACKENDS else "0",
                # Lines, not a terminal: no colour codes in the log.
                "PY_COLORS": "0",
            }
            process = subprocess.Popen(
                [sys.executable, "-m", "pytest", f"--basetemp={Path(scratch) / backend}", *arguments],
                env=env,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                text=True,
                bufsize=1,
            )
            assert process.stdout is not None
            relay = threading.Thread(target=_relay, args=(process.stdout, f"[{backend:<{width}}] ", lock))
            relay.start()
            runs.append((backend, process, relay))
        codes = {}
        for backend, process, relay in runs:
            codes[backend] = process.wait()
            relay.join()
    for backend, code in codes.items():
        print(f"{backend}: {'passed' if code == 0 else f'failed (pytest exit code {code})'}")
    return max(codes.values())


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
