"""The declared combinations keep their promises: DEEP covers what `combinations.py` says it covers."""

from itertools import combinations, product

from .combinations import CHOICES, DEEP, PYTHON_VERSIONS, SUPPORTED, is_supported

QUESTIONS = {**CHOICES, "python_version": PYTHON_VERSIONS}
# The questions that change the project's code or the commands its CI runs: `deploy` only adds manifests.
CODE_QUESTIONS = {question: values for question, values in QUESTIONS.items() if question != "deploy"}
SUPPORTED_WITH_PYTHON = [{**row, "python_version": version} for row in SUPPORTED for version in PYTHON_VERSIONS]


def test_every_deep_row_is_a_supported_combination() -> None:
    assert [row for row in DEEP if not is_supported(row)] == []
    assert all(set(row) == set(QUESTIONS) for row in DEEP)


def test_deep_combinations_cover_every_pair() -> None:
    """Every pair of values of any two questions that change the code is generated and tested deeply, unless the
    pair is unsupported."""
    missing = [
        ((first, first_value), (second, second_value))
        for first, second in combinations(CODE_QUESTIONS, 2)
        for first_value, second_value in product(CODE_QUESTIONS[first], CODE_QUESTIONS[second])
        if any(row[first] == first_value and row[second] == second_value for row in SUPPORTED_WITH_PYTHON)
        and not any(row[first] == first_value and row[second] == second_value for row in DEEP)
    ]

    assert missing == []


def test_deep_combinations_cover_every_framework_db_style_and_database() -> None:
    triples = {(row["framework"], row["db_style"], row["database"]) for row in SUPPORTED}

    assert triples <= {(row["framework"], row["db_style"], row["database"]) for row in DEEP}


def test_deep_combinations_deploy_to_every_target() -> None:
    assert {row["deploy"] for row in DEEP} == set(CHOICES["deploy"])
