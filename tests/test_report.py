"""`newsflow report` opened in a real browser (Debian's headless Chromium) with no network."""

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

NEWSFLOW = Path(sys.executable).with_name("newsflow")
# Debian's chromium package: never a browser that Playwright would download.
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHARTS = {
    "chart-monthly",
    "chart-entities",
    "chart-commenters",
    "chart-comention",
    "chart-stories",
    "chart-repeated",
    "chart-quality",
}
# Per chart: its id, the data points its traces hold, and the points drawn in the page
# (a bar or a marker each).
DRAWN = """() => [...document.querySelectorAll('.js-plotly-plot')].map(chart => [
    chart.id,
    chart.data.reduce((sum, trace) => sum + (trace.x || []).length, 0),
    chart.querySelectorAll('.point').length,
])"""


@pytest.fixture
def report(mart_warehouse: Path, tmp_path: Path) -> Path:
    output = tmp_path / "out" / "report.html"
    done = subprocess.run(
        [str(NEWSFLOW), "report", "--warehouse", str(mart_warehouse), "--output", str(output)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return output


def test_the_report_draws_every_chart_offline_in_chromium(report: Path, tmp_path: Path):
    from playwright.sync_api import sync_playwright

    assert Path(CHROMIUM).exists(), "install Debian's chromium: apt-get install -y chromium"
    requests: list[str] = []
    errors: list[str] = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM)
        context = browser.new_context(offline=True, viewport={"width": 1200, "height": 900})
        page = context.new_page()
        page.on("request", lambda request: requests.append(request.url))
        page.on("pageerror", lambda error: errors.append(str(error)))
        page.on("console", lambda message: message.type == "error" and errors.append(message.text))
        page.goto(report.as_uri())
        page.wait_for_load_state("load")
        screenshot = page.screenshot(path=tmp_path / "report.png", full_page=True)
        drawn = page.evaluate(DRAWN)
        browser.close()

    assert requests == [report.as_uri()]  # no script, style or font came from anywhere else
    assert len(screenshot) > 50_000
    assert errors == []
    assert {chart for chart, _, _ in drawn} == CHARTS
    for chart, points, shown in drawn:
        assert points > 0, chart
        assert shown == points, chart
    by_chart = {chart: points for chart, points, _ in drawn}
    # The fixture crawl: 3 crawl months (one "no month") x pages and comments; 5 entities
    # named x text and comments; 3 commenters; 7 pairs named in the same article; stories
    # of 1 and of 2 copies; 1 repeated text; 2 runs x rules broken and files set aside.
    assert by_chart == {
        "chart-monthly": 6,
        "chart-entities": 10,
        "chart-commenters": 3,
        "chart-comention": 7,
        "chart-stories": 2,
        "chart-repeated": 1,
        "chart-quality": 4,
    }


def test_the_report_is_one_file_with_nothing_to_fetch(report: Path):
    text = report.read_text(encoding="utf-8")

    assert "<script src" not in text
    assert "<link" not in text
    assert "@import" not in text
    # The quality section shows the rules' plain notes (what the Data Docs would).
    assert "Article text holds no site chrome." in text


def test_the_report_of_a_missing_warehouse_fails_in_one_line(tmp_path: Path):
    done = subprocess.run(
        [str(NEWSFLOW), "report", "--warehouse", str(tmp_path / "none.duckdb")],
        capture_output=True,
        text=True,
        check=False,
    )

    assert done.returncode == 1
    assert done.stderr.strip().startswith("newsflow: no warehouse at")
    assert len(done.stderr.strip().splitlines()) == 1


def test_a_warehouse_without_rows_gets_a_report_without_charts(tmp_path: Path):
    import duckdb

    from flows.report import read, render
    from flows.upgrade import upgrade

    empty = tmp_path / "empty.duckdb"
    with duckdb.connect(str(empty)) as con:
        upgrade(con)

    page = render(read(empty), empty)

    assert page.count("No data yet.") == len(CHARTS)
    assert 'id="chart-' not in page
