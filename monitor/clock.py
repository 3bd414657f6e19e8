"""Today's date, which a demo installation may pin (MONITOR_TODAY=2013-12-02).
How stored times are written (in UK time) lives in monitor.formatting."""

from __future__ import annotations

from datetime import date

from flask import current_app, has_app_context


def today() -> date:
    pinned = current_app.config.get("TODAY") if has_app_context() else None
    return date.fromisoformat(pinned) if pinned else date.today()
