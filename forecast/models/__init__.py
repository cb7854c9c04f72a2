"""The model registry: one name per model, an unknown name lists the valid ones."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .base import KEYS, LEVELS, Model, Prediction, Window
from .params import (
    ArimaParams,
    AutoParams,
    HistavgParams,
    ModelParams,
    ProphetParams,
    SnaiveParams,
    TrimavgParams,
)

# Factories, not classes, so heavy imports (statsmodels, Prophet) happen only when used.
# Each takes the model's hyperparameters (`staffcast.forecasting.models.params`) and the whole set
# (auto fits its candidates with theirs).


def _snaive(params: SnaiveParams, _: ModelParams) -> Model:
    from .baseline import SeasonalNaive
    return SeasonalNaive(**params.kwargs())


def _histavg(params: HistavgParams, _: ModelParams) -> Model:
    from .baseline import SameDayTypeMean
    return SameDayTypeMean(**params.kwargs())


def _trimavg(params: TrimavgParams, _: ModelParams) -> Model:
    from .baseline import TrimmedDayTypeMean
    return TrimmedDayTypeMean(**params.kwargs())


def _arima(params: ArimaParams, _: ModelParams) -> Model:
    from .arima import DynamicHarmonicRegression
    return DynamicHarmonicRegression(**params.kwargs())


def _prophet(params: ProphetParams, _: ModelParams) -> Model:
    from .prophet_model import ProphetModel
    return ProphetModel(**params.kwargs())


def _auto(params: AutoParams, every: ModelParams) -> Model:
    from .auto import AutoModel
    return AutoModel(**params.kwargs(), member_params=every)


MODELS: dict[str, Callable[[Any, ModelParams], Model]] = {
    "snaive": _snaive,
    "histavg": _histavg,
    "trimavg": _trimavg,
    "arima": _arima,
    "prophet": _prophet,
    "auto": _auto,
}


def make_model(name: str, *, calibrated: bool = True, params: ModelParams | None = None) -> Model:
    """A fresh, unfitted model by registry name.

    `params` gives the hyperparameters of every model (`staffcast.forecasting.models.params`; None:
    each model's defaults). `calibrated` (the default) gives the model conformal bands
    from its own rolling-origin residuals (`staffcast.forecasting.conformal.Conformal`; `auto`
    calibrates its combination itself); False gives the bare model with its own bands
    (what `auto` uses for its members, whose bands it does not need).
    """
    try:
        factory = MODELS[name]
    except KeyError:
        raise ValueError(f"unknown model {name!r}; valid models: {', '.join(MODELS)}") from None
    params = params or ModelParams()
    model = factory(params.of(name), params)
    if calibrated and name != "auto":
        from ..conformal import Conformal
        # Prophet's fits cost seconds each: four calibration weeks instead of six, and two
        # weeks through past promotions instead of eight.
        if name == "prophet":
            return Conformal(model, windows=4, special_windows=2)
        return Conformal(model, windows=6)
    return model


__all__ = ["KEYS", "LEVELS", "MODELS", "Model", "ModelParams", "Prediction", "Window",
           "make_model"]
