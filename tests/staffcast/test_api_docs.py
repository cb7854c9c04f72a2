"""The API reference page, the README's Python quick-start and the typed-package marker."""

import re
import runpy
import shutil
import tomllib
from pathlib import Path

import pandas as pd

from tests.staffcast.shop import SMALL_SHOP_CONFIG, write_small_shop

ROOT = Path(__file__).resolve().parents[2]


def _gen_api():
    return runpy.run_path(str(ROOT / "docs" / "gen_api.py"))


def test_committed_api_page_is_the_generated_one():
    gen = _gen_api()
    assert (ROOT / "docs" / "api.md").read_text(encoding="utf-8") == gen["render"](), (
        "docs/api.md is out of date: run python docs/gen_api.py")


def test_api_page_documents_every_name_with_its_signature():
    text = _gen_api()["render"]()
    import staffcast

    for name in staffcast.API:
        assert f"## `staffcast.{name}`" in text or f"## `{name}`" in text, name
    assert "plan(config: ConfigLike, history: pd.DataFrame, calendar: Any = None, *" in text
    assert "### `Plan.write`" in text and "(no docstring)" not in text


def quick_start() -> str:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme[readme.index("## From Python"):]
    return re.search(r"```python\n(.*?)```", section, re.S).group(1)


def test_readme_quick_start_runs_verbatim_to_a_plan(tmp_path, monkeypatch):
    """The README's lines, unchanged, on the small shop laid out at the example's paths
    (the real example forecasts two years with Prophet/ARIMA: too slow for a test)."""
    code = quick_start()
    assert len([line for line in code.splitlines() if line.strip()]) <= 7
    (tmp_path / "shop").mkdir()
    shop = write_small_shop(tmp_path / "shop", SMALL_SHOP_CONFIG)
    (tmp_path / "configs").mkdir()
    (tmp_path / "examples" / "data").mkdir(parents=True)
    shutil.copy(shop / "config.yaml", tmp_path / "configs" / "example.yaml")
    shutil.copy(shop / "history.csv", tmp_path / "examples" / "data" / "history.csv")
    (tmp_path / "examples" / "data" / "calendar.csv").write_text(
        "event,start,end,kind\npromo,2026-11-11,2026-11-11,promotion\n")
    monkeypatch.chdir(tmp_path)
    namespace: dict = {}
    exec(compile(code, "README.md", "exec"), namespace)  # noqa: S102
    plan = namespace["plan"]
    assert plan.has_plan and plan.summary["week_start"] == "2026-11-09"
    out = tmp_path / "out" / "python-demo"
    cov = pd.read_csv(out / "coverage.csv")
    assert cov["scheduled"].sum() == plan.coverage["scheduled"].sum() > 0
    assert (cov["scheduled"] + cov["shortfall"] >= cov["required"] - 1e-9).all()


def test_py_typed_ships_in_the_package():
    assert (ROOT / "staffcast" / "py.typed").is_file()
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    assert "py.typed" in config["tool"]["setuptools"]["package-data"]["staffcast"]
