"""Building the integer program: names, structure, validation of the requirement frame."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pulp
import pytest

from staffcast.scheduler.model import build_model
from tests.scheduler.test_solve import week_requirement, week_rules
from staffcast.scheduler.rules import BreakRule, ScheduleRules, ShiftFamily

MONDAY = pd.Timestamp("2026-11-09")


def requirement(queues=("presales",), days=1, minutes=30, value=2.0) -> pd.DataFrame:
    ds = pd.date_range(MONDAY, periods=days * 1440 // minutes, freq=f"{minutes}min")
    parts = [pd.DataFrame({"unique_id": q, "ds": ds, "agents_required": value}) for q in queues]
    out = pd.concat(parts, ignore_index=True)
    out["unique_id"] = out["unique_id"].astype("string")
    return out


def rules(**overrides) -> ScheduleRules:
    base = dict(families=(
        ShiftFamily("day", 8, "08:00", "09:00", days_per_week=5,
                    breaks=(BreakRule("lunch", 60, 180, 240, kind="lunch"),)),
        ShiftFamily("pt", 4, "12:00", "12:00", contract="part_time"),
    ))
    return ScheduleRules(**{**base, **overrides})


def test_names_are_deterministic_and_readable():
    first = build_model(requirement(), rules())
    second = build_model(requirement(), rules())
    names = [v.name for v in first.problem.variables()]
    assert names == [v.name for v in second.problem.variables()]
    assert list(first.problem.constraints) == list(second.problem.constraints)
    assert "x_presales_day_1109_0830" in names
    assert "b_presales_day_1109_0800_lunch_210" in names
    assert "w_presales_day_b0_1" in names
    assert "cover_presales_11091200" in first.problem.constraints
    assert "tour_presales_day_b0_1109" in first.problem.constraints


def test_shift_and_break_variables_match_the_rules():
    model = build_model(requirement(), rules())
    starts = sorted(s for (_, f, _, s) in model.shifts if f == "day")
    assert starts == [480, 510, 540]
    # Lunch offsets 180..240 on the 30-minute grid.
    assert sorted(model.breaks["presales", "day", 0, 480]["lunch"]) == [180, 210, 240]
    assert model.shift_cost["presales", "pt", 0, 720] == pytest.approx(4.0)
    # An 08:00 shift with lunch at 11:00 (offset 180): works 08:00-11:00 and 12:00-17:00.
    x = model.shifts["presales", "day", 0, 480]
    lunch = model.breaks["presales", "day", 0, 480]["lunch"][180]
    for idx in range(16, 34):
        coeffs = model.coverage["presales", idx]
        assert coeffs.get(x, 0) == 1.0
    assert model.coverage["presales", 22].get(lunch) == -1.0
    assert model.coverage["presales", 23].get(lunch) == -1.0
    assert lunch not in model.coverage["presales", 24]


def test_queues_get_their_own_variables_and_share_headcount():
    model = build_model(requirement(("presales", "aftersales")),
                        rules(headcount={"full_time": 5}))
    assert {q for (q, *_rest) in model.shifts} == {"presales", "aftersales"}
    headcount = model.problem.constraints["headcount_full_time"]
    tour_vars = {v.name for v in headcount.keys()}
    assert any(n.startswith("w_presales") for n in tour_vars)
    assert any(n.startswith("w_aftersales") for n in tour_vars)


def test_family_limited_to_a_queue():
    families = (ShiftFamily("night", 8, "22:00", "22:00", queues=("presales",)),
                ShiftFamily("day", 8, "09:00", "09:00"))
    model = build_model(requirement(("presales", "aftersales")), ScheduleRules(families=families))
    assert {(q, f) for (q, f, _, _) in model.shifts} == {
        ("presales", "night"), ("presales", "day"), ("aftersales", "day")}


def test_caller_frame_is_not_mutated():
    req = requirement()
    req["ds"] = req["ds"].astype(str)
    before = req.copy()
    build_model(req, rules())
    pd.testing.assert_frame_equal(req, before)


def test_lp_file_is_written(tmp_path):
    model = build_model(requirement(), rules())
    path = tmp_path / "model.lp"
    model.problem.writeLP(str(path))
    text = path.read_text()
    assert "cover_presales_11090800:" in text


@pytest.mark.parametrize(("mutate", "message"), [
    (lambda df: df.drop(columns="agents_required"), r"missing column\(s\) \['agents_required'\]"),
    (lambda df: df.assign(agents_required=-1.0), "agents_required must be >= 0"),
    (lambda df: df.assign(ds=df["ds"] + pd.Timedelta(minutes=10)), "30-minute grid"),
    (lambda df: pd.concat([df, df.iloc[:1]]), r"\(unique_id, ds\) must be unique"),
    (lambda df: df.iloc[:0], "the frame has no rows"),
    (lambda df: df.assign(ds=df["ds"].dt.tz_localize("UTC")), "naive local time"),
])
def test_bad_requirement_frames_raise(mutate, message):
    with pytest.raises(ValueError, match=message):
        build_model(mutate(requirement()), rules())


def test_service_level_objective_needs_volume_columns():
    with pytest.raises(ValueError, match=r"missing column\(s\) \['aht_s', 'erlangs', 'volume'\]"):
        build_model(requirement(), rules(objective="service_level"))


def test_no_families_is_an_error():
    with pytest.raises(ValueError, match="families must list at least one shift family"):
        build_model(requirement(), ScheduleRules())


def test_service_level_model_pieces_are_concave():
    req = requirement(minutes=60).assign(volume=120.0, aht_s=300.0, erlangs=10.0)
    model = build_model(req, rules(objective="service_level", interval_minutes=60))
    target = model.problem.constraints["sltarget_presales_20261109"]
    # Per interval, the answered-call slopes of successive pieces never increase.
    for hour in range(24):
        prefix = f"z_presales_1109{hour:02d}00_"
        slopes = [c for v, c in sorted(target.items(), key=lambda kv: int(kv[0].name.split("_")[-1]))
                  if v.name.startswith(prefix)]
        assert len(slopes) > 1
        assert np.all(np.diff(slopes) <= 1e-12)
    assert all(isinstance(v, pulp.LpVariable) for v in target.keys())


def test_weekly_service_level_target_spans_the_week():
    req = requirement(days=2, minutes=60).assign(volume=60.0, aht_s=300.0, erlangs=5.0)
    model = build_model(req, rules(objective="service_level", interval_minutes=60,
                                   service_level_period="week"))
    targets = [n for n in model.problem.constraints if n.startswith("sltarget_")]
    # One target for the week starting Monday 9 November, over both days' volume.
    assert targets == ["sltarget_presales_20261109"]
    constraint = model.problem.constraints[targets[0]]
    assert sum(1 for v in constraint if v.name.startswith("slmiss_")) == 1
    assert len({v.name.split("_")[2][:4] for v in constraint if v.name.startswith("z_")}) == 2


def test_the_garbage_collector_is_off_while_a_model_is_built_and_restored_after(monkeypatch):
    # A build makes objects that all stay alive; full collections during it walk every
    # model alive (the other queues' too) for nothing. Restored afterwards, also when the
    # build fails, and left off when the caller had it off.
    import gc

    from staffcast.scheduler import model as model_module

    seen: list[bool] = []
    real_build = model_module._build

    def spy(*args):
        seen.append(gc.isenabled())
        return real_build(*args)

    monkeypatch.setattr(model_module, "_build", spy)
    assert gc.isenabled()
    build_model(week_requirement(peak=5), week_rules())
    assert seen == [False] and gc.isenabled()
    with pytest.raises(ValueError):
        build_model(week_requirement(peak=5), week_rules(families=()))
    assert gc.isenabled()
    gc.disable()
    try:
        build_model(week_requirement(peak=5), week_rules())
        assert not gc.isenabled()
    finally:
        gc.enable()
