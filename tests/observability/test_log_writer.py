"""api/observability/log_writer.py: a stdout that stops being read does not stop the service.
Over HTTP, `todo-api serve` with its stdout a pipe nobody reads keeps answering, where a
handler that writes in the event loop froze once the pipe's 64 KiB were full; and the
handler on its own drops and counts what does not fit, then says so."""

import logging
import os
import subprocess
import threading
import time
from pathlib import Path

import httpx

from api.observability.log_writer import QueuedStreamHandler
from tests.test_cli import TODO_API, clean_env, free_port
from tests.utils.tokens import SECRET, auth


def test_serve_answers_while_nobody_reads_its_stdout(tmp_path: Path, database_url: str) -> None:
    port = free_port()
    process = subprocess.Popen(
        [TODO_API, "serve"], cwd=tmp_path,
        env=clean_env(PORT=str(port), DATABASE_URL=database_url, BETTER_AUTH_SECRET=SECRET,
                      LOG_LEVEL="info"),
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"{base}/readyz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline
            time.sleep(0.2)
        # About 350 bytes of log line each: 600 of them are three pipes' worth.
        with httpx.Client(base_url=base, timeout=5) as client:
            started = time.monotonic()
            for _ in range(600):
                assert client.get("/api/tasks", headers=auth()).status_code == 200
            assert time.monotonic() - started < 60
    finally:
        process.terminate()
        printed, _ = process.communicate(timeout=30)
    assert process.returncode == 0
    assert printed.count(b'"route": "/api/tasks"') == 600


def test_lines_that_do_not_fit_are_dropped_counted_and_reported() -> None:
    read, write = os.pipe()
    stream = os.fdopen(write, "w")
    handler = QueuedStreamHandler(stream, queue_lines=100)
    handler.setFormatter(logging.Formatter("%(message)s"))
    logger = logging.Logger("test_log_writer")
    logger.addHandler(handler)
    started = time.monotonic()
    for n in range(20_000):  # far more than the pipe and the queue hold together, unread
        logger.warning("line %d %s", n, "x" * 100)
    assert time.monotonic() - started < 5, "logging blocked"
    assert handler.dropped > 0
    received: list[bytes] = []
    reader = threading.Thread(
        target=lambda: received.extend(iter(lambda: os.read(read, 1 << 16), b""))
    )
    reader.start()
    handler.close()  # writes out what is queued, and the count of what was not
    stream.close()
    reader.join(10)
    os.close(read)
    lines = b"".join(received).decode().splitlines()
    written = [line for line in lines if line.startswith("line ")]
    dropped = [int(line.split()[0]) for line in lines if "log lines dropped" in line]
    assert dropped, lines[-3:]
    assert len(written) + sum(dropped) == 20_000
    assert written[0].startswith("line 0 ")
