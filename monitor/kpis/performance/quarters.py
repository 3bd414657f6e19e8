"""Which quarter the performance pages show.

The choices are the quarters with figures the reader can see, newest first;
the page opens on the latest quarter with accepted figures. A quarter asked
for in the address that is not among the choices (it does not exist, or the
reader has no figures for it) is answered with a message and the default:
the two cases read the same, so the message gives nothing away.

Pure: no Flask, no database.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from monitor.formatting import quarter_text
from monitor.kpis.performance.figures import ContractPerformance
from monitor.kpis.periods import Quarter


@dataclass(frozen=True)
class QuarterChoice:
    chosen: Quarter | None  # None: no figures at all yet
    options: list[Quarter] = field(default_factory=list)  # newest first
    provisional: frozenset[Quarter] = frozenset()  # options with no accepted figure yet
    error: str = ""


def reported_quarters(performances: Iterable[ContractPerformance]) -> dict[Quarter, bool]:
    """Quarter -> whether any of its figures is accepted, for every quarter
    with a figure in any of `performances`."""
    found: dict[Quarter, bool] = {}
    for performance in performances:
        for quarter, accepted in performance.reported_quarters().items():
            found[quarter] = found.get(quarter, False) or accepted
    return found


def choose_quarter(reported: Mapping[Quarter, bool], asked: str | None) -> QuarterChoice:
    """The quarter to show: `asked` (as written in the address, 2013-14-Q2)
    when it is one of the reported quarters, otherwise the latest with
    accepted figures (or, with none accepted, the latest reported)."""
    options = sorted(reported, reverse=True)
    accepted = [q for q in options if reported[q]]
    default = accepted[0] if accepted else (options[0] if options else None)
    provisional = frozenset(q for q in options if not reported[q])
    asked = (asked or "").strip()
    if not asked:
        return QuarterChoice(default, options, provisional)
    quarter = Quarter.parse(asked)
    if quarter is not None and quarter in reported:
        return QuarterChoice(quarter, options, provisional)
    shown = f" Showing {quarter_text(default)}." if default else ""
    if quarter is None:
        error = f"Choose a quarter from the list.{shown}"
    else:
        error = f"There are no figures you can see for {quarter_text(quarter)}: choose a quarter from the list.{shown}"
    if not options:
        error = "There are no figures yet, so there is no quarter to choose."
    return QuarterChoice(default, options, provisional, error)
