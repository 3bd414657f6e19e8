"""Can a hidden figure be worked out, or narrowed, from what a board sees?

The published totals are linear equations in the hidden figures (a
service's breakdowns to its figure, services to all services, quarters to
value for money's year), and every `[c]` is at least 1, since zeros are
always shown. Some hidden figures also have a ceiling a reader can see (a
hidden share's improved cases are at most its paired cases, when those are
shown). `[c]` does not say whether a figure was hidden for being
small or to protect another, so nothing bounds a `[c]` from above. A
missing figure (`[x]`) is unknown and at least 0. Dashboards and the board
pack add up only the figures shown (a hidden one is empty in the marts), so
their totals add no equation.

The audit, cluster by cluster of totals linked by unknown figures, runs on
every protected table before it is loaded (`disclosed`, `narrowed`):

- Protection: for each primary `[c]` (a count from 1 to the threshold),
  linear programming (HiGHS) finds solutions where it is as low and as high
  as it can be given everything shown. It must reach the threshold, and 1,
  or for a total of several `[c]`s their number (which the markers alone
  give away). So no value from 1 to the threshold can be ruled out that
  the `[c]`s themselves do not rule out. tests/disclosure attacks generated
  registers of several boards, services, breakdowns, quarters and years,
  and the demo's warehouse, with exactly this programme, written from the
  tables alone.
- Non-recovery: no hidden figure, primary or secondary, takes one value in
  every solution.

To stay fast at national scale: only clusters changed since the last audit
are solved; what an earlier audit proved is kept (hiding more never undoes
it); a cluster whose solutions lie on a line (a rectangle of four hidden
figures) is solved in closed form; the figures as they are, and every
solution found, settle each primary they show at 1 or at the threshold
without a programme of its own; and the programmes of many clusters are
solved side by side as one. `pinned` (the null space) is the older
non-recovery audit, used when no threshold is given.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Generator, Iterator
from dataclasses import dataclass, field
from itertools import islice

import numpy as np
import pandas as pd
from scipy import sparse
from scipy.optimize import linprog
from scipy.sparse.csgraph import connected_components

TOLERANCE = 1e-9


def equations(
    values: pd.Series, hidden: pd.Series, groups: pd.DataFrame
) -> list[tuple[dict[int, float], float]]:
    """Each group as `sum(coefficient * hidden figure) = constant`. Members
    count +1 and the total -1; visible figures move into the constant."""
    if groups.empty:
        return []
    cells = groups["cell"].to_numpy()
    sign = np.where(groups["is_total"].to_numpy(dtype=bool), -1.0, 1.0)
    is_hidden = hidden.reindex(cells).fillna(False).to_numpy(dtype=bool)
    value = values.reindex(cells).fillna(0.0).to_numpy(dtype=float)
    group_codes, group_index = np.unique(groups["group"].to_numpy(), return_inverse=True)
    constants = np.zeros(len(group_codes))
    visible = ~is_hidden
    np.add.at(constants, group_index[visible], -sign[visible] * value[visible])
    coefficients: list[dict[int, float]] = [{} for _ in group_codes]
    for g, cell, a in zip(
        group_index[is_hidden].tolist(), cells[is_hidden].tolist(), sign[is_hidden].tolist(), strict=True
    ):
        coefficients[g][cell] = coefficients[g].get(cell, 0.0) + a
    return [(c, float(k)) for c, k in zip(coefficients, constants.tolist(), strict=True) if c]


def _components(system: list[tuple[dict[int, float], float]]) -> list[list[int]]:
    """Indexes of equations that share hidden figures, grouped."""
    equation = np.array(
        [i for i, (coefficients, _) in enumerate(system) for _ in coefficients], dtype=np.int64
    )
    cell = np.array([c for coefficients, _ in system for c in coefficients], dtype=np.int64)
    labels = linked(equation, cell, len(system))
    members: dict[int, list[int]] = defaultdict(list)
    for index, label in enumerate(labels.tolist()):
        members[label].append(index)
    return list(members.values())


def linked(rows: np.ndarray, cells: np.ndarray, n_rows: int) -> np.ndarray:
    """Label each of `n_rows` rows (equations, groups) by the cluster of rows
    it shares a cell with, directly or through others."""
    _, cell_index = np.unique(cells, return_inverse=True)
    n_cells = int(cell_index.max()) + 1 if len(cell_index) else 0
    # Rows and cells as one bipartite graph: rows first, then cells.
    graph = sparse.coo_matrix(
        (np.ones(len(rows)), (rows, n_rows + cell_index)), shape=(n_rows + n_cells, n_rows + n_cells)
    )
    _, labels = connected_components(graph, directed=False)
    return labels[:n_rows]


def pinned(system: list[tuple[dict[int, float], float]], values: pd.Series) -> set[int]:
    """Hidden figures that take one value in every solution of `system`
    with every hidden figure at least 1.

    At the true figures, a hidden figure can move only along directions `d`
    with `A d = 0` that do not push a figure already at 1 below it (`d >= 0`
    there). Some of those figures can never rise either (their `d` is 0 in
    every such direction): one linear programme per cluster finds them. With
    those held fixed, a figure is pinned exactly when the null space of the
    equations gives it no room, found from the SVD.
    """
    found: set[int] = set()
    for component in _components(system):
        cells = sorted({cell for i in component for cell in system[i][0]})
        column = {cell: j for j, cell in enumerate(cells)}
        matrix = np.zeros((len(component), len(cells)))
        for row, i in enumerate(component):
            for cell, coefficient in system[i][0].items():
                matrix[row, column[cell]] = coefficient
        at_floor = np.flatnonzero(values.reindex(cells).to_numpy(dtype=float) <= 1 + TOLERANCE)
        held = _never_rise(matrix, at_floor)
        if len(held):
            matrix = np.vstack([matrix, np.eye(len(cells))[held]])
        # Null space from the SVD: the right singular vectors beyond the rank.
        _, singular, vt = np.linalg.svd(matrix)
        rank = int((singular > TOLERANCE * max(matrix.shape)).sum())
        null_space = vt[rank:]
        for cell, j in column.items():
            if null_space.shape[0] == 0 or np.all(np.abs(null_space[:, j]) < 1e-7):
                found.add(cell)
    return found


def _never_rise(matrix: np.ndarray, at_floor: np.ndarray) -> np.ndarray:
    """Columns of `at_floor` that are 0 in every `d` with `matrix @ d = 0`
    and `d >= 0` on `at_floor`. Directions add up, so one programme that
    lifts as many of them as it can (each by up to 1) lifts every one that
    can rise at all."""
    if len(at_floor) == 0:
        return at_floor
    n, k = matrix.shape[1], len(at_floor)
    lift = np.zeros((k, n + k))
    lift[np.arange(k), at_floor] = -1.0  # s_i - d_i <= 0
    lift[np.arange(k), n + np.arange(k)] = 1.0
    result = linprog(
        np.concatenate([np.zeros(n), -np.ones(k)]),
        A_ub=lift,
        b_ub=np.zeros(k),
        A_eq=np.hstack([matrix, np.zeros((matrix.shape[0], k))]),
        b_eq=np.zeros(matrix.shape[0]),
        bounds=[(None, None)] * n + [(0, 1)] * k,
        method="highs",
    )
    if result.status != 0:
        raise RuntimeError(f"disclosure audit: the linear programme failed: {result.message}")
    return at_floor[result.x[n:] < 0.5]


@dataclass
class Settled:
    """What earlier audits of the same table proved, which hiding more
    figures cannot undo: every solution before is still one (the figures
    hidden since at their true values), so a primary seen at its floor and at
    the threshold stays protected, and a figure seen taking two values is
    never pinned."""

    protected: set[int] = field(default_factory=set)
    moving: set[int] = field(default_factory=set)


# Up to this many unknowns a cluster's matrix is kept dense.
DENSE_LIMIT = 400


@dataclass(frozen=True)
class _Cluster:
    """One cluster's equations over its unknown figures, as a linear
    programme: `matrix @ y = constants`, `lower <= y <= upper`."""

    cells: np.ndarray  # the unknown figures, one per column
    matrix: np.ndarray | sparse.csr_matrix
    constants: np.ndarray
    lower: np.ndarray
    upper: np.ndarray  # a ceiling a reader sees, else infinity
    truth: np.ndarray | None  # the figures as they are, when no missing one makes them incomplete
    primary: np.ndarray  # columns of the primary `[c]`s
    floor: np.ndarray  # for each of those, the least value its markers alone allow
    moving: np.ndarray  # columns an earlier audit saw take two values


def narrowed(
    values: pd.Series,
    hidden: pd.Series,
    primary: pd.Series,
    groups: pd.DataFrame,
    threshold: int,
    changed: set[int] | None = None,
    ceilings: pd.Series | None = None,
) -> set[int]:
    """Primary `[c]`s (counts from 1 to the threshold) that everything shown
    narrows: the least value they can take is above what their markers
    alone allow (1, or for a total of several `[c]`s the number of them,
    since each is at least 1), or the greatest is below the threshold; and
    hidden figures it pins to one value.

    The attacker knows every published figure and every total's equation,
    and that a `[c]` is at least 1 (zeros are always shown, so a `[c]` is
    never 0). `[c]` does not say whether a figure was hidden for being small
    or to protect another, so no `[c]` has an upper bound. A missing figure
    (`[x]`) is unknown and at least 0. A group whose published figures do not
    add up (a part the provider left out) says what it can: parts missing,
    the rest at most the total; otherwise nothing.

    Clusters of groups linked by unknown figures are solved on their own;
    with `changed`, only those holding one of those cells.
    """
    return _bounds(values, hidden, primary, groups, threshold, changed, Settled(), ceilings)


def _bounds(
    values: pd.Series,
    hidden: pd.Series,
    primary: pd.Series,
    groups: pd.DataFrame,
    threshold: int,
    changed: set[int] | None,
    settled: Settled,
    ceilings: pd.Series | None = None,
) -> set[int]:
    """`narrowed`, adding to `settled` the primaries found protected and the
    hidden cells seen taking two values. Clusters with nothing left to
    prove are not solved."""
    found: set[int] = set()
    if groups.empty:
        return found
    clusters = _clusters(values, hidden, primary, groups, changed, settled, ceilings)
    while batch := list(islice(clusters, CLUSTERS_AT_ONCE)):
        for cluster, (narrow, moved) in _together(batch, threshold):
            found |= narrow
            settled.protected |= set(cluster.cells[cluster.primary].tolist()) - narrow
            settled.moving |= moved
    return found


# Clusters whose programmes are solved side by side, as one programme of
# independent blocks: the solver's own time is small beside what each call
# costs, and most clusters are small.
CLUSTERS_AT_ONCE = 500
UNKNOWNS_AT_ONCE = 3_000

# A programme for one cluster: its columns to move, their targets, upward or not.
Request = tuple[_Cluster, np.ndarray, np.ndarray, bool]
Verdict = tuple[set[int], set[int]]


def _together(clusters: list[_Cluster], threshold: int) -> list[tuple[_Cluster, Verdict]]:
    """`_too_narrow` for each of `clusters`, stepping them in lockstep so
    that each step's programmes are solved as one."""
    verdicts: list[tuple[_Cluster, Verdict]] = []
    running: list[tuple[_Cluster, Generator[Request, np.ndarray, Verdict], Request]] = []
    for cluster in clusters:
        steps = _too_narrow(cluster, threshold)
        try:
            running.append((cluster, steps, next(steps)))
        except StopIteration as done:
            verdicts.append((cluster, done.value))
    while running:
        solutions = _solve_all([request for _, _, request in running])
        still: list[tuple[_Cluster, Generator[Request, np.ndarray, Verdict], Request]] = []
        for (cluster, steps, _), solution in zip(running, solutions, strict=True):
            try:
                still.append((cluster, steps, steps.send(solution)))
            except StopIteration as done:
                verdicts.append((cluster, done.value))
        running = still
    return verdicts


def _clusters(
    values: pd.Series,
    hidden: pd.Series,
    primary: pd.Series,
    groups: pd.DataFrame,
    changed: set[int] | None,
    settled: Settled,
    ceilings: pd.Series | None,
) -> Iterator[_Cluster]:
    cells = groups["cell"].to_numpy(dtype=np.int64)
    value = values.reindex(cells).to_numpy(dtype=float)
    missing = np.isnan(value)
    value = np.where(missing, 0.0, value)
    is_hidden = hidden.reindex(cells, fill_value=False).to_numpy(dtype=bool)
    unknown = is_hidden | missing
    is_total = groups["is_total"].to_numpy(dtype=bool)
    sign = np.where(is_total, -1.0, 1.0)
    _, group_index = np.unique(groups["group"].to_numpy(), return_inverse=True)
    n_groups = int(group_index.max()) + 1

    # Groups that hold at the published figures, with missing ones unknown.
    residual = np.bincount(group_index, sign * value, n_groups)
    missing_member = np.bincount(group_index, missing & ~is_total, n_groups) > 0
    missing_total = np.bincount(group_index, missing & is_total, n_groups) > 0
    holds = (
        missing_total
        | (missing_member & (residual <= TOLERANCE))
        | (~missing_member & (np.abs(residual) <= TOLERANCE))
    )
    has_unknown = np.bincount(group_index, unknown, n_groups) > 0
    keep = (holds & has_unknown)[group_index]
    cells, value, missing, is_hidden, unknown, sign, group_index = (
        a[keep] for a in (cells, value, missing, is_hidden, unknown, sign, group_index)
    )
    if len(cells) == 0:
        return

    cluster = linked(group_index[unknown], cells[unknown], n_groups)
    is_primary = primary.reindex(cells, fill_value=False).to_numpy(dtype=bool) & is_hidden & ~missing
    is_primary &= ~np.isin(cells, list(settled.protected))
    still_moving = is_hidden & ~missing & ~np.isin(cells, list(settled.moving))
    wanted = np.unique(cluster[group_index[is_primary | still_moving]])
    if changed is not None:
        touched = np.unique(cluster[group_index[unknown & np.isin(cells, list(changed))]])
        wanted = np.intersect1d(wanted, touched)
    if len(wanted) == 0:
        return
    entry_cluster = cluster[group_index]
    chosen = np.isin(entry_cluster, wanted)
    order = np.argsort(entry_cluster[chosen], kind="stable")
    columns = {
        "cluster": entry_cluster[chosen][order],
        "cell": cells[chosen][order],
        "value": value[chosen][order],
        "missing": missing[chosen][order],
        "unknown": unknown[chosen][order],
        "primary": is_primary[chosen][order],
        "sign": sign[chosen][order],
        "group": group_index[chosen][order],
        "moving": np.isin(cells, list(settled.moving))[chosen][order],
        "ceiling": (
            np.full(len(cells), np.inf)
            if ceilings is None
            else ceilings.reindex(cells).fillna(np.inf).to_numpy(dtype=float)
        )[chosen][order],
    }
    bounds = np.flatnonzero(np.diff(columns["cluster"])) + 1
    starts = np.concatenate([[0], bounds]).tolist()
    ends = np.concatenate([bounds, [len(columns["cluster"])]]).tolist()
    for start, end in zip(starts, ends, strict=True):
        entries = {name: a[start:end] for name, a in columns.items()}
        yield _cluster(entries)


def _cluster(entries: dict[str, np.ndarray]) -> _Cluster:
    unknown = entries["unknown"]
    group_codes, row = np.unique(entries["group"], return_inverse=True)
    cells, first, column = np.unique(entries["cell"][unknown], return_index=True, return_inverse=True)
    n_rows, n_columns = len(group_codes), len(cells)
    sign = entries["sign"][unknown]
    matrix = sparse.csr_matrix((sign, (row[unknown], column)), shape=(n_rows, n_columns))
    known = ~unknown
    constants = -np.bincount(row[known], entries["sign"][known] * entries["value"][known], n_rows)

    # A `[c]` is at least 1; a missing figure at least 0.
    is_missing = entries["missing"][unknown][first]
    lower = np.where(is_missing, 0.0, 1.0)
    upper = entries["ceiling"][unknown][first]
    truth = None if is_missing.any() else entries["value"][unknown][first]
    primary = np.flatnonzero(np.isin(cells, entries["cell"][entries["primary"]]))

    # What the markers alone allow: a total is at least the sum of its
    # parts' least values, each `[c]` 1.
    floor = lower.copy()
    parts = sign > 0
    part_rows, part_columns = row[unknown][parts], column[parts]
    total_rows, total_columns = row[unknown][~parts], column[~parts]
    for _ in range(n_columns):
        sums = np.bincount(part_rows, floor[part_columns], n_rows)
        raised = floor.copy()
        np.maximum.at(raised, total_columns, sums[total_rows])
        if np.array_equal(raised, floor):
            break
        floor = raised
    return _Cluster(
        moving=entries["moving"][unknown][first],
        cells=cells,
        matrix=matrix if n_columns > DENSE_LIMIT else matrix.toarray(),
        constants=constants,
        lower=lower,
        upper=upper,
        truth=truth,
        primary=primary,
        floor=floor[primary],
    )


def _too_narrow(cluster: _Cluster, threshold: int) -> Generator[Request, np.ndarray, Verdict]:
    """The primary cells of `cluster` that cannot reach their floor or the
    threshold and the hidden cells pinned to one value (given away), and
    the hidden cells seen taking two values.

    Each solution found is a set of figures an attacker cannot rule out, so
    any primary it shows at its floor or at the threshold needs no programme
    of its own: the figures as they are first, then one programme that
    raises every primary left as far as the threshold at once and one that
    lowers them all, repeated while they settle some. Those left try on
    their own, which decides them. Hidden figures no solution has moved
    get one programme that raises them and one that lowers them. Each
    programme is yielded, and its solution sent back (`_together`)."""
    segment = _segment(cluster)
    if segment is not None:
        least, greatest = segment
        narrow = (least[cluster.primary] > cluster.floor + 1e-6) | (
            greatest[cluster.primary] < threshold - 1e-6
        )
        moved = (greatest - least > 1e-6) & (cluster.lower > 0)
        stuck = ~moved & ~cluster.moving & (cluster.lower > 0)
        given_away = set(cluster.cells[cluster.primary[narrow]].tolist()) | set(cluster.cells[stuck].tolist())
        return given_away, set(cluster.cells[moved].tolist())
    n = len(cluster.primary)
    floor, top = cluster.floor + 1e-6, threshold - 1e-6
    points: list[np.ndarray] = []
    low = np.zeros(n, dtype=bool)
    high = np.zeros(n, dtype=bool)

    def seen(point: np.ndarray) -> None:
        points.append(point)
        low[point[cluster.primary] <= floor] = True
        high[point[cluster.primary] >= top] = True

    if cluster.truth is not None:
        seen(cluster.truth)
    for upward in (True, False):
        reached = high if upward else low
        targets = np.full(n, float(threshold)) if upward else cluster.floor
        alone = np.zeros(n, dtype=bool)
        while not reached.all():
            before = int(reached.sum())
            todo = np.flatnonzero(~reached)
            seen((yield (cluster, cluster.primary[todo], targets[todo], upward)))
            alone[todo] = len(todo) == 1
            if reached.sum() == before:
                break
        for i in np.flatnonzero(~reached & ~alone).tolist():
            seen((yield (cluster, cluster.primary[i : i + 1], targets[i : i + 1], upward)))
    # Hidden figures no solution so far has moved: one programme raises
    # them, one lowers them, and any still unmoved try on their own, which
    # decides whether they are pinned.
    pinned_here: list[int] = []
    for together in (True, False):
        hidden_still = _unmoved(points, cluster)
        if not len(hidden_still):
            break
        batches = [hidden_still] if together else [hidden_still[i : i + 1] for i in range(len(hidden_still))]
        for still in batches:
            level = np.vstack(points).max(axis=0)[still] if points else cluster.lower[still]
            seen((yield (cluster, still, level + 1, True)))
            seen((yield (cluster, still, level, False)))
    if points:
        pinned_here = _unmoved(points, cluster).tolist()
    narrow = set(cluster.cells[cluster.primary[~(low & high)]].tolist()) | set(
        cluster.cells[pinned_here].tolist()
    )
    stacked = np.vstack(points) if points else np.zeros((1, len(cluster.cells)))
    moved = (stacked.max(axis=0) - stacked.min(axis=0) > 1e-6) & (cluster.lower > 0)
    return narrow, set(cluster.cells[moved].tolist())


def _unmoved(points: list[np.ndarray], cluster: _Cluster) -> np.ndarray:
    """Hidden figures (not missing ones) that took one value in every
    solution so far, and no earlier audit saw move."""
    if not points:
        return np.flatnonzero(~cluster.moving & (cluster.lower > 0))
    stacked = np.vstack(points)
    unmoved = stacked.max(axis=0) - stacked.min(axis=0) <= 1e-6
    return np.flatnonzero(unmoved & ~cluster.moving & (cluster.lower > 0))


# Clusters up to this many unknowns have their null space found first.
SEGMENT_LIMIT = 60


def _segment(cluster: _Cluster) -> tuple[np.ndarray, np.ndarray] | None:
    """Each unknown's least and greatest value without a programme, when
    the solutions lie on one line through the figures as they are (a null
    space of one dimension, as a rectangle of four hidden figures has) or
    are that point alone; None otherwise."""
    n = len(cluster.cells)
    if cluster.truth is None or n > SEGMENT_LIMIT or not isinstance(cluster.matrix, np.ndarray):
        return None
    _, singular, vt = np.linalg.svd(cluster.matrix)
    rank = int((singular > TOLERANCE * max(cluster.matrix.shape)).sum())
    if n - rank > 1:
        return None
    if n == rank:
        return cluster.truth, cluster.truth
    direction = vt[rank]
    direction[np.abs(direction) < 1e-12] = 0.0
    # lower <= truth + t * direction <= upper: t is bounded by each figure
    # it lowers to its floor and each it raises to its ceiling.
    room_down = cluster.truth - cluster.lower
    room_up = cluster.upper - cluster.truth
    falling, rising = direction < 0, direction > 0
    most = min(
        np.min(room_down[falling] / -direction[falling], initial=np.inf),
        np.min(room_up[rising] / direction[rising], initial=np.inf),
    )
    least = -min(
        np.min(room_down[rising] / direction[rising], initial=np.inf),
        np.min(room_up[falling] / -direction[falling], initial=np.inf),
    )
    with np.errstate(invalid="ignore"):
        ends = np.column_stack([cluster.truth + least * direction, cluster.truth + most * direction])
    ends[:, 0] = np.where(direction == 0, cluster.truth, ends[:, 0])
    ends[:, 1] = np.where(direction == 0, cluster.truth, ends[:, 1])
    return ends.min(axis=1), ends.max(axis=1)


def _spread(k: int) -> np.ndarray:
    """Weights from 1 to 2, all different: with equal weights, many
    solutions tie (two parts of a total at 3 each rather than one at 4) and
    the solver may stop at one that takes none of them all the way."""
    return 1.0 + np.arange(k) / max(k, 1)


def _solve_all(requests: list[Request]) -> list[np.ndarray]:
    """Each request's solution, solved in as few programmes as sizes allow."""
    solutions: list[np.ndarray] = []
    start = 0
    while start < len(requests):
        end, size = start, 0
        while end < len(requests) and (
            end == start or size + len(requests[end][0].cells) <= UNKNOWNS_AT_ONCE
        ):
            size += len(requests[end][0].cells)
            end += 1
        solutions += _solve(requests[start:end])
        start = end
    return solutions


def _solve(requests: list[Request]) -> list[np.ndarray]:
    """One programme of independent blocks, one per request. A block takes
    its columns as far towards their targets as they can go together:
    upward, the greatest weighted sum of min(figure, target) (through
    s <= figure, s <= target); downward, the least weighted sum (no figure
    goes below its floor, so when they can all reach their floors together
    this finds it)."""
    objective: list[np.ndarray] = []
    lower: list[np.ndarray] = []
    upper: list[np.ndarray] = []
    equalities: list[sparse.csr_matrix] = []
    constants: list[np.ndarray] = []
    limit_rows: list[np.ndarray] = []
    limit_columns: list[np.ndarray] = []
    limit_values: list[np.ndarray] = []
    offsets = []
    offset = n_limits = 0
    for cluster, columns, targets, upward in requests:
        n, k = len(cluster.cells), len(columns)
        offsets.append(offset)
        weights = _spread(k)
        if upward:
            objective += [np.zeros(n), -weights]
            lower += [cluster.lower, np.zeros(k)]
            upper += [cluster.upper, targets]
            equalities.append(
                sparse.hstack(
                    [sparse.csr_matrix(cluster.matrix), sparse.csr_matrix((cluster.matrix.shape[0], k))]
                )
            )
            # s - y <= 0
            limit_rows += [np.arange(k) + n_limits, np.arange(k) + n_limits]
            limit_columns += [offset + n + np.arange(k), offset + columns]
            limit_values += [np.ones(k), -np.ones(k)]
            n_limits += k
            offset += n + k
        else:
            costs = np.zeros(n)
            costs[columns] = weights
            objective.append(costs)
            lower.append(cluster.lower)
            upper.append(cluster.upper)
            equalities.append(sparse.csr_matrix(cluster.matrix))
            offset += n
        constants.append(cluster.constants)
    a_ub = b_ub = None
    if n_limits:
        a_ub = sparse.csr_matrix(
            (np.concatenate(limit_values), (np.concatenate(limit_rows), np.concatenate(limit_columns))),
            shape=(n_limits, offset),
        )
        b_ub = np.zeros(n_limits)
    result = linprog(
        np.concatenate(objective),
        A_ub=a_ub,
        b_ub=b_ub,
        A_eq=sparse.block_diag(equalities, format="csr"),
        b_eq=np.concatenate(constants),
        bounds=np.column_stack([np.concatenate(lower), np.concatenate(upper)]),
        method="highs",
    )
    if result.status != 0:
        raise RuntimeError(f"disclosure audit: the linear programme failed: {result.message}")
    return [
        np.asarray(result.x[start : start + len(cluster.cells)])
        for start, (cluster, *_rest) in zip(offsets, requests, strict=True)
    ]


def disclosed(
    values: pd.Series,
    hidden: pd.Series,
    groups: pd.DataFrame,
    changed: set[int] | None = None,
    primary: pd.Series | None = None,
    threshold: int | None = None,
    settled: Settled | None = None,
    ceilings: pd.Series | None = None,
) -> set[int]:
    """Hidden cells that the groups' totals give away.

    Given `primary` and `threshold`, the linear programmes decide: primary
    cells `narrowed`, and hidden cells that took one value in every
    solution and, on their own, can go neither up nor down (pinned). Without
    them, only figures pinned, by the null space (`pinned`).

    With `changed` (the cells hidden since the last audit), only clusters of
    totals linked by hidden cells that hold one of them are audited: any
    other cluster is exactly as it was, and so is its answer. `settled`
    carries what earlier audits of the same table proved."""
    if primary is not None and threshold is not None:
        return _bounds(values, hidden, primary, groups, threshold, changed, settled or Settled(), ceilings)
    has_hidden = hidden.reindex(groups["cell"]).fillna(False).to_numpy(dtype=bool)
    entries = groups[has_hidden]
    if entries.empty:
        return set()
    group_codes, group_index = np.unique(entries["group"].to_numpy(), return_inverse=True)
    if changed is not None:
        cluster = linked(group_index, entries["cell"].to_numpy(dtype=np.int64), len(group_codes))
        touched = np.unique(cluster[group_index[entries["cell"].isin(changed).to_numpy()]])
        group_codes = group_codes[np.isin(cluster, touched)]
    groups = groups[groups["group"].isin(group_codes)]
    return pinned(equations(values, hidden, groups), values)
