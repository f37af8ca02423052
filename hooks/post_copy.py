"""Finish a fresh copy: lock the dependencies, export the OpenAPI document and start a git repository.

Copier runs this once, after `copier copy` (never on update), inside the new project, with the project's
Python version and package name as arguments. Each step needs a tool. When the tool is missing or the step
fails, the step is skipped with a message that says what went wrong and the command that fixes it;
generation itself never fails.
"""

from __future__ import annotations

import shutil
import subprocess
import sys


def report(message: str) -> None:
    print(f"post-copy: {message}", file=sys.stderr)


def run(step: str, command: list[str], fix: str) -> bool:
    """Run one step; on failure say what failed and the command that fixes it, and carry on."""
    if shutil.which(command[0]) is None:
        report(f"skipped {step}: `{command[0]}` is not installed. {fix}")
        return False
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        output = (result.stderr or result.stdout).strip()
        report(f"{step} failed: `{' '.join(command)}` said:\n{output}\nFix that, then run `{' '.join(command)}`.")
        return False
    return True


def check_python(version: str) -> bool:
    """`uv run` needs the project's Python; say so now rather than when the first command fails."""
    found = subprocess.run(["uv", "python", "find", "--no-project", version], capture_output=True, check=False)
    if found.returncode != 0:
        report(
            f"Python {version} (the project's python_version) is not installed, and `uv run` needs it."
            f" Install it with `uv python install {version}` (or your system's packages) before the next steps."
        )
        return False
    return True


def main(python_version: str, slug: str) -> None:
    locked = run(
        "locking dependencies",
        ["uv", "lock", "--quiet"],
        "Install uv (https://docs.astral.sh/uv/getting-started/installation/), then run `uv lock` in the project.",
    )
    if locked and check_python(python_version):
        # The API contract, committed with the code: the project's tests fail when the two differ.
        run(
            "writing openapi.json",
            ["uv", "run", "--frozen", "--quiet", slug, "openapi", "--output", "openapi.json"],
            f"Run `uv run {slug} openapi --output openapi.json`, then commit openapi.json.",
        )
    if run("git init", ["git", "init", "--quiet", "--initial-branch", "main"], "Install git, then run `git init`."):
        run("git add", ["git", "add", "--all"], "Run `git add --all` yourself.")
        run(
            "the first commit",
            ["git", "commit", "--quiet", "--message", "Generate project from template"],
            "Commit the project yourself: `copier update` needs a clean git repository.",
        )


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
