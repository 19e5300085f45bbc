"""The admin's chart pages in a real browser: Playwright driving Debian's chromium
against the live test server (pytest-django's live_server).

Each page must load without a console error and draw its charts (canvas pixels
that are not background, read back with getImageData); a screenshot of each is
written to var/screenshots/ to look at. Without chromium (or Playwright) the tests
skip, saying so; with CI=true they fail instead.
"""

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.test import Client

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
ROOT = Path(__file__).resolve().parent.parent
SCREENSHOTS = ROOT / "var" / "screenshots"
IN_CI = os.environ.get("CI", "").lower() == "true"
CHROMIUM_ARGS = [
    "--no-sandbox",  # root in CI containers
    "--headless",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
]
# Pixels of a chart's canvases that differ from the top-left (background) one.
DRAWN_PIXELS = """(selector) => {
  let drawn = 0;
  for (const canvas of document.querySelectorAll(selector + ' canvas')) {
    if (!canvas.width || !canvas.height) continue;
    const pixels = canvas.getContext('2d')
      .getImageData(0, 0, canvas.width, canvas.height).data;
    for (let i = 0; i < pixels.length; i += 4) {
      if (pixels[i] !== pixels[0] || pixels[i + 1] !== pixels[1]
          || pixels[i + 2] !== pixels[2] || pixels[i + 3] !== pixels[3]) drawn++;
    }
  }
  return drawn;
}"""


def unavailable(reason: str) -> None:
    if IN_CI:
        pytest.fail(f"CI=true but the browser tests cannot run: {reason}")
    pytest.skip(reason)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    executable = shutil.which("chromium") or shutil.which("chromium-browser")
    if executable is None:
        unavailable("chromium is not installed (apt-get install chromium)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        unavailable("playwright is not installed (requirements-dev.txt)")
    # Playwright's sync API runs an event loop in this thread; Django's database
    # calls of the tests' own set-up would refuse to run next to it.
    saved = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    try:
        with sync_playwright() as playwright:
            chromium = playwright.chromium.launch(
                executable_path=executable, args=CHROMIUM_ARGS
            )
            yield chromium
            chromium.close()
    finally:
        if saved is None:
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = saved


@pytest.fixture
def demo(django_user_model, settings) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    """The quick start's demo data (pips of BTC/USDT in dollars, as .env.example
    has it) and a superuser."""
    settings.PIP_SIZES = {"BTC/USDT": "1"}
    call_command("seed_demo", verbosity=0)
    admin = django_user_model.objects.create_superuser(
        username="root", password="pw-root-1", email="root@example.com"
    )
    return {"admin": admin, "demo": django_user_model.objects.get(username="demo")}


@pytest.fixture
def admin_page(browser, live_server, demo) -> Iterator[Any]:  # type: ignore[no-untyped-def]
    """A page logged in as the superuser that records console errors."""
    client = Client()
    client.force_login(demo["admin"])
    context = browser.new_context(
        base_url=live_server.url, viewport={"width": 1400, "height": 1000}
    )
    host = live_server.url.split("//", 1)[1].split(":", 1)[0]
    cookie = client.cookies["sessionid"].value
    context.add_cookies(
        [{"name": "sessionid", "value": cookie, "domain": host, "path": "/"}]
    )
    # The browser asks for /favicon.ico by itself; the app has none (not a page error).
    context.route("**/favicon.ico", lambda route: route.fulfill(status=204))
    page = context.new_page()
    page.errors = []
    page.on(
        "console",
        lambda message: message.type == "error" and page.errors.append(message.text),
    )
    page.on("pageerror", lambda error: page.errors.append(str(error)))
    yield page
    context.close()


def check_drawn(page: Any, name: str, *charts: str) -> Path:
    """Every chart has drawn, no console error; the screenshot's path."""
    for chart in charts:
        page.wait_for_function(f"({DRAWN_PIXELS})('{chart}') > 500", timeout=15000)
        assert page.evaluate(DRAWN_PIXELS, chart) > 500, chart
    # Nothing wider than the window (a chart must follow its box).
    assert page.evaluate(
        "document.documentElement.scrollWidth <= document.documentElement.clientWidth"
    )
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    assert page.errors == [], page.errors
    return path


def test_signal_change_page_draws_the_signal_on_its_candles(admin_page):
    from signals.models import Signal

    signal = Signal.objects.filter(outcome="win").order_by("timestamp").first()
    response = admin_page.goto(f"/admin/signals/signal/{signal.pk}/change/")
    assert response.status == 200
    check_drawn(admin_page, "signal-change", "#signal-chart")
    legend = admin_page.inner_text("#signal-chart-legend")
    assert "MAE" in legend and "MFE" in legend and "win" in legend


def test_performance_page_draws_calibration_and_cumulative_pips(admin_page):
    response = admin_page.goto("/admin/signals/signal/performance/?timeframe=1h")
    assert response.status == 200
    check_drawn(admin_page, "signal-performance", "#calibration-chart", "#pips-chart")
    assert admin_page.inner_text("#figure-brier") not in ("", "–")


def test_journal_charts_draw_equity_drawdown_and_r_multiples(admin_page, demo):
    response = admin_page.goto(
        f"/admin/journal/journalentry/charts/?owner={demo['demo'].pk}"
    )
    assert response.status == 200
    check_drawn(
        admin_page, "journal-charts", "#equity-chart", "#drawdown-chart", "#r-chart"
    )
