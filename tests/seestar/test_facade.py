"""Every facade operation against the fake: accepted, and its effect seen through events/state."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest

from indi_seestar.errors import OperationFailed
from indi_seestar.protocol.events import EventName
from indi_seestar.seestar.client import SeestarClient

from .conftest import FAST, KeyPair, config_for, running_fake
from .helpers import until
from .test_acceptance import target_above_horizon

Clients = Callable[..., SeestarClient]
FACTOR = 50.0


async def test_mount_operations(clients: Clients) -> None:
    with running_fake(firmware="7.06", time_factor=FACTOR) as (sim, fake):
        client = clients(config_for(fake, time_factor=FACTOR))
        state = await client.connect()
        assert state.parked and state.focal_length_mm > 0 and state.chip_height_px == 1920
        async with client.expect(EventName.SCOPE_MOVE_TO_HORIZON, timeout_s=20) as opened:
            await client.unpark()
        await opened.wait()
        assert not client.state.parked
        ra, dec = target_above_horizon(sim, fake, 40.0, 120.0)
        await client.goto(ra, dec)
        await until(lambda: client.state.slewing, 5)
        await client.abort_goto()
        await until(lambda: not client.state.slewing, 5)
        await client.sync(ra, dec)
        coord = await client.get_equ_coord()
        assert abs(coord.ra_hours - ra) < 0.01 and abs(coord.dec_deg - dec) < 0.1
        horiz = await client.get_horiz_coord()
        assert -90 <= horiz.alt_deg <= 90
        for enabled in (False, True):
            async with client.expect(EventName.SCOPE_TRACK, timeout_s=10,
                                     states={"on", "off"}) as tracked:
                await client.set_tracking(enabled)
            await tracked.wait()
            await until(lambda want=enabled: client.state.tracking is want, 5)
        await client.speed_move(0, 30, 1)
        await client.stop_motion()
        await client.set_location(35.5, 139.7)
        assert (await client.refresh()).lat_deg == pytest.approx(35.5)
        await client.set_time(datetime.now(UTC) + timedelta(hours=1))
        async with client.expect(EventName.SCOPE_HOME, timeout_s=20) as parked:
            await client.park()
        await parked.wait()
        assert client.state.parked


async def test_camera_and_accessory_operations(clients: Clients) -> None:
    with running_fake(firmware="6.70", time_factor=FACTOR, parked=False) as (sim, fake):
        client = clients(config_for(fake, time_factor=FACTOR))
        await client.connect()
        # above the horizon: the fake sees no star (autofocus 279) below it
        sim.call(fake.point_at, *target_above_horizon(sim, fake, 50.0, 120.0))
        await client.set_gain(120)
        await client.set_continuous_exposure_ms(1000)
        assert client.state.continuous_exposure_ms == 1000
        await client.start_preview()
        await until(lambda: client.state.preview_active is True, 5)
        view = await client.get_view_state()
        assert view.mode == "star"
        async with client.expect(EventName.FOCUSER_MOVE, timeout_s=20) as focused:
            await client.move_focuser(1700)
        await client.stop_focuser()
        await focused.wait()
        async with client.expect(EventName.PLATE_SOLVE, timeout_s=60) as solved:
            await client.start_solve()
        await solved.wait()
        result = await client.get_solve_result()
        assert result is not None
        async with client.expect(EventName.AUTO_FOCUS, timeout_s=120) as focused:
            await client.start_autofocus()
        await focused.wait()
        async with client.expect(EventName.DARK_LIBRARY, timeout_s=120) as darks:
            await client.start_dark_library()
        await darks.wait()
        await client.set_dew_heater(60)
        assert (await client.refresh()).heater_enabled
        await client.set_dew_heater(0)
        await client.stop_preview()
        await until(lambda: client.state.preview_active is False, 5)


async def test_next_raw_frame_refuses_to_disturb_a_running_stack(clients: Clients) -> None:
    with running_fake(firmware="6.70", time_factor=FACTOR, parked=False) as (_, fake):
        client = clients(config_for(fake, time_factor=FACTOR))
        await client.connect()
        async with client.expect(EventName.STACK, timeout_s=10, states={"working", "start"}) as up:
            await client.start_stack()
        await up.wait()
        with pytest.raises(OperationFailed):
            await client.next_raw_frame(started_after_s=time.monotonic(), exposure_s=1.0,
                                        timeout_s=10)
        await client.stop_stack()


async def test_withheld_replies_mid_session_are_repaired_by_logging_in_again(
        keypair: KeyPair, key_file: object, clients: Clients,
        caplog: pytest.LogCaptureFixture) -> None:
    # §10 quirk 3: the session is open and events flow, but the firmware stops answering.
    with running_fake(firmware="7.32", time_factor=FACTOR,
                      public_key_pem=keypair.public_pem) as (sim, fake):
        # PiStatus comes once a real second: slow the heartbeat so that one lands in the window
        slow = FAST.replace(heartbeat_interval_s=1.0, heartbeat_reply_s=1.0)
        client = clients(config_for(fake, key_file=key_file, time_factor=FACTOR), slow)
        await client.connect()

        def forget_logins() -> None:
            for info in fake.state.clients.values():
                info.verified = False

        with caplog.at_level(logging.INFO, logger="indi_seestar.seestar"):
            sim.call(forget_logins)
            await until(lambda: client.reconnects == 1, 30)
        assert fake.faults.counters.login_successes == 2
        assert any("replies are withheld" in r.getMessage() for r in caplog.records)
        assert (await client.refresh()).logged_in
