"""Swagger UI and ReDoc: two small pages, and the scripts and styles they load, served by the service itself.

The assets are the `offapi` package's files (no CDN: the pages work offline). Each asset's URL carries a
digest of its content, so a browser keeps it for a year and fetches it again only once an upgrade of
offapi changes it. They are read on the first request for a page or an asset, not at start-up.

Neither page calls home: Swagger UI has no validator badge (an image from validator.swagger.io), ReDoc
sends no telemetry (to Redocly's tracing endpoint) and draws its maker's name instead of loading its logo
from Redocly's CDN.
"""

import hashlib
from dataclasses import dataclass
from functools import cache
from importlib.util import find_spec
from pathlib import Path
from string import Template
from urllib.parse import quote

ASSETS_PATH = "/docs/assets"
# For a URL that names its content: the same URL always serves the same bytes.
IMMUTABLE = "public, max-age=31536000, immutable"
MEDIA_TYPES = {".css": "text/css; charset=utf-8", ".js": "text/javascript; charset=utf-8"}
OFFAPI_FILES = ("swagger_style.css", "swagger_bundle.js", "swagger_preset.js", "redoc.js")


def _wordmark(text: str, width: int) -> bytes:
    """`text` as an SVG image in a data URL, 12 units high; the page's policy allows data images."""
    svg = (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} 12"><text x="0" y="10" font-size="11"'
        f' font-family="sans-serif" font-weight="bold" fill="#1f7cff" textLength="{width}"'
        f' lengthAdjust="spacingAndGlyphs">{text}</text></svg>'
    )
    return f"data:image/svg+xml,{quote(svg)}".encode()


# ReDoc's sidebar ends with "API docs by" and Redocly's logo, which it loads from Redocly's CDN and has no
# option to leave out: the service serves ReDoc with the name drawn in the page instead.
REDOC_LOGOS = {
    b"https://cdn.redoc.ly/redoc/logo-mini-full.svg": _wordmark("Redocly", width=44),
    b"https://cdn.redoc.ly/redoc/logo-mini.svg": _wordmark("R", width=8),
}

SWAGGER_UI_PAGE = Template("""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Swagger UI</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="$swagger_style">
</head>
<body>
<div id="swagger-ui"></div>
<script src="$swagger_bundle"></script>
<script src="$swagger_preset"></script>
<script>
window.onload = () => {
  window.ui = SwaggerUIBundle({
    url: "$openapi_url",
    dom_id: "#swagger-ui",
    presets: [SwaggerUIBundle.presets.apis, SwaggerUIStandalonePreset],
    layout: "StandaloneLayout",
    validatorUrl: null,
  });
};
</script>
</body>
</html>
""")

REDOC_PAGE = Template("""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>ReDoc</title>
<link rel="icon" href="data:,">
<style>body { margin: 0; padding: 0; }</style>
</head>
<body>
<redoc spec-url="$openapi_url" disable-telemetry="true"></redoc>
<script type="module" src="$redoc"></script>
</body>
</html>
""")


@dataclass(frozen=True)
class Asset:
    url: str
    content: bytes
    media_type: str


def swagger_ui_page(openapi_url: str) -> str:
    return SWAGGER_UI_PAGE.substitute(_asset_urls(), openapi_url=openapi_url)


def redoc_page(openapi_url: str) -> str:
    return REDOC_PAGE.substitute(_asset_urls(), openapi_url=openapi_url)


def find_asset(name: str) -> Asset | None:
    """The asset served at `ASSETS_PATH/name`, if any."""
    return next((asset for asset in _assets().values() if asset.url == f"{ASSETS_PATH}/{name}"), None)


def _asset_urls() -> dict[str, str]:
    return {Path(file).stem: asset.url for file, asset in _assets().items()}


@cache
def _assets() -> dict[str, Asset]:
    """offapi's files by name, each at a URL with a digest of its content (`redoc.1a2b3c4d5e6f7a8b.js`)."""
    directory = _offapi_directory()
    assets = {}
    for file in OFFAPI_FILES:
        content = (directory / file).read_bytes()
        for cdn_url, replacement in REDOC_LOGOS.items():
            content = content.replace(cdn_url, replacement)
        name = f"{Path(file).stem}.{hashlib.sha256(content).hexdigest()[:16]}{Path(file).suffix}"
        assets[file] = Asset(f"{ASSETS_PATH}/{name}", content, MEDIA_TYPES[Path(file).suffix])
    return assets


def _offapi_directory() -> Path:
    """Where offapi's files are. Found, not imported: importing offapi reads every one of them (9 MB)."""
    spec = find_spec("offapi")
    if spec is None or spec.origin is None:
        raise ModuleNotFoundError("offapi is not installed", name="offapi")
    return Path(spec.origin).parent
