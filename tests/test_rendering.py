"""Every supported combination renders a clean project (fast, static checks only)."""

import ast
import json
import re
import tomllib
from pathlib import Path

import pytest
import yaml

from .combinations import SUPPORTED, Answers, label
from .conftest import REPO, SLUG, render, run, tool

LEFTOVER_JINJA = re.compile(r"\{%-?\s*(if|elif|else|endif|for|endfor|set|raw|include)\b|(?<!\$)\{\{\s*[a-z_]|\{#")
# A Markdown link to a file of the project (not a URL, not an anchor of the same page); the anchor is dropped.
MARKDOWN_LINK = re.compile(r"\]\((?![a-z]+:|#)([^)#\s]+)")
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
    blank_run = 0
    in_python_block = False  # Markdown's ```python blocks are Python: two blank lines between definitions
    for number, line in enumerate(lines, start=1):
        if line != line.rstrip():
            problems.append(f"{path}:{number}: trailing whitespace")
        if path.suffix == ".md" and line.startswith("```"):
            in_python_block = line == "```python"
        max_blank_run = 2 if path.suffix in {".py", ".mako"} or in_python_block else 1
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


def link_problems(project: Path, path: Path, text: str) -> list[str]:
    """Relative links of a Markdown file that lead nowhere in the project."""
    if path.suffix != ".md":
        return []
    targets = MARKDOWN_LINK.findall(text)
    return [
        f"{path}: links to {target}, which is not there"
        for target in targets
        if not (project / path.parent / target).exists()
    ]


def parse_problems(path: Path, text: str) -> list[str]:
    """Python files are parsed by `ruff check`, for the Python version the project names."""
    try:
        if path.suffix in {".yml", ".yaml"}:
            list(yaml.safe_load_all(text))
        elif path.suffix == ".toml":
            tomllib.loads(text)
        elif path.suffix == ".json":
            json.loads(text)
    except (yaml.YAMLError, tomllib.TOMLDecodeError, json.JSONDecodeError) as error:
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
        problems += link_problems(project, path.relative_to(project), text)
    lint = run([tool("ruff"), "check", "--no-cache", "--output-format", "concise", "."], cwd=project)
    formatting = run([tool("ruff"), "format", "--no-cache", "--check", "."], cwd=project)
    answers_file = yaml.safe_load((project / ".copier-answers.yml").read_text())

    assert problems == []
    assert lint.returncode == 0, lint.stdout + lint.stderr
    assert formatting.returncode == 0, formatting.stdout + formatting.stderr
    assert {key: answers_file[key] for key in answers} == answers
    assert answers_file["project_slug"] == SLUG
    assert (project / "src" / SLUG / "web" / "app.py").is_file()


FREE_TEXT = [
    {"project_name": 'Acme "Quote" Shop', "description": 'Says "hi" and back\\slashes \\', "author_name": "O'Brien"},
    {"project_name": "O'Brien's Zoë", "description": "Zoë's {{ not_jinja }} {% raw %}", "author_name": 'Ann "A" \\'},
    # A name without Latin letters gives no slug: it must be answered.
    {
        "project_name": "日本語サービス",
        "project_slug": "nihongo",
        "description": 'ends with a quote"',
        "author_name": "山田 太郎",
    },
    # An en dash and curly quotes, which ruff takes for confusables of ASCII (RUF001-RUF003) unless told otherwise.
    {
        "project_name": "Zoë's Café \u2013 日本語",
        "description": "Orders \u2013 \u201cquoted\u201d and \u2018single-quoted\u2019",
        "author_name": "Zoë",
    },
]


@pytest.mark.parametrize("text", FREE_TEXT, ids=["quotes", "apostrophes-and-braces", "japanese", "confusables"])
@pytest.mark.parametrize(
    "answers",
    [
        {"framework": "fastapi", "deploy": "compose", "ci": "github", "auth": "oidc"},
        {"framework": "flask", "deploy": "kubernetes", "ci": "gitlab", "auth": "jwt"},
    ],
    ids=label,
)
def test_free_text_answers_keep_every_file_valid_and_read_as_typed(
    template_source: Path, tmp_path: Path, answers: Answers, text: dict[str, str]
) -> None:
    """Names and descriptions are escaped for each language they land in, never refused for ordinary characters."""
    project = render(template_source, tmp_path / "project", {**answers, **text})
    slug = yaml.safe_load((project / ".copier-answers.yml").read_text())["project_slug"]

    problems = [problem for path in text_files(project) for problem in parse_problems(path, path.read_text())]
    lint = run([tool("ruff"), "check", "--no-cache", "--output-format", "concise", "."], cwd=project)
    formatting = run([tool("ruff"), "format", "--no-cache", "--check", "."], cwd=project)
    metadata = tomllib.loads((project / "pyproject.toml").read_text())["project"]
    package = project / "src" / slug

    assert problems == []
    assert lint.returncode == 0, lint.stdout + lint.stderr
    assert formatting.returncode == 0, formatting.stdout + formatting.stderr
    assert metadata["description"] == text["description"]
    assert metadata["authors"][0]["name"] == text["author_name"]
    assert ast.get_docstring(ast.parse((package / "__init__.py").read_text())) == (
        f"{text['project_name']}: {text['description']}"
    )
    assert module_constants(package / "web" / "app.py")["TITLE"] == text["project_name"]
    assert f"# {text['project_name']}\n\n{text['description']}\n" in (project / "README.md").read_text()


# The longest answers the questionnaire takes: a slug of 32 characters, and a name and a description of any
# length, with quotes, backslashes, wide characters (two columns each) and a word longer than a line.
LONG_TEXT = {
    "project_name": 'Acme Corporation "Inventory" Management and Warehouse Service of the Northern Region '
    "– 倉庫管理サービスと在庫の記録",  # noqa: RUF001 (a dash of another script, deliberately)
    "description": "Tracks every item in every warehouse of the company: where it is, what it costs, who "
    'moved it last and why; it answers the shops\' questions "before" they ask them, and keeps a record of '
    "each change \\ " + "x" * 130 + " that auditors can read, in 日本語 too.",
}
LONG_SLUG = "acme_corporation_inventory_mgmts"


@pytest.mark.parametrize(
    "answers",
    [
        {"framework": "fastapi", "auth": "jwt", "database": "postgresql", "deploy": "kubernetes"},
        {"framework": "flask", "db_style": "sync", "auth": "session", "deploy": "cloudrun"},
        {"framework": "fastapi", "db_style": "sync", "auth": "api_key", "ci": "gitlab"},
        {"framework": "flask", "db_style": "sync", "auth": "oidc", "deploy": "fly"},
        {"framework": "fastapi", "auth": "none", "deploy": "render"},
    ],
    ids=label,
)
def test_the_longest_answers_give_a_project_that_lints(template_source: Path, tmp_path: Path, answers: Answers) -> None:
    """Lines that name the package, or hold the name and the description, stay within 120 columns."""
    project = render(template_source, tmp_path / "project", {**answers, **LONG_TEXT, "project_slug": LONG_SLUG})
    package = project / "src" / LONG_SLUG

    problems = [problem for path in text_files(project) for problem in layout_problems(path, path.read_text())]
    lint = run([tool("ruff"), "check", "--no-cache", "--output-format", "concise", "."], cwd=project)
    formatting = run([tool("ruff"), "format", "--no-cache", "--check", "."], cwd=project)
    docstring = ast.get_docstring(ast.parse((package / "__init__.py").read_text()))

    assert problems == []
    assert lint.returncode == 0, lint.stdout + lint.stderr
    assert formatting.returncode == 0, formatting.stdout + formatting.stderr
    assert module_constants(package / "web" / "app.py")["TITLE"] == LONG_TEXT["project_name"]
    assert module_constants(package / "web" / "app.py")["DESCRIPTION"] == LONG_TEXT["description"]
    assert module_constants(package / "cli" / "__init__.py")["TITLE"] == LONG_TEXT["project_name"]
    assert docstring is not None
    assert docstring.split() == f"{LONG_TEXT['project_name']}: {LONG_TEXT['description']}".split()


def test_a_long_name_gives_a_slug_of_its_first_words(template_source: Path, tmp_path: Path) -> None:
    project = render(
        template_source,
        tmp_path / "project",
        {"project_name": "Acme Corporation Inventory Management and Warehouse Service", "auth": "jwt"},
    )

    lint = run([tool("ruff"), "check", "--no-cache", "--output-format", "concise", "."], cwd=project)
    assert (project / "src" / "acme_corporation_inventory" / "web" / "app.py").is_file()
    assert lint.returncode == 0, lint.stdout + lint.stderr


@pytest.mark.parametrize(
    "answers",
    [
        {"deploy": "kubernetes", "ci": "github"},
        {"deploy": "cloudrun", "ci": "gitlab", "database": "postgresql"},
        {"deploy": "cloudrun", "ci": "github"},
        {"deploy": "kubernetes", "ci": "none"},  # not asked without CI: an organisation's data file may still hold it
    ],
    ids=label,
)
def test_a_container_registry_answer_renders_clean(template_source: Path, tmp_path: Path, answers: Answers) -> None:
    """SUPPORTED takes the default, the CI platform's own registry: the organisation's changes the CI file,
    the manifests of the targets that pull an image, DEPLOY.md and the README."""
    project = render(
        template_source, tmp_path / "project", {**answers, "container_registry": "registry.acme.example/team"}
    )

    problems = []
    for path in text_files(project):
        text = path.read_text()
        problems += layout_problems(path.relative_to(project), text)
        problems += parse_problems(path.relative_to(project), text)
    mentioned = [path.name for path in text_files(project) if "registry.acme.example/team/" in path.read_text()]

    assert problems == []
    assert ("README.md" in mentioned, "DEPLOY.md" in mentioned) == (answers["ci"] != "none",) * 2


def test_a_postgresql_project_says_what_it_runs_on_in_development(template_source: Path, tmp_path: Path) -> None:
    project = render(template_source, tmp_path / "project", {"database": "postgresql"})

    readme = (project / "README.md").read_text()
    development_url = re.search(r"echo 'DATABASE_URL=(\S+)' >> \.env", readme)
    assert "without `DATABASE_URL`, it uses a SQLite file" in readme
    assert development_url, "no command that points the service at a development PostgreSQL"
    assert f"# DATABASE_URL={development_url[1]}\n" in (project / ".env.example").read_text()


# The team's resources at the longest names the answer takes (24 for a resource, 30 for a field), with a field of
# every type, references to items, to another resource and to their own: `resource add` writes them.
LONGEST_RESOURCES = [
    {
        "name": "warehouse_stock_moves_xy",
        "singular": "warehouse_stock_move_xy",
        "fields": [
            {"name": "a_rather_long_field_name_for_x", "type": "string", "max_length": 10000},
            {"name": "another_quite_long_field_name1", "type": "text", "max_length": 1000000, "optional": True},
            {"name": "long_reference_to_an_item_x_id", "type": "reference", "to": "items"},
            {
                "name": "self_reference_with_long_nm_id",
                "type": "reference",
                "to": "warehouse_stock_moves_xy",
                "optional": True,
            },
            {"name": "an_integer_with_a_long_name_xy", "type": "integer", "optional": True},
            {"name": "a_decimal_with_a_long_name_xyz", "type": "decimal"},
            {"name": "a_datetime_with_a_long_name_xy", "type": "datetime", "optional": True},
            {"name": "a_boolean_with_a_long_name_xyz", "type": "boolean", "optional": True},
        ],
    },
    {
        "name": "shared_labels_with_a_nam",
        "singular": "shared_label_with_a_nam",
        "owned": False,
        "fields": [{"name": "label_of_thirty_characters_abc", "type": "string", "max_length": 30}],
    },
    {
        "name": "followup_stock_adjustmen",
        "singular": "followup_stock_adjustme",
        "fields": [{"name": "movement_reference_long_nam_id", "type": "reference", "to": "warehouse_stock_moves_xy"}],
    },
]


@pytest.mark.parametrize(
    "answers",
    [
        {"framework": "fastapi", "db_style": "async", "auth": "jwt"},
        {"framework": "fastapi", "db_style": "sync", "auth": "session"},
        {"framework": "flask", "db_style": "sync", "auth": "api_key"},
        {"framework": "flask", "db_style": "sync", "auth": "none"},
    ],
    ids=label,
)
def test_the_longest_resources_render_clean(template_source: Path, tmp_path: Path, answers: Answers) -> None:
    project = render(template_source, tmp_path / "project", {**answers, "resources": LONGEST_RESOURCES})

    problems = []
    for path in text_files(project):
        problems += layout_problems(path.relative_to(project), path.read_text())
    lint = run([tool("ruff"), "check", "--no-cache", "--output-format", "concise", "."], cwd=project)
    formatting = run([tool("ruff"), "format", "--no-cache", "--check", "."], cwd=project)

    assert problems == []
    assert lint.returncode == 0, lint.stdout
    assert formatting.returncode == 0, formatting.stdout
    assert (project / "src" / SLUG / "domain" / "warehouse_stock_moves_xy" / "service.py").is_file()


def test_the_template_readme_links_lead_somewhere() -> None:
    readme = REPO / "README.md"

    assert link_problems(REPO, Path("README.md"), readme.read_text()) == []


# A Jinja test of the auth answer (`{% if auth ... %}`, `{% elif ... auth ... %}`), in a file's text.
AUTH_BRANCH = re.compile(r"\{%-?\s*(?:el)?if\b[^%]*\b(?:auth|has_users)\b")


def test_what_the_auth_answer_adds_lives_in_files_chosen_by_its_name() -> None:
    """A file shared by every auth answer tests it in two places at most (for example an import and a block):
    more, and the auth-specific part belongs in a file named by the answer, or in `includes/`."""
    branchy = {
        str(path.relative_to(REPO)): count
        for path in sorted((REPO / "template").rglob("*"))
        if path.is_file() and "auth" not in str(path.relative_to(REPO / "template"))
        if (count := len(AUTH_BRANCH.findall(path.read_text(errors="replace")))) > 2
    }

    assert branchy == {}


def module_constants(path: Path) -> dict[str, object]:
    """The module-level `NAME = <literal>` assignments of a Python file, evaluated safely."""
    assignments = [node for node in ast.parse(path.read_text()).body if isinstance(node, ast.Assign)]
    return {
        node.targets[0].id: ast.literal_eval(node.value)
        for node in assignments
        if isinstance(node.targets[0], ast.Name) and isinstance(node.value, ast.Constant)
    }


@pytest.mark.parametrize(
    ("license_answer", "first_line", "expression"),
    [
        ("Proprietary", "Copyright (c) ", "LicenseRef-Proprietary"),
        ("MIT", "MIT License", "MIT"),
        ("Apache-2.0", "Apache License", "Apache-2.0"),
        ("BSD-3-Clause", "BSD 3-Clause License", "BSD-3-Clause"),
    ],
)
def test_the_license_answer_writes_license_and_pyproject(
    template_source: Path, tmp_path: Path, license_answer: str, first_line: str, expression: str
) -> None:
    project = render(template_source, tmp_path / "project", {"license": license_answer, "author_name": "Ada"})

    license_text = (project / "LICENSE").read_text()
    metadata = tomllib.loads((project / "pyproject.toml").read_text())["project"]
    assert license_text.strip().startswith(first_line)
    assert "Ada" in license_text or license_answer == "Apache-2.0"
    assert (metadata["license"], metadata["license-files"]) == (expression, ["LICENSE"])
    private = "Private :: Do Not Upload" in metadata.get("classifiers", [])
    assert private == (license_answer == "Proprietary")
    assert "!LICENSE" in (project / ".dockerignore").read_text().splitlines(), "the image build needs LICENSE"
