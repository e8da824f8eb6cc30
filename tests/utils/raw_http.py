"""HTTP/1.1 over a raw socket, for requests an HTTP client library would refuse to send (a bare
CR in a header, a body that never ends, a head too large) and for answers it would hide."""

import re
import socket

CLOSE_WAIT = 5.0  # how long a test waits for the server to answer or close a connection


def connect(port: int) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", port), timeout=CLOSE_WAIT)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return sock


def read_response(sock: socket.socket) -> tuple[int, bytes] | None:
    """The next response's status and body; None when the connection closes or resets first."""
    data = b""
    try:
        while b"\r\n\r\n" not in data:
            chunk = sock.recv(65536)
            if not chunk:
                return None
            data += chunk
        head, _, body = data.partition(b"\r\n\r\n")
        found = re.search(rb"\r\ncontent-length: *(\d+)", head, re.IGNORECASE)
        assert found is not None, head
        while len(body) < int(found[1]):
            chunk = sock.recv(65536)
            if not chunk:
                return None
            body += chunk
    except ConnectionResetError:
        return None
    return int(head.split(b" ", 2)[1]), body


def answer(request: bytes, port: int) -> tuple[int, bytes] | None:
    """Sends `request` on a connection of its own; the response, or None."""
    try:
        with connect(port) as sock:
            sock.sendall(request)
            return read_response(sock)
    except (ConnectionRefusedError, ConnectionResetError, BrokenPipeError):
        return None
