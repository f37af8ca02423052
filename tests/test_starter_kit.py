"""The template as an organisation's starter kit: a data file sets the organisation's answers once, and an
overlay template adds the organisation's own files to the same project, each updated on its own."""

import os
import shutil
import sys
from pathlib import Path

import copier
import pytest
import yaml

from .conftest import REPO, copy_template, git, render, run, tag_release

ORGANISATION = REPO / "examples" / "organisation" / "answers.yml"
OVERLAY = REPO / "examples" / "organisation-overlay"
OVERLAY_ANSWERS = ".copier-answers.acme.yml"


def answers(project: Path, answers_file: str = ".copier-answers.yml") -> dict[str, object]:
    saved: dict[str, object] = yaml.safe_load((project / answers_file).read_text())
    return saved


def test_an_organisation_data_file_lands_where_each_value_belongs(template_source: Path, tmp_path: Path) -> None:
    project = tmp_path / "billing"
    command = [sys.executable, "-m", "copier", "copy", "--trust", "--defaults", "--skip-tasks"]
    command += ["--data-file", ORGANISATION, "-d", "project_name=Billing", template_source, project]
    copied = run(command)
    assert copied.returncode == 0, copied.stderr
    organisation = yaml.safe_load(ORGANISATION.read_text())

    pyproject = (project / "pyproject.toml").read_text()
    assert f'authors = [{{ name = "{organisation["author_name"]}", email = "{organisation["author_email"]}" }}]' in (
        pyproject
    )
    assert f'license = "{organisation["license"]}"' in pyproject
    assert "Apache License" in (project / "LICENSE").read_text()
    assert (project / "CODEOWNERS").read_text().splitlines()[-1] == f"* {organisation['code_owners']}"
    assert f"ARG PYTHON_IMAGE={organisation['python_image']}\n" in (project / "Dockerfile").read_text()
    # The registry: where CI pushes, what the Kubernetes overlay pulls, what DEPLOY.md and the README name.
    repository = f"{organisation['container_registry']}/billing"
    publish = yaml.safe_load((project / ".gitlab-ci.yml").read_text())["publish"]["script"][-1]
    assert publish == f'sh scripts/publish-image.sh "billing:$CI_COMMIT_SHA" "{repository}"'
    overlay = yaml.safe_load((project / "k8s" / "overlays" / "production" / "kustomization.yaml").read_text())
    assert overlay["images"] == [{"name": "billing", "newName": repository, "newTag": "0.1.0"}]
    assert f"IMAGE={repository}\n" in (project / "DEPLOY.md").read_text()
    assert f"`{repository}`" in (project / "README.md").read_text()
    assert (project / "src" / "billing" / "web" / "server.py").read_text().count("gunicorn") > 0  # flask
    assert (project / "src" / "billing" / "domain" / "oidc" / "service.py").is_file()
    assert (project / "k8s").is_dir()
    assert (project / ".gitlab-ci.yml").is_file()
    assert not (project / ".github").exists()
    assert {key: answers(project)[key] for key in organisation} == organisation


def test_no_code_owners_means_no_codeowners_file(template_source: Path, tmp_path: Path) -> None:
    project = render(template_source, tmp_path / "svc", {})
    assert not (project / "CODEOWNERS").exists()


@pytest.mark.deep
def test_the_overlay_and_the_template_update_independently(tmp_path: Path) -> None:
    template = copy_template(tmp_path / "template")
    overlay = Path(shutil.copytree(OVERLAY, tmp_path / "overlay"))
    tag_release(template, "v1.0.0")
    tag_release(overlay, "v1.0.0")

    project = tmp_path / "project"
    render(template, project, {})
    copier.run_copy(str(overlay), project, data={"log_retention_days": 90}, defaults=True, quiet=True)
    tag_release(project, "generated")
    policy = project / "LOGGING_POLICY.md"
    policy.write_text(policy.read_text() + "- Audit logs are kept for a year.\n")
    git(project, "commit", "-qam", "our own rule")

    readme = template / "template" / "README.md.jinja"
    readme.write_text(readme.read_text() + "\nReleased twice.\n")
    tag_release(template, "v2.0.0")
    overlay_policy = overlay / "template" / "LOGGING_POLICY.md.jinja"
    overlay_policy.write_text(overlay_policy.read_text().replace("standard error", "standard error, one per line"))
    tag_release(overlay, "v2.0.0")

    copier.run_update(project, defaults=True, overwrite=True, unsafe=True, skip_tasks=True, quiet=True)
    assert git(project, "status", "--porcelain", "--", policy.name, OVERLAY_ANSWERS) == "", "the overlay's files moved"
    git(project, "add", "-A")
    git(project, "commit", "-qm", "template v2")
    copier.run_update(project, answers_file=OVERLAY_ANSWERS, defaults=True, overwrite=True, unsafe=True, quiet=True)

    assert (project / "README.md").read_text().endswith("Released twice.\n")
    policy_text = policy.read_text()
    assert "standard error, one per line" in policy_text
    assert "Audit logs are kept for a year." in policy_text
    assert "Logs are kept 90 days" in policy_text
    assert (answers(project)["_commit"], answers(project, OVERLAY_ANSWERS)["_commit"]) == ("v2.0.0", "v2.0.0")
    assert "log_retention_days" not in answers(project)
    assert "<<<<<<<" not in "".join(path.read_text() for path in project.glob("*.md"))


def test_copier_settings_defaults_become_the_organisations_defaults(template_source: Path, tmp_path: Path) -> None:
    settings = tmp_path / "settings.yml"
    settings.write_text(yaml.safe_dump({"defaults": {"framework": "flask", "code_owners": "@acme/platform"}}))
    project = tmp_path / "svc"
    command = [sys.executable, "-m", "copier", "copy", "--trust", "--defaults", "--skip-tasks"]
    environment = {**os.environ, "COPIER_SETTINGS_PATH": str(settings)}
    copied = run([*command, "-d", "project_name=Svc", template_source, project], env=environment)
    assert copied.returncode == 0, copied.stderr
    assert (answers(project)["framework"], answers(project)["db_style"]) == ("flask", "sync")
    assert (project / "CODEOWNERS").read_text().endswith("* @acme/platform\n")
