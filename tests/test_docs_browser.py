"""The docs pages render in headless Chromium with the network off: their assets are served by the service,
which the browser caches."""

import os
import re
import shutil
from collections import Counter
from pathlib import Path

import pytest

from .conftest import SLUG, missing, render, run, tool
from .servers import server_output, serving

pytestmark = [pytest.mark.browser, pytest.mark.deep]

SCREENSHOTS = Path(os.environ.get("SCREENSHOT_DIR", "build/screenshots"))
# Every host name resolves to nothing except loopback, and no proxy may be discovered: the network is off.
OFFLINE = ["--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1", "--no-proxy-server"]
# The access log's line for each asset the service served.
ASSET_REQUEST = re.compile(r"GET (/docs/assets/[^ ]+) 200")
QUIET = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def chromium(*arguments: str, profile: Path) -> str:
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    if browser is None:
        missing("Chromium", "`apt-get install chromium` (Debian)")
    result = run([browser, *QUIET, *OFFLINE, f"--user-data-dir={profile}", *arguments], timeout=120)
    assert result.returncode == 0, result.stderr[-3000:]
    return result.stdout


@pytest.mark.parametrize("framework", ["fastapi", "flask"])
@pytest.mark.parametrize(("page", "rendered_marker"), [("docs", "opblock-summary-path"), ("redoc", "tag-get")])
def test_docs_page_renders_offline(
    template_source: Path, tmp_path: Path, framework: str, page: str, rendered_marker: str
) -> None:
    project = render(template_source, tmp_path / "project", {"framework": framework, "db_style": "sync"})
    assert run([tool("uv"), "sync", "--quiet"], cwd=project).returncode == 0
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    screenshot = (SCREENSHOTS / f"{framework}-{page}.png").resolve()

    with serving(project, [tool("uv"), "run", "--frozen", SLUG, "serve"], {"LOG_LEVEL": "INFO"}) as base_url:
        wait = ["--virtual-time-budget=15000", "--window-size=1280,1600"]
        # One profile for both loads: the second finds the assets in the browser's cache.
        dom = chromium(*wait, "--dump-dom", f"{base_url}/{page}", profile=tmp_path / "profile")
        chromium(*wait, f"--screenshot={screenshot}", f"{base_url}/{page}", profile=tmp_path / "profile")
    served = Counter(ASSET_REQUEST.findall(server_output(project)))

    assert rendered_marker in dom, f"{page} did not render its operations (screenshot: {screenshot})"
    assert "/items/{item_id}" in dom
    assert screenshot.stat().st_size > 10_000
    assert served, f"{page} loaded no script or style from the service"
    assert set(served.values()) == {1}, f"assets fetched again by the second load, not cached: {served}"
    print(f"screenshot: {screenshot}")
