"""Today's date and the time now, which a demo installation may pin
(MONITOR_TODAY=2014-05-06, the config's TODAY). How stored times are written
(in UK time) lives in monitor.formatting.

Two clocks, on purpose:

- `today()` and `now()` are the service's own clock: the day the register,
  returns and deadlines are judged on, and the time written into records
  people read (audit records, return versions received, sign-in history,
  "account created", "two-factor on since", "sent on"). With the date pinned,
  `now()` is the pinned day at the current UTC time of day, so a demo as at
  6 May 2014 stamps what it does on 6 May 2014 and records made one after
  another still sort in the order they were made. Unpinned, it is the real
  time.
- `real_utcnow()` is the real clock, for security timing only: sign-in
  lockout and throttling, password reset and invitation links' expiry,
  single sign-on state, API and account tokens, two-factor (TOTP, which uses
  `time.time`) and session idle timeouts. A pinned day must never stretch or
  shrink those: the pinned clock goes back 24 hours at each real midnight,
  which would hold a lock or keep a link alive for a day.

Both return naive UTC datetimes, as the database stores them.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime

from flask import current_app, has_app_context


def _pinned() -> date | None:
    pinned = current_app.config.get("TODAY") if has_app_context() else None
    return date.fromisoformat(pinned) if pinned else None


def today() -> date:
    return _pinned() or date.today()


def real_utcnow() -> datetime:
    """The real time now, naive UTC: for security timing, never pinned."""
    return datetime.now(UTC).replace(tzinfo=None)


def now() -> datetime:
    """The time now for records, naive UTC: on the pinned day when the date is pinned."""
    moment = real_utcnow()
    pinned = _pinned()
    return datetime.combine(pinned, moment.time()) if pinned else moment


@contextmanager
def pinned_to(day: date) -> Iterator[None]:
    """Run as at `day` for a while: for the demo's seed, which writes a past
    quarter's return received and reviewed on the days it would have been.
    Needs an app context; security timing is not affected."""
    config = current_app.config
    before = config.get("TODAY")
    config["TODAY"] = day.isoformat()
    try:
        yield
    finally:
        config["TODAY"] = before
