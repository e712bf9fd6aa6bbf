"""Frame path: 0 ms live preview streamed on 4800, frame after frame, tracking or drifting.

How fast the fake streams is a benchmark's claim (house rule: speed goals are ratios measured in
the same run, never a wall-clock bound in a test): `make bench` (B1) drives the fake, as its own
process, as hard as a client can and reports frames/s. This test keeps the correctness part:
with a 0 ms exposure the frames keep coming, each one whole, each a new exposure.
"""

from __future__ import annotations

import pytest

from indi_seestar.protocol.methods import Method

from .conftest import until

#: Frames checked after the first three; the timeout only bounds how long a failure takes.
STREAMED = 20
FAILURE_TIMEOUT_S = 60.0


@pytest.mark.bench
@pytest.mark.parametrize("tracking", [True, False], ids=["tracking", "drifting"])
async def test_streaming_keeps_delivering_whole_new_frames(tracking, fake_factory, client_factory):
    fake = await fake_factory(parked=False)
    ra, dec = fake.state.mount.radec_of_altaz(50.0, 180.0)
    fake.point_at(ra, dec, tracking=tracking)
    ctl = await client_factory(fake.control_port)
    await ctl.result(Method.SET_SETTING, {"exp_ms": {"continuous": 0}})
    img = await client_factory(fake.image_port, "image")
    img.send(Method.BEGIN_STREAMING, 21)
    fake.start_preview()
    first = await img.wait_raw(3)
    n0 = len(img.raw_frames())
    await until(lambda: len(img.raw_frames()) >= n0 + STREAMED, FAILURE_TIMEOUT_S)
    frames = img.raw_frames()[n0:n0 + STREAMED]
    height, width = first[0].shape
    assert all((f.header.width, f.header.height) == (width, height) for f in frames)
    assert all(len(f.payload) == width * height * 2 for f in frames), "a frame was cut short"
    ids = [f.header.image_id for f in frames]
    assert ids == sorted(ids) and len(set(ids)) == len(ids), f"a frame came twice: {ids}"
