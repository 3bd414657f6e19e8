"""Background work: Celery on Redis, fed by the outbox (see README.md here).

    celery -A monitor.worker worker      the worker
    celery -A monitor.worker beat        the schedule (one beat per installation)

`celery` is this package's Celery app, built from the Flask app (settings
from the environment, as wsgi.py builds it) when Celery first asks for it,
never on import. The web app gets its own through `install` in create_app.
"""

from __future__ import annotations

from functools import cache

from celery import Celery

from monitor.worker.factory import CELERY_KEY, install, make_celery

__all__ = ["install", "make_celery"]


@cache
def _celery() -> Celery:
    from monitor import create_app  # the worker's counterpart of wsgi.py

    app = create_app()
    celery: Celery = app.extensions[CELERY_KEY]
    return celery


def __getattr__(name: str) -> Celery:
    if name == "celery":
        return _celery()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
