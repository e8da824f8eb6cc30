"""Captures what the service logs, formatted exactly as `todo-api serve` writes it."""

import io
import json
import logging
from collections.abc import Iterator
from contextlib import contextmanager

from api.observability import logs


@contextmanager
def captured(log_format: logs.LogFormat = "json") -> Iterator[io.StringIO]:
    """Every line logged at info or above while the block runs, in `log_format`."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logs.formatter(log_format))
    root = logging.getLogger()
    level = root.level
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    try:
        yield stream
    finally:
        root.removeHandler(handler)
        root.setLevel(level)


def records(stream: io.StringIO) -> list[dict]:
    return [json.loads(line) for line in stream.getvalue().splitlines()]


def request_lines(stream: io.StringIO) -> list[dict]:
    return [line for line in records(stream) if line["logger"] == "api.request"]
