"""Requirement frames: spreading, AHT by hour, opening hours, chat slots, tickets, shrinkage."""

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from staffcast.scheduler.backlog import spread_workload
from staffcast.scheduler.erlang import agents_for_targets, erlang_a_agents
from staffcast.scheduler.requirements import (
    REQUIREMENT_COLUMNS,
    QueueStaffing,
    compute_requirements,
    pool_requirements,
    queue_pools,
    staff_interval,
)

BASE = {"aht_s": 180.0, "sl_target": 0.8, "sl_seconds": 20.0}


def queue(**overrides) -> QueueStaffing:
    return QueueStaffing(**{**BASE, **overrides})


def hourly(values, uid="q", start="2024-03-04 00:00") -> pd.DataFrame:
    ds = pd.date_range(start, periods=len(values), freq="h")
    return pd.DataFrame({"unique_id": uid, "ds": ds, "volume": np.asarray(values, float)})


def test_textbook_hour_spreads_flat_into_half_hours():
    req = compute_requirements(hourly([200.0]), {"q": queue()})
    assert list(req.columns[: len(REQUIREMENT_COLUMNS)]) == list(REQUIREMENT_COLUMNS)
    assert req["ds"].tolist() == [pd.Timestamp("2024-03-04 00:00"),
                                  pd.Timestamp("2024-03-04 00:30")]
    assert req["volume"].tolist() == [100.0, 100.0]
    assert req["erlangs"].tolist() == pytest.approx([10.0, 10.0])
    assert req["agents_raw"].tolist() == [14, 14]
    assert req["service_level"].iloc[0] == pytest.approx(0.88835, abs=1e-5)
    assert req["sl_target"].iloc[0] == 0.8 and req["sl_seconds"].iloc[0] == 20.0
    assert "abandon_rate" not in req


def test_shrinkage_is_multiplicative():
    parts = {"breaks": 0.08, "training": 0.05, "absence": 0.07}
    q = queue(shrinkage=parts)
    total = 1 - 0.92 * 0.95 * 0.93
    assert q.total_shrinkage == pytest.approx(total)
    req = compute_requirements(hourly([200.0]), {"q": q})
    assert req["agents_required"].iloc[0] == math.ceil(14 / (1 - total))  # 18, not 14 / 0.8 -> 18
    assert req["shrinkage"].iloc[0] == pytest.approx(total)


def test_profile_and_interval_lengths():
    req = compute_requirements(hourly([200.0]), {"q": queue()}, intra_hour_profile=[3, 2])
    assert req["volume"].tolist() == pytest.approx([120.0, 80.0])
    quarter = compute_requirements(hourly([200.0]), {"q": queue()}, interval_minutes=15)
    assert len(quarter) == 4 and quarter["erlangs"].tolist() == pytest.approx([10.0] * 4)
    assert (quarter["agents_raw"] == 14).all()
    hour = compute_requirements(hourly([200.0]), {"q": queue()}, interval_minutes=60)
    assert hour["erlangs"].tolist() == pytest.approx([10.0])
    with pytest.raises(ValueError, match="intra_hour_profile"):
        compute_requirements(hourly([200.0]), {"q": queue()}, intra_hour_profile=[1, 1, 1])
    with pytest.raises(ValueError, match="interval_minutes"):
        compute_requirements(hourly([200.0]), {"q": queue()}, interval_minutes=20)


def test_aht_by_hour_of_day():
    aht = {h: 180.0 for h in range(24)}
    aht[1] = 360.0
    req = compute_requirements(hourly([200.0, 200.0]), {"q": queue(aht_s=aht)})
    assert req["aht_s"].tolist() == [180.0, 180.0, 360.0, 360.0]
    assert req["erlangs"].tolist() == pytest.approx([10.0, 10.0, 20.0, 20.0])
    assert req["agents_raw"].iloc[2] == agents_for_targets(20.0, 360.0, sl_target=0.8,
                                                           sl_seconds=20.0)
    with pytest.raises(ValueError, match=r"aht_s must be .*missing \[23\]"):
        queue(aht_s={h: 180.0 for h in range(23)})


def test_opening_hours_zero_when_closed_and_minimum_when_open():
    # Monday 2024-03-04: open 08:00-10:00 only, every day.
    hours = tuple(((480, 600),) for _ in range(7))
    volume = hourly([50.0] * 8 + [0.0, 200.0, 50.0], start="2024-03-04 00:00")
    req = compute_requirements(volume, {"q": queue(min_agents=3)}, opening_hours={"q": hours})
    closed = req[req["is_open"] == 0]
    assert (closed["agents_raw"] == 0).all() and (closed["agents_required"] == 0).all()
    open_ = req[req["is_open"] == 1].set_index("ds")
    assert open_.index.min() == pd.Timestamp("2024-03-04 08:00")
    assert open_.loc["2024-03-04 08:00", "agents_raw"] == 3  # no volume: the minimum
    assert open_.loc["2024-03-04 09:00", "agents_raw"] == 14
    assert len(open_) == 4


def test_chat_slots_with_concurrency_slowdown():
    q = queue(channel="chat", concurrency=3, concurrency_aht_factor=0.5)
    req = compute_requirements(hourly([200.0]), {"q": q})
    elapsed = 180.0 * (1 + 0.5 * 2)
    assert req["aht_s"].iloc[0] == elapsed
    slots = agents_for_targets(100 * elapsed / 1800, elapsed, sl_target=0.8, sl_seconds=20.0)
    assert req["agents_raw"].iloc[0] == math.ceil(slots / 3)
    assert req["service_level"].iloc[0] >= 0.8
    with pytest.raises(ValueError, match="concurrency must be 1 unless channel is 'chat'"):
        queue(concurrency=2)


def test_erlang_a_queue_reports_abandonment():
    req = compute_requirements(hourly([200.0]),
                               {"q": queue(patience_s=300.0, max_abandon=0.02)})
    assert req["agents_raw"].iloc[0] == erlang_a_agents(10.0, 180.0, 300.0, sl_target=0.8,
                                                        sl_seconds=20.0, max_abandon=0.02)
    assert 0 < req["abandon_rate"].iloc[0] <= 0.02
    assert req["patience_s"].iloc[0] == 300.0


def test_ticket_queue_spreads_work_over_open_hours():
    hours = tuple(((480, 1080),) for _ in range(7))  # 08:00-18:00
    volume = hourly([6.0] * 24, uid="mail")
    q = QueueStaffing(aht_s=600.0, channel="ticket", response_hours=4.0)
    req = compute_requirements(volume, {"mail": q}, opening_hours={"mail": hours})
    assert req["service_level"].isna().all() and req["asa_s"].isna().all()
    assert (req.loc[req["is_open"] == 0, "agents_raw"] == 0).all()
    # Work of the whole day (24 h x 6 tickets x 10 min) lands in the 10 open hours, except
    # what arrives after 18:00, which is due in tomorrow's first open hours.
    work_erl = req["erlangs"].to_numpy()
    busy = (req["occupancy"] * req["agents_raw"]).to_numpy()
    due_today = work_erl[req["ds"].dt.hour < 18].sum()
    assert busy.sum() == pytest.approx(due_today)


def test_spread_workload_small_cases():
    assert spread_workload(np.array([4.0, 0, 0, 0]), np.ones(4, bool), 2).tolist() == [2, 2, 0, 0]
    got = spread_workload(np.array([4.0, 0, 0, 0]), np.array([False, True, False, True]), 2)
    assert got.tolist() == [0, 2, 0, 2]
    with pytest.raises(ValueError, match="window must be >= 1"):
        spread_workload(np.ones(2), np.ones(2, bool), 0)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.floats(min_value=0, max_value=50), min_size=1, max_size=40),
       st.lists(st.booleans(), min_size=40, max_size=40), st.integers(min_value=1, max_value=6))
def test_backlog_capacity_meets_every_deadline(work, open_flags, window):
    work = np.array(work)
    is_open = np.array(open_flags[: work.size])
    load = spread_workload(work, is_open, window)
    open_pos = np.flatnonzero(is_open)
    for i in range(work.size):
        first = np.searchsorted(open_pos, i)
        if first >= open_pos.size or work[i] == 0:
            continue
        deadline = open_pos[min(first + window, open_pos.size) - 1]
        arrived = work[: i + 1][np.searchsorted(open_pos, np.arange(i + 1)) < open_pos.size]
        assert load[: deadline + 1].sum() >= arrived.sum() - 1e-9


def test_pools_sum_queues_per_interval():
    volume = pd.concat([hourly([200.0], "a"), hourly([100.0], "b"), hourly([100.0], "c")])
    queues = {"a": queue(pool="shop"), "b": queue(pool="shop"), "c": queue()}
    req = compute_requirements(volume, queues)
    pooled = pool_requirements(req, queue_pools(queues))
    shop = pooled[pooled["pool"] == "shop"]
    per_queue = req[req["unique_id"].isin(["a", "b"])].groupby("ds")["agents_required"].sum()
    assert shop["agents_required"].tolist() == per_queue.tolist()
    assert shop["queues"].iloc[0] == "a,b"
    assert set(pool_requirements(req)["pool"]) == {"all"}
    # The honest note: one Erlang model of the pooled traffic needs fewer agents.
    pooled_erlang = agents_for_targets(shop["erlangs"].iloc[0], 180.0, sl_target=0.8,
                                       sl_seconds=20.0)
    assert pooled_erlang < shop["agents_raw"].iloc[0]


def test_errors_name_queue_column_row_and_value():
    with pytest.raises(ValueError, match=r"no staffing settings for queue \['x'\]; "
                                         r"configured queues: q"):
        compute_requirements(hourly([1.0], "x"), {"q": queue()})
    bad = hourly([1.0, -2.0])
    with pytest.raises(ValueError, match=r"column 'volume' .* row 1 has -2\.0"):
        compute_requirements(bad, {"q": queue()})
    with pytest.raises(ValueError, match="missing column 'volume'"):
        compute_requirements(bad.rename(columns={"volume": "y"}), {"q": queue()})
    with pytest.raises(ValueError, match="unique"):
        compute_requirements(pd.concat([hourly([1.0]), hourly([1.0])]), {"q": queue()})


def test_caller_frame_is_not_modified():
    volume = hourly([200.0, 100.0])
    before = volume.copy()
    compute_requirements(volume, {"q": queue()})
    pd.testing.assert_frame_equal(volume, before)


@pytest.mark.parametrize("kwargs,fragment", [
    ({"aht_s": -3.0}, "aht_s must be > 0, got -3.0"),
    ({"sl_target": 1.2}, "sl_target must be in (0, 1), got 1.2"),
    ({"sl_seconds": None}, "sl_target and sl_seconds must be given together"),
    ({"max_occupancy": 0.0}, "max_occupancy must be in (0, 1], got 0.0"),
    ({"shrinkage": {"breaks": 1.0}}, "shrinkage.breaks must be in [0, 1), got 1.0"),
    ({"max_abandon": 0.05}, "max_abandon needs patience_s"),
    ({"channel": "fax"}, "channel must be one of"),
    ({"min_agents": -1}, "min_agents must be a whole number >= 0, got -1"),
    ({"sl_target": None, "sl_seconds": None}, "needs at least one target"),
    ({"response_hours": 4.0}, "response_hours must be unset unless channel is 'ticket'"),
    ({"patience_s": float("nan")}, "patience_s must be > 0, got nan"),
])
def test_queue_settings_validation(kwargs, fragment):
    with pytest.raises(ValueError) as err:
        queue(**kwargs)
    assert fragment in str(err.value)


def test_staff_interval_textbook():
    res = staff_interval(100.0, 1800.0, queue(shrinkage={"total": 0.3}))
    assert res["agents"] == 14 and res["agents_with_shrinkage"] == 20
    assert res["p_wait"] == pytest.approx(0.1741, abs=1e-4)


@settings(max_examples=40, deadline=None)
@given(st.floats(min_value=0, max_value=3000), st.floats(min_value=1.0, max_value=2.0))
def test_required_agents_never_fall_with_volume(vol, factor):
    q = {"q": queue(max_occupancy=0.9, min_agents=1)}
    low = compute_requirements(hourly([vol]), q)["agents_required"].to_numpy()
    high = compute_requirements(hourly([vol * factor]), q)["agents_required"].to_numpy()
    assert (high >= low).all() and (low >= 1).all()


def test_open_mask_frame_instead_of_hours():
    volume = hourly([200.0, 200.0])
    mask = pd.DataFrame({"unique_id": "q",
                         "ds": pd.date_range("2024-03-04 00:00", periods=4, freq="30min"),
                         "is_open": [True, True, False, False]})
    req = compute_requirements(volume, {"q": queue()}, open_mask=mask)
    assert req["agents_raw"].tolist() == [14, 14, 0, 0]
    assert req["service_level"].iloc[2] == 0.0 and np.isinf(req["asa_s"].iloc[2])
    with pytest.raises(ValueError, match="open_mask has no row for 'q'"):
        compute_requirements(volume, {"q": queue()}, open_mask=mask.iloc[:3])


def test_a_forecast_aht_column_staffs_each_row_and_blanks_take_the_config():
    volume = pd.DataFrame({"unique_id": "q", "volume": [100.0, 100.0],
                           "ds": pd.date_range("2024-03-04", periods=2, freq="30min"),
                           "aht_s": [360.0, np.nan]})
    req = compute_requirements(volume, {"q": queue()}, interval_minutes=30)
    # Erlangs = contacts x handle seconds / interval seconds.
    assert req["erlangs"].tolist() == pytest.approx([100 * 360 / 1800, 100 * 180 / 1800])
    assert req["aht_s"].tolist() == [360.0, 180.0]
    with pytest.raises(ValueError, match=r"column 'aht_s' must be > 0 seconds.*row 1 has -5.0"):
        compute_requirements(volume.assign(aht_s=[360.0, -5.0]), {"q": queue()},
                             interval_minutes=30)
