"""Fault knobs: each does what it says; counters count."""

from __future__ import annotations

import asyncio
import time

import pytest

from indi_seestar.protocol.methods import Method
from indi_seestar.sim import SimThread

from .conftest import ControlClient, ImageClient, until


async def test_drop_control_and_reconnect(fake_factory, client_factory):
    fake = await fake_factory()
    ctl = await client_factory(fake.control_port)
    await ctl.call(Method.TEST_CONNECTION)
    assert fake.faults.drop_control() == 1
    await until(lambda: ctl.closed)
    again = await client_factory(fake.control_port)
    assert (await again.call(Method.TEST_CONNECTION)).result == "server connected!"
    assert fake.faults.counters.connections["control"] == 2
    assert fake.faults.counters.requests["test_connection"] == 2


async def test_drop_image_mid_frame(fake_factory, client_factory):
    fake = await fake_factory()
    img = await client_factory(fake.image_port, "image")
    img.send(Method.TEST_CONNECTION, 2)
    await until(lambda: img.frames)
    fake.faults.drop_image(mid_frame=True)
    await until(lambda: img.closed)
    assert img.decoder.buffered_bytes > 0  # half a frame arrived, then the socket closed


async def test_delay_lose_and_fail_next(fake_factory, client_factory):
    fake = await fake_factory()
    ctl = await client_factory(fake.control_port)
    fake.faults.delay_next_reply(Method.GET_WHEEL_POSITION, 0.3)
    t0 = time.monotonic()
    slow = ctl.send(Method.GET_WHEEL_POSITION)
    fast = await ctl.call(Method.TEST_CONNECTION)
    assert fast.code == 0 and slow not in ctl.replies
    await ctl.reply(slow)
    assert time.monotonic() - t0 >= 0.3
    fake.faults.lose_next_reply(Method.SET_WHEEL_POSITION)
    lost = ctl.send(Method.SET_WHEEL_POSITION, [2])
    await ctl.event("WheelMove", lambda e: e.state == "complete")  # it was carried out
    assert lost not in ctl.replies and fake.state.wheel.position == 2
    fake.faults.fail_next(Method.SCOPE_GOTO, 501, "mount goto failed")
    failed = await ctl.call(Method.SCOPE_GOTO, [1.0, 2.0])
    assert (failed.code, failed.error) == (501, "mount goto failed")
    assert (await ctl.call(Method.GET_WHEEL_POSITION)).result == 2


async def test_garbage_and_truncated_frames(fake_factory, client_factory):
    fake = await fake_factory(time_factor=20.0, parked=False)
    fake.point_at(5.0, 20.0)
    ctl = await client_factory(fake.control_port)
    raw_reader, raw_writer = await asyncio.open_connection("127.0.0.1", fake.control_port)
    fake.faults.send_control_garbage(b"\x00garbage{\r\n")
    assert (await raw_reader.readline()).startswith(b"\x00garbage")
    raw_writer.close()
    assert (await ctl.call(Method.TEST_CONNECTION)).code == 0
    img: ImageClient = await client_factory(fake.image_port, "image")
    img.send(Method.BEGIN_STREAMING, 21)
    fake.start_preview()
    await img.wait_raw(1)
    fake.faults.send_image_garbage(b"\xde\xad" * 50)
    fake.faults.send_truncated_frame()
    n = len(img.raw_frames())
    await until(lambda: img.decoder.skipped_bytes > 0, 10)
    await img.wait_raw(2, start=n, timeout_s=10)  # the stream resynchronises on the magic


async def test_refuse_connections(fake_factory):
    fake = await fake_factory()
    fake.faults.refuse_connections(True)
    ctl = await ControlClient.connect(fake.control_port)
    await until(lambda: ctl.closed)
    await ctl.close()
    fake.faults.refuse_connections(False)
    ok = await ControlClient.connect(fake.control_port)
    assert (await ok.call(Method.TEST_CONNECTION)).code == 0
    await ok.close()


async def test_drift_moves_tracked_pointing(fake_factory):
    fake = await fake_factory(time_factor=100.0, parked=False, equ_mode=True)
    fake.point_at(4.0, 10.0)
    fake.faults.set_drift(0.0, 2.0)  # 2 arcsec/s north
    t0 = fake.clock.now_s()
    dec0 = fake.state.mount.radec(t0)[1]
    await until(lambda: fake.clock.now_s() - t0 > 30)
    t1 = fake.clock.now_s()
    assert (fake.state.mount.radec(t1)[1] - dec0) * 3600 == __import__("pytest").approx(2.0 * (t1 - t0), rel=1e-6)


def test_sim_thread_for_synchronous_code():
    import json
    import socket

    with SimThread(model="S30", firmware="7.06", time_factor=50.0) as fake:
        with socket.create_connection(("127.0.0.1", fake.control_port), timeout=5) as sock:
            sock.sendall(json.dumps({"method": "get_wheel_position", "params": ["verify"], "id": 5}).encode() + b"\r\n")
            line = sock.makefile("rb").readline()
            assert json.loads(line)["result"] == 1
            fake.faults.fail_next(Method.GET_WHEEL_POSITION, 207)  # knobs are thread-safe
            assert fake.faults.drop_control() == 1


async def test_freeze_holds_everything_and_thaw_carries_out_what_arrived(fake_factory,
                                                                        client_factory):
    fake = await fake_factory()
    ctl = await client_factory(fake.control_port)
    await ctl.call(Method.TEST_CONNECTION)
    before = fake.state.wheel.position
    wanted = 2 if before != 2 else 0
    fake.faults.freeze()
    held = ctl.send(Method.TEST_CONNECTION)
    with pytest.raises(AssertionError, match="timed out"):
        await ctl.reply(held, timeout_s=0.3)  # frozen: read by nobody, answered by nobody
    ctl.send(Method.SET_WHEEL_POSITION, [wanted])
    late = await client_factory(fake.control_port)  # the kernel accepts; the firmware waits
    probe = late.send(Method.TEST_CONNECTION)
    ctl.writer.close()  # the client gives up on the frozen link
    assert fake.state.wheel.position == before
    fake.faults.thaw()
    await until(lambda: fake.state.wheel.position == wanted)  # carried out after the thaw
    assert (await late.reply(probe)).result == "server connected!"


async def test_kill_and_restart_on_the_same_ports_keep_the_scope_state(fake_factory,
                                                                        client_factory):
    fake = await fake_factory()
    port, image_port = fake.control_port, fake.image_port
    ctl = await client_factory(port)
    await ctl.call(Method.SET_WHEEL_POSITION, [0])
    await until(lambda: fake.state.wheel.position == 0)
    await fake.kill_servers()
    await until(lambda: ctl.closed)
    with pytest.raises(OSError):
        await asyncio.open_connection("127.0.0.1", port)
    await fake.restart_servers()
    assert (fake.control_port, fake.image_port) == (port, image_port)
    again = await client_factory(port)
    assert (await again.call(Method.GET_WHEEL_POSITION)).result == 0
