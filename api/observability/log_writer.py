"""Log lines written by a thread of their own, so that a stdout that does not keep up never
stops the event loop.

A StreamHandler writes in the thread that logs: the event loop, for every request line. When
stdout is a pipe whose reader stalls (a log collector that is slow or stuck, a supervisor that
stopped reading), the pipe's buffer fills, the next write blocks, and with it every request
the process serves: /healthz included, so nothing even says why. Here the line is formatted
(and scrubbed) where it is logged and appended to a bounded list; a writer thread wakes every
INTERVAL_SECONDS and writes what has gathered in one go, which costs the logging thread less
than a write and a flush of its own per line (how-to/observe.md). While the list is full,
lines are dropped and counted, and the count is written as a line of its own once the writer
catches up. At exit, what is left is written out.
"""

import contextlib
import logging
import threading
from collections import deque
from typing import TextIO

QUEUE_LINES = 20_000  # about 7 MB of request lines; seconds of them at full load
INTERVAL_SECONDS = 0.05


class QueuedStreamHandler(logging.Handler):
    def __init__(self, stream: TextIO, queue_lines: int = QUEUE_LINES) -> None:
        super().__init__()
        self.stream = stream
        self.limit = queue_lines
        # deque's append and popleft are atomic: the logging threads and the writer share it
        # without a lock.
        self.lines: deque[str] = deque()
        self.dropped = 0
        self.writing = threading.Lock()  # the writer thread, and flush() in another
        self.stopping = threading.Event()
        self.writer = threading.Thread(target=self.write_out, name="log writer", daemon=True)
        self.writer.start()

    def emit(self, record: logging.LogRecord) -> None:
        try:
            line = self.format(record)
        except Exception:  # noqa: BLE001 - as logging.StreamHandler does
            self.handleError(record)
            return
        if len(self.lines) < self.limit:
            self.lines.append(line)
        else:
            self.dropped += 1  # a count another thread races may miss one; it is only a count

    def write_out(self) -> None:
        while not self.stopping.wait(INTERVAL_SECONDS):
            self.write_gathered()
        self.write_gathered()

    def write_gathered(self) -> None:
        batch = []
        with contextlib.suppress(IndexError):
            while True:
                batch.append(self.lines.popleft())
        if self.dropped:
            dropped, self.dropped = self.dropped, 0
            batch.append(self.dropped_line(dropped))
        if not batch:
            return
        # A log that cannot be written is lost, never fatal.
        # Its own lock, not the handler's, which logging holds around every emit: a write that
        # blocks must not block those who log.
        with self.writing, contextlib.suppress(Exception):
            self.stream.write("\n".join(batch) + "\n")
            self.stream.flush()

    def dropped_line(self, count: int) -> str:
        record = logging.LogRecord(
            __name__, logging.WARNING, __file__, 0,
            "%d log lines dropped: stdout did not keep up", (count,), None,
        )  # fmt: skip
        return self.format(record)

    def flush(self) -> None:
        """Writes what has gathered now, in the calling thread (logging.shutdown calls it at
        exit; the tests, to read what was logged)."""
        self.write_gathered()

    def close(self) -> None:
        self.stopping.set()
        self.writer.join()
        super().close()
