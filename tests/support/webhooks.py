"""A real webhook receiver on loopback (plain asyncio HTTP/1.1): records requests, answers as told."""

import asyncio
import contextlib
from types import TracebackType


class Receiver:
    """Answers `status` after `delay` seconds; `requests` holds (headers, body) of everything received."""

    def __init__(self, status: int = 204, delay: float = 0.0) -> None:
        self.status = status
        self.delay = delay
        self.requests: list[tuple[dict[str, str], bytes]] = []
        self._arrived = asyncio.Condition()
        self._handlers: set[asyncio.Task[None]] = set()
        self._server: asyncio.Server | None = None
        self.port = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hooks/epcis"

    async def __aenter__(self) -> "Receiver":
        self._server = await asyncio.start_server(self._accept, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def __aexit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        assert self._server is not None
        self._server.close()
        for task in list(self._handlers):
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        await self._server.wait_closed()

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._handlers.add(task)
        try:
            await reader.readline()  # request line
            headers: dict[str, str] = {}
            while (line := await reader.readline()) not in (b"\r\n", b""):
                name, _, value = line.decode("latin-1").partition(":")
                headers[name.strip().lower()] = value.strip()
            body = await reader.readexactly(int(headers.get("content-length", "0")))
            async with self._arrived:
                self.requests.append((headers, body))
                self._arrived.notify_all()
            if self.delay:
                await asyncio.sleep(self.delay)
            writer.write(f"HTTP/1.1 {self.status} X\r\nContent-Length: 0\r\nConnection: close\r\n\r\n".encode())
            await writer.drain()
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        finally:
            self._handlers.discard(task)
            writer.close()
            with contextlib.suppress(ConnectionError, asyncio.CancelledError):
                await writer.wait_closed()

    async def wait_for(self, count: int, within: float = 10.0) -> list[tuple[dict[str, str], bytes]]:
        """Until `count` requests have arrived (or fail after `within` seconds)."""
        async with self._arrived:
            await asyncio.wait_for(self._arrived.wait_for(lambda: len(self.requests) >= count), within)
        return list(self.requests)
