"""The engine against the fake on every firmware profile (6.70 ... 8.46): docs/firmware.md facts 1-3.

Connect sets the scope's clock (and the site once known) with the reply checked, on every
(re)connect, a client's own time still winning; goto, sync and an exposure work with the
firmware's parameter shapes; login survives a scope busy imaging (a late challenge, retried on
the same socket); the link outlives the scope's 16 s idle limit.
"""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from indi_seestar.errors import AuthenticationFailed, LoginRequired
from indi_seestar.protocol.events import EventName
from indi_seestar.protocol.methods import Method
from indi_seestar.seestar.timeouts import Timeouts

from .conftest import FAST, KeyPair, LoopWatch, config_for, running_fake
from .helpers import until
from .test_acceptance import Clients, target_above_horizon

#: Mostly asleep on the fake's firmware timings (~50 s of a worker, ~4 s of CPU): the waiting lane.
pytestmark = pytest.mark.waiting

TIME_FACTOR = 20.0
PROFILES = [("S50", "6.70"), ("S30", "7.06"), ("S50", "7.32"), ("S50", "7.75"), ("S50", "8.46")]
LONG_AGO = datetime(2020, 1, 1, tzinfo=UTC)


def _login(firmware: str) -> bool:
    return firmware in ("7.32", "7.75", "8.46")


def _scope_utc_error_s(sim, fake) -> float:
    """|scope UTC - our UTC| in seconds, read on the fake's loop."""
    scope = sim.call(fake.clock.utc)
    return abs((scope - datetime.now(UTC)).total_seconds())


@pytest.mark.parametrize(("model", "firmware"), PROFILES, ids=[f"{m}-{f}" for m, f in PROFILES])
async def test_connect_sets_clock_and_site_then_goto_sync_and_expose(model, firmware, keypair: KeyPair,
                                                                    key_file: Path, clients: Clients,
                                                                    loop_watch: LoopWatch) -> None:
    login = _login(firmware)
    with running_fake(model=model, firmware=firmware, time_factor=TIME_FACTOR, parked=False,
                      public_key_pem=keypair.public_pem if login else None) as (sim, fake):
        sim.call(fake.clock.set_utc, LONG_AGO)  # a scope fresh from power-on: a stale clock
        client = clients(config_for(fake, key_file=key_file if login else None, time_factor=TIME_FACTOR))
        state = await client.connect()
        assert state.firmware == firmware and state.logged_in is login
        # the clock was set at connect, reply checked (no client wrote TIME_UTC)
        assert client.clock_error is None
        assert _scope_utc_error_s(sim, fake) < 60  # < 3 s of test at x20
        assert isinstance(fake.control.last_params[Method.PI_SET_TIME], dict)
        # the site: set once, then re-sent with the clock on every reconnect
        await client.set_location(48.1, 11.6)
        assert sim.call(lambda: (fake.state.mount.state().lat_deg, fake.state.mount.state().lon_deg)) \
            == pytest.approx((48.1, 11.6))
        sim.call(fake.state.mount.set_site, 0.0, 0.0)
        sim.call(fake.clock.set_utc, LONG_AGO)
        sim.call(fake.drop_control_connections)
        await until(lambda: client.reconnects == 1, 10.0)
        assert _scope_utc_error_s(sim, fake) < 60 and client.clock_error is None
        assert sim.call(lambda: fake.state.mount.state().lat_deg) == pytest.approx(48.1)
        # goto and sync in the firmware's shape
        ra, dec = target_above_horizon(sim, fake)
        async with client.expect(EventName.SCOPE_GOTO, timeout_s=30) as arrived:
            await client.goto(ra, dec)
        await arrived.wait()
        keyed = firmware in ("7.75", "8.46")
        assert isinstance(fake.control.last_params[Method.SCOPE_GOTO], dict) is keyed
        coord = await client.get_equ_coord()
        assert abs(coord.ra_hours - ra) < 0.01 and abs(coord.dec_deg - dec) < 0.1
        await client.sync(ra + 0.05, dec + 0.5)
        assert isinstance(fake.control.last_params[Method.SCOPE_SYNC], dict) is keyed
        coord = await client.get_equ_coord()
        assert abs(coord.ra_hours - (ra + 0.05)) < 0.01 and abs(coord.dec_deg - (dec + 0.5)) < 0.1
        # an exposure
        with await client.next_raw_frame(started_after_s=time.monotonic(), exposure_s=0.5,
                                         timeout_s=15) as frame:
            assert frame.pixels.shape == (1920, 1080)
    assert loop_watch.errors == []


async def test_a_clients_time_wins_over_reconnects(clients: Clients) -> None:
    with running_fake(firmware="7.06", time_factor=1.0) as (sim, fake):
        client = clients(config_for(fake))
        await client.connect()
        chosen = datetime.now(UTC) + timedelta(hours=3)
        await client.set_time(chosen)
        sim.call(fake.drop_control_connections)
        await until(lambda: client.reconnects == 1, 10.0)
        scope = sim.call(fake.clock.utc)
        assert abs((scope - (datetime.now(UTC) + timedelta(hours=3))).total_seconds()) < 5


async def test_a_refused_clock_is_reported_not_fatal(clients: Clients) -> None:
    with running_fake(firmware="7.06", time_factor=TIME_FACTOR) as (sim, fake):
        fake.faults.fail_next(Method.PI_SET_TIME, 207, "fail to operate")
        client = clients(config_for(fake, time_factor=TIME_FACTOR))
        await client.connect()
        assert client.clock_error is not None and "207" in client.clock_error


@pytest.mark.parametrize("firmware", ["7.75", "8.46"])
async def test_login_with_a_busy_scope_waits_for_the_late_challenge(firmware, keypair: KeyPair, key_file: Path,
                                                                    clients: Clients) -> None:
    factor = 10.0  # the 10 s stall takes 1 s, the 16 s idle limit 1.6 s
    with running_fake(firmware=firmware, time_factor=factor, parked=False,
                      public_key_pem=keypair.public_pem) as (sim, fake):
        sim.call(fake.start_preview)  # imaging: get_verify_str answers ~10 s late
        client = clients(config_for(fake, key_file=key_file, time_factor=factor),
                         FAST.replace(login_step_s=15.0))
        started = time.monotonic()
        state = await client.connect()
        elapsed = time.monotonic() - started
        print(f"\nlogin on a busy {firmware} scope: {elapsed:.2f} s")
        assert state.logged_in and elapsed >= 10.0 / factor
        counters = fake.faults.counters
        assert counters.login_successes == 1 and counters.connections["control"] == 1
        assert counters.idle_drops == 0


async def test_an_unanswered_challenge_is_asked_again_on_the_same_socket(keypair: KeyPair, key_file: Path,
                                                                        clients: Clients) -> None:
    factor = 10.0
    with running_fake(firmware="8.46", time_factor=factor, parked=False,
                      public_key_pem=keypair.public_pem) as (sim, fake):
        sim.call(fake.start_preview)
        timeouts = FAST.replace(login_step_s=0.3, login_retry_s=0.5, login_attempts=3)
        client = clients(config_for(fake, key_file=key_file, time_factor=factor), timeouts)

        async def imaging_ends_after_the_first_challenge() -> None:
            await until(lambda: fake.faults.counters.requests[Method.GET_VERIFY_STR] >= 1, 5.0)
            sim.call(fake.view.stop_view, None)

        stopper = asyncio.ensure_future(imaging_ends_after_the_first_challenge())
        state = await client.connect()
        await stopper
        counters = fake.faults.counters
        assert state.logged_in
        assert counters.requests[Method.GET_VERIFY_STR] == 2
        assert counters.connections["control"] == 1 and counters.idle_drops == 0


async def test_8_46_without_a_key_says_events_but_no_replies(keypair: KeyPair, clients: Clients) -> None:
    with running_fake(firmware="8.46", time_factor=TIME_FACTOR, parked=False,
                      public_key_pem=keypair.public_pem) as (sim, fake):
        sim.call(fake.start_preview)  # events stream to the unauthenticated socket
        client = clients(config_for(fake, time_factor=TIME_FACTOR), Timeouts(heartbeat_interval_s=4.0))
        started = time.monotonic()
        with pytest.raises(LoginRequired) as info:
            await client.connect()
        assert time.monotonic() - started < 15
        assert "seestar.key_file" in str(info.value)


async def test_8_46_with_a_wrong_key_names_the_key(keypair: KeyPair, tmp_path: Path, clients: Clients) -> None:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa
    other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    wrong = tmp_path / "wrong.pem"
    wrong.write_bytes(other.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                          serialization.NoEncryption()))
    with running_fake(firmware="8.46", time_factor=TIME_FACTOR, public_key_pem=keypair.public_pem) as (_, fake):
        client = clients(config_for(fake, key_file=wrong, time_factor=TIME_FACTOR))
        with pytest.raises(AuthenticationFailed):
            await client.connect()


@pytest.mark.parametrize("firmware", ["7.75", "8.46"])
async def test_the_link_outlives_the_idle_limit_with_the_shipped_heartbeat(firmware, keypair: KeyPair,
                                                                          key_file: Path,
                                                                          clients: Clients) -> None:
    login = _login(firmware)
    with running_fake(firmware=firmware, time_factor=TIME_FACTOR,
                      public_key_pem=keypair.public_pem if login else None) as (_, fake):
        # the shipped 4 s heartbeat; at x20 the scope's 16 s idle limit is 0.8 s of ours
        client = clients(config_for(fake, key_file=key_file if login else None, time_factor=TIME_FACTOR),
                         Timeouts())
        await client.connect()
        await asyncio.sleep(2.5)  # 50 scope seconds, over three idle limits, nothing else sent
        assert fake.faults.counters.idle_drops == 0 and client.reconnects == 0
        assert fake.faults.counters.connections["control"] == 1
        assert (await client.get_equ_coord()) is not None


async def test_8_46_events_but_no_replies_after_login_names_the_key(keypair: KeyPair, key_file: Path,
                                                                     clients: Clients) -> None:
    # #741 (S30 Pro, 7.32): the handshake said 0, then nothing was answered while events came.
    with running_fake(firmware="8.46", time_factor=TIME_FACTOR, parked=False,
                      public_key_pem=keypair.public_pem) as (sim, fake):
        sim.call(fake.start_preview)
        fake.faults.lose_next_reply(Method.GET_DEVICE_STATE)
        client = clients(config_for(fake, key_file=key_file, time_factor=TIME_FACTOR),
                         FAST.replace(device_state_s=1.0))
        with pytest.raises(AuthenticationFailed) as info:
            await client.connect()
        assert "key is probably wrong" in str(info.value)
        assert fake.faults.counters.login_successes == 1


async def test_a_challenge_never_answered_is_a_timeout_not_a_key_problem(keypair: KeyPair, key_file: Path,
                                                                         clients: Clients) -> None:
    from indi_seestar.errors import RequestTimeout
    with running_fake(firmware="8.46", time_factor=TIME_FACTOR, public_key_pem=keypair.public_pem) as (_, fake):
        for _ in range(2):
            fake.faults.lose_next_reply(Method.GET_VERIFY_STR)
        timeouts = FAST.replace(login_step_s=0.2, login_retry_s=0.1, login_attempts=2)
        client = clients(config_for(fake, key_file=key_file, time_factor=TIME_FACTOR), timeouts)
        with pytest.raises(RequestTimeout):
            await client.connect()
        assert fake.faults.counters.requests[Method.GET_VERIFY_STR] == 2
        assert fake.faults.counters.connections["control"] == 1  # both tries on one socket
        state = await client.connect()  # not FAILED for good: the next attempt logs in
        assert state.logged_in
