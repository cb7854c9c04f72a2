"""The model registry: one name per model, an unknown name lists the valid ones."""

from __future__ import annotations

from collections.abc import Callable

from forecast.models.base import KEYS, LEVELS, Model, Prediction, Window

# Factories, not classes, so heavy imports (statsmodels, Prophet) happen only when used.


def _snaive() -> Model:
    from forecast.models.baseline import SeasonalNaive
    return SeasonalNaive()


def _histavg() -> Model:
    from forecast.models.baseline import SameDayTypeMean
    return SameDayTypeMean()


def _trimavg() -> Model:
    from forecast.models.baseline import TrimmedDayTypeMean
    return TrimmedDayTypeMean()


def _arima() -> Model:
    from forecast.models.arima import DynamicHarmonicRegression
    return DynamicHarmonicRegression()


def _prophet() -> Model:
    from forecast.models.prophet_model import ProphetModel
    return ProphetModel()


def _auto() -> Model:
    from forecast.models.auto import AutoModel
    return AutoModel()


MODELS: dict[str, Callable[[], Model]] = {
    "snaive": _snaive,
    "histavg": _histavg,
    "trimavg": _trimavg,
    "arima": _arima,
    "prophet": _prophet,
    "auto": _auto,
}


def make_model(name: str, *, calibrated: bool = True) -> Model:
    """A fresh, unfitted model by registry name.

    `calibrated` (the default) gives the model conformal bands from its own rolling-origin
    residuals (`forecast.conformal.Conformal`; `auto` calibrates its combination itself);
    False gives the bare model with its own bands (what `auto` uses for its members,
    whose bands it does not need).
    """
    try:
        factory = MODELS[name]
    except KeyError:
        raise ValueError(f"unknown model {name!r}; valid models: {', '.join(MODELS)}") from None
    model = factory()
    if calibrated and name != "auto":
        from forecast.conformal import Conformal
        # Prophet's fits cost seconds each: four calibration weeks instead of six, and two
        # weeks through past promotions instead of eight.
        if name == "prophet":
            return Conformal(model, windows=4, special_windows=2)
        return Conformal(model, windows=6)
    return model


__all__ = ["KEYS", "LEVELS", "MODELS", "Model", "Prediction", "Window", "make_model"]
