"""The next_raw_frame guarantee, checked against the fake's own record of every exposure."""

from __future__ import annotations

import random
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

import numpy as np
import pytest

from indi_seestar.seestar.client import SeestarClient
from indi_seestar.seestar.pool import RawFrame
from indi_seestar.sim import FakeSeestar, SimThread

from .conftest import config_for, running_fake
from .helpers import until

Clients = Callable[..., SeestarClient]

#: The guarantee rests on every frame reaching us within the readout margin (0.3-1.5 s), which
#: the in-process fake's rendering misses when six workers share 2 cores: the quiet phase.
pytestmark = pytest.mark.realtime_busy


@asynccontextmanager
async def pointed_fake(clients: Clients, *, firmware: str, time_factor: float = 1.0,
                       readout_margin_s: float = 0.3, ra_dec: tuple[float, float] = (6.0, 20.0),
                       ) -> AsyncIterator[tuple[SimThread, FakeSeestar, ExposureLog,
                                               SeestarClient]]:
    """An unparked fake pointing at `ra_dec`, its exposure log, and a client connected to it."""
    with running_fake(firmware=firmware, time_factor=time_factor, parked=False) as (sim, fake):
        exposures = ExposureLog(sim, fake)
        client = clients(config_for(fake, time_factor=time_factor,
                                    readout_margin_s=readout_margin_s))
        await client.connect()
        sim.call(fake.point_at, *ra_dec)
        yield sim, fake, exposures, client


class ExposureLog:
    """Every preview exposure the fake completed, by image id (filled on the fake's loop)."""

    def __init__(self, sim: SimThread, fake: FakeSeestar) -> None:
        self.specs: dict[int, Any] = {}
        self._fake = fake
        sim.call(fake.camera.subscribe, 424242, self._record)

    def _record(self, spec: Any) -> None:
        self.specs[spec.image_id] = spec

    def of(self, frame: RawFrame) -> Any:
        return self.specs[frame.header.image_id]

    def start_monotonic_s(self, frame: RawFrame) -> float:
        return self._fake.clock.real_monotonic_at(self.of(frame).t_start_s)

    def end_monotonic_s(self, frame: RawFrame) -> float:
        spec = self.of(frame)
        return self._fake.clock.real_monotonic_at(spec.t_start_s + spec.exposure_s)


def binned(pixels: np.ndarray) -> np.ndarray:
    h, w = pixels.shape
    b = pixels.astype(np.float32).reshape(h // 8, 8, w // 8, 8).sum(axis=(1, 3))
    return (b - b.mean()) / (b.std() or 1.0)


def correlation(a: np.ndarray, b: np.ndarray) -> float:
    return float((binned(a) * binned(b)).mean())


async def test_a_frame_requested_after_a_move_shows_the_new_pointing(clients: Clients) -> None:
    factor = 10.0
    # A field the fake has not drawn yet takes it up to ~0.5 s to render on a busy 2-core
    # machine (measured): the margin must cover that delay, as a real scope's readout.
    margin_s = 1.5
    scene = pointed_fake(clients, firmware="6.70", time_factor=factor, readout_margin_s=margin_s,
                         ra_dec=(5.6, -1.2))
    async with scene as (sim, fake, exposures, client):
        frames_a = []
        for _ in range(2):
            with await client.next_raw_frame(started_after_s=time.monotonic(), exposure_s=1.0,
                                             timeout_s=15) as frame:
                frames_a.append(frame.copy_pixels())
        sim.call(fake.point_at, 12.3, 33.0)
        moved_at = time.monotonic()
        with await client.next_raw_frame(started_after_s=moved_at, exposure_s=1.0,
                                         timeout_s=15) as frame:
            spec = exposures.of(frame)
            latency_s = frame.first_byte_monotonic_s - exposures.end_monotonic_s(frame)
            print(f"\nnew field: exposure end -> first byte {latency_s * 1000:.0f} ms")
            assert latency_s < margin_s, "the fake was slower than the configured margin"
            assert exposures.start_monotonic_s(frame) >= moved_at
            assert all(abs(p.ra_hours - 12.3) < 1e-3 and abs(p.dec_deg - 33.0) < 1e-2
                       for p in spec.pointings)
            after = frame.copy_pixels()
    same_field = correlation(frames_a[0], frames_a[1])
    new_field = correlation(frames_a[1], after)
    assert same_field > 0.5 and new_field < 0.5 * same_field


async def test_no_frame_from_before_the_request_is_ever_returned(clients: Clients) -> None:
    factor = 5.0
    rng = random.Random(3)
    margin_s = 0.5
    scene = pointed_fake(clients, firmware="7.06", time_factor=factor, readout_margin_s=margin_s)
    async with scene as (sim, fake, exposures, client):
        # The fake's first frame of a field draws the field, up to ~0.7 s on a loaded 2-core
        # machine (measured: 0.655 s once); later frames reuse it. That is the fake's cost, not
        # a readout a real scope has, so the field is drawn once before the checked requests.
        with await client.next_raw_frame(started_after_s=time.monotonic(), exposure_s=0.5,
                                         timeout_s=15):
            pass
        latencies = []
        for i in range(16):
            exposure_s = rng.choice([0.5, 0.5, 1.0, 2.0])  # changes restart the exposure
            started_after = time.monotonic() + rng.uniform(-0.2, 0.1)
            with await client.next_raw_frame(started_after_s=started_after, exposure_s=exposure_s,
                                             timeout_s=15) as frame:
                spec = exposures.of(frame)
                latency_s = frame.first_byte_monotonic_s - exposures.end_monotonic_s(frame)
                latencies.append(latency_s)
                # the guarantee's precondition: the frame reached us within the margin
                assert latency_s < margin_s, f"request {i}: the fake was slower than the margin"
                assert spec.exposure_s == exposure_s, f"request {i}: wrong exposure length"
                assert exposures.start_monotonic_s(frame) >= started_after, f"request {i}: too early"
        print(f"\nfake: exposure end -> first byte read: max {max(latencies) * 1000:.0f} ms, "
              f"median {sorted(latencies)[len(latencies) // 2] * 1000:.0f} ms")


async def test_a_long_exposure_is_not_returned_before_it_can_have_ended(clients: Clients) -> None:
    factor = 10.0
    scene = pointed_fake(clients, firmware="6.70", time_factor=factor, ra_dec=(3.0, 45.0))
    async with scene as (sim, fake, exposures, client):
        with await client.next_raw_frame(started_after_s=time.monotonic(), exposure_s=0.5,
                                         timeout_s=15):
            pass  # preview and streaming running with a short exposure
        requested = time.monotonic()
        with await client.next_raw_frame(started_after_s=requested, exposure_s=5.0,
                                         timeout_s=20) as frame:
            returned = time.monotonic()
            assert returned - requested >= 5.0 / factor
            assert exposures.of(frame).exposure_s == 5.0
            assert exposures.start_monotonic_s(frame) >= requested


def _scope_now(sim: SimThread, fake: FakeSeestar) -> float:
    return float(sim.call(fake.clock.now_s))


async def _mid_way_through_the_next_exposure(sim: SimThread, fake: FakeSeestar,
                                             spec: Any) -> None:
    """Return half-way through the preview exposure that followed `spec`'s (back to back)."""
    mid_s = spec.t_start_s + 1.5 * spec.exposure_s
    await until(lambda: _scope_now(sim, fake) >= mid_s, 10 * spec.exposure_s)


async def test_a_restart_delivers_an_exposure_begun_at_the_request_not_one_later(
        clients: Clients) -> None:
    exposure_s = 2.0
    scene = pointed_fake(clients, firmware="6.70", readout_margin_s=1.0)
    async with scene as (sim, fake, exposures, client):
        with await client.next_raw_frame(started_after_s=time.monotonic(), exposure_s=exposure_s,
                                         timeout_s=15) as frame:  # the preview now runs at 2 s
            previous = exposures.of(frame)
        await _mid_way_through_the_next_exposure(sim, fake, previous)
        stops = fake.faults.counters.requests["iscope_stop_view"]
        requested_scope_s = _scope_now(sim, fake)
        requested = time.monotonic()
        with await client.next_raw_frame(started_after_s=requested, exposure_s=exposure_s,
                                         timeout_s=15, restart_exposure=True) as frame:
            spec = exposures.of(frame)
        assert fake.faults.counters.requests["iscope_stop_view"] == stops + 1
        assert spec.exposure_s == exposure_s
        assert spec.t_start_s >= requested_scope_s, "the frame began before the request"
        assert exposures.start_monotonic_s(frame) >= requested
        # Begun at the request plus the restart (0.36 s in the fake, as recorded), not after
        # the preview exposure under way (1 s later) or the one after it (3 s later).
        assert spec.t_start_s - requested_scope_s < 0.9
        assert spec.t_start_s + exposure_s - requested_scope_s < 2 * exposure_s - 1.0


async def test_a_restart_never_delivers_the_exposure_it_cut_short(clients: Clients) -> None:
    exposure_s = 2.0
    scene = pointed_fake(clients, firmware="6.70", readout_margin_s=1.0)
    async with scene as (sim, fake, exposures, client):
        fake.faults.push_frame_on_stop()  # the stopped exposure is pushed, cut short
        for _ in range(2):
            with await client.next_raw_frame(started_after_s=time.monotonic(),
                                             exposure_s=exposure_s, timeout_s=15) as frame:
                previous = exposures.of(frame)
            await _mid_way_through_the_next_exposure(sim, fake, previous)
            requested_scope_s = _scope_now(sim, fake)
            with await client.next_raw_frame(started_after_s=time.monotonic(),
                                             exposure_s=exposure_s, timeout_s=15,
                                             restart_exposure=True) as frame:
                spec = exposures.of(frame)
            assert spec.exposure_s == exposure_s and spec.t_start_s >= requested_scope_s
        cut_short = [s for s in exposures.specs.values() if s.exposure_s < exposure_s]
        assert len(cut_short) >= 2, "the fake pushed no cut-short frame: nothing was tested"


async def test_without_restart_the_preview_runs_on_and_the_next_whole_exposure_comes(
        clients: Clients) -> None:
    exposure_s = 0.5
    factor = 2.0
    scene = pointed_fake(clients, firmware="6.70", time_factor=factor, readout_margin_s=0.3)
    async with scene as (sim, fake, exposures, client):
        with await client.next_raw_frame(started_after_s=time.monotonic(), exposure_s=exposure_s,
                                         timeout_s=15):
            pass
        stage_started_s = fake.state.view.stages["ContinuousExposure"].t_start_s
        for _ in range(4):
            requested_scope_s = _scope_now(sim, fake)
            with await client.next_raw_frame(started_after_s=time.monotonic(),
                                             exposure_s=exposure_s, timeout_s=15) as frame:
                spec = exposures.of(frame)
            assert spec.t_start_s >= requested_scope_s and spec.exposure_s == exposure_s
        assert fake.state.view.stages["ContinuousExposure"].t_start_s == stage_started_s
        assert fake.faults.counters.requests["iscope_stop_view"] == 0
