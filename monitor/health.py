"""`/healthz`: whether this app process can serve, for load balancers and systemd.

It answers without signing in and says only what a probe needs: the app is
up and its database answers a trivial query. It does not look at Redis or
the Celery worker on purpose: changes still commit when they are down (the
outbox keeps them), so they must not take the app out of a load balancer.
The worker has its own check (`celery -A monitor.worker inspect ping`).
"""

from __future__ import annotations

import logging
from typing import Any

from flask import Blueprint, jsonify
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from monitor.db import db

log = logging.getLogger(__name__)

blueprint = Blueprint("health", __name__)


@blueprint.get("/healthz")
def healthz() -> Any:
    try:
        with db.engine.connect() as connection:
            connection.execute(text("SELECT 1"))
    except SQLAlchemyError:
        # The detail (host, user, driver message) goes to the log, never to the probe.
        log.warning("health check: the database did not answer", exc_info=True)
        return jsonify(
            {"status": "unavailable", "database": "unreachable", "reason": "The database did not answer."}
        ), 503
    return jsonify({"status": "ok", "database": "ok"}), 200
