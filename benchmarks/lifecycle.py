"""From template to running service: `copier copy`, copy → green `uv run pytest`, and the Docker image."""

import fcntl
import os
import secrets
import shutil
import subprocess
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

import httpx

from tests.conftest import PROJECT_NAME, REPO
from tests.ports import free_port

from . import BenchmarkError
from .variants import PYTHON_VERSION, check, dev_tool

DOCKER_READY = REPO.parent / "shared" / "tools" / "docker-ready"
READY_TIMEOUT = 90


@dataclass(frozen=True)
class Step:
    step: str
    value: float | None  # None: the step did not succeed (see note)
    unit: str
    note: str


def copy_and_test(workdir: Path, python: str, *, run_tests: bool) -> tuple[Path, list[Step]]:
    """Copy the template with the README's command (default answers, from this checkout, its post-copy step
    included); then, with every package of the new lock already in uv's cache, `uv run pytest` until green."""
    project = workdir / "copied"
    uv = dev_tool("uv")
    # The post-copy step runs `uv lock`: uv on PATH, as the README's set-up has it.
    env = {**os.environ, "PATH": f"{Path(uv).parent}{os.pathsep}{os.environ['PATH']}", "UV_PYTHON": python}
    copy = [dev_tool("copier"), "copy", "--trust", "--defaults", "-d", f"project_name={PROJECT_NAME}"]
    started = time.monotonic()
    check(subprocess.run([*copy, str(REPO), str(project)], env=env, capture_output=True, text=True), "copier copy")
    copied = time.monotonic() - started
    steps = [Step("`copier copy`", round(copied, 1), "s", "default answers, with its post-copy `uv lock` and commit")]
    if not (project / "uv.lock").exists():
        raise BenchmarkError(f"`copier copy` wrote no uv.lock in {project}: its post-copy step failed")
    if not run_tests:
        return project, steps

    warm = {**env, "UV_PROJECT_ENVIRONMENT": str(workdir / "warm-cache-environment")}
    check(
        subprocess.run([uv, "sync", "--frozen", "--quiet"], cwd=project, env=warm, capture_output=True, text=True),
        "uv sync",
    )
    started = time.monotonic()
    tested = subprocess.run([uv, "run", "pytest", "-q"], cwd=project, env=env, capture_output=True, text=True)
    total = copied + time.monotonic() - started
    summary = (tested.stdout.strip().splitlines() or ["no output"])[-1].strip("= ")
    if tested.returncode == 0:
        steps.append(Step("copy → green `uv run pytest`", round(total, 1), "s", f"warm package cache; {summary}"))
    else:
        steps.append(Step("copy → green `uv run pytest`", None, "s", f"not green: {summary}"))
    return project, steps


def image_steps(project: Path) -> list[Step]:
    """Build the project's image without cache, weigh it against its base, and time a container's start until
    /health/ready answers 200."""
    from tests.test_docker import docker, earlier_stages, image_size, uv_stand_in  # loads pytest: only when asked

    start_docker()
    note = uv_stand_in((project / "Dockerfile").read_text())
    image = f"benchmark-{uuid.uuid4().hex[:10]}"
    name = image
    started = time.monotonic()
    built = check(docker("build", "--no-cache", "--tag", image, str(project), timeout=900), "docker build")
    build_seconds = time.monotonic() - started
    try:
        base = f"python:{PYTHON_VERSION}-slim"
        over_base = (image_size(image) - image_size(base)) / 1e6
        port = free_port()
        started = time.monotonic()
        run = ["run", "--detach", "--name", name, "--publish", f"127.0.0.1:{port}:8000"]
        check(docker(*run, "--env", f"SECRET_KEY={secrets.token_hex(32)}", "--env", "WEB_CONCURRENCY=2", image), "run")
        ready_seconds = wait_until_ready(f"http://127.0.0.1:{port}", started)
    finally:
        docker("rm", "--force", name)
        docker("image", "rm", "--force", image)
        for stage in earlier_stages(built):
            docker("image", "rm", stage)
    started_until = "`docker run` until /health/ready answers 200 (2 workers; on SQLite `serve` migrates first)"
    return [
        Step("image build", round(build_seconds, 1), "s", f"`docker build --no-cache`, default answers{note}"),
        Step("image size over its base", round(over_base, 1), "MB", base),
        Step("container start → ready", round(ready_seconds, 1), "s", started_until)
        if ready_seconds is not None
        else Step("container start → ready", None, "s", f"not ready within {READY_TIMEOUT} s"),
    ]


def start_docker() -> None:
    """Docker up and the base-image stand-ins built, as the template's Docker tests have it."""
    if DOCKER_READY.exists():
        with Path("/tmp/docker-ready.lock").open("w") as lock:  # shared with the tests: one at a time
            fcntl.flock(lock, fcntl.LOCK_EX)
            check(subprocess.run([str(DOCKER_READY)], capture_output=True, text=True, timeout=1200), "docker-ready")
    elif shutil.which("docker") is None or subprocess.run(["docker", "info"], capture_output=True).returncode != 0:
        raise BenchmarkError("--docker needs a running Docker engine (e.g. `apt-get install docker.io`)")


def wait_until_ready(base_url: str, started: float) -> float | None:
    """Seconds from `started` until /health/ready answers 200; None if it never does."""
    while time.monotonic() - started < READY_TIMEOUT:
        try:
            if httpx.get(f"{base_url}/health/ready", timeout=2).status_code == httpx.codes.OK:
                return time.monotonic() - started
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    return None
