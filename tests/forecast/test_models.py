"""Every model: the verb contract, recovery of a known seasonal pattern, and day types
(a first-ever holiday forecast like the rest day, a working Saturday like a weekday)."""

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from staffcast.forecasting.features import DayTypeRule, build_features, plain_day_table
from staffcast.forecasting.models import KEYS, MODELS, make_model
from staffcast.forecasting.models.auto import AutoModel

START = pd.Timestamp("2026-03-02")  # a Monday
# Mean contacts per hour: a daytime hump, weekdays busy, Saturday lower, Sunday quietest
# with a later, flatter shape (so "looks like Sunday" is testable by shape, not only level).
_HOURS = np.arange(24)
WEEKDAY_PROFILE = 5 + 60 * np.exp(-0.5 * ((_HOURS - 11) / 3.0) ** 2)
SUNDAY_PROFILE = 3 + 20 * np.exp(-0.5 * ((_HOURS - 16) / 4.0) ** 2)
DAY_FACTOR = np.array([1.0, 0.95, 0.95, 0.9, 0.9, 0.6, 1.0])
RULE = DayTypeRule(rest_day=6, workday_as=2, rest_day_learned=False)


def true_mean(ds: pd.DatetimeIndex) -> np.ndarray:
    """The known seasonal pattern (contacts per hour) of the synthetic queue."""
    weekday = ds.day_of_week.to_numpy()
    hour = ds.hour.to_numpy()
    return np.where(weekday == 6, SUNDAY_PROFILE[hour], WEEKDAY_PROFILE[hour] * DAY_FACTOR[weekday])


def synthetic_history(weeks: int = 4, seed: int = 0, queue: str = "default") -> pd.DataFrame:
    """Poisson counts around `true_mean`, hourly from a Monday, as a history frame."""
    ds = pd.date_range(START, periods=weeks * 168, freq="h")
    y = np.random.default_rng(seed).poisson(true_mean(ds)).astype(float)
    return pd.DataFrame({"unique_id": pd.array([queue] * len(ds), dtype="string"), "ds": ds,
                         "y": y})


def features_for(ds: pd.DatetimeIndex, holidays=(), workdays=(), closures=()):
    table = plain_day_table(ds.normalize().unique())
    table.loc[pd.DatetimeIndex(holidays), "is_holiday"] = True
    table.loc[pd.DatetimeIndex(workdays), "is_adjusted_workday"] = True
    table.loc[pd.DatetimeIndex(closures), "is_closure"] = True
    return build_features(ds, table, RULE)


def split(weeks: int, horizon: int = 168, **calendar):
    history = synthetic_history(weeks)
    ds = pd.date_range(START, periods=weeks * 168 + horizon, freq="h")
    X = features_for(ds, **calendar)
    n = weeks * 168
    return history["y"].to_numpy(), X[:n], X[n:], ds[n:]


def ideal_wape(mean: np.ndarray) -> float:
    """Expected WAPE of the true mean itself: E|Y - m| ~ sqrt(2m/pi) for Poisson Y."""
    return float(np.sum(np.sqrt(2 * mean / np.pi)) / np.sum(mean))


# Allowed multiple of the noise floor per model: snaive copies one noisy week (the error of a
# difference of two Poisson draws, sqrt(2) times the floor), histavg averages four
# (sqrt(1 + 1/4)), trimavg the middle four of six (about as many), the regressions estimate
# each hour from all weeks.
RECOVERY = [("snaive", 1.6 * np.sqrt(2)), ("histavg", 1.4 * np.sqrt(1.25)),
            ("trimavg", 1.4 * np.sqrt(1.25)), ("arima", 1.35), ("auto", 1.5)]


@pytest.mark.parametrize(("name", "factor"), RECOVERY)
def test_model_recovers_known_weekly_pattern(name, factor):
    y, X, X_future, future_ds = split(weeks=8)
    prediction = make_model(name).forecast(y, X, X_future)
    truth = np.random.default_rng(99).poisson(true_mean(future_ds))
    wape = np.abs(truth - prediction["mean"]).sum() / truth.sum()
    floor = ideal_wape(true_mean(future_ds))
    assert wape < factor * floor, f"{name}: WAPE {wape:.3f} vs noise floor {floor:.3f}"


def test_prophet_recovers_known_weekly_pattern():
    y, X, X_future, future_ds = split(weeks=4)
    prediction = make_model("prophet").forecast(y, X, X_future)
    truth = np.random.default_rng(99).poisson(true_mean(future_ds))
    wape = np.abs(truth - prediction["mean"]).sum() / truth.sum()
    assert wape < 1.5 * ideal_wape(true_mean(future_ds))


@pytest.mark.parametrize("name", ["snaive", "histavg", "trimavg", "arima", "auto"])
def test_output_contract(name):
    closure = START + pd.Timedelta(weeks=4, days=2)
    y, X, X_future, _ = split(weeks=4, horizon=100, closures=[closure])
    prediction = make_model(name).forecast(y, X, X_future)
    assert set(prediction) == set(KEYS)
    assert all(len(v) == 100 for v in prediction.values())
    assert (prediction["lo-95"] >= 0).all()
    assert (prediction["lo-95"] <= prediction["lo-80"]).all()
    assert (prediction["lo-80"] <= prediction["mean"]).all()
    assert (prediction["mean"] <= prediction["hi-80"]).all()
    assert (prediction["hi-80"] <= prediction["hi-95"]).all()
    closed = ~X_future.open
    assert closed.sum() == 24  # the closure day lies inside the 100 hours
    assert all((prediction[k][closed] == 0).all() for k in KEYS)
    assert (prediction["hi-95"] > prediction["lo-95"])[X_future.open].all()


@pytest.mark.parametrize("name", ["snaive", "histavg", "trimavg", "arima"])
def test_first_ever_holiday_is_forecast_like_the_rest_day(name):
    # Wednesday of the forecast week is a holiday never seen in history.
    holiday = START + pd.Timedelta(weeks=6, days=2)
    y, X, X_future, future_ds = split(weeks=6, holidays=[holiday])
    mean = make_model(name).forecast(y, X, X_future)["mean"]
    day = future_ds.normalize()
    on_holiday = mean[day == holiday]
    on_sunday = mean[day == holiday + pd.Timedelta(days=4)]
    assert np.abs(on_holiday - on_sunday).sum() <= 0.05 * on_sunday.sum()
    # and it has Sunday's shape (afternoon peak), not the weekday's morning one
    assert np.corrcoef(on_holiday, SUNDAY_PROFILE)[0, 1] > 0.8  # true profiles: 0.2 apart
    assert np.corrcoef(on_holiday, WEEKDAY_PROFILE)[0, 1] < 0.5
    assert on_holiday.sum() < 0.6 * mean[day == holiday - pd.Timedelta(days=1)].sum()


@pytest.mark.parametrize("name", ["snaive", "histavg", "trimavg", "arima"])
def test_adjusted_workday_saturday_is_forecast_like_a_weekday(name):
    saturday = START + pd.Timedelta(weeks=6, days=5)
    y, X, X_future, future_ds = split(weeks=6, workdays=[saturday])
    mean = make_model(name).forecast(y, X, X_future)["mean"]
    day = future_ds.normalize()
    on_saturday = mean[day == saturday]
    on_wednesday = mean[day == saturday - pd.Timedelta(days=3)]  # RULE.workday_as = 2
    assert np.abs(on_saturday - on_wednesday).sum() <= 0.05 * on_wednesday.sum()


@pytest.mark.parametrize("name", sorted(MODELS))
def test_predict_before_fit_raises(name):
    _, _, X_future, _ = split(weeks=2, horizon=24)
    with pytest.raises(ValueError, match="fit"):
        make_model(name).predict(X_future)


def test_unknown_model_lists_valid_ones():
    with pytest.raises(ValueError, match="unknown model 'ets'.*snaive, histavg, trimavg, arima"):
        make_model("ets")


def test_fit_rejects_negative_counts():
    y, X, _, _ = split(weeks=2)
    y = y.copy()
    y[5] = -1
    with pytest.raises(ValueError, match=">= 0"):
        make_model("histavg").fit(y, X)


def test_cross_validation_windows_end_at_history_end():
    y, X, _, _ = split(weeks=4)
    windows = make_model("snaive").cross_validation(y, X, h=24, windows=3, step=48)
    assert [w.cutoff for w in windows] == [len(y) - 24 - 96, len(y) - 24 - 48, len(y) - 24]
    assert np.array_equal(windows[-1].y_true, y[-24:])


def test_snaive_copies_last_same_day_type_and_skips_closures():
    # The last Monday of history is a closure: Monday's forecast copies the one before it.
    closed_monday = START + pd.Timedelta(weeks=3)
    y, X, X_future, future_ds = split(weeks=4, horizon=24, closures=[closed_monday])
    mean = make_model("snaive").forecast(y, X, X_future)["mean"]
    assert np.array_equal(mean, y[2 * 168:2 * 168 + 24])


def test_histavg_is_mean_of_last_k_weeks():
    y, X, X_future, _ = split(weeks=6, horizon=168)
    mean = make_model("histavg").forecast(y, X, X_future)["mean"]
    expected = y.reshape(6, 168)[-4:].mean(axis=0)
    assert np.allclose(mean, expected)


def test_trimavg_drops_the_highest_and_lowest_of_the_last_six_weeks_hour_by_hour():
    y, X, X_future, _ = split(weeks=8, horizon=168)
    y = y.copy()
    y[7 * 168 + 10] = 10_000  # last Monday 10:00: an outage backlog, dropped as the highest
    mean = make_model("trimavg").forecast(y, X, X_future)["mean"]
    last6 = np.sort(y.reshape(8, 168)[-6:], axis=0)
    assert np.allclose(mean, last6[1:5].mean(axis=0))
    assert mean[10] < 200


def test_arima_uses_promotion_effects_proportionally():
    # A recurring promotion doubles volume; history holds it twice, the future once more.
    weeks = 6
    ds = pd.date_range(START, periods=weeks * 168 + 168, freq="h")
    promo = ds.normalize().isin([START + pd.Timedelta(days=d) for d in (9, 23, 44)])
    mean = true_mean(ds) * np.where(promo, 2.0, 1.0)
    y = np.random.default_rng(3).poisson(mean[:weeks * 168]).astype(float)
    table = plain_day_table(ds.normalize().unique())
    events = pd.DataFrame({"sale_day": promo.astype(float)}, index=ds)
    X = build_features(ds, table, RULE, promotions=events)
    n = weeks * 168
    forecast = make_model("arima").forecast(y, X[:n], X[n:])["mean"]
    day = promo[n:]
    ratio = forecast[day].sum() / mean[n:][day].sum()
    assert 0.85 < ratio < 1.15
    assert make_model("auto").fit(y, X[:n]).weights_for(X[n:]).keys() <= {"arima", "prophet"}


def test_auto_weights_are_equal_within_the_tolerance():
    y, X, _, _ = split(weeks=8)
    auto = AutoModel(candidates=("snaive", "histavg", "trimavg", "arima")).fit(y, X)
    assert set(auto.wape_) == {"snaive", "histavg", "trimavg", "arima"}
    best = min(auto.wape_.values())
    kept = {n for n, w in auto.wape_.items() if w <= 1.2 * best}
    assert set(auto.weights_) == kept and "snaive" not in kept  # a noisy copy of one week
    assert auto.weights_ == pytest.approx({n: 1 / len(kept) for n in kept})


def test_auto_inverse_wape_weights_as_an_option():
    y, X, _, _ = split(weeks=8)
    auto = AutoModel(candidates=("snaive", "histavg", "arima"), weighting="inverse",
                     tolerance=0.1).fit(y, X)
    best = min(auto.wape_.values())
    kept = {n for n, w in auto.wape_.items() if w <= 1.1 * best}
    assert set(auto.weights_) == kept
    assert sum(auto.weights_.values()) == pytest.approx(1.0)
    for a in kept:
        for b in kept:
            assert auto.weights_[a] / auto.weights_[b] == pytest.approx(auto.wape_[b] / auto.wape_[a])


def test_auto_with_too_little_history_for_a_backtest_averages_all_candidates():
    y, X, X_future, _ = split(weeks=2, horizon=24)
    auto = make_model("auto").fit(y, X)
    assert auto.wape_ == {} and auto.weights_ == pytest.approx({"trimavg": 0.5, "arima": 0.5})
    assert auto.bands_ is None
    assert len(auto.predict(X_future)["mean"]) == 24


@pytest.mark.parametrize("name", ["snaive", "histavg", "trimavg"])
def test_a_silent_day_in_history_is_not_copied(name):
    y, X, X_future, _ = split(weeks=5, horizon=168)
    y = y.copy()
    y[4 * 168 + 24:4 * 168 + 48] = 0  # last week's Tuesday lost all its contacts
    mean = make_model(name).forecast(y, X, X_future)["mean"]
    tuesdays = y.reshape(5, 7, 24)[:4, 1]
    expected = {"snaive": tuesdays[-1], "histavg": tuesdays.mean(axis=0),
                "trimavg": np.sort(tuesdays, axis=0)[1:3].mean(axis=0)}[name]
    assert np.allclose(mean[24:48], expected)


def test_arima_learns_a_ramp_inside_a_long_promotion_window():
    # A 14-day pre-sale whose volume rises linearly from 1x to 2x, seen twice in history.
    weeks = 9
    ds = pd.date_range(START, periods=weeks * 168 + 168, freq="h")
    day = ((ds.normalize() - START).days).to_numpy()
    windows = [(3, 17), (31, 45), (56, 70)]
    promo = np.zeros(len(ds))
    lift = np.ones(len(ds))
    for first, last in windows:
        inside = (day >= first) & (day < last)
        promo[inside] = 1.0
        lift[inside] = 1 + (day[inside] - first) / (last - first - 1)
    mean = true_mean(ds) * lift
    n = weeks * 168
    y = np.random.default_rng(4).poisson(mean[:n]).astype(float)
    X = build_features(ds, plain_day_table(ds.normalize().unique()), RULE,
                       promotions=pd.DataFrame({"presale": promo}, index=ds))
    forecast = make_model("arima").forecast(y, X[:n], X[n:])["mean"]
    # The forecast week holds the second half of the third window (lift 1.54 to 2.0): a
    # constant promotion effect would forecast the window's average lift (1.5) instead.
    assert day[n] == 63
    ratio = forecast.sum() / mean[n:].sum()
    assert 0.9 < ratio < 1.1
    daily = forecast.reshape(7, 24).sum(axis=1) / true_mean(ds[n:]).reshape(7, 24).sum(axis=1)
    assert daily[-1] > daily[0] + 0.2


def _stepped(lift: float, seed: int, weeks: int = 10, scale: float = 1.0):
    """`weeks` of Poisson history whose mean is `lift` times higher in the last week, and
    the week after it (the forecast week)."""
    ds = pd.date_range(START, periods=(weeks + 1) * 168, freq="h")
    mean = scale * true_mean(ds) * np.where(np.arange(len(ds)) >= (weeks - 1) * 168, lift, 1.0)
    n = weeks * 168
    y = np.random.default_rng(seed).poisson(mean[:n]).astype(float)
    return y, features_for(ds), mean, n


@pytest.mark.parametrize("lift", [1.3, 0.7])
def test_arima_detects_a_step_in_volume_and_forecasts_the_new_level(lift):
    # Volume steps by 30% for the last week of ten: a profile fitted on all weeks lags it
    # (it forecasts about 1 + (lift - 1) / 10); after the detected step the forecast is
    # at the new level.
    from staffcast.forecasting.models.arima import DynamicHarmonicRegression

    y, X, mean, n = _stepped(lift, seed=5)
    truth = mean[n:].sum()
    plain_model = DynamicHarmonicRegression(shift_days=0)
    plain = plain_model.forecast(y, X[:n], X[n:])["mean"].sum()
    model = DynamicHarmonicRegression()
    stepped = model.forecast(y, X[:n], X[n:])["mean"].sum()
    # The step's first day: day 63 of the series (Monday of week 10).
    assert model.level_shift_ == int(X.day[0]) + 63
    assert plain_model.level_shift_ is None
    assert abs(stepped / truth - 1) < 0.04
    assert abs(plain / truth - 1) > 0.15


def test_arima_moves_no_level_without_a_step():
    # Ten steady weeks, and a 5% step (below the 10% a shift must reach): no correction,
    # the same forecast as with the detection off.
    from staffcast.forecasting.models.arima import DynamicHarmonicRegression

    for lift, seed in ((1.0, 6), (1.05, 7)):
        y, X, _, n = _stepped(lift, seed=seed)
        model = DynamicHarmonicRegression()
        got = model.forecast(y, X[:n], X[n:])["mean"]
        off = DynamicHarmonicRegression(shift_days=0).forecast(y, X[:n], X[n:])["mean"]
        assert model.level_shift_ is None
        assert np.allclose(got, off)


@settings(max_examples=200, deadline=None)
@given(st.integers(2, 20), st.integers(1, 8), st.integers(0, 2), st.integers(0, 10_000))
def test_replay_of_the_day_type_means_equals_one_trimmed_mean_per_day(n, k, trim, seed):
    # The in-sample replay behind the baselines' bands: each day against the trimmed mean
    # of the up to k days before it, computed in one sort instead of one call per day.
    from staffcast.forecasting.models.baseline import _replay, _trimmed_mean

    days = np.random.default_rng(seed).poisson(20, (n, 5)).astype(float)
    expected = np.array([_trimmed_mean(days[max(0, i - k):i], trim) for i in range(1, n)])
    assert np.allclose(_replay(days, k, trim), expected)
