"""Can a hidden figure be worked out from what a board sees?

Two attacks, both run on every protected table before it is loaded:
- linear: the published totals are linear equations in the hidden figures;
  a hidden figure is given away when it is the same in every solution,
  which is when its column of the null space of the equations is zero;
- bounds: every `[c]` is at least 1, so equations can pin a figure even when
  algebra alone cannot (two hidden ones adding up to 2), found by
  tightening each hidden figure's interval until nothing changes.
"""

from __future__ import annotations

from collections import defaultdict

import numpy as np
import pandas as pd
from scipy import sparse
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


def linear_disclosures(system: list[tuple[dict[int, float], float]]) -> set[int]:
    found: set[int] = set()
    for component in _components(system):
        cells = sorted({cell for i in component for cell in system[i][0]})
        column = {cell: j for j, cell in enumerate(cells)}
        matrix = np.zeros((len(component), len(cells)))
        for row, i in enumerate(component):
            for cell, coefficient in system[i][0].items():
                matrix[row, column[cell]] = coefficient
        # Null space from the SVD: the right singular vectors beyond the rank.
        _, singular, vt = np.linalg.svd(matrix)
        rank = int((singular > TOLERANCE * max(matrix.shape)).sum())
        null_space = vt[rank:]
        for cell, j in column.items():
            if null_space.shape[0] == 0 or np.all(np.abs(null_space[:, j]) < 1e-7):
                found.add(cell)
    return found


def bound_disclosures(system: list[tuple[dict[int, float], float]], max_rounds: int = 30) -> set[int]:
    """Hidden figures whose interval closes to a single value.

    Every equation bounds each of its figures by the bounds of the others;
    all equations are applied at once each round, on whole arrays. Intervals
    in a cycle of totals can keep shrinking a little each round without
    closing, so the rounds are capped; the tests attack the result with
    exact linear programming."""
    if not system:
        return set()
    cells = sorted({cell for coefficients, _ in system for cell in coefficients})
    position = {cell: i for i, cell in enumerate(cells)}
    eq = np.array([e for e, (coefficients, _) in enumerate(system) for _ in coefficients])
    col = np.array([position[c] for coefficients, _ in system for c in coefficients])
    a = np.array([v for coefficients, _ in system for v in coefficients.values()])
    constant = np.array([k for _, k in system])[eq]
    low = np.ones(len(cells))
    high = np.full(len(cells), np.inf)
    n = len(system)
    for _ in range(max_rounds):
        least = np.where(a > 0, a * low[col], a * high[col])
        most = np.where(a > 0, a * high[col], a * low[col])
        rest_low = _others(least, eq, n, -np.inf)
        rest_high = _others(most, eq, n, np.inf)
        with np.errstate(invalid="ignore"):
            first, second = (constant - rest_high) / a, (constant - rest_low) / a
        # inf - inf is no bound at all (NaN); keep infinities as they are.
        lo = np.minimum(first, second)
        hi = np.maximum(first, second)
        lo[np.isnan(lo)] = -np.inf
        hi[np.isnan(hi)] = np.inf
        new_low, new_high = low.copy(), high.copy()
        np.maximum.at(new_low, col, lo)
        np.minimum.at(new_high, col, hi)
        if np.all(new_low <= low + TOLERANCE) and np.all(new_high >= high - TOLERANCE):
            break
        low, high = new_low, new_high
    return {cells[i] for i in np.flatnonzero(high - low < 0.5)}


def _others(terms: np.ndarray, eq: np.ndarray, n: int, infinity: float) -> np.ndarray:
    """For each term, the sum of the other terms of its equation. Only one
    kind of infinity can occur in `terms`: lower bounds of the terms are
    finite or -inf, upper bounds finite or +inf."""
    infinite = np.isinf(terms)
    own = np.where(infinite, 0.0, terms)
    finite_sum = np.bincount(eq, weights=own, minlength=n)
    infinite_count = np.bincount(eq, weights=infinite.astype(float), minlength=n)
    others_infinite = infinite_count[eq] - infinite > 0
    return np.where(others_infinite, infinity, finite_sum[eq] - own)


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
    return linear_disclosures(system) | bound_disclosures(system)
