"""Refresh what the project derives from its code after `copier update`: `uv.lock` and `openapi.json`.

A release or a changed answer can change the dependencies and the API. Without this step the lock no longer
matches pyproject.toml (the Dockerfile's `uv sync --locked` refuses it) and the committed document no longer
matches the service (the project's tests fail), until someone notices.

Copier runs this once, in the project, after merging the update into it: it is an "after" migration, since
Copier runs `_tasks` on update before the merge, and in two scratch copies too. Nothing is committed: the
update is the team's to review. When the merge left conflicts, or a tool is missing, the update still
succeeds, and a line names the command to run.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

from refresh import LOCK, Hook, export_openapi


def unresolved() -> list[str]:
    """Files the merge left to resolve by hand: unmerged in git's index (inline markers), or `.rej` files."""
    unmerged = ["git", "diff", "--name-only", "--relative", "--diff-filter=U"]
    rejected = ["git", "ls-files", "--others", "--exclude-standard", "--", "*.rej"]
    return [
        name
        for command in (unmerged, rejected)
        for name in subprocess.run(command, capture_output=True, text=True, check=False).stdout.splitlines()
    ]


def refresh(hook: Hook, path: Path, command: list[str], fix: str, rerun: str) -> bool:
    """Regenerate one file with `command`, and say whether it changed."""
    before = path.read_bytes() if path.exists() else None
    if not hook.run(f"refreshing {path}", command, fix, rerun):
        return False
    if before is None:
        hook.report(f"wrote {path}; commit it with the update.")
    elif path.read_bytes() != before:
        hook.report(f"refreshed {path}; commit it with the update.")
    else:
        hook.report(f"{path} was already current.")
    return True


# What a route module of each framework imports, to tell a route written by hand for the other one.
FRAMEWORK_MODULES = {"fastapi": ("fastapi", "starlette"), "flask": ("flask", "flask_openapi3", "werkzeug")}


def routes_of_the_other_framework(slug: str, framework: str) -> list[Path]:
    """The modules of `web/routes/` that import the framework the project no longer runs: the team's own,
    since the template rewrote its own for the new framework."""
    other = next(modules for name, modules in FRAMEWORK_MODULES.items() if name != framework)
    imports = re.compile(rf"^\s*(from|import)\s+({'|'.join(other)})\b", re.MULTILINE)
    routes = Path("src", slug, "web", "routes")
    return sorted(module for module in routes.glob("*.py") if imports.search(module.read_text()))


def main(slug: str, framework: str) -> None:
    hook = Hook("post-update")
    export = f"uv run {slug} openapi --output openapi.json"
    both = f"uv lock && {export}"
    stale_routes = routes_of_the_other_framework(slug, framework)
    for module in stale_routes:
        hook.report(
            f"{module} is written for the framework this project no longer runs, and the app will not start with"
            f' it: write it again for {framework} (README.md, "A route of your own after a change of framework"),'
            f" then run `{export}`."
        )
    conflicts = unresolved()
    if conflicts:
        hook.report(f"uv.lock and openapi.json not refreshed: resolve {', '.join(conflicts)}, then run `{both}`.")
        return
    install_uv = "Install uv (https://docs.astral.sh/uv/getting-started/installation/), then run"
    if refresh(hook, Path("uv.lock"), LOCK, f"{install_uv} `{both}`.", rerun=both) and not stale_routes:
        refresh(hook, Path("openapi.json"), export_openapi(slug), f"{install_uv} `{export}`.", rerun=export)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
