"""The clients users generate from the OpenAPI document work against either framework.

A typed Python client (openapi-python-client) generated from one framework's document drives the other
framework's service through sign-up, tokens, the item lifecycle and its errors; TypeScript types
(openapi-typescript) generated from the document compile with a small program that uses them. The
services are the parity test's, for the jwt answer: its routes and security scheme are in the document too.
"""

import importlib
import os
import shutil
import sys
from pathlib import Path
from types import ModuleType

import httpx
import pytest

from . import test_parity
from .conftest import missing, run, tool
from .credentials import PASSWORD
from .test_parity import Services

# The parity test's fixtures: both projects, installed, and both services, each with a signed-in client.
identity_provider, projects, servers = test_parity.identity_provider, test_parity.projects, test_parity.servers

pytestmark = [
    pytest.mark.deep,
    pytest.mark.xdist_group("clients"),
    pytest.mark.parametrize("projects", ["jwt"], indirect=True),
    pytest.mark.parametrize("servers", ["no-cors"], indirect=True),
]

# Releases that run on Node 20.
NPM_PACKAGES = ["openapi-typescript@7.13.0", "typescript@5.9.3"]

TYPESCRIPT_USAGE = """\
import type { components, operations, paths } from "./schema";

type NewItem = components["schemas"]["ItemCreate"];
type Item = components["schemas"]["ItemRead"];
type Page = paths["/items"]["get"]["responses"][200]["content"]["application/json"];
type NotFound = operations["get_item"]["responses"][404]["content"]["application/problem+json"];
type Tokens = operations["issue_token"]["responses"][200]["content"]["application/json"];
type PageQuery = operations["list_items"]["parameters"]["query"];

export const lamp: NewItem = { name: "Lamp", description: null, price: 19.5 };
// @ts-expect-error: an item needs a name
export const nameless: NewItem = { price: 1 };
export const query: PageQuery = { page: 2, per_page: 50 };
export const names = (page: Page): string[] => page.items.map((item: Item) => item.name);
export const missing: NotFound = { type: "about:blank", title: "Not Found", status: 404, detail: "No such item." };
export const bearer = (tokens: Tokens): string => `Bearer ${tokens.access_token}`;
"""


def served_document(servers: Services, framework: str) -> bytes:
    response = httpx.get(f"{servers.base_urls[framework]}/openapi.json", timeout=30)
    assert response.status_code == 200, response.text
    return response.content


def generate_python_client(document: bytes, package: str, directory: Path) -> ModuleType:
    """openapi-python-client's package for `document`, imported as `package`."""
    (directory / "openapi.json").write_bytes(document)
    (directory / "config.yaml").write_text(f"project_name_override: {package}\npackage_name_override: {package}\n")
    command = [tool("openapi-python-client"), "generate", "--path", "openapi.json", "--config", "config.yaml"]
    command += ["--meta", "none", "--output-path", package]
    # It formats the client with ruff, which must be on PATH: the one beside it.
    env = {**os.environ, "PATH": f"{Path(tool('ruff')).parent}{os.pathsep}{os.environ['PATH']}"}
    generated = run(command, cwd=directory, env=env)
    assert generated.returncode == 0, generated.stdout + generated.stderr
    sys.path.insert(0, str(directory))
    return importlib.import_module(package)


@pytest.mark.parametrize(("documented_by", "served_by"), [("flask", "fastapi"), ("fastapi", "flask")])
def test_python_client_of_one_framework_drives_the_other(
    servers: Services, tmp_path: Path, documented_by: str, served_by: str
) -> None:
    package = f"{documented_by}_client"
    client_package = generate_python_client(served_document(servers, documented_by), package, tmp_path)
    models = importlib.import_module(f"{package}.models")

    def operation(tag: str, name: str) -> ModuleType:
        return importlib.import_module(f"{package}.api.{tag}.{name}")

    register_user, issue_token, refresh_token = (
        operation("auth", name) for name in ("register_user", "issue_token", "refresh_token")
    )
    get_current_user = operation("users", "get_current_user")
    list_items, create_item, get_item, update_item, delete_item = (
        operation("items", name) for name in ("list_items", "create_item", "get_item", "update_item", "delete_item")
    )
    base_url = servers.base_urls[served_by]
    email = f"{package}@example.com"

    anonymous = client_package.Client(base_url=base_url, raise_on_unexpected_status=True)
    registered = register_user.sync_detailed(client=anonymous, body=models.UserCreate(email=email, password=PASSWORD))
    assert registered.status_code == 201, registered.content
    assert registered.parsed.email == email
    first = issue_token.sync(client=anonymous, body=models.TokenForm(username=email, password=PASSWORD))
    assert isinstance(first, models.TokenPair), first
    tokens = refresh_token.sync(client=anonymous, body=models.RefreshRequest(refresh_token=first.refresh_token))
    assert isinstance(tokens, models.TokenPair), tokens
    refused = list_items.sync_detailed(client=anonymous)
    assert (refused.status_code, type(refused.parsed)) == (401, models.Problem)

    client = client_package.AuthenticatedClient(base_url=base_url, token=tokens.access_token)
    assert get_current_user.sync(client=client).email == email
    created = create_item.sync_detailed(client=client, body=models.ItemCreate(name="Lamp", price=19.5))
    assert created.status_code == 201, created.content
    item = created.parsed
    assert created.headers["location"] == f"/items/{item.id}"
    page = list_items.sync(client=client, page=1, per_page=10)
    assert ([found.id for found in page.items], page.total) == ([item.id], 1)
    assert get_item.sync(client=client, item_id=item.id).to_dict() == item.to_dict()
    updated = update_item.sync(client=client, item_id=item.id, body=models.ItemUpdate(name="Desk lamp"))
    assert (updated.name, updated.price, updated.description) == ("Desk lamp", item.price, item.description)

    invalid = create_item.sync_detailed(client=client, body=models.ItemCreate(name="", price=-1))
    assert (invalid.status_code, type(invalid.parsed)) == (422, models.ValidationProblem), invalid.content
    assert {tuple(error.loc) for error in invalid.parsed.errors} == {("body", "name"), ("body", "price")}
    out_of_range = list_items.sync_detailed(client=client, per_page=1000)
    assert (out_of_range.status_code, type(out_of_range.parsed)) == (422, models.ValidationProblem)
    missing = get_item.sync_detailed(client=client, item_id=item.id + 1000)
    assert (missing.status_code, missing.parsed.status) == (404, 404), missing.content

    assert delete_item.sync_detailed(client=client, item_id=item.id).status_code == 204
    assert get_item.sync_detailed(client=client, item_id=item.id).status_code == 404
    assert delete_item.sync_detailed(client=client, item_id=item.id).status_code == 404


@pytest.fixture(scope="module")
def npm_tools(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """openapi-typescript and tsc, installed from the npm registry into a directory of the test run."""
    npm = shutil.which("npm")
    if npm is None:
        missing("npm (with Node 20 or newer)", "`apt-get install nodejs npm` (Debian)")
    prefix = tmp_path_factory.mktemp("npm")
    installed = run([npm, "install", "--prefix", prefix, "--no-audit", "--no-fund", "--silent", *NPM_PACKAGES])
    assert installed.returncode == 0, installed.stdout + installed.stderr
    return prefix / "node_modules" / ".bin"


def test_typescript_types_compile(servers: Services, npm_tools: Path, tmp_path: Path) -> None:
    (tmp_path / "openapi.json").write_bytes(served_document(servers, "fastapi"))
    generated = run([npm_tools / "openapi-typescript", "openapi.json", "--output", "schema.ts"], cwd=tmp_path)
    assert generated.returncode == 0, generated.stdout + generated.stderr
    (tmp_path / "usage.ts").write_text(TYPESCRIPT_USAGE)

    options = ["--noEmit", "--strict", "--target", "es2022", "--module", "esnext", "--moduleResolution", "bundler"]
    compiled = run([npm_tools / "tsc", *options, "usage.ts"], cwd=tmp_path)

    assert compiled.returncode == 0, compiled.stdout + compiled.stderr
