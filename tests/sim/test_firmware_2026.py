"""The fake's 2026 firmware profiles (7.75, 8.46) beside the older ones, on the raw wire.

docs/firmware.md facts 1-4: parameter shapes and their codes, login before anything (even
pi_is_verified), get_verify_str stalled while the scope images, the idle drop of a silent
control connection, the new settings key and methods, begin_streaming only on 4800.
"""

from __future__ import annotations

import asyncio
import time

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from indi_seestar.protocol import firmware as fw
from indi_seestar.protocol.auth import sign_challenge
from indi_seestar.protocol.frames import ImageType
from indi_seestar.protocol.methods import Method

from .conftest import until

PROFILES = ["6.70", "7.06", "7.32", "7.75", "8.46"]
TIME_OBJ = {"year": 2026, "mon": 9, "day": 1, "hour": 21, "min": 30, "sec": 0, "time_zone": "UTC"}


@pytest.fixture(scope="module")
def key_pair() -> tuple[rsa.RSAPrivateKey, bytes]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.public_key().public_bytes(serialization.Encoding.PEM,
                                        serialization.PublicFormat.SubjectPublicKeyInfo)
    return key, pem


async def logged_in_client(fake_factory, client_factory, firmware, key_pair, **kwargs):
    """A fake on `firmware` and a raw control client logged in when the firmware wants it."""
    private, pem = key_pair
    fake = await fake_factory(firmware=firmware, public_key_pem=pem, time_factor=20.0,
                              parked=False, **kwargs)
    ctl = await client_factory(fake.control_port)
    if fake.profile.login_required:
        challenge = (await ctl.call(Method.GET_VERIFY_STR, marker=False)).result["str"]
        ok = await ctl.call(Method.VERIFY_CLIENT, {"sign": sign_challenge(private, challenge),
                                                   "data": challenge}, marker=False)
        assert ok.code == 0
    return fake, ctl


def _new(firmware: str) -> bool:
    return firmware in ("7.75", "8.46")


@pytest.mark.parametrize("firmware", PROFILES)
async def test_parameter_shapes_and_codes(firmware, key_pair, fake_factory, client_factory):
    fake, ctl = await logged_in_client(fake_factory, client_factory, firmware, key_pair)
    new, wraps_refused = _new(firmware), firmware != "6.70"
    # pi_set_time: the bare object everywhere; the marked list 107 from 7.06 (recorded rule)
    assert (await ctl.call(Method.PI_SET_TIME, dict(TIME_OBJ), marker=False)).code == 0
    assert fake.clock.utc().year == 2026 and fake.clock.utc().month == 9
    wrapped = await ctl.call(Method.PI_SET_TIME, [dict(TIME_OBJ)])  # -> [{...}, "verify"]
    assert wrapped.code == (107 if wraps_refused else 0)
    nested = await ctl.call(Method.PI_SET_TIME, [[dict(TIME_OBJ)]])  # ALP's [[{...}], "verify"]
    assert (nested.code, nested.error) == ((107, "expected object param") if wraps_refused else (0, None))
    # scope_goto / scope_sync: flat marked array everywhere; nested 108 and keyed 0 from 7.75
    fake.point_at(6.0, 40.0)
    assert (await ctl.call(Method.SCOPE_SYNC, [6.0, 40.0])).code == 0
    goto_nested = await ctl.call(Method.SCOPE_GOTO, [[6.1, 40.0]])
    assert (goto_nested.code, goto_nested.error) == ((108, "expected float param") if new else (0, None))
    keyed = await ctl.call(Method.SCOPE_SYNC, {"ra": 6.1, "dec": 40.0}, marker=False)
    assert keyed.code == (0 if new else 108)
    # begin_streaming belongs on 4800: 103 on 4700 on every profile
    assert (await ctl.call(Method.BEGIN_STREAMING)).code == 103


@pytest.mark.parametrize("firmware", PROFILES)
async def test_new_settings_key_and_methods_only_on_7_75_and_later(firmware, key_pair, fake_factory,
                                                                  client_factory):
    fake, ctl = await logged_in_client(fake_factory, client_factory, firmware, key_pair)
    new = _new(firmware)
    lenhance = await ctl.call(Method.SET_SETTING, {"auto_lenhance": True}, marker=False)
    assert lenhance.code == (0 if new else 109)
    settings = await ctl.result(Method.GET_SETTING)
    assert settings.get("auto_lenhance") is (True if new else None)
    for method in fw.METHODS_FROM:
        assert (await ctl.call(method)).code == (0 if new else 103), method


@pytest.mark.parametrize("firmware", ["7.32", "7.75", "8.46"])
async def test_before_login_only_the_challenge_is_answered_and_events_flow(firmware, key_pair, fake_factory,
                                                                          client_factory):
    _, pem = key_pair
    fake = await fake_factory(firmware=firmware, public_key_pem=pem, time_factor=20.0, parked=False)
    ctl = await client_factory(fake.control_port)
    probe = ctl.send(Method.PI_IS_VERIFIED, marker=False)
    state = ctl.send(Method.GET_DEVICE_STATE)  # firmware_ver_int lives here: needs the login
    assert (await ctl.call(Method.GET_VERIFY_STR, marker=False)).code == 0
    fake.start_preview()
    await ctl.event("ContinuousExposure")  # events reach the unauthenticated socket
    assert state not in ctl.replies
    if _new(firmware):
        assert probe not in ctl.replies  # 7.75+: even pi_is_verified is withheld
    else:
        assert ctl.replies[probe].result is False


@pytest.mark.parametrize("firmware", ["7.32", "7.75", "8.46"])
async def test_a_busy_scope_answers_the_challenge_late(firmware, key_pair, fake_factory, client_factory):
    _, pem = key_pair
    fake = await fake_factory(firmware=firmware, public_key_pem=pem, time_factor=20.0, parked=False)
    ctl = await client_factory(fake.control_port)
    started = time.monotonic()
    await ctl.call(Method.GET_VERIFY_STR, marker=False)
    idle_s = time.monotonic() - started
    fake.start_preview()
    started = time.monotonic()
    await ctl.call(Method.GET_VERIFY_STR, marker=False)
    busy_s = time.monotonic() - started
    stall_real_s = 10.0 / 20.0
    print(f"\nget_verify_str on {firmware}: idle {idle_s * 1000:.0f} ms, busy {busy_s * 1000:.0f} ms")
    assert idle_s < stall_real_s
    if _new(firmware):
        assert busy_s >= stall_real_s
    else:
        assert busy_s < stall_real_s


@pytest.mark.parametrize("firmware", ["7.32", "7.75", "8.46"])
async def test_a_silent_control_connection_is_dropped_after_16_scope_seconds(firmware, key_pair, fake_factory,
                                                                             client_factory):
    _, pem = key_pair
    fake = await fake_factory(firmware=firmware, public_key_pem=pem, time_factor=20.0)
    silent = await client_factory(fake.control_port)
    talking = await client_factory(fake.control_port)
    started = time.monotonic()
    deadline = started + 2.0  # 40 scope seconds
    while time.monotonic() < deadline and not silent.closed:
        talking.send(Method.TEST_CONNECTION)  # unanswered before login on 7.32+, still traffic
        await asyncio.sleep(0.1)
    if _new(firmware):
        assert silent.closed
        dropped_after_s = time.monotonic() - started
        assert 16.0 / 20.0 * 0.9 <= dropped_after_s < 2.0
        assert not talking.closed
        assert fake.faults.counters.idle_drops == 1
    else:
        assert not silent.closed and fake.faults.counters.idle_drops == 0


async def test_idle_drop_is_a_knob(fake_factory, client_factory):
    fake = await fake_factory(firmware="6.70", time_factor=20.0, idle_drop_s=4.0)
    silent = await client_factory(fake.control_port)
    await until(lambda: silent.closed, timeout_s=2.0)
    never = await fake_factory(firmware="8.46", time_factor=20.0, idle_drop_s=None)
    quiet = await client_factory(never.control_port)
    await asyncio.sleep(1.2)  # 24 scope seconds: more than 16
    assert not quiet.closed


async def test_image_port_on_8_46_acks_streaming_and_echoes_heartbeats(key_pair, fake_factory, client_factory):
    fake, _ = await logged_in_client(fake_factory, client_factory, "8.46", key_pair)
    img = await client_factory(fake.image_port, "image")
    img.send(Method.TEST_CONNECTION, 2)
    img.send(Method.BEGIN_STREAMING, 21)
    frames = await until(lambda: img.frames if len(img.frames) >= 2 else None)
    echo, ack = frames[0].header, frames[1].header
    assert (echo.frame_id, echo.width, echo.height) == (2, 0, 0)  # a status frame, not an image
    assert (ack.frame_id, ack.size, ack.img_type) == (21, 0, ImageType.ACK)  # zero-size ack
