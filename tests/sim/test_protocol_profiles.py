"""Firmware profiles: verify-marker silence, 109/210/107, 7.32 login, unknown methods, garbage."""

from __future__ import annotations

import asyncio

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from indi_seestar.protocol.auth import sign_challenge
from indi_seestar.protocol.methods import Method
from indi_seestar.protocol.rpc import NO_PARAMS

from .conftest import until


@pytest.fixture(scope="module")
def key_pair() -> tuple[rsa.RSAPrivateKey, bytes]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    return key, pem


async def assert_silent(ctl, req_id) -> None:
    """No reply to `req_id`, checked after a later marked request has been answered."""
    await ctl.call(Method.PI_IS_VERIFIED, marker=False)
    await asyncio.sleep(0.02)
    assert req_id not in ctl.replies


@pytest.mark.parametrize("firmware", ["6.70", "7.06"])
async def test_marker_rules(firmware, fake_factory, client_factory):
    fake = await fake_factory(firmware=firmware)
    ctl = await client_factory(fake.control_port)
    for params in (NO_PARAMS, [1], True):
        silent = ctl.send(Method.GET_WHEEL_POSITION if params != [1] else Method.SET_WHEEL_POSITION, params,
                          marker=False)
        await assert_silent(ctl, silent)
    assert (await ctl.call(Method.GET_FOCUSER_POSITION)).result == fake.state.focuser.position_steps()
    assert (await ctl.call(Method.GET_DEVICE_STATE, {"keys": ["mount"]}, marker=False)).result.keys() == {"mount"}
    cli = await ctl.call(Method.SET_SETTING, {"cli_name": "x", "verify": True}, marker=False)
    assert (cli.code, cli.error) == (109, "unexpected param")
    master = await ctl.call(Method.SET_SETTING, {"master_cli": True, "verify": True}, marker=False)
    assert (master.code, master.error) == (210, "not supported")
    accepted = await ctl.call(Method.ISCOPE_START_STACK, {"restart": True, "verify": True}, marker=False)
    assert accepted.code == 0
    wrapped = await ctl.call(Method.SET_SEQUENCE_SETTING, [[{"group_name": "M44"}], "verify"], marker=False)
    assert wrapped.code == (107 if firmware == "7.06" else 0)
    unknown = await ctl.call("no_such_method")
    assert (unknown.code, unknown.error) == (103, "method not found")
    assert (await ctl.call(Method.BEGIN_STREAMING)).code == 103
    assert (await ctl.call(Method.GET_VERIFY_STR, marker=False)).code == 103
    ok = await ctl.call(Method.SET_SETTING, {"master_cli": True}, marker=False)
    assert ok.code == 0 and fake.state.clients[0].is_master


async def test_old_firmware_answers_without_marker(fake_factory, client_factory):
    fake = await fake_factory(firmware="5.50")
    ctl = await client_factory(fake.control_port)
    assert (await ctl.call(Method.GET_WHEEL_POSITION, marker=False)).result == 1


async def test_login_on_7_32(key_pair, fake_factory, client_factory):
    private, pem = key_pair
    fake = await fake_factory(firmware="7.32", public_key_pem=pem, time_factor=20.0, parked=False)
    ctl = await client_factory(fake.control_port)
    silent = ctl.send(Method.GET_DEVICE_STATE)
    assert (await ctl.call(Method.PI_IS_VERIFIED, marker=False)).result is False
    await asyncio.sleep(0.05)
    assert silent not in ctl.replies
    # events keep flowing to the unauthenticated connection
    other = await client_factory(fake.control_port)
    fake.start_preview()
    await ctl.event("ContinuousExposure")
    challenge = (await ctl.call(Method.GET_VERIFY_STR, marker=False)).result["str"]
    bad = await ctl.call(Method.VERIFY_CLIENT, {"sign": sign_challenge(private, challenge + "x"), "data": challenge},
                         marker=False)
    assert bad.code != 0
    good = await ctl.call(Method.VERIFY_CLIENT, {"sign": sign_challenge(private, challenge), "data": challenge},
                          marker=False)
    assert good.code == 0
    assert (await ctl.call(Method.PI_IS_VERIFIED, marker=False)).result is True
    assert (await ctl.call(Method.GET_DEVICE_STATE)).result["device"]["firmware_ver_int"] == 2732
    # auth is per connection
    late = other.send(Method.GET_WHEEL_POSITION)
    await other.call(Method.PI_IS_VERIFIED, marker=False)
    assert late not in other.replies
    assert fake.faults.counters.login_attempts == 2 and fake.faults.counters.login_successes == 1


async def test_garbage_from_clients_is_survived(fake_factory, client_factory):
    fake = await fake_factory()
    ctl = await client_factory(fake.control_port)
    ctl.send_raw(b"\x00\xff not json\r\n[1,2]\r\n{\"id\": 3}\r\n" + b"x" * 5000 + b"\r\n")
    assert (await ctl.call(Method.TEST_CONNECTION)).result == "server connected!"
    bad = await ctl.call(Method.SCOPE_GOTO, ["a", "b"])
    assert bad.code == 109
    assert fake.faults.counters.garbage_lines >= 2


async def test_several_clients_master_and_client_section(fake_factory, client_factory):
    fake = await fake_factory()
    a, b = await client_factory(fake.control_port), await client_factory(fake.control_port)
    await a.result(Method.SET_SETTING, {"cli_name": "alpha"}, marker=False)
    await b.result(Method.SET_SETTING, {"master_cli": True}, marker=False)
    state_a = await a.result(Method.GET_DEVICE_STATE)
    state_b = await b.result(Method.GET_DEVICE_STATE)
    assert state_a["client"]["is_master"] is False and state_b["client"]["is_master"] is True
    assert state_a["client"]["master_index"] == state_b["client"]["master_index"] == 1
    assert "alpha" in state_a["client"]["connected"]
    await until(lambda: any(e.name == "Client" for e in a.events))


async def test_discovery_answers_both_probe_forms(fake_factory):
    from indi_seestar.protocol.discovery import encode_probe, parse_reply

    fake = await fake_factory(model="S30", firmware="7.06")
    loop = asyncio.get_running_loop()
    got: list[bytes] = []

    class Receiver(asyncio.DatagramProtocol):
        def datagram_received(self, data: bytes, addr) -> None:  # noqa: ANN001
            got.append(data)

    transport, _ = await loop.create_datagram_endpoint(Receiver, local_addr=("127.0.0.1", 0))
    try:
        transport.sendto(encode_probe("indiseestar"), ("127.0.0.1", fake.discovery_port))
        transport.sendto(b'{"id":1,"method":"scan_iscope","params":""}', ("127.0.0.1", fake.discovery_port))
        transport.sendto(b'garbage', ("127.0.0.1", fake.discovery_port))
        await until(lambda: len(got) >= 2)
    finally:
        transport.close()
    reply = parse_reply(got[0])
    assert reply.product_model == "Seestar S30" and reply.ip == "127.0.0.1" and reply.is_verified
    assert fake.faults.counters.connections["discovery"] == 2


async def test_refused_lenhance_still_moves_the_wheel(fake_factory, client_factory):
    """Recorded on S30 7.06: 109 for the verify key, then WheelMove start/complete anyway."""
    fake = await fake_factory(model="S30", firmware="7.06", time_factor=10.0)
    ctl = await client_factory(fake.control_port)
    reply = await ctl.call(Method.SET_SETTING, {"stack_lenhance": True, "verify": True}, marker=False)
    assert reply.code == 109
    done = await ctl.event("WheelMove", lambda e: e.state == "complete")
    assert done.get("position") == 2
    start = next(i for i, e in enumerate(ctl.events) if e.name == "WheelMove")
    assert ctl.events[start].state == "start"
