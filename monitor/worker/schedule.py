"""The beat schedule: what the worker does without being asked.

- The outbox is drained every minute: a catch-up for changes whose message
  to the worker was lost (Redis or the worker was down when they committed).
- Reminders go out every working day in the morning (Monday to Friday; the
  task itself skips bank holidays).
- Board packs due that day go to the boards' members early every working
  day (Monday to Friday; the task itself skips bank holidays).
- The warehouse is rebuilt in full at night.
- The as-at date is rolled just after midnight, so snapshots, statuses and
  days to the end and to notice read as at the new day.

Times are the app's settings (SCHEDULE_*), in SCHEDULE_TIMEZONE.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import timedelta
from typing import Any

from celery.schedules import crontab

from monitor.config import ConfigError

DRAIN = "drain the outbox"
REMINDERS = "send reminders"
FULL_RUN = "nightly full ETL run"
ROLL_DATE = "roll the as-at date"
BOARD_PACKS = "deliver board packs"

_CLOCK = re.compile(r"^([01]?\d|2[0-3]):([0-5]\d)$")


def _at(config: Mapping[str, Any], name: str, **days: str) -> crontab:
    value = str(config[name]).strip()
    matched = _CLOCK.match(value)
    if matched is None:
        raise ConfigError(f"{name} must be a time of day on the 24-hour clock, like 07:30, got {value!r}")
    return crontab(hour=int(matched[1]), minute=int(matched[2]), **days)


def beat_schedule(config: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """Celery's beat_schedule for these settings."""
    drain_every = int(config["SCHEDULE_DRAIN_SECONDS"])
    if drain_every < 1:
        raise ConfigError(f"SCHEDULE_DRAIN_SECONDS must be 1 or more, got {drain_every}")
    return {
        DRAIN: {
            "task": "monitor.worker.tasks.refresh_warehouse",
            "schedule": timedelta(seconds=drain_every),
            # A drain left waiting behind a long run is not worth doing late:
            # the next one a minute on covers the same rows.
            "options": {"expires": drain_every},
        },
        REMINDERS: {
            "task": "monitor.worker.tasks.send_reminders",
            "schedule": _at(config, "SCHEDULE_REMINDERS_AT", day_of_week="mon-fri"),
        },
        BOARD_PACKS: {
            "task": "monitor.worker.tasks.deliver_board_packs",
            "schedule": _at(config, "SCHEDULE_BOARD_PACKS_AT", day_of_week="mon-fri"),
        },
        FULL_RUN: {
            "task": "monitor.worker.tasks.nightly_full_run",
            "schedule": _at(config, "SCHEDULE_FULL_RUN_AT"),
        },
        ROLL_DATE: {
            "task": "monitor.worker.tasks.roll_as_at_date",
            "schedule": _at(config, "SCHEDULE_ROLL_DATE_AT"),
        },
    }
