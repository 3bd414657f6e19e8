"""Today's date, which a demo installation may pin (MONITOR_TODAY=2013-12-02),
and stored times as people in England and Wales read them."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from flask import current_app, has_app_context


def today() -> date:
    pinned = current_app.config.get("TODAY") if has_app_context() else None
    return date.fromisoformat(pinned) if pinned else date.today()


LONDON = ZoneInfo("Europe/London")


def london_time(moment: datetime) -> datetime:
    """A stored (naive UTC) time as the clock on the wall in London, for govuk_date."""
    return moment.replace(tzinfo=UTC).astimezone(LONDON).replace(tzinfo=None)
