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

TOLERANCE = 1e-9


def equations(
    values: pd.Series, hidden: pd.Series, groups: pd.DataFrame
) -> list[tuple[dict[int, float], float]]:
    """Each group as `sum(coefficient * hidden figure) = constant`. Members
    count +1 and the total -1; visible figures move into the constant."""
    result = []
    for _, group in groups.groupby("group", sort=False):
        coefficients: dict[int, float] = {}
        constant = 0.0
        for cell, is_total in zip(group["cell"].tolist(), group["is_total"].tolist(), strict=True):
            sign = -1.0 if is_total else 1.0
            if hidden.get(cell, False):
                coefficients[cell] = coefficients.get(cell, 0.0) + sign
            else:
                value = values.get(cell)
                constant -= sign * (0.0 if value is None or pd.isna(value) else float(value))
        if coefficients:
            result.append((coefficients, constant))
    return result


def _components(system: list[tuple[dict[int, float], float]]) -> list[list[int]]:
    """Indexes of equations that share hidden figures, grouped."""
    parent = list(range(len(system)))

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    first_seen: dict[int, int] = {}
    for index, (coefficients, _) in enumerate(system):
        for cell in coefficients:
            if cell in first_seen:
                parent[find(index)] = find(first_seen[cell])
            else:
                first_seen[cell] = index
    members: dict[int, list[int]] = defaultdict(list)
    for index in range(len(system)):
        members[find(index)].append(index)
    return list(members.values())


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


def bound_disclosures(system: list[tuple[dict[int, float], float]], max_rounds: int = 50) -> set[int]:
    """Hidden figures whose interval closes to a single value."""
    low: dict[int, float] = defaultdict(lambda: 1.0)
    high: dict[int, float] = defaultdict(lambda: np.inf)
    for _ in range(max_rounds):
        changed = False
        for coefficients, constant in system:
            for cell, a in coefficients.items():
                # a * x = constant - sum(others); bound the others' sum.
                rest_low = sum(
                    c * (low[o] if c > 0 else high[o]) for o, c in coefficients.items() if o != cell
                )
                rest_high = sum(
                    c * (high[o] if c > 0 else low[o]) for o, c in coefficients.items() if o != cell
                )
                lo, hi = sorted(((constant - rest_high) / a, (constant - rest_low) / a))
                if lo > low[cell] + TOLERANCE:
                    low[cell], changed = lo, True
                if hi < high[cell] - TOLERANCE:
                    high[cell], changed = hi, True
        if not changed:
            break
    cells = {cell for coefficients, _ in system for cell in coefficients}
    return {cell for cell in cells if high[cell] - low[cell] < 0.5}


def disclosed(values: pd.Series, hidden: pd.Series, groups: pd.DataFrame) -> set[int]:
    """Hidden cells that the groups' totals give away."""
    has_hidden = hidden.reindex(groups["cell"]).fillna(False).to_numpy(dtype=bool)
    groups = groups[groups["group"].isin(set(groups["group"].to_numpy()[has_hidden]))]
    system = equations(values, hidden, groups)
    return linear_disclosures(system) | bound_disclosures(system)
