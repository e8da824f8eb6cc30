"""`todo-api serve` as a real process on a free port, for the tests that stop it or its
database."""

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

from tests.utils.tokens import SECRET

TODO_API = str(Path(sys.executable).parent / "todo-api")
SETTINGS = ("DATABASE_URL", "MIGRATION_DATABASE_URL", "BETTER_AUTH_SECRET", "PORT", "HOST")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class Service:
    """The process, and what it printed, read as it prints: a pipe nobody reads fills (64 KiB
    of log lines) and then blocks the service's next write, its event loop with it."""

    def __init__(self, process: "subprocess.Popen[str]", base: str) -> None:
        self.process = process
        self.base = base
        self.lines: list[str] = []
        self.reader = threading.Thread(target=self.read, daemon=True)
        self.reader.start()

    def read(self) -> None:
        assert self.process.stdout is not None
        with self.process.stdout:
            for line in self.process.stdout:
                self.lines.append(line)

    @property
    def output(self) -> str:
        return "".join(self.lines)

    def terminate(self) -> None:
        self.process.send_signal(signal.SIGTERM)

    def wait(self, seconds: float = 30.0) -> int:
        """Waits for the process to end; its exit status (what it printed is in `output`)."""
        self.process.wait(timeout=seconds)
        self.reader.join(timeout=seconds)
        return self.process.returncode


@contextmanager
def service(database_url: str, *args: str, cwd: Path, **env: str) -> Iterator[Service]:
    """Runs `todo-api serve ARGS` with DATABASE_URL until the block ends (SIGTERM then, unless
    the test stopped it), once it answers /healthz."""
    port = free_port()
    values = {
        **{key: value for key, value in os.environ.items() if key not in SETTINGS},
        "DATABASE_URL": database_url,
        "BETTER_AUTH_SECRET": SECRET,
        "PORT": str(port),
        "LOG_LEVEL": "info",
        **env,
    }
    process = subprocess.Popen(
        [TODO_API, "serve", *args], cwd=cwd, env=values,
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    running = Service(process, f"http://127.0.0.1:{port}")
    try:
        deadline = time.monotonic() + 60
        while True:
            assert process.poll() is None, f"serve exited ({running.wait()}): {running.output}"
            try:
                if httpx.get(f"{running.base}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, "serve did not answer within 60 s"
            time.sleep(0.1)
        yield running
    finally:
        if process.poll() is None:
            running.terminate()
            running.wait()
