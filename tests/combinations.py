"""The combinations of answers the template is tested with, declared in one place.

SUPPORTED is every combination a user can choose; each is rendered and checked statically.
DEEP is a covering subset that is installed, linted, type-checked, tested and served: it holds every
framework x db_style x database value, every pair of values of any two questions that change the code or
the commands CI runs (all but `deploy`), and every `deploy` value, whose manifests are checked statically
and by test_deployment.py (`test_combinations.py` keeps it honest when a choice is added).
"""

from itertools import product
from typing import Any

CHOICES: dict[str, list[str]] = {
    "framework": ["fastapi", "flask"],
    "db_style": ["async", "sync"],
    "database": ["sqlite", "postgresql"],
    "auth": ["none", "jwt", "session", "api_key", "oidc"],
    "deploy": ["compose", "kubernetes", "fly", "render", "cloudrun"],
    "ci": ["github", "gitlab", "none"],
}
PYTHON_VERSIONS = ["3.11", "3.12", "3.13"]

Answers = dict[str, Any]


def is_supported(answers: Answers) -> bool:
    """Flask with an async database is a disabled choice (see copier.yml)."""
    return not (answers["framework"] == "flask" and answers["db_style"] == "async")


SUPPORTED: list[Answers] = [
    answers
    for answers in (dict(zip(CHOICES, values, strict=True)) for values in product(*CHOICES.values()))
    if is_supported(answers)
]

_DEEP_ROWS = """
framework db_style database   auth    deploy     ci     python_version
flask     sync     postgresql api_key compose    github 3.11
fastapi   sync     sqlite     jwt     kubernetes github 3.11
flask     sync     sqlite     none    fly        gitlab 3.11
fastapi   async    postgresql oidc    render     gitlab 3.11
fastapi   async    postgresql session cloudrun   none   3.11
fastapi   async    sqlite     api_key compose    none   3.12
fastapi   async    postgresql jwt     kubernetes gitlab 3.12
fastapi   sync     sqlite     none    fly        none   3.12
flask     sync     sqlite     oidc    render     github 3.12
fastapi   sync     postgresql session cloudrun   github 3.12
flask     sync     postgresql api_key compose    gitlab 3.13
flask     sync     sqlite     jwt     kubernetes none   3.13
fastapi   async    postgresql none    fly        github 3.13
flask     sync     postgresql oidc    render     none   3.13
flask     sync     sqlite     session cloudrun   gitlab 3.13
"""


def _parse_rows(table: str) -> list[Answers]:
    header, *rows = (line.split() for line in table.strip().splitlines())
    return [dict(zip(header, row, strict=True)) for row in rows]


DEEP: list[Answers] = _parse_rows(_DEEP_ROWS)


def label(answers: Answers) -> str:
    return "-".join(str(answers[key]) for key in answers if key != "project_name")
