"""Signing in to a running generated service, as a client of each `auth` answer does it.

The fake identity provider is the one the generated oidc projects test with (a file of the template, loaded
from there), so that the template's tests and the projects' tests fake the same provider.
"""

import importlib.machinery
import importlib.util
import os
import re
import sys
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any

import httpx

from .conftest import REPO, SLUG, run, tool

PASSWORD = "correct horse battery"
WRONG_PASSWORD = "incorrect mule battery"
IDENTITY_PROVIDER_FILE = REPO / "template" / "tests" / "{% if auth == 'oidc' %}identity_provider.py{% endif %}"
SESSION_COOKIE = re.compile(r"session=([^;]+)")

# Makes an API key named after its argument, with the project's command line, and returns it.
IssueApiKey = Callable[[str], str]


def identity_provider_module() -> ModuleType:
    """The template's fake identity provider (`serve_identity_provider()`, `provider.token(subject)`)."""
    name = "template_identity_provider"
    if name not in sys.modules:
        # The file's name is a Copier template's, not a module's: give it a loader by hand.
        loader = importlib.machinery.SourceFileLoader(name, str(IDENTITY_PROVIDER_FILE))
        module = importlib.util.module_from_spec(importlib.util.spec_from_loader(name, loader))
        sys.modules[name] = module
        loader.exec_module(module)
    return sys.modules[name]


def issue_api_key(project: Path, name: str, env: dict[str, str]) -> str:
    """A key made with the project's own command line, as its README says: the last line it prints."""
    command = [tool("uv"), "run", "--frozen", SLUG, "api-keys", "create", name]
    created = run(command, cwd=project, env={**os.environ, **env})
    assert created.returncode == 0, created.stderr
    return created.stdout.strip().splitlines()[-1]


def sign_in(
    client: httpx.Client,
    auth: str,
    name: str = "alice",
    *,
    issue_api_key: IssueApiKey | None = None,
    identity_provider: Any = None,
) -> dict[str, str]:
    """Make `client` send the credentials of a new principal called `name` with every request; return the
    secrets it got (`access_token`, `refresh_token`, `session`, `csrf_token` or `api_key`)."""
    secrets: dict[str, str] = {}
    if auth in ("jwt", "session"):
        email = f"{name}@example.com"
        registered = client.post("/auth/register", json={"email": email, "password": PASSWORD})
        assert registered.status_code == 201, registered.text
    if auth == "jwt":
        token = client.post("/auth/token", data={"username": email, "password": PASSWORD})
        assert token.status_code == 200, token.text
        secrets = {key: token.json()[key] for key in ("access_token", "refresh_token")}
        client.headers["Authorization"] = f"Bearer {secrets['access_token']}"
    elif auth == "session":
        login = client.post("/auth/login", json={"email": email, "password": PASSWORD})
        assert login.status_code == 200, login.text
        cookie = SESSION_COOKIE.match(login.headers["set-cookie"])
        assert cookie, login.headers["set-cookie"]
        secrets = {"session": cookie.group(1), "csrf_token": login.json()["csrf_token"]}
        # The cookie is Secure outside development: an http client keeps it only when told to.
        client.headers["Cookie"] = f"session={secrets['session']}"
        client.headers["X-CSRF-Token"] = secrets["csrf_token"]
    elif auth == "api_key":
        assert issue_api_key is not None, "api_key needs a way to make a key"
        secrets = {"api_key": issue_api_key(name)}
        client.headers["X-API-Key"] = secrets["api_key"]
    elif auth == "oidc":
        assert identity_provider is not None, "oidc needs an identity provider"
        secrets = {"access_token": identity_provider.token(name, email=f"{name}@example.com", name=name.title())}
        client.headers["Authorization"] = f"Bearer {secrets['access_token']}"
    elif auth != "none":
        raise ValueError(f"unknown auth answer {auth!r}")
    return secrets


def fail_to_sign_in(client: httpx.Client, auth: str) -> str:
    """Send a wrong password as `auth` (jwt or session) takes one, and return it: it is refused with a 401."""
    email = "mallory@example.com"
    if auth == "jwt":
        refused = client.post("/auth/token", data={"username": email, "password": WRONG_PASSWORD})
    else:
        refused = client.post("/auth/login", json={"email": email, "password": WRONG_PASSWORD})
    assert refused.status_code == 401, refused.text
    return WRONG_PASSWORD
