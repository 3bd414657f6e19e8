"""The Celery app, built from a Flask app so every task runs in its app context."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from celery import Celery, Task
from flask import Flask

from monitor import outbox
from monitor.worker.schedule import beat_schedule

log = logging.getLogger(__name__)

CELERY_KEY = "celery"
REFRESH_WAREHOUSE = "monitor.worker.tasks.refresh_warehouse"


def make_celery(app: Flask) -> Celery:
    """A Celery app for `app`, kept in app.extensions["celery"]."""

    class AppTask(Task):
        def __call__(self, *args: Any, **kwargs: Any) -> Any:
            with app.app_context():
                return self.run(*args, **kwargs)

    config = app.config
    connect_timeout = int(config["CELERY_BROKER_CONNECT_TIMEOUT"])
    celery = Celery(app.import_name, task_cls=AppTask, set_as_current=False)
    celery.conf.update(
        broker_url=config["CELERY_BROKER_URL"],
        broker_connection_timeout=connect_timeout,
        broker_connection_retry_on_startup=True,
        broker_transport_options={
            "visibility_timeout": int(config["CELERY_VISIBILITY_TIMEOUT"]),
            "socket_connect_timeout": connect_timeout,
            # Above the worker's one-second BRPOP, so an idle worker never times out.
            "socket_timeout": connect_timeout + 3,
        },
        # Publishing from a request tries once: the outbox row is the promise,
        # the message only a hurry-up.
        task_publish_retry=False,
        # A task is acknowledged when it has finished, one at a time: a worker
        # killed mid-run leaves its task to be handed out again.
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        worker_prefetch_multiplier=1,
        task_ignore_result=True,
        result_backend=None,
        # The app's JSON logs stay as they are.
        worker_hijack_root_logger=False,
        timezone=config["SCHEDULE_TIMEZONE"],
        enable_utc=True,
        beat_schedule=beat_schedule(config),
        beat_schedule_filename=str(Path(app.instance_path) / "celerybeat-schedule"),
    )
    from monitor.worker import tasks  # noqa: F401 - the tasks register with every Celery app

    app.extensions[CELERY_KEY] = celery
    return celery


class Nudge:
    """Tells the worker to drain the outbox, from a thread of its own, so a
    request never waits on the broker (redis-py retries a refused connection
    for seconds). Nudges that come while one is being sent are merged into
    one more: a drain takes every pending row, so one message after the last
    commit is enough. A nudge that fails is logged; the scheduled drain
    catches up."""

    def __init__(self, send: Callable[[], object]) -> None:
        self._send = send
        self._lock = threading.Lock()
        self._sending = False
        self._again = False

    def __call__(self) -> None:
        with self._lock:
            if self._sending:
                self._again = True
                return
            self._sending = True
        threading.Thread(target=self._run, name="outbox-nudge", daemon=True).start()

    def _run(self) -> None:
        while True:
            try:
                self._send()
            except Exception as error:
                log.warning(
                    "the worker could not be told of a change; the scheduled drain will pick it up",
                    extra={"error": f"{type(error).__name__}: {error}"},
                )
            with self._lock:
                if not self._again:
                    self._sending = False
                    return
                self._again = False

    def wait(self, timeout: float = 10) -> bool:
        """For tests: True once no nudge is being sent."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self._lock:
                if not self._sending:
                    return True
            time.sleep(0.01)
        return False


def install(app: Flask) -> Celery:
    """Give `app` its Celery app, and write outbox rows for its changes, telling
    the worker after each commit that wrote one."""
    celery = make_celery(app)
    outbox.install(app, Nudge(lambda: celery.send_task(REFRESH_WAREHOUSE, retry=False)))
    return celery
