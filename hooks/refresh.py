"""What the hooks share: running one step of theirs, and the two steps that keep a project's derived files
current, `uv.lock` (from pyproject.toml) and `openapi.json` (from the application).

Each step needs a tool. When the tool is missing or the step fails, the step is skipped with a message that
says what went wrong and the command that fixes it: a hook never makes `copier copy` or `copier update` fail.
"""

from __future__ import annotations

import shutil
import subprocess
import sys

LOCK = ["uv", "lock", "--quiet"]


def export_openapi(slug: str) -> list[str]:
    """The command that writes the document the service publishes to `openapi.json`."""
    return ["uv", "run", "--frozen", "--quiet", slug, "openapi", "--output", "openapi.json"]


class Hook:
    """Runs a hook's steps, and reports on standard error, each line prefixed with the hook's name."""

    def __init__(self, name: str) -> None:
        self.name = name

    def report(self, message: str) -> None:
        print(f"{self.name}: {message}", file=sys.stderr)

    def run(self, step: str, command: list[str], fix: str, rerun: str | None = None) -> bool:
        """Run one step; on failure say what failed and the command that fixes it (`fix` when the tool is
        missing; otherwise `rerun`, by default the step's own command), and carry on."""
        if shutil.which(command[0]) is None:
            self.report(f"skipped {step}: `{command[0]}` is not installed. {fix}")
            return False
        result = subprocess.run(command, capture_output=True, text=True, check=False)
        if result.returncode != 0:
            output = (result.stderr or result.stdout).strip()
            self.report(
                f"{step} failed: `{' '.join(command)}` said:\n{output}\n"
                f"Fix that, then run `{rerun or ' '.join(command)}`."
            )
            return False
        return True

    def check_python(self, version: str) -> bool:
        """`uv run` needs the project's Python; say so now rather than when the first command fails."""
        found = subprocess.run(["uv", "python", "find", "--no-project", version], capture_output=True, check=False)
        if found.returncode != 0:
            self.report(
                f"Python {version} (the project's python_version) is not installed, and `uv run` needs it."
                f" Install it with `uv python install {version}` (or your system's packages) before the next steps."
            )
            return False
        return True
