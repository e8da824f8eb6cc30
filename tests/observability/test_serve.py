"""`todo-api serve` with two worker processes: one scrape adds up both, and every line either
process writes is JSON."""

import json
import time
from pathlib import Path

import httpx

from api.observability.metrics import SAMPLE_SECONDS
from tests.observability.metrics import parse, value
from tests.test_cli import serving
from tests.utils.tokens import SECRET, auth

REQUESTS = "todo_api_http_requests_total"


def test_metrics_add_up_across_worker_processes(tmp_path: Path, database_url: str) -> None:
    output: list[str] = []
    with serving(
        tmp_path, output=output, DATABASE_URL=database_url, BETTER_AUTH_SECRET=SECRET,
        WORKERS="2", POOL_MAX_SIZE="3", LOG_LEVEL="info",
    ) as base:  # fmt: skip
        for _ in range(20):  # a connection each: the kernel hands them to either process
            assert httpx.get(f"{base}/api/tasks", headers=auth()).status_code == 200
        time.sleep(3 * SAMPLE_SECONDS)  # each process has sampled its pool since
        scrapes = [parse(httpx.get(f"{base}/metrics").text) for _ in range(6)]
    for samples in scrapes:  # whichever process answered
        assert value(samples, REQUESTS, route="/api/tasks", method="GET", status="200") == 20
        assert value(samples, "todo_api_db_pool_max_size") == 2 * 3  # both processes' pools
    lines = [json.loads(line) for line in output[0].splitlines() if line.strip()]
    started = [line for line in lines if line["message"].startswith("Started server process")]
    assert len(started) >= 2, output[0]
    listed = [line for line in lines if line.get("route") == "/api/tasks"]
    assert [line["status"] for line in listed] == [200] * 20
    assert {line["level"] for line in listed} == {"INFO"}
