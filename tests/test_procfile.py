"""The Procfile `make demo` runs under honcho: the processes it names, and that
each command's program is where the line says. Nothing is started here."""

from __future__ import annotations

import re
import shlex
import subprocess
import sys
from pathlib import Path

from honcho.environ import parse_procfile

ROOT = Path(__file__).resolve().parent.parent
PROCFILE = ROOT / "Procfile"


def processes() -> dict[str, str]:
    return dict(parse_procfile(PROCFILE.read_text()).processes)


def test_the_procfile_names_every_process() -> None:
    assert set(processes()) == {"web", "worker", "beat", "superset", "redis"}


def test_each_venv_program_exists() -> None:
    for name, command in processes().items():
        program = shlex.split(command)[0]
        if program.startswith(".venv/"):
            assert (ROOT / program).is_file(), f"{name}: {program} is not installed; run make install"


def test_the_commands_run_the_app_the_worker_and_beat() -> None:
    web, worker, beat = (shlex.split(processes()[name]) for name in ("web", "worker", "beat"))

    assert web[0] == ".venv/bin/gunicorn" and web[-1] == "wsgi:app"
    assert "--bind" in web and "--workers" in web
    assert worker[:4] == [".venv/bin/celery", "-A", "monitor.worker", "worker"]
    assert beat[:4] == [".venv/bin/celery", "-A", "monitor.worker", "beat"]


def test_superset_runs_in_the_foreground_through_superset_sh() -> None:
    # `serve`, not `start`: start leaves Superset in a session of its own, which
    # honcho's Ctrl+C would never reach.
    assert shlex.split(processes()["superset"]) == ["bash", "superset_config/superset.sh", "serve"]
    assert "serve)" in (ROOT / "superset_config" / "superset.sh").read_text()


def test_make_demo_starts_only_processes_the_procfile_has() -> None:
    makefile = (ROOT / "Makefile").read_text()
    started = re.findall(r'processes="([^"]+)"', makefile)

    assert started, "make demo no longer chooses which processes honcho starts"
    for names in started:
        assert set(names.split()) <= set(processes())
        assert {"web", "worker", "beat", "superset"} <= set(names.split())


def test_honcho_accepts_the_procfile() -> None:
    honcho = Path(sys.executable).parent / "honcho"
    result = subprocess.run(
        [str(honcho), "check"], cwd=ROOT, capture_output=True, text=True, timeout=60, check=False
    )

    assert result.returncode == 0, result.stderr
    assert "Valid procfile detected" in result.stderr + result.stdout


def test_the_systemd_units_run_what_the_repository_has() -> None:
    """Each unit's programs under /srv/monitor (the checkout) exist here, scripts executable."""
    units = sorted((ROOT / "deploy" / "systemd").glob("*.service"))
    assert {unit.stem for unit in units} >= {
        "monitor-web",
        "monitor-worker",
        "monitor-beat",
        "superset-web",
        "superset-worker",
    }
    for unit in units:
        for line in unit.read_text().splitlines():
            if line.startswith(("ExecStart=", "ExecStartPost=")):
                program = line.split("=", 1)[1].split()[0]
                assert program.startswith("/srv/monitor/"), f"{unit.name}: {program}"
                local = ROOT / program.removeprefix("/srv/monitor/")
                assert local.is_file(), f"{unit.name}: {program} is not in the repository"
                if local.suffix == ".sh":
                    assert local.stat().st_mode & 0o111, f"{unit.name}: {program} is not executable"
