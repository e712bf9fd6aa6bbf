"""The scope's read-only HTTP file server (port 80, §1): folder listings and file downloads.

Layer: seestar (asyncio engine). HTTP/1.0 GET over one loopback/LAN connection per request,
bounded by a named timeout (Timeouts.files_s) and a size limit; no third-party HTTP stack.
"""

from __future__ import annotations

import asyncio

from ..errors import RemoteProtocolError, RequestTimeout
from ..protocol.scope_files import index_names, url_path

#: Largest file we download: a drizzled stack as 16-bit RGB FITS (~50 MB) with room to spare.
MAX_FILE_BYTES = 256 * 1024 * 1024


class NotFound(RemoteProtocolError):
    """The scope has no such file or folder (HTTP 404)."""


async def http_get(host: str, port: int, path: str, timeout_s: float) -> bytes:
    """The body of GET `path` (NotFound on 404, RemoteProtocolError on other answers)."""
    try:
        async with asyncio.timeout(timeout_s):
            reader, writer = await asyncio.open_connection(host, port)
            try:
                writer.write(f"GET {url_path(path)}{'/' if path.endswith('/') else ''} HTTP/1.0\r\n"
                             f"Host: {host}\r\nConnection: close\r\n\r\n".encode("latin-1"))
                await writer.drain()
                head = await reader.readuntil(b"\r\n\r\n")
                status = head.split(b"\r\n", 1)[0].split(b" ")
                code = int(status[1]) if len(status) > 1 and status[1].isdigit() else 0
                length = _content_length(head)
                if length is not None and length > MAX_FILE_BYTES:
                    raise RemoteProtocolError(f"{path}: {length} bytes is more than we download")
                body = await (reader.readexactly(length) if length is not None else reader.read(MAX_FILE_BYTES))
            finally:
                writer.close()
    except TimeoutError:
        raise RequestTimeout(f"GET {path}", timeout_s) from None
    except (OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError) as exc:
        raise RemoteProtocolError(f"GET {path}: {exc}") from exc
    if code == 404:
        raise NotFound(f"the Seestar has no {path}")
    if code != 200:
        raise RemoteProtocolError(f"GET {path}: HTTP {code}")
    return body


def _content_length(head: bytes) -> int | None:
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length" and value.strip().isdigit():
            return int(value.strip())
    return None


async def list_folder(host: str, port: int, folder: str, timeout_s: float) -> list[str]:
    """Names in a folder of the scope (sub-folders end with "/")."""
    body = await http_get(host, port, folder.strip("/") + "/", timeout_s)
    return index_names(body.decode("utf-8", "replace"))
