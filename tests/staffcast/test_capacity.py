"""The capacity MIP: optimum against hand-computed cases and an independent scipy MILP,
and its invariants (headcount flow, nobody productive before lead time + training,
overtime within China's caps, cover accounting) on random instances."""

import dataclasses
import datetime as dt

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scipy.optimize import Bounds, LinearConstraint, milp

from staffcast.capacity import TOTAL, Demand, build_capacity_model, solve_capacity
from staffcast.capacity_config import (
    CloudCohort,
    Cohorts,
    NewHireCohort,
    OutsourcedCohort,
    Overtime,
    RegularCohort,
    TempCohort,
)

JUNE = dt.date(2026, 6, 1)  # a Monday; four weeks stay inside June (one overtime month)
WORK_WEEK = ("work",) * 5 + ("rest",) * 2


def demand(required, kinds=None, start=JUNE) -> Demand:
    weeks = tuple(start + dt.timedelta(weeks=i) for i in range(len(next(iter(required.values())))))
    kinds = kinds or (WORK_WEEK,) * len(weeks)
    return Demand(weeks=weeks, required={q: np.asarray(v, float) for q, v in required.items()},
                  day_kinds=tuple(kinds))


def solve(dem, cohorts, penalty=100.0):
    model = build_capacity_model(dem, cohorts, shortfall_penalty=penalty)
    result = solve_capacity(model, time_limit_s=30)
    assert result.status == "optimal"
    return model, result


# ---------------------------------------------------------------- hand-computed optima

def test_one_week_overtime_weekday_then_rest_day():
    # 1 head x 40 h covers 40 of 60 h. Weekday overtime (1.5 x 10 = 15/h) is capped at
    # 3 h x 5 days = 15 h; the other 5 h are rest-day overtime (2 x 10 = 20/h), cheaper
    # than cloud (30/h) and the penalty (100/h): 400 + 15*15 + 5*20 = 725.
    cohorts = Cohorts(regular=RegularCohort(headcount=1, hourly_wage=10),
                      cloud=CloudCohort(hourly_price=30, max_share=0.25))
    _, result = solve(demand({"q": [60]}), cohorts)
    assert result.objective == pytest.approx(725.0)
    assert result.cost == pytest.approx(725.0)
    ot = result.overtime
    assert ot.loc[ot["kind"] == "work", "hours"].sum() == pytest.approx(15.0)
    assert ot.loc[ot["kind"] == "rest", "hours"].sum() == pytest.approx(5.0)


def test_monthly_overtime_cap_binds():
    # The month allows 18 h: 15 weekday + 3 rest-day hours, the last 2 h from cloud agents:
    # 400 + 225 + 60 + 2*30 = 745.
    cohorts = Cohorts(regular=RegularCohort(headcount=1, hourly_wage=10,
                                            overtime=Overtime(max_hours_per_month=18)),
                      cloud=CloudCohort(hourly_price=30, max_share=0.25))
    _, result = solve(demand({"q": [60]}), cohorts)
    assert result.objective == pytest.approx(745.0)
    assert result.overtime["hours"].sum() == pytest.approx(18.0)


def test_statutory_holiday_pays_three_times_and_gives_no_base_hours():
    # Monday is a statutory holiday: 4 working days give 32 base hours (paid 40 h); 8 h
    # short. Cheapest: 8 h of weekday overtime is capped at 3 x 4 = 12 >= 8 -> 8 * 15.
    kinds = (("holiday",) + ("work",) * 4 + ("rest",) * 2,)
    cohorts = Cohorts(regular=RegularCohort(headcount=1, hourly_wage=10))
    _, result = solve(demand({"q": [40]}, kinds), cohorts)
    assert result.objective == pytest.approx(400 + 8 * 15)
    # With 52 h needed: 12 weekday (15/h), 6 rest-day (20/h), 2 holiday (30/h).
    _, result = solve(demand({"q": [52]}, kinds), cohorts)
    assert result.objective == pytest.approx(400 + 12 * 15 + 6 * 20 + 2 * 30)


def test_shortfall_is_reported_when_cheaper_than_any_supply():
    cohorts = Cohorts(regular=RegularCohort(headcount=1, hourly_wage=10,
                                            overtime=Overtime(enabled=False)))
    _, result = solve(demand({"q": [50, 30]}), cohorts, penalty=5.0)
    total = result.weekly[result.weekly["queue"] == TOTAL]
    assert total["shortfall_hours"].tolist() == pytest.approx([10.0, 0.0])
    assert total["cover"].tolist() == pytest.approx([0.8, 1.0])
    assert result.objective == pytest.approx(800 + 5 * 10)
    assert result.cost == pytest.approx(800)


# ---------------------------------------------------------------- independent MILP

def independent_optimum(req, kinds, H0, a, wage, wh, ot_day, ot_month, mult,
                        nh, tmp, out, cloud, penalty):
    """The same plan written from the docs as a scipy MILP over one queue, without the
    library's variables: returns the optimal objective."""
    T = len(req)
    names, lo, hi, integ, cost = [], [], [], [], []

    def var(name, lb=0.0, ub=np.inf, integer=False, c=0.0):
        names.append(name)
        lo.append(lb)
        hi.append(ub)
        integ.append(1 if integer else 0)
        cost.append(c)
        return len(names) - 1

    hpd = wh / 5
    work = [sum(k == "work" for k in week) for week in kinds]
    G = nh["train"] + len(nh["ramp"]) - 1
    starts = [s for s in range(nh["lead"], T - nh["train"])]
    n = {s: var(f"n{s}", 0, nh["max"], True) for s in starts}
    y = {s: var(f"y{s}", 0, 1, True) for s in starts}
    m = {s: var(f"m{s}", 0, np.inf, True) for s in range(tmp["lead"], T - tmp["train"])}
    e = {t: var(f"e{t}", 0, np.inf, True) for t in range(T)}
    b = {t: var(f"b{t}", 0, out["max"], True) for t in range(out["lead"], T)}
    bs = {t: var(f"bs{t}", 0, out["max"], True) for t in range(out["lead"], T)}
    c = {t: var(f"c{t}", 0, cloud["share"] * req[t], c=cloud["price"]) for t in range(T)}
    o = {(t, d): var(f"o{t}{d}", c=wage * mult[kinds[t][d]]) for t in range(T) for d in range(7)}
    sh = {t: var(f"s{t}", c=penalty) for t in range(T)}
    N = len(names)
    rows, lbs, ubs = [], [], []
    const = 0.0

    def row(coefs, lb, ub):
        r = np.zeros(N)
        for i, v in coefs.items():
            r[i] += v
        rows.append(r)
        lbs.append(lb)
        ubs.append(ub)

    for s in starts:
        row({n[s]: 1, y[s]: -nh["min"]}, 0, np.inf)
        row({n[s]: 1, y[s]: -nh["max"]}, -np.inf, 0)
        cost[n[s]] += nh["hire_cost"]
    for t in range(T):
        reg = {}  # regular heads = H0 (1-a)^t + sum graduated
        nh_heads, nh_prod = {}, {}
        for s in starts:
            age = t - s
            if age < 0:
                continue
            if age < G:
                nh_heads[n[s]] = (1 - a) ** age
                share = 0 if age < nh["train"] else nh["ramp"][age - nh["train"]]
                nh_prod[n[s]] = (1 - a) ** age * share
            else:
                reg[n[s]] = (1 - a) ** age
        base = H0 * (1 - a) ** t
        const += base * wh * wage
        for i, v in reg.items():
            cost[i] += v * wh * wage
        for i, v in nh_heads.items():
            cost[i] += v * nh["wh"] * nh["wage"]
        # Cover: regular + new hire + overtime + temps + outsourced + cloud + short >= req.
        cover = {i: v * hpd * work[t] for i, v in reg.items()}
        for i, v in nh_prod.items():
            cover[i] = cover.get(i, 0) + v * nh["wh"] / 5 * work[t]
        for d in range(7):
            cover[o[t, d]] = 1
            # Daily cap per head.
            row({o[t, d]: 1, **{i: -ot_day * v for i, v in reg.items()}}, -np.inf,
                ot_day * base)
        # Temps: active = started - released; released only after min_weeks.
        for s, i in m.items():
            if s <= t:
                cover[i] = cover.get(i, 0) + tmp["wh"] * (0 if t - s < tmp["train"] else 1)
                cost[i] += tmp["wh"] * tmp["wage"]
        for u in range(t + 1):
            cover[e[u]] = cover.get(e[u], 0) - tmp["wh"]
            cost[e[u]] -= tmp["wh"] * tmp["wage"]
        row({**{e[u]: 1 for u in range(t + 1)},
             **{i: -1 for s, i in m.items() if s <= t - tmp["min_weeks"]}}, -np.inf, 0)
        if t in b:
            cover[b[t]] = out["hours"] * out["prod"]
            cost[b[t]] += out["price"]
            prev = {b[t - 1]: -1} if t - 1 in b else {}
            row({b[t]: 1, **prev, bs[t]: -1}, -np.inf, 0)
            row({b[t]: 1, **{bs[u]: -1 for u in bs if t - out["min_weeks"] < u <= t}}, 0,
                np.inf)
        cover[c[t]] = 1
        cover[sh[t]] = 1
        row(cover, req[t] - base * hpd * work[t], np.inf)  # the starting staff's hours
    for i, s in m.items():
        cost[s] += tmp["fee"]
    # One month: total overtime <= cap x regular heads of every week.
    for t in range(T):
        reg = {n[s]: (1 - a) ** (t - s) for s in starts if t - s >= G}
        row({**{o[k]: 1 for k in o}, **{i: -ot_month * v for i, v in reg.items()}},
            -np.inf, ot_month * H0 * (1 - a) ** t)
    res = milp(np.array(cost), constraints=LinearConstraint(np.array(rows), lbs, ubs),
               integrality=np.array(integ), bounds=Bounds(lo, hi),
               options={"mip_rel_gap": 0})
    assert res.success, res.message
    return res.fun + const


@pytest.mark.parametrize("req, temp_wage", [([300, 420, 640, 380], 16),
                                            ([200, 200, 900, 250], 16),
                                            ([500, 100, 100, 700], 16),
                                            ([300, 520, 700, 700], 40)])
def test_optimum_matches_an_independent_milp(req, temp_wage):
    kinds = (WORK_WEEK, ("holiday",) + WORK_WEEK[1:], WORK_WEEK, WORK_WEEK)
    a = 0.05
    mult = {"work": 1.5, "rest": 2.0, "holiday": 3.0}
    cohorts = Cohorts(
        regular=RegularCohort(headcount=6, hourly_wage=10, weekly_attrition=a,
                              overtime=Overtime(max_hours_per_day=2, max_hours_per_month=20)),
        new_hire=NewHireCohort(lead_time_weeks=1, training_weeks=1, ramp=(0.5, 1.0),
                               min_class=2, max_per_week=4, hourly_wage=11, hire_cost=60),
        temp=TempCohort(lead_time_weeks=1, hourly_wage=temp_wage, min_weeks=2,
                        weekly_hours=30, engagement_fee=25),
        outsourced=OutsourcedCohort(lead_time_weeks=2, block_hours=50, block_price=900,
                                    max_blocks=3, min_weeks=1, productivity=0.9),
        cloud=CloudCohort(hourly_price=28, max_share=0.1))
    _, result = solve(demand({"q": req}, kinds), cohorts, penalty=60)
    if temp_wage == 40:  # dear temps: the plan hires a class, so its rules are compared too
        assert set(result.hiring["cohort"]) >= {"new_hire"}
    expected = independent_optimum(
        req, kinds, H0=6, a=a, wage=10, wh=40, ot_day=2, ot_month=20, mult=mult,
        nh=dict(lead=1, train=1, ramp=(0.5, 1.0), min=2, max=4, wage=11, wh=40,
                hire_cost=60),
        tmp=dict(lead=1, train=0, min_weeks=2, wh=30, wage=temp_wage, fee=25),
        out=dict(lead=2, hours=50, price=900, max=3, min_weeks=1, prod=0.9),
        cloud=dict(share=0.1, price=28), penalty=60)
    assert result.objective == pytest.approx(expected, rel=1e-7)


# ---------------------------------------------------------------- invariants

def check_invariants(model, result, cohorts):
    dem = model.demand
    weekly = result.weekly
    total = weekly[weekly["queue"] == TOTAL].reset_index(drop=True)
    reg, nh = cohorts.regular, cohorts.new_hire
    a = reg.weekly_attrition
    a_nh = a if nh is None or nh.weekly_attrition is None else nh.weekly_attrition
    hiring = result.hiring
    # Headcount flow: next week = this week x (1 - attrition) + hires becoming productive
    # in full (a class graduates weeks_to_full weeks after its training starts).
    heads = total["headcount_regular"].to_numpy()

    def graduates(week):
        count = 0.0
        if nh is not None:
            for row in hiring[hiring["cohort"] == "new_hire"].itertuples():
                if row.start_training.date() + dt.timedelta(weeks=nh.weeks_to_full) == week:
                    count += row.count * (1 - a_nh) ** nh.weeks_to_full
        return count

    assert heads[0] == pytest.approx(reg.headcount + graduates(dem.weeks[0]))
    for t in range(len(dem.weeks) - 1):
        assert heads[t + 1] == pytest.approx(heads[t] * (1 - a) + graduates(dem.weeks[t + 1]),
                                             abs=1e-6)
    # Nobody productive before recruiting lead time + training.
    if nh is not None:
        first = nh.lead_time_weeks + nh.training_weeks
        assert (total["productive_hours_new_hire"].to_numpy()[:first] == 0).all()
        for row in hiring[hiring["cohort"] == "new_hire"].itertuples():
            assert (row.productive_from - row.recruit_by).days == \
                7 * (nh.lead_time_weeks + nh.training_weeks)
            assert row.recruit_by.date() >= dem.weeks[0]
            assert nh.min_class <= row.count <= nh.max_per_week
    if cohorts.temp is not None:
        tmp = cohorts.temp
        first = tmp.lead_time_weeks + tmp.training_weeks
        assert (total["productive_hours_temp"].to_numpy()[:first] == 0).all()
        assert (total["hires_temp"].to_numpy()[:tmp.lead_time_weeks] == 0).all()
    # Overtime within the caps: a day's hours <= cap x regular heads, a month's <= cap x
    # the month's fewest heads.
    ot = result.overtime
    if len(ot):
        week_of = ((ot["date"] - np.datetime64(dem.weeks[0])).dt.days // 7).to_numpy()
        cap_day = reg.overtime.max_hours_per_day * heads[week_of]
        assert (ot["hours"].to_numpy() <= cap_day + 1e-6).all()
        for month, days in ot.groupby(ot["date"].dt.to_period("M")):
            weeks = sorted(set(week_of[days.index]))
            assert days["hours"].sum() <= reg.overtime.max_hours_per_month * min(
                heads[weeks]) + 1e-6
        assert total["overtime_hours"].sum() == pytest.approx(ot["hours"].sum(), abs=1e-6)
    # Cover: per queue, given hours + shortfall = required; a cohort gives no more than
    # it has.
    supply_cols = [c for c in weekly.columns if c.startswith("productive_hours_")]
    queues = weekly[weekly["queue"] != TOTAL]
    given = queues[supply_cols].sum(axis=1) + queues["overtime_hours"] + queues["shortfall_hours"]
    assert given.to_numpy() == pytest.approx(queues["required_hours"].to_numpy(), abs=1e-6)
    used = queues.groupby("week")[supply_cols + ["overtime_hours"]].sum().reset_index(drop=True)
    for col in supply_cols + ["overtime_hours"]:
        assert (used[col].to_numpy() <= total[col].to_numpy() + 1e-6).all()
    # Money: the objective is the weeks' cost plus the penalty on the shortfall.
    assert result.objective == pytest.approx(
        total["cost"].sum() + model.shortfall_penalty * total["shortfall_hours"].sum(),
        rel=1e-9, abs=1e-6)


instances = st.fixed_dictionaries({
    "req": st.lists(st.integers(50, 900), min_size=3, max_size=7),
    "req2": st.lists(st.integers(0, 400), min_size=7, max_size=7),
    "heads": st.integers(0, 12),
    "attrition": st.sampled_from([0.0, 0.01, 0.05, 0.2]),
    "lead": st.integers(0, 3),
    "train": st.integers(0, 2),
    "ramp": st.sampled_from([(1.0,), (0.5, 1.0), (0.3, 0.6, 1.0)]),
    "min_class": st.integers(1, 3),
    "ot_day": st.sampled_from([0.0, 1.0, 3.0]),
    "ot_month": st.sampled_from([0.0, 10.0, 36.0]),
    "holiday_week": st.integers(0, 6),
    "start": st.sampled_from([dt.date(2026, 6, 15), dt.date(2026, 9, 21)]),
})


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(instances)
def test_invariants_hold_on_random_instances(p):
    n = len(p["req"])
    kinds = [WORK_WEEK] * n
    if p["holiday_week"] < n:
        kinds[p["holiday_week"]] = ("holiday", "holiday") + WORK_WEEK[2:]
    dem = demand({"a": p["req"], "b": p["req2"][:n]}, kinds, start=p["start"])
    cohorts = Cohorts(
        regular=RegularCohort(headcount=p["heads"], hourly_wage=10,
                              weekly_attrition=p["attrition"],
                              overtime=Overtime(max_hours_per_day=p["ot_day"],
                                                max_hours_per_month=p["ot_month"])),
        new_hire=NewHireCohort(lead_time_weeks=p["lead"], training_weeks=p["train"],
                               ramp=p["ramp"], min_class=p["min_class"], max_per_week=5,
                               hourly_wage=10, hire_cost=20, weekly_attrition=0.02),
        temp=TempCohort(lead_time_weeks=1, training_weeks=1, min_weeks=2, hourly_wage=14,
                        queues=("a",)),
        outsourced=OutsourcedCohort(lead_time_weeks=1, block_hours=40, block_price=600,
                                    max_blocks=2, min_weeks=2),
        cloud=CloudCohort(hourly_price=20, max_share=0.2))
    model, result = solve(dem, cohorts, penalty=40)
    check_invariants(model, result, cohorts)
    # The temps serve queue a only.
    rows_b = result.weekly[result.weekly["queue"] == "b"]
    assert (rows_b["productive_hours_temp"] == 0).all()


def test_demand_rejects_bad_shapes():
    with pytest.raises(ValueError, match="Mondays"):
        demand({"q": [1.0]}, start=dt.date(2026, 6, 2))
    with pytest.raises(ValueError, match="finite numbers >= 0"):
        demand({"q": [-1.0]})
    with pytest.raises(ValueError, match="work, rest or holiday"):
        demand({"q": [1.0]}, [("work",) * 6 + ("off",)])


def test_class_sizes_are_whole_and_respect_min_class():
    # 30 h short a week from week 2 on, no other supply: the plan hires one class of the
    # minimum size 3 (a class of 1 would cover it but is not allowed).
    cohorts = Cohorts(
        regular=RegularCohort(headcount=0, hourly_wage=10, overtime=Overtime(enabled=False)),
        new_hire=NewHireCohort(lead_time_weeks=1, training_weeks=1, min_class=3,
                               max_per_week=5, hourly_wage=10))
    dem = demand({"q": [0, 0, 30, 30, 30, 30]})
    model, result = solve(dem, cohorts, penalty=100)
    assert result.hiring[["cohort", "count"]].values.tolist() == [["new_hire", 3]]
    assert result.hiring["start_training"].iloc[0].date() == JUNE + dt.timedelta(weeks=1)
    check_invariants(model, result, cohorts)
    # Pay: 3 heads x 40 h x 10 for weeks 1..5 = 6,000; no shortfall.
    assert result.objective == pytest.approx(6000.0)


def test_result_has_a_status_not_a_sentinel():
    cohorts = Cohorts(regular=RegularCohort(headcount=1, hourly_wage=10))
    model = build_capacity_model(demand({"q": [10]}), cohorts, shortfall_penalty=1)
    names = {v.name for v in model.problem.variables()}
    assert "shortfall_q_20260601" in names and "overtime_20260601" in names
    assert "cover_q_20260601" in model.problem.constraints
    with pytest.raises(ValueError, match="status must be one of"):
        dataclasses.replace(solve_capacity(model), status="done")
