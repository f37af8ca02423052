"""Every supported combination renders a clean project (fast, static checks only)."""

import json
import re
import tomllib
from pathlib import Path

import pytest
import yaml

from .combinations import SUPPORTED, Answers, label
from .conftest import SLUG, render, run, tool

LEFTOVER_JINJA = re.compile(r"\{%-?\s*(if|elif|else|endif|for|endfor|set|raw|include)\b|(?<!\$)\{\{\s*[a-z_]|\{#")
TEXT_SUFFIXES = {".py", ".md", ".toml", ".yml", ".yaml", ".json", ".cfg", ".ini", ".txt", ".mako", ".example", ""}


def text_files(project: Path) -> list[Path]:
    return sorted(
        path
        for path in project.rglob("*")
        if path.is_file() and (path.suffix in TEXT_SUFFIXES or path.name.startswith(".")) and ".git" not in path.parts
    )


def layout_problems(path: Path, text: str) -> list[str]:
    problems = []
    lines = text.split("\n")
    max_blank_run = 2 if path.suffix in {".py", ".mako"} else 1
    blank_run = 0
    for number, line in enumerate(lines, start=1):
        if line != line.rstrip():
            problems.append(f"{path}:{number}: trailing whitespace")
        blank_run = blank_run + 1 if not line.strip() and number < len(lines) else 0
        if blank_run > max_blank_run:
            problems.append(f"{path}:{number}: {blank_run} blank lines in a row")
    if text and (not text.endswith("\n") or text.endswith("\n\n")):
        problems.append(f"{path}: must end with exactly one newline")
    if text.startswith("\n"):
        problems.append(f"{path}: starts with a blank line")
    if LEFTOVER_JINJA.search(text):
        problems.append(f"{path}: leftover Jinja syntax")
    return problems


def parse_problems(path: Path, text: str) -> list[str]:
    try:
        if path.suffix == ".py":
            compile(text, str(path), "exec")
        elif path.suffix in {".yml", ".yaml"}:
            list(yaml.safe_load_all(text))
        elif path.suffix == ".toml":
            tomllib.loads(text)
        elif path.suffix == ".json":
            json.loads(text)
    except (SyntaxError, yaml.YAMLError, tomllib.TOMLDecodeError, json.JSONDecodeError) as error:
        return [f"{path}: does not parse: {error}"]
    return []


@pytest.mark.parametrize("answers", SUPPORTED, ids=label)
def test_combination_renders_clean(template_source: Path, tmp_path: Path, answers: Answers) -> None:
    project = render(template_source, tmp_path / "project", answers)

    problems = []
    for path in text_files(project):
        text = path.read_text()
        problems += layout_problems(path.relative_to(project), text)
        problems += parse_problems(path.relative_to(project), text)
    lint = run([tool("ruff"), "check", "--no-cache", "--output-format", "concise", "."], cwd=project)
    formatting = run([tool("ruff"), "format", "--no-cache", "--check", "."], cwd=project)
    answers_file = yaml.safe_load((project / ".copier-answers.yml").read_text())

    assert problems == []
    assert lint.returncode == 0, lint.stdout + lint.stderr
    assert formatting.returncode == 0, formatting.stdout + formatting.stderr
    assert {key: answers_file[key] for key in answers} == answers
    assert answers_file["project_slug"] == SLUG
    assert (project / "src" / SLUG / "web" / "app.py").is_file()
