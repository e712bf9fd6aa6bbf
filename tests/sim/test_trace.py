"""The benchmarks' timing trace (sim/trace.py): requests, events and frames with their times."""

from __future__ import annotations

import json
import time

from indi_seestar.protocol.methods import Method
from indi_seestar.sim.trace import Trace, fingerprint

from .conftest import until


async def test_trace_records_requests_events_and_frames(tmp_path, fake_factory, client_factory):
    path = tmp_path / "trace.jsonl"
    fake = await fake_factory(parked=False)
    fake.enable_trace(Trace(path))
    t0 = time.monotonic()
    ctl = await client_factory(fake.control_port)
    await ctl.result(Method.SET_SETTING, {"exp_ms": {"continuous": 0}})
    await ctl.result(Method.MOVE_FOCUSER, {"step": 1500, "ret_step": True})
    await ctl.event("FocuserMove", lambda e: e.fields.get("state") == "complete")
    img = await client_factory(fake.image_port, "image")
    img.send(Method.BEGIN_STREAMING, 21)
    fake.start_preview()
    frames = await img.wait_raw(2)

    def records() -> list[dict]:
        return [json.loads(line) for line in path.read_text().splitlines()]

    await until(lambda: sum(r["kind"] == "frame" for r in records()) >= 2)
    got = records()
    assert all(t0 <= r["t"] <= time.monotonic() for r in got)
    assert any(r["kind"] == "request" and r["method"] == "move_focuser" for r in got)
    assert any(r["kind"] == "event" and r["name"] == "FocuserMove" and r["state"] == "complete"
               for r in got)
    sent = [r for r in got if r["kind"] == "frame"]
    assert sent[0]["fp"] == fingerprint(frames[0]) and sent[1]["fp"] == fingerprint(frames[1])
    assert sent[0]["fp"] != sent[1]["fp"]  # noise differs: a fingerprint tells frames apart


def test_fast_frames_differ_from_frame_to_frame_and_keep_the_scene(fake_factory):
    from indi_seestar.sim.fake import FakeSeestar

    fake = FakeSeestar(parked=False)
    spec = fake.camera.make_spec(fake.clock.now_s(), 0.5)
    faithful = fake.renderer.render(spec).astype(float)
    fake.renderer.fast_noise = True
    a, b = fake.renderer.render(spec), fake.renderer.render(spec)
    assert a.dtype == b.dtype == "uint16" and a.shape == b.shape == faithful.shape
    assert fingerprint(a) != fingerprint(b)
    assert abs(float(a.mean()) - faithful.mean()) < 50  # same scene, small added noise
