"""Where Superset keeps what its processes share, for each profile.

The demo (the default) is one process: caches in memory, chart data never
cached, filter state and explore form data in the metadata database, no
Celery worker. Production runs several web workers and a Celery worker
beside them, so everything they share lives in PostgreSQL (the metadata) and
Redis (the caches, the worker's queue and results). README.md in this folder
lists every variable.

Read by superset_config.py; standard library only and nothing runs at import
time, so the tests can check the settings without Superset's Python.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

PROFILES = ("demo", "production")
DEFAULT_KEY_PREFIX = "superset:"
# How long a chart's rows are served from Redis before the warehouse is asked
# again: the most a dashboard may lag the warehouse after an ETL run.
DEFAULT_DATA_CACHE_SECONDS = 60
# Superset's own defaults for the two kinds of state that are not caches:
# a shared dashboard filter or an explore link must outlive a restart.
FILTER_STATE_SECONDS = 90 * 24 * 3600
EXPLORE_FORM_DATA_SECONDS = 7 * 24 * 3600
# Superset objects (bootstrap data, table lists): short, they change with permissions.
CACHE_SECONDS = 300
# The queue Superset's worker takes tasks from, apart from the app's workers'
# queue even when both use the same Redis.
CELERY_QUEUE = "superset"
# The Celery tasks Superset defines (its own CeleryConfig's list). With alerts
# and reports, thumbnails and global async queries off, the worker runs SQL
# Lab's asynchronous queries and cache warm-up when asked.
CELERY_IMPORTS = (
    "superset.sql_lab",
    "superset.tasks.scheduler",
    "superset.tasks.thumbnails",
    "superset.tasks.cache",
    "superset.tasks.slack",
)


class SettingsError(RuntimeError):
    """Every problem with the production settings, one sentence each."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("Superset will not start: " + " ".join(problems))
        self.problems = problems


def profile(environ: Mapping[str, str]) -> str:
    """SUPERSET_PROFILE, or production when the whole deployment is (MONITOR_ENV)."""
    chosen = environ.get("SUPERSET_PROFILE", "").strip().lower()
    if not chosen:
        return "production" if environ.get("MONITOR_ENV") == "production" else "demo"
    if chosen not in PROFILES:
        raise SettingsError([f"SUPERSET_PROFILE is {chosen!r}. Set it to demo or production."])
    return chosen


@dataclass(frozen=True)
class Production:
    """The production profile's settings, under the names Superset reads."""

    metadata_url: str
    redis_url: str
    broker_url: str
    key_prefix: str
    data_cache_seconds: int

    def redis_cache(self, name: str, seconds: int) -> dict[str, Any]:
        """A Flask-Caching Redis cache whose keys all start `<prefix><name>:`."""
        return {
            "CACHE_TYPE": "RedisCache",
            "CACHE_REDIS_URL": self.redis_url,
            "CACHE_KEY_PREFIX": f"{self.key_prefix}{name}:",
            "CACHE_DEFAULT_TIMEOUT": seconds,
        }

    def cache_config(self) -> dict[str, Any]:
        return self.redis_cache("cache", CACHE_SECONDS)

    def data_cache_config(self) -> dict[str, Any]:
        if self.data_cache_seconds == 0:
            return {"CACHE_TYPE": "NullCache"}
        return self.redis_cache("data", self.data_cache_seconds)

    def cache_default_timeout(self) -> int:
        """Superset's CACHE_DEFAULT_TIMEOUT, which chart data takes when the chart,
        dataset and database set none. Never 0: to Redis that means no expiry."""
        return self.data_cache_seconds or CACHE_SECONDS

    def filter_state_cache_config(self) -> dict[str, Any]:
        return {
            **self.redis_cache("filter_state", FILTER_STATE_SECONDS),
            "REFRESH_TIMEOUT_ON_RETRIEVAL": True,
        }

    def explore_form_data_cache_config(self) -> dict[str, Any]:
        return {
            **self.redis_cache("explore_form_data", EXPLORE_FORM_DATA_SECONDS),
            "REFRESH_TIMEOUT_ON_RETRIEVAL": True,
        }

    def results_key_prefix(self) -> str:
        """SQL Lab's asynchronous results (RESULTS_BACKEND), written by the worker."""
        return f"{self.key_prefix}results:"

    def ratelimit_storage_options(self) -> dict[str, Any]:
        return {"key_prefix": f"{self.key_prefix}ratelimit"}

    def celery_config(self) -> type:
        """Superset's CELERY_CONFIG: broker and results on Redis, every key
        under `<prefix>celery:`, tasks on the `superset` queue, no beat schedule."""
        celery_prefix = f"{self.key_prefix}celery:"

        class CeleryConfig:
            broker_url = self.broker_url
            result_backend = self.broker_url
            broker_transport_options = {"global_keyprefix": celery_prefix}
            result_backend_transport_options = {"global_keyprefix": celery_prefix}
            broker_connection_retry_on_startup = True
            imports = CELERY_IMPORTS
            task_default_queue = CELERY_QUEUE
            worker_prefetch_multiplier = 1
            task_acks_late = False
            task_annotations = {"sql_lab.get_sql_results": {"rate_limit": "100/s"}}
            # Nothing is scheduled: alerts and reports are off, and the app's
            # own beat holds the deployment's schedule.
            beat_schedule: dict[str, Any] = {}

        return CeleryConfig


def production(environ: Mapping[str, str]) -> Production:
    """The production settings from the environment, or SettingsError naming
    every variable that is missing or wrong."""
    problems: list[str] = []
    metadata_url = environ.get("SUPERSET_METADATA_URL", "").strip()
    if not metadata_url:
        problems.append(
            "SUPERSET_METADATA_URL is not set. Set it to Superset's own PostgreSQL database, "
            "like postgresql://superset@db.internal/superset."
        )
    elif urlsplit(metadata_url).scheme.split("+")[0] != "postgresql":
        problems.append(
            "SUPERSET_METADATA_URL is not a PostgreSQL address. Production keeps Superset's "
            "metadata in PostgreSQL, like postgresql://superset@db.internal/superset."
        )
    redis_url = environ.get("SUPERSET_REDIS_URL", "").strip()
    if not redis_url:
        problems.append(
            "SUPERSET_REDIS_URL is not set. Set it to the Redis database Superset's caches use, "
            "like redis://127.0.0.1:6379/1."
        )
    elif urlsplit(redis_url).scheme not in ("redis", "rediss"):
        problems.append("SUPERSET_REDIS_URL must start redis:// or rediss://, like redis://127.0.0.1:6379/1.")
    broker_url = environ.get("SUPERSET_CELERY_BROKER_URL", "").strip() or redis_url
    if broker_url and urlsplit(broker_url).scheme not in ("redis", "rediss"):
        problems.append(
            "SUPERSET_CELERY_BROKER_URL must start redis:// or rediss://, like redis://127.0.0.1:6379/2."
        )
    key_prefix = environ.get("SUPERSET_REDIS_KEY_PREFIX", DEFAULT_KEY_PREFIX)
    if not key_prefix.strip():
        problems.append(
            "SUPERSET_REDIS_KEY_PREFIX is empty. Leave it unset (superset:) or give Superset's keys a prefix."
        )
    seconds_text = environ.get("SUPERSET_DATA_CACHE_TIMEOUT", "").strip() or str(DEFAULT_DATA_CACHE_SECONDS)
    data_cache_seconds = -1
    if seconds_text.isdigit():
        data_cache_seconds = int(seconds_text)
    else:
        problems.append(
            f"SUPERSET_DATA_CACHE_TIMEOUT is {seconds_text!r}. Set it to a whole number of seconds, "
            f"like {DEFAULT_DATA_CACHE_SECONDS}, or 0 to turn the chart data cache off."
        )
    if problems:
        raise SettingsError(problems)
    return Production(metadata_url, redis_url, broker_url, key_prefix, data_cache_seconds)


def main(argv: list[str]) -> int:
    """`python production.py profile`: print the profile the environment
    chooses, after checking the production settings when it is production
    (superset.sh asks before starting anything)."""
    if argv != ["profile"]:
        print("usage: production.py profile", file=sys.stderr)
        return 2
    try:
        chosen = profile(os.environ)
        if chosen == "production":
            production(os.environ)
    except SettingsError as error:
        print("\n".join(error.problems), file=sys.stderr)
        return 1
    print(chosen)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
