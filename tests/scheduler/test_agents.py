"""Agents CSV validation and the assignment of weekly tours to named agents."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pandas as pd
import yaml
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.optimize import linear_sum_assignment

from staffcast.scheduler.agents import (Agent, AgentsError, assign_agents, load_agents,
                              placeholder_assignment)

ROOT = Path(__file__).resolve().parents[2]
MONDAY = pd.Timestamp("2026-11-09")
HEADER = "agent_id,contract,min_weekly_hours,max_weekly_hours,queues,unavailable_dates,preferred_days_off\n"


def tour_rows(tour_id, days, *, start_hour=8.0, hours=8.0, contract="full_time",
              queue="presales", week_start=MONDAY):
    """Rows of one tour working shifts of `hours` starting `start_hour` on day offsets `days`."""
    rows = []
    for d in days:
        date = week_start + pd.Timedelta(days=d)
        start = date + pd.Timedelta(hours=start_hour)
        rows.append(dict(tour_id=tour_id, family="f", contract=contract, queue=queue, date=date,
                         shift_start=start, shift_end=start + pd.Timedelta(hours=hours),
                         break_start=pd.NaT, break_end=pd.NaT, lunch_start=pd.NaT,
                         lunch_end=pd.NaT, paid_hours=hours, cost=hours * 10))
    return rows


def tours_of(*tours):
    return pd.DataFrame([row for tour in tours for row in tour])


def agent(agent_id, contract="full_time", lo=0.0, hi=48.0, queues=(), away=(), prefer_off=()):
    return Agent(agent_id, contract, lo, hi, frozenset(queues),
                 frozenset(dt.date.fromisoformat(d) for d in away), frozenset(prefer_off))


def write(tmp_path, body, name="agents.csv"):
    path = tmp_path / name
    path.write_text(HEADER + body, encoding="utf-8")
    return path


# ----------------------------------------------------------------------------- loading

def test_load_agents_parses_every_field(tmp_path):
    path = write(tmp_path, "A1,full_time,32,40,presales;aftersales,2026-11-10;2026-11-12,sat;Sunday\n"
                           "A2,part_time,10,20,,,\n")
    a1, a2 = load_agents(path, contracts={"full_time", "part_time"})
    assert a1 == Agent("A1", "full_time", 32.0, 40.0, frozenset({"presales", "aftersales"}),
                       frozenset({dt.date(2026, 11, 10), dt.date(2026, 11, 12)}),
                       frozenset({5, 6}))
    assert a2.queues == frozenset() and a2.unavailable_dates == frozenset()


@pytest.mark.parametrize("body, fragments", [
    ("A1,full_time,0,40,,,\nA1,full_time,0,40,,,\n",
     ["data row 2", "line 3", "'agent_id'", "duplicate agent_id 'A1'", "data row 1"]),
    ("A1,contractor,0,40,,,\n", ["data row 1", "'contract'", "unknown contract 'contractor'",
                                 "full_time, part_time"]),
    ("A1,full_time,40,30,,,\n", ["data row 1", "'min_weekly_hours'", "40", "exceeds", "30"]),
    ("A1,full_time,abc,30,,,\n", ["'min_weekly_hours'", "'abc'"]),
    ("A1,full_time,0,40,,2026-13-01,\n", ["'unavailable_dates'", "'2026-13-01'", "YYYY-MM-DD"]),
    ("A1,full_time,0,40,,,sat;funday\n", ["'preferred_days_off'", "unknown weekday 'funday'"]),
    (",full_time,0,40,,,\n", ["data row 1", "'agent_id'", "blank"]),
])
def test_bad_agents_file_names_file_row_column_and_value(tmp_path, body, fragments):
    path = write(tmp_path, body)
    with pytest.raises(AgentsError) as err:
        load_agents(path, contracts={"full_time", "part_time"})
    message = str(err.value)
    assert str(path) in message
    for fragment in fragments:
        assert fragment in message


def test_missing_column_and_missing_file(tmp_path):
    path = tmp_path / "agents.csv"
    path.write_text("agent_id,contract,max_weekly_hours\nA1,full_time,40\n")
    with pytest.raises(AgentsError, match="missing column.*min_weekly_hours"):
        load_agents(path)
    with pytest.raises(AgentsError, match="not found"):
        load_agents(tmp_path / "nope.csv")


def test_example_agents_file_is_valid():
    # The example config's families name the contracts, and its headcount is the number of
    # agents of each contract in the file.
    config = yaml.safe_load((ROOT / "configs" / "example.yaml").read_text())["schedule"]
    contracts = {f["contract"] for f in config["families"]}
    agents = load_agents(ROOT / "examples" / "data" / "agents.csv", contracts=contracts)
    counts = pd.Series([a.contract for a in agents]).value_counts().to_dict()
    assert counts == config["headcount"]
    skills = set().union(*(a.queues for a in agents))
    assert skills == {"presales", "aftersales"}


# ----------------------------------------------------------------------------- assignment

def test_each_tour_gets_one_eligible_agent():
    tours = tours_of(tour_rows("T0001", range(5)), tour_rows("T0002", range(2, 7), queue="aftersales"),
                     tour_rows("T0003", range(4), hours=4.0, contract="part_time"))
    agents = [agent("A", queues={"aftersales"}), agent("B", queues={"presales"}),
              agent("C", contract="part_time", hi=20), agent("D")]
    result = assign_agents(tours, agents, min_rest_hours=11, max_consecutive_days=6)
    owner = result.roster.groupby("tour_id")["agent_id"].unique().map(list).to_dict()
    assert owner["T0003"] == ["C"]
    assert owner["T0002"] == ["A"] or owner["T0002"] == ["D"]
    assert owner["T0001"] in (["B"], ["D"])
    assert result.status == "complete" and result.unassigned_tours.empty
    assert len(result.idle_agents) == 1
    assert list(result.roster.columns[:2]) == ["agent_id", "tour_id"]
    assert len(result.roster) == len(tours)


@pytest.mark.parametrize("agents, reason", [
    ([agent("A", contract="part_time")], "no agent has contract 'full_time'"),
    ([agent("A", queues={"aftersales"})], "no agent with contract 'full_time' works queue 'presales'"),
    ([agent("A", away=["2026-11-11"])], "unavailable on one of its days (2026-11-09, 2026-11-10, 2026-11-11)"),
    ([agent("A", lo=0, hi=20)], "24 paid hours lie outside the weekly hour range"),
    ([agent("A", lo=30, hi=40)], "24 paid hours lie outside the weekly hour range"),
])
def test_infeasible_tour_is_reported_with_its_reason(agents, reason):
    tours = tours_of(tour_rows("T0001", range(3)))
    result = assign_agents(tours, agents, min_rest_hours=11, max_consecutive_days=6)
    assert result.status == "partial" and result.roster.empty
    row = result.unassigned_tours.iloc[0]
    assert row["tour_id"] == "T0001" and row["dates"] == "2026-11-09;2026-11-10;2026-11-11"
    assert reason in row["reason"]
    assert result.idle_agents == ("A",)


def test_competition_is_reported_when_eligible_agents_are_all_taken():
    tours = tours_of(tour_rows("T0001", range(5)), tour_rows("T0002", range(5)))
    result = assign_agents(tours, [agent("A")], min_rest_hours=11, max_consecutive_days=6)
    assert len(result.unassigned_tours) == 1
    assert "all 1 agent(s) who could take it were given other tours" in \
        result.unassigned_tours["reason"].iloc[0]


def test_tour_breaking_rest_itself_is_reported():
    rows = tour_rows("T0001", [0], start_hour=14) + tour_rows("T0001", [1], start_hour=6)
    result = assign_agents(pd.DataFrame(rows), [agent("A")], min_rest_hours=11,
                           max_consecutive_days=6)
    assert "rests only 8 h" in result.unassigned_tours["reason"].iloc[0]


def history_rows(agent_id, days, *, start_hour=8.0, hours=8.0):
    rows = tour_rows("H", days, start_hour=start_hour, hours=hours,
                     week_start=MONDAY - pd.Timedelta(days=7))
    return pd.DataFrame(rows).assign(agent_id=agent_id)


def test_rest_after_previous_week_is_respected():
    # A's last shift of the previous week ends Sunday 23:00; an 06:00 Monday start leaves 7 h.
    history = pd.concat([history_rows("A", [6], start_hour=15), history_rows("B", [4])])
    tours = tours_of(tour_rows("T0001", range(5), start_hour=6))
    result = assign_agents(tours, [agent("A"), agent("B")], min_rest_hours=11,
                           max_consecutive_days=6, history=history)
    assert set(result.roster["agent_id"]) == {"B"}
    alone = assign_agents(tours, [agent("A")], min_rest_hours=11, max_consecutive_days=6,
                          history=history)
    assert "rest less than 11 h" in alone.unassigned_tours["reason"].iloc[0]


def test_consecutive_days_count_across_the_week_boundary():
    # A worked Wednesday..Sunday (5 days); a tour working Monday and Tuesday makes 7 in a row.
    history = history_rows("A", range(2, 7))
    tours = tours_of(tour_rows("T0001", [0, 1, 3, 4, 5]))
    result = assign_agents(tours, [agent("A")], min_rest_hours=11, max_consecutive_days=6,
                           history=history)
    assert "more than 6 consecutive days" in result.unassigned_tours["reason"].iloc[0]
    later = tours_of(tour_rows("T0001", [1, 2, 3, 4, 5]))
    ok = assign_agents(later, [agent("A")], min_rest_hours=11, max_consecutive_days=6,
                       history=history)
    assert ok.status == "complete"


def test_preferred_days_off_are_honoured_when_possible():
    tours = tours_of(tour_rows("T0001", range(5)), tour_rows("T0002", range(2, 7)))
    agents = [agent("A", prefer_off={5, 6}), agent("B")]
    result = assign_agents(tours, agents, min_rest_hours=11, max_consecutive_days=6)
    owner = result.roster.drop_duplicates("tour_id").set_index("tour_id")["agent_id"]
    assert owner["T0001"] == "A" and owner["T0002"] == "B"


def test_weekend_work_rotates_over_a_multi_week_horizon():
    weekday = [0, 1, 2, 3, 4]
    weekend = [0, 1, 4, 5, 6]
    weeks = []
    for w in range(4):
        start = MONDAY + pd.Timedelta(days=7 * w)
        weeks += [tour_rows(f"W{w}a", weekend, week_start=start),
                  tour_rows(f"W{w}b", weekday, week_start=start)]
    # A loose run limit, so that only the fairness term decides who works the weekend.
    result = assign_agents(tours_of(*weeks), [agent("A"), agent("B")], min_rest_hours=11,
                           max_consecutive_days=14)
    assert result.weeks == 4 and result.status == "complete"
    weekend_days = (result.roster.assign(we=result.roster["date"].dt.day_of_week >= 5)
                    .groupby("agent_id")["we"].sum())
    assert weekend_days.to_dict() == {"A": 4, "B": 4}


def test_a_tour_spanning_two_weeks_is_an_error():
    tours = tours_of(tour_rows("T0000", [0]), tour_rows("T0001", [5, 6, 7, 8]))
    with pytest.raises(AgentsError, match="T0001 spans more than one week"):
        assign_agents(tours, [agent("A")], min_rest_hours=11, max_consecutive_days=6)


def test_argument_errors_name_the_argument():
    tours = tours_of(tour_rows("T0001", [0]))
    with pytest.raises(AgentsError, match="min_rest_hours"):
        assign_agents(tours, [agent("A")], min_rest_hours=-1, max_consecutive_days=6)
    with pytest.raises(AgentsError, match="max_consecutive_days"):
        assign_agents(tours, [agent("A")], min_rest_hours=11, max_consecutive_days=0)
    with pytest.raises(AgentsError, match="missing column"):
        assign_agents(tours.drop(columns="queue"), [agent("A")], min_rest_hours=11,
                      max_consecutive_days=6)


def test_caller_frames_are_not_mutated():
    tours = tours_of(tour_rows("T0001", range(5)))
    history = history_rows("A", [4])
    before_t, before_h = tours.copy(), history.copy()
    assign_agents(tours, [agent("A")], min_rest_hours=11, max_consecutive_days=6, history=history)
    pd.testing.assert_frame_equal(tours, before_t)
    pd.testing.assert_frame_equal(history, before_h)


def test_placeholder_uses_tour_ids_as_agent_ids():
    tours = tours_of(tour_rows("T0002", [0, 1]), tour_rows("T0001", [3]))
    result = placeholder_assignment(tours)
    assert result.status == "placeholder"
    assert list(result.roster["agent_id"]) == ["T0001", "T0002", "T0002"]
    assert (result.roster["agent_id"] == result.roster["tour_id"]).all()


# ----------------------------------------------------------------------------- properties

def _shifts_ok(shifts: pd.DataFrame, rest: float, run: int) -> bool:
    """At most one shift a day, `rest` hours between shifts, at most `run` days in a row."""
    shifts = shifts.sort_values("shift_start")
    if shifts["date"].duplicated().any():
        return False
    gaps = (shifts["shift_start"].iloc[1:].to_numpy() - shifts["shift_end"].iloc[:-1].to_numpy())
    if (gaps < np.timedelta64(int(rest * 3600), "s")).any():
        return False
    days = sorted(shifts["date"])
    longest = current = 1
    for prev, nxt in zip(days, days[1:]):
        current = current + 1 if (nxt - prev).days == 1 else 1
        longest = max(longest, current)
    return longest <= run


def _fits(rows: pd.DataFrame, a: Agent) -> bool:
    """Contract, queue skill and availability of every row for agent `a`."""
    return bool((rows["contract"] == a.contract).all()
                and (not a.queues or rows["queue"].isin(list(a.queues)).all())
                and not any(d.date() in a.unavailable_dates for d in rows["date"]))


def _allowed(tour: pd.DataFrame, a: Agent, history: pd.DataFrame, rest: float, run: int) -> bool:
    """Plain restatement of the hard rules for one weekly tour and one idle agent."""
    if not _fits(tour, a):
        return False
    if not a.min_weekly_hours <= tour["paid_hours"].sum() <= a.max_weekly_hours:
        return False
    mine = history[history["agent_id"] == a.agent_id]
    return _shifts_ok(pd.concat([mine[["date", "shift_start", "shift_end"]],
                                 tour[["date", "shift_start", "shift_end"]]]), rest, run)


@st.composite
def instances(draw):
    n_tours = draw(st.integers(1, 8))
    n_agents = draw(st.integers(1, 8))
    rows = []
    for t in range(n_tours):
        days = sorted(draw(st.sets(st.integers(0, 6), min_size=1, max_size=6)))
        rows += tour_rows(f"T{t:04d}", days, start_hour=draw(st.sampled_from([0.0, 6.0, 14.0, 22.0])),
                          hours=draw(st.sampled_from([4.0, 8.0])),
                          contract=draw(st.sampled_from(["full_time", "part_time"])),
                          queue=draw(st.sampled_from(["presales", "aftersales"])))
    agents = []
    for i in range(n_agents):
        lo = draw(st.sampled_from([0.0, 16.0, 32.0]))
        agents.append(agent(f"A{i}", contract=draw(st.sampled_from(["full_time", "part_time"])),
                            lo=lo, hi=lo + draw(st.sampled_from([8.0, 24.0, 48.0])),
                            queues=draw(st.sets(st.sampled_from(["presales", "aftersales"]))),
                            away=[f"2026-11-{9 + d:02d}" for d in
                                  draw(st.sets(st.integers(0, 6), max_size=2))],
                            prefer_off=draw(st.sets(st.integers(0, 6), max_size=2))))
    hist = []
    for i in range(n_agents):
        if draw(st.booleans()):
            hist.append(history_rows(f"A{i}", sorted(draw(st.sets(st.integers(2, 6), min_size=1))),
                                     start_hour=draw(st.sampled_from([8.0, 16.0]))))
    history = (pd.concat(hist) if hist else
               pd.DataFrame(columns=["agent_id", "date", "shift_start", "shift_end"]))
    return pd.DataFrame(rows), agents, history


@settings(max_examples=30, deadline=None)
@given(instances())
def test_assignment_respects_every_rule_and_staffs_as_many_tours_as_possible(instance):
    tours, agents, history = instance
    rest, run = 11.0, 6
    result = assign_agents(tours, agents, min_rest_hours=rest, max_consecutive_days=run,
                           history=history if len(history) else None)
    by_id = {a.agent_id: a for a in agents}
    roster = result.roster
    weekly = tours.groupby("tour_id")["date"].count() >= 2
    # One agent per tour, at most one weekly tour per agent, every tour staffed or reported.
    assert (roster.groupby("tour_id")["agent_id"].nunique() == 1).all()
    mine_weekly = roster[roster["tour_id"].map(weekly).to_numpy(dtype=bool)]
    assert (mine_weekly.groupby("agent_id")["tour_id"].nunique() <= 1).all()
    staffed = set(roster["tour_id"])
    reported = set(result.unassigned_tours["tour_id"])
    assert staffed.isdisjoint(reported) and staffed | reported == set(tours["tour_id"])
    assert result.unassigned_tours["reason"].str.len().gt(0).all()
    assert set(result.idle_agents) == set(by_id) - set(roster["agent_id"])
    hist = history.assign(date=pd.to_datetime(history["date"])) if len(history) else history
    for agent_id, rows in roster.groupby("agent_id"):
        a = by_id[agent_id]
        assert _fits(rows, a), agent_id
        assert rows["paid_hours"].sum() <= a.max_weekly_hours + 1e-9
        if agent_id in set(mine_weekly["agent_id"]):
            assert rows["paid_hours"].sum() >= a.min_weekly_hours - 1e-9
        past = hist[hist["agent_id"] == agent_id] if len(hist) else hist
        both = pd.concat([past[["date", "shift_start", "shift_end"]] if len(past) else None,
                          rows[["date", "shift_start", "shift_end"]]])
        assert _shifts_ok(both, rest, run), agent_id
    # Weekly tours: maximum cardinality, checked against an independent matching.
    ids = sorted(weekly[weekly].index)
    if ids:
        allowed = np.array([[_allowed(tours[tours["tour_id"] == t], a, hist, rest, run)
                             for a in agents] for t in ids])
        r, c = linear_sum_assignment(-allowed.astype(float))
        assert len(staffed & set(ids)) == int(allowed[r, c].sum())


def test_single_shifts_are_pooled_onto_agents_within_their_hours():
    # Six 4-hour daily shifts and two part-timers of at most 12 h: three shifts each.
    tours = tours_of(*[tour_rows(f"D{d}", [d], hours=4.0, contract="part_time")
                       for d in range(6)])
    agents = [agent("P", contract="part_time", hi=12), agent("Q", contract="part_time", hi=12)]
    result = assign_agents(tours, agents, min_rest_hours=11, max_consecutive_days=6)
    assert result.status == "complete"
    assert result.roster.groupby("agent_id")["paid_hours"].sum().to_dict() == {"P": 12.0,
                                                                              "Q": 12.0}
    short = assign_agents(tours, agents[:1], min_rest_hours=11, max_consecutive_days=6)
    assert len(short.unassigned_tours) == 3
    assert "exceed their max weekly hours" in short.unassigned_tours["reason"].iloc[0]


@settings(max_examples=200, deadline=None)
@given(st.integers(1, 7), st.integers(1, 7), st.integers(1, 3), st.integers(0, 10_000))
def test_matching_by_contract_blocks_equals_the_whole_matching(n_rows, n_cols, n_keys, seed):
    # Pairs are only allowed within a key (a contract), so matching block by block must give
    # as many pairs at the same soft cost as one matching of the whole matrix.
    from staffcast.scheduler.agents import _pairs

    rng = np.random.default_rng(seed)
    row_key, col_key = rng.integers(0, n_keys, n_rows), rng.integers(0, n_keys, n_cols)
    allowed = (rng.random((n_rows, n_cols)) < 0.6) & (row_key[:, None] == col_key[None, :])
    cost = rng.integers(0, 5, (n_rows, n_cols)).astype(float)
    whole = _pairs(allowed, cost)
    blocks = _pairs(allowed, cost, row_key, col_key)
    assert len(blocks) == len(whole)
    assert sum(cost[r, c] for r, c in blocks) == pytest.approx(sum(cost[r, c] for r, c in whole))
    assert all(allowed[r, c] for r, c in blocks)
    assert len({r for r, _ in blocks}) == len({c for _, c in blocks}) == len(blocks)
