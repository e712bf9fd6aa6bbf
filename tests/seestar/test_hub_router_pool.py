"""Event hub, frame router and buffer pool (loop-side logic, no sockets)."""

from __future__ import annotations

import asyncio
import time

import numpy as np
import pytest

from indi_seestar.errors import ConnectionLost, OperationFailed
from indi_seestar.protocol.frames import FrameHeader
from indi_seestar.protocol.rpc import Event
from indi_seestar.seestar.hub import EventHub
from indi_seestar.seestar.pool import BufferPool, RawFrame
from indi_seestar.seestar.router import FrameRouter


def ev(name: str, **fields: object) -> Event:
    return Event(name, "1.0", dict(fields))


async def test_a_failing_subscriber_does_not_stop_the_others() -> None:
    hub = EventHub()
    seen: list[str] = []

    def bad(_: Event) -> None:
        raise RuntimeError("subscriber bug")

    hub.subscribe(bad)
    unsubscribe = hub.subscribe(lambda e: seen.append(e.name))
    hub.publish(ev("PiStatus"))
    unsubscribe()
    hub.publish(ev("PiStatus"))
    assert seen == ["PiStatus"]


async def test_expectation_returns_the_terminal_event_registered_before_the_command() -> None:
    hub = EventHub()
    async with hub.expect("FocuserMove", timeout_s=1) as done:
        hub.publish(ev("FocuserMove", state="working", position=10))  # not terminal
        hub.publish(ev("WheelMove", state="complete"))  # other name
        hub.publish(ev("FocuserMove", state="complete", position=20))
        event = await done.wait()
    assert event.get("position") == 20


async def test_expectation_fails_on_fail_state_timeout_and_disconnect() -> None:
    hub = EventHub()
    async with hub.expect("AutoGoto", timeout_s=1) as done:
        hub.publish(ev("AutoGoto", state="fail", error="solve failed", code=251))
        with pytest.raises(OperationFailed) as info:
            await done.wait()
    assert info.value.code == 251
    async with hub.expect("AutoGoto", timeout_s=0.05) as done:
        with pytest.raises(OperationFailed):
            await done.wait()
    async with hub.expect("AutoGoto", timeout_s=5) as done:
        hub.connection_lost(ConnectionLost("gone"))
        with pytest.raises(ConnectionLost):
            await done.wait()
    async with hub.expect("AutoGoto", timeout_s=5, fail_on_disconnect=False) as done:
        hub.connection_lost(ConnectionLost("gone"))
        hub.publish(ev("AutoGoto", state="complete"))
        assert (await done.wait()).state == "complete"


def make_frame(pool: BufferPool, first_byte_s: float, seq: int = 1, w: int = 4, h: int = 2) -> RawFrame:
    lease = pool.acquire(w * h * 2)
    pixels = np.frombuffer(lease.view, dtype="<u2").reshape(h, w)
    header = FrameHeader(size=w * h * 2, frame_id=21, width=w, height=h)
    return RawFrame(pixels, header, first_byte_s, first_byte_s, seq, lease)


async def test_router_accepts_only_frames_started_after_the_request() -> None:
    pool = BufferPool()
    router = FrameRouter(time_factor=10.0, readout_margin_s=0.1)
    router.exposure_ms = 5000  # 5 s at x10 = 0.5 s real
    t0 = time.monotonic()
    request = router.add(t0, 5000)
    early = make_frame(pool, t0 + 0.5)  # estimated start t0 - 0.1: may predate the request
    router.feed(early)
    assert early.released and not request.future.done()
    good = make_frame(pool, t0 + 0.61)
    router.feed(good)
    assert request.future.result() is good
    request.taken = True
    router.remove(request)
    assert not good.released
    good.release()
    assert pool.outstanding == 0


async def test_router_discards_frames_of_a_previous_generation() -> None:
    pool = BufferPool()
    router = FrameRouter(time_factor=1.0, readout_margin_s=0.0)
    router.exposure_ms = 100
    old_request = router.add(0.0, 100)
    t_ack = time.monotonic()
    router.new_generation(exposure_ms=200, ack_monotonic_s=t_ack, drain_s=0.3)
    with pytest.raises(OperationFailed):
        old_request.future.result()
    router.remove(old_request)
    request = router.add(0.0, 200)
    stale = make_frame(pool, t_ack + 0.2)  # inside the drain window: could be an old exposure
    router.feed(stale)
    assert stale.released and router.discarded == 1
    fresh = make_frame(pool, t_ack + 0.35)
    router.feed(fresh)
    assert request.future.result() is fresh
    router.remove(request)  # never taken (caller cancelled): the router releases it
    assert fresh.released and pool.outstanding == 0


async def test_pool_reuses_buffers_and_never_blocks() -> None:
    pool = BufferPool(keep=3)
    for _ in range(100):
        pool.acquire(1000).release()
    assert pool.allocations == 1
    held = [pool.acquire(1000) for _ in range(10)]  # all lent out: fresh ones, no deadlock
    assert pool.allocations == 10
    for lease in held:
        lease.release()
        lease.release()  # idempotent
    assert pool.free_count == 3 and pool.outstanding == 0
    frame = make_frame(pool, 0.0)
    frame.release()
    with pytest.raises(RuntimeError):
        _ = frame.pixels


async def test_frame_pixels_are_read_only_views() -> None:
    frame = make_frame(BufferPool(), 0.0)
    with frame:
        assert frame.pixels.shape == (2, 4) and frame.pixels.dtype == np.uint16
        with pytest.raises(ValueError):
            frame.pixels[0, 0] = 1
        copy = frame.copy_pixels()
    copy[0, 0] = 1
    assert frame.released
    await asyncio.sleep(0)


async def test_router_tells_which_frames_nobody_can_want() -> None:
    import math

    router = FrameRouter(time_factor=10.0, readout_margin_s=0.05)
    assert router.wanted_after_s() == math.inf  # no request: every streamed frame is useless
    router.new_generation(exposure_ms=1000, ack_monotonic_s=100.0, drain_s=0.0)
    early = router.add(200.0, 1000)
    late = router.add(300.0, 1000)
    assert router.wanted_after_s() == 200.0 + 0.1 + 0.05  # started after + exposure + margin
    early.future.cancel()
    assert router.wanted_after_s() == 300.0 + 0.1 + 0.05
    router.new_generation(exposure_ms=1000, ack_monotonic_s=400.0, drain_s=1.0)
    assert router.wanted_after_s() == 401.0  # nothing before the new generation either
    router.remove(late)
    router.remove(early)
    assert router.wanted_after_s() == math.inf


async def test_after_a_preview_stop_the_first_frame_past_stop_plus_margin_is_taken() -> None:
    pool = BufferPool()
    router = FrameRouter(time_factor=1.0, readout_margin_s=0.5)
    t0 = 1000.0
    router.new_generation(exposure_ms=500, ack_monotonic_s=t0 - 10, drain_s=0.0)
    request = router.add(t0, 2000)  # 2 s asked while a 0.5 s preview runs
    # an exposure-length change makes frames wait for the old exposure to drain:
    router.new_generation(exposure_ms=2000, ack_monotonic_s=t0 + 0.05, drain_s=1.0)
    assert router.eligible_after_s == t0 + 1.05
    router.preview_stopped(t0 + 0.1)  # then started again
    assert router.eligible_after_s == t0 + 0.6  # the stop ended every exposure: no drain left
    assert router.wanted_after_s() == t0 + 0.6
    cut_short = make_frame(pool, t0 + 0.55)  # the stopped exposure, read within the margin
    router.feed(cut_short)
    assert cut_short.released and not request.future.done()
    # Began after the stop: taken, though first byte - exposure - margin (t0 - 0.1) is earlier
    # than the request (a frame with no restart would have to wait for t0 + 2.5).
    fresh = make_frame(pool, t0 + 2.4)
    router.feed(fresh)
    assert request.future.result() is fresh
    request.taken = True
    router.remove(request)
    later = router.add(t0 + 3.0, 2000)  # made after the stop: the usual rule again
    assert router.wanted_after_s() == t0 + 3.0 + 2.0 + 0.5
    too_early = make_frame(pool, t0 + 4.9)
    router.feed(too_early)
    assert too_early.released and not later.future.done()
    router.remove(later)
    fresh.release()
    assert pool.outstanding == 0
