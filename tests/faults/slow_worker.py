"""A celery worker whose warehouse runs stop half-way, for the fault tests.

    python -m tests.faults.slow_worker -A monitor.worker worker ...

Runs celery as `python -m celery` does, with one change when
FAULT_PAUSE_MARKER is set: each ETL run, having loaded its rows into the
warehouse inside its still-open transaction, writes that file and then
sleeps before its quality checks. A test waits for the file and kills the
worker, so the kill lands inside the run every time."""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path
from typing import Any

PAUSE_SECONDS = 300


def _pause_before_checks() -> None:
    marker = os.environ.get("FAULT_PAUSE_MARKER")
    if not marker:
        return
    import etl.run

    checks = etl.run.run_checks

    def paused(*args: Any, **kwargs: Any) -> Any:
        Path(marker).write_text(str(os.getpid()), encoding="utf-8")
        time.sleep(PAUSE_SECONDS)
        return checks(*args, **kwargs)

    etl.run.run_checks = paused


def main() -> None:
    _pause_before_checks()
    from celery.__main__ import main as celery

    sys.argv[0] = "celery"
    celery()


if __name__ == "__main__":
    main()
