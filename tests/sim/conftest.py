"""Fixtures for the fake Seestar's tests: a fake on 127.0.0.1 port 0 and raw wire clients."""

from __future__ import annotations

import asyncio
import itertools
import json
import time
from collections.abc import AsyncIterator, Callable
from typing import Any, Self

import numpy as np
import pytest

from indi_seestar.protocol.frames import Frame, FrameDecoder, decode_raw
from indi_seestar.protocol.rpc import NO_PARAMS, Event, Reply, RpcDecoder
from indi_seestar.sim import FakeSeestar
from tests.support.indi_harness import until_async

_ids = itertools.count(1000)


async def until(predicate: Callable[[], Any], timeout_s: float = 5.0, interval_s: float = 0.005) -> Any:
    """Poll `predicate` until it is truthy and return that; fail after `timeout_s`."""
    return await until_async(predicate, timeout_s, interval_s=interval_s)


class _WireClient:
    """A raw loopback client whose `_read()` task runs until the fake closes the connection."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer
        self.closed = False
        self._task = asyncio.get_running_loop().create_task(self._read())

    @classmethod
    async def connect(cls, port: int) -> Self:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        return cls(reader, writer)

    async def _read(self) -> None:
        raise NotImplementedError

    async def close(self) -> None:
        self.writer.close()
        self._task.cancel()
        try:
            await self._task
        except (asyncio.CancelledError, ConnectionError):
            pass


class ControlClient(_WireClient):
    """A raw 4700 client: sends JSON lines, collects replies by id and every event."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.replies: dict[Any, Reply] = {}
        self.events: list[Event] = []
        super().__init__(reader, writer)

    async def _read(self) -> None:
        decoder = RpcDecoder()
        while data := await self.reader.read(65536):
            for msg in decoder.feed(data):
                if isinstance(msg, Event):
                    self.events.append(msg)
                elif isinstance(msg, Reply):
                    self.replies[msg.id] = msg
        self.closed = True

    def send_raw(self, obj: dict[str, Any] | bytes) -> None:
        self.writer.write(obj if isinstance(obj, bytes) else json.dumps(obj).encode() + b"\r\n")

    def send(self, method: str, params: Any = NO_PARAMS, *, marker: bool = True, req_id: Any = None) -> Any:
        """Send a request (with the verify marker placed as the driver would); returns its id."""
        req_id = next(_ids) if req_id is None else req_id
        obj: dict[str, Any] = {"method": str(method), "id": req_id}
        if marker:
            if params is NO_PARAMS:
                params = ["verify"]
            elif isinstance(params, list):
                params = [*params, "verify"]
            elif not isinstance(params, dict):
                params = [params, "verify"]
        if params is not NO_PARAMS:
            obj["params"] = params
        self.send_raw(obj)
        return req_id

    async def reply(self, req_id: Any, timeout_s: float = 5.0) -> Reply:
        return await until(lambda: self.replies.get(req_id), timeout_s)

    async def call(self, method: str, params: Any = NO_PARAMS, *, marker: bool = True, timeout_s: float = 5.0) -> Reply:
        return await self.reply(self.send(method, params, marker=marker), timeout_s)

    async def result(self, method: str, params: Any = NO_PARAMS, **kw: Any) -> Any:
        reply = await self.call(method, params, **kw)
        assert reply.code == 0, (method, reply.code, reply.error)
        return reply.result

    async def event(self, name: str, pred: Callable[[Event], bool] = lambda e: True, timeout_s: float = 5.0,
                    start: int = 0) -> Event:
        """The first event `name` (from index `start`) satisfying `pred`."""
        def find() -> Event | None:
            return next((e for e in self.events[start:] if e.name == name and pred(e)), None)
        return await until(find, timeout_s)


class ImageClient(_WireClient):
    """A raw 4800 client: decodes every frame with protocol.frames."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.frames: list[Frame] = []
        self.arrivals: list[float] = []
        self.decoder = FrameDecoder()
        super().__init__(reader, writer)

    async def _read(self) -> None:
        while data := await self.reader.read(1 << 20):
            new = self.decoder.feed(data)
            self.frames.extend(new)
            self.arrivals.extend([time.monotonic()] * len(new))
        self.closed = True

    def send(self, method: str, req_id: int) -> None:
        self.writer.write(json.dumps({"method": str(method), "id": req_id}).encode() + b"\r\n")

    def raw_frames(self) -> list[Frame]:
        return [f for f in self.frames if f.header.width and f.header.img_type == 1]

    async def wait_raw(self, count: int, timeout_s: float = 10.0, start: int = 0) -> list[np.ndarray]:
        await until(lambda: len(self.raw_frames()) >= start + count, timeout_s)
        return [decode_raw(f.payload, f.header.width, f.header.height) for f in self.raw_frames()[start:start + count]]


@pytest.fixture
async def fake_factory() -> AsyncIterator[Callable[..., Any]]:
    """Start fakes with any options; all are stopped at the end."""
    fakes: list[FakeSeestar] = []

    async def make(**kwargs: Any) -> FakeSeestar:
        fake = FakeSeestar(**kwargs)
        await fake.start()
        fakes.append(fake)
        return fake

    yield make
    for fake in fakes:
        await fake.stop()


@pytest.fixture
async def client_factory() -> AsyncIterator[Callable[..., Any]]:
    """Open control/image clients; all are closed at the end."""
    clients: list[Any] = []

    async def make(port: int, kind: str = "control") -> Any:
        client = await (ControlClient.connect(port) if kind == "control" else ImageClient.connect(port))
        clients.append(client)
        return client

    yield make
    for client in clients:
        await client.close()
