"""The service's clock: pinned for a demo or the tests, real otherwise; and
the real clock that security timing keeps."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from flask import Flask

from monitor import clock
from monitor.model_helpers import utcnow


def _close_to_real(moment: datetime) -> bool:
    return abs(moment - datetime.now(UTC).replace(tzinfo=None)) < timedelta(minutes=1)


def test_now_is_the_pinned_day_at_the_real_time_of_day() -> None:
    app = Flask(__name__)  # the clock reads only the config's TODAY
    app.config["TODAY"] = "2014-05-06"
    with app.app_context():
        first, second = clock.now(), clock.now()
        real = clock.real_utcnow()
        assert first.date() == date(2014, 5, 6) == clock.today()
        assert first.tzinfo is None
        # The time of day runs on, so records made one after another keep their order.
        assert first <= second
        assert abs(datetime.combine(real.date(), first.time()) - real) < timedelta(minutes=1)
        # Model defaults and audit records take the same clock...
        assert utcnow().date() == date(2014, 5, 6)
        # ...but security timing does not.
        assert _close_to_real(real) and real.date() != date(2014, 5, 6)


def test_now_is_the_real_time_when_nothing_is_pinned() -> None:
    app = Flask(__name__)
    app.config["TODAY"] = ""
    with app.app_context():
        assert _close_to_real(clock.now())
        assert clock.today() == datetime.now().date()
    # Outside an app (a worker before it builds one), the real clock too.
    assert _close_to_real(clock.now())
