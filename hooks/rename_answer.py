"""Carry a stored answer over to a renamed question: a `_migrations` step for `copier update`.

Copier runs it in the project, before the update asks its questions, as
`rename_answer.py OLD_NAME NEW_NAME [ANSWERS_FILE]`. Without it, the renamed question would silently fall
back to its default. A project that never stored OLD_NAME is left as it is.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path


def rename_answer(answers_file: Path, old_name: str, new_name: str) -> bool:
    text = answers_file.read_text()
    renamed, count = re.subn(rf"^{re.escape(old_name)}:", f"{new_name}:", text, flags=re.MULTILINE)
    if count:
        answers_file.write_text(renamed)
    return bool(count)


if __name__ == "__main__":
    old, new, *rest = sys.argv[1:]
    path = Path(rest[0] if rest else ".copier-answers.yml")
    if rename_answer(path, old, new):
        print(f"migration: the answer {old!r} is now {new!r}", file=sys.stderr)
