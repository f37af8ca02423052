"""When and where the generated CI publishes the image, as test_deployment.py checks it in the CI files and
test_pipelines.py runs it."""

from .combinations import Answers
from .conftest import SLUG

NAME = SLUG.replace("_", "-")
# The publish job's condition: a push to the default branch, never a pull or merge request or a schedule.
GITHUB_PUSH_TO_MAIN = "github.event_name == 'push' && github.ref == 'refs/heads/main'"
GITLAB_PUSH_TO_DEFAULT_BRANCH = '$CI_PIPELINE_SOURCE == "push" && $CI_COMMIT_BRANCH == $CI_DEFAULT_BRANCH'


def publish_target(answers: Answers) -> str:
    """The repository the publish job pushes to: the organisation's registry, else the CI platform's own."""
    if answers.get("container_registry"):
        return f"{answers['container_registry']}/{NAME}"
    return {"github": "ghcr.io/$GITHUB_REPOSITORY", "gitlab": "$CI_REGISTRY_IMAGE"}[answers["ci"]]
