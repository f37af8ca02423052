"""Docker end to end: a generated project's image builds here and serves the contract (marker `docker`).

`../shared/tools/docker-ready` first installs and starts Docker and builds local stand-ins for the public
base images (this machine cannot pull them). Then, for each case: render, `uv lock`, `docker build`, run the
container, check /health/ready, create and read an item, the uid, the image's own HEALTHCHECK command, and a
graceful `docker stop`. The image size over its base must stay within 70 MB for the default answers; the
sizes and the build time are printed (run with `-s`, or `-rA` under xdist, to see them).
"""

import fcntl
import json
import os
import re
import shutil
import subprocess
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import yaml

from .combinations import Answers
from .conftest import REPO, SLUG, missing, render, run, tool
from .credentials import sign_in
from .ports import free_port
from .postgres import PostgresServer
from .servers import answers_ok

pytestmark = pytest.mark.docker

CASES: dict[str, Answers] = {
    "default": {},  # Copier's defaults: the combination the size budget is for
    "flask-sync-sqlite": {
        "framework": "flask",
        "db_style": "sync",
        "database": "sqlite",
        "auth": "none",
        "python_version": "3.11",
    },
    "fastapi-async-postgresql": {"framework": "fastapi", "db_style": "async", "database": "postgresql", "auth": "none"},
}
SIZE_BUDGET = 70_000_000  # bytes over the base image, for the default answers (auth jwt: argon2, PyJWT, email checks)
STOP_TIMEOUT = 30


def docker(*arguments: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return run(["docker", *arguments], timeout=timeout)


def must(result: subprocess.CompletedProcess[str], what: str) -> str:
    assert result.returncode == 0, (
        f"{what} failed ({result.returncode}):\n{result.stdout[-4000:]}\n{result.stderr[-4000:]}"
    )
    return result.stdout.strip()


@pytest.fixture(scope="session")
def docker_ready() -> None:
    """Docker is up and the base-image stand-ins exist (once per machine; xdist workers take turns)."""
    script = next(
        (path for path in (REPO.parent / "shared", Path("/work/shared")) if (path / "tools" / "docker-ready").exists()),
        None,
    )
    if script is None:  # not one of the team's machines: a Docker engine that can pull the base images will do
        if shutil.which("docker") is None or docker("info").returncode != 0:
            missing("Docker", "a running Docker engine (e.g. `apt-get install docker.io`)")
        return
    with Path("/tmp/docker-ready.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        result = run([str(script / "tools" / "docker-ready")], timeout=1200)
    must(result, "docker-ready")


def uv_stand_in(dockerfile: str) -> str:
    """The uv image the Dockerfile pins. docker-ready builds a stand-in for uv's newest release only; when
    the pin is older (or newer), the stand-in is tagged with the pinned version, as docker-ready does for
    its aliases: the image is built with another uv than in real CI, and the test says so."""
    pinned = re.search(r"COPY --from=(ghcr\.io/astral-sh/uv:\S+)", dockerfile)
    assert pinned, "the Dockerfile takes uv from ghcr.io/astral-sh/uv"
    image = pinned.group(1)
    if docker("image", "inspect", image).returncode != 0:
        must(docker("tag", "ghcr.io/astral-sh/uv:latest", image), f"tagging the uv stand-in as {image}")
        return f" (uv stand-in: {image} is docker-ready's newest uv, not that release)"
    return ""


def lock(project: Path) -> None:
    python = must(run([tool("uv"), "python", "find", "--no-project", "3.13"]), "finding Python 3.13")
    must(run([tool("uv"), "lock", "--quiet"], cwd=project, env={**os.environ, "UV_PYTHON": python}), "uv lock")


def image_size(image: str) -> int:
    return int(must(docker("image", "inspect", "--format", "{{.Size}}", image), f"docker image inspect {image}"))


def earlier_stages(build_output: str) -> list[str]:
    """The untagged images Docker's legacy builder leaves for the stages before the last (BuildKit leaves none)."""
    stages, last = [], None
    for line in build_output.splitlines():
        if step := re.fullmatch(r" ---> ([0-9a-f]{12})", line):
            last = step.group(1)
        elif re.match(r"Step \d+/\d+ : FROM ", line) and last:
            stages.append(last)
    return stages


@pytest.fixture
def container() -> Iterator[str]:
    name = f"template-test-{uuid.uuid4().hex[:10]}"
    yield name
    docker("rm", "--force", name)
    docker("volume", "rm", "--force", name)


def wait_until_live(base_url: str, name: str, timeout: float = 90) -> None:
    def running() -> bool:
        return docker("inspect", "--format", "{{.State.Running}}", name).stdout.strip() == "true"

    if not answers_ok(f"{base_url}/health/live", timeout, running, interval=0.5):
        logs = docker("logs", name)
        pytest.fail(f"the container did not answer /health/live:\n{logs.stdout}{logs.stderr}")


def report(capsys: pytest.CaptureFixture[str], line: str) -> None:
    if os.environ.get("PYTEST_XDIST_WORKER"):
        print(line)  # captured: shown with -rA
    else:
        with capsys.disabled():
            print(f"\n{line}")


@pytest.mark.parametrize("case", CASES)
def test_image_builds_and_serves(
    docker_ready: None,
    template_source: Path,
    tmp_path: Path,
    container: str,
    request: pytest.FixtureRequest,
    capsys: pytest.CaptureFixture[str],
    case: str,
) -> None:
    project = render(template_source, tmp_path / "project", CASES[case])
    answers = yaml.safe_load((project / ".copier-answers.yml").read_text())
    lock(project)
    note = uv_stand_in((project / "Dockerfile").read_text())
    image = f"template-test-{case}:{uuid.uuid4().hex[:8]}"

    started = time.monotonic()
    built = must(docker("build", "--no-cache", "--tag", image, str(project), timeout=900), "docker build")
    build_seconds = time.monotonic() - started
    try:
        size, base = image_size(image), image_size(f"python:{answers['python_version']}-slim")
        report(
            capsys,
            f"[{case}] image {size / 1e6:.1f} MB, base python:{answers['python_version']}-slim {base / 1e6:.1f} MB, "
            f"difference {(size - base) / 1e6:.1f} MB ({(size - base) / 2**20:.1f} MiB), "
            f"built in {build_seconds:.0f} s (no cache){note}",
        )
        if case == "default":
            assert size - base <= SIZE_BUDGET, f"the image adds {(size - base) / 1e6:.1f} MB to its base (budget 70)"
        serve_and_stop(image, container, answers, request)
    finally:
        docker("rm", "--force", container)
        docker("image", "rm", "--force", image)
        for stage in earlier_stages(built):
            docker("image", "rm", stage)


def serve_and_stop(image: str, name: str, answers: Answers, request: pytest.FixtureRequest) -> None:
    # Two workers, as the deployment files run it: the stop must be graceful for the whole process tree.
    environment = {"SECRET_KEY": uuid.uuid4().hex + uuid.uuid4().hex, "WEB_CONCURRENCY": "2"}
    if answers["database"] == "postgresql":
        postgres: PostgresServer = request.getfixturevalue("postgres")
        environment["DATABASE_URL"] = postgres.create_database(answers["db_style"])
    options = [argument for key, value in environment.items() for argument in ("--env", f"{key}={value}")]
    # Locked down as the Kubernetes manifests run it: read-only root filesystem with a scratch /tmp, no
    # capabilities, no privilege escalation; SQLite's file on a named volume, as compose and Kubernetes do.
    options += ["--read-only", "--tmpfs", "/tmp", "--cap-drop", "ALL", "--security-opt", "no-new-privileges"]
    if answers["database"] == "sqlite":
        options += ["--volume", f"{name}:/app/data"]

    port = free_port()
    if answers["database"] == "postgresql":
        # The database is on this machine's loopback: the containers share the host's network.
        migrate = docker("run", "--rm", "--network", "host", *options, image, SLUG, "db", "upgrade")  # the Job
        must(migrate, f"`{SLUG} db upgrade` in the image")
        must(
            docker("run", "--detach", "--name", name, "--network", "host", "--env", f"PORT={port}", *options, image),
            "docker run",
        )
    else:
        must(
            docker("run", "--detach", "--name", name, "--publish", f"127.0.0.1:{port}:8000", *options, image),
            "docker run",
        )
    base_url = f"http://127.0.0.1:{port}"
    wait_until_live(base_url, name)

    with httpx.Client(base_url=base_url, timeout=10) as client:
        ready = client.get("/health/ready")
        assert (ready.status_code, ready.json()) == (200, {"status": "ok", "database": "ok"})
        sign_in(client, answers["auth"])
        created = client.post("/items", json={"name": "Lamp", "price": 19.5})
        assert created.status_code == 201, created.text
        assert client.get(created.headers["location"]).json() == created.json()

    assert must(docker("exec", name, "id", "-u"), "id -u") != "0", "the server must not run as root"
    healthcheck = json.loads(must(docker("inspect", "--format", "{{json .Config.Healthcheck.Test}}", image), "inspect"))
    assert healthcheck[0] == "CMD", healthcheck
    must(docker("exec", name, *healthcheck[1:]), "the image's HEALTHCHECK command")

    started = time.monotonic()
    must(docker("stop", "--time", str(STOP_TIMEOUT), name, timeout=STOP_TIMEOUT + 30), "docker stop")
    stopped_in = time.monotonic() - started
    exit_code = must(docker("inspect", "--format", "{{.State.ExitCode}}", name), "inspect")
    logs = docker("logs", name)
    output = f"{logs.stdout[-3000:]}{logs.stderr[-3000:]}"
    assert exit_code == "0", f"`docker stop` must end the server gracefully; exit code {exit_code}:\n{output}"
    assert stopped_in < STOP_TIMEOUT, f"the server took {stopped_in:.1f} s to stop:\n{output}"
    assert "Traceback" not in logs.stdout + logs.stderr, logs.stdout + logs.stderr
