"""The team's own resources and routes, as a new project gets them: one command adds a resource in every
layer, whose contract tests pass; a route written the framework's own way serves and is documented, and the
project's tests say where its shared name goes; resources and the team's rules survive a change of framework.

Each project is generated as a user generates one (`copier copy --trust`, from a tagged release of this
template), so that `resource add` can run `copier update` against it.
"""

import json
import os
import re
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from .combinations import Answers
from .conftest import GIT_IDENTITY, PROJECT_NAME, SLUG, copy_template, git, python_for, run, tag_release, tool
from .servers import serving

pytestmark = pytest.mark.deep

# A resource with a field of every type, one of them a reference to the example's items.
PROJECTS = [
    "projects",
    "title:string:100",
    "summary:text?",
    "budget:decimal",
    "headcount:integer",
    "active:boolean?",
    "due_at:datetime?",
    "item_id:reference:items?",
]
PYTHON_BLOCK = re.compile(r"^```python\n(.*?)^```", re.MULTILINE | re.DOTALL)
MARKDOWN_BLOCK = re.compile(r"^```markdown\n(.*?)^```", re.MULTILINE | re.DOTALL)


@pytest.fixture
def release(tmp_path: Path) -> Path:
    return tag_release(copy_template(tmp_path / "template"), "v1.0.0")


@pytest.fixture
def environment() -> dict[str, str]:
    """A user's shell: uv on PATH, a git identity, the project's Python."""
    path = f"{Path(tool('uv')).parent}{os.pathsep}{os.environ['PATH']}"
    return {**os.environ, **GIT_IDENTITY, "PATH": path, "UV_PYTHON": python_for("3.13")}


def generate(release: Path, project: Path, answers: Answers, environment: dict[str, str]) -> Path:
    data = [f"--data={name}={value}" for name, value in {"project_name": PROJECT_NAME, **answers}.items()]
    copied = run([tool("copier"), "copy", "--trust", "--defaults", *data, str(release), str(project)], env=environment)
    assert copied.returncode == 0, copied.stderr
    assert not git(project, "status", "--porcelain"), "the first commit holds the whole project"
    return project


def must(project: Path, environment: dict[str, str], *command: str) -> str:
    result = run([tool("uv"), "run", *command], cwd=project, env=environment)
    assert result.returncode == 0, f"`{' '.join(command)}` failed:\n{result.stdout[-5000:]}\n{result.stderr[-3000:]}"
    return result.stdout + result.stderr


def checks_pass(project: Path, environment: dict[str, str]) -> None:
    must(project, environment, "ruff", "check", ".")
    must(project, environment, "ruff", "format", "--check", ".")
    must(project, environment, "mypy", "src", "tests")
    must(project, environment, "pytest", "-q", "-p", "no:cacheprovider")


def commit(project: Path, message: str) -> None:
    git(project, "add", "--all")
    git(project, "commit", "--quiet", "--message", message)


@pytest.mark.parametrize(
    "answers",
    [
        {"framework": "fastapi", "db_style": "async", "database": "sqlite", "auth": "jwt"},
        # FastAPI with the sync style, and session auth, add resources in the change of framework below.
        {"framework": "flask", "db_style": "sync", "database": "postgresql", "auth": "none"},
    ],
    ids=lambda answers: "-".join(answers.values()),
)
def test_one_command_adds_a_resource_whose_contract_tests_pass(
    release: Path,
    tmp_path: Path,
    environment: dict[str, str],
    database_for: Callable[[Answers], str | None],
    answers: Answers,
) -> None:
    project = generate(release, tmp_path / "project", answers, environment)
    environment["TEST_DATABASE_URL"] = database_for(answers) or ""

    output = must(project, environment, SLUG, "resource", "add", *PROJECTS)

    migration = next((project / "src" / SLUG / "db" / "migrations" / "versions").glob("*_create_projects.py"))
    assert migration.name in output
    assert "projects" in [tag["name"] for tag in json.loads((project / "openapi.json").read_text())["tags"]]
    assert (project / "tests" / "test_projects_api.py").is_file()
    checks_pass(project, environment)


def test_bad_input_writes_nothing_and_says_why(release: Path, tmp_path: Path, environment: dict[str, str]) -> None:
    project = generate(release, tmp_path / "project", {"framework": "fastapi"}, environment)

    refused = {
        "a taken name": ["items", "title:string:10"],
        "an SQL word": ["select", "--singular", "selection", "total:decimal"],
        "an unknown type": ["projects", "title:money"],
        "a reference to nothing": ["projects", "owner_ref_id:reference:customers"],
    }
    for case, arguments in refused.items():
        result = run([tool("uv"), "run", SLUG, "resource", "add", *arguments], cwd=project, env=environment)
        assert result.returncode != 0, case
        assert "Traceback" not in result.stderr, f"{case}: {result.stderr}"
        assert "nothing changed" in result.stderr or "the type is one of" in result.stderr, result.stderr
        assert not git(project, "status", "--porcelain"), f"{case}: the tree changed"
    (project / "scratch.txt").write_text("not committed")
    dirty = run([tool("uv"), "run", SLUG, "resource", "add", *PROJECTS], cwd=project, env=environment)
    assert dirty.returncode != 0
    assert "uncommitted changes" in dirty.stderr


@pytest.mark.parametrize("framework", ["fastapi", "flask"])
def test_a_route_written_the_frameworks_way_serves_and_the_tests_name_its_operation(
    release: Path, tmp_path: Path, environment: dict[str, str], framework: str
) -> None:
    """The generated README's own example, replayed: the route, then its shared name and words."""
    project = generate(release, tmp_path / "project", {"framework": framework, "auth": "none"}, environment)
    section = (project / "README.md").read_text().split("## Add your own resource\n", 1)[1].split("\n## ", 1)[0]
    _column, route, words = PYTHON_BLOCK.findall(section)
    (row,) = MARKDOWN_BLOCK.findall(section)
    (project / "src" / SLUG / "web" / "routes" / "greetings.py").write_text(route)

    with serving(project, [tool("uv"), "run", SLUG, "serve"], env=environment) as url:
        greeting = httpx.get(f"{url}/greetings/Ada")
        head = httpx.head(f"{url}/greetings/Ada")
        document = httpx.get(f"{url}/openapi.json").json()
        docs = httpx.get(f"{url}/docs")
    assert (greeting.status_code, greeting.json()) == (200, {"greeting": "Hello, Ada!"})
    assert (head.status_code, head.content) == (200, b"")
    assert document["paths"]["/greetings/{name}"]["get"]["operationId"] == "greet"
    assert docs.status_code == 200

    failed = run([tool("uv"), "run", "pytest", "-q", "-p", "no:cacheprovider"], cwd=project, env=environment)
    assert failed.returncode == 1
    assert "GET /greetings/{name} (`greet`): give each its operation id" in failed.stdout
    assert f"src/{SLUG}/contract/operations.py" in failed.stdout

    with (project / "src" / SLUG / "contract" / "operations.py").open("a") as operations:
        operations.write(f"\n{words}")
    reference = (project / "docs" / "API.md").read_text()
    endpoints = reference.index("## Endpoints")
    table_end = reference.index("\n\n", reference.index("\n|", endpoints))
    (project / "docs" / "API.md").write_text(f"{reference[:table_end]}\n{row.rstrip()}{reference[table_end:]}")
    must(project, environment, SLUG, "openapi", "--output", "openapi.json")
    checks_pass(project, environment)


TEAM_RULE = '''

def total_of(orders: list[OrderRead]) -> int:
    """The team's own rule, which no change of framework touches."""
    return sum(order.quantity for order in orders)
'''
TEAM_TEST = '''"""The team's own test of its rule."""

from acme_inventory.domain.orders.schemas import OrderRead
from acme_inventory.domain.orders.service import total_of


def test_the_total_adds_the_quantities() -> None:
    assert total_of([]) == 0
    assert OrderRead.__name__ == "OrderRead"
'''
FLASK_ROUTE = """from flask import Blueprint

blueprint = Blueprint("greetings", __name__)
"""


def test_resources_and_rules_survive_a_change_of_framework_and_back(
    release: Path, tmp_path: Path, environment: dict[str, str]
) -> None:
    answers = {"framework": "flask", "db_style": "sync", "auth": "session"}
    project = generate(release, tmp_path / "project", answers, environment)
    must(project, environment, SLUG, "resource", "add", "customers", "full_name:string:80", "vip:boolean?")
    commit(project, "Add customers")
    orders = ["orders", "customer_id:reference:customers", "quantity:integer", "note:text?"]
    must(project, environment, SLUG, "resource", "add", *orders)
    service = project / "src" / SLUG / "domain" / "orders" / "service.py"
    service.write_text(service.read_text() + TEAM_RULE)
    (project / "tests" / "test_team_rules.py").write_text(TEAM_TEST)
    (project / "src" / SLUG / "web" / "routes" / "greetings.py").write_text(FLASK_ROUTE)
    commit(project, "Add orders, the team's rule, and a route of its own")
    flask_document = (project / "openapi.json").read_bytes()
    domain = {path: path.read_bytes() for path in (project / "src" / SLUG / "domain").rglob("*.py")}

    switched = run(
        [tool("copier"), "update", "--trust", "--defaults", "--data=framework=fastapi"], cwd=project, env=environment
    )

    assert switched.returncode == 0, switched.stderr
    assert "web/routes/greetings.py is written for the framework this project no longer runs" in switched.stderr
    refused = run([tool("uv"), "run", SLUG, "openapi"], cwd=project, env=environment)
    assert "greetings.py is written for Flask, and this project runs FastAPI" in refused.stderr
    (project / "src" / SLUG / "web" / "routes" / "greetings.py").unlink()
    must(project, environment, SLUG, "openapi", "--output", "openapi.json")
    assert git(project, "diff", "--name-only", "--diff-filter=U") == ""
    assert {path: path.read_bytes() for path in (project / "src" / SLUG / "domain").rglob("*.py")} == domain
    assert (project / "openapi.json").read_bytes() == flask_document, "the same document from FastAPI"
    assert "fastapi" in (project / "src" / SLUG / "web" / "routes" / "orders.py").read_text()
    checks_pass(project, environment)
    commit(project, "Switch to FastAPI")

    back = run(
        [tool("copier"), "update", "--trust", "--defaults", "--data=framework=flask"], cwd=project, env=environment
    )

    assert back.returncode == 0, back.stderr
    assert git(project, "diff", "--name-only", "--diff-filter=U") == ""
    assert (project / "openapi.json").read_bytes() == flask_document
    assert {path: path.read_bytes() for path in (project / "src" / SLUG / "domain").rglob("*.py")} == domain
    checks_pass(project, environment)
