"""`scheduler.mip.solve_lp`: the interior-point solve used to centre the break twin's
neighbourhood."""

from __future__ import annotations

import pulp
import pytest

from staffcast.scheduler.mip import Columns, solve_lp


def _even_cycle(n: int) -> Columns:
    # Shifts around a clock of n slots, each covering two neighbouring slots that need one
    # agent each: min sum x s.t. x_i + x_{i+1} >= 1. With n even every other shift is an
    # optimal vertex (cost n/2, half the columns 0), and so is half a shift everywhere.
    problem = pulp.LpProblem("cycle", pulp.LpMinimize)
    xs = [pulp.LpVariable(f"x{i}", lowBound=0, cat=pulp.LpInteger) for i in range(n)]
    problem += pulp.lpSum(xs)
    for i in range(n):
        problem += xs[i] + xs[(i + 1) % n] >= 1, f"slot{i}"
    return Columns.of(problem)


@pytest.mark.parametrize("n", [4, 6, 10])
def test_the_interior_solve_lies_inside_the_optimal_face(n):
    cols = _even_cycle(n)
    vertex = solve_lp(cols, 10)
    inside = solve_lp(cols, 10, interior=True)
    assert vertex.status == inside.status == "optimal"
    assert inside.objective == pytest.approx(vertex.objective, abs=1e-6)
    assert inside.objective == pytest.approx(n / 2, abs=1e-6)
    assert min(vertex.x) == pytest.approx(0.0, abs=1e-9)
    # Strictly inside the face: no column at a bound, none of the vertex's zeros.
    assert min(inside.x) > 0.25
