"""Test helpers for the engine: deadline-based waiting and small scripted loopback peers."""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections.abc import Callable
from typing import Any

from tests.support.indi_harness import until_async


async def until(predicate: Callable[[], bool], timeout_s: float, interval_s: float = 0.01) -> None:
    """Wait until `predicate()` is true; AssertionError after `timeout_s`."""
    await until_async(predicate, timeout_s, interval_s=interval_s)


def line(obj: dict[str, Any]) -> bytes:
    """One control-channel line."""
    return json.dumps(obj).encode() + b"\r\n"


class ScriptedControlPeer:
    """A loopback TCP peer on 127.0.0.1:0 whose replies the test scripts.

    `handler(request_dict) -> list[bytes]` returns the raw lines to send back (events,
    replies, garbage, or nothing).
    """

    def __init__(self, handler: Callable[[dict[str, Any]], list[bytes]]) -> None:
        self.handler = handler
        self.requests: list[dict[str, Any]] = []
        self.writers: list[asyncio.StreamWriter] = []
        self._server: asyncio.Server | None = None
        self.port = 0

    async def start(self) -> ScriptedControlPeer:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.writers.append(writer)
        try:
            while data := await reader.readline():
                request = json.loads(data)
                self.requests.append(request)
                for out in self.handler(request):
                    writer.write(out)
                await writer.drain()
        except (ConnectionError, asyncio.CancelledError):
            pass
        finally:
            writer.close()

    async def push(self, data: bytes) -> None:
        """Send unsolicited bytes to every connected client."""
        for writer in self.writers:
            writer.write(data)
            await writer.drain()

    def drop_all(self) -> None:
        """Abort every client connection."""
        for writer in self.writers:
            writer.transport.abort()
        self.writers.clear()

    async def stop(self) -> None:
        self.drop_all()
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()


class ScriptedImagePeer:
    """A blocking loopback TCP server (own thread) that writes scripted bytes to each client.

    `script(conn_index) -> list[bytes]` gives the chunks to send right after accept; then
    the peer keeps reading (and recording) what the client sends until it disconnects.
    """

    def __init__(self, script: Callable[[int], list[bytes]],
                 respond: Callable[[dict[str, Any]], list[bytes | float]] | None = None) -> None:
        import socket

        self.script = script
        self.respond = respond  # per request line: bytes to send, floats = pauses (seconds)
        self.received = bytearray()
        self.connections = 0
        self._lock = threading.Lock()
        self._listener = socket.create_server(("127.0.0.1", 0))
        self._listener.settimeout(0.1)
        self.port = self._listener.getsockname()[1]
        self._stop = threading.Event()
        self._open: list[Any] = []
        self._thread = threading.Thread(target=self._run, name="scripted-image-peer", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:  # the listener was closed by stop()
                return
            index = self.connections
            self.connections += 1
            self._open.append(conn)
            threading.Thread(target=self._serve, args=(conn, index), daemon=True).start()

    def _serve(self, conn: Any, index: int) -> None:
        try:
            for chunk in self.script(index):
                conn.sendall(chunk)
            conn.settimeout(0.1)
            while not self._stop.is_set():
                try:
                    data = conn.recv(65536)
                except TimeoutError:
                    continue
                if not data:
                    break
                with self._lock:
                    self.received += data
                if self.respond is not None:
                    for request_line in data.splitlines():
                        if request_line.strip():
                            self._answer(conn, json.loads(request_line))
        except OSError:
            pass
        finally:
            conn.close()

    def _answer(self, conn: Any, request: dict[str, Any]) -> None:
        assert self.respond is not None
        for part in self.respond(request):
            if isinstance(part, float):
                time.sleep(part)  # scripted pause of the peer (its own thread)
            else:
                conn.sendall(part)

    def drop_all(self) -> None:
        for conn in self._open:
            try:
                conn.shutdown(2)
            except OSError:
                pass
        self._open.clear()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(2)
        self.drop_all()
        self._listener.close()
