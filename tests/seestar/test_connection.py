"""RpcConnection against a scripted loopback peer: matching, events, garbage, drops, timeouts."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import pytest

from indi_seestar.errors import ConnectFailed, ConnectionLost, RequestTimeout
from indi_seestar.protocol import builders_imaging, builders_mount, builders_session
from indi_seestar.protocol.rpc import Event
from indi_seestar.seestar.connection import FIRST_REQUEST_ID, RpcConnection

from .helpers import ScriptedControlPeer, line, until


def reply(request: dict[str, Any], result: Any = 0, code: int = 0) -> bytes:
    return line({"jsonrpc": "2.0", "Timestamp": "1.0", "method": request["method"],
                 "result": result, "code": code, "id": request["id"]})


async def open_conn(peer: ScriptedControlPeer, events: list[Event],
                    lost: list[ConnectionLost] | None = None) -> RpcConnection:
    return await RpcConnection.open(
        "127.0.0.1", peer.port, timeout_s=2, on_event=events.append,
        on_lost=lambda _c, exc: (lost if lost is not None else []).append(exc))


async def test_replies_are_matched_by_id_across_interleaved_events_and_garbage() -> None:
    held: list[dict[str, Any]] = []

    def handler(request: dict[str, Any]) -> list[bytes]:
        if request["method"] == "scope_goto":  # answer later, after the next request's reply
            held.append(request)
            return [line({"Event": "ScopeGoto", "state": "working", "cur_ra_dec": [1, 2]})]
        out = [b"this is not json\r\n", line({"Event": "BrandNewEvent", "x": 1}),
               reply(request, "server connected!")]
        out += [reply(r, result="goto ok") for r in held]
        held.clear()
        return out

    peer = await ScriptedControlPeer(handler).start()
    events: list[Event] = []
    conn = await open_conn(peer, events)
    try:
        goto = asyncio.create_task(conn.call(builders_mount.scope_goto(1.0, 2.0), 2))
        await until(lambda: len(peer.requests) == 1, 2)
        heartbeat = await conn.call(builders_session.test_connection(), 2)
        assert heartbeat.result == "server connected!"
        assert (await goto).result == "goto ok"
        assert [e.name for e in events] == ["ScopeGoto", "BrandNewEvent"]
        assert all(r["id"] >= FIRST_REQUEST_ID for r in peer.requests)
        assert conn.pending_count == 0
    finally:
        await conn.close()
        await peer.stop()


async def test_pending_requests_fail_with_connection_lost_when_the_socket_drops() -> None:
    peer = await ScriptedControlPeer(lambda r: []).start()  # never answers
    lost: list[ConnectionLost] = []
    conn = await open_conn(peer, [], lost)
    try:
        calls = [asyncio.create_task(conn.call(builders_session.get_device_state(), 30)) for _ in range(3)]
        await until(lambda: len(peer.requests) == 3, 2)
        started = time.monotonic()
        peer.drop_all()
        for task in calls:
            with pytest.raises(ConnectionLost):
                await task
        assert time.monotonic() - started < 1.0  # at once, not after the 30 s timeout
        assert len(lost) == 1 and not conn.is_open
        with pytest.raises(ConnectionLost):
            await conn.call(builders_session.test_connection(), 1)
    finally:
        await conn.close()
        await peer.stop()


async def test_unanswered_request_times_out_with_its_method_and_is_forgotten() -> None:
    peer = await ScriptedControlPeer(lambda r: []).start()
    conn = await open_conn(peer, [])
    try:
        with pytest.raises(RequestTimeout) as info:
            await conn.call(builders_imaging.get_focuser_position(), 0.1)
        assert info.value.method == "get_focuser_position" and conn.pending_count == 0
        await peer.push(reply({"method": "get_focuser_position", "id": FIRST_REQUEST_ID}, 5))
        assert conn.is_open  # a late reply is logged, not fatal
    finally:
        await conn.close()
        await peer.stop()


async def test_a_crashing_event_consumer_does_not_kill_the_reader() -> None:
    peer = await ScriptedControlPeer(lambda r: [line({"Event": "PiStatus"}), reply(r)]).start()

    def explode(_: Event) -> None:
        raise RuntimeError("consumer bug")

    conn = await RpcConnection.open("127.0.0.1", peer.port, timeout_s=2, on_event=explode,
                                    on_lost=lambda c, e: None)
    try:
        for _ in range(3):
            assert (await conn.call(builders_session.test_connection(), 2)).ok
    finally:
        await conn.close()
        await peer.stop()


async def test_connect_failure_is_typed() -> None:
    peer = await ScriptedControlPeer(lambda r: []).start()
    port = peer.port
    await peer.stop()
    with pytest.raises(ConnectFailed) as info:
        await RpcConnection.open("127.0.0.1", port, timeout_s=2, on_event=lambda e: None,
                                 on_lost=lambda c, e: None)
    assert info.value.port == port
