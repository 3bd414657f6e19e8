"""The statutory safe-accommodation return for one authority, at national scale.

    .venv/bin/python -m bench.statutory            (360 areas: a national register)
    .venv/bin/python -m bench.statutory --quick    (tiny registers, few runs: a smoke run)
    .venv/bin/python -m bench.statutory --areas 120 --runs 30

Builds two app databases on the local PostgreSQL server with bench/national.py
(a national register, and one police force's three areas as the baseline),
in which every council counts its refuges as safe accommodation and the
refuges report the return's figures, then one full ETL run builds each
warehouse. Then, alternating between the two in the same process, it times
what the return's page does for one council (the middle area's) and one
year (2013/14, the register's last):

- **compile**: `kpi_library`, then `compile_return` (the definition, the
  flagged contracts, their returns' states and accepted figures);
- **reconcile**: `reconcile` against the warehouse (its figures for the
  same contracts and year, and the last acceptance against its load);
- **page's work**: both, one after the other.

The aim is the compile at national scale in under 1 second. As the
project's benches do, it also reports the ratio of the national medians to
the baseline's, measured side by side, since absolute times on these shared
machines move between runs. Results go to bench/results/statutory.json; the
databases are dropped at the end, whatever happens.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from bench.etl import RESULTS, Register, build_register, code_version, databases, etl, say
from bench.national import AS_AT, Shape
from etl.app import app_warehouse
from monitor.db import db
from monitor.statutory.reconcile import reconcile
from monitor.statutory.service import CompiledReturn, compile_return, kpi_library

YEAR = "2013/14"
AIM_SECONDS = 1.0


@dataclass(frozen=True)
class Plan:
    large: Shape
    small: Shape
    runs: int = 20
    warm_up: int = 2


# A national register (360 areas, about 1.2 million accepted figures) against
# one police force's three areas.
FULL = Plan(large=Shape(areas=360), small=Shape(areas=3))
# A smoke run for the test suite: the timings mean nothing.
QUICK = Plan(large=Shape(areas=2), small=Shape(areas=1), runs=2, warm_up=1)


def _authority(register: Register) -> int:
    """The council of the register's middle area (its sample commissioner)."""
    viewer, _name = register.viewers["commissioner"]
    return int(viewer.removeprefix("organisation:"))


def _compiled(session: Session, authority_id: int) -> CompiledReturn:
    return compile_return(session, authority_id, YEAR, kpi_library(session), AS_AT)


def _timed(action: Callable[[], Any]) -> tuple[float, Any]:
    started = time.perf_counter()
    outcome = action()
    return time.perf_counter() - started, outcome


def measure(register: Register, authority_id: int) -> dict[str, Any]:
    """One compile and one reconciliation in a fresh session, as a request has.
    A session of the register's own engine: the app's shared one is bound to
    whichever register was built last (as bench/etl.py's acceptances do)."""
    with register.app.app_context(), Session(register.engine) as session:
        compile_seconds, compiled = _timed(lambda: _compiled(session, authority_id))
        warehouse = app_warehouse()
        reconcile_seconds, reconciliation = _timed(lambda: reconcile(session, compiled, warehouse))
    return {
        "compile": compile_seconds,
        "reconcile": reconcile_seconds,
        "page": compile_seconds + reconcile_seconds,
        "contracts": len(compiled.contracts),
        "lines": len(compiled.rows),
        "figures": sum(1 for row in compiled.rows if row.value is not None),
        "accepted_returns": compiled.accepted_count,
        "waiting_returns": compiled.waiting_count + compiled.not_sent_count,
        "reconciled": reconciliation.available,
        "differing": reconciliation.differing,
    }


def run(plan: Plan) -> dict[str, Any]:
    results: dict[str, Any] = {
        "as_at": AS_AT.isoformat(),
        "year": YEAR,
        "plan": {"large": plan.large.areas, "small": plan.small.areas, "runs": plan.runs},
        "code": code_version(),
    }
    with databases(2) as (large_url, small_url):
        large = build_register("large", large_url, plan.large)
        small = build_register("small", small_url, plan.small)
        registers = (large, small)
        try:
            results["generated"] = {
                r.label: {
                    "areas": r.generated.shape.areas,
                    "contracts": r.generated.shape.contracts,
                    "accepted_figures": r.generated.accepted_figures,
                    "safe_accommodation_flags": r.generated.rows.get("safe_accommodation_contracts", 0),
                }
                for r in registers
            }
            for register in registers:
                say(f"{register.label}: one full ETL run for the warehouse to reconcile with")
                _result, seconds = etl(register, full=True)
                results["generated"][register.label]["etl_seconds"] = seconds
            authorities = {r.label: _authority(r) for r in registers}
            say(f"{plan.warm_up} warm-up and {plan.runs} timed runs each, alternating")
            for _ in range(plan.warm_up):
                for register in registers:
                    measure(register, authorities[register.label])
            samples: dict[str, list[dict[str, Any]]] = {r.label: [] for r in registers}
            for _ in range(plan.runs):
                for register in registers:
                    samples[register.label].append(measure(register, authorities[register.label]))
            results["samples"] = samples
        finally:
            for register in registers:
                engine = register.app.extensions.pop("warehouse_engine", None)
                if engine is not None:
                    engine.dispose()
                register.engine.dispose()
            db.dispose()
    return results


def summary(results: dict[str, Any]) -> dict[str, dict[str, float]]:
    """Median seconds per measure and register, and the large : small ratio."""
    found: dict[str, dict[str, float]] = {}
    for measure_name in ("compile", "reconcile", "page"):
        medians = {
            label: statistics.median(sample[measure_name] for sample in samples)
            for label, samples in results["samples"].items()
        }
        found[measure_name] = {**medians, "ratio": medians["large"] / medians["small"]}
    return found


def report(results: dict[str, Any]) -> str:
    code = results.get("code", {})
    generated = results["generated"]
    large, small = generated["large"], generated["small"]
    first = results["samples"]["large"][0]
    medians = summary(results)
    out = [
        f"Statutory return at commit {code.get('commit') or 'unknown'}, for {results['year']}, "
        f"median of {results['plan']['runs']} runs each.",
        f"National: {large['areas']} areas, {large['contracts']:,} contracts, "
        f"{large['accepted_figures']:,} accepted figures. Baseline: {small['areas']} areas, "
        f"{small['accepted_figures']:,} accepted figures.",
        f"The authority's return: {first['contracts']} contracts, {first['lines']} lines "
        f"({first['figures']} with a figure), {first['accepted_returns']} accepted returns, "
        f"{first['waiting_returns']} not yet accepted; "
        + (
            f"{first['differing']} lines differ from the warehouse."
            if first["reconciled"]
            else "the warehouse could not be reached."
        ),
        "",
        "| measure | national | baseline | ratio |",
        "| --- | ---: | ---: | ---: |",
    ]
    for name, label in (("compile", "compile_return"), ("reconcile", "reconcile"), ("page", "page's work")):
        row = medians[name]
        out.append(f"| {label} | {_ms(row['large'])} | {_ms(row['small'])} | {row['ratio']:.2f} |")
    compile_large = medians["compile"]["large"]
    verdict = "met" if compile_large < AIM_SECONDS else "not met"
    out.append("")
    out.append(
        f"compile_return at national scale: {_ms(compile_large)} (aim: under {AIM_SECONDS:.0f} s; {verdict}); "
        f"{medians['compile']['ratio']:.2f} times the baseline's."
    )
    return "\n".join(out)


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:,.1f} ms"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="tiny registers and few runs: a smoke test")
    parser.add_argument("--areas", type=int, help="local areas in the national register (15 services each)")
    parser.add_argument("--runs", type=int, help="timed runs per register")
    args = parser.parse_args(argv)
    plan = QUICK if args.quick else FULL
    overrides = {"large": Shape(areas=args.areas) if args.areas else None, "runs": args.runs}
    plan = Plan(**{**plan.__dict__, **{k: v for k, v in overrides.items() if v is not None}})
    results = run(plan)
    RESULTS.mkdir(exist_ok=True)
    name = "statutory-quick.json" if args.quick else "statutory.json"
    (RESULTS / name).write_text(json.dumps(results, indent=2, default=str))
    print(report(results))


if __name__ == "__main__":
    main()
