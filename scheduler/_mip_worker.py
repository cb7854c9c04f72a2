"""Child process of `staffcast.scheduler.mip.run_mip`: solve one MIP with HiGHS and keep the best plan
on disk (`best.npy`, replaced atomically at every improvement) and the best dual bound
(`bound.json`, at most every `BOUND_EVERY_S`) so the parent still has both when its watchdog
kills this process. Reads model.npz, options.json and start.npy from the folder given as the
only argument; writes result.json at the end.
"""

import json
import os
import sys
import time
from pathlib import Path

import highspy
import numpy as np


BOUND_EVERY_S = 0.25


def _write_atomic(folder: Path, name: str, text: str) -> None:
    tmp = folder / f"{name}.tmp"
    tmp.write_text(text)
    os.replace(tmp, folder / name)


def _save_best(folder: Path, x: np.ndarray) -> None:
    tmp = folder / "best.tmp.npy"
    np.save(tmp, np.asarray(x, dtype=float))
    os.replace(tmp, folder / "best.npy")


def main(folder: Path) -> None:
    data = np.load(folder / "model.npz")
    options = json.loads((folder / "options.json").read_text())
    highs = highspy.Highs()
    for key, value in options.items():
        highs.setOptionValue(key, value)
    lp = highspy.HighsLp()
    lp.num_col_ = len(data["cost"])
    lp.num_row_ = len(data["row_lower"])
    lp.col_cost_ = data["cost"]
    lp.col_lower_ = data["lower"]
    lp.col_upper_ = data["upper"]
    lp.row_lower_ = data["row_lower"]
    lp.row_upper_ = data["row_upper"]
    lp.a_matrix_.format_ = highspy.MatrixFormat.kRowwise
    lp.a_matrix_.start_ = data["start"]
    lp.a_matrix_.index_ = data["index"]
    lp.a_matrix_.value_ = data["value"]
    lp.integrality_ = [highspy.HighsVarType.kInteger if i else highspy.HighsVarType.kContinuous
                       for i in data["integer"]]
    highs.passModel(lp)
    cost = data["cost"]
    # Plans are valued at their own cost: after presolve HiGHS can report objectives of its
    # reduced problem, a constant away from the model's (seen with HiGHS 1.16).
    best = {"objective": float("inf")}

    def improved(event) -> None:
        x = np.asarray(event.data_out.mip_solution, dtype=float)
        value = float(cost @ x)
        if value < best["objective"]:
            best["objective"] = value
            _save_best(folder, x)

    highs.cbMipImprovingSolution.subscribe(improved)
    dual = {"bound": -float("inf"), "written": 0.0}

    def progress(event) -> None:
        # The improving callback runs first, so `best` is the solver's incumbent.
        bound = _bound(best["objective"], event.data_out.mip_primal_bound,
                       event.data_out.mip_dual_bound)
        now = time.monotonic()
        if bound is not None and bound > dual["bound"] and now - dual["written"] >= BOUND_EVERY_S:
            dual["bound"], dual["written"] = bound, now
            _write_atomic(folder, "bound.json", json.dumps({"bound": bound}))

    highs.cbMipInterrupt.subscribe(progress)
    start_path = folder / "start.npy"
    if start_path.is_file():
        start = np.load(start_path)
        highs.setSolution(_solution(start))
        _save_best(folder, start)
        best["objective"] = float(cost @ start)
    highs.run()
    status = highs.getModelStatus()
    info = highs.getInfo()
    statuses = {highspy.HighsModelStatus.kOptimal: "optimal",
                highspy.HighsModelStatus.kInfeasible: "infeasible",
                highspy.HighsModelStatus.kTimeLimit: "stopped",
                highspy.HighsModelStatus.kSolutionLimit: "stopped",
                highspy.HighsModelStatus.kIterationLimit: "stopped",
                highspy.HighsModelStatus.kInterrupt: "stopped"}
    name = statuses.get(status, "error")
    bound = None
    if info.primal_solution_status == 2:  # kSolutionStatusFeasible
        x = np.asarray(highs.getSolution().col_value, dtype=float)
        bound = _bound(float(cost @ x), info.objective_function_value, info.mip_dual_bound)
        if float(cost @ x) < best["objective"] - 1e-9:
            _save_best(folder, x)
    if name == "optimal" and bound is None:
        name = "stopped"  # "optimal" without a bound it can trust proves nothing
    # Atomic, like best.npy: the watchdog may kill this process at any instruction.
    _write_atomic(folder, "result.json", json.dumps({
        "status": name, "bound": bound, "message": highs.modelStatusToString(status)}))


def _bound(objective: float, primal: float, dual: float) -> float | None:
    """The solver's dual bound when it can be trusted: None unless the solver values its
    incumbent (`primal`) at the incumbent's own cost `objective`. HiGHS 1.16 can report a
    presolved problem's objective, a constant away, after a start; its "optimal" then is
    no proof (a queue's start of 66,549 was declared optimal with bound 61,941, and a plan
    of 66,182 exists)."""
    values = (objective, float(primal), float(dual))
    if not all(np.isfinite(v) for v in values):
        return None
    if abs(values[1] - objective) > 1e-6 * max(1.0, abs(objective)):
        return None
    return min(objective, values[2])


def _solution(values: np.ndarray) -> "highspy.HighsSolution":
    solution = highspy.HighsSolution()
    solution.col_value = list(map(float, values))
    solution.value_valid = True
    return solution


if __name__ == "__main__":
    main(Path(sys.argv[1]))
