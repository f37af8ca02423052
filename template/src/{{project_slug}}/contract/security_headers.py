"""The security headers of every response, the same bytes whichever framework serves them.

The API answers JSON only, so its policy allows nothing to load and no page to frame it. The docs pages
set their own, looser policy (`docs_policy`): their scripts and styles come from the service itself
(see api_docs.py), plus one inline script, allowed by its hash.
"""

import base64
import hashlib
import re
from collections.abc import Mapping

CONTENT_SECURITY_POLICY = "Content-Security-Policy"
API_POLICY = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
# Browsers that reached the service over HTTPS keep to HTTPS for a year (they ignore it over plain HTTP).
STRICT_TRANSPORT_SECURITY = "max-age=31536000; includeSubDomains"

_INLINE_SCRIPT = re.compile(r"<script(?![^>]*\ssrc=)[^>]*>(.*?)</script>", re.DOTALL)


def security_headers(*, production: bool) -> Mapping[str, str]:
    """Added to every response that has not set its own (the docs pages set their policy)."""
    headers = {
        "X-Content-Type-Options": "nosniff",
        "X-Frame-Options": "DENY",
        CONTENT_SECURITY_POLICY: API_POLICY,
        "Referrer-Policy": "no-referrer",
        "Cross-Origin-Opener-Policy": "same-origin",
    }
    if production:
        headers["Strict-Transport-Security"] = STRICT_TRANSPORT_SECURITY
    return headers


def docs_policy(page: str) -> str:
    """The policy of a docs page: the service's own scripts and the page's inline one (by hash), inline
    styles (Swagger UI and ReDoc add them as they render), images and fonts from data URLs, ReDoc's worker,
    and requests to the service."""
    scripts = " ".join(
        ["'self'"]
        + [
            f"'sha256-{base64.b64encode(hashlib.sha256(script.encode()).digest()).decode()}'"
            for script in _INLINE_SCRIPT.findall(page)
        ]
    )
    return (
        f"default-src 'none'; script-src {scripts}; style-src 'self' 'unsafe-inline'; img-src 'self' data:;"
        " font-src 'self' data:; connect-src 'self'; worker-src blob:; frame-ancestors 'none';"
        " base-uri 'none'; form-action 'none'"
    )
