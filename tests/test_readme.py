"""The README and the generated project's README, replayed word for word as a newcomer would.

An empty HOME, a clone of the template, and every command the two READMEs show, in their order: install
uv, generate a project, serve it, call it as the README's curl lines do, test it, lint it, update it. Only
the package cache is shared with the machine, so that nothing is downloaded twice.
"""

import json
import os
import re
import signal
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from .conftest import REPO, copy_template, python_for, run, tag_release
from .servers import answers_ok

pytestmark = pytest.mark.deep

SH_BLOCK = re.compile(r"^```sh\n(.*?)^```", re.MULTILINE | re.DOTALL)
LEFT_BEHIND = ("VIRTUAL_ENV", "UV_", "PYTEST", "PYTHON")
SERVICE = "http://127.0.0.1:8000"  # where the generated README's curl lines send their requests


def section(markdown: str, heading: str) -> str:
    """The text under a `## heading`, up to the next heading of the same level."""
    return markdown.split(f"## {heading}\n", 1)[1].split("\n## ", 1)[0]


def commands(markdown: str) -> list[str]:
    """The commands of the text's `sh` blocks, one per logical line, comments left out."""
    found = []
    for block in SH_BLOCK.findall(markdown):
        for line in block.replace("\\\n", " ").splitlines():
            if line.strip() and not line.lstrip().startswith("#"):
                found.append(line.strip())
    return found


class Terminal:
    """A login shell per command, as in a new terminal: PATH comes from the empty HOME's ~/.profile."""

    def __init__(self, home: Path) -> None:
        self.home = home
        self.variables: dict[str, str] = {}
        # The machine's own settings (certificates, proxies) stay; what belongs to this test run goes.
        inherited = {name: value for name, value in os.environ.items() if not name.startswith(LEFT_BEHIND)}
        self.environment = inherited | {
            "HOME": str(home),
            "UV_CACHE_DIR": os.environ.get("UV_CACHE_DIR", str(Path.home() / ".cache" / "uv")),
        }

    def keep_in_profile(self, line: str) -> None:
        with (self.home / ".profile").open("a") as profile:
            profile.write(line + "\n")

    def run(self, command: str, cwd: Path) -> str:
        result = run(["bash", "-lc", command], cwd=cwd, env=self.environment | self.variables, timeout=600)
        assert result.returncode == 0, f"`{command}` failed in {cwd}:\n{result.stdout}\n{result.stderr}"
        return result.stdout

    @contextmanager
    def background(self, command: str, cwd: Path) -> Iterator[None]:
        server = subprocess.Popen(
            ["bash", "-lc", f"exec {command}"],
            cwd=cwd,
            env=self.environment,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            start_new_session=True,
        )
        try:
            wait_until_live(server)
            yield
        finally:
            os.killpg(server.pid, signal.SIGTERM)
            server.wait(timeout=30)

    def remember(self, output: str) -> None:
        """A reader copies the tokens a response shows into the variables the next lines name."""
        try:
            answer = json.loads(output)
        except json.JSONDecodeError:
            return
        if isinstance(answer, dict):
            self.variables |= {key.upper(): value for key, value in answer.items() if isinstance(value, str)}


def wait_until_live(server: subprocess.Popen[bytes]) -> None:
    if not answers_ok(f"{SERVICE}/health/live", timeout=60, running=lambda: server.poll() is None):
        if server.poll() is None:
            pytest.fail("the service did not answer /health/live within a minute")
        stderr = server.stderr.read().decode() if server.stderr else ""
        pytest.fail(f"the service exited with {server.returncode}:\n{stderr}")


def assert_answered(command: str, output: str) -> None:
    """curl exits 0 on any HTTP status: the body must be JSON and no problem document."""
    answer = json.loads(output)
    assert not (isinstance(answer, dict) and answer.get("status", 0) >= 400), f"`{command}` answered {answer}"


@pytest.fixture
def clone(tmp_path: Path) -> Path:
    """A clone of the template, with the release tag users get."""
    repository = copy_template(tmp_path / "template")
    for file in ("README.md", "LICENSE"):
        (repository / file).write_bytes((REPO / file).read_bytes())
    return tag_release(repository, "v1.0.0")


PYTHON_BLOCK = re.compile(r"^```python\n(.*?)^```", re.MULTILINE | re.DOTALL)


def add_a_resource(terminal: Terminal, project: Path, text: str) -> None:
    """The generated README's "Add your own resource": the command, then a column more, then a commit."""
    add, column = SH_BLOCK.findall(text)[:2]
    for command in commands(f"```sh\n{add}```\n"):
        terminal.run(command, cwd=project)
    terminal.run("git add --all && git commit --quiet -m 'Add projects'", cwd=project)
    model_line = PYTHON_BLOCK.findall(text)[0]
    models = next((project / "src").glob("*/domain/items/models.py"))
    models.write_text(models.read_text() + model_line)
    for command in commands(f"```sh\n{column}```\n"):
        terminal.run(command, cwd=project)
    terminal.run("uv run pytest && git add --all && git commit --quiet -m 'Add a colour to items'", cwd=project)


def test_readme_commands_work_verbatim_in_an_empty_home(clone: Path, tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir()
    (home / ".gitconfig").write_text("[user]\n\tname = Ada\n\temail = ada@example.com\n")
    terminal = Terminal(home)
    # The machine's Pythons (uv cannot download one here), as a user's shell would find them.
    # Resolved: uv may find each in a virtual environment, whose other commands a newcomer would not have.
    pythons = sorted({str(Path(python_for(version)).resolve().parent) for version in ("3.13", "3.12", "3.11")})
    terminal.keep_in_profile(f'export PATH="{":".join(pythons)}:$PATH"')

    readme = (REPO / "README.md").read_text()
    install_uv, interactive, scripted = commands(section(readme, "Generate a project"))
    assert "--defaults" not in interactive, "the first copy command is the interactive one (it needs a terminal)"
    terminal.run(install_uv, cwd=clone)
    keep_uv = re.search(r"export PATH=\S+", install_uv)
    assert keep_uv, "the README tells how to keep uv on PATH"
    terminal.keep_in_profile(keep_uv.group())
    terminal.run(scripted, cwd=clone)

    destination = re.search(r"(\.\./[\w-]+)", scripted)
    assert destination, scripted
    project = (clone / destination.group(1)).resolve()
    generated = (project / "README.md").read_text()
    (serve,) = commands(section(generated, "Run it"))
    calls = commands(section(generated, "Authentication"))  # the README's form generates auth=jwt
    with terminal.background(serve, cwd=project):
        for command in calls:
            output = terminal.run(command, cwd=project)
            assert_answered(command, output)
            terminal.remember(output)
    for command in commands(section(generated, "Test it")):
        terminal.run(command, cwd=project)
    assert not run(["git", "status", "--porcelain"], cwd=project).stdout, "following the README dirtied the tree"
    add_a_resource(terminal, project, section(generated, "Add your own resource"))
    for command in commands(section(readme, "Keep a project up to date")):
        terminal.run(command, cwd=project)
