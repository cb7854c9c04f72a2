"""Turn contact volume into staff: Erlang maths, requirements, shift model, roster, export.

Imports no forecasting model: it takes a `unique_id, ds, volume` frame.
"""
