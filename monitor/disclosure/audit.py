"""Can a hidden figure be worked out from what a board sees?

The published totals are linear equations in the hidden figures, and every
`[c]` is at least 1. A hidden figure is given away when it takes the same
value in every solution: by algebra alone (its column of the null space of
the equations is zero), or because the floor of 1 holds other figures still
(two hidden ones adding up to 2, or longer chains of totals). The audit is
exact for both, cluster by cluster of totals linked by hidden figures, and
runs on every protected table before it is loaded.
"""

from __future__ import annotations

from collections import defaultdict

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


def disclosed(
    values: pd.Series, hidden: pd.Series, groups: pd.DataFrame, changed: set[int] | None = None
) -> set[int]:
    """Hidden cells that the groups' totals give away.

    With `changed` (the cells hidden since the last audit), only clusters of
    totals linked by hidden cells that hold one of them are audited: any
    other cluster is exactly as it was, and so is its answer."""
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
    system = equations(values, hidden, groups)
    return pinned(system, values)
