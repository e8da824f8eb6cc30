"""schemathesis 4 (tests/fuzz/schemathesis.toml) against `todo-api serve` on a test database,
with two users: every operation of the OpenAPI the service itself serves, every phase
(examples, coverage, fuzzing, the stateful phase that follows the links it infers from
`Location` and the path parameters), every check, including ignored_auth (a request without
or with a broken credential must not be served) and object_level_authorization (a task read by
one user is replayed as the other, who must not get it). The run must end with no failure."""

import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import psycopg

from tests.utils.service import service
from tests.utils.tokens import make_token

CONFIG = Path(__file__).with_name("schemathesis.toml")
HOOKS = Path(__file__).with_name("hooks.py")
SCHEMATHESIS = str(Path(sys.executable).parent / "schemathesis")
RUN_TIMEOUT = 900  # seconds; the run takes a few minutes on two shared cores


def auth_file(folder: Path) -> Path:
    """The two users as Web Fuzzing Commons entries: a bearer token each, valid for the run."""
    entries = [
        {"name": name, "fixedHeaders": [{"name": "Authorization", "value": f"Bearer {token}"}]}
        for name, token in (
            ("alice", make_token("fuzz-alice", expires_in=3600)),
            ("bob", make_token("fuzz-bob", expires_in=3600)),
        )
    ]
    path = folder / "users.json"
    path.write_text(json.dumps({"auth": entries}))
    return path


def test_schemathesis_finds_nothing(database_url: str, tmp_path: Path) -> None:
    with service(database_url, "--no-migrate", cwd=tmp_path, LOG_LEVEL="warning") as running:
        env = {
            **os.environ,
            "TODO_API_FUZZ_AUTH": str(auth_file(tmp_path)),
            "SCHEMATHESIS_HOOKS": str(HOOKS),
        }
        started = time.monotonic()
        run = subprocess.run(
            [SCHEMATHESIS, "--config-file", str(CONFIG), "run", f"{running.base}/openapi.json",
             "--report", "junit", "--report-dir", str(tmp_path / "report")],
            cwd=tmp_path, env=env, capture_output=True, text=True, timeout=RUN_TIMEOUT,
            check=False,
        )  # fmt: skip
        elapsed = time.monotonic() - started
        running.terminate()
        assert running.wait() == 0
    output = run.stdout + run.stderr
    print(f"\nschemathesis: {elapsed:.0f} s\n{output[-6000:]}")
    assert run.returncode == 0, output[-20_000:]
    assert "Traceback" not in running.output, running.output[-5000:]
    summary = re.search(r"Test cases:\s*\n?\s*(\d+) generated", output)
    assert summary is not None, output[-3000:]
    with psycopg.connect(database_url) as conn:
        owners = {o for (o,) in conn.execute("select distinct user_id from app.tasks")}
    assert owners <= {"fuzz-alice", "fuzz-bob"}
