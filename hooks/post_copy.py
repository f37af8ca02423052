"""Finish a fresh copy: lock the dependencies, export the OpenAPI document and start a git repository.

Copier runs this once, after `copier copy` (never on update: see post_update.py), inside the new project, with
the project's Python version and package name as arguments. Each step needs a tool. When the tool is missing
or the step fails, the step is skipped with a message that says what went wrong and the command that fixes
it; generation itself never fails.
"""

from __future__ import annotations

import sys

from refresh import LOCK, Hook, export_openapi


def main(python_version: str, slug: str) -> None:
    hook = Hook("post-copy")
    locked = hook.run(
        "locking dependencies",
        LOCK,
        "Install uv (https://docs.astral.sh/uv/getting-started/installation/), then run `uv lock` in the project.",
    )
    if locked and hook.check_python(python_version):
        # The API contract, committed with the code: the project's tests fail when the two differ.
        hook.run(
            "writing openapi.json",
            export_openapi(slug),
            f"Run `uv run {slug} openapi --output openapi.json`, then commit openapi.json.",
        )
    initialised = hook.run(
        "git init", ["git", "init", "--quiet", "--initial-branch", "main"], "Install git, then run `git init`."
    )
    if initialised:
        hook.run("git add", ["git", "add", "--all"], "Run `git add --all` yourself.")
        hook.run(
            "the first commit",
            ["git", "commit", "--quiet", "--message", "Generate project from template"],
            "Commit the project yourself: `copier update` needs a clean git repository.",
        )


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
