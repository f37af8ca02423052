"""The generated projects keep their security linting on: bandit's rules (ruff's `S`) with no blanket
ignores, and every suppression in the template names its rule and says why; their pipelines fail on a
dependency pinned at a version with a known vulnerability."""

import json
import os
import re
import shlex
import subprocess
import threading
import tomllib
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from .combinations import SUPPORTED
from .conftest import REPO, render, run, tool

# Where a project may relax bandit's rules, and which: asserts and fixed passwords in tests, SQL text in migrations.
ALLOWED_BANDIT_IGNORES = {"tests/**": {"S101", "S105", "S106"}, "src/{slug}/db/migrations/**": {"S608"}}
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


KNOWN_VULNERABILITY = "GHSA-0000-test-0001"
ADVISORY_MODIFIED = "2026-01-01T00:00:00Z"


class StandInVulnerabilityDatabase(ThreadingHTTPServer):
    """The two calls of OSV's API that `uv audit` makes: `vulnerable` (a package name) has a known
    vulnerability, fixed in a version that does not exist yet; no other package has any."""

    def __init__(self, vulnerable: str) -> None:
        self.vulnerable = vulnerable
        super().__init__(("127.0.0.1", 0), _OsvHandler)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


class _OsvHandler(BaseHTTPRequestHandler):
    server: StandInVulnerabilityDatabase

    def do_POST(self) -> None:
        """/v1/querybatch: the advisories of each queried package, by id."""
        queries = json.loads(self.rfile.read(int(self.headers["Content-Length"])))["queries"]
        found = {"vulns": [{"id": KNOWN_VULNERABILITY, "modified": ADVISORY_MODIFIED}]}
        self._answer({"results": [found if q["package"]["name"] == self.server.vulnerable else {} for q in queries]})

    def do_GET(self) -> None:
        """/v1/vulns/<id>: the advisory itself."""
        affected = {
            "package": {"name": self.server.vulnerable, "ecosystem": "PyPI"},
            "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "999.0"}]}],
        }
        advisory = {"id": KNOWN_VULNERABILITY, "modified": ADVISORY_MODIFIED, "summary": "A test advisory"}
        self._answer({**advisory, "affected": [affected]})

    def _answer(self, body: object) -> None:
        data = json.dumps(body).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *_arguments: object) -> None:
        pass


@contextmanager
def vulnerability_database(vulnerable: str) -> Iterator[str]:
    with StandInVulnerabilityDatabase(vulnerable) as server:
        threading.Thread(target=server.serve_forever, daemon=True).start()
        try:
            yield server.url
        finally:
            server.shutdown()


@pytest.mark.parametrize("ci", ["github", "gitlab"])
def test_the_pipelines_audit_fails_on_a_known_vulnerable_pin(template_source: Path, tmp_path: Path, ci: str) -> None:
    """The CI's audit job, run as the pipeline runs it but against a stand-in for the OSV database (the real
    one is out of reach here): a lock with a known-vulnerable pin fails the job, naming pin and advisory."""
    project = render(template_source, tmp_path / "project", {**SUPPORTED[0], "ci": ci})
    ci_file = project / (".github/workflows/ci.yml" if ci == "github" else ".gitlab-ci.yml")
    (audit,) = re.findall(r"(?:run:|-) uv (audit .*)", ci_file.read_text())
    readme = (project / "README.md").read_text().split("## Known vulnerabilities\n", 1)[1].split("\n## ", 1)[0]
    assert f"```sh\nuv {audit}\n```" in readme, "the README's audit command is not the pipeline's"
    locked = run([tool("uv"), "lock", "--quiet"], cwd=project)
    assert locked.returncode == 0, locked.stderr

    def audit_against(url: str) -> subprocess.CompletedProcess[str]:
        command = [tool("uv"), *shlex.split(audit), "--service-url", url]
        return run(command, cwd=project, env={**os.environ, "UV_LOCKED": "1"})  # as the pipelines set it

    with vulnerability_database("sqlalchemy") as url:
        failed = audit_against(url)
    with vulnerability_database("no-such-package") as url:
        passed = audit_against(url)

    assert failed.returncode == 1, failed.stdout + failed.stderr  # 1: vulnerabilities found; 2: the audit failed
    assert "sqlalchemy" in failed.stdout, failed.stdout
    assert KNOWN_VULNERABILITY in failed.stdout, failed.stdout
    assert passed.returncode == 0, passed.stdout + passed.stderr
