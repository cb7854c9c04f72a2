"""Model hyperparameters (forecast/models/params.py): typed, the models' own defaults, and
carried into the fitted model by `make_model`, `forecast` and `backtest`."""

import dataclasses
import inspect

import numpy as np
import pytest

from staffcast.forecasting.core import forecast
from staffcast.forecasting.models import MODELS, make_model
from staffcast.forecasting.models.params import (
    MODEL_NAMES,
    ArimaParams,
    AutoParams,
    HistavgParams,
    ModelParams,
    ProphetParams,
    TrimavgParams,
)
from tests.forecast.test_models import split, synthetic_history

CLASSES = {"snaive": "staffcast.forecasting.models.baseline:SeasonalNaive",
           "histavg": "staffcast.forecasting.models.baseline:SameDayTypeMean",
           "trimavg": "staffcast.forecasting.models.baseline:TrimmedDayTypeMean",
           "arima": "staffcast.forecasting.models.arima:DynamicHarmonicRegression",
           "prophet": "staffcast.forecasting.models.prophet_model:ProphetModel",
           "auto": "staffcast.forecasting.models.auto:AutoModel"}


def _constructor_defaults(name: str) -> dict:
    module, cls = CLASSES[name].split(":")
    signature = inspect.signature(getattr(__import__(module, fromlist=[cls]), cls))
    return {p.name: p.default for p in signature.parameters.values()
            if p.name != "member_params"}


def test_registry_and_params_name_the_same_models():
    assert tuple(MODELS) == MODEL_NAMES == tuple(CLASSES)
    assert [f.name for f in dataclasses.fields(ModelParams)] == list(MODEL_NAMES)


@pytest.mark.parametrize("name", MODEL_NAMES)
def test_default_hyperparameters_are_the_models_own(name):
    # One source of truth: a default changed in a model file must be changed here too.
    assert ModelParams().of(name).kwargs() == _constructor_defaults(name)


def test_hyperparameters_reach_the_constructed_models():
    params = ModelParams(
        trimavg=TrimavgParams(days=3, trim=0),
        arima=ArimaParams(order=(2, 1), history_weeks=8, transform="log1p"),
        prophet=ProphetParams(changepoints=0, history_weeks=4),
        auto=AutoParams(candidates=("histavg",), windows=2, tolerance=0.1))
    trimavg = make_model("trimavg", params=params, calibrated=False)
    assert (trimavg.k, trimavg.trim) == (3, 0)
    arima = make_model("arima", params=params).base  # calibrated: Conformal around it
    assert (arima.order, arima.max_weeks, arima.transform) == ((2, 1), 8, "log1p")
    prophet = make_model("prophet", params=params, calibrated=False)
    assert (prophet.n_changepoints, prophet.max_weeks) == (0, 4)
    auto = make_model("auto", params=params)
    assert (auto.candidates, auto.windows, auto.tolerance) == (("histavg",), 2, 0.1)
    with pytest.raises(ValueError, match="unknown model 'sarima'; valid models: snaive"):
        ModelParams().of("sarima")


def test_histavg_of_one_day_is_the_seasonal_naive():
    # Independent check: the mean of the last one same-type day is that day.
    y, X, X_future, _ = split(3)
    one_day = ModelParams(histavg=HistavgParams(days=1, trim=0))
    got = make_model("histavg", params=one_day, calibrated=False).forecast(y, X, X_future)
    naive = make_model("snaive", calibrated=False).forecast(y, X, X_future)
    default = make_model("histavg", calibrated=False).forecast(y, X, X_future)
    np.testing.assert_allclose(got["mean"], naive["mean"])
    assert not np.allclose(default["mean"], naive["mean"])


def test_auto_fits_its_candidates_with_their_own_hyperparameters():
    y, X, _, _ = split(4)
    params = ModelParams(histavg=HistavgParams(days=1), auto=AutoParams(candidates=("histavg",)))
    auto = make_model("auto", params=params).fit(y, X)
    assert auto.members_["histavg"].k == 1


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"days": 0}, "days must be a whole number >= 1, got 0"),
    ({"trim": -1}, "trim must be a whole number >= 0, got -1"),
])
def test_day_type_mean_params_check_their_values(kwargs, message):
    with pytest.raises(ValueError, match=message):
        HistavgParams(**kwargs)


def test_forecast_passes_params_to_every_queue():
    history = synthetic_history(3)
    one_day = ModelParams(histavg=HistavgParams(days=1, trim=0))
    got = forecast(history, horizon=24, models=["histavg"], params=one_day)
    naive = forecast(history, horizon=24, models=["snaive"])
    np.testing.assert_allclose(got["yhat"], naive["yhat"])
