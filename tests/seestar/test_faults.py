"""Engine behaviour under the fake's fault knobs: drops, lost replies, garbage, refusals."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from indi_seestar.errors import AuthenticationFailed, ConnectionLost, OperationFailed, SeestarError
from indi_seestar.protocol.events import EventName
from indi_seestar.protocol.frames import FrameHeader
from indi_seestar.protocol.methods import Method
from indi_seestar.protocol.rpc import Event
from indi_seestar.seestar.client import SeestarClient
from indi_seestar.seestar.connection import ConnectionState
from indi_seestar.seestar.discover import discover
from indi_seestar.seestar.motion import MoveForm

from .conftest import (
    KeyPair,
    LoopWatch,
    assert_engine_stopped,
    config_for,
    count_stars,
    running_fake,
)
from .helpers import until

Clients = Callable[..., SeestarClient]
TIME_FACTOR = 20.0


async def test_a_heartbeat_failure_triggers_reconnection(clients: Clients, loop_watch: LoopWatch) -> None:
    with running_fake(firmware="6.70") as (_, fake):
        client = clients(config_for(fake))
        await client.connect()
        fake.faults.lose_next_reply(Method.TEST_CONNECTION)
        fake.faults.lose_next_reply(Method.TEST_CONNECTION)
        await until(lambda: client.reconnects == 1, 10)
        assert fake.faults.counters.connections["control"] == 2
        assert client.connection_state is ConnectionState.READY
        await client.refresh()
    assert loop_watch.errors == []


async def test_pending_request_fails_at_once_when_the_control_socket_drops(clients: Clients) -> None:
    with running_fake(firmware="7.06") as (_, fake):
        client = clients(config_for(fake))
        await client.connect()
        before = fake.faults.counters.requests[Method.GET_DEVICE_STATE]
        fake.faults.delay_next_reply(Method.GET_DEVICE_STATE, 30.0)
        pending = asyncio.create_task(client.refresh())
        await until(lambda: fake.faults.counters.requests[Method.GET_DEVICE_STATE] > before, 5)
        dropped = time.monotonic()
        fake.faults.drop_control()
        with pytest.raises(ConnectionLost):
            await pending
        assert time.monotonic() - dropped < 1.0
        await client.wait_ready(10)
        assert (await client.refresh()).firmware == "7.06"


async def test_requests_wait_for_the_reconnect_and_backoff_retries(clients: Clients) -> None:
    with running_fake(firmware="6.70") as (_, fake):
        client = clients(config_for(fake))
        await client.connect()
        fake.faults.refuse_connections(True)
        fake.faults.drop_control()
        await until(lambda: fake.faults.counters.connections["control"] >= 4, 10)  # retrying
        assert client.connection_state is ConnectionState.RECONNECTING
        pending = asyncio.create_task(client.get_equ_coord())
        await asyncio.sleep(0)
        assert not pending.done()
        fake.faults.refuse_connections(False)
        await asyncio.wait_for(pending, 10)
        assert client.reconnects == 1


async def test_close_while_reconnecting_leaves_nothing_running() -> None:
    with running_fake(firmware="6.70") as (_, fake):
        client = SeestarClient(config_for(fake))
        await client.connect()
        fake.faults.refuse_connections(True)
        fake.faults.drop_control()
        fake.faults.drop_image(mid_frame=False)
        await until(lambda: client.connection_state is ConnectionState.RECONNECTING, 5)
        started = time.monotonic()
        await client.close()
        assert time.monotonic() - started < 2.0
        assert client.connection_state is ConnectionState.CLOSED
        assert_engine_stopped()
        with pytest.raises(ConnectionLost):
            await client.refresh()


async def test_garbage_control_lines_are_tolerated(clients: Clients, loop_watch: LoopWatch) -> None:
    with running_fake(firmware="6.70") as (_, fake):
        client = clients(config_for(fake))
        await client.connect()
        fake.faults.send_control_garbage()
        fake.faults.send_control_garbage(b'{"half": \r\n[1,2,3]\r\n{"Event":"NoSuchEvent"}\r\n')
        assert (await client.refresh()).model == "Seestar S50"
        assert client.reconnects == 0
    assert loop_watch.errors == []


async def test_garbage_absurd_and_truncated_frames_are_tolerated(clients: Clients,
                                                                 loop_watch: LoopWatch) -> None:
    with running_fake(firmware="6.70", time_factor=TIME_FACTOR, parked=False) as (_, fake):
        client = clients(config_for(fake, time_factor=TIME_FACTOR))
        await client.connect()
        with await client.next_raw_frame(started_after_s=time.monotonic(), exposure_s=1.0,
                                         timeout_s=15):
            pass
        absurd = FrameHeader(size=3_000_000_000, frame_id=21, width=1080, height=1920).pack()
        fake.faults.send_image_garbage()
        fake.faults.send_image_garbage(absurd + b"\x03\xc3" + b"tail")
        fake.faults.send_truncated_frame()
        await until(lambda: (s := client.image_stats()) is not None and s.corrupt_frames >= 1
                    and s.rejected_headers >= 1, 10)
        for _ in range(3):
            with await client.next_raw_frame(started_after_s=time.monotonic(), exposure_s=1.0,
                                             timeout_s=15) as frame:
                assert count_stars(frame.pixels) >= 5
        stats = client.image_stats()
        assert stats is not None and stats.reconnects == 0 and stats.skipped_bytes > 0
        assert stats.pool_allocations <= 4  # the 3 GB header never got a buffer
    assert loop_watch.errors == []


async def test_speed_move_falls_back_to_the_new_form_and_remembers_it(clients: Clients) -> None:
    with running_fake(firmware="6.70", parked=False) as (_, fake):
        client = clients(config_for(fake))
        await client.connect()
        fake.faults.fail_next(Method.SCOPE_SPEED_MOVE, 109, "unexpected param")
        await client.speed_move(90, 50, 2)
        assert client.speed_move_form is MoveForm.NEW
        assert fake.faults.counters.requests[Method.SCOPE_SPEED_MOVE] == 2
        await client.stop_motion()
        assert fake.faults.counters.requests[Method.SCOPE_SPEED_MOVE] == 3  # no probing again


async def test_a_wrong_login_key_is_a_typed_failure(tmp_path: Path, keypair: KeyPair,
                                                    clients: Clients) -> None:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    wrong = tmp_path / "wrong.pem"
    wrong.write_bytes(other.private_bytes(serialization.Encoding.PEM,
                                          serialization.PrivateFormat.TraditionalOpenSSL,
                                          serialization.NoEncryption()))
    with running_fake(firmware="7.32", public_key_pem=keypair.public_pem) as (_, fake):
        client = clients(config_for(fake, key_file=wrong))
        with pytest.raises(AuthenticationFailed):
            await client.connect()
        assert client.connection_state is ConnectionState.FAILED


async def test_no_live_stack_is_a_typed_error(clients: Clients) -> None:
    with running_fake(firmware="6.70") as (_, fake):
        client = clients(config_for(fake))
        await client.connect()
        started = time.monotonic()
        with pytest.raises(OperationFailed):
            await client.get_stacked_image(timeout_s=20)
        assert time.monotonic() - started < 5


async def test_events_reach_subscribers_even_when_one_of_them_fails(clients: Clients) -> None:
    with running_fake(firmware="6.70", time_factor=TIME_FACTOR) as (_, fake):
        client = clients(config_for(fake, time_factor=TIME_FACTOR))
        seen: list[Event] = []
        states: list[object] = []

        def broken(_: Event) -> None:
            raise RuntimeError("a device bug")

        client.subscribe(broken)
        client.subscribe(seen.append)
        client.on_state_change(states.append)
        await client.connect()
        async with client.expect(EventName.SCOPE_MOVE_TO_HORIZON, timeout_s=20) as opened:
            await client.unpark()
        await opened.wait()
        assert EventName.SCOPE_MOVE_TO_HORIZON in {e.name for e in seen}
        assert states and not client.state.parked


async def test_failed_command_is_typed_with_code_and_text(clients: Clients) -> None:
    with running_fake(firmware="6.70") as (_, fake):
        client = clients(config_for(fake))
        await client.connect()
        fake.faults.fail_next(Method.MOVE_FOCUSER, 207, "fail to operate")
        with pytest.raises(SeestarError) as info:
            await client.move_focuser(1500)
        assert getattr(info.value, "code", None) == 207 and "fail to operate" in str(info.value)


async def test_discovery_on_loopback() -> None:
    with running_fake(model="S30", firmware="7.06") as (_, fake):
        replies = await discover("127.0.0.1", fake.discovery_port, timeout_s=3, max_replies=1)
    assert len(replies) == 1 and replies[0].product_model == "Seestar S30"
