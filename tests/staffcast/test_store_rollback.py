"""A failed actuals load leaves the store as it was: the hours it had already replaced
inside its transaction are rolled back, and no load is recorded."""

import types

import duckdb
import pandas as pd
import pytest

from staffcast.store import RunStore

START = pd.Timestamp("2026-11-09 08:00")


def test_a_load_that_fails_after_replacing_hours_is_rolled_back(tmp_path):
    path = tmp_path / "runs.duckdb"
    with RunStore(path) as store:
        store.add_actuals(pd.DataFrame({"unique_id": "chat", "ds": [START, START + pd.Timedelta(
            hours=1)], "y": [9.0, 11.0]}))
        before = store.actuals()
        loads_before = store.query("SELECT count(*) AS n FROM actuals_loads")["n"].iloc[0]
        # The actuals rows are replaced first; recording the load then fails (a source
        # path the database cannot store), inside the same transaction.
        broken_source = types.SimpleNamespace(path=object(), sha256="f" * 64)
        update = pd.DataFrame({"unique_id": "chat", "ds": [START, START + pd.Timedelta(
            hours=2)], "y": [500.0, 7.0]})
        with pytest.raises((duckdb.Error, TypeError, ValueError)):
            store.add_actuals(update, source=broken_source)
        pd.testing.assert_frame_equal(store.actuals(), before)
        assert store.query("SELECT count(*) AS n FROM actuals_loads")["n"].iloc[0] == \
            loads_before
        # The store still works after the failure.
        load = store.add_actuals(update)
        assert (load.new_rows, load.replaced_rows, load.changed_rows) == (1, 1, 1)
    with RunStore(path, read_only=True) as store:
        assert store.actuals()["y"].tolist() == [500.0, 11.0, 7.0]
