"""The generated projects keep their security linting on: bandit's rules (ruff's `S`) with no blanket
ignores, and every suppression in the template names its rule and says why."""

import re
import tomllib
from pathlib import Path

from .combinations import SUPPORTED
from .conftest import REPO, render

# Where a project may relax bandit's rules, and which: asserts and fixed passwords in tests, SQL text in migrations.
ALLOWED_BANDIT_IGNORES = {"tests/**": {"S101", "S105", "S106"}, "src/{slug}/migrations/**": {"S608"}}
SUPPRESSION = re.compile(r"#\s*(noqa|type:\s*ignore)(?P<codes>[:\[]\s*[\w, ]+\]?)?(?P<rest>.*)$")


def suppressions(text: str) -> list[tuple[int, str, str, str]]:
    """(line number, line, the line above, what follows the codes) for each noqa or type: ignore."""
    lines = text.splitlines()
    found = []
    for number, line in enumerate(lines):
        if match := SUPPRESSION.search(line):
            above = lines[number - 1].strip() if number else ""
            found.append((number + 1, line.strip(), above, f"{match['codes'] or ''}|{match['rest'].strip()}"))
    return found


def test_bandit_rules_stay_enabled_without_blanket_ignores(template_source: Path, tmp_path: Path) -> None:
    project = render(template_source, tmp_path / "project", SUPPORTED[0])
    lint = tomllib.loads((project / "pyproject.toml").read_text())["tool"]["ruff"]["lint"]
    slug = next((project / "src").iterdir()).name

    assert "S" in lint["select"], "ruff's bandit rules (S) must stay selected"
    assert not [code for code in lint.get("ignore", []) if code.startswith("S")], "no bandit rule is ignored everywhere"
    allowed = {pattern.format(slug=slug): codes for pattern, codes in ALLOWED_BANDIT_IGNORES.items()}
    for pattern, codes in lint.get("per-file-ignores", {}).items():
        bandit = {code for code in codes if code.startswith("S")}
        assert bandit <= allowed.get(pattern, set()), f"{pattern} ignores bandit's {sorted(bandit)}"


def test_every_suppression_names_its_rule_and_says_why() -> None:
    unexplained = []
    for path in sorted((REPO / "template").rglob("*")):
        if not path.is_file() or path.suffix not in (".py", ".jinja"):
            continue
        for number, line, above, tail in suppressions(path.read_text()):
            codes, _, reason = tail.partition("|")
            explained = reason.lstrip("#( ").strip() or above.startswith("#")
            if not codes.strip(":[ ]") or not explained:
                unexplained.append(f"{path.relative_to(REPO)}:{number}: {line}")
    assert unexplained == [], "a suppression needs its rule code and a reason:\n" + "\n".join(unexplained)
