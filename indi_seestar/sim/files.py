"""The fake Seestar's stored files (MyWorks album) and its read-only HTTP file server (port 80 on a
real scope; here a loopback port of its own).

Layer: sim. GET of a file answers its bytes; GET of a folder (trailing slash) an HTML index
(protocol/scope_files.index_html); anything else 404, non-GET 405. HTTP/1.0, one request per
connection, as small file servers answer.
"""

from __future__ import annotations

import asyncio
import logging
from urllib.parse import unquote

from ..protocol.scope_files import index_html

_log = logging.getLogger(__name__)
MAX_REQUEST_BYTES = 8192


class Album:
    """Files by path under the scope's root ("MyWorks/M 42_sub/Light_....fit")."""

    def __init__(self) -> None:
        self.files: dict[str, bytes] = {}

    def put(self, path: str, data: bytes) -> None:
        """Store (or replace) a file."""
        self.files[path.strip("/")] = data

    def get(self, path: str) -> bytes | None:
        """A file's bytes, or None."""
        return self.files.get(path.strip("/"))

    def listing(self, folder: str) -> list[str] | None:
        """Names directly in `folder` (sub-folders end with "/"), or None if there is no such folder."""
        prefix = folder.strip("/") + "/" if folder.strip("/") else ""
        names: set[str] = set()
        for path in self.files:
            if path.startswith(prefix):
                rest = path[len(prefix):]
                names.add(rest.split("/", 1)[0] + "/" if "/" in rest else rest)
        return sorted(names) if names or not prefix else None


class FileServer:
    """The HTTP listener over an Album."""

    def __init__(self, album: Album) -> None:
        self.album = album
        self._server: asyncio.Server | None = None
        self.requests = 0

    @property
    def port(self) -> int:
        """The bound port."""
        assert self._server is not None
        return int(self._server.sockets[0].getsockname()[1])

    async def start(self, host: str, port: int = 0) -> None:
        """Listen on (host, port)."""
        self._server = await asyncio.start_server(self._serve, host, port)

    async def stop(self) -> None:
        """Close the listener."""
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 10)
            self.requests += 1
            method, target = (head.split(b"\r\n", 1)[0].decode("latin-1").split(" ") + ["", ""])[:2]
            status, body, kind = self._answer(method, unquote(target))
            writer.write(f"HTTP/1.0 {status}\r\nContent-Type: {kind}\r\nContent-Length: {len(body)}\r\n"
                         f"Connection: close\r\n\r\n".encode("latin-1"))
            writer.write(body)
            await writer.drain()
        except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, TimeoutError, ConnectionError) as exc:
            _log.debug("file server: %s", exc)
        finally:
            writer.close()

    def _answer(self, method: str, path: str) -> tuple[str, bytes, str]:
        if method != "GET":
            return "405 Method Not Allowed", b"", "text/plain"
        if path.endswith("/"):
            names = self.album.listing(path)
            if names is None:
                return "404 Not Found", b"", "text/plain"
            return "200 OK", index_html(names).encode(), "text/html"
        data = self.album.get(path)
        if data is None:
            return "404 Not Found", b"", "text/plain"
        return "200 OK", data, "application/octet-stream"
