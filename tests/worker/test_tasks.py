"""The beat schedule, and each task run as the worker runs it (in the app's
context), doing what its command does."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from celery.schedules import crontab
from flask import Flask
from sqlalchemy import func, select

from monitor.config import BaseConfig, ConfigError
from monitor.db import db
from monitor.kpis.models import ReminderSent
from monitor.worker.factory import REFRESH_WAREHOUSE
from monitor.worker.schedule import DRAIN, FULL_RUN, REMINDERS, ROLL_DATE, beat_schedule
from tests.conftest import Warehouse

BD_BOARD = "Barking and Dagenham Health and Wellbeing Board"


def _settings(**changes: Any) -> dict[str, Any]:
    return {name: getattr(BaseConfig(), name) for name in dir(BaseConfig) if name.isupper()} | changes


def test_the_schedule_drains_every_minute_and_runs_the_days_jobs() -> None:
    schedule = beat_schedule(_settings())
    assert schedule[DRAIN]["schedule"].total_seconds() == 60
    assert schedule[DRAIN]["task"] == REFRESH_WAREHOUSE
    reminders = schedule[REMINDERS]["schedule"]
    assert isinstance(reminders, crontab)
    assert (reminders.hour, reminders.minute, reminders.day_of_week) == ({7}, {30}, {1, 2, 3, 4, 5})
    assert (schedule[FULL_RUN]["schedule"].hour, schedule[FULL_RUN]["schedule"].minute) == ({2}, {30})
    assert (schedule[ROLL_DATE]["schedule"].hour, schedule[ROLL_DATE]["schedule"].minute) == ({0}, {5})


def test_a_mistyped_time_stops_start_up_with_its_name() -> None:
    with pytest.raises(
        ConfigError, match=r"SCHEDULE_REMINDERS_AT must be a time of day .* like 07:30, got '7\.30am'"
    ):
        beat_schedule(_settings(SCHEDULE_REMINDERS_AT="7.30am"))


def test_every_scheduled_task_is_registered(app: Flask) -> None:
    celery = app.extensions["celery"]
    scheduled = {entry["task"] for entry in celery.conf.beat_schedule.values()}
    assert scheduled <= set(celery.tasks)
    assert REFRESH_WAREHOUSE in celery.tasks
    assert celery.conf.task_acks_late and celery.conf.task_reject_on_worker_lost
    assert celery.conf.worker_prefetch_multiplier == 1


def _run(app: Flask, name: str, *args: Any) -> Any:
    result = app.extensions["celery"].tasks[f"monitor.worker.tasks.{name}"].apply(args=args)
    assert result.successful(), result.traceback
    return result.result


def test_reminders_go_out_as_the_command_sends_them(frameworks: Flask, tmp_path: Path) -> None:
    frameworks.config["OUTBOX_DIR"] = str(tmp_path / "mail")  # Monday 2 December 2013
    _run(frameworks, "send_reminders")
    sent = db.session.scalar(select(func.count(ReminderSent.id))) or 0
    assert sent > 0 and len(list((tmp_path / "mail").iterdir())) == sent
    _run(frameworks, "send_reminders")  # again: nothing is sent twice
    assert db.session.scalar(select(func.count(ReminderSent.id))) == sent


def test_open_data_is_published_into_its_folder(demo: Flask, tmp_path: Path) -> None:
    demo.config["SERVICE_URL"] = "https://monitor.example.gov.uk"
    demo.config["OPEN_DATA_DIR"] = str(tmp_path / "opendata")
    _run(demo, "publish_open_data")
    names = sorted(p.name for p in (tmp_path / "opendata").iterdir())
    assert names == ["360giving-2013-12-02.json", "ocds-2013-12-02.json"]


def test_a_board_pack_is_built_into_its_folder(warehouse: Warehouse, tmp_path: Path) -> None:
    app = warehouse.app
    app.config["BOARD_PACK_DIR"] = str(tmp_path / "packs")
    written = _run(app, "build_board_pack", "partnership", BD_BOARD, "2013-14-Q4")
    assert Path(written).name == "board-pack-barking-and-dagenham-health-and-wellbeing-board-2013-14-Q4.xlsx"
    assert Path(written).read_bytes().startswith(b"PK")
    # A pack that cannot be made is logged, not retried.
    assert _run(app, "build_board_pack", "partnership", "Nowhere Board", "2013-14-Q4") is None
