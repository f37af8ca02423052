"""Carry the team's edits of the files a release moved into their new places, as `copier update` cannot.

Copier merges a project's edits into each file by its path. When a release moves a file, the old path is
gone from the new template: Copier deletes the file, edits and all, and writes the new one as the template
has it. So this step runs twice, as the `_migrations` of copier.yml for the release that moved the files:

- `before` the update: for each moved file the team changed, keep the team's version and the version the
  old release wrote (rendered again, from the project's answers), under .git/, where nothing is committed.
- `after` the update: merge the team's changes (old release -> team) into the moved file, as `git merge-file`
  does, with conflict markers where both changed the same lines; move the team's own files out of a folder
  that moved (its migrations); and list what it did.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import copier  # Copier runs this script with its own interpreter, which has copier and PyYAML
import yaml

# Where each file of the package (src/<slug>/) moved, release v0.2.0: a folder per layer and per resource.
MOVES = {
    "api_docs.py": "contract/docs.py",
    "cors.py": "contract/cors.py",
    "openapi.py": "contract/operations.py",
    "pagination.py": "contract/pages.py",
    "problems.py": "contract/problems.py",
    "request_ids.py": "contract/request_ids.py",
    "security_headers.py": "contract/security_headers.py",
    "client_addresses.py": "contract/client_addresses.py",
    "cli.py": "cli/__init__.py",
    "settings.py": "settings/core.py",
    "domain/models.py": "domain/items/models.py",
    "domain/schemas.py": "domain/items/schemas.py",
    "domain/items.py": "domain/items/service.py",
    "domain/users.py": "domain/users/service.py",
    "domain/passwords.py": "domain/users/passwords.py",
    "domain/login_throttle.py": "domain/login_throttle/service.py",
    "domain/tokens.py": "domain/tokens/service.py",
    "domain/sessions.py": "domain/sessions/service.py",
    "domain/api_keys.py": "domain/api_keys/service.py",
    "domain/oidc.py": "domain/oidc/service.py",
    "migrations/env.py": "db/migrations/env.py",
    "migrations/script.py.mako": "db/migrations/script.py.mako",
}
# Folders that moved: what the team added there goes along (its own migrations).
MOVED_FOLDERS = {"migrations/versions": "db/migrations/versions"}
STASH = Path(".git", "copier-moves")


def report(message: str) -> None:
    print(f"moves: {message}", file=sys.stderr)


def answers() -> dict[str, object]:
    return yaml.safe_load(Path(".copier-answers.yml").read_text())


def before(slug: str, commit: str) -> None:
    """Keep the team's version of each moved file they changed, and the old release's, for `after`."""
    recorded = answers()
    data = {key: value for key, value in recorded.items() if not key.startswith("_")}
    with tempfile.TemporaryDirectory() as scratch:
        old_release = Path(scratch, "old")
        copier.run_copy(
            str(recorded["_src_path"]),
            old_release,
            data=data,
            vcs_ref=commit,
            defaults=True,
            unsafe=True,
            skip_tasks=True,
            quiet=True,
        )
        for old, new in MOVES.items():
            ours, base = Path("src", slug, old), old_release / "src" / slug / old
            if ours.is_file() and base.is_file() and ours.read_bytes() != base.read_bytes():
                kept = STASH / "src" / slug / new
                kept.parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(ours, kept.with_name(kept.name + ".ours"))
                shutil.copyfile(base, kept.with_name(kept.name + ".base"))


def after(slug: str) -> None:
    """Merge what `before` kept into the moved files; move the team's files out of the moved folders."""
    for kept in sorted(STASH.rglob("*.ours")):
        moved = Path(str(kept.relative_to(STASH))[: -len(".ours")])
        base = kept.with_name(kept.name[: -len(".ours")] + ".base")
        if not moved.is_file():
            report(f"{moved} is gone from this release: your edits of its old version are in {kept}")
            continue
        # As Copier merges a file that did not move: yours, then the release's, on either side of a conflict.
        labels = ["-L", "before updating", "-L", "last update", "-L", "after updating"]
        merge = ["git", "merge-file", "--stdout", *labels, str(kept), str(base), str(moved)]
        merged = subprocess.run(merge, capture_output=True, check=False)
        if merged.returncode < 0:
            report(f"{moved}: git could not merge your edits of its old place; they are in {kept}")
            continue
        moved.write_bytes(merged.stdout)
        conflicts = merged.returncode
        if conflicts:
            report(f"{moved}: your edits of its old place are merged in, {conflicts} conflict(s) to resolve")
        else:
            report(f"{moved}: your edits of its old place are merged in")
        base.unlink()
        kept.unlink()
    for old, new in MOVED_FOLDERS.items():
        folder = Path("src", slug, old)
        for own in sorted(folder.glob("*.py")) if folder.is_dir() else []:
            target = Path("src", slug, new, own.name)
            subprocess.run(["git", "mv", "--", str(own), str(target)], check=True)
            report(f"{own} moved to {target}")
    left = {Path("src", slug, path).parent for path in MOVES} | {Path("src", slug, path) for path in MOVED_FOLDERS}
    for old in sorted(left, key=lambda folder: len(folder.parts), reverse=True):
        shutil.rmtree(old / "__pycache__", ignore_errors=True)
        while old != Path("src", slug) and old.is_dir() and not any(old.iterdir()):
            old.rmdir()
            old = old.parent
    if STASH.is_dir() and not any(STASH.rglob("*.ours")):
        shutil.rmtree(STASH)


if __name__ == "__main__":
    slug = str(answers()["project_slug"])
    if sys.argv[1] == "before":
        before(slug, os.environ["VERSION_FROM"])  # the commit the project was generated or last updated from
    else:
        after(slug)
