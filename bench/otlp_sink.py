"""A stand-in for an OpenTelemetry Collector: accepts OTLP/HTTP exports and drops them, so that
tracing's cost can be measured without a collector's own CPU on the machine.

    uv run python bench/otlp_sink.py --port 4318 &
    OTEL_EXPORTER_OTLP_ENDPOINT=http://127.0.0.1:4318 uv run todo-api serve

It counts the export requests and bytes it received, and prints them when stopped (Ctrl-C).
Loopback only."""

import argparse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class Sink(BaseHTTPRequestHandler):
    received = 0
    bytes = 0

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        self.rfile.read(length)
        Sink.received += 1
        Sink.bytes += length
        self.send_response(200)
        self.send_header("Content-Type", "application/x-protobuf")
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: object) -> None:
        pass


def main() -> None:
    top = argparse.ArgumentParser(description=__doc__)
    top.add_argument("--port", type=int, default=4318)
    args = top.parse_args()
    server = ThreadingHTTPServer(("127.0.0.1", args.port), Sink)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        print(f"{Sink.received} exports, {Sink.bytes} bytes")


if __name__ == "__main__":
    main()
