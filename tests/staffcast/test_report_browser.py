"""The report in a real headless Chromium (Debian's package): it loads without console
errors or network requests, and every chart draws.

`make test` installs Chromium when it can; these tests skip only when /usr/bin/chromium is
absent. Never `playwright install`: the browser is the system one.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from staffcast.report import write_report
from tests.staffcast.test_report import CHART_IDS, write_whatif

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu",
                 "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]

pytestmark = pytest.mark.skipif(
    not CHROMIUM.is_file(),
    reason=f"{CHROMIUM} not found: install Debian's chromium (`make test` tries "
           "`apt-get install chromium`) to run the report's browser tests")


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as driver:
        chromium = driver.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture(scope="module")
def report_file(tmp_path_factory) -> Path:
    folder = write_whatif(tmp_path_factory.mktemp("whatif") / "out")
    out = folder / "report.html"
    write_report(folder, out)
    return out


def _open(browser, path: Path, width: int = 1366, height: int = 800):
    """Open `path` at a laptop-sized viewport; return (page, console errors, remote URLs)."""
    page = browser.new_page(viewport={"width": width, "height": height})
    errors: list[str] = []
    remote: list[str] = []
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    # The page must need nothing from the network: record and refuse any such request.
    page.route("**/*", lambda route: (remote.append(route.request.url), route.abort())
               if not route.request.url.startswith(("file:", "data:", "blob:"))
               else route.continue_())
    page.goto(path.as_uri(), wait_until="load")
    page.wait_for_function(
        "n => document.querySelectorAll('.plotly-graph-div .main-svg').length >= n",
        arg=len(CHART_IDS) + 1, timeout=20_000)
    return page, errors, remote


def test_page_loads_without_errors_and_every_chart_renders(browser, report_file):
    page, errors, remote = _open(browser, report_file)
    try:
        charts = page.evaluate("""() => [...document.querySelectorAll('div.plotly-graph-div')]
            .map(d => ({id: d.id, svg: d.querySelectorAll('.plot-container .main-svg').length,
                        traces: d.querySelectorAll('.trace, .hm, .bars .point').length,
                        width: d.getBoundingClientRect().width}))""")
        widest = page.evaluate("document.querySelector('main').getBoundingClientRect().width")
    finally:
        page.close()
    assert errors == []
    assert remote == []
    assert [c["id"] for c in charts] == ["chart-comparison", *CHART_IDS]
    for chart in charts:
        assert chart["svg"] >= 1, chart
        assert chart["traces"] >= 1, chart
        assert 600 < chart["width"] <= 1200, chart
    assert widest <= 1200


def test_screenshot_is_written(browser, report_file, tmp_path):
    page, errors, _ = _open(browser, report_file)
    shot = tmp_path / "report.png"
    try:
        page.screenshot(path=str(shot), full_page=True)
    finally:
        page.close()
    assert errors == []
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert shot.stat().st_size > 100_000
