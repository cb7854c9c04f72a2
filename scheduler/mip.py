"""A built PuLP problem as arrays, and the two ways staffcast runs a solver on it.

`Columns.of(problem)` reads the problem once into numpy arrays (costs, bounds, integrality,
a row-wise sparse matrix). `solve_lp` solves a relaxation or a completion (integers fixed)
in process with HiGHS: LPs of this size finish in seconds and HiGHS honours an LP's time
limit. `run_mip` runs a MIP in a child process under a hard wall-clock watchdog: HiGHS
does not always honour its own `time_limit` inside a MIP (a 60 s limit once ran 414 s), so
the child streams every improving plan to a file and is killed at the deadline; the best
plan it reported is what the parent gets. Work limits (`max_nodes`) keep a step's result
independent of how loaded the machine is; the wall clock is only the backstop.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pulp

WORKER = Path(__file__).with_name("_mip_worker.py")
_INF = math.inf


@dataclass(frozen=True)
class Columns:
    """The problem `min cost @ x` s.t. `row_lower <= A x <= row_upper`, `lower <= x <= upper`,
    `x[integer]` whole. `names[i]` is column i's PuLP variable name."""

    names: tuple[str, ...]
    cost: np.ndarray
    offset: float
    lower: np.ndarray
    upper: np.ndarray
    integer: np.ndarray
    start: np.ndarray       # CSR row pointers
    index: np.ndarray
    value: np.ndarray
    row_lower: np.ndarray
    row_upper: np.ndarray

    @classmethod
    def of(cls, problem: pulp.LpProblem) -> "Columns":
        variables = problem.variables()
        position = {v.name: i for i, v in enumerate(variables)}
        n = len(variables)
        cost = np.zeros(n)
        for var, coef in problem.objective.items():
            cost[position[var.name]] += coef
        lower = np.array([-_INF if v.lowBound is None else v.lowBound for v in variables],
                         dtype=float)
        upper = np.array([_INF if v.upBound is None else v.upBound for v in variables],
                         dtype=float)
        integer = np.array([v.cat == pulp.LpInteger for v in variables], dtype=bool)
        starts, index, value, row_lower, row_upper = [0], [], [], [], []
        for constraint in problem.constraints():
            for var, coef in constraint.items():
                if coef:
                    index.append(position[var.name])
                    value.append(coef)
            starts.append(len(index))
            rhs = -constraint.constant
            sense = constraint.sense
            row_lower.append(rhs if sense in (pulp.LpConstraintEQ, pulp.LpConstraintGE)
                             else -_INF)
            row_upper.append(rhs if sense in (pulp.LpConstraintEQ, pulp.LpConstraintLE)
                             else _INF)
        return cls(tuple(v.name for v in variables), cost,
                   float(problem.objective.constant or 0.0), lower, upper, integer,
                   np.asarray(starts, dtype=np.int64), np.asarray(index, dtype=np.int64),
                   np.asarray(value, dtype=float), np.asarray(row_lower, dtype=float),
                   np.asarray(row_upper, dtype=float))

    @property
    def n_cols(self) -> int:
        return len(self.names)

    def objective(self, x: np.ndarray) -> float:
        return float(self.cost @ x + self.offset)

    def row_activity(self, x: np.ndarray) -> np.ndarray:
        counts = np.diff(self.start)
        rows = np.repeat(np.arange(len(counts)), counts)
        return np.bincount(rows, weights=self.value * x[self.index], minlength=len(counts))

    def violation(self, x: np.ndarray) -> float:
        """Largest violation of a row, bound or integrality by `x` (0 for a plan)."""
        act = self.row_activity(x)
        worst = max(float(np.max(self.row_lower - act, initial=0.0)),
                    float(np.max(act - self.row_upper, initial=0.0)),
                    float(np.max(self.lower - x, initial=0.0)),
                    float(np.max(x - self.upper, initial=0.0)))
        frac = np.abs(x[self.integer] - np.round(x[self.integer]))
        return max(worst, float(np.max(frac, initial=0.0)))

    def save(self, path: Path, lower: np.ndarray, upper: np.ndarray, relax: bool) -> None:
        np.savez(path, cost=self.cost, lower=lower, upper=upper,
                 integer=np.zeros_like(self.integer) if relax else self.integer,
                 start=self.start, index=self.index, value=self.value,
                 row_lower=self.row_lower, row_upper=self.row_upper)


_QUIET = threading.Lock()
_quiet_depth = [0, -1]  # threads inside, saved fd 1


@contextlib.contextmanager
def quiet_stdout():
    """Silence fd 1 (HiGHS prints a banner even with output off) so stdout stays clean for
    CSV/JSON output. Safe across threads: the first in redirects, the last out restores."""
    with _QUIET:
        if _quiet_depth[0] == 0:
            sys.stdout.flush()
            _quiet_depth[1] = os.dup(1)
            with open(os.devnull, "w") as devnull:
                os.dup2(devnull.fileno(), 1)
        _quiet_depth[0] += 1
    try:
        yield
    finally:
        with _QUIET:
            _quiet_depth[0] -= 1
            if _quiet_depth[0] == 0:
                sys.stdout.flush()
                os.dup2(_quiet_depth[1], 1)
                os.close(_quiet_depth[1])


def _highs_lp(cols: Columns, lower: np.ndarray, upper: np.ndarray):
    import highspy

    lp = highspy.HighsLp()
    lp.num_col_ = cols.n_cols
    lp.num_row_ = len(cols.row_lower)
    lp.col_cost_ = cols.cost
    lp.col_lower_ = lower
    lp.col_upper_ = upper
    lp.row_lower_ = cols.row_lower
    lp.row_upper_ = cols.row_upper
    lp.offset_ = cols.offset
    lp.a_matrix_.format_ = highspy.MatrixFormat.kRowwise
    lp.a_matrix_.start_ = cols.start
    lp.a_matrix_.index_ = cols.index
    lp.a_matrix_.value_ = cols.value
    return lp


@dataclass(frozen=True)
class LpOutcome:
    """`status` "optimal", "infeasible" or "error"; `x` the column values when optimal."""

    status: str
    x: np.ndarray | None
    objective: float | None
    message: str = ""


def solve_lp(cols: Columns, time_limit_s: float, lower: np.ndarray | None = None,
             upper: np.ndarray | None = None, interior: bool = False) -> LpOutcome:
    """Solve the continuous relaxation of `cols` (with `lower`/`upper` replacing the column
    bounds, e.g. integers fixed to complete a plan) in process. `interior`: by the
    interior-point method without crossover, so `x` lies inside the optimal face rather
    than at one of its vertices (more columns fractional)."""
    import highspy

    with quiet_stdout():
        highs = highspy.Highs()
        highs.setOptionValue("output_flag", False)
        highs.setOptionValue("threads", 1)
        highs.setOptionValue("time_limit", float(max(time_limit_s, 0.5)))
        if interior:
            highs.setOptionValue("solver", "ipm")
            highs.setOptionValue("run_crossover", "off")
        highs.passModel(_highs_lp(cols, cols.lower if lower is None else lower,
                                  cols.upper if upper is None else upper))
        highs.run()
    status = highs.getModelStatus()
    if status == highspy.HighsModelStatus.kOptimal:
        x = np.asarray(highs.getSolution().col_value, dtype=float)
        return LpOutcome("optimal", x, cols.objective(x))
    if status in (highspy.HighsModelStatus.kInfeasible,
                  highspy.HighsModelStatus.kUnboundedOrInfeasible):
        return LpOutcome("infeasible", None, None, "no solution satisfies the rows")
    return LpOutcome("error", None, None, highs.modelStatusToString(status))


@dataclass(frozen=True)
class MipOutcome:
    """A MIP step's result. `status`: "optimal" (proven within its gap), "stopped" (a work
    or time limit ended it with a plan), "killed" (the watchdog ended it; `x` is the best
    plan it had reported), "noplan", "infeasible" or "error". `bound` is the solver's dual
    bound (objective units, a lower bound on every plan within these column bounds) when it
    reported one, also the last one it streamed before a kill."""

    status: str
    x: np.ndarray | None
    objective: float | None
    bound: float | None
    seconds: float
    message: str = ""


def run_mip(cols: Columns, *, lower: np.ndarray, upper: np.ndarray,
            start: np.ndarray | None, time_limit_s: float, gap: float,
            max_nodes: int | None = None) -> MipOutcome:
    """Solve the MIP (`cols` with these column bounds) with HiGHS in a child process,
    starting from plan `start`, within `gap`, `max_nodes` branch-and-bound nodes and a hard
    wall clock of `time_limit_s` seconds (the child is killed then; the best plan it had
    reported is returned)."""
    began = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="staffcast-mip-") as tmp:
        folder = Path(tmp)
        cols.save(folder / "model.npz", lower, upper, relax=False)
        if start is not None:
            np.save(folder / "start.npy", start)
        options = {"mip_rel_gap": gap, "time_limit": max(time_limit_s - 0.5, 0.5),
                   "threads": 1, "output_flag": False, "random_seed": 0}
        if max_nodes is not None:
            options["mip_max_nodes"] = int(max_nodes)
        (folder / "options.json").write_text(json.dumps(options))
        env = {**os.environ, "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1"}
        proc = subprocess.Popen([sys.executable, str(WORKER), str(folder)],
                                stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                stderr=subprocess.PIPE, env=env)
        killed = False
        try:
            _, err = proc.communicate(timeout=max(time_limit_s, 0.5) + 1.0)
        except subprocess.TimeoutExpired:
            proc.kill()
            _, err = proc.communicate()
            killed = True
        seconds = time.perf_counter() - began
        result = {}
        if (folder / "result.json").is_file():
            result = json.loads((folder / "result.json").read_text())
        x = np.load(folder / "best.npy") if (folder / "best.npy").is_file() else None
        bound = result.get("bound")
        if bound is None and (folder / "bound.json").is_file():
            bound = json.loads((folder / "bound.json").read_text())["bound"]
        if bound is not None:
            bound += cols.offset  # the child solves without the constant term
        if killed:
            return MipOutcome("killed", x, None if x is None else cols.objective(x), bound,
                              seconds, f"the solver overran its {time_limit_s:.0f} s and was "
                                       "stopped by the watchdog")
        if proc.returncode != 0 and not result:
            tail = (err or b"").decode(errors="replace").strip().splitlines()[-1:]
            return MipOutcome("error", x, None, None, seconds,
                              f"solver process failed: {' '.join(tail)}")
        status = result.get("status", "error")
        if status in ("optimal", "stopped") and x is None:
            status = "noplan"
        return MipOutcome(status, x, None if x is None else cols.objective(x), bound, seconds,
                          result.get("message", ""))

