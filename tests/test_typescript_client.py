"""clients/typescript against a running API: `todo-api serve` on a fresh test database, the
package installed (`npm ci`, when node_modules is not in place) and built, then its Node tests
(`node --test`, clients/typescript/test/) with TODO_API_URL pointing at the service. They sign
up, do CRUD, get a 412, retry once after a 401 and sync two clients through the feed."""

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.utils.service import service

PACKAGE = Path(__file__).resolve().parents[1] / "clients" / "typescript"
NPM_TIMEOUT = 300.0  # seconds for `npm ci` on a cold cache


def npm(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    path = shutil.which("npm")
    if path is None:
        pytest.fail("`npm` is not on PATH: clients/typescript needs Node.js 20+", pytrace=False)
    result = subprocess.run(
        [path, *args], cwd=PACKAGE, capture_output=True, text=True, timeout=NPM_TIMEOUT,
        check=False, env=env,
    )  # fmt: skip
    output = f"{result.stdout[-6000:]}{result.stderr[-4000:]}"
    assert result.returncode == 0, f"npm {' '.join(args)}:\n{output}"
    return result


def test_the_typescript_client_works_against_a_running_api(
    database_url: str, tmp_path: Path
) -> None:
    if not (PACKAGE / "node_modules" / ".package-lock.json").exists():
        npm("ci", "--no-audit", "--no-fund", "--loglevel=error")
    npm("run", "build")  # which type-checks it against the generated types
    with service(database_url, cwd=tmp_path, LOG_LEVEL="warning") as running:
        result = npm("test", env={**os.environ, "TODO_API_URL": running.base})
    assert "# fail 0" in result.stdout, result.stdout
    assert "# pass 5" in result.stdout, result.stdout


def test_the_generated_types_are_those_of_the_committed_openapi_json() -> None:
    if not (PACKAGE / "node_modules" / ".package-lock.json").exists():
        npm("ci", "--no-audit", "--no-fund", "--loglevel=error")
    generated = subprocess.run(
        ["node", "scripts/generate.mjs", "--stdout"],
        cwd=PACKAGE, capture_output=True, text=True, timeout=120, check=True,
    ).stdout  # fmt: skip
    committed = (PACKAGE / "src" / "schema.ts").read_text(encoding="utf-8")
    assert generated == committed, "run `npm run generate --prefix clients/typescript`"
