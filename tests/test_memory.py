"""Each server process tunes its garbage collector once its app is built (api/memory.py). Run
in a process of its own, as a server worker is, so that this test process keeps its defaults."""

import json
import os
import subprocess
import sys

from api.memory import GENERATIONAL, INCREMENTAL
from tests.utils.tokens import SECRET

WORKER = """
import gc, json
from api.main import app_from_environment
before = gc.get_threshold()
app_from_environment()
print(json.dumps({"before": before, "after": gc.get_threshold(), "frozen": gc.get_freeze_count()}))
"""


def test_a_server_worker_freezes_its_startup_objects_and_collects_less_often() -> None:
    env = {
        **os.environ,
        "DATABASE_URL": "postgresql://nobody@127.0.0.1:1/none",  # the pool opens later
        "BETTER_AUTH_SECRET": SECRET,
    }
    result = subprocess.run(
        [sys.executable, "-c", WORKER], env=env, capture_output=True, text=True, check=True
    )
    seen = json.loads(result.stdout)
    incremental = seen["before"][2] == 0  # CPython 3.14's collector (api/memory.py)
    assert tuple(seen["before"]) not in (GENERATIONAL, (*INCREMENTAL, 0))  # CPython's defaults
    # The incremental collector reports its unused third threshold as 0.
    assert tuple(seen["after"]) == ((*INCREMENTAL, 0) if incremental else GENERATIONAL)
    assert seen["frozen"] > 10_000  # modules, classes and the app, out of the collector's sight
