"""`staffcast erlang` and `staffcast requirements` through click's CliRunner."""

import json

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from staffcast.cli import main

TEXTBOOK = ["erlang", "--volume", "100", "--interval-s", "1800", "--aht-s", "180",
            "--sl-target", "0.8", "--sl-seconds", "20"]

CONFIG = """\
queues:
  presales:
    opening_hours: "00:00-24:00"
    channel: chat
    aht_s: 240
    concurrency: 2
    sl_target: 0.8
    sl_seconds: 30
    shrinkage: {breaks: 0.1, absence: 0.1}
  aftersales:
    opening_hours: "08:00-20:00"
    aht_s: 300
    sl_target: 0.8
    sl_seconds: 20
    patience_s: 180
    min_agents: 1
forecast:
  volume_quantile: mean
"""


def run(*args):
    return CliRunner().invoke(main, list(args))


def one_error_line(result) -> str:
    assert result.exit_code != 0
    lines = [ln for ln in result.output.splitlines() if ln.strip()]
    assert len(lines) == 1 and lines[0].startswith("Error: "), result.output
    return lines[0]


def test_erlang_json_textbook():
    result = run(*TEXTBOOK, "--json")
    assert result.exit_code == 0, result.output
    got = json.loads(result.output)
    assert set(got) == {"agents", "agents_with_shrinkage", "service_level", "asa_s",
                        "occupancy", "p_wait"}
    assert got["agents"] == 14 and got["agents_with_shrinkage"] == 14
    assert got["service_level"] == pytest.approx(0.8884, abs=1e-4)
    assert got["p_wait"] == pytest.approx(0.1741, abs=1e-4)
    assert got["asa_s"] == pytest.approx(7.84, abs=0.01)
    assert got["occupancy"] == pytest.approx(10 / 14)


def test_erlang_json_with_patience_and_shrinkage():
    result = run(*TEXTBOOK, "--json", "--patience-s", "300", "--shrinkage", "0.3",
                 "--max-occupancy", "0.85")
    assert result.exit_code == 0, result.output
    got = json.loads(result.output)
    assert "abandon_rate" in got and 0 < got["abandon_rate"] < 0.05
    assert got["occupancy"] <= 0.85
    assert got["agents_with_shrinkage"] == int(np.ceil(got["agents"] / 0.7))


def test_erlang_text_output():
    result = run(*TEXTBOOK)
    assert result.exit_code == 0
    assert "agents                14" in result.output
    assert "88.8% within 20 s" in result.output and "17.4%" in result.output


@pytest.mark.parametrize("args,fragment", [
    (["--aht-s", "-3"], "aht_s must be > 0, got -3.0"),
    (["--sl-target", "1.5"], "sl_target must be in (0, 1), got 1.5"),
    (["--max-occupancy", "1.2"], "max_occupancy must be in (0, 1], got 1.2"),
    (["--volume", "nan"], "volume must be a finite number >= 0"),
])
def test_erlang_bad_values(args, fragment):
    # Later options override the textbook ones.
    line = one_error_line(run(*TEXTBOOK, *args))
    assert fragment in line


@pytest.fixture
def forecast_csv(tmp_path):
    ds = pd.date_range("2024-11-11 00:00", periods=24, freq="h")
    rows = []
    for uid, scale in (("presales", 80.0), ("aftersales", 40.0)):
        yhat = scale * (1 + np.sin(np.arange(24) / 24 * 2 * np.pi))
        rows.append(pd.DataFrame({
            "unique_id": uid, "ds": ds, "model": "ets", "yhat": yhat,
            "yhat_lo_80": yhat * 0.8, "yhat_hi_80": yhat * 1.2,
            "yhat_lo_95": yhat * 0.7, "yhat_hi_95": yhat * 1.3}))
    path = tmp_path / "forecast.csv"
    pd.concat(rows).to_csv(path, index=False)
    cfg = tmp_path / "cfg.yaml"
    cfg.write_text(CONFIG)
    return path, cfg


def test_requirements_round_trip(forecast_csv, tmp_path):
    path, cfg = forecast_csv
    out = tmp_path / "out" / "req.csv"
    result = run("requirements", "--forecast", str(path), "--config", str(cfg), "--out", str(out))
    assert result.exit_code == 0, result.output
    req = pd.read_csv(out, parse_dates=["ds"])
    assert len(req) == 2 * 48
    assert {"unique_id", "ds", "volume", "aht_s", "erlangs", "agents_raw", "agents_required",
            "service_level", "asa_s", "occupancy", "abandon_rate", "sl_target"} <= set(req)
    fc = pd.read_csv(path)
    assert req["volume"].sum() == pytest.approx(fc["yhat"].sum())
    after = req[req["unique_id"] == "aftersales"].set_index("ds")
    assert (after.loc["2024-11-11 00:00":"2024-11-11 07:30", "agents_required"] == 0).all()
    assert (after.loc["2024-11-11 08:00":"2024-11-11 19:30", "agents_raw"] >= 1).all()
    pre = req[req["unique_id"] == "presales"]
    assert (pre["agents_required"] >= np.ceil(pre["agents_raw"] / 0.81 - 1e-9)).all()
    assert (tmp_path / "out" / "req.config.yaml").is_file()

    hi = tmp_path / "req80.csv"
    result = run("requirements", "--forecast", str(path), "--config", str(cfg), "--out", str(hi),
                 "--volume-quantile", "80", "--interval-minutes", "60")
    assert result.exit_code == 0, result.output
    req80 = pd.read_csv(hi)
    assert len(req80) == 48
    assert req80["volume"].sum() == pytest.approx(fc["yhat_hi_80"].sum())
    assert req80["agents_raw"].sum() >= req.groupby("unique_id")["agents_raw"].sum().sum() / 2


def test_requirements_bad_inputs(forecast_csv, tmp_path):
    path, cfg = forecast_csv
    out = str(tmp_path / "req.csv")
    fc = pd.read_csv(path)

    fc.drop(columns="yhat_hi_80").to_csv(bad := tmp_path / "nohi.csv", index=False)
    line = one_error_line(run("requirements", "--forecast", str(bad), "--config", str(cfg),
                              "--out", out, "--volume-quantile", "80"))
    assert "nohi.csv: missing column(s) yhat_hi_80 (needed for --volume-quantile 80)" in line

    broken = fc.astype({"yhat": object})
    broken.loc[5, "yhat"] = "lots"
    broken.to_csv(bad := tmp_path / "text.csv", index=False)
    line = one_error_line(run("requirements", "--forecast", str(bad), "--config", str(cfg),
                              "--out", out))
    assert ("text.csv: data row 6 (line 7), column 'yhat': must be a finite number, "
            "got 'lots'") in line

    two = pd.concat([fc, fc.assign(model="prophet")])
    two.to_csv(bad := tmp_path / "two.csv", index=False)
    line = one_error_line(run("requirements", "--forecast", str(bad), "--config", str(cfg),
                              "--out", out))
    assert "several models (ets, prophet)" in line
    ok = run("requirements", "--forecast", str(bad), "--config", str(cfg), "--out", out,
             "--model", "prophet")
    assert ok.exit_code == 0, ok.output

    fc.replace({"unique_id": {"aftersales": "returns"}}).to_csv(bad := tmp_path / "other.csv",
                                                                 index=False)
    line = one_error_line(run("requirements", "--forecast", str(bad), "--config", str(cfg),
                              "--out", out))
    assert "no staffing settings for queue ['returns']" in line and "aftersales, presales" in line

    (bad_cfg := tmp_path / "bad.yaml").write_text(CONFIG.replace("aht_s: 300", "aht_s: -300"))
    line = one_error_line(run("requirements", "--forecast", str(path), "--config", str(bad_cfg),
                              "--out", out))
    assert "queues.aftersales: aht_s must be > 0, got -300.0" in line


def test_example_config_staffs_both_chat_queues():
    from staffcast.config import load_config
    from tests.conftest import ROOT

    cfg = load_config(ROOT / "configs" / "example.yaml")
    for name in ("presales", "aftersales"):
        staffing = cfg.queues[name].staffing
        assert staffing.channel == "chat" and staffing.concurrency > 1
        assert 0 < staffing.total_shrinkage < 0.4
