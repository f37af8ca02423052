"""The docs pages render in headless Chromium with the network off, and ask nothing of any other origin:
their assets are served by the service, which the browser caches, and neither page calls home (Swagger UI's
validator badge, ReDoc's telemetry and its logo)."""

import json
import os
import re
import shutil
from collections import Counter
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import BrowserContext, ConsoleMessage, Page, WebError, sync_playwright

from .conftest import PROJECT_NAME, SLUG, missing, render, run, tool
from .servers import server_output, serving

pytestmark = [pytest.mark.browser, pytest.mark.deep]

SCREENSHOTS = Path(os.environ.get("SCREENSHOT_DIR", "build/screenshots"))
# The browser reaches the service by a host name, as users reach a deployment: Swagger UI shows its validator
# badge (an image from validator.swagger.io) only for a document off localhost.
HOST = "api.test"
# ReDoc's telemetry leaves every few seconds: a page is watched this long once its network is idle.
WATCH_MS = 10_000
# An operation of the API, which each page lists.
OPERATION = "/items/{item_id}"
# URLs of what the page holds itself: no request leaves the browser for them.
LOCAL_SCHEMES = ("data", "blob")
# The access log's line for each asset the service served.
ASSET_REQUEST = re.compile(r"GET (/docs/assets/[^ ]+) 200")
QUIET = [
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def offline(origin: str) -> list[str]:
    """Chromium's arguments for a network with the service alone on it: its host name resolves to it, every
    other to nothing, and no proxy may be discovered. Its origin counts as secure, as over HTTPS."""
    return [
        f"--host-resolver-rules=MAP {HOST} 127.0.0.1, MAP * ~NOTFOUND",
        "--no-proxy-server",
        f"--unsafely-treat-insecure-origin-as-secure={origin}",
    ]


def load(context: BrowserContext, url: str) -> Page:
    """A new page of `context` at `url`, once it lists the operations (ReDoc renders after the network is idle)."""
    page = context.new_page()
    page.goto(url, wait_until="networkidle")
    page.get_by_text(OPERATION).first.wait_for()
    return page


def origin_of(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


@pytest.mark.parametrize("framework", ["fastapi", "flask"])
@pytest.mark.parametrize(("page", "rendered_marker"), [("docs", "opblock-summary-path"), ("redoc", "tag-get")])
def test_docs_page_renders_offline(
    template_source: Path, tmp_path: Path, framework: str, page: str, rendered_marker: str
) -> None:
    browser_path = shutil.which("chromium") or shutil.which("chromium-browser")
    if browser_path is None:
        missing("Chromium", "`apt-get install chromium` (Debian)")
    project = render(template_source, tmp_path / "project", {"framework": framework, "db_style": "sync"})
    assert run([tool("uv"), "sync", "--quiet"], cwd=project).returncode == 0
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    screenshot = (SCREENSHOTS / f"{framework}-{page}.png").resolve()
    requests: list[str] = []
    errors: list[str] = []

    def console(message: ConsoleMessage) -> None:
        if message.type == "error":
            errors.append(message.text)

    def uncaught(error: WebError) -> None:
        errors.append(str(error.error))

    with (
        serving(project, [tool("uv"), "run", "--frozen", SLUG, "serve"], {"LOG_LEVEL": "INFO"}) as base_url,
        sync_playwright() as playwright,
    ):
        origin = base_url.replace("127.0.0.1", HOST)
        browser = playwright.chromium.launch(executable_path=browser_path, args=[*QUIET, *offline(origin)])
        context = browser.new_context(viewport={"width": 1280, "height": 1600})
        context.on("request", lambda request: requests.append(request.url))
        context.on("console", console)
        context.on("weberror", uncaught)
        first = load(context, f"{origin}/{page}")
        first.wait_for_timeout(WATCH_MS)
        first.screenshot(path=screenshot)
        dom = first.content()
        title_visible = first.get_by_role("heading", name=re.compile(PROJECT_NAME)).first.is_visible()
        # A second load in the same browser finds the assets in its cache.
        load(context, f"{origin}/{page}")
        browser.close()
    served = Counter(ASSET_REQUEST.findall(server_output(project)))
    elsewhere = [url for url in requests if urlsplit(url).scheme not in LOCAL_SCHEMES and origin_of(url) != origin]

    assert elsewhere == [], f"{page} made requests to other origins than the service's"
    assert errors == [], f"{page} logged errors"
    assert title_visible, f"{page} does not show the API's title (screenshot: {screenshot})"
    assert rendered_marker in dom, f"{page} did not render its operations (screenshot: {screenshot})"
    assert served, f"{page} loaded no script or style from the service"
    assert set(served.values()) == {1}, f"assets fetched again by the second load, not cached: {served}"
    print(f"screenshot: {screenshot}")


def test_try_it_out_starts_from_the_documented_example(template_source: Path, tmp_path: Path) -> None:
    """Swagger UI fills "Try it out" in from the schema's example; without one, it makes a body up from the
    constraints (a random string for a pattern, the largest amount). The documents of both frameworks are the
    same bytes (test_parity.py): one framework shows it."""
    browser_path = shutil.which("chromium") or shutil.which("chromium-browser")
    if browser_path is None:
        missing("Chromium", "`apt-get install chromium` (Debian)")
    project = render(template_source, tmp_path / "project", {"framework": "fastapi", "db_style": "sync"})
    assert run([tool("uv"), "sync", "--quiet"], cwd=project).returncode == 0

    with (
        serving(project, [tool("uv"), "run", "--frozen", SLUG, "serve"], {}) as base_url,
        sync_playwright() as playwright,
    ):
        origin = base_url.replace("127.0.0.1", HOST)
        browser = playwright.chromium.launch(executable_path=browser_path, args=[*QUIET, *offline(origin)])
        page = load(browser.new_context(), f"{origin}/docs")
        operation = page.locator("#operations-items-create_item")
        operation.click()
        operation.get_by_role("button", name="Try it out").click()
        body = json.loads(operation.locator("textarea.body-param__text").input_value())
        browser.close()

    assert body == {
        "name": "Desk lamp",
        "description": "Adjustable LED desk lamp with a warm-white light and a USB charging port.",
        "price": 34.9,
    }
