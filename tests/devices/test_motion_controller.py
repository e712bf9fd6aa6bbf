"""MotionController against the fake Seestar (real sockets on 127.0.0.1, the real engine).

The fake records every speed move exactly, so what the controller sent is read back from the
fake's mount history: the displacement per sky axis, the sequence of moves and the stops.
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import AsyncIterator
from typing import Any

import pytest

from indi_seestar.config import SeestarConfig
from indi_seestar.devices.motion import LEAD_RTT_SAMPLES, Latency, MotionController, Outcome
from indi_seestar.devices.motion_plan import SkyAxis, eq_frame
from indi_seestar.devices.mount_motion import ClientMover
from indi_seestar.seestar.client import SeestarClient
from indi_seestar.sim import FakeSeestar, SimThread
from tests.support.indi_harness import until_async

DEC = 30.0


class Rig:
    """A fake in its thread, a connected client, a controller and what it reported."""

    def __init__(self, sim: SimThread, fake: FakeSeestar, client: SeestarClient) -> None:
        self.sim, self.fake, self.client = sim, fake, client
        self.ends: list[tuple[SkyAxis, str, Outcome, str | None]] = []
        self.tasks: set[asyncio.Task[Any]] = set()
        self.controller = MotionController(ClientMover(client), lambda: eq_frame(DEC), self._on_end,
                                           self._spawn)

    def _spawn(self, coro: Any) -> asyncio.Task[Any]:
        task = asyncio.get_running_loop().create_task(coro)
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)
        return task

    def _on_end(self, axis: SkyAxis, command: Any, outcome: Outcome, reason: str | None) -> None:
        self.ends.append((axis, type(command).__name__, outcome, reason))

    def radec(self) -> tuple[float, float]:
        return self.sim.call(self.fake.state.mount.radec)

    def still(self) -> bool:
        return self.sim.call(self.fake.state.mount.move_type) == "none"


@pytest.fixture
async def rig() -> AsyncIterator[Rig]:
    sim = SimThread(parked=False, equ_mode=True)
    fake = sim.start()
    sim.call(fake.point_at, 2.0, DEC)
    client = SeestarClient(SeestarConfig(host="127.0.0.1", control_port=fake.control_port,
                                         image_port=fake.image_port, discovery_port=fake.discovery_port,
                                         discovery_address="127.0.0.1"))
    try:
        await client.connect()
        yield Rig(sim, fake, client)
    finally:
        await client.close()
        sim.stop()


def offset_arcsec(before: tuple[float, float], after: tuple[float, float]) -> tuple[float, float]:
    d_ra = (after[0] - before[0] + 12.0) % 24.0 - 12.0
    return d_ra * 54000.0 * math.cos(math.radians(DEC)), (after[1] - before[1]) * 3600.0


@pytest.mark.realtime  # 0.8 s pulse to within 5 %, fake in this process: a quiet CPU
async def test_overlapping_pulses_each_deliver_their_offset(rig: Rig) -> None:
    before = rig.radec()
    rig.controller.pulse(SkyAxis.NS, 12.0, 1.6)
    rig.controller.pulse(SkyAxis.WE, -6.0, 0.8)
    await until_async(lambda: len(rig.ends) == 2, 10)
    assert [(a, o) for a, _k, o, _r in rig.ends] == [(SkyAxis.WE, Outcome.DONE), (SkyAxis.NS, Outcome.DONE)]
    assert rig.still()
    east, north = offset_arcsec(before, rig.radec())
    assert east == pytest.approx(-6.0, rel=0.05) and north == pytest.approx(12.0, rel=0.05)
    assert rig.controller.latency.moves >= 2 and rig.controller.latency.stops == 1


async def test_release_stop_all_and_a_refused_move(rig: Rig) -> None:
    rig.controller.hold(SkyAxis.NS, 150.0)
    await until_async(lambda: not rig.still(), 5)
    rig.controller.release(SkyAxis.NS)
    await until_async(lambda: rig.ends and rig.still(), 5)
    assert rig.ends[-1][1:3] == ("Hold", Outcome.DONE)
    rig.controller.hold(SkyAxis.WE, 150.0)
    rig.controller.pulse(SkyAxis.NS, 30.0, 3.0)
    await until_async(lambda: not rig.still(), 5)
    await rig.controller.stop_all("aborted")
    assert rig.still()
    assert sorted((a.value, o) for a, _k, o, _r in rig.ends[-2:]) == [("NS", Outcome.STOPPED), ("WE", Outcome.STOPPED)]
    rig.sim.call(rig.fake.state.mount.set_parked, True)  # the scope now refuses moves (207)
    rig.controller.pulse(SkyAxis.NS, 5.0, 1.0)
    await until_async(lambda: rig.ends[-1][2] is not Outcome.STOPPED, 5)
    axis, kind, outcome, reason = rig.ends[-1]
    assert (axis, kind, outcome) == (SkyAxis.NS, "Pulse", Outcome.FAILED) and reason
    assert not rig.controller.moving


def test_one_stalled_round_trip_does_not_make_the_next_stops_early() -> None:
    """Seen under load: a 1.4 s stop round trip made the next 137 ms pulse stop at once (0.2 %)."""
    latency = Latency()
    for _ in range(6):
        latency.record("move", 0.001)
        latency.record("stop", 0.002)
    latency.record("stop", 1.4)  # one stall of the host, not of the scope
    assert latency.stop_lead_s() == pytest.approx(0.0005)
    for _ in range(LEAD_RTT_SAMPLES):  # a scope whose stops really are slower: followed
        latency.record("move", 0.001)
        latency.record("stop", 0.041)
    assert latency.stop_lead_s() == pytest.approx(0.02)
