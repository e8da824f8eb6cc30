"""The log format itself: scrubbing, escaping, JSON and text, uvicorn's loggers."""

import json
import logging
import logging.config
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from api.observability import logs
from tests.observability.capture import captured, records
from tests.test_cli import free_port

JWT = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJhbGljZSJ9.c2lnbmF0dXJlLW9mLXRoZS10b2tlbg"


@pytest.mark.parametrize(
    ("text", "kept", "gone"),
    [
        (f"Authorization: Bearer {JWT}", "Bearer [redacted]", JWT),
        ("authorization: bearer opaque-session-token", "bearer [redacted]", "opaque-session"),
        (f"token {JWT} in a message", "token [redacted] in a message", JWT),
        ("postgresql://app:s3cr3t-pw@db.example/todo", "postgresql://app:[redacted]@db", "s3cr3t"),
        ("host=db user=app password=s3cr3t-pw dbname=todo", "password=[redacted] dbname", "s3cr3t"),
        ('{"password": "hunter2-long"}', '"password": "[redacted]"', "hunter2"),
        ('{"refresh_token": "r-abcdef"}', '"refresh_token": "[redacted]"', "r-abcdef"),
        ("secret=abc123&x=1", "secret=[redacted]&x=1", "abc123"),
    ],
)
def test_credentials_are_scrubbed(text: str, kept: str, gone: str) -> None:
    scrubbed = logs.scrub(text)
    assert kept in scrubbed
    assert gone not in scrubbed


def test_a_hidden_secret_is_masked_wherever_it_appears() -> None:
    logs.hide("a-secret-the-process-knows-0123456789")
    assert logs.scrub("key=a-secret-the-process-knows-0123456789!") == "key=[redacted]!"


def test_text_escapes_control_characters_from_a_request() -> None:
    with captured("text") as stream:
        logging.getLogger("api.test").warning("bad path %s", "/x\n12:00:00 INFO forged\x1b[2J")
    [line] = stream.getvalue().splitlines()
    assert "\\x0a12:00:00 INFO forged\\x1b[2J" in line


def test_json_lines_escape_control_characters_and_carry_fields() -> None:
    with captured("json") as stream:
        logging.getLogger("api.test").info("seen", extra={"path": "/x\n\x00\u2028"})
    [raw] = stream.getvalue().splitlines()
    assert "\n" not in raw
    assert "\x00" not in raw
    [line] = records(stream)
    assert line["path"] == "/x\n\x00\u2028"
    assert {line["level"], line["logger"], line["message"]} == {"INFO", "api.test", "seen"}
    assert line["time"].endswith("+00:00")


def test_an_error_line_carries_its_traceback() -> None:
    with captured("json") as stream:
        try:
            raise RuntimeError("boom")
        except RuntimeError:
            logging.getLogger("api.test").exception("failed")
    [line] = records(stream)
    assert line["level"] == "ERROR"
    assert "Traceback" in line["exc_info"]
    assert "RuntimeError: boom" in line["exc_info"]


def test_auto_is_text_on_a_terminal_and_json_elsewhere(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("sys.stdout.isatty", lambda: True)
    assert logs.choose("auto") == "text"
    monkeypatch.setattr("sys.stdout.isatty", lambda: False)
    assert logs.choose("auto") == "json"
    assert logs.choose("text") == "text"


def test_uvicorn_lines_pass_through_the_same_handler(capsys: pytest.CaptureFixture[str]) -> None:
    root = logging.getLogger()
    saved = (root.level, root.handlers[:])
    uvicorn_loggers = [logging.getLogger(name) for name in ("uvicorn", "uvicorn.error")]
    saved_uvicorn = [(lg.handlers[:], lg.propagate, lg.level) for lg in uvicorn_loggers]
    try:
        logging.config.dictConfig(logs.config("info", "json"))
        logging.getLogger("uvicorn.error").info(
            "Started server process [%d]", 42, extra={"color_message": "\x1b[36m%d\x1b[0m"}
        )
        root.handlers[0].flush()  # written by a thread of its own (api/observability/log_writer.py)
        line = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    finally:
        root.handlers[:] = saved[1]
        root.setLevel(saved[0])
        for lg, (handlers, propagate, level) in zip(uvicorn_loggers, saved_uvicorn, strict=True):
            lg.handlers[:], lg.propagate = handlers, propagate
            lg.setLevel(level)
    assert line["logger"] == "uvicorn.error"
    assert line["message"] == "Started server process [42]"
    assert "color_message" not in line


SERVE_A_BUG = """
import sys, uvicorn
from api.main import create_app
from api.observability import logs
from api.settings import Settings
app = create_app(Settings(_env_file=None, database_url=sys.argv[1], better_auth_secret="s" * 40))

@app.get("/bug")
async def bug() -> None:
    raise RuntimeError("a bug of ours")

uvicorn.run(app, port=int(sys.argv[2]), log_config=logs.config("info", "json"))
"""


def test_an_unhandled_error_is_logged_once(database_url: str, tmp_path: Path) -> None:
    """api.web.errors logs it with its traceback; uvicorn's own "Exception in ASGI
    application", for the error Starlette raises again after the 500, is dropped."""
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-c", SERVE_A_BUG, database_url, str(port)], cwd=tmp_path,
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                answer = httpx.get(f"http://127.0.0.1:{port}/bug", timeout=2)
                break
            except httpx.TransportError:
                assert time.monotonic() < deadline, "not serving"
                time.sleep(0.2)
        assert answer.status_code == 500
    finally:
        process.terminate()
        printed, _ = process.communicate(timeout=30)
    assert printed.count("RuntimeError: a bug of ours") == 1, printed
    assert "unhandled error on GET /bug" in printed
    assert "Exception in ASGI application" not in printed
