"""Throughput of the 4800 thread and event-loop responsiveness while it runs (printed numbers).

The real measurement is longer (`make bench`); these short runs print frames/s, MB/s and
the worst delay of a 10 ms periodic timer on the client's loop, with loose bounds.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Self

import numpy as np
import pytest

from indi_seestar.protocol.frames import FrameHeader, encode_frame, encode_raw
from indi_seestar.seestar.client import SeestarClient
from indi_seestar.seestar.images import ImageItem, ImageStream
from indi_seestar.seestar.pool import RawFrame

from .conftest import FAST, config_for, running_fake
from .helpers import ScriptedImagePeer, until

Clients = Callable[..., SeestarClient]
TICK_S = 0.010


class StallMeter:
    """A 10 ms periodic timer on the running loop; records how late each tick fires."""

    def __init__(self) -> None:
        self.worst_s = 0.0
        self.ticks = 0
        self._task: asyncio.Task[None] | None = None

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        expected = loop.time() + TICK_S
        while True:
            await asyncio.sleep(max(0.0, expected - loop.time()))
            now = loop.time()
            self.worst_s = max(self.worst_s, now - expected)
            self.ticks += 1
            expected = now + TICK_S

    def __enter__(self) -> Self:
        self._task = asyncio.get_running_loop().create_task(self._run())
        return self

    def __exit__(self, *exc: object) -> None:
        assert self._task is not None
        self._task.cancel()


@pytest.mark.bench
async def test_engine_ceiling_on_loopback() -> None:
    """Frames written back to back by a scripted peer: what the reader thread sustains."""
    pixels = np.random.default_rng(1).integers(300, 3000, (1920, 1080), dtype=np.uint16)
    payload = encode_raw(pixels)
    frame = encode_frame(FrameHeader(size=len(payload), frame_id=21, width=1080, height=1920),
                         payload)
    count = 150
    peer = ScriptedImagePeer(lambda i: [frame] * count)
    got: list[int] = []

    def take(item: ImageItem) -> None:
        if isinstance(item, RawFrame):
            got.append(item.seq)
        item.release()

    stream = ImageStream("127.0.0.1", peer.port, loop=asyncio.get_running_loop(), timeouts=FAST,
                         on_item=take)
    with StallMeter() as meter:
        started = time.monotonic()
        stream.start()
        await until(lambda: stream.stats().raw_frames == count, 60)
        elapsed = time.monotonic() - started
    stats = stream.stats()
    await stream.close()
    peer.stop()
    mb_s = stats.bytes_received / elapsed / 1e6
    print(f"\nengine ceiling: {count / elapsed:.1f} frames/s, {mb_s:.0f} MB/s, "
          f"{stats.dropped_items} dropped, pool allocations {stats.pool_allocations}, "
          f"worst loop stall {meter.worst_s * 1000:.1f} ms over {meter.ticks} ticks")
    assert meter.worst_s < 0.25


@pytest.mark.bench
async def test_streaming_from_the_fake(clients: Clients) -> None:
    """Preview frames from the fake at its fastest: throughput and loop stall."""
    factor = 100.0
    with running_fake(firmware="6.70", time_factor=factor, parked=False) as (sim, fake):
        client = clients(config_for(fake, time_factor=factor, readout_margin_s=0.2))
        await client.connect()
        sim.call(fake.point_at, 5.6, -1.2)
        with await client.next_raw_frame(started_after_s=time.monotonic(), exposure_s=0.5,
                                         timeout_s=15):
            pass  # 0.5 s at x100: 5 ms exposures, the fake's fastest preview
        before = client.image_stats()
        assert before is not None
        window_s = 3.0
        with StallMeter() as meter:
            started = time.monotonic()
            await until(lambda: time.monotonic() - started >= window_s, window_s + 1, 0.05)
            after = client.image_stats()
        assert after is not None
        # Nobody asks for frames meanwhile: the thread drops them unread (discarded_frames).
        frames = (after.raw_frames + after.discarded_frames
                  - before.raw_frames - before.discarded_frames)
        mb = (after.bytes_received - before.bytes_received) / 1e6
        print(f"\nfrom the fake: {frames / window_s:.1f} frames/s, {mb / window_s:.0f} MB/s, "
              f"worst loop stall {meter.worst_s * 1000:.1f} ms, pool allocations "
              f"{after.pool_allocations}, outstanding {after.pool_outstanding}")
        assert frames > 0 and meter.worst_s < 0.25
