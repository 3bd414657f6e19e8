"""Recovery times in the fault tests: how long a change takes with Redis down,
how soon the outbox drains once Redis and a worker are back, how soon a new
worker redoes a task whose worker was killed, and how quickly an upload whose
database connection is terminated gets its answer.

Runs `pytest tests/faults` (each test starts its own Redis and workers) the
given number of times with FAULT_FIGURES naming a file the tests append to,
then prints the median, lowest and highest of each figure per database.
These are recovery times, bounded by settings the tests choose (a drain
every 2 s, a visibility timeout of 4 s), so they are reported as seconds
beside those settings rather than as ratios.

    .venv/bin/python -m bench.faults --runs 3
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from collections import defaultdict
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"


def say(message: str) -> None:
    print(f"bench: {message}", file=sys.stderr, flush=True)


def run_fault_tests(runs: int, databases: str) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    for run in range(1, runs + 1):
        with tempfile.TemporaryDirectory() as folder:
            figures = Path(folder) / "figures.jsonl"
            env = {**os.environ, "FAULT_FIGURES": str(figures), "TEST_DATABASES": databases}
            say(f"run {run} of {runs}: pytest tests/faults on {databases}")
            finished = subprocess.run(
                [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests/faults"],
                cwd=ROOT,
                env=env,
                capture_output=True,
                text=True,
                check=False,
            )
            summary = (finished.stdout.strip().splitlines() or ["(no output)"])[-1]
            say(f"run {run}: {summary}")
            if finished.returncode != 0:
                raise SystemExit(
                    f"the fault tests failed, so their times mean nothing:\n{finished.stdout[-4000:]}"
                )
            lines = figures.read_text(encoding="utf-8").splitlines() if figures.exists() else []
            rows.extend({**json.loads(line), "run": run} for line in lines)
    return rows


def summarise(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    grouped: dict[tuple[str, str], list[float]] = defaultdict(list)
    for row in rows:
        grouped[(row["figure"], row["backend"])].append(float(row["seconds"]))
    return [
        {
            "figure": figure,
            "backend": backend,
            "samples": len(times),
            "median": statistics.median(times),
            "lowest": min(times),
            "highest": max(times),
        }
        for (figure, backend), times in sorted(grouped.items())
    ]


def report(summary: list[dict[str, Any]]) -> str:
    lines = [
        "| figure | database | samples | median | range |",
        "| --- | --- | ---: | ---: | ---: |",
    ]
    for row in summary:
        lines.append(
            f"| {row['figure']} | {row['backend']} | {row['samples']} | {row['median']:.2f} s "
            f"| {row['lowest']:.2f}-{row['highest']:.2f} s |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--runs", type=int, default=3, help="times to run the fault tests (default 3)")
    parser.add_argument(
        "--databases", default="sqlite,postgresql", help="TEST_DATABASES for the runs (default both)"
    )
    args = parser.parse_args(argv)
    rows = run_fault_tests(args.runs, args.databases)
    summary = summarise(rows)
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "faults.json").write_text(
        json.dumps({"runs": args.runs, "figures": summary, "rows": rows}, indent=2)
    )
    print(report(summary))


if __name__ == "__main__":
    main()
