"""ImageStream (4800 thread) against a scripted loopback peer: resync, size limits, pool, reconnect."""

from __future__ import annotations

import asyncio
import json
import time

import numpy as np

from indi_seestar.protocol.frames import FrameHeader, encode_frame, encode_raw
from indi_seestar.seestar.images import ImageItem, ImageStream
from indi_seestar.seestar.pool import RawFrame
from indi_seestar.seestar.timeouts import Timeouts

from .helpers import ScriptedImagePeer, until

FAST = Timeouts(image_poll_s=0.05, image_heartbeat_interval_s=0.2, image_silence_s=5.0,
                reconnect_initial_s=0.05, reconnect_max_s=0.2, thread_join_s=2.0)


def raw_frame(value: int, w: int = 64, h: int = 32, frame_id: int = 21) -> bytes:
    pixels = np.full((h, w), value, dtype=np.uint16)
    payload = encode_raw(pixels)
    return encode_frame(FrameHeader(size=len(payload), frame_id=frame_id, width=w, height=h), payload)


def absurd_header() -> bytes:
    return FrameHeader(size=2_000_000_000, frame_id=21, width=1080, height=1920).pack()


class Collector:
    def __init__(self, keep: bool = False) -> None:
        self.frames: list[RawFrame] = []
        self.values: list[int] = []
        self.keep = keep

    def __call__(self, item: ImageItem) -> None:
        if isinstance(item, RawFrame):
            self.values.append(int(item.pixels[0, 0]))
            if self.keep:
                self.frames.append(item)
                return
        item.release()


async def start_stream(peer: ScriptedImagePeer, collector: Collector, **kw: object) -> ImageStream:
    stream = ImageStream("127.0.0.1", peer.port, loop=asyncio.get_running_loop(), timeouts=FAST,
                         on_item=collector, **kw)  # type: ignore[arg-type]
    stream.start()
    return stream


async def test_garbage_and_an_absurd_size_are_skipped_without_allocating() -> None:
    peer = ScriptedImagePeer(lambda i: [b"\x00garbage\x03\xc3junk" * 10, raw_frame(1),
                                        absurd_header(), b"more junk", raw_frame(2)])
    collector = Collector()
    stream = await start_stream(peer, collector)
    try:
        await until(lambda: collector.values == [1, 2], 5)
        stats = stream.stats()
        assert stats.rejected_headers >= 1 and stats.skipped_bytes > 0
        assert stream.pool.largest_size == 64 * 32 * 2  # the 2 GB header never got a buffer
        assert stats.pool_outstanding == 0
    finally:
        await stream.close()
        peer.stop()


async def test_many_frames_use_a_bounded_number_of_buffers() -> None:
    peer = ScriptedImagePeer(lambda i: [raw_frame(v % 1000) for v in range(300)])
    collector = Collector()
    stream = await start_stream(peer, collector)
    try:
        await until(lambda: len(collector.values) + stream.stats().dropped_items == 300, 10)
        stats = stream.stats()
        assert stats.pool_outstanding == 0
        # at most max_undelivered (2) queued for the loop + 1 being read: all fit the 3 kept
        assert stats.pool_peak_outstanding <= 3 and stats.pool_allocations <= 3
    finally:
        await stream.close()
        peer.stop()


async def test_unreleased_frames_do_not_block_the_stream() -> None:
    peer = ScriptedImagePeer(lambda i: [raw_frame(v) for v in range(20)])
    collector = Collector(keep=True)  # a consumer that never releases
    stream = await start_stream(peer, collector)
    try:
        await until(lambda: len(collector.values) + stream.stats().dropped_items == 20, 5)
        assert stream.stats().pool_outstanding == len(collector.frames)
    finally:
        await stream.close()
        peer.stop()


async def test_heartbeats_streaming_reissue_after_a_drop_and_prompt_close() -> None:
    peer = ScriptedImagePeer(lambda i: [raw_frame(i)])
    collector = Collector()
    stream = await start_stream(peer, collector)
    try:
        await stream.set_streaming(True)
        await until(lambda: b"begin_streaming" in peer.received, 5)
        await until(lambda: peer.received.count(b"test_connection") >= 2, 5)
        peer.drop_all()
        await until(lambda: peer.connections >= 2 and peer.received.count(b"begin_streaming") >= 2, 5)
        await until(lambda: collector.values[-1:] == [1], 5)
        requests = [json.loads(x) for x in bytes(peer.received).split(b"\r\n") if x]
        assert {r["id"] for r in requests} <= {2, 21}
    finally:
        started = time.monotonic()
        await stream.close()
        peer.stop()
    assert not stream.is_alive and time.monotonic() - started < 1.0


async def test_close_while_the_scope_is_unreachable_is_prompt() -> None:
    peer = ScriptedImagePeer(lambda i: [])
    port = peer.port
    peer.stop()
    stream = ImageStream("127.0.0.1", port, loop=asyncio.get_running_loop(), timeouts=FAST,
                         on_item=lambda item: item.release())
    stream.start()
    await until(lambda: stream.stats().connect_failures >= 1, 2)  # now backing off
    started = time.monotonic()
    await stream.close()
    assert not stream.is_alive and time.monotonic() - started < 1.0


async def test_streamed_frames_nobody_wants_are_dropped_unread() -> None:
    import math

    cut = raw_frame(7)[:80 + 100]  # a frame whose payload is cut short...
    peer = ScriptedImagePeer(lambda i: [raw_frame(1), raw_frame(2), cut, raw_frame(3),
                                        raw_frame(4), raw_frame(5, frame_id=24)])
    collector = Collector()
    stream = ImageStream("127.0.0.1", peer.port, loop=asyncio.get_running_loop(), timeouts=FAST,
                         on_item=collector)
    stream.frames_wanted_after_s = math.inf  # no request pending
    stream.start()
    try:
        # streamed frames (id 21) are dropped; an answer to get_current_img (id 24) is not
        await until(lambda: collector.values == [5], 5)
        stats = stream.stats()
        assert stats.discarded_frames >= 4 and stats.raw_frames == 1
        assert stats.corrupt_frames == 1  # the cut frame was noticed by the resync after it
        assert stats.pool_allocations == 1
    finally:
        await stream.close()
        peer.stop()
