"""Finish a fresh copy: lock the dependencies and start a git repository.

Copier runs this once, after `copier copy` (never on update), inside the new project.
Each step needs an optional tool. When the tool is missing or the step fails, the step
is skipped with a message that says what to run by hand; generation itself never fails.
"""

from __future__ import annotations

import shutil
import subprocess
import sys


def run(step: str, command: list[str], remedy: str) -> bool:
    """Run one step; report and carry on when it cannot be done."""
    if shutil.which(command[0]) is None:
        print(f"post-copy: skipped {step}: `{command[0]}` is not installed. {remedy}", file=sys.stderr)
        return False
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        output = (result.stderr or result.stdout).strip()
        print(f"post-copy: {step} failed ({output}). {remedy}", file=sys.stderr)
        return False
    return True


def main() -> None:
    run(
        "locking dependencies",
        ["uv", "lock", "--quiet"],
        "Install uv (https://docs.astral.sh/uv/) and run `uv lock`.",
    )
    if run("git init", ["git", "init", "--quiet", "--initial-branch", "main"], "Run `git init` yourself."):
        run("git add", ["git", "add", "--all"], "Run `git add --all` yourself.")
        run(
            "the first commit",
            ["git", "commit", "--quiet", "--message", "Generate project from template"],
            "Commit the project yourself: `copier update` needs a clean git repository.",
        )


if __name__ == "__main__":
    main()
