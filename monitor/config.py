"""Settings from environment variables, one class per environment.

Nothing here reads the environment at import time: `load_config()` builds the
settings when the app is created, so tests can set variables first.
"""

from __future__ import annotations

import os
import re
import secrets
from dataclasses import dataclass, field
from pathlib import Path

from monitor import secret_box, secret_keys

# Where development keeps its generated secrets (`make` writes it; see
# monitor/secret_keys.py), relative to the instance folder.
SECRETS_FILE = "secrets.env"


class ConfigError(RuntimeError):
    """A setting is missing or unsafe; the message names it."""


def _int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError as error:
        raise ConfigError(f"{name} must be a whole number, got {raw!r}") from error


# Prefixes are issued to publishers: OCDS "ocds-" and six letters or digits,
# 360Giving "360G-" and the publisher's own part.
_OCID_PREFIX = re.compile(r"^ocds-[a-z0-9]{6}$")
_GIVING_PREFIX = re.compile(r"^360G-[A-Za-z0-9_-]+$")


def _check_open_data(config: BaseConfig) -> None:
    if not _OCID_PREFIX.match(config.OCID_PREFIX):
        raise ConfigError(
            f"OCID_PREFIX must be 'ocds-' and six lower-case letters or digits, like ocds-b5fd17, "
            f"got {config.OCID_PREFIX!r}"
        )
    if not _GIVING_PREFIX.match(config.GIVING_PREFIX):
        raise ConfigError(
            f"GIVING_PREFIX must be '360G-' and your 360Giving prefix, like 360G-example, "
            f"got {config.GIVING_PREFIX!r}"
        )


def _default_sqlite_url(instance_path: Path) -> str:
    return f"sqlite:///{instance_path / 'monitor.sqlite3'}"


@dataclass
class BaseConfig:
    """Settings shared by every environment."""

    ENV_NAME: str = "development"
    # Set by load_config: SECRET_KEY from the environment, or in development
    # the instance's generated secrets file, or in tests a random one.
    SECRET_KEY: str = ""
    DATABASE_URL: str = ""
    # Largest request body we accept (forms, JSON and later uploads).
    MAX_CONTENT_LENGTH: int = 5 * 1024 * 1024
    # Named apart from Superset's (superset_session): in the demo both are
    # served from 127.0.0.1, cookies do not keep to a port, and two cookies
    # called `session` overwrite each other, signing the user out.
    SESSION_COOKIE_NAME: str = "monitor_session"
    REMEMBER_COOKIE_NAME: str = "monitor_remember_token"
    SESSION_COOKIE_HTTPONLY: bool = True
    SESSION_COOKIE_SAMESITE: str = "Lax"
    SESSION_COOKIE_SECURE: bool = False
    REMEMBER_COOKIE_SECURE: bool = False
    PERMANENT_SESSION_LIFETIME: int = 8 * 60 * 60
    WTF_CSRF_ENABLED: bool = True
    WTF_CSRF_TIME_LIMIT: int | None = None
    # Sign-in throttling: this many failures within the window locks the
    # account (and the client address) for the lockout period.
    LOGIN_MAX_FAILURES: int = 5
    LOGIN_FAILURE_WINDOW_MINUTES: int = 15
    LOGIN_LOCKOUT_MINUTES: int = 15
    # A signed-in session ends after this many minutes without a request.
    SESSION_IDLE_MINUTES: int = 30
    # Two-factor authentication (TOTP): always required of admins; of
    # commissioners too when this is on. Optional for everyone else, and never
    # asked of people who sign in through their organisation's provider.
    REQUIRE_MFA: bool = False
    # Password reset and invitation links: how long each lasts, and how many
    # reset requests one address or one client may make in an hour.
    PASSWORD_RESET_HOURS: int = 2
    INVITATION_DAYS: int = 7
    PASSWORD_RESET_REQUESTS_PER_HOUR: int = 3
    # Keys for secrets stored in the database (single sign-on client secrets,
    # TOTP secrets), comma-separated Fernet keys, newest first so old ones can
    # still decrypt during a rotation. Empty: one key derived from SECRET_KEY.
    DATA_ENCRYPTION_KEYS: str = ""
    # Renewal lead times in calendar months; authorities differ.
    DECISION_LEAD_MONTHS: int = 2
    PROCUREMENT_LEAD_MONTHS: int = 9
    REGISTER_PAGE_SIZE: int = 25
    # Returns are due this many working days after the quarter ends.
    RETURN_DUE_WORKING_DAYS: int = 15
    # Largest return workbook accepted, and the most it may unpack to
    # (a zip bomb is a small file that unpacks to gigabytes).
    MAX_UPLOAD_BYTES: int = 4 * 1024 * 1024
    MAX_UNPACKED_BYTES: int = 60 * 1024 * 1024
    # A change on last quarter bigger than this (per cent) needs a comment.
    PERIOD_CHANGE_WARNING_PCT: int = 50
    # Board-facing counts from 1 to this are shown as [c] (GSS disclosure control).
    DISCLOSURE_THRESHOLD: int = 4
    # Outcome measures (authorities and tools differ, so these are settings).
    OUTCOME_SMALL_SAMPLE: int = 30
    SDQ_RELIABLE_CHANGE: int = 5
    WEMWBS_MEANINGFUL_CHANGE: int = 3
    SWEMWBS_MEANINGFUL_CHANGE: int = 1
    # SDQ total difficulties: the top score of "close to average", "slightly
    # raised" and "high" for each informant (the four-band categories).
    SDQ_BAND_CUTOFFS: dict[str, list[int]] = field(
        default_factory=lambda: {"teacher": [11, 15, 18], "parent": [13, 16, 19], "self": [14, 17, 19]}
    )
    WEMWBS_LOW_WELLBEING_MAX: float = 40
    SWEMWBS_LOW_WELLBEING_MAX: float = 19.5
    # Mail: in development and tests reminders are written to OUTBOX_DIR.
    MAIL_FROM: str = "returns@commissioning-monitor.invalid"
    # The public address of this service, so emails can carry whole links.
    SERVICE_URL: str = ""
    SMTP_HOST: str = ""
    SMTP_PORT: int = 587
    SMTP_USERNAME: str = ""
    SMTP_PASSWORD: str = ""
    SMTP_STARTTLS: bool = True
    OUTBOX_DIR: str = ""
    # Demo installations run "as at" a fixed date so 2013 contracts read as live.
    # Argon2id cost; the defaults are argon2-cffi's recommended settings.
    ARGON2_TIME_COST: int = 3
    ARGON2_MEMORY_KIB: int = 65536
    TODAY: str = ""
    DEMO_BANNER: bool = False
    # The warehouse: schema `warehouse` of DATABASE_URL on PostgreSQL; on
    # SQLite a file beside the app database (see etl.engine.warehouse_url_for).
    WAREHOUSE_URL: str = ""
    # How far back each ETL run looks for changes committed during the last one.
    ETL_WATERMARK_OVERLAP_SECONDS: int = 60
    # Background work (monitor/worker): Celery on Redis. A change that affects
    # the warehouse writes an outbox row in its own transaction; the worker
    # drains the outbox, so no web request runs the ETL. No result backend:
    # tasks report through the logs and the warehouse's run log.
    CELERY_BROKER_URL: str = "redis://127.0.0.1:6379/0"
    # Seconds a web request waits for the broker before giving up on telling
    # the worker (the change is committed either way; the beat drain catches up).
    CELERY_BROKER_CONNECT_TIMEOUT: int = 2
    # On Redis, a task a killed worker had taken is handed out again after
    # this many seconds; it must be longer than the longest task (a full ETL
    # run at national scale takes about 3 minutes).
    CELERY_VISIBILITY_TIMEOUT: int = 3600
    # The beat schedule, in the timezone below: the outbox is drained every
    # minute (a catch-up if a message to the worker was lost), reminders go out
    # on working days, the warehouse is rebuilt in full at night and the as-at
    # date is rolled just after midnight, and board packs due that day are
    # sent early on working days.
    SCHEDULE_TIMEZONE: str = "Europe/London"
    SCHEDULE_DRAIN_SECONDS: int = 60
    SCHEDULE_REMINDERS_AT: str = "07:30"
    SCHEDULE_FULL_RUN_AT: str = "02:30"
    SCHEDULE_ROLL_DATE_AT: str = "00:05"
    SCHEDULE_BOARD_PACKS_AT: str = "06:30"
    # A board's pack is emailed to its members this many working days before
    # each of its meetings (see monitor/reports/delivery.py).
    BOARD_PACK_WORKING_DAYS_BEFORE: int = 5
    # Where the worker writes the open data packages it publishes and the board
    # packs it builds (default: folders in the instance folder).
    OPEN_DATA_DIR: str = ""
    BOARD_PACK_DIR: str = ""
    # Superset: where the app reaches it (API, guest tokens), where browsers
    # reach it (the embedded dashboards), and the service account the app
    # uses to ask for guest tokens and to provision dashboards.
    SUPERSET_URL: str = "http://127.0.0.1:8088"
    SUPERSET_PUBLIC_URL: str = ""
    SUPERSET_USERNAME: str = "admin"
    SUPERSET_PASSWORD: str = ""
    # Open data (OCDS and 360Giving). OCID_PREFIX is the prefix the Open
    # Contracting Partnership registers for a publisher, GIVING_PREFIX the one
    # 360Giving issues; the defaults are for demonstrations only. Package
    # addresses are built on SERVICE_URL.
    OCID_PREFIX: str = "ocds-demo00"
    GIVING_PREFIX: str = "360G-demo"
    OPEN_DATA_PUBLISHER: str = "Commissioning monitor (demonstration)"
    OPEN_DATA_LICENSE: str = "https://www.nationalarchives.gov.uk/doc/open-government-licence/version/3/"
    TESTING: bool = False

    def validate(self) -> None:
        """Raise ConfigError when a setting is unsafe for this environment."""
        problem = secret_box.key_problem(self.DATA_ENCRYPTION_KEYS)
        if problem:
            raise ConfigError(problem)


@dataclass
class DevelopmentConfig(BaseConfig):
    ENV_NAME: str = "development"


@dataclass
class TestConfig(BaseConfig):
    ENV_NAME: str = "test"
    TESTING: bool = True
    # Cheap hashing keeps the suite fast; it is still real Argon2id.
    ARGON2_TIME_COST: int = 1
    ARGON2_MEMORY_KIB: int = 1024
    # Tests never reach the machine's Redis: messages to the worker stay in
    # this process (tests that want a real broker say so).
    CELERY_BROKER_URL: str = "memory://localhost/"
    # Tests run one change at a time: no change can be in flight during a run.
    ETL_WATERMARK_OVERLAP_SECONDS: int = 0


@dataclass
class ProductionConfig(BaseConfig):
    ENV_NAME: str = "production"
    SESSION_COOKIE_SECURE: bool = True
    REMEMBER_COOKIE_SECURE: bool = True

    def validate(self) -> None:
        super().validate()
        # Superset's keys are checked too when they are in this environment:
        # a key shared with Superset lets whoever holds one forge the other's
        # sessions or guest tokens.
        superset_keys = {name: os.environ.get(name, "") for name in _SUPERSET_KEYS}
        problems = secret_keys.secret_problems({"SECRET_KEY": self.SECRET_KEY}, others=superset_keys)
        if problems:
            raise ConfigError("In production " + " ".join(problems))
        if not self.DATABASE_URL:
            raise ConfigError("DATABASE_URL must be set in production (a PostgreSQL URL)")


_SUPERSET_KEYS = ("SUPERSET_SECRET_KEY", "SUPERSET_GUEST_TOKEN_SECRET")


def _secret_key(name: str, instance_path: Path) -> str:
    """SECRET_KEY from the environment; without one, development uses the
    instance's generated secrets file (made on first use, so sessions outlive
    a restart and match `make run`'s), tests a fresh random key, and
    production nothing, which validate() refuses."""
    if os.environ.get("SECRET_KEY"):
        return os.environ["SECRET_KEY"]
    if name == "development":
        return secret_keys.ensure(instance_path / SECRETS_FILE)["SECRET_KEY"]
    if name == "test":
        return secrets.token_urlsafe(48)
    return ""


CONFIG_CLASSES: dict[str, type[BaseConfig]] = {
    "development": DevelopmentConfig,
    "test": TestConfig,
    "production": ProductionConfig,
}


def load_config(instance_path: Path, env_name: str | None = None) -> BaseConfig:
    """Build the settings for MONITOR_ENV (development, test or production)."""
    name = env_name or os.environ.get("MONITOR_ENV", "development")
    if name not in CONFIG_CLASSES:
        raise ConfigError(f"MONITOR_ENV must be one of {', '.join(CONFIG_CLASSES)}, got {name!r}")
    config = CONFIG_CLASSES[name]()
    config.SECRET_KEY = _secret_key(name, instance_path)
    config.DATABASE_URL = os.environ.get("DATABASE_URL", "") or (
        "" if name == "production" else _default_sqlite_url(instance_path)
    )
    config.MAX_CONTENT_LENGTH = _int("MAX_CONTENT_LENGTH", config.MAX_CONTENT_LENGTH)
    config.LOGIN_MAX_FAILURES = _int("LOGIN_MAX_FAILURES", config.LOGIN_MAX_FAILURES)
    config.LOGIN_LOCKOUT_MINUTES = _int("LOGIN_LOCKOUT_MINUTES", config.LOGIN_LOCKOUT_MINUTES)
    config.SESSION_IDLE_MINUTES = _int("SESSION_IDLE_MINUTES", config.SESSION_IDLE_MINUTES)
    config.REQUIRE_MFA = os.environ.get("REQUIRE_MFA", "") in ("1", "true", "yes") or config.REQUIRE_MFA
    config.PASSWORD_RESET_HOURS = _int("PASSWORD_RESET_HOURS", config.PASSWORD_RESET_HOURS)
    config.INVITATION_DAYS = _int("INVITATION_DAYS", config.INVITATION_DAYS)
    config.PASSWORD_RESET_REQUESTS_PER_HOUR = _int(
        "PASSWORD_RESET_REQUESTS_PER_HOUR", config.PASSWORD_RESET_REQUESTS_PER_HOUR
    )
    config.DATA_ENCRYPTION_KEYS = os.environ.get("DATA_ENCRYPTION_KEYS", config.DATA_ENCRYPTION_KEYS)
    config.DECISION_LEAD_MONTHS = _int("DECISION_LEAD_MONTHS", config.DECISION_LEAD_MONTHS)
    config.PROCUREMENT_LEAD_MONTHS = _int("PROCUREMENT_LEAD_MONTHS", config.PROCUREMENT_LEAD_MONTHS)
    config.TODAY = os.environ.get("MONITOR_TODAY", config.TODAY)
    config.RETURN_DUE_WORKING_DAYS = _int("RETURN_DUE_WORKING_DAYS", config.RETURN_DUE_WORKING_DAYS)
    config.MAX_UPLOAD_BYTES = _int("MAX_UPLOAD_BYTES", config.MAX_UPLOAD_BYTES)
    config.MAX_UNPACKED_BYTES = _int("MAX_UNPACKED_BYTES", config.MAX_UNPACKED_BYTES)
    config.SMTP_HOST = os.environ.get("SMTP_HOST", config.SMTP_HOST)
    config.SMTP_PORT = _int("SMTP_PORT", config.SMTP_PORT)
    config.SMTP_USERNAME = os.environ.get("SMTP_USERNAME", config.SMTP_USERNAME)
    config.SMTP_PASSWORD = os.environ.get("SMTP_PASSWORD", config.SMTP_PASSWORD)
    config.MAIL_FROM = os.environ.get("MAIL_FROM", config.MAIL_FROM)
    config.SERVICE_URL = os.environ.get("SERVICE_URL", config.SERVICE_URL).rstrip("/")
    config.OUTBOX_DIR = os.environ.get("OUTBOX_DIR", "") or str(instance_path / "outbox")
    config.DEMO_BANNER = os.environ.get("MONITOR_DEMO", "") == "1" or config.DEMO_BANNER
    config.DISCLOSURE_THRESHOLD = _int("DISCLOSURE_THRESHOLD", config.DISCLOSURE_THRESHOLD)
    config.WAREHOUSE_URL = os.environ.get("WAREHOUSE_URL", config.WAREHOUSE_URL)
    config.CELERY_BROKER_URL = os.environ.get("CELERY_BROKER_URL", "") or config.CELERY_BROKER_URL
    config.CELERY_BROKER_CONNECT_TIMEOUT = _int(
        "CELERY_BROKER_CONNECT_TIMEOUT", config.CELERY_BROKER_CONNECT_TIMEOUT
    )
    config.CELERY_VISIBILITY_TIMEOUT = _int("CELERY_VISIBILITY_TIMEOUT", config.CELERY_VISIBILITY_TIMEOUT)
    config.SCHEDULE_TIMEZONE = os.environ.get("SCHEDULE_TIMEZONE", "") or config.SCHEDULE_TIMEZONE
    config.SCHEDULE_DRAIN_SECONDS = _int("SCHEDULE_DRAIN_SECONDS", config.SCHEDULE_DRAIN_SECONDS)
    config.SCHEDULE_REMINDERS_AT = os.environ.get("SCHEDULE_REMINDERS_AT", "") or config.SCHEDULE_REMINDERS_AT
    config.SCHEDULE_FULL_RUN_AT = os.environ.get("SCHEDULE_FULL_RUN_AT", "") or config.SCHEDULE_FULL_RUN_AT
    config.SCHEDULE_ROLL_DATE_AT = os.environ.get("SCHEDULE_ROLL_DATE_AT", "") or config.SCHEDULE_ROLL_DATE_AT
    config.SCHEDULE_BOARD_PACKS_AT = (
        os.environ.get("SCHEDULE_BOARD_PACKS_AT", "") or config.SCHEDULE_BOARD_PACKS_AT
    )
    config.BOARD_PACK_WORKING_DAYS_BEFORE = _int(
        "BOARD_PACK_WORKING_DAYS_BEFORE", config.BOARD_PACK_WORKING_DAYS_BEFORE
    )
    config.OPEN_DATA_DIR = os.environ.get("OPEN_DATA_DIR", "") or str(instance_path / "opendata")
    config.BOARD_PACK_DIR = os.environ.get("BOARD_PACK_DIR", "") or str(instance_path / "board-packs")
    config.SUPERSET_URL = os.environ.get("SUPERSET_URL", config.SUPERSET_URL).rstrip("/")
    config.SUPERSET_PUBLIC_URL = os.environ.get("SUPERSET_PUBLIC_URL", "").rstrip("/") or config.SUPERSET_URL
    config.SUPERSET_USERNAME = os.environ.get("SUPERSET_USERNAME", config.SUPERSET_USERNAME)
    config.SUPERSET_PASSWORD = os.environ.get("SUPERSET_PASSWORD", config.SUPERSET_PASSWORD)
    config.OCID_PREFIX = os.environ.get("OCID_PREFIX", "").strip() or config.OCID_PREFIX
    config.GIVING_PREFIX = os.environ.get("GIVING_PREFIX", "").strip() or config.GIVING_PREFIX
    config.OPEN_DATA_PUBLISHER = (
        os.environ.get("OPEN_DATA_PUBLISHER", "").strip() or config.OPEN_DATA_PUBLISHER
    )
    config.OPEN_DATA_LICENSE = os.environ.get("OPEN_DATA_LICENSE", "").strip() or config.OPEN_DATA_LICENSE
    _check_open_data(config)
    config.validate()
    return config
