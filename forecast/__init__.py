"""Forecast hourly contact volume per queue from history and an event calendar.

Long frames at the edges (`unique_id, ds, y` in; `unique_id, ds, model, yhat, yhat_lo_80,
yhat_hi_80, yhat_lo_95, yhat_hi_95` out). Imports nothing from `scheduler`.
"""
