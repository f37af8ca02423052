"""The questions: defaults, non-interactive use, and clear failures that write nothing."""

import json
import os
import sys
from email.errors import HeaderParseError
from email.headerregistry import Address
from pathlib import Path
from typing import Any

import pytest
import yaml
from copier import _main as copier_main
from copier._main import Worker
from jinja2.sandbox import SandboxedEnvironment
from prompt_toolkit.utils import get_cwidth
from pytest_copie.plugin import Copie
from questionary import Choice

from .conftest import PROJECT_NAME, REPO, python_for, render, run, tool

COPIER_YML = REPO / "copier.yml"
COLUMNS = 80
# The longest names a resource and a field may have: their refusals must still fit the terminal.
LONG_NAME, LONG_SINGULAR = "stock_transfer_schedules", "stock_transfer_schedule"
LONG_FIELD, LONG_FIELD_ID = "preferred_delivery_window_hour", "preferred_delivery_location_id"


def copier_copy(template_source: Path, destination: Path, *answers: str, **env: str) -> tuple[int, str]:
    data = [f"--data={answer}" for answer in (f"project_name={PROJECT_NAME}", *answers)]
    result = run(
        [sys.executable, "-m", "copier", "copy", "--trust", "--defaults", *data, str(template_source), destination],
        env={**os.environ, **env},
    )
    return result.returncode, result.stdout + result.stderr


def refusal(output: str) -> str:
    """Copier's last line, "ValueError: Validation error for question 'x': <refusal>", without its prefixes."""
    return output.rstrip().splitlines()[-1].split(": ", 2)[-1]


def saved_answers(project: Path) -> dict[str, object]:
    answers: dict[str, object] = yaml.safe_load((project / ".copier-answers.yml").read_text())
    return answers


def test_defaults_make_an_async_fastapi_service(copie: Copie) -> None:
    result = copie.copy(extra_answers={"project_name": "Acme Inventory"})

    assert result.exit_code == 0, result.exception
    assert result.project_dir is not None
    assert (
        saved_answers(result.project_dir).items()
        >= {
            "framework": "fastapi",
            "db_style": "async",
            "database": "sqlite",
            "auth": "jwt",
            "deploy": "compose",
            "ci": "github",
            "python_version": "3.13",
            "project_slug": "acme_inventory",
        }.items()
    )


def test_flask_defaults_to_a_sync_database(copie: Copie) -> None:
    result = copie.copy(extra_answers={"project_name": "Acme Inventory", "framework": "flask"})

    assert result.exit_code == 0, result.exception
    assert result.project_dir is not None
    assert saved_answers(result.project_dir)["db_style"] == "sync"


def test_non_interactive_copy(template_source: Path, tmp_path: Path) -> None:
    code, output = copier_copy(template_source, tmp_path / "svc", "framework=flask", "auth=session")

    assert code == 0, output
    assert saved_answers(tmp_path / "svc")["auth"] == "session"
    assert "uv run acme_inventory serve" in output


@pytest.mark.parametrize(
    ("answer", "question", "message"),
    [
        ("project_slug=Acme", "project_slug", "must be a lowercase identifier"),
        ("project_slug=1acme", "project_slug", "must be a lowercase identifier"),
        ("project_slug=acme-inventory", "project_slug", "must be a lowercase identifier"),
        ("project_slug=flask", "project_slug", "would shadow a module"),
        ("project_slug=json", "project_slug", "would shadow a module"),
        ("project_slug=class", "project_slug", "would shadow a module"),
        ("project_slug=dotenv", "project_slug", "would shadow a module"),  # imported by a dependency only
        ("project_slug=../escape", "project_slug", "must be a lowercase identifier"),
        ("project_slug=acme/../../escape", "project_slug", "must be a lowercase identifier"),
        ("project_slug=acme;touch pwned", "project_slug", "must be a lowercase identifier"),
        ("project_slug=$(id)", "project_slug", "must be a lowercase identifier"),
        ("project_slug=\u0430cme", "project_slug", "must be a lowercase identifier"),  # Cyrillic a
        ("project_slug=acmé", "project_slug", "must be a lowercase identifier"),
        ("project_slug=", "project_slug", "must be a lowercase identifier"),
        (f"project_slug={'a' * 33}", "project_slug", "must be at most 32 characters long"),
        ("project_name=Acme\nInventory", "project_name", "must be one line of text"),
        ("description=two\nlines", "description", "must be one line of text"),
        ("author_name=\x1b[31mred", "author_name", "must be one line of text"),
        ("project_name= ", "project_name", "must not be empty"),
        ("author_email=not-an-email", "author_email", "must be an e-mail address"),
        ("author_email=a@b", "author_email", "must be an e-mail address"),
        ("code_owners=@acme/platform not-an-owner", "code_owners", "must be @user, @org/team or e-mail"),
        ("python_image=python 3.13", "python_image", "must be an image reference"),
        (
            "container_registry=registry.acme.example/team:1.0",
            "container_registry",
            "lowercase host/path, no tag",
        ),  # a tag
        (
            "container_registry=Registry.acme.example/Team",
            "container_registry",
            "lowercase host/path, no tag",
        ),  # capitals
        (
            "container_registry=acme/team",
            "container_registry",
            "lowercase host/path, no tag",
        ),  # Docker Hub's, without its host
        ("container_registry=registry.acme.example/team/", "container_registry", "lowercase host/path, no tag"),
        ("container_registry=registry.acme.example/$(id)", "container_registry", "lowercase host/path, no tag"),
        *(
            (f"resources={json.dumps(resources)}", "resources", message)
            for resources, message in [
                (
                    [{"name": "items", "singular": "thing", "fields": [{"name": LONG_FIELD, "type": "integer"}]}],
                    "is taken",
                ),
                (
                    [{"name": "order", "singular": LONG_SINGULAR, "fields": [{"name": LONG_FIELD, "type": "integer"}]}],
                    "is taken",
                ),
                (
                    [{"name": "classes", "singular": "class", "fields": [{"name": LONG_FIELD, "type": "integer"}]}],
                    "is taken",
                ),
                (
                    [{"name": "Orders", "singular": "order", "fields": [{"name": LONG_FIELD, "type": "integer"}]}],
                    "snake_case",
                ),
                ([{"name": LONG_NAME, "singular": LONG_SINGULAR, "fields": []}], "at least one field"),
                (
                    [{"name": LONG_NAME, "singular": LONG_SINGULAR, "fields": [{"name": LONG_FIELD, "type": "money"}]}],
                    "unknown type",
                ),
                (
                    [{"name": LONG_NAME, "singular": LONG_SINGULAR, "fields": [{"name": "id", "type": "integer"}]}],
                    "is taken",
                ),
                (
                    [
                        {
                            "name": LONG_NAME,
                            "singular": LONG_SINGULAR,
                            "fields": [{"name": LONG_FIELD, "type": "string"}],
                        }
                    ],
                    "max_length",
                ),
                (
                    [
                        {
                            "name": LONG_NAME,
                            "singular": LONG_SINGULAR,
                            "fields": [{"name": LONG_FIELD_ID, "type": "reference", "to": "users"}],
                        }
                    ],
                    "earlier resource",
                ),
                (
                    [
                        {
                            "name": LONG_NAME,
                            "singular": LONG_SINGULAR,
                            "fields": [{"name": LONG_FIELD, "type": "reference", "to": "items"}],
                        }
                    ],
                    "_id",
                ),
                (
                    [
                        {
                            "name": LONG_NAME,
                            "singular": LONG_SINGULAR,
                            "owned": False,
                            "fields": [{"name": LONG_FIELD_ID, "type": "reference", "to": "items"}],
                        }
                    ],
                    "shared",
                ),
                (
                    [
                        {
                            "name": LONG_NAME,
                            "singular": LONG_SINGULAR,
                            "fields": [{"name": LONG_FIELD_ID, "type": "reference", "to": LONG_NAME}],
                        }
                    ],
                    "must be optional",
                ),
                (
                    [
                        {
                            "name": LONG_NAME,
                            "singular": LONG_SINGULAR,
                            "fields": [{"name": LONG_FIELD, "type": "integer"}, {"name": LONG_FIELD, "type": "text"}],
                        }
                    ],
                    "two fields named",
                ),
                ("not a list", "each resource needs"),
            ]
        ),
        ("python_version=3.9", "python_version", "Invalid choice"),
        ("database=mysql", "database", "Invalid choice"),
    ],
)
def test_invalid_answer_fails_and_writes_nothing(
    template_source: Path, tmp_path: Path, answer: str, question: str, message: str
) -> None:
    destination = tmp_path / "svc"

    code, output = copier_copy(template_source, destination, answer)

    assert code != 0
    assert f"'{question}'" in output
    assert message in output
    assert get_cwidth(refusal(output)) <= COLUMNS
    assert list(tmp_path.iterdir()) == [], "nothing may be written, inside the destination or beside it"


def test_flask_with_async_database_is_refused_with_its_reason(template_source: Path, tmp_path: Path) -> None:
    destination = tmp_path / "svc"

    code, output = copier_copy(template_source, destination, "framework=flask", "db_style=async")

    assert code != 0
    assert "Invalid choice for 'db_style'" in output
    assert "Flask runs each async view in a new event loop" in output
    assert not destination.exists()


def test_copy_without_git_or_uv_still_succeeds_and_says_what_to_do(template_source: Path, tmp_path: Path) -> None:
    empty_bin = tmp_path / "bin"
    empty_bin.mkdir()

    code, output = copier_copy(template_source, tmp_path / "svc", PATH=str(empty_bin))

    assert code == 0, output
    assert "skipped locking dependencies: `uv` is not installed" in output
    assert "skipped git init: `git` is not installed" in output
    assert (tmp_path / "svc" / "pyproject.toml").is_file()


def test_copy_starts_a_git_repository(template_source: Path, tmp_path: Path) -> None:
    code, output = copier_copy(
        template_source,
        tmp_path / "svc",
        GIT_AUTHOR_NAME="Test",
        GIT_AUTHOR_EMAIL="test@example.com",
        GIT_COMMITTER_NAME="Test",
        GIT_COMMITTER_EMAIL="test@example.com",
        PATH=f"{Path(tool('uv')).parent}{os.pathsep}{os.environ['PATH']}",
    )

    assert code == 0, output
    project = tmp_path / "svc"
    log = run(["git", "log", "--oneline"], cwd=project)
    assert "Generate project from template" in log.stdout
    assert run(["git", "status", "--porcelain"], cwd=project).stdout == ""
    assert run(["git", "ls-files", "uv.lock"], cwd=project).stdout.strip() == "uv.lock", output
    current = run([tool("uv"), "lock", "--check", "--offline"], cwd=project)
    assert current.returncode == 0, f"uv.lock is not current (`uv sync --locked` would fail):\n{current.stderr}"


def fake_uv(directory: Path, *, lock_fails: bool = False, python_missing: bool = False) -> str:
    """A PATH whose `uv` answers as a broken installation would; git and the rest stay available."""
    directory.mkdir()
    script = directory / "uv"
    script.write_text(
        "#!/bin/sh\n"
        f'if [ "$1" = lock ] && {str(lock_fails).lower()}; then echo "error: No solution found" >&2; exit 1; fi\n'
        f'if [ "$1" = python ] && {str(python_missing).lower()}; then echo "error: No interpreter" >&2; exit 2; fi\n'
        "exit 0\n"
    )
    script.chmod(0o755)
    return f"{directory}{os.pathsep}{os.environ['PATH']}"


def test_a_failing_lock_says_what_failed_and_how_to_retry(template_source: Path, tmp_path: Path) -> None:
    code, output = copier_copy(template_source, tmp_path / "svc", PATH=fake_uv(tmp_path / "bin", lock_fails=True))

    assert code == 0, output
    assert "locking dependencies failed: `uv lock --quiet` said:\nerror: No solution found" in output
    assert "then run `uv lock --quiet`" in output
    assert "Install uv" not in output


def test_a_missing_python_is_named_with_its_install_command(template_source: Path, tmp_path: Path) -> None:
    code, output = copier_copy(
        template_source, tmp_path / "svc", "python_version=3.12", PATH=fake_uv(tmp_path / "bin", python_missing=True)
    )

    assert code == 0, output
    assert "Python 3.12 (the project's python_version) is not installed" in output
    assert "`uv python install 3.12`" in output


# The default slug -----------------------------------------------------------------------------------------------


def copier_answers(template_source: Path, **data: str) -> dict[str, object]:
    """Every answer, computed ones included, of a `--defaults` copy with this data: Copier's questionnaire only
    (`Worker._ask`), without rendering a file."""
    with Worker(
        src_path=str(template_source),
        dst_path=template_source.parent / "never-written",
        data=data,
        defaults=True,
        unsafe=True,
        skip_tasks=True,
        quiet=True,
        pretend=True,
    ) as worker:
        worker._ask()
        return dict(worker.answers.combined)


@pytest.mark.parametrize(
    ("name", "slug"),
    [
        ("Café d'Orsay API", "cafe_d_orsay_api"),
        ("Crème Brûlée", "creme_brulee"),
        ("Łódź Straße", "lodz_strasse"),
        ("Ærøskøbing Færge", "aeroskobing_faerge"),
        ("Œuvre Þing Đakovo", "oeuvre_thing_dakovo"),
        ("İstanbul Şişli Çay", "istanbul_sisli_cay"),
        ("Brașov Țară", "brasov_tara"),
        ("Cre\u0300me Bru\u0302le\u0301e", "creme_brulee"),  # the accents as combining characters
        ("Zoë's Café \u2013 日本語", "zoe_s_cafe"),  # an en dash
        ("2024 Café", "app_2024_cafe"),
        ("Acme Inventory", "acme_inventory"),
        # At most 32 characters: whole words while they fit, else the first 32.
        ("Acme Corporation Inventory Management and Warehouse Service", "acme_corporation_inventory"),
        ("Acme Corporation Inventory Mgmt Service", "acme_corporation_inventory_mgmt"),
        ("Acme Corporation Inventory Mgmts", "acme_corporation_inventory_mgmts"),
        ("Supercalifragilisticexpialidocious Service", "supercalifragilisticexpialidocio"),
    ],
)
def test_the_default_slug_spells_the_name_in_ascii(template_source: Path, name: str, slug: str) -> None:
    assert copier_answers(template_source, project_name=name)["project_slug"] == slug


@pytest.mark.parametrize("name", ["日本語サービス", "Сервис", "Ελληνικά 2024", "خدمة الطلبات", "서비스 1"])
def test_a_name_without_latin_letters_needs_a_slug_under_defaults(
    template_source: Path, tmp_path: Path, name: str
) -> None:
    code, output = copier_copy(template_source, tmp_path / "svc", f"project_name={name}")

    assert code != 0
    assert "Validation error for question 'project_slug': no Latin letters in the name" in output
    assert "pass -d project_slug=NAME" in output
    assert list(tmp_path.iterdir()) == [], "nothing may be written, inside the destination or beside it"
    assert copier_answers(template_source, project_name=name, project_slug="orders")["project_slug"] == "orders"


def test_a_name_that_gives_a_reserved_slug_says_to_pass_one(template_source: Path, tmp_path: Path) -> None:
    code, output = copier_copy(template_source, tmp_path / "svc", "project_name=Flask")

    assert code != 0
    assert '"flask", from the name, would shadow a module: pass -d project_slug=NAME' in output
    assert list(tmp_path.iterdir()) == []


# The author's e-mail: what hatchling, the generated project's build backend, takes -------------------------------


def hatchling_takes(address: str) -> bool:
    """Whether hatchling writes this `authors` e-mail into the core metadata: it parses it with this class,
    and every `uv run` of the project fails when it raises."""
    try:
        str(Address(display_name="Ada", addr_spec=address))
    except (ValueError, HeaderParseError):  # the defects are ValueErrors too
        return False
    return True


@pytest.mark.parametrize(
    "address",
    ["zoë@example.com", "josé.garcía@example.es", "用户@例子.广告", "андрей@пример.рф", "ståle@example.no"],
)
def test_an_e_mail_with_letters_beyond_ascii_before_the_at_is_refused_with_why(
    template_source: Path, tmp_path: Path, address: str
) -> None:
    code, output = copier_copy(template_source, tmp_path / "svc", f"author_email={address}")

    assert not hatchling_takes(address)
    assert code != 0
    assert "Validation error for question 'author_email': hatchling needs ASCII before the @" in output
    assert list(tmp_path.iterdir()) == []


def questionnaire_takes(template_source: Path, address: str) -> bool:
    try:
        copier_answers(template_source, project_name=PROJECT_NAME, author_email=address)
    except ValueError as refused:
        if "'author_email'" not in str(refused):
            raise
        return False
    return True


@pytest.mark.parametrize(
    ("address", "accepted"),
    [
        ("you@example.com", True),
        ("o'brien+orders@sub.example-1.co.uk", True),
        ("you@exämple.com", True),  # beyond ASCII after the @ is fine
        ("you@例え.jp", True),
        ("a..b@example.com", False),
        (".a@example.com", False),
        ("a,b@example.com", False),
        ("a:b@example.com", False),
        ("a[b@example.com", False),
        ("a\\b@example.com", False),
        ('a"b@example.com', False),
        ("you@example..com", False),
        ("you@ex(a)mple.com", False),
        ("you@ex,ample.com", False),
        ("a@b", False),
        ("not-an-email", False),
    ],
)
def test_an_accepted_e_mail_is_one_hatchling_takes(template_source: Path, address: str, accepted: bool) -> None:
    taken = questionnaire_takes(template_source, address)

    assert taken == accepted
    assert hatchling_takes(address) or not taken, "the questionnaire accepts an e-mail the build backend refuses"


# The questionnaire on an 80-column terminal -------------------------------------------------------------------------

INVALID_ANSWERS = {
    "project_name": [" ", "Acme\x1bInventory"],
    "project_slug": ["", "Acme", "acme-inventory", "flask", "class"],
    "description": ["two\nlines"],
    "author_name": ["\x1b[31mred"],
    "author_email": ["not-an-email", "zoë@example.com", "a..b@example.com"],
    "code_owners": ["@acme/platform not-an-owner"],
    "python_image": ["python 3.13"],
    "container_registry": ["Registry.acme.example/Team:1.0"],
}


class Terminal:
    """Stands in for questionary under `copier copy` without --defaults: keeps each question as Copier hands it
    over, and answers it from a script, else with its default (as Enter does)."""

    def __init__(self, script: dict[str, str]) -> None:
        self.script = script
        self.questions: dict[str, dict[str, Any]] = {}

    def __call__(self, questions: list[dict[str, Any]], answers: dict[str, Any]) -> dict[str, Any]:
        (question,) = questions
        if not question["when"](answers):
            return answers
        name = question["name"]
        self.questions[name] = question
        answer = self.script.get(name, question.get("default", ""))
        answer = answer.value if isinstance(answer, Choice) else answer
        if "validate" in question:
            assert question["validate"](answer) is True, f"{name}: {answer!r} refused"
        return {name: question["filter"](answer)}


def ask(template_source: Path, monkeypatch: pytest.MonkeyPatch, **script: str) -> dict[str, dict[str, Any]]:
    """The questions an interactive copy asks, answered from the script (Copier's questionnaire only)."""
    terminal = Terminal(script)
    monkeypatch.setattr(copier_main, "unsafe_prompt", terminal)
    with Worker(
        src_path=str(template_source),
        dst_path=template_source.parent / "never-written",
        unsafe=True,
        skip_tasks=True,
        quiet=True,
        pretend=True,
    ) as worker:
        worker._ask()
    return terminal.questions


def drawn_lines(question: dict[str, Any]) -> list[str]:
    """What questionary draws at a fixed width, cutting what overflows: the question mark and the help on the
    lines above the input (the input line itself wraps), and each choice, a disabled one with its reason."""
    *above_input, input_line = f"{question['qmark']} {question['message']} ".split("\n")
    placeholder = [input_line + question["placeholder"]] if "placeholder" in question else []
    choices = [
        f"   - {choice.title} ({choice.disabled})" if choice.disabled else f"   {choice.title}"
        for choice in question.get("choices", [])
    ]
    return [*above_input, *placeholder, *choices]


def too_wide(lines: list[str]) -> list[str]:
    return [line for line in lines if get_cwidth(line) > COLUMNS]


@pytest.mark.parametrize(
    "script",
    [
        {"project_name": PROJECT_NAME, "framework": "flask"},  # disables the async database style
        {"project_name": "日本語サービス", "project_slug": "nihongo"},
        {"project_name": "Flask", "project_slug": "flask_app"},
    ],
    ids=["flask", "no-latin-letters", "reserved-slug"],
)
def test_every_question_fits_80_columns(
    template_source: Path, monkeypatch: pytest.MonkeyPatch, script: dict[str, str]
) -> None:
    """Each help, choice and reason on its line, and each error on the one line prompt_toolkit's validation
    toolbar has, with Copier's "Validation error for question '...': " before it."""
    questions = ask(template_source, monkeypatch, **script)
    errors = [
        question["validate"](answer) for name, question in questions.items() for answer in INVALID_ANSWERS.get(name, [])
    ]
    asked_and_validated = {
        name
        for name, details in yaml.safe_load(COPIER_YML.read_text()).items()
        if "validator" in details and details.get("ask", True)
    }

    assert asked_and_validated - {"framework"} <= INVALID_ANSWERS.keys(), "give each validated question invalid answers"
    assert len(questions) == 16 if script.get("framework") else 15
    assert too_wide([line for question in questions.values() for line in drawn_lines(question)]) == []
    assert all(isinstance(error, str) and "\n" not in error for error in errors), errors
    assert too_wide(errors) == []


def test_a_reason_a_choice_is_disabled_is_shown(template_source: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    db_style = ask(template_source, monkeypatch, project_name=PROJECT_NAME, framework="flask")["db_style"]

    assert [choice.disabled for choice in db_style["choices"]] == ["Flask runs each async view in a new event loop", ""]


def test_the_refused_framework_switch_prints_lines_that_fit() -> None:
    """Choices are not validated interactively: this message only ends a non-interactive update, printed whole."""
    validator = yaml.safe_load(COPIER_YML.read_text())["framework"]["validator"]

    message = (
        SandboxedEnvironment()
        .from_string(validator)
        .render(framework="flask", db_style="async", _copier_conf={"data": {}})
    )

    assert "-d framework=flask -d db_style=sync" in message
    assert too_wide(message.splitlines()) == []


@pytest.mark.parametrize(
    ("name", "placeholder"),
    [
        ("日本語サービス", "type one: the name has no Latin letters to derive it from"),
        ("Flask", 'type one: "flask" would shadow a module'),
    ],
)
def test_a_name_that_gives_no_slug_asks_for_one_with_nothing_filled_in(
    template_source: Path, monkeypatch: pytest.MonkeyPatch, name: str, placeholder: str
) -> None:
    slug = ask(template_source, monkeypatch, project_name=name, project_slug="orders")["project_slug"]

    assert "default" not in slug
    assert slug["placeholder"] == placeholder
    assert slug["validate"]("") == "Validation error for question 'project_slug': must be a lowercase identifier"


# A name and a description with confusable characters, as typed ------------------------------------------------------


@pytest.mark.deep
def test_a_name_with_an_en_dash_gives_a_project_that_lints_and_builds(template_source: Path, tmp_path: Path) -> None:
    project = render(
        template_source,
        tmp_path / "project",
        {
            "project_name": "Zoë's Café \u2013 日本語",  # an en dash
            "description": "Orders \u2013 \u201cquoted\u201d and \u2018single-quoted\u2019 \u2013 for Zoë\u2019s café",
            "author_email": "zoe@café.example",  # beyond ASCII after the @: hatchling takes it
        },
    )
    uv_env = {**os.environ, "UV_PYTHON": python_for("3.13")}
    synced = run([tool("uv"), "sync", "--quiet"], cwd=project, env=uv_env)

    assert synced.returncode == 0, synced.stderr
    for check in (["ruff", "check", "."], ["ruff", "format", "--check", "."], ["zoe_s_cafe", "--help"]):
        result = run([tool("uv"), "run", "--frozen", *check], cwd=project, env=uv_env)
        assert result.returncode == 0, f"`{' '.join(check)}` failed:\n{result.stdout}\n{result.stderr}"
