"""A TCP proxy in front of the test PostgreSQL that a test can cut and restore, to play a
database that goes away and comes back."""

import asyncio
import contextlib

from tests.utils.server import Server


class Proxy:
    def __init__(self, target: Server) -> None:
        self.target = target
        self.port = 0
        self._listener: asyncio.Server | None = None
        self._writers: set[asyncio.StreamWriter] = set()

    async def start(self) -> None:
        self._listener = await asyncio.start_server(self._accept, "127.0.0.1", self.port)
        self.port = self._listener.sockets[0].getsockname()[1]

    async def cut(self) -> None:
        """Stops accepting, and drops every open connection."""
        if self._listener is not None:
            self._listener.close()
            await self._listener.wait_closed()
            self._listener = None
        for writer in list(self._writers):
            writer.transport.abort()
        self._writers.clear()

    async def _connect_upstream(self) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        if self.target.host.startswith("/"):
            path = f"{self.target.host}/.s.PGSQL.{self.target.port}"
            return await asyncio.open_unix_connection(path)
        return await asyncio.open_connection(self.target.host, self.target.port)

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        up_reader, up_writer = await self._connect_upstream()
        self._writers |= {writer, up_writer}
        await asyncio.gather(self._pipe(reader, up_writer), self._pipe(up_reader, writer))

    async def _pipe(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with contextlib.suppress(ConnectionError, OSError):
            while data := await reader.read(65536):
                writer.write(data)
                await writer.drain()
        writer.transport.abort()
        self._writers.discard(writer)
