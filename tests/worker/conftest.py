"""The worker tests use the framework fixtures of the return tests.

Below them, processes shared by the tests that start real workers and
brokers (tests/faults): a Redis server of the test's own and a celery worker."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path

from tests.kpis.conftest import frameworks, library  # noqa: F401 - fixtures

ROOT = Path(__file__).resolve().parents[2]
REDIS_SERVER = os.environ.get("TEST_REDIS_SERVER", "/usr/bin/redis-server")
WORKER_STARTUP_SECONDS = 120  # building the app is slow on a busy machine


def free_port() -> int:
    """A TCP port nothing listens on at the moment, on loopback."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def stop_process(process: subprocess.Popen[bytes], grace: float = 15) -> None:
    """SIGTERM, then SIGKILL if it has not stopped within `grace` seconds."""
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(grace)
        except subprocess.TimeoutExpired:
            process.kill()
    process.wait(grace)


class RedisServer:
    """A redis-server of the test's own on a free port, never the machine's:
    no persistence, so stopping it loses every message, as a crash would."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.port = free_port()
        self.process: subprocess.Popen[bytes] | None = None

    def url(self, database: int = 0) -> str:
        return f"redis://127.0.0.1:{self.port}/{database}"

    def start(self) -> None:
        assert self.process is None or self.process.poll() is not None, "already running"
        log = (self.folder / f"redis-{self.port}.log").open("ab")
        command = [REDIS_SERVER, "--port", str(self.port), "--bind", "127.0.0.1", "--save", ""]
        command += ["--appendonly", "no", "--dir", str(self.folder)]
        self.process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)
        log.close()
        deadline = time.monotonic() + 10
        while True:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5) as connection:
                    connection.sendall(b"PING\r\n")
                    if connection.recv(16).startswith(b"+PONG"):
                        return
            except OSError:
                pass
            assert self.process.poll() is None, f"redis-server stopped on port {self.port}"
            assert time.monotonic() < deadline, f"redis-server did not answer on port {self.port}"
            time.sleep(0.05)

    def stop(self) -> None:
        if self.process is not None:
            stop_process(self.process, grace=5)
            self.process = None


def worker_environment(database_url: str, broker: str, today: str, **extra: str) -> dict[str, str]:
    """The environment of a worker process on the test's database and broker."""
    return {
        **os.environ,
        "MONITOR_ENV": "test",
        "DATABASE_URL": database_url,
        "MONITOR_TODAY": today,
        "CELERY_BROKER_URL": broker,
        "SECRET_KEY": "worker-test-" + "x" * 40,
        "PYTHONUNBUFFERED": "1",
        **extra,
    }


def start_worker(
    env: dict[str, str], log: Path, *, module: str = "celery", options: tuple[str, ...] = ()
) -> subprocess.Popen[bytes]:
    """`python -m <module> -A monitor.worker worker` (solo pool, one task at a
    time), returned once it says it is ready; its output goes to `log`.
    `module` may be a test launcher that patches the app and then runs celery."""
    command = [sys.executable, "-m", module, "-A", "monitor.worker", "worker", "--pool=solo", "-c", "1"]
    command += ["-n", f"test-{uuid.uuid4().hex[:8]}@%h", "--without-mingle", "--without-gossip"]
    command += ["--loglevel=INFO", *options]
    offset = log.stat().st_size if log.exists() else 0
    with log.open("ab") as output:
        process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=output, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + WORKER_STARTUP_SECONDS
    while " ready." not in log.read_bytes()[offset:].decode(errors="replace"):
        if process.poll() is not None or time.monotonic() > deadline:
            stop_process(process)
            raise AssertionError(f"the worker did not start:\n{log.read_text(errors='replace')}")
        time.sleep(0.1)
    return process
