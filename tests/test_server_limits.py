"""The HTTP server's own limits (api/web/server.py), against `todo-api serve` on a free port of
127.0.0.1: raw sockets send what a browser sends, and what an attacker would."""

import json
import os
import pickle
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from api.settings import ConfigError, load_settings
from api.web.server import HeadLimits, LimitedHttpProtocol, http_protocol
from tests.conftest import fresh_database
from tests.utils.errors import error_json
from tests.utils.raw_http import CLOSE_WAIT, answer, connect, read_response
from tests.utils.server import Server
from tests.utils.service import free_port
from tests.utils.tokens import SECRET, make_token

TODO_API = str(Path(sys.executable).parent / "todo-api")
# The server's timeouts, small so that waiting for them is quick; its limits are the defaults.
HEADER_TIMEOUT = 2.0
KEEP_ALIVE_TIMEOUT = 1.0
BODY_TIMEOUT = 2.0
HEALTHZ = b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n"
SETTINGS = (
    "DATABASE_URL", "MIGRATION_DATABASE_URL", "BETTER_AUTH_SECRET", "HOST", "PORT", "WORKERS",
    "LOG_LEVEL", "MAX_HEADER_BYTES", "MAX_HEADERS", "HEADER_TIMEOUT", "KEEP_ALIVE_TIMEOUT",
    "BODY_TIMEOUT",
)  # fmt: skip


@dataclass(frozen=True)
class Served:
    port: int
    pid: int


@pytest.fixture(scope="module")
def server(
    tmp_path_factory: pytest.TempPathFactory, pg_server: Server, template_db: str
) -> Iterator[Served]:
    """`todo-api serve`, one worker, on a database of its own, until the module's tests end."""
    port = free_port()
    with fresh_database(pg_server, template_db) as database:
        env = {
            **{key: value for key, value in os.environ.items() if key not in SETTINGS},
            "DATABASE_URL": database, "BETTER_AUTH_SECRET": SECRET, "HOST": "127.0.0.1",
            "PORT": str(port), "LOG_LEVEL": "warning", "HEADER_TIMEOUT": str(HEADER_TIMEOUT),
            "KEEP_ALIVE_TIMEOUT": str(KEEP_ALIVE_TIMEOUT), "BODY_TIMEOUT": str(BODY_TIMEOUT),
        }  # fmt: skip
        process = subprocess.Popen(
            [TODO_API, "serve", "--no-migrate"], cwd=tmp_path_factory.mktemp("serve"), env=env,
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        )  # fmt: skip
        try:
            deadline = time.monotonic() + 60
            while answer(HEALTHZ + b"Connection: close\r\n\r\n", port) is None:
                assert process.poll() is None, process.stdout.read() if process.stdout else ""
                assert time.monotonic() < deadline, "serve did not answer within 60 s"
                time.sleep(0.1)
            yield Served(port, process.pid)
        finally:
            process.send_signal(signal.SIGINT)
            printed, _ = process.communicate(timeout=30)
            assert process.returncode == 0, printed
            assert "Traceback" not in printed, printed


def closed_after(sock: socket.socket, started: float) -> float:
    """Waits for the server to close `sock` (it must not answer); the seconds since `started`."""
    try:
        assert sock.recv(65536) == b"", "the server answered"
    except ConnectionResetError:
        pass
    except TimeoutError:
        pytest.fail(f"still open after {CLOSE_WAIT} s")
    return time.monotonic() - started


def head(*fields: bytes) -> bytes:
    return HEALTHZ + b"".join(field + b"\r\n" for field in fields) + b"\r\n"


def refused(response: tuple[int, bytes] | None, detail: str) -> bool:
    return response is not None and (response[0], json.loads(response[1])) == (
        431,
        error_json(detail),
    )


TOO_LARGE = "Request headers are larger than 32768 bytes"


def test_a_browser_with_big_cookies_is_served(server: Served) -> None:
    cookies = b"; ".join(b"c%d=%s" % (n, b"v" * 4000) for n in range(6))  # 24 KB
    request = head(
        b"User-Agent: Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 Chrome/131.0",
        b"Accept: application/json", b"Origin: https://todo.example.com",
        b"Authorization: Bearer " + b"t" * 1500, b"Cookie: " + cookies,
    )  # fmt: skip
    assert answer(request, server.port) == (200, b'{"status":"ok"}')


def test_one_header_over_the_limit_is_refused_with_431(server: Served) -> None:
    response = answer(head(b"Cookie: " + b"c" * 40_000), server.port)
    assert refused(response, TOO_LARGE), response


def test_a_url_over_the_limit_is_refused_with_431(server: Served) -> None:
    response = answer(b"GET /healthz?" + b"q" * 40_000 + b" HTTP/1.1\r\n\r\n", server.port)
    assert refused(response, TOO_LARGE), response


def test_headers_adding_up_over_the_limit_are_refused_with_431(server: Served) -> None:
    fields = [b"X-Field-%d: %s" % (n, b"f" * 900) for n in range(40)]  # 36 KB in all
    assert refused(answer(head(*fields), server.port), TOO_LARGE)


@pytest.mark.parametrize(("count", "served"), [(100, True), (101, False), (10_000, False)])
def test_a_head_may_have_100_fields(server: Served, count: int, served: bool) -> None:
    fields = [b"X-%d: 1" % n for n in range(count - 1)]  # and Host
    response = answer(head(*fields), server.port)
    if served:
        assert response == (200, b'{"status":"ok"}')
    else:
        assert refused(response, "Request has more than 100 header fields"), response


def test_a_header_that_never_ends_is_refused(server: Served) -> None:
    with connect(server.port) as sock:
        sock.sendall(HEALTHZ + b"X-Junk: ")
        try:
            for _ in range(64):  # 4 MB
                sock.sendall(b"j" * 65536)
        except (BrokenPipeError, ConnectionResetError):
            response = None  # closed before it read all that
        else:
            response = read_response(sock)  # None when it reset the connection
    assert response is None or refused(response, TOO_LARGE), response


def test_a_connection_that_sends_nothing_is_closed_after_the_keep_alive_timeout(
    server: Served,
) -> None:
    started = time.monotonic()
    with connect(server.port) as sock:
        elapsed = closed_after(sock, started)
    assert KEEP_ALIVE_TIMEOUT * 0.9 < elapsed < KEEP_ALIVE_TIMEOUT + 2


def test_a_connection_idle_after_a_response_is_closed_after_the_keep_alive_timeout(
    server: Served,
) -> None:
    with connect(server.port) as sock:
        sock.sendall(HEALTHZ + b"\r\n")
        assert read_response(sock) == (200, b'{"status":"ok"}')
        started = time.monotonic()
        elapsed = closed_after(sock, started)
    assert KEEP_ALIVE_TIMEOUT * 0.9 < elapsed < KEEP_ALIVE_TIMEOUT + 2


@pytest.mark.parametrize("trickle", [False, True], ids=["then-nothing", "then-a-byte-at-a-time"])
def test_half_a_head_is_closed_after_the_header_timeout(server: Served, trickle: bool) -> None:
    started = time.monotonic()
    with connect(server.port) as sock:
        sock.sendall(HEALTHZ + b"User-Agent: slow")
        try:
            while trickle and time.monotonic() - started < HEADER_TIMEOUT + 2:
                time.sleep(0.1)
                sock.sendall(b"w")
        except (BrokenPipeError, ConnectionResetError):
            pass
        elapsed = closed_after(sock, started)
    assert HEADER_TIMEOUT * 0.9 < elapsed < HEADER_TIMEOUT + 2


def test_a_keep_alive_client_is_not_cut_off(server: Served) -> None:
    """Each head has HEADER_TIMEOUT from the previous response, not from the connection's start,
    and KEEP_ALIVE_TIMEOUT ends at a head's first byte."""
    started = time.monotonic()
    with connect(server.port) as sock:
        served = 0
        while time.monotonic() - started < 1.5 * HEADER_TIMEOUT:
            if served:
                time.sleep(KEEP_ALIVE_TIMEOUT / 3)
            sock.sendall(HEALTHZ + b"\r\n")
            assert read_response(sock) == (200, b'{"status":"ok"}'), f"after {served}"
            served += 1
        sock.sendall(HEALTHZ[:20])  # a head in two parts, further apart than KEEP_ALIVE_TIMEOUT
        time.sleep(KEEP_ALIVE_TIMEOUT * 1.2)
        sock.sendall(HEALTHZ[20:] + b"\r\n")
        assert read_response(sock) == (200, b'{"status":"ok"}')


def abuse(port: int, answers: list[tuple[int, tuple[int, bytes] | None]]) -> None:
    """Tries to send 32 MB of a header that never ends; appends MB sent and the answer."""
    with connect(port) as sock:
        sock.sendall(HEALTHZ + b"X-Junk: ")
        sent = 0
        try:
            for _ in range(32):
                sock.sendall(b"j" * 1024 * 1024)
                sent += 1
        except (BrokenPipeError, ConnectionResetError):
            pass
        try:
            answers.append((sent, read_response(sock)))
        except TimeoutError:
            answers.append((sent, None))  # still open, no answer


def memory(pid: int) -> dict[str, int]:
    """The process's current and peak resident memory, in bytes."""
    status = Path(f"/proc/{pid}/status").read_text()
    return {
        key: int(value) * 1024 for key, value in re.findall(r"(VmRSS|VmHWM):\s+(\d+) kB", status)
    }


def memory_stays_bounded(pid: int, clients: list[threading.Thread]) -> None:
    """Runs the abusive `clients` at once; the server's memory peaks under 16 MB above where it
    was, and is back within 4 MB half a second after they end."""
    Path(f"/proc/{pid}/clear_refs").write_text("5")  # restarts the peak, VmHWM
    before = memory(pid)["VmRSS"]
    for thread in clients:
        thread.start()
    for thread in clients:
        thread.join(timeout=60)
    time.sleep(0.5)
    after = memory(pid)
    assert after["VmHWM"] - before < 16 * 1024 * 1024, (before, after)
    assert after["VmRSS"] - before < 4 * 1024 * 1024, (before, after)


@pytest.mark.skipif(
    not Path("/proc/self/clear_refs").exists(),
    reason="reads the server's memory high-water mark from Linux's /proc, which this OS lacks",
)
def test_abusive_connections_leave_the_memory_as_it_was(server: Served) -> None:
    for _ in range(20):  # the server's steady state after ordinary requests
        assert answer(head(b"Connection: close"), server.port) is not None
    answers: list[tuple[int, tuple[int, bytes] | None]] = []
    memory_stays_bounded(
        server.pid, [threading.Thread(target=abuse, args=(server.port, answers)) for _ in range(4)]
    )
    assert len(answers) == 4
    for sent, response in answers:  # each refused before its 32 MB were all read
        assert sent < 32 or refused(response, TOO_LARGE), (sent, response)
    assert answer(head(b"Connection: close"), server.port) == (200, b'{"status":"ok"}')


def test_the_limits_travel_to_worker_processes() -> None:
    """uvicorn pickles its configuration, `http` too, for each process when WORKERS > 1."""
    protocol = http_protocol(
        max_header_bytes=4096, max_headers=7, header_timeout=2.5, body_timeout=9.0
    )
    copied = pickle.loads(pickle.dumps(protocol))
    assert copied.func is LimitedHttpProtocol
    assert copied.keywords == {"limits": HeadLimits(4096, 7, 2.5, 9.0)}


@pytest.mark.parametrize(
    "setting",
    ["MAX_HEADER_BYTES", "MAX_HEADERS", "HEADER_TIMEOUT", "KEEP_ALIVE_TIMEOUT", "BODY_TIMEOUT"],
)
def test_a_limit_must_be_sensible(setting: str) -> None:
    with pytest.raises(ConfigError, match=f"{setting}: Input should be greater than"):
        load_settings(_env_file=None, **{setting.lower(): 0})


# The body's own deadline (BODY_TIMEOUT), and input a client library would not send.

TOKEN = make_token("raw-http-user").encode()
POST_TASKS = b"POST /api/tasks HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"


def post(body: bytes, *fields: bytes) -> bytes:
    extra = b"".join(field + b"\r\n" for field in fields)
    length = b"Content-Length: %d\r\n" % len(body)
    return (
        POST_TASKS + b"Authorization: Bearer " + TOKEN + b"\r\n" + extra + length + b"\r\n" + body
    )


def late(response: tuple[int, bytes] | None) -> bool:
    detail = f"Request body not received within {BODY_TIMEOUT:g} s"
    return response is not None and (response[0], json.loads(response[1])) == (
        408,
        error_json(detail),
    )


@pytest.mark.parametrize("trickle", [False, True], ids=["then-nothing", "then-a-byte-at-a-time"])
@pytest.mark.parametrize("chunked", [False, True], ids=["content-length", "chunked"])
def test_a_body_that_does_not_arrive_in_time_is_a_408(
    server: Served, trickle: bool, chunked: bool
) -> None:
    framing = b"Transfer-Encoding: chunked\r\n" if chunked else b"Content-Length: 1000\r\n"
    opening = POST_TASKS + b"Authorization: Bearer " + TOKEN + b"\r\n" + framing + b"\r\n"
    byte = b"1\r\n \r\n" if chunked else b" "
    started = time.monotonic()
    with connect(server.port) as sock:
        sock.sendall(opening + (b'5\r\n{"tit\r\n' if chunked else b'{"tit'))
        try:
            while trickle and time.monotonic() - started < BODY_TIMEOUT + HEADER_TIMEOUT + 1:
                time.sleep(0.2)
                sock.sendall(byte)
        except (BrokenPipeError, ConnectionResetError):
            pass
        response = read_response(sock)
        elapsed = time.monotonic() - started
    assert late(response), response
    assert BODY_TIMEOUT * 0.9 < elapsed < BODY_TIMEOUT + HEADER_TIMEOUT + 1
    assert answer(head(b"Connection: close"), server.port) == (200, b'{"status":"ok"}')


def test_a_body_sent_at_once_is_served(server: Served) -> None:
    response = answer(post(b'{"title": "raw"}', b"Connection: close"), server.port)
    assert response is not None
    assert response[0] == 201, response


@pytest.mark.parametrize(
    "field",
    [b"X-Evil: a\rb", b"X-Evil: a\x00b", b"X-Ev il: a", b"X-Evil\x7f: a", b"X-Evil: \r\n a"],
    ids=["bare CR", "NUL", "space in name", "DEL in name", "obsolete line folding"],
)
def test_a_head_the_parser_refuses_is_a_json_400(server: Served, field: bytes) -> None:
    response = answer(post(b'{"title": "never"}', field), server.port)
    assert response is not None, "no answer"
    assert (response[0], json.loads(response[1])) == (400, error_json("Invalid HTTP request"))
    assert answer(head(b"Connection: close"), server.port) == (200, b'{"status":"ok"}')


def test_invalid_utf8_and_nul_in_the_path_are_4xx_with_a_detail(server: Served) -> None:
    for target in (
        b"/api/tasks/\xff\xfe",
        b"/api/tasks/%00",
        b"/api/%ff/tasks",
        b"/api/tasks/1%0d%0a",
    ):
        request = b"GET " + target + b" HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
        response = answer(request + b"Authorization: Bearer " + TOKEN + b"\r\n\r\n", server.port)
        assert response is not None, target
        assert 400 <= response[0] < 500, (target, response)
        assert json.loads(response[1])["detail"], (target, response)


def test_a_100_kb_token_is_refused_with_431(server: Served) -> None:
    response = answer(head(b"Authorization: Bearer " + b"A" * 100_000), server.port)
    assert refused(response, TOO_LARGE), response


TEN_MB = 10 * 1024 * 1024


def send_ten_mb(port: int, chunked: bool, answers: list[tuple[int, bytes] | None]) -> None:
    """Sends (or tries to) 10 MB of body; appends the answer."""
    framing = b"Transfer-Encoding: chunked\r\n" if chunked else b"Content-Length: %d\r\n" % TEN_MB
    opening = POST_TASKS + b"Authorization: Bearer " + TOKEN + b"\r\n" + framing + b"\r\n"
    piece = b"x" * 65536
    with connect(port) as sock:
        try:
            sock.sendall(opening)
            for _ in range(TEN_MB // len(piece)):
                sock.sendall(b"10000\r\n" + piece + b"\r\n" if chunked else piece)
            if chunked:
                sock.sendall(b"0\r\n\r\n")
        except (BrokenPipeError, ConnectionResetError):
            pass  # refused before it read it all
        try:
            answers.append(read_response(sock))
        except TimeoutError:
            answers.append(None)


@pytest.mark.skipif(
    not Path("/proc/self/clear_refs").exists(),
    reason="reads the server's memory high-water mark from Linux's /proc, which this OS lacks",
)
def test_ten_megabyte_bodies_are_413_and_leave_the_memory_as_it_was(server: Served) -> None:
    for _ in range(20):
        assert answer(post(b'{"title": "warm"}', b"Connection: close"), server.port) is not None
    answers: list[tuple[int, bytes] | None] = []
    memory_stays_bounded(
        server.pid,
        [
            threading.Thread(target=send_ten_mb, args=(server.port, chunked, answers))
            for chunked in (False, True, False, True)
        ],
    )
    too_large = error_json("Request body is larger than 65536 bytes")
    for response in answers:  # None: the server closed before the client had sent it all
        assert response is None or (response[0], json.loads(response[1])) == (413, too_large)
    assert any(response is not None for response in answers), answers
    assert answer(head(b"Connection: close"), server.port) == (200, b'{"status":"ok"}')
