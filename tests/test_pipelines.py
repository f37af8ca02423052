"""What a generated project's pipeline and deployment run, run here (marker `docker`).

The CI's docker and publish jobs, on a push to the default branch: for every ci x database pair, the jobs'
own commands, read from the rendered .github/workflows/ci.yml or .gitlab-ci.yml, run here as the CI service
runs them: GitHub's steps on this machine with bash, as on GitHub's runner; GitLab's script in a job
container that reaches the Docker daemon only through DOCKER_HOST, as GitLab's job reaches its docker:dind
service (no shared filesystem, no shared localhost). The docker job builds the image and runs the project's
scripts/smoke-test.sh, which starts it the way production does (on PostgreSQL, migrated first) and waits for
/health/ready, then saves it for the publish job, which loads it and pushes it with scripts/publish-image.sh
to a real registry on loopback (Debian's docker-registry): the organisation's registry of a container_registry
answer or the CI platform's own (GitLab's $CI_REGISTRY_IMAGE; ghcr.io is out of reach here), with and
without a login. The registry must then hold the very image the docker job tested, under the commit's tag.
So a pipeline that would fail on its first push fails here first. The other jobs (ruff, mypy, pytest) are
`uv run` commands that test_generated_projects.py runs for a set of answers holding every ci x database
pair; test_deployment.py checks that the CI files run nothing else, and when the publish job runs.

Compose: a SQLite and a PostgreSQL project are brought up with Docker Compose as DEPLOY.md says (here
Debian's docker-compose, v1), serve a signed-in client, run DEPLOY.md's backup command and come down.

The tests of one image's answers take turns (file locks, whichever xdist worker runs them), so each image
is built once from scratch and the later builds of the same answers come from Docker's layer cache.
"""

import fcntl
import json
import os
import re
import shutil
import subprocess
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from .combinations import Answers
from .conftest import SLUG, missing, render, run
from .credentials import sign_in
from .ports import free_port, listening_processes
from .publishing import GITHUB_PUSH_TO_MAIN, GITLAB_PUSH_TO_DEFAULT_BRANCH
from .servers import answers_ok
from .test_docker import docker, earlier_stages, lock, must, uv_stand_in
from .test_docker import docker_ready as docker_ready  # the fixture: Docker up, base-image stand-ins built

pytestmark = pytest.mark.docker

NAME = SLUG.replace("_", "-")
# The answers of each database: one image per answer set (auth changes the dependencies, so the image).
PIPELINES: dict[str, Answers] = {
    "github-sqlite": {"ci": "github", "database": "sqlite", "auth": "none"},
    "gitlab-sqlite": {"ci": "gitlab", "database": "sqlite", "auth": "oidc"},  # the OIDC settings the service needs
    "github-postgresql": {"ci": "github", "database": "postgresql", "auth": "jwt"},
    "gitlab-postgresql": {"ci": "gitlab", "database": "postgresql", "auth": "jwt"},
}
# Where each pipeline publishes: to the organisation's registry (a container_registry answer) or to the CI
# platform's own, on a registry that takes anyone's push or one account's login. Together: every way the
# publish job runs, but ghcr.io's (out of reach here: test_deployment.py checks its token and permissions).
PUBLISH: dict[str, tuple[bool, str]] = {  # pipeline: (container_registry answered, registry)
    "github-sqlite": (True, "open"),  # no secrets: no login
    "github-postgresql": (True, "login"),  # the secrets REGISTRY_USERNAME and REGISTRY_PASSWORD
    "gitlab-sqlite": (False, "login"),  # $CI_REGISTRY_IMAGE, with the job's $CI_REGISTRY_USER and _PASSWORD
    "gitlab-postgresql": (True, "login"),  # the CI/CD variables REGISTRY_USERNAME and REGISTRY_PASSWORD
}
COMPOSE: dict[str, Answers] = {
    "sqlite": {"database": "sqlite", "auth": "none", "deploy": "compose"},
    "postgresql": {"database": "postgresql", "auth": "jwt", "deploy": "compose"},
}
JOB_CONTAINER_IMAGE = "python:3.13-slim"  # any image with a POSIX shell: GitLab's docker:28 is Alpine's
DIND_SOCKET = "/run/dind/docker.sock"  # where the job container reaches the daemon: not the default socket
Compose = Callable[..., subprocess.CompletedProcess[str]]  # docker-compose with the project's options


@pytest.fixture(scope="session")
def built_images() -> Iterator[list[str]]:
    """Images to remove when this worker is done, tags and the untagged build stages Docker's legacy builder
    leaves: at the end, not after each test, so that later builds of the same answers find them in the cache."""
    images: list[str] = []
    yield images
    with exclusive("images"):  # no build of another worker is using them as its cache right now
        for image in [image for image in images if ":" in image] + [image for image in images if ":" not in image]:
            docker("image", "rm", *(["--force"] if ":" in image else []), image)


@contextmanager
def exclusive(name: str, *, shared: bool = False) -> Iterator[None]:
    """One test at a time on this machine, across xdist workers, for this name (or, shared, any number of
    them, but none while one holds it exclusively)."""
    with Path(f"/tmp/template-test-{name}.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_SH if shared else fcntl.LOCK_EX)
        yield


@contextmanager
def building(answers: Answers) -> Iterator[None]:
    """A build of these answers' image: one at a time (the next one comes from the cache), and never while
    another worker removes the images it is done with (a build whose cached layer vanishes fails)."""
    with exclusive(image_of(answers)), exclusive("images", shared=True):
        yield


def image_of(answers: Answers) -> str:
    """A name for the image these answers build (ci and deploy do not change it)."""
    return "image-" + "-".join(f"{answers.get(key, 'default')}" for key in ("framework", "database", "auth"))


def prepared(template_source: Path, destination: Path, answers: Answers) -> tuple[Path, str]:
    """A rendered and locked project, ready for `docker build` on this machine, and a note on the uv image."""
    project = render(template_source, destination, answers)
    lock(project)
    return project, uv_stand_in((project / "Dockerfile").read_text())


def failure(result: subprocess.CompletedProcess[str], what: str) -> str:
    return f"{what} failed ({result.returncode}):\n{result.stdout[-6000:]}\n{result.stderr[-6000:]}"


# The registries the publish job pushes to ---------------------------------------------------------------------

REGISTRY = "/usr/bin/docker-registry"  # Debian's docker-registry: the CNCF distribution registry, 2.8
MANIFEST_TYPES = "application/vnd.docker.distribution.manifest.v2+json, application/vnd.oci.image.manifest.v1+json"


@dataclass(frozen=True)
class Registry:
    """A registry on loopback, which Docker reaches over plain HTTP without being told (127.0.0.0/8 is an
    insecure registry by default)."""

    address: str
    credentials: tuple[str, str] | None  # its one account, or None: anyone may push

    def get(self, path: str, **headers: str) -> httpx.Response:
        return httpx.get(f"http://{self.address}/v2/{path}", headers=headers, auth=self.credentials, timeout=10)


@pytest.fixture(scope="session")
def registries(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Registry]]:
    """This worker's registries: "open" takes anyone's push, "login" one account's (bcrypt htpasswd)."""
    if not Path(REGISTRY).exists():
        missing("Debian's docker-registry", "`apt-get install docker-registry` (Debian)")
    htpasswd = shutil.which("htpasswd") or missing("htpasswd", "`apt-get install apache2-utils` (Debian)")
    directory = tmp_path_factory.mktemp("registries")
    account = ("publisher", uuid.uuid4().hex)
    (directory / "htpasswd").write_text(must(run([htpasswd, "-Bbn", *account]), "htpasswd") + "\n")
    with ExitStack() as servers:
        yield {
            "open": servers.enter_context(registry_server(directory / "open", None)),
            "login": servers.enter_context(registry_server(directory / "login", account)),
        }


@contextmanager
def registry_server(directory: Path, account: tuple[str, str] | None) -> Iterator[Registry]:
    """`docker-registry serve` with a configuration of its own (not the system service's), until the end."""
    directory.mkdir()
    port = free_port()
    config = f"version: 0.1\nstorage:\n  filesystem:\n    rootdirectory: {directory / 'storage'}\n"
    config += f"http:\n  addr: 127.0.0.1:{port}\n"
    if account is not None:
        config += f"auth:\n  htpasswd:\n    realm: template-test\n    path: {directory.parent / 'htpasswd'}\n"
    (directory / "config.yml").write_text(config)
    registry = Registry(f"127.0.0.1:{port}", account)
    with (directory / "registry.log").open("w") as log:
        process = subprocess.Popen([REGISTRY, "serve", directory / "config.yml"], stdout=log, stderr=log)
        try:
            deadline = time.monotonic() + 30
            while process.pid not in listening_processes(port):  # ours, not another server's that took the port
                assert process.poll() is None, (directory / "registry.log").read_text()
                assert time.monotonic() < deadline, (directory / "registry.log").read_text()
                time.sleep(0.2)
            yield registry
        finally:
            process.terminate()
            process.wait(timeout=30)


# The CI's docker and publish jobs ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Platform:
    """What the CI service gives a job of a push to the default branch, beside the CI file's own settings."""

    commit: str  # the commit's SHA (here the image's tag)
    registry_image: str  # the platform's own registry: GitLab's project repository ($CI_REGISTRY_IMAGE)...
    registry_account: tuple[str, str] | None  # ...and the job's account there ($CI_REGISTRY_USER, _PASSWORD)
    settings: dict[str, str]  # the repository's secrets (GitHub) or CI/CD variables (GitLab)

    def with_wrong_password(self) -> "Platform":
        settings = self.settings | ({"REGISTRY_PASSWORD": "wrong"} if "REGISTRY_PASSWORD" in self.settings else {})
        account = (self.registry_account[0], "wrong") if self.registry_account else None
        return Platform(self.commit, self.registry_image, account, settings)


def github_job(project: Path, name: str, platform: Platform) -> subprocess.CompletedProcess[str]:
    """A job of .github/workflows/ci.yml on a push to main: its `run` steps, in order, with bash as GitHub runs
    them. Every job runs in the project directory here, so an artifact is handed over where it was written."""
    workflow = yaml.safe_load((project / ".github" / "workflows" / "ci.yml").read_text())
    job = workflow["jobs"][name]
    assert job.get("if", GITHUB_PUSH_TO_MAIN) == GITHUB_PUSH_TO_MAIN, "the test runs the jobs of a push to main"
    repository = "acme/inventory"
    context = {"github.actor": "acme-bot", "github.repository": repository}
    context |= {f"secrets.{secret}": value for secret, value in platform.settings.items()}
    environment = {**os.environ, **github_expressions(workflow.get("env", {}) | job.get("env", {}), context)}
    environment |= {"CI": "true", "GITHUB_ACTIONS": "true", "GITHUB_SHA": platform.commit}
    environment |= {"GITHUB_WORKSPACE": str(project), "GITHUB_REPOSITORY": repository}
    result = subprocess.CompletedProcess[str]([], 0, "", "")
    stdout = stderr = ""
    for step in job["steps"]:
        assert step.get("if", GITHUB_PUSH_TO_MAIN) == GITHUB_PUSH_TO_MAIN, "the test runs the steps of a push to main"
        if "uses" in step:
            action = step["uses"].split("@")[0]
            assert action in HANDED_OVER, f"the test cannot run the action {step['uses']}"
            continue  # the project is here already, and so is what an earlier job wrote
        assert step.get("shell", "bash") == "bash", f"the test runs steps with bash: {step}"
        result = run(
            ["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", step["run"]],
            cwd=project,
            env={**environment, **github_expressions(step.get("env", {}), context)},
            timeout=job["timeout-minutes"] * 60,
        )
        stdout, stderr = stdout + result.stdout, stderr + result.stderr
        if result.returncode != 0:
            break
    return subprocess.CompletedProcess(result.args, result.returncode, stdout, stderr)


HANDED_OVER = {"actions/checkout", "actions/upload-artifact", "actions/download-artifact"}


def github_expressions(environment: dict[str, str], context: dict[str, str]) -> dict[str, str]:
    """`${{ name }}` in the values, as GitHub evaluates them (an unset secret is empty)."""

    def value(match: re.Match[str]) -> str:
        name = match.group(1)
        return context.get(name, "") if name.startswith("secrets.") else context[name]

    return {key: re.sub(r"\$\{\{\s*([\w.]+)\s*\}\}", value, text) for key, text in environment.items()}


def gitlab_job(project: Path, name: str, platform: Platform) -> subprocess.CompletedProcess[str]:
    """A job of .gitlab-ci.yml on a push to the default branch: its script, in a job container whose Docker
    client reaches the daemon through DOCKER_HOST only, as GitLab's docker:28 job reaches its docker:28-dind
    service. The project directory is the job's, so an artifact is handed over where it was written."""
    pipeline = yaml.safe_load((project / ".gitlab-ci.yml").read_text())
    job = extended(pipeline, name)
    assert job.get("rules", [{"if": GITLAB_PUSH_TO_DEFAULT_BRANCH}]) == [{"if": GITLAB_PUSH_TO_DEFAULT_BRANCH}], (
        "the test runs the jobs of a push to the default branch"
    )
    assert [service if isinstance(service, str) else service["name"] for service in job["services"]] == [
        f"docker:{job['image'].split(':')[1]}-dind"
    ], "the job runs its client against a docker:dind service of the same version"
    client = shutil.which("docker")
    assert client is not None
    workdir = f"/builds/{NAME}"
    predefined = {"CI": "true", "CI_COMMIT_SHA": platform.commit, "CI_PROJECT_DIR": workdir}
    predefined |= {"CI_REGISTRY_IMAGE": platform.registry_image}
    user, password = platform.registry_account or ("gitlab-ci-token", "unused")
    predefined |= {"CI_REGISTRY_USER": user, "CI_REGISTRY_PASSWORD": password}
    # The file's variables may name predefined ones; the project's CI/CD variables take precedence over both.
    defined = {key: gitlab_expanded(str(value), predefined) for key, value in job.get("variables", {}).items()}
    variables = {**predefined, **defined, **platform.settings, "DOCKER_HOST": f"unix://{DIND_SOCKET}"}
    options = [
        *("--volume", f"/var/run/docker.sock:{DIND_SOCKET}"),
        *("--volume", f"{os.path.realpath(client)}:/usr/local/bin/docker:ro"),
        *("--volume", f"{project}:{workdir}"),
        *("--workdir", workdir),
        *(argument for key, value in variables.items() for argument in ("--env", f"{key}={value}")),
    ]
    # GitLab runs the script's lines in one shell that stops at the first failing line (sh: no bash in Alpine).
    script = "\n".join(job["script"])
    container = f"template-test-gitlab-job-{uuid.uuid4().hex[:8]}"
    try:
        return docker("run", "--name", container, *options, JOB_CONTAINER_IMAGE, "sh", "-ec", script, timeout=900)
    finally:
        docker("rm", "--force", container)


def extended(pipeline: dict[str, Any], name: str) -> dict[str, Any]:
    """A GitLab job with the hidden job it `extends` merged in, as GitLab merges them (variables key by key),
    and the pipeline's global variables."""
    job = pipeline[name]
    base = pipeline[job["extends"]] if "extends" in job else {}
    variables = {**pipeline.get("variables", {}), **base.get("variables", {}), **job.get("variables", {})}
    return {**base, **job, "variables": variables}


def gitlab_expanded(value: str, variables: dict[str, str]) -> str:
    """`$NAME` and `${NAME}` in a variable's value, as GitLab expands them."""
    return re.sub(r"\$(?:\{(\w+)\}|(\w+))", lambda match: variables[match.group(1) or match.group(2)], value)


JOBS: dict[str, Callable[[Path, str, Platform], subprocess.CompletedProcess[str]]] = {
    "github": github_job,
    "gitlab": gitlab_job,
}


@pytest.mark.parametrize("pipeline", PIPELINES)
def test_the_ci_docker_and_publish_jobs_pass(
    docker_ready: None,
    registries: dict[str, Registry],
    template_source: Path,
    tmp_path: Path,
    built_images: list[str],
    pipeline: str,
) -> None:
    answered, kind = PUBLISH[pipeline]
    registry = registries[kind]
    namespace = f"{registry.address}/{pipeline}"  # a repository of this test's own in the shared registry
    answers = PIPELINES[pipeline] | ({"container_registry": namespace} if answered else {})
    project, note = prepared(template_source, tmp_path / "project", answers)
    tag = f"test-{uuid.uuid4().hex[:8]}"
    image, repository = f"{NAME}:{tag}", f"{namespace}/{NAME}"
    built_images += [image, f"{repository}:{tag}"]
    if answered:  # the organisation's registry, with the account in the secrets or CI/CD variables
        names = ("REGISTRY_USERNAME", "REGISTRY_PASSWORD")
        account = dict(zip(names, registry.credentials, strict=True)) if registry.credentials else {}
        platform = Platform(tag, f"127.0.0.1:9/{pipeline}/{NAME}", None, account)  # its own: nothing answers
    else:  # GitLab's own registry, with the job's credentials
        platform = Platform(tag, repository, registry.credentials, {})
    job = JOBS[answers["ci"]]
    with building(answers):
        started = time.monotonic()
        result = job(project, "docker", platform)
    built_images.extend(earlier_stages(result.stdout))
    assert result.returncode == 0, failure(result, f"the {answers['ci']} docker job{note}")
    print(f"[{pipeline}] the docker job took {time.monotonic() - started:.0f} s{note}")
    assert "answers /health/ready" in result.stderr, result.stderr[-3000:]
    assert_cleaned_up(result.stderr)

    try:
        if registry.credentials is not None:  # a wrong password is refused: the job does log in
            refused = job(project, "publish", platform.with_wrong_password())
            assert refused.returncode != 0, failure(refused, "the publish job with a wrong password")
        result = job(project, "publish", platform)
    finally:
        (project / "image.tar").unlink(missing_ok=True)
    assert result.returncode == 0, failure(result, f"the {answers['ci']} publish job")
    assert result.stdout.splitlines()[-1] == f"{repository}:{tag}", "the script prints the reference it pushed"
    assert_published(registry, repository, image)


def assert_published(registry: Registry, repository: str, image: str) -> None:
    """The registry holds the image the docker job built, under its tag only: its configuration is the local
    image's (the same image id), and its manifest is the one Docker pushed."""
    path = repository.split("/", 1)[1]
    tag = image.rsplit(":", 1)[1]
    tags = registry.get(f"{path}/tags/list")
    assert tags.status_code == 200, f"the registry has no repository {path}: {tags.text}"
    assert tags.json()["tags"] == [tag]
    manifest = registry.get(f"{path}/manifests/{tag}", Accept=MANIFEST_TYPES)
    assert manifest.status_code == 200, manifest.text
    local = json_of(docker("image", "inspect", image))
    assert manifest.json()["config"]["digest"] == local["Id"]
    assert f"{repository}@{manifest.headers['Docker-Content-Digest']}" in local["RepoDigests"]


def json_of(result: subprocess.CompletedProcess[str]) -> dict[str, Any]:
    [inspected] = json.loads(must(result, " ".join(map(str, result.args))))
    return inspected


def assert_cleaned_up(output: str) -> None:
    """The smoke test removed every container, network and volume it started (it names them in its output)."""
    [run_name] = set(re.findall(r"\((smoke-test-[0-9a-f]+)-app\)", output))
    for kind in ("container", "network", "volume"):
        listed = docker(
            kind, "ls", *(["--all"] if kind == "container" else []), "--quiet", "--filter", f"name={run_name}"
        )
        assert listed.stdout.split() == [], f"the smoke test left its {kind}s {run_name}* behind"


def test_the_smoke_test_fails_when_the_service_cannot_start(
    docker_ready: None, template_source: Path, tmp_path: Path, built_images: list[str]
) -> None:
    """The smoke test is no formality: a PostgreSQL project's image started as a SQLite project's smoke test
    starts it, without a database (what the old CI job did), must fail it, and soon: the container exits."""
    project, _ = prepared(template_source, tmp_path / "postgresql", PIPELINES["github-postgresql"])
    image = f"{NAME}:test-{uuid.uuid4().hex[:8]}"
    built_images.append(image)
    with building(PIPELINES["github-postgresql"]):
        built_images.extend(earlier_stages(must(docker("build", "--tag", image, str(project), timeout=900), "build")))
    sqlite = render(template_source, tmp_path / "sqlite", PIPELINES["github-sqlite"])
    started = time.monotonic()
    result = run(["sh", sqlite / "scripts" / "smoke-test.sh", image], cwd=sqlite, timeout=300)
    assert result.returncode != 0, result.stderr
    assert "did not answer /health/ready" in result.stderr, result.stderr[-3000:]
    assert time.monotonic() - started < 50, "a container that exits must fail the smoke test at once"
    assert_cleaned_up(result.stderr)


# Compose -----------------------------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def docker_compose(docker_ready: None) -> str:
    """Debian's docker-compose (Compose v1: the v2 plugin is not in Debian's archive), installed as
    docker-ready installs Docker: on a Debian machine where the tests run as root, once."""
    with exclusive("apt"):
        if shutil.which("docker-compose") is None and shutil.which("apt-get") and os.geteuid() == 0:
            environment = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
            run(["apt-get", "update", "-qq"], env=environment, timeout=600)
            run(["apt-get", "install", "-y", "-qq", "docker-compose"], env=environment, timeout=600)
    found = shutil.which("docker-compose")
    if found is None:
        missing("docker-compose", "`apt-get install docker-compose` (Debian)")
    return found


def compose_commands(project: Path, service: str) -> list[str]:
    """The commands DEPLOY.md tells to run in a service with `docker compose exec SERVICE ...`."""
    text = (project / "DEPLOY.md").read_text()
    return re.findall(rf"`docker compose exec {service} ([^`]*?)(?: > [\w.]+)?`", text)


def wait_until_ready(base_url: str, compose: Compose) -> None:
    if not answers_ok(f"{base_url}/health/ready", timeout=180, interval=1):
        logs = compose("logs", "--no-color")
        pytest.fail(f"the app did not answer /health/ready:\n{logs.stdout[-6000:]}{logs.stderr[-3000:]}")


@pytest.mark.parametrize("database", COMPOSE)
def test_compose_serves_a_signed_in_client(
    docker_compose: str, template_source: Path, tmp_path: Path, built_images: list[str], database: str
) -> None:
    answers = COMPOSE[database]
    project, note = prepared(template_source, tmp_path / "project", answers)
    image = yaml.safe_load((project / "compose.yaml").read_text())["services"]["app"]["image"]
    # DEPLOY.md's first step: .env from .env.example, with the secrets filled in.
    settings = (project / ".env.example").read_text()
    settings = re.sub(r"^POSTGRES_PASSWORD=$", f"POSTGRES_PASSWORD={uuid.uuid4().hex}", settings, flags=re.M)
    port = free_port()
    settings += f"SECRET_KEY={uuid.uuid4().hex}{uuid.uuid4().hex}\nAPP_PORT={port}\n"
    (project / ".env").write_text(settings)
    # Compose v2 names the project after its directory; v1 too: a name of its own keeps runs apart.
    name = f"template-test-{uuid.uuid4().hex[:8]}"

    def compose(*arguments: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
        return run([docker_compose, "--project-name", name, *arguments], cwd=project, timeout=timeout)

    # Both compose projects tag their image NAME:latest: one compose test at a time, then its image's turn.
    with exclusive("compose"), building(answers):
        up_serve_and_down(project, compose, name, answers, port, note, built_images)
        docker("image", "rm", image)  # the tag only: the layers stay in the cache of the other tests


def up_serve_and_down(
    project: Path, compose: Compose, name: str, answers: Answers, port: int, note: str, stages: list[str]
) -> None:
    """DEPLOY.md's steps: up, ready, a client's item, the backup command, down with the volumes."""
    database = answers["database"]
    try:
        started = time.monotonic()
        up = compose("up", "--build", "--detach", timeout=900)
        stages.extend(earlier_stages(up.stdout + up.stderr))
        assert up.returncode == 0, failure(up, f"docker-compose up{note}")
        base_url = f"http://127.0.0.1:{port}"
        wait_until_ready(base_url, compose)
        with httpx.Client(base_url=base_url, timeout=10) as client:
            assert client.get("/health/ready").json() == {"status": "ok", "database": "ok"}
            sign_in(client, answers["auth"])
            created = client.post("/items", json={"name": "Lamp", "price": 19.5})
            assert created.status_code == 201, created.text
            assert client.get(created.headers["location"]).json() == created.json()
        # DEPLOY.md's backup command (compose v1's `exec` needs -T without a terminal; v2 needs none).
        service = "db" if database == "postgresql" else "app"
        [backup] = compose_commands(project, service)
        result = compose("exec", "-T", service, "sh", "-c", backup)
        assert result.returncode == 0, failure(result, f"DEPLOY.md's backup command `{backup}`")
        if database == "postgresql":
            assert "Lamp" in result.stdout, "the dump holds the item"
        print(f"[compose-{database}] up, served and backed up in {time.monotonic() - started:.0f} s{note}")
    finally:
        down = compose("down", "--volumes", "--remove-orphans")
    assert down.returncode == 0, failure(down, "docker-compose down --volumes")
    volumes = docker("volume", "ls", "--quiet", "--filter", f"name={name}").stdout.split()
    assert volumes == [], f"`docker-compose down --volumes` left {volumes}"
