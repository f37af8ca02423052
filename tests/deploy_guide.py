"""DEPLOY.md's commands, read as a shell would read them, checked against the manifests they drive.

A user copies DEPLOY.md's commands one after another. Each `sh` block is split into simple commands (quotes,
`$(...)`, `&&`, pipes, `for` loops, `cd` and variable assignments handled; every block runs in one shell, in
document order), and each kubectl, kustomize, fly, gcloud and docker command is checked against the rendered
files: the namespace it names, the secret it creates, the job it waits for, the service it forwards to, the
volume it creates, the file it edits, the image it deploys (one that DEPLOY.md pushes, or that the CI file's
publish job pushes)... must be the ones the manifests use. Kubernetes commands are replayed
on a model of the cluster (what exists after each step), so a step that needs a secret a later step creates
fails too. Inline commands in the prose are checked against the final state. Names in the prose
(`Deployment/NAME`, the namespace `NAME`, the Job `NAME`) must exist too.
"""

import re
import shlex
import textwrap
import tomllib
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from .manifests import kustomize_build, pod_specs

PROGRAMS = {"kubectl", "kustomize", "fly", "flyctl", "gcloud", "docker"}
PUBLISH = ["sh", "scripts/publish-image.sh"]  # IMAGE:TAG REPOSITORY: pushes REPOSITORY:TAG
CI_FILES = [".github/workflows/ci.yml", ".gitlab-ci.yml"]
OPERATORS = ("&&", "||", ";", "|", ">>", ">", "\n")
VARIABLE = re.compile(r"\$(?:\{(\w+)\}|(\w+))")
SUBSTITUTED = "VALUE"  # what a `$(...)` stands for: some value the user's machine computes


# Reading the shell -------------------------------------------------------------------------------------------

Word = list[tuple[str, str]]  # segments: ("literal" | "expand" | "command", text)


@dataclass
class Command:
    args: list[str]
    cwd: str  # relative to the project, after the `cd`s before it
    source: str  # the block or span it comes from, for messages
    stdin: str | None = None  # what the command before it in a pipeline prints, when `printf` or `echo`
    stdout: str | None = None  # the file a `>` redirects its output to
    inline: bool = False  # an inline code span of the prose, not a step of the walk-through

    def __str__(self) -> str:
        return " ".join(self.args)


def _closing(text: str, start: int) -> int:
    """The index of the `)` that closes the `$(` before start (quotes inside respected)."""
    depth, i, quote = 1, start, ""
    while i < len(text):
        c = text[i]
        if quote:
            quote = "" if c == quote else quote
        elif c in "'\"":
            quote = c
        elif c == "(":
            depth += 1
        elif c == ")":
            depth -= 1
            if depth == 0:
                return i
        i += 1
    raise ValueError(f"unclosed $( in {text!r}")


def tokenize(text: str) -> list[Word | str]:
    """Words (as segments) and operators; backslash-newline joins lines, `#` at a word's start comments."""
    tokens: list[Word | str] = []
    word: Word | None = None

    def add(kind: str, piece: str) -> None:
        nonlocal word
        word = word if word is not None else []
        if word and word[-1][0] == kind:
            word[-1] = (kind, word[-1][1] + piece)
        else:
            word.append((kind, piece))

    def flush() -> None:
        nonlocal word
        if word is not None:
            tokens.append(word)
        word = None

    i = 0
    while i < len(text):
        c = text[i]
        if text.startswith("\\\n", i):
            i += 2
        elif c in " \t":
            flush()
            i += 1
        elif c == "#" and word is None:
            i = text.find("\n", i) if "\n" in text[i:] else len(text)
        elif operator := next((o for o in OPERATORS if text.startswith(o, i)), None):
            flush()
            tokens.append(operator)
            i += len(operator)
        elif c == "'":
            end = text.index("'", i + 1)
            add("literal", text[i + 1 : end])
            i = end + 1
        elif c == '"':
            i += 1
            while text[i] != '"':
                if text.startswith("$(", i):
                    end = _closing(text, i + 2)
                    add("command", text[i + 2 : end])
                    i = end + 1
                elif text[i] == "\\" and text[i + 1] in '"$`\\':
                    add("literal", text[i + 1])
                    i += 2
                else:
                    add("expand", text[i])
                    i += 1
            add("literal", "")  # "" is a word too
            i += 1
        elif text.startswith("$(", i):
            end = _closing(text, i + 2)
            add("command", text[i + 2 : end])
            i = end + 1
        elif c == "\\":
            add("literal", text[i + 1])
            i += 2
        else:
            add("expand", c)
            i += 1
    flush()
    return tokens


@dataclass
class Shell:
    """One shell session: the variables and the directory persist from one block to the next."""

    variables: dict[str, str] = field(default_factory=dict)
    cwd: str = "."
    previous_cwd: str = "."
    undefined: list[str] = field(default_factory=list)

    def expand(self, word: Word, bindings: dict[str, str]) -> str:
        def value(match: re.Match[str]) -> str:
            name = match.group(1) or match.group(2)
            if name in bindings:
                return bindings[name]
            if name not in self.variables:
                self.undefined.append(name)
                return match.group(0)
            return self.variables[name]

        return "".join(
            text if kind == "literal" else SUBSTITUTED if kind == "command" else VARIABLE.sub(value, text)
            for kind, text in word
        )

    def run(self, text: str, *, inline: bool = False) -> list[Command]:
        """The simple commands of a block, with `for` loops unrolled and variables expanded."""
        raw: list[tuple[list[Word], str]] = []  # (words, the operator after them)
        words: list[Word] = []
        for token in tokenize(text):
            if isinstance(token, str):
                raw.append((words, token))
                words = []
            else:
                words.append(token)
        raw.append((words, "\n"))
        commands: list[Command] = []
        pending: list[tuple[list[Word], str]] = []  # outside loops: one pipeline or redirection may span entries
        loop: tuple[str, list[str]] | None = None
        body: list[tuple[list[Word], str]] = []
        for words, operator in raw:
            first = "".join(text for _, text in words[0]) if words else ""  # unexpanded: `for`, `do`, `done`
            if loop is None and first == "for":
                commands += self._simple(pending, {}, text, inline)
                pending = []
                names = [self.expand(word, {}) for word in words[1:]]
                assert names[1] == "in", f"DEPLOY.md: unsupported for loop: {text}"
                loop = (names[0], names[2:])
            elif loop is not None and first == "done":
                variable, values = loop
                for value in values:
                    commands += self._simple(body, {variable: value}, text, inline)
                loop, body = None, []
            elif loop is not None:
                body.append((words[1:] if first == "do" else words, operator))
            else:
                pending.append((words, operator))
        return commands + self._simple(pending, {}, text, inline)

    def _simple(
        self, raw: list[tuple[list[Word], str]], bindings: dict[str, str], text: str, inline: bool
    ) -> list[Command]:
        commands: list[Command] = []
        redirect = False
        piped: str | None = None
        for words, operator in raw:
            args = [self.expand(word, bindings) for word in words]
            if redirect:  # the words after `>`: the file, then nothing
                commands[-1].stdout = args[0] if args else None
                redirect = False
            elif args:
                commands += self._one(args, text, inline, piped)
            piped = None
            if operator in (">", ">>"):
                redirect = True
            elif operator == "|" and commands:
                piped = self._prints(commands[-1])
        return commands

    def _one(self, args: list[str], text: str, inline: bool, stdin: str | None) -> list[Command]:
        assignments = [arg for arg in args if re.fullmatch(r"[A-Za-z_]\w*=.*", arg, flags=re.S)]
        if len(assignments) == len(args):  # NAME=value ...: set variables
            for assignment in assignments:
                name, value = assignment.split("=", 1)
                self.variables[name] = value
            return []
        if args[0] == "cd":
            target = args[1] if len(args) > 1 else "."
            self.cwd, self.previous_cwd = (
                (self.previous_cwd, self.cwd) if target == "-" else (str(Path(self.cwd) / target), self.cwd)
            )
            return []
        return [Command(args, self.cwd, text, stdin=stdin, inline=inline)]

    @staticmethod
    def _prints(command: Command) -> str | None:
        if command.args[0] == "printf" and len(command.args) >= 3 and command.args[1] == "%s":
            return "".join(command.args[2:])
        if command.args[0] == "echo":
            return " ".join(command.args[1:])
        return SUBSTITUTED


def code_blocks(markdown: str) -> list[str]:
    return [textwrap.dedent(block) for _, block in re.findall(r"^( *)```sh\n(.*?)^\1```", markdown, flags=re.M | re.S)]


def inline_spans(markdown: str) -> list[str]:
    prose = re.sub(r"^( *)```.*?^\1```", "", markdown, flags=re.M | re.S)
    return re.findall(r"`([^`\n]+)`", prose)


def read_commands(markdown: str) -> tuple[list[Command], list[Command], Shell]:
    """(the walk-through's commands in order, the prose's inline commands, the shell after the walk-through)."""
    shell = Shell()
    steps = [command for block in code_blocks(markdown) for command in shell.run(block)]
    spans = []
    for span in inline_spans(markdown):
        if span.split()[0] not in PROGRAMS or len(span.split()) < 2:
            continue  # not a command: a word of the prose
        try:
            spans += Shell(variables=dict(shell.variables)).run(span, inline=True)
        except (ValueError, IndexError):
            continue  # not a whole command (`kubectl apply -k` in a sentence)
    return steps, spans, shell


def after_options(args: list[str], with_values: set[str], keep_first: bool = False) -> tuple[str, list[str]]:
    """(the first argument that is not an option, the arguments after it) -- or, with keep_first, ("", that
    argument and the ones after it)."""
    items = list(args)
    while items and items[0].startswith("-"):
        option = items.pop(0)
        if option in with_values and items:
            items.pop(0)
    if keep_first:
        return "", items
    return (items[0], items[1:]) if items else ("", [])


def options(args: list[str], with_values: set[str]) -> tuple[dict[str, list[str]], list[str]]:
    """(--option: values, positional arguments) of a command line's arguments."""
    found: dict[str, list[str]] = {}
    positional: list[str] = []
    items = iter(args)
    for arg in items:
        if arg.startswith("--") and "=" in arg:
            name, value = arg.split("=", 1)
            found.setdefault(name, []).append(value)
        elif arg in with_values:
            found.setdefault(arg, []).append(next(items, ""))
        elif arg.startswith("-") and arg != "-":
            found.setdefault(arg, []).append("")
        else:
            positional.append(arg)
    return found, positional


# What the service needs to start in production ---------------------------------------------------------------


def required_settings(answers: dict[str, Any]) -> set[str]:
    return (
        {"SECRET_KEY"}
        | ({"DATABASE_URL"} if answers["database"] == "postgresql" else set())
        | ({"OIDC_ISSUER", "OIDC_AUDIENCE"} if answers["auth"] == "oidc" else set())
    )


def prose_names(markdown: str) -> Iterator[tuple[str, str]]:
    """(Kind, name) of the resources the prose names: `Kind/name`, the Job `name`, the namespace `name`."""
    for kind, name in re.findall(r"`([A-Z][A-Za-z]+)/([a-z0-9][a-z0-9.-]*)`", markdown):
        yield kind, name
    for name in re.findall(r"\b(?:the|The) Job `([a-z0-9-]+)`", markdown):
        yield "Job", name
    for name in re.findall(r"\bthe namespace `([a-z0-9-]+)`", markdown):
        yield "Namespace", name


def docker_problems(commands: list[Command], markdown: str) -> list[str]:
    """`docker run IMAGE` runs, and scripts/publish-image.sh pushes, an image that a `docker build -t IMAGE` of
    DEPLOY.md makes."""
    built = set()
    problems = []
    value_options = {"-t", "--tag", "-e", "--env", "-p", "--publish", "-v", "--volume", "--name", "--network"}
    for command in commands:
        if command.args[:2] == ["docker", "build"]:
            found, _ = options(command.args[2:], value_options)
            built |= set(found.get("-t", []) + found.get("--tag", []))
        elif command.args[:2] == ["docker", "run"]:
            _, positional = options(command.args[2:], value_options)
            if positional and positional[0] not in built:
                problems.append(f"DEPLOY.md: `{command}` runs {positional[0]}, which no `docker build -t` makes")
        elif command.args[:2] == PUBLISH and command.args[2:3] and command.args[2] not in built:
            problems.append(f"DEPLOY.md: `{command}` pushes {command.args[2]}, which no `docker build -t` makes")
    return problems


def pushed_images(project: Path, commands: list[Command]) -> tuple[set[str], set[str]]:
    """(the images DEPLOY.md's commands push, the images the CI file's publish job pushes). The CI's are
    written as DEPLOY.md writes them: the platform's repository variable as copier.yml's `image_repository`
    placeholder, the commit as a value the user's machine computes."""
    by_hand = {arg for c in commands if c.args[:2] == ["docker", "push"] for arg in c.args[2:]}
    by_hand |= {published(c.args[2:]) for c in commands if c.args[:2] == PUBLISH and len(c.args) == 4}
    placeholders = {
        "$GITHUB_REPOSITORY": "OWNER/REPOSITORY",
        "$CI_REGISTRY_IMAGE": "registry.gitlab.com/GROUP/PROJECT",
        "$GITHUB_SHA": SUBSTITUTED,
        "$CI_COMMIT_SHA": SUBSTITUTED,
    }
    by_ci = set()
    for path in [project / name for name in CI_FILES if (project / name).is_file()]:
        for line in path.read_text().splitlines():
            if " ".join(PUBLISH) in line:
                words = shlex.split(line.split(" ".join(PUBLISH), 1)[1])
                for variable, placeholder in placeholders.items():
                    words = [word.replace(variable, placeholder) for word in words]
                by_ci.add(published(words, lowercase=False))
    return by_hand, by_ci


def published(arguments: list[str], *, lowercase: bool = True) -> str:
    """The reference scripts/publish-image.sh pushes for IMAGE:TAG REPOSITORY: REPOSITORY (lowercased) with
    the image's tag. A CI file's repository holds placeholders, written in capitals on purpose."""
    image, repository = arguments
    return f"{repository.lower() if lowercase else repository}:{image.rsplit(':', 1)[1]}"


# Kubernetes --------------------------------------------------------------------------------------------------

KINDS = {
    "job": "Job", "jobs": "Job", "deployment": "Deployment", "deploy": "Deployment", "deployments": "Deployment",
    "service": "Service", "svc": "Service", "configmap": "ConfigMap", "cm": "ConfigMap", "secret": "Secret",
    "namespace": "Namespace", "ns": "Namespace", "hpa": "HorizontalPodAutoscaler", "pdb": "PodDisruptionBudget",
    "pvc": "PersistentVolumeClaim", "pod": "Pod",
}  # fmt: skip
KUBECTL_VALUES = {"-n", "--namespace", "-f", "--filename", "-k", "--kustomize", "-l", "--selector", "-o", "-c"}


def selected(documents: list[dict[str, Any]], selector: str) -> tuple[list[dict[str, Any]], list[str]]:
    """The documents a label selector (`k=v`, `k in (a, b)`, comma-separated) matches, and the values of
    the selector that match nothing."""
    requirements = re.findall(r"([\w./-]+)\s*(?:(=|==|!=)\s*([\w.-]+)|\s+(in|notin)\s*\(([^)]*)\))", selector)
    assert requirements, f"DEPLOY.md: unsupported label selector {selector!r}"
    chosen, unmatched = documents, []
    for key, equality, value, set_operator, values in requirements:
        allowed = {value} if equality in ("=", "==") else {v.strip() for v in values.split(",")}
        if equality == "!=" or set_operator == "notin":
            chosen = [d for d in chosen if d["metadata"].get("labels", {}).get(key) not in allowed]
            continue
        labels = [d["metadata"].get("labels", {}).get(key) for d in documents]
        unmatched += [f"{key}={v}" for v in sorted(allowed) if v not in labels]
        chosen = [d for d in chosen if d["metadata"].get("labels", {}).get(key) in allowed]
    return chosen, unmatched


def references(spec: dict[str, Any]) -> set[tuple[str, str]]:
    """(Kind, name) of the ConfigMaps and Secrets a pod needs to start."""
    found = set()
    for container in spec.get("containers", []) + spec.get("initContainers", []):
        for source in container.get("envFrom", []):
            for key, kind in (("configMapRef", "ConfigMap"), ("secretRef", "Secret")):
                if key in source and not source[key].get("optional"):
                    found.add((kind, source[key]["name"]))
        for variable in container.get("env", []):
            for key, kind in (("configMapKeyRef", "ConfigMap"), ("secretKeyRef", "Secret")):
                reference = variable.get("valueFrom", {}).get(key)
                if reference and not reference.get("optional"):
                    found.add((kind, reference["name"]))
    for volume in spec.get("volumes", []):
        if "secret" in volume:
            found.add(("Secret", volume["secret"]["secretName"]))
        if "configMap" in volume:
            found.add(("ConfigMap", volume["configMap"]["name"]))
    return found


@dataclass
class Cluster:
    """What exists in the cluster, step after step: (namespace, Kind, name) -> the object."""

    objects: dict[tuple[str, str, str], dict[str, Any]] = field(default_factory=dict)

    def has(self, namespace: str, kind: str, name: str) -> bool:
        return (namespace if kind != "Namespace" else "", kind, name) in self.objects

    def add(self, document: dict[str, Any], namespace: str) -> None:
        kind, name = document["kind"], document["metadata"]["name"]
        scope = "" if kind == "Namespace" else document["metadata"].get("namespace", namespace)
        self.objects[(scope, kind, name)] = document


def resource(positional: list[str]) -> tuple[str, str] | None:
    """(Kind, name) of `kind/name` or `kind name`."""
    if positional and "/" in positional[0]:
        kind, name = positional[0].split("/", 1)
        return KINDS.get(kind.lower(), kind), name
    if len(positional) >= 2 and positional[0].lower() in KINDS:
        return KINDS[positional[0].lower()], positional[1]
    return None


def kubernetes_problems(project: Path, markdown: str, answers: dict[str, Any]) -> list[str]:
    steps, spans, _ = read_commands(markdown)
    overlay = project / "k8s" / "overlays" / "production"
    final = kustomize_build(overlay)
    [namespace_document] = [d for d in final if d["kind"] == "Namespace"]
    namespace = namespace_document["metadata"]["name"]
    cluster = Cluster()
    problems = docker_problems(steps + spans, markdown)
    by_hand, by_ci = pushed_images(project, steps)
    pushed = by_hand | by_ci

    complete = Cluster()  # the end state: everything applied, every secret the walk-through creates
    for document in final:
        complete.add(document, namespace)

    def check(command: Command, state: Cluster) -> None:
        found, positional = options(command.args[1:], KUBECTL_VALUES)
        where = "" if command.inline else " (in the order of the steps)"
        ns = (found.get("-n") or found.get("--namespace") or [""])[0]
        if ns and not (ns == namespace and state.has("", "Namespace", ns)):
            problems.append(
                f"DEPLOY.md: `{command}`: namespace {ns} does not exist{where}; the overlay's is {namespace}"
            )
        verb, rest = (positional[0], positional[1:]) if positional else ("", [])
        if verb == "apply":
            documents: list[dict[str, Any]] = []
            for path in [p for p in found.get("-f", []) + found.get("--filename", []) if p]:
                file = project / command.cwd / path
                if not file.is_file():
                    problems.append(f"DEPLOY.md: `{command}`: {path} does not exist")
                    continue
                documents += [d for d in yaml.safe_load_all(file.read_text()) if d]
                problems.extend(
                    f"DEPLOY.md: `{command}` applies {d['kind']}/{d['metadata']['name']}, not in the overlay"
                    for d in documents
                    if not complete.has(d["metadata"].get("namespace", namespace), d["kind"], d["metadata"]["name"])
                )
            for path in [p for p in found.get("-k", []) + found.get("--kustomize", []) if p]:
                directory = project / command.cwd / path
                if not (directory / "kustomization.yaml").is_file():
                    problems.append(f"DEPLOY.md: `{command}`: {path} holds no kustomization.yaml")
                    continue
                built = kustomize_build(directory)
                for selector in found.get("-l", []) + found.get("--selector", []):
                    built, unmatched = selected(built, selector)
                    problems.extend([f"DEPLOY.md: `{command}`: no resource has the label {u}" for u in unmatched])
                    if not built:
                        problems.append(f"DEPLOY.md: `{command}` selects nothing")
                documents += built
            if command.inline:
                return
            for document in documents:
                scope = document["metadata"].get("namespace", ns or namespace)
                if document["kind"] != "Namespace" and not (
                    state.has("", "Namespace", scope) or any(d["kind"] == "Namespace" for d in documents)
                ):
                    problems.append(f"DEPLOY.md: `{command}` applies to namespace {scope} before it exists")
                state.add(document, ns or namespace)
            for document in documents:
                scope = document["metadata"].get("namespace", namespace)
                problems.extend(
                    [
                        f"DEPLOY.md: `{command}` starts {where_}, which needs {kind}/{name}: no earlier step creates it"
                        for where_, spec in pod_specs([document])
                        for kind, name in sorted(references(spec))
                        if not state.has(scope, kind, name)
                    ]
                )
        elif verb == "create" and rest[:2] == ["secret", "generic"]:
            name = rest[2]
            keys = [value.split("=", 1)[0] for value in found.get("--from-literal", [])]
            secret = {"kind": "Secret", "metadata": {"name": name, "namespace": ns or "default"}, "data": keys}
            if not command.inline:
                state.add(secret, ns)
            complete.add(secret, ns)
        elif verb in ("delete", "wait", "logs", "rollout", "port-forward", "get", "describe"):
            target = resource(rest[1:] if verb == "rollout" else rest)
            if target is None:
                problems.append(f"DEPLOY.md: `{command}`: which resource? (teach deploy_guide.py this form)")
                return
            kind, name = target
            exists = state.has(ns or "default", kind, name)
            if verb == "delete" and "--ignore-not-found" in found:
                exists = exists or complete.has(ns or "default", kind, name)
            if not exists:
                problems.append(f"DEPLOY.md: `{command}`: {kind}/{name} does not exist{where}")
            elif verb == "port-forward" and kind == "Service":
                service = state.objects[(ns or "default", kind, name)]
                ports = {str(port[key]) for port in service["spec"]["ports"] for key in ("port", "name") if key in port}
                remote = rest[1].split(":")[-1] if len(rest) > 1 else ""
                if remote not in ports:
                    problems.append(f"DEPLOY.md: `{command}`: Service/{name} has no port {remote} ({sorted(ports)})")
        else:
            problems.append(f"DEPLOY.md: `{command}`: teach deploy_guide.py what `kubectl {verb}` needs")

    for command in steps:
        if command.args[0] == "kubectl":
            check(command, cluster)
        elif command.args[:4] == ["kustomize", "edit", "set", "image"]:
            directory = project / command.cwd
            kustomization = yaml.safe_load((directory / "kustomization.yaml").read_text())
            for argument in command.args[4:]:
                image, new = argument.split("=", 1)
                if image not in {entry["name"] for entry in kustomization.get("images", [])}:
                    problems.append(f"DEPLOY.md: `{command}`: {command.cwd}/kustomization.yaml has no image {image}")
                if new not in pushed:
                    problems.append(f"DEPLOY.md: `{command}` deploys {new}, but the images pushed are {sorted(pushed)}")
            containers = [c["image"] for _, spec in pod_specs(kustomize_build(directory)) for c in spec["containers"]]
            images = {entry["name"]: entry for entry in kustomization.get("images", [])}
            problems += [
                f"DEPLOY.md: `{command}`: the overlay's image {name} does not replace every container's ({containers})"
                for name, entry in images.items()
                if any(not c.startswith(entry.get("newName", name) + ":") for c in containers)
            ]
    for command in spans:
        if command.args[0] == "kubectl":
            check(command, complete)
    for kind, name in prose_names(markdown):
        scope = "" if kind == "Namespace" else namespace
        if not complete.has(scope, kind, name):
            problems.append(f"DEPLOY.md names {kind}/{name}, which the overlay does not create")

    # What the pods need to start: the ConfigMap's keys and the secret's, as the walk-through creates it.
    for where_, spec in pod_specs(final):
        if where_.startswith("Deployment/"):
            provided = set()
            for kind, name in references(spec):
                if complete.has(namespace, kind, name):
                    provided |= set(complete.objects[(namespace, kind, name)]["data"])
            if missing := required_settings(answers) - provided:
                problems.append(f"{where_} starts without {sorted(missing)}: no ConfigMap or created secret sets it")
    return problems


# Docker Compose ----------------------------------------------------------------------------------------------


def compose_problems(project: Path, markdown: str, answers: dict[str, Any]) -> list[str]:
    steps, spans, _ = read_commands(markdown)
    compose = yaml.safe_load((project / "compose.yaml").read_text())
    text = (project / "compose.yaml").read_text()
    services = compose["services"]
    problems = docker_problems(steps + spans, markdown)
    for command in steps + spans:
        if command.args[:2] != ["docker", "compose"]:
            continue
        verb, rest = after_options(command.args[2:], {"-f", "--file", "-p", "--project-name"})
        if verb in ("exec", "run"):
            _, rest = after_options(rest, {"-u", "--user", "-w", "--workdir", "-e", "--env"}, keep_first=True)
        named = []
        if verb in ("exec", "run", "logs", "restart", "stop", "start"):
            named = rest[:1] if verb in ("exec", "run") else rest
        elif verb == "cp":
            named = [arg.split(":", 1)[0] for arg in rest if ":" in arg]
        problems += [
            f"DEPLOY.md: `{command}`: compose.yaml has no service {name}" for name in named if name not in services
        ]
        if verb == "exec" and rest[:2] == ["db", "pg_dump"]:
            found, databases = options(rest[2:], {"-U", "-d"})
            user = (found.get("--username") or found.get("-U") or [""])[0]
            environment = services["db"]["environment"]
            if (user, databases[:1]) != (environment["POSTGRES_USER"], [environment["POSTGRES_DB"]]):
                expected = f"--username={environment['POSTGRES_USER']} {environment['POSTGRES_DB']}"
                problems.append(f"DEPLOY.md: `{command}`: compose.yaml's database and user: {expected}")
    for name in re.findall(r"named volume `([\w-]+)`", markdown):
        if name not in (compose.get("volumes") or {}):
            problems.append(f"DEPLOY.md names the volume {name}, which compose.yaml does not declare")
    published = {m.group(1) for port in services["app"]["ports"] if (m := re.match(r"\$\{\w+:-(\d+)\}:\d+", str(port)))}
    for command in steps:
        if command.args[0] == "curl":
            port = re.match(r"https?://[^/:]+:(\d+)", command.args[-1])
            if port and port.group(1) not in published:
                problems.append(f"DEPLOY.md: `{command}`: compose publishes the app on {sorted(published)}")
    # The values compose refuses to start without must be the ones DEPLOY.md tells the user to put in .env.
    required = set(re.findall(r"\$\{(\w+):\?", text))
    env_example = (project / ".env.example").read_text()
    preset = set(re.findall(r"^([A-Z]\w*)=.+$", env_example, flags=re.M))
    section = markdown.split("## Deploy with Docker Compose", 1)[1]
    told = set(re.findall(r"\b([A-Z][A-Z0-9_]+)=", section.split("docker compose up", 1)[0]))
    if untold := required - preset - told:
        problems.append(f"DEPLOY.md: compose stops without {sorted(untold)} in .env, and the steps do not say so")
    environment = set(services["app"]["environment"])
    if missing := required_settings(answers) - environment:
        problems.append(f"compose.yaml: the app starts without {sorted(missing)}")
    return problems


# Fly.io ------------------------------------------------------------------------------------------------------


def fly_problems(project: Path, markdown: str, answers: dict[str, Any]) -> list[str]:
    steps, spans, _ = read_commands(markdown)
    fly = tomllib.loads((project / "fly.toml").read_text())
    problems = docker_problems(steps + spans, markdown)
    secrets: set[str] = set()
    for command in steps + spans:
        if command.args[0] not in ("fly", "flyctl"):
            continue
        found, positional = options(command.args[1:], {"--region", "-r", "--size", "-s", "--app", "-a"})
        for app in found.get("--app", []) + found.get("-a", []):
            if app != fly["app"]:
                problems.append(f"DEPLOY.md: `{command}`: the app is {fly['app']}")
        if positional[:2] == ["secrets", "set"]:
            secrets |= {assignment.split("=", 1)[0] for assignment in positional[2:]}
        elif positional[:2] == ["volumes", "create"]:
            name = positional[2] if len(positional) > 2 else ""
            if name != fly.get("mounts", {}).get("source"):
                problems.append(f"DEPLOY.md: `{command}`: fly.toml mounts {fly.get('mounts', {}).get('source')}")
            region = (found.get("--region") or found.get("-r") or [fly["primary_region"]])[0]
            if region != fly["primary_region"]:
                problems.append(f"DEPLOY.md: `{command}`: the app's region is {fly['primary_region']}")
    for host in re.findall(r"https://([\w-]+)\.fly\.dev", markdown):
        if host != fly["app"]:
            problems.append(f"DEPLOY.md: https://{host}.fly.dev, but the app is {fly['app']}")
    if missing := required_settings(answers) - set(fly.get("env", {})) - secrets:
        problems.append(f"DEPLOY.md: the app starts without {sorted(missing)}: neither fly.toml nor `fly secrets set`")
    return problems


# Render ------------------------------------------------------------------------------------------------------


def render_problems(project: Path, markdown: str, answers: dict[str, Any]) -> list[str]:
    steps, spans, _ = read_commands(markdown)
    blueprint = yaml.safe_load((project / "render.yaml").read_text())
    [service] = blueprint["services"]
    problems = docker_problems(steps + spans, markdown)
    plans = {service["plan"]} | {database["plan"] for database in blueprint.get("databases", [])}
    problems += [
        f"DEPLOY.md: the `{plan}` plan, which render.yaml does not use ({sorted(plans)})"
        for plan in re.findall(r"`([\w-]+)` (?:plan|database)\b", markdown)
        if plan not in plans
    ]
    if missing := required_settings(answers) - {variable["key"] for variable in service["envVars"]}:
        problems.append(f"render.yaml: the service starts without {sorted(missing)}")
    return problems


# Google Cloud Run --------------------------------------------------------------------------------------------


def cloudrun_problems(project: Path, markdown: str, answers: dict[str, Any]) -> list[str]:
    steps, spans, shell = read_commands(markdown)
    problems = docker_problems(steps + spans, markdown)
    manifests = {path.name: path.read_text() for path in sorted((project / "cloudrun").glob("*.yaml"))}
    placeholders = {name for name in shell.variables if any(re.search(rf"\b{name}\b", t) for t in manifests.values())}
    files: dict[str, str] = {}  # what the walk-through's commands write (`sed ... > /tmp/x.yaml`)
    secrets: dict[str, str | None] = {}  # created secret -> its value, when the walk-through shows it
    accounts: set[str] = set()
    granted: set[tuple[str, str]] = set()  # (secret, member)
    repositories: set[str] = set()
    replaced: list[dict[str, Any]] = []
    by_hand, by_ci = pushed_images(project, steps)
    pushed = by_hand | by_ci
    for command in steps:
        args = command.args
        if args[0] == "sed" and command.stdout:
            found, positional = options(args[1:], {"-e"})
            source = project / command.cwd / positional[-1]
            if not source.is_file():
                problems.append(f"DEPLOY.md: `{command}`: {positional[-1]} does not exist")
                continue
            text = source.read_text()
            for expression in found.get("-e", []):
                parts = expression.split("/")
                assert (len(parts), parts[0]) == (4, "s"), f"DEPLOY.md: teach deploy_guide.py `sed -e {expression}`"
                text = re.sub(parts[1], parts[2].replace("\\", "\\\\"), text, count=0 if parts[3] == "g" else 1)
            files[command.stdout] = text
            continue
        if args[0] != "gcloud":
            continue
        found, positional = options(args[1:], {"--region", "--location", "--member", "--role", "--data-file"})
        if positional[:2] == ["secrets", "create"]:
            secrets[positional[2]] = command.stdin if found.get("--data-file") == ["-"] else None
        elif positional[:2] == ["secrets", "add-iam-policy-binding"]:
            if positional[2] not in secrets:
                problems.append(f"DEPLOY.md: `{command}`: no earlier step creates the secret {positional[2]}")
            granted |= {(positional[2], member) for member in found.get("--member", [])}
        elif positional[:3] == ["iam", "service-accounts", "create"]:
            accounts.add(positional[3])
        elif positional[:3] == ["artifacts", "repositories", "create"]:
            repositories |= {
                f"{location}-docker.pkg.dev/{{}}/{positional[3]}/" for location in found.get("--location", [])
            }
        elif positional[1:3] in (["jobs", "replace"], ["services", "replace"]):
            path = positional[3]
            if path not in files:
                problems.append(f"DEPLOY.md: `{command}`: no earlier step writes {path}")
                continue
            document = yaml.safe_load(files[path])
            replaced.append(document)
            problems += [
                f"DEPLOY.md: `{command}`: {path} still holds the placeholder {name} (the sed misses it)"
                for name in sorted(placeholders)
                if re.search(rf"\b{name}\b", files[path])
            ]
            expected = "Job" if positional[1] == "jobs" else "Service"
            if document["kind"] != expected:
                problems.append(f"DEPLOY.md: `{command}`: {path} is a {document['kind']}, not a {expected}")
        elif positional[1:3] in (["jobs", "execute"], ["services", "add-iam-policy-binding"]):
            kind = "Job" if positional[1] == "jobs" else "Service"
            names = {d["metadata"]["name"] for d in replaced if d["kind"] == kind}
            if positional[3] not in names:
                problems.append(f"DEPLOY.md: `{command}`: no {kind} {positional[3]} was deployed ({sorted(names)})")
    project_id = shell.variables.get("PROJECT_ID", "PROJECT_ID")
    for document in replaced:
        template = document["spec"]["template"]
        pod = template["spec"]["template"]["spec"] if document["kind"] == "Job" else template["spec"]
        what = f"{document['kind']}/{document['metadata']['name']}"
        account = pod.get("serviceAccountName", "")
        if (
            account.split("@")[0] not in accounts
            or account != f"{account.split('@')[0]}@{project_id}.iam.gserviceaccount.com"
        ):
            problems.append(f"{what} runs as {account}, which DEPLOY.md does not create ({sorted(accounts)})")
        for container in pod["containers"]:
            if container["image"] not in pushed:
                problems.append(f"{what} runs {container['image']}, but DEPLOY.md and CI push {sorted(pushed)}")
            in_created = any(container["image"].startswith(r.format(project_id)) for r in repositories)
            if container["image"] not in by_ci and not in_created:  # CI pushes to a registry of the organisation's
                problems.append(f"{what}: {container['image']} is in no repository DEPLOY.md creates")
            names = {variable["name"] for variable in container.get("env", [])}
            if document["kind"] == "Service" and (missing := required_settings(answers) - names):
                problems.append(f"{what} starts without {sorted(missing)}")
            for variable in container.get("env", []):
                secret = variable.get("valueFrom", {}).get("secretKeyRef", {}).get("name")
                if secret is None:
                    continue
                if secret not in secrets:
                    problems.append(
                        f"{what} reads the secret {secret}, which DEPLOY.md does not create ({sorted(secrets)})"
                    )
                elif (secret, f"serviceAccount:{account}") not in granted:
                    problems.append(f"{what} reads the secret {secret}, which {account} may not read")
                value = secrets.get(secret) or ""
                sockets = template["metadata"].get("annotations", {}).get("run.googleapis.com/cloudsql-instances")
                if sockets and "/cloudsql/" in value and not value.endswith(f"/cloudsql/{sockets}"):
                    problems.append(
                        f"{what}: the secret {secret} reaches /cloudsql/{value.split('/cloudsql/')[1]}, "
                        f"but the annotation mounts {sockets}"
                    )
    if answers["database"] == "postgresql" and not any(d["kind"] == "Job" for d in replaced):
        problems.append("DEPLOY.md never deploys the migration job")
    if not any(d["kind"] == "Service" for d in replaced):
        problems.append("DEPLOY.md never deploys the service")
    for name in re.findall(r"Cloud Run job `([\w-]+)`", markdown):
        if name not in {d["metadata"]["name"] for d in replaced if d["kind"] == "Job"}:
            problems.append(f"DEPLOY.md names the job {name}, which cloudrun/ does not define")
    return problems


CHECKS = {
    "compose": compose_problems,
    "kubernetes": kubernetes_problems,
    "fly": fly_problems,
    "render": render_problems,
    "cloudrun": cloudrun_problems,
}


def deploy_guide_problems(project: Path, answers: dict[str, Any]) -> list[str]:
    """Everything DEPLOY.md tells the user to run, checked against the project's deployment files."""
    markdown = (project / "DEPLOY.md").read_text()
    _, _, shell = read_commands(markdown)
    problems = [f"DEPLOY.md uses ${name} before any step sets it" for name in dict.fromkeys(shell.undefined)]
    return problems + CHECKS[answers["deploy"]](project, markdown, answers)
