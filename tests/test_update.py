"""`copier update` keeps a project current, and changes its answers (framework, auth, ci, deploy, database)
while keeping the team's code, edits and stored rows."""

import datetime
import os
import re
import shutil
import sqlite3
import subprocess
import sys
import tomllib
from contextlib import AbstractContextManager
from pathlib import Path

import copier
import httpx
import pytest
import yaml

from .conftest import GIT_IDENTITY, PROJECT_NAME, REPO, SLUG, git, python_for, render, run, tag_release, tool
from .credentials import PASSWORD, sign_in
from .postgres import PostgresServer
from .servers import serving

# A release heading of Keep a Changelog: "## [1.2.0] - 2026-11-23" (or "## [Unreleased]").
RELEASE_HEADING = re.compile(r"^## \[(?P<version>[^\]]+)\](?: - (?P<date>\d{4}-\d{2}-\d{2}))?$", re.MULTILINE)
CHANGE_KINDS = {"Added", "Changed", "Deprecated", "Removed", "Fixed", "Security", "Updating"}
TEAM_CODE = '''

def describe(item: ItemRead) -> str:
    """The team's own domain code, which a framework switch must keep."""
    return f"{item.name} at {item.price}"
'''
TEAM_README_NOTE = "\n\nOwned by the Ada team.\n"
TEAM_TEST = """

def test_the_teams_own_case() -> None:
    assert NEW_ITEM["price"] == 19.5
"""
POOL_TIMEOUT_V1 = "    db_pool_timeout: float = Field(default=10.0, gt=0)\n"
POOL_TIMEOUT_V2 = "    db_pool_timeout: float = Field(default=20.0, gt=0)\n"
POOL_TIMEOUT_TEAM = "    db_pool_timeout: float = Field(default=15.0, gt=0)\n"
RELEASE_README_SECTION = "\n## Support\n\nThe platform team answers questions about {{ project_name }}.\n"
DEPENDENCIES = "dependencies = [\n"
DEPENDENCY_V2 = '    "python-dotenv>=1.0",\n'
DEPENDENCY_TEAM = '    "rich>=13.0",\n'
MIGRATIONS = "_migrations:\n"
RENAME_MIGRATION = """  - version: v2.0.0
    when: "{{ _stage == 'before' }}"
    command:
      - "{{ _copier_python }}"
      - "{{ _copier_conf.src_path / 'hooks' / 'rename_answer.py' }}"
      - author_name
      - maintainer_name
"""
REFRESH = f"uv lock && uv run {SLUG} openapi --output openapi.json"
TEAM_ASYNC_MODULE = '''"""The team's own async code, which a switch to sync leaves for the team to convert."""

from sqlalchemy.ext.asyncio import AsyncSession

from .items.service import list_items


async def count_items(session: AsyncSession, owner_id: int) -> int:
    page = await list_items(session, owner_id=owner_id, page=1, per_page=1)
    return page.total
'''
TEAM_SYNC_MODULE = '''"""The team's own domain module, which every answer change must keep."""

from sqlalchemy.orm import Session

from .items.service import list_items


def count_items(session: Session, owner_id: int) -> int:
    return list_items(session, owner_id=owner_id, page=1, per_page=1).total
'''
TEAM_TEST_FILE = "tests/test_item_descriptions.py"
TEAM_TEST_MODULE = f'''"""The team's own test, of its own domain code, through whichever framework serves the API."""

import httpx2

from {SLUG}.domain.items.schemas import ItemRead
from {SLUG}.domain.items.service import describe


def test_an_item_is_described_by_its_name_and_price(client: httpx2.Client) -> None:
    created = client.post("/items", json={{"name": "Lamp", "price": 19.5}})
    assert describe(ItemRead.model_validate_json(created.content)) == "Lamp at 19.5"
'''
DOMAIN = f"src/{SLUG}/domain"
# The settings every service has, which the team and a release both edit.
SETTINGS = f"src/{SLUG}/settings/core.py"
WEB = f"src/{SLUG}/web"
# What marks a framework in a project (a "trace" of it): a module of it imported by the Python files of src/
# or tests/, or a package of it named in pyproject.toml's dependencies (dev group included) or in uv.lock.
FRAMEWORK_MODULES = {
    "flask": {"flask", "flask_cors", "flask_openapi3", "gunicorn", "werkzeug"},
    "fastapi": {"fastapi", "starlette", "uvicorn"},
}
FRAMEWORK_PACKAGES = {
    "flask": {"flask", "flask-cors", "flask-openapi3", "gunicorn", "types-gunicorn", "werkzeug"},
    "fastapi": {"fastapi", "starlette", "uvicorn", "python-multipart"},
}
PROJECT_CHECKS = (
    ("ruff", "check", "."),
    ("ruff", "format", "--check", "."),
    ("mypy", "src", "tests"),
    ("pytest", "-q", "-p", "no:cacheprovider"),
)


def commit_all(repository: Path, message: str) -> None:
    git(repository, "add", "--all")
    git(repository, "commit", "--quiet", "--message", message)


@pytest.fixture
def released_template(template_source: Path, tmp_path: Path) -> Path:
    """The template as a git repository with a release tag, as users consume it."""
    return tag_release(Path(shutil.copytree(template_source, tmp_path / "template")), "v1.0.0")


def release_v2(repository: Path) -> None:
    """Release v2.0.0 of the template repository: a README section, a changed setting, a new dependency, a new
    file, the `author_name` question renamed `maintainer_name` (with its migration), and a `.env` and
    CHANGELOG.md of its own that the project's must win over."""
    readme = repository / "template" / "README.md.jinja"
    readme.write_text(readme.read_text() + RELEASE_README_SECTION)
    settings = repository / "template" / "src" / "{{project_slug}}" / "settings" / "core.py.jinja"
    settings.write_text(settings.read_text().replace(POOL_TIMEOUT_V1, POOL_TIMEOUT_V2, 1))
    insert_after(repository / "template" / "pyproject.toml.jinja", DEPENDENCIES, DEPENDENCY_V2)
    (repository / "template" / "RUNBOOK.md.jinja").write_text("# Runbook of {{ project_name }}\n")
    (repository / "template" / ".env.jinja").write_text("LOG_LEVEL=INFO\n")
    (repository / "template" / "CHANGELOG.md").write_text("# Changelog\n")
    for renamed in (repository / "copier.yml", repository / "template" / "LICENSE.jinja"):
        renamed.write_text(re.sub(r"\bauthor_name\b", "maintainer_name", renamed.read_text()))
    insert_after(repository / "copier.yml", MIGRATIONS, RENAME_MIGRATION)
    tag_release(repository, "v2.0.0")


def insert_after(path: Path, line: str, text: str) -> None:
    """Insert `text` after the one line `line` of the file."""
    content = path.read_text()
    assert content.count(line) == 1, f"{path.name} has {content.count(line)} lines {line!r}"
    path.write_text(content.replace(line, line + text))


@pytest.fixture
def two_releases(released_template: Path) -> Path:
    """The template repository with releases v1.0.0 (this working tree) and v2.0.0 (see `release_v2`)."""
    release_v2(released_template)
    return released_template


def copy_release(template: Path, project: Path, release: str, **answers: str) -> None:
    """A project generated at `release` and committed, as the post-copy step leaves it."""
    render(f"git+file://{template}", project, answers, vcs_ref=release)
    git(project, "init", "--quiet", "--initial-branch", "main")
    commit_all(project, f"Generated at {release}")


def test_a_new_release_keeps_local_edits_and_shows_collisions_inline(two_releases: Path, tmp_path: Path) -> None:
    project = tmp_path / "service"
    copy_release(two_releases, project, "v1.0.0", author_name="Ada Team")
    domain_items = project / DOMAIN / "items" / "service.py"
    settings = project / SETTINGS
    team_edits = {
        domain_items: domain_items.read_text() + TEAM_CODE,
        project / "README.md": (project / "README.md").read_text().replace("\n", TEAM_README_NOTE, 1),
        project / "tests" / "test_items_api.py": (project / "tests" / "test_items_api.py").read_text() + TEAM_TEST,
        project / "CHANGELOG.md": "# Changelog of the Ada team\n",
    }
    for path, text in team_edits.items():
        path.write_text(text)
    settings.write_text(settings.read_text().replace(POOL_TIMEOUT_V1, POOL_TIMEOUT_TEAM, 1))
    commit_all(project, "The team's edits")
    (project / ".env").write_text("SECRET_KEY=the-teams-own-secret\n")  # git-ignored
    license_text = (project / "LICENSE").read_bytes()

    copier.run_update(project, defaults=True, overwrite=True, unsafe=True, skip_tasks=True, quiet=True)

    for path, text in team_edits.items():
        assert text in path.read_text(), path
    assert (project / ".env").read_text() == "SECRET_KEY=the-teams-own-secret\n"
    assert (project / "LICENSE").read_bytes() == license_text
    assert (
        (project / "README.md").read_text().endswith(RELEASE_README_SECTION.replace("{{ project_name }}", PROJECT_NAME))
    )
    assert (project / "RUNBOOK.md").read_text() == f"# Runbook of {PROJECT_NAME}\n"
    answers = yaml.safe_load((project / ".copier-answers.yml").read_text())
    assert (answers["_commit"], answers.get("maintainer_name"), "author_name" in answers) == (
        "v2.0.0",
        "Ada Team",
        False,
    )
    assert 'authors = [{ name = "Ada Team"' in (project / "pyproject.toml").read_text()
    # The setting both changed is the one conflict, inline, and git lists it as unmerged.
    assert conflict_markers(project) == [SETTINGS]
    assert (
        f"<<<<<<< before updating\n{POOL_TIMEOUT_TEAM}=======\n{POOL_TIMEOUT_V2}>>>>>>> after updating\n"
        in settings.read_text()
    )
    assert git(project, "diff", "--name-only", "--diff-filter=U").split() == [SETTINGS]
    assert git(project, "ls-files", "--others", "--exclude-standard").split() == ["RUNBOOK.md"]
    git(project, "checkout", "--ours", "--", SETTINGS)  # as README says: keep yours
    assert POOL_TIMEOUT_TEAM in settings.read_text()
    assert not conflict_markers(project)


SLUG_LIMIT = "max_slug_length:\n  type: int\n  when: false\n  default: 32\n"


def test_a_slug_longer_than_the_limit_keeps_its_project_through_an_update(
    template_source: Path, tmp_path: Path
) -> None:
    """Slugs are at most 32 characters since v0.2.0. A project made before with a longer one keeps it: were the
    stored answer refused, the default would replace it, and the update would rename the package."""
    long_slug = "acme_inventory_of_the_northern_warehouses"
    template = Path(shutil.copytree(template_source, tmp_path / "template"))
    copier_yml = template / "copier.yml"
    limited = copier_yml.read_text()
    assert limited.count(SLUG_LIMIT) == 1
    copier_yml.write_text(limited.replace(SLUG_LIMIT, SLUG_LIMIT.replace("32", "64")))
    tag_release(template, "v1.0.0")  # before the limit
    copier_yml.write_text(limited)
    tag_release(template, "v2.0.0")
    project = tmp_path / "service"
    copy_release(template, project, "v1.0.0", project_slug=long_slug)

    copier.run_update(project, defaults=True, overwrite=True, unsafe=True, skip_tasks=True, quiet=True)

    answers = yaml.safe_load((project / ".copier-answers.yml").read_text())
    assert (answers["_commit"], answers["project_slug"]) == ("v2.0.0", long_slug)
    assert sorted(path.name for path in (project / "src").iterdir()) == [long_slug]


def test_an_update_that_cannot_run_says_why_and_changes_nothing(two_releases: Path, tmp_path: Path) -> None:
    project = tmp_path / "service"
    copy_release(two_releases, project, "v1.0.0")
    readme = project / "README.md"
    readme.write_text(readme.read_text() + "Work in progress.\n")
    dirty = project_files(project)

    refused = copier_update_command(project)

    assert refused.returncode != 0
    assert "Destination repository is dirty" in refused.stderr
    assert project_files(project) == dirty
    commit_all(project, "Work done")
    clean = project_files(project)

    missing = copier_update_command(project, "--vcs-ref=v9.9.9")

    assert missing.returncode != 0
    assert "v9.9.9" in missing.stderr
    assert project_files(project) == clean
    assert git(project, "status", "--porcelain") == ""


def project_files(project: Path, *paths: str) -> dict[str, bytes]:
    """The project's files as git sees them (committed, or new and not ignored: no `.venv`, no caches), by
    relative path; only those under `paths` when given."""
    listed = git(project, "ls-files", "-z", "--cached", "--others", "--exclude-standard", "--", *paths)
    return {name: (project / name).read_bytes() for name in listed.split("\0") if (project / name).is_file()}


def copier_update_command(
    project: Path, *arguments: str, tasks: bool = False, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """`copier update` as users type it (README), with its post-update step (see `with_uv`) or without."""
    command = [sys.executable, "-m", "copier", "update", "--trust", "--defaults", *arguments]
    if not tasks:
        command.append("--skip-tasks")
    return run(command, cwd=project, env={**os.environ, **GIT_IDENTITY, **(env or {})})


def with_uv() -> dict[str, str]:
    """The environment of a user with uv on PATH and the project's Python (3.13)."""
    return {"PATH": f"{Path(tool('uv')).parent}{os.pathsep}{os.environ['PATH']}", "UV_PYTHON": python_for("3.13")}


def without_uv() -> dict[str, str]:
    """The environment of a user without uv: PATH without the directories that hold one."""
    path = [entry for entry in os.environ["PATH"].split(os.pathsep) if not (Path(entry) / "uv").exists()]
    return {"PATH": os.pathsep.join(path)}


def post_update_lines(update: subprocess.CompletedProcess[str]) -> list[str]:
    """What the post-update step said."""
    return [line for line in update.stderr.splitlines() if line.startswith("post-update: ")]


@pytest.mark.deep
@pytest.mark.parametrize("exported", [False, True], ids=["no-openapi-json-yet", "openapi-json"])
def test_an_update_refreshes_the_lock_and_the_api_document(two_releases: Path, tmp_path: Path, exported: bool) -> None:
    """A project of v1.0.0 without authentication, locked as the post-copy step leaves it, with its openapi.json
    or from before there was one, updated to v2.0.0 (a new dependency) with `-d auth=jwt` (more dependencies,
    new routes): the lock matches pyproject.toml and the project's document test passes, with nothing run by
    hand and nothing committed."""
    project = tmp_path / "service"
    copy_release(two_releases, project, "v1.0.0", auth="none")
    environment = {**os.environ, **with_uv()}
    locked = run([tool("uv"), "lock", "--quiet"], cwd=project, env=environment)
    assert locked.returncode == 0, locked.stderr
    if exported:
        export_openapi(project)
    commit_all(project, "Locked")
    generated = git(project, "rev-parse", "HEAD")

    updated = copier_update_command(project, "--data=auth=jwt", tasks=True, env=with_uv())

    assert updated.returncode == 0, updated.stderr
    assert git(project, "rev-parse", "HEAD") == generated, "the update committed"
    checked = run([tool("uv"), "lock", "--check"], cwd=project, env=environment)
    assert checked.returncode == 0, checked.stderr
    document_test = [tool("uv"), "run", "--frozen", "pytest", "-q", "-p", "no:cacheprovider"]
    tests = run([*document_test, "tests/test_openapi_document.py"], cwd=project, env=environment)
    assert tests.returncode == 0, tests.stdout[-4000:]
    assert post_update_lines(updated) == [
        "post-update: refreshed uv.lock; commit it with the update.",
        f"post-update: {'refreshed' if exported else 'wrote'} openapi.json; commit it with the update.",
    ], updated.stderr


@pytest.mark.parametrize(
    ("case", "expected"),
    [
        (
            "conflict",
            f"post-update: uv.lock and openapi.json not refreshed: resolve pyproject.toml, then run `{REFRESH}`.",
        ),
        (
            "no-uv",
            "post-update: skipped refreshing uv.lock: `uv` is not installed. Install uv"
            f" (https://docs.astral.sh/uv/getting-started/installation/), then run `{REFRESH}`.",
        ),
    ],
)
def test_an_update_that_cannot_refresh_succeeds_and_names_the_command(
    two_releases: Path, tmp_path: Path, case: str, expected: str
) -> None:
    """When the merge left a conflict (here in pyproject.toml, which `uv lock` cannot read) or uv is missing,
    the update still succeeds, and one line says what to run once that is fixed."""
    project = tmp_path / "service"
    copy_release(two_releases, project, "v1.0.0")
    if case == "conflict":
        insert_after(project / "pyproject.toml", DEPENDENCIES, DEPENDENCY_TEAM)
        commit_all(project, "The team's own dependency")
    generated = git(project, "rev-parse", "HEAD")

    updated = copier_update_command(project, tasks=True, env=with_uv() if case == "conflict" else without_uv())

    assert updated.returncode == 0, updated.stderr
    assert post_update_lines(updated) == [expected], updated.stderr
    assert conflict_markers(project) == (["pyproject.toml"] if case == "conflict" else [])
    assert not (project / "uv.lock").exists()
    assert git(project, "rev-parse", "HEAD") == generated, "the update committed"


@pytest.mark.deep
def test_switching_framework_refuses_a_silent_db_style_change_then_keeps_domain_code(
    released_template: Path, tmp_path: Path
) -> None:
    """From the default project (FastAPI, async), `-d framework=flask` alone would turn db_style into sync
    under the team's async code: Copier stops and changes nothing; with `-d db_style=sync` it switches, and
    the type checker points at the team code that must be converted."""
    project = tmp_path / "service"
    copier.run_copy(
        f"git+file://{released_template}",
        project,
        data={"project_name": PROJECT_NAME},
        defaults=True,
        unsafe=True,
        skip_tasks=True,
        quiet=True,
    )
    assert yaml.safe_load((project / ".copier-answers.yml").read_text())["db_style"] == "async"
    git(project, "init", "--quiet", "--initial-branch", "main")
    domain = project / "src" / SLUG / "domain"
    items = domain / "items" / "service.py"
    items.write_text(items.read_text() + TEAM_CODE)
    (domain / "stock_report.py").write_text(TEAM_ASYNC_MODULE)
    export_openapi(project)  # as the post-copy hook does: the FastAPI project's contract is committed
    commit_all(project, "Generated, plus the team's own code")
    before = project_files(project)

    refused = copier_update_command(project, "--data=framework=flask")

    assert refused.returncode != 0
    assert "'framework'" in refused.stderr
    assert "db_style=async" in refused.stderr
    assert "-d framework=flask -d db_style=sync" in refused.stderr
    assert git(project, "status", "--porcelain") == ""
    assert project_files(project) == before

    update(project, framework="flask", db_style="sync")

    answers = yaml.safe_load((project / ".copier-answers.yml").read_text())
    assert (answers["framework"], answers["db_style"]) == ("flask", "sync")
    assert TEAM_CODE in items.read_text()
    assert (domain / "stock_report.py").read_text() == TEAM_ASYNC_MODULE
    assert "from flask" in (project / "src" / SLUG / "web" / "app.py").read_text()
    assert "fastapi" not in (project / "pyproject.toml").read_text()
    synced = run([tool("uv"), "sync", "--quiet"], cwd=project)
    assert synced.returncode == 0, synced.stderr
    typed = run([tool("uv"), "run", "--frozen", "mypy", "src"], cwd=project)
    assert typed.returncode != 0
    flagged = {line.split(":", 1)[0] for line in typed.stdout.splitlines() if ": error:" in line}
    assert flagged == {f"src/{SLUG}/domain/stock_report.py"}, typed.stdout
    tests = run([tool("uv"), "run", "--frozen", "pytest", "-q", "-p", "no:cacheprovider"], cwd=project)
    assert tests.returncode == 0, tests.stdout[-4000:]


def install(project: Path) -> None:
    """Lock and install the project as it now is, and commit the lock file when it changed."""
    synced = run([tool("uv"), "sync", "--quiet"], cwd=project)
    assert synced.returncode == 0, synced.stderr
    if git(project, "status", "--porcelain"):
        commit_all(project, "Lock")


def serve_briefly(project: Path, env: dict[str, str] | None = None) -> AbstractContextManager[str]:
    """Install the project as it now is (see `install`) and serve it in development."""
    install(project)
    return serving(project, [tool("uv"), "run", "--frozen", SLUG, "serve"], {"LOG_LEVEL": "WARNING", **(env or {})})


def stored_items(project: Path) -> list[tuple[str, int | None]]:
    with sqlite3.connect(project / "data" / f"{SLUG}.sqlite3") as database:
        return database.execute("SELECT name, owner_id FROM items ORDER BY id").fetchall()


def update(project: Path, **answers: str) -> None:
    copier.run_update(project, data=answers, defaults=True, overwrite=True, unsafe=True, skip_tasks=True, quiet=True)
    assert not conflict_markers(project), "the update left conflicts"
    commit_all(project, f"Update: {answers}")


@pytest.mark.deep
def test_changing_the_auth_answer_upgrades_the_database_and_keeps_its_rows(
    released_template: Path, tmp_path: Path
) -> None:
    """none -> jwt adds the auth tables beside the items already stored; jwt -> session keeps the accounts."""
    project = tmp_path / "service"
    copier.run_copy(
        f"git+file://{released_template}",
        project,
        data={"project_name": PROJECT_NAME, "auth": "none"},
        defaults=True,
        unsafe=True,
        skip_tasks=True,
        quiet=True,
    )
    git(project, "init", "--quiet", "--initial-branch", "main")
    (project / ".git" / "info" / "exclude").write_text("server.log\n")  # the test server's log, not the team's
    commit_all(project, "Generated without authentication")
    with serve_briefly(project) as base_url:
        for name in ("Lamp", "Desk"):
            assert httpx.post(f"{base_url}/items", json={"name": name, "price": 1}).status_code == 201

    update(project, auth="jwt")
    with serve_briefly(project) as base_url, httpx.Client(base_url=base_url) as client:  # serve migrates first
        assert client.get("/items").status_code == 401
        sign_in(client, "jwt", "ada")
        assert client.get("/items").json()["total"] == 0  # items stored before auth have no owner
    assert stored_items(project) == [("Lamp", None), ("Desk", None)]

    update(project, auth="session")
    with serve_briefly(project) as base_url:
        login = httpx.post(f"{base_url}/auth/login", json={"email": "ada@example.com", "password": PASSWORD})
        assert login.status_code == 200, login.text  # the account made under jwt now signs in to a session
    export_openapi(project)  # the auth routes changed: the README's way to update the committed contract
    tests = run([tool("uv"), "run", "--frozen", "pytest", "-q", "-p", "no:cacheprovider"], cwd=project)
    assert tests.returncode == 0, tests.stdout[-4000:]


@pytest.mark.deep
def test_changing_ci_deploy_framework_and_database_keeps_the_teams_code_and_rows(
    released_template: Path, tmp_path: Path, postgres: PostgresServer
) -> None:
    """One project, edited by its team and holding rows, through a chain of answer changes: ci github ->
    gitlab, deploy compose -> kubernetes, framework flask -> fastapi -> flask, database sqlite -> postgresql.
    Each update brings the new answer's files and removes the old one's; the team's domain code and tests
    stay byte for byte, its edits of the template's files stay, and so do the rows it stored."""
    project = tmp_path / "service"
    answers = {"framework": "flask", "db_style": "sync", "auth": "jwt", "ci": "github", "deploy": "compose"}
    copy_release(released_template, project, "v1.0.0", **answers)
    (project / ".git" / "info" / "exclude").write_text("server.log\n")  # the test server's log, not the team's
    items = project / DOMAIN / "items" / "service.py"
    items.write_text(items.read_text() + TEAM_CODE)
    (project / DOMAIN / "item_counts.py").write_text(TEAM_SYNC_MODULE)
    (project / TEAM_TEST_FILE).write_text(TEAM_TEST_MODULE)
    readme = project / "README.md"
    readme.write_text(readme.read_text().replace("\n", TEAM_README_NOTE, 1))
    settings = project / SETTINGS
    settings.write_text(settings.read_text().replace(POOL_TIMEOUT_V1, POOL_TIMEOUT_TEAM, 1))
    export_openapi(project)  # as the post-copy step does: the contract is committed
    commit_all(project, "The team's edits")
    team_files = project_files(project, DOMAIN, TEAM_TEST_FILE)
    with serve_briefly(project) as base_url, httpx.Client(base_url=base_url) as client:
        sign_in(client, "jwt", "ada")
        for name in ("Lamp", "Desk"):
            assert client.post("/items", json={"name": name, "price": 1}).status_code == 201

    update(project, ci="gitlab")
    assert not (project / ".github").exists(), "the GitHub workflow is left"
    assert (project / ".gitlab-ci.yml").is_file()
    assert_team_work_kept(project, team_files)

    deploy_guide = (project / "DEPLOY.md").read_bytes()
    update(project, deploy="kubernetes")
    assert not (project / "compose.yaml").exists(), "compose.yaml is left"
    assert (project / "k8s" / "base" / "kustomization.yaml").is_file()
    assert (project / "DEPLOY.md").read_bytes() != deploy_guide, "DEPLOY.md still describes Docker Compose"
    assert "compose" not in (project / ".env.example").read_text()
    assert_team_work_kept(project, team_files)
    before_switch = project_files(project)

    update(project, framework="fastapi")  # test_resources.py runs a switched project's checks
    assert_team_work_kept(project, team_files)
    assert_web_layer_is_the_frameworks_alone(project, released_template, tmp_path / "fastapi")

    update(project, framework="flask")
    assert_team_work_kept(project, team_files)
    assert_web_layer_is_the_frameworks_alone(project, released_template, tmp_path / "flask")
    assert changed_files(before_switch, project_files(project)) == [], "flask -> fastapi -> flask changed these"

    sqlite_file = project / "data" / f"{SLUG}.sqlite3"
    stored = sqlite_file.read_bytes()
    update(project, database="postgresql")
    assert sqlite_file.read_bytes() == stored, "the update touched the SQLite file"
    assert [name for name, _ in stored_items(project)] == ["Lamp", "Desk"]
    dependencies = tomllib.loads((project / "pyproject.toml").read_text())["project"]["dependencies"]
    assert "psycopg[binary]>=3.2" in dependencies, dependencies
    assert 'PRODUCTION_DATABASE = "postgresql"' in settings.read_text()
    assert f"# DATABASE_URL=postgresql+psycopg://{SLUG}:" in (project / ".env.example").read_text()
    base = project / "k8s" / "base"
    assert (base / "migrate-job.yaml").is_file(), "k8s does not migrate PostgreSQL before a rollout"
    assert not (base / "pvc.yaml").exists(), "k8s still claims a volume for the SQLite file"
    install(project)
    database_url = postgres.create_database("sync")
    upgrade = [tool("uv"), "run", "--frozen", SLUG, "db", "upgrade"]
    upgraded = run(upgrade, project, env={**os.environ, "DATABASE_URL": database_url})
    assert upgraded.returncode == 0, upgraded.stderr
    with serve_briefly(project, {"DATABASE_URL": database_url}) as base_url, httpx.Client(base_url=base_url) as client:
        sign_in(client, "jwt", "grace")
        assert client.get("/items").json()["total"] == 0  # the rows stay in the SQLite file
    assert_team_work_kept(project, team_files)  # in development the default URL is still the SQLite file
    assert_checks_pass(project, TEST_DATABASE_URL=postgres.create_database("sync"))
    assert git(project, "status", "--porcelain") == ""


def assert_team_work_kept(project: Path, team_files: dict[str, bytes]) -> None:
    """The team's domain code and test byte for byte, its edits of the README and a setting, and the items it
    stored, served to it by the project as it now is."""
    assert changed_files(team_files, project_files(project, DOMAIN, TEAM_TEST_FILE)) == [], "the team's code changed"
    assert TEAM_README_NOTE in (project / "README.md").read_text()
    assert POOL_TIMEOUT_TEAM in (project / SETTINGS).read_text()
    with serve_briefly(project) as base_url, httpx.Client(base_url=base_url) as client:
        token = client.post("/auth/token", data={"username": "ada@example.com", "password": PASSWORD})
        assert token.status_code == 200, token.text
        client.headers["Authorization"] = f"Bearer {token.json()['access_token']}"
        assert [item["name"] for item in client.get("/items").json()["items"]] == ["Desk", "Lamp"]


def assert_web_layer_is_the_frameworks_alone(project: Path, template: Path, fresh: Path) -> None:
    """The web layer and the template's tests are those of a project generated today with the project's
    answers, and no trace of the other framework is left (see FRAMEWORK_MODULES)."""
    answers = yaml.safe_load((project / ".copier-answers.yml").read_text())
    copy_release(template, fresh, "v1.0.0", **{key: value for key, value in answers.items() if key[0] != "_"})
    assert changed_files(project_files(fresh, WEB), project_files(project, WEB)) == []
    tests = project_files(project, "tests")
    del tests[TEAM_TEST_FILE]
    assert changed_files(project_files(fresh, "tests"), tests) == []
    framework = answers["framework"]
    (other,) = FRAMEWORK_MODULES.keys() - {framework}
    imported, packages = imported_modules(project), required_packages(project)
    assert framework in imported, f"the project does not import {framework}"
    assert framework in packages, f"the project does not require {framework}"
    assert not FRAMEWORK_MODULES[other] & imported, f"{other} is still imported"
    assert not FRAMEWORK_PACKAGES[other] & packages, f"{other} is still required or locked"


def changed_files(before: dict[str, bytes], after: dict[str, bytes]) -> list[str]:
    """The files added, removed or changed from `before` to `after` (see `project_files`)."""
    return sorted(name for name in before.keys() | after.keys() if before.get(name) != after.get(name))


# Parsed by the project's own Python: its code may use a grammar newer than this one's (type parameters, 3.12).
LIST_IMPORTS = """
import ast, sys
for path in sys.argv[1:]:
    for node in ast.walk(ast.parse(open(path, "rb").read(), path)):
        if isinstance(node, ast.Import):
            print(*(alias.name.split(".")[0] for alias in node.names))
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            print(node.module.split(".")[0])
"""


def imported_modules(project: Path) -> set[str]:
    """The top-level modules that the Python files of src/ and tests/ import."""
    sources = [name for name in project_files(project, "src", "tests") if name.endswith(".py")]
    listed = run([tool("uv"), "run", "--frozen", "python", "-c", LIST_IMPORTS, *sources], cwd=project)
    assert listed.returncode == 0, listed.stderr
    return set(listed.stdout.split())


def required_packages(project: Path) -> set[str]:
    """The packages that pyproject.toml requires (dependency groups included) and uv.lock locks."""
    pyproject = tomllib.loads((project / "pyproject.toml").read_text())
    requirements = pyproject["project"]["dependencies"] + [
        requirement for group in pyproject["dependency-groups"].values() for requirement in group
    ]
    locked = tomllib.loads((project / "uv.lock").read_text())["package"]
    return {re.split(r"[\[<>=~!; ]", requirement, maxsplit=1)[0] for requirement in requirements} | {
        package["name"] for package in locked
    }


def assert_checks_pass(project: Path, **env: str) -> None:
    """The project's own lint, format check, type check and tests, as its CI runs them."""
    for check in PROJECT_CHECKS:
        result = run([tool("uv"), "run", "--frozen", *check], project, env={**os.environ, **env})
        assert result.returncode == 0, f"`{' '.join(check)}` failed:\n{result.stdout[-4000:]}{result.stderr[-2000:]}"


def export_openapi(project: Path) -> None:
    exported = run([tool("uv"), "run", SLUG, "openapi", "--output", "openapi.json"], cwd=project)
    assert exported.returncode == 0, exported.stderr


def conflict_markers(project: Path) -> list[str]:
    """Files where Copier left an inline conflict (its default mode writes markers, never `.rej` files)."""
    grep = run(["git", "grep", "--untracked", "--files-with-matches", "-E", "^(<<<<<<<|>>>>>>>) "], cwd=project)
    return grep.stdout.split()


def test_the_newest_changelog_release_is_the_version_in_pyproject() -> None:
    """CHANGELOG.md follows Keep a Changelog: an Unreleased section, then releases newest first, each dated,
    saying what changed and what `copier update` does to a project."""
    changelog = (REPO / "CHANGELOG.md").read_text()
    headings = list(RELEASE_HEADING.finditer(changelog))
    assert headings, "CHANGELOG.md has no release heading"
    assert headings[0]["version"] == "Unreleased"
    releases = headings[1:]
    assert releases, "CHANGELOG.md has no release yet"
    version = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["version"]
    assert releases[0]["version"] == version
    assert all(re.fullmatch(r"\d+\.\d+\.\d+", release["version"]) for release in releases)
    versions = [tuple(map(int, release["version"].split("."))) for release in releases]
    assert versions == sorted(versions, reverse=True), "releases are not newest first"
    dates = [datetime.date.fromisoformat(release["date"]) for release in releases]
    assert dates == sorted(dates, reverse=True)
    for release, following in zip(releases, [*releases[1:], None], strict=True):
        body = changelog[release.end() : following.start() if following else None]
        kinds = set(re.findall(r"^### (.+)$", body, re.MULTILINE))
        assert kinds <= CHANGE_KINDS, f"{release['version']}: unknown sections {kinds - CHANGE_KINDS}"
        assert "Updating" in kinds, f"{release['version']} does not say what `copier update` changes"
