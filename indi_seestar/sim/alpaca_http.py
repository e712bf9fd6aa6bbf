"""A small HTTP/1.1 server for the fake's Alpaca API (stdlib asyncio, loopback, keep-alive).

Layer: sim. Enough HTTP for Alpaca clients (alpyca's requests session, our driver): GET with a
query string, PUT with a form body, Content-Length framing, persistent connections. The
handler gets (verb, path, params, headers) and returns a `Reply`. No library: the Alpaca
subset is a few dozen lines, and the fake must not pull a web framework into the driver's
dependencies.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from urllib.parse import parse_qsl, urlsplit

_log = logging.getLogger(__name__)

#: Largest request head and body we accept (Alpaca requests are a few hundred bytes).
MAX_HEAD_BYTES = 16 * 1024
MAX_BODY_BYTES = 64 * 1024
#: An idle keep-alive connection is closed after this long (real seconds).
IDLE_CLOSE_S = 60.0
_REASONS = {200: "OK", 400: "Bad Request", 404: "Not Found", 405: "Method Not Allowed",
            413: "Payload Too Large", 500: "Internal Server Error"}


@dataclass
class Reply:
    """One HTTP answer: status, content type and the body as parts (not joined)."""

    status: int = 200
    content_type: str = "application/json"
    parts: Sequence[bytes | memoryview] = field(default_factory=list)


Handler = Callable[[str, str, dict[str, str], dict[str, str]], Awaitable[Reply]]


class HttpServer:
    """Serves `handler` on (host, port); `refuse` makes it close every connection at once."""

    def __init__(self, handler: Handler, adopt: Callable[[asyncio.Task[None]], None]) -> None:
        self._handler = handler
        self._adopt = adopt
        self._server: asyncio.Server | None = None
        self._writers: set[asyncio.StreamWriter] = set()
        self.refuse = False

    @property
    def port(self) -> int:
        """The bound port."""
        assert self._server is not None
        return int(self._server.sockets[0].getsockname()[1])

    async def start(self, host: str, port: int) -> None:
        """Bind; port 0 picks a free one."""
        self._server = await asyncio.start_server(self._serve, host, port, limit=MAX_HEAD_BYTES)

    async def stop(self) -> None:
        """Stop listening and close the connections."""
        if self._server is not None:
            self._server.close()
        self.drop_all()
        if self._server is not None:
            await self._server.wait_closed()

    def drop_all(self) -> int:
        """Close every open connection; how many."""
        writers, self._writers = list(self._writers), set()
        for w in writers:
            w.close()
        return len(writers)

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        if task is not None:
            self._adopt(task)
        if self.refuse:
            writer.close()
            return
        self._writers.add(writer)
        try:
            while not self.refuse:
                try:
                    head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), IDLE_CLOSE_S)
                except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, TimeoutError,
                        ConnectionError):
                    return
                keep = await self._one(head, reader, writer)
                if not keep:
                    return
        except asyncio.CancelledError:  # the fake stops: 3.11's stream callback would log it
            return
        finally:
            self._writers.discard(writer)
            writer.close()

    async def _one(self, head: bytes, reader: asyncio.StreamReader,
                   writer: asyncio.StreamWriter) -> bool:
        lines = head.decode("latin-1").split("\r\n")
        try:
            verb, target, _version = lines[0].split(" ", 2)
        except ValueError:
            await self._write(writer, Reply(400, "text/plain", [b"bad request line"]), False)
            return False
        headers = {}
        for line in lines[1:]:
            if ":" in line:
                k, v = line.split(":", 1)
                headers[k.strip().lower()] = v.strip()
        length = int(headers.get("content-length", "0") or 0)
        if length > MAX_BODY_BYTES:
            await self._write(writer, Reply(413, "text/plain", [b"too large"]), False)
            return False
        body = await reader.readexactly(length) if length else b""
        url = urlsplit(target)
        params = dict(parse_qsl(url.query, keep_blank_values=True))
        if verb == "PUT" and body:
            params.update(parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True))
        try:
            reply = await self._handler(verb, url.path, params, headers)
        except Exception as exc:  # noqa: BLE001 - a bug in the fake answers 500, never hangs
            _log.exception("alpaca handler failed for %s %s", verb, url.path)
            reply = Reply(500, "text/plain", [str(exc).encode()])
        keep = headers.get("connection", "").lower() != "close"
        await self._write(writer, reply, keep)
        return keep

    @staticmethod
    async def _write(writer: asyncio.StreamWriter, reply: Reply, keep: bool) -> None:
        size = sum(len(memoryview(p).cast("B")) for p in reply.parts)
        head = (f"HTTP/1.1 {reply.status} {_REASONS.get(reply.status, 'OK')}\r\n"
                f"Content-Type: {reply.content_type}\r\nContent-Length: {size}\r\n"
                f"Connection: {'keep-alive' if keep else 'close'}\r\n\r\n")
        writer.write(head.encode("latin-1"))
        for part in reply.parts:
            writer.write(part)
        try:
            await writer.drain()
        except ConnectionError:
            pass
