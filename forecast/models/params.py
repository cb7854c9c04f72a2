"""Hyperparameters of the registered models, as typed frozen dataclasses.

One class per registry name; `ModelParams` holds one of each (the config's
`forecast.models:` section, parsed at the edge by `staffcast.config`). Field names are the
config keys, with units in their names where they have one; `kwargs()` maps them onto the
model's constructor. The defaults are the models' own (a test checks they agree), so a
model left out of the config behaves as `make_model(name)` always did. This module imports
no model, so a config can be checked without numpy-heavy imports.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any, Literal

# The registry's names in its order (`staffcast.forecasting.models.MODELS`; a test checks they agree).
MODEL_NAMES = ("snaive", "histavg", "trimavg", "arima", "prophet", "auto")


def _require(ok: bool, message: str) -> None:
    if not ok:
        raise ValueError(message)


def _whole(name: str, value: Any, low: int) -> None:
    _require(isinstance(value, int) and not isinstance(value, bool) and value >= low,
             f"{name} must be a whole number >= {low}, got {value!r}")


@dataclass(frozen=True)
class SnaiveParams:
    """snaive repeats the last reference day of the same day type; it has no
    hyperparameters."""

    def kwargs(self) -> dict[str, Any]:
        return {}


@dataclass(frozen=True)
class HistavgParams:
    """Mean of the same interval over recent days of the same day type.

    days: reference days of the same day type averaged, interval by interval (>= 1).
    trim: the highest and the lowest `trim` of those days dropped per interval first (>= 0).
    """

    days: int = 4
    trim: int = 0

    def __post_init__(self) -> None:
        _whole("days", self.days, 1)
        _whole("trim", self.trim, 0)

    def kwargs(self) -> dict[str, Any]:
        return {"k": self.days, "trim": self.trim}


@dataclass(frozen=True)
class TrimavgParams(HistavgParams):
    """Trimmed mean of the same interval over recent days of the same day type.

    days: reference days of the same day type averaged, interval by interval (>= 1).
    trim: the highest and the lowest `trim` of those days dropped per interval first (>= 0).
    """

    days: int = 6
    trim: int = 1


@dataclass(frozen=True)
class ArimaParams:
    """Dynamic harmonic regression: day-type daily profiles, trend and event effects with
    ARMA(p, 0, q) errors.

    order: (p, q) of the ARMA errors, each >= 0.
    transform: fit on sqrt(y), log1p(y) or y itself ('none').
    history_weeks: most recent weeks of history fitted (>= 1).
    halflife_weeks: weeks after which an old week's weight halves (null: equal weights).
    arma_hours: most recent open hours of residuals the ARMA is fitted on (>= 1).
    ridge: shrinkage of day-type deviations and event effects, in hours of data (>= 0).
    trend: fit a linear trend.
    shift_days: days of recent ordinary days searched for a level shift (0: off).
    shift_t: standard errors of the daily mean residual a shift must reach (> 0).
    shift_min: relative change in volume a shift must reach (>= 0).
    pulse_hours: length of the opening pulse of a promotion, in hours (>= 0).
    """

    order: tuple[int, int] = (1, 0)
    transform: Literal["sqrt", "log1p", "none"] = "sqrt"
    history_weeks: int = 104
    halflife_weeks: float | None = None
    arma_hours: int = 1008
    ridge: float = 0.5
    trend: bool = True
    shift_days: int = 28
    shift_t: float = 8.0
    shift_min: float = 0.1
    pulse_hours: float = 2.0

    def __post_init__(self) -> None:
        _require(len(self.order) == 2, f"order must be [p, q], got {list(self.order)!r}")
        for name, value in zip(("order p", "order q"), self.order):
            _whole(name, value, 0)
        _whole("history_weeks", self.history_weeks, 1)
        _whole("arma_hours", self.arma_hours, 1)
        _whole("shift_days", self.shift_days, 0)
        _require(self.halflife_weeks is None or self.halflife_weeks > 0,
                 f"halflife_weeks must be > 0 (or null), got {self.halflife_weeks!r}")
        _require(self.ridge >= 0, f"ridge must be >= 0, got {self.ridge!r}")
        _require(self.shift_t > 0, f"shift_t must be > 0, got {self.shift_t!r}")
        _require(self.shift_min >= 0, f"shift_min must be >= 0, got {self.shift_min!r}")
        _require(self.pulse_hours >= 0, f"pulse_hours must be >= 0, got {self.pulse_hours!r}")

    def kwargs(self) -> dict[str, Any]:
        out = dataclasses.asdict(self)
        out["order"] = tuple(self.order)
        out["max_weeks"] = out.pop("history_weeks")
        return out


@dataclass(frozen=True)
class ProphetParams:
    """Prophet on open hours with a daily profile per day type.

    seasonality_mode: daily profiles multiply the trend or add to it.
    daily_fourier_order: Fourier terms of each daily profile (>= 1).
    history_weeks: most recent weeks of history fitted (>= 1).
    changepoints: potential trend changepoints (>= 0).
    """

    seasonality_mode: Literal["multiplicative", "additive"] = "multiplicative"
    daily_fourier_order: int = 8
    history_weeks: int = 26
    changepoints: int = 3

    def __post_init__(self) -> None:
        _whole("daily_fourier_order", self.daily_fourier_order, 1)
        _whole("history_weeks", self.history_weeks, 1)
        _whole("changepoints", self.changepoints, 0)

    def kwargs(self) -> dict[str, Any]:
        return {"seasonality_mode": self.seasonality_mode,
                "daily_fourier_order": self.daily_fourier_order,
                "max_weeks": self.history_weeks, "n_changepoints": self.changepoints}


@dataclass(frozen=True)
class AutoParams:
    """Mean of the candidate models within `tolerance` of the best backtest WAPE.

    candidates: models compared (registry names other than auto); each is fitted with its
        own hyperparameters from this section.
    windows: most recent weekly origins that rank the candidates (>= 1).
    tolerance: relative WAPE margin within which a candidate joins the mean (>= 0).
    weighting: equal weights or inverse-WAPE weights.
    calibration: weekly origins whose errors give the bands (>= 1; at least `windows`).
    special_windows: weekly origins through past promotions whose errors give the bands
        of promotion hours (>= 0).
    """

    candidates: tuple[str, ...] = ("trimavg", "arima")
    windows: int = 3
    tolerance: float = 0.20
    weighting: Literal["equal", "inverse"] = "equal"
    calibration: int = 6
    special_windows: int = 8

    def __post_init__(self) -> None:
        valid = [n for n in MODEL_NAMES if n != "auto"]
        unknown = [c for c in self.candidates if c not in valid]
        _require(bool(self.candidates) and not unknown,
                 f"candidates must name models from {', '.join(valid)}, got "
                 f"{list(self.candidates)!r}")
        _whole("windows", self.windows, 1)
        _whole("calibration", self.calibration, 1)
        _whole("special_windows", self.special_windows, 0)
        _require(self.tolerance >= 0, f"tolerance must be >= 0, got {self.tolerance!r}")

    def kwargs(self) -> dict[str, Any]:
        return {**dataclasses.asdict(self), "candidates": tuple(self.candidates)}


@dataclass(frozen=True)
class ModelParams:
    """Hyperparameters per model (`forecast.models`); a model left out keeps its
    defaults."""

    snaive: SnaiveParams = SnaiveParams()
    histavg: HistavgParams = HistavgParams()
    trimavg: TrimavgParams = TrimavgParams()
    arima: ArimaParams = ArimaParams()
    prophet: ProphetParams = ProphetParams()
    auto: AutoParams = AutoParams()

    def of(self, name: str) -> Any:
        """The hyperparameters of model `name` (a registry name)."""
        if name not in MODEL_NAMES:
            raise ValueError(f"unknown model {name!r}; valid models: {', '.join(MODEL_NAMES)}")
        return getattr(self, name)
