"""The fake's battery drains on battery (faster with the heater) and charges when plugged in;
its storage fills by one FITS per saved sub (sim/power.py), seen in get_device_state."""

from __future__ import annotations

import numpy as np
import pytest

from indi_seestar.protocol import builders_imaging, builders_mount, builders_session
from indi_seestar.protocol.methods import Stage
from indi_seestar.sim import SimThread, power
from indi_seestar.sim.usecases_batch import save_sub
from tests.support.app import AppConnection
from tests.support.indi_harness import until


def _state(sim: SimThread, app: AppConnection) -> dict:
    reply = app.call(builders_session.get_device_state(["pi_status", "storage"]))
    assert reply.ok
    return reply.result


def test_battery_drains_charges_and_the_heater_costs_power():
    sim = SimThread(time_factor=1.0, parked=False)
    fake = sim.start()
    try:
        st = fake.state
        drained = sim.call(lambda: (power.advance_battery(st, 3600.0), st.battery_level)[1])
        assert drained == 80.0 - power.BATTERY_DRAIN_PCT_PER_H
        sim.call(lambda: setattr(st, "heater_value", 100))
        with_heater = sim.call(lambda: (power.advance_battery(st, 3600.0), st.battery_level)[1])
        assert drained - with_heater == power.BATTERY_DRAIN_PCT_PER_H + power.HEATER_DRAIN_PCT_PER_H_AT_FULL
        sim.call(lambda: setattr(st, "charger_online", True))
        charged = sim.call(lambda: (power.advance_battery(st, 1800.0), st.battery_level)[1])
        assert charged == with_heater + power.CHARGE_PCT_PER_H / 2
        with AppConnection(fake.control_port) as app:
            pi = _state(sim, app)["pi_status"]
        assert pi["charger_status"] == "Charging" and pi["charge_online"] is True
        assert pi["battery_capacity"] == int(charged)
    finally:
        sim.stop()


def test_storage_fills_as_subs_are_saved():
    sim = SimThread(time_factor=50.0, parked=False)
    fake = sim.start()
    try:
        with AppConnection(fake.control_port) as app:
            volume = _state(sim, app)["storage"]["storage_volume"][0]
            free_mb = sim.call(lambda: fake.state.storage_free_mb)
            assert volume["free_mb"] == int(free_mb) and volume["used_percent"] == 26
            assert app.call(builders_mount.start_view_star()).ok
            until(lambda: app.call(builders_imaging.start_stack()).ok, 10, what="the stack to start")
            until(lambda: sim.call(lambda: fake.state.stack.stacked_frames) >= 2, 30, what="two subs")
            app.call(builders_mount.stop_view(Stage.STACK))
            stacked = sim.call(lambda: fake.state.stack.stacked_frames)
            after = sim.call(lambda: fake.state.storage_free_mb)
            assert after == pytest.approx(free_mb - stacked * power.SUB_FILE_MB)
            assert _state(sim, app)["storage"]["storage_volume"][0]["free_mb"] == int(after)
    finally:
        sim.stop()


def test_subs_processed_in_one_burst_keep_a_file_each():
    """Subs are named by when they began: processed together (a loaded host, a fast clock),
    they once shared a second of the name and overwrote each other (11 files for 12 subs)."""
    sim = SimThread(time_factor=1.0, parked=False)
    fake = sim.start()
    try:
        raw = np.zeros((8, 8), np.uint16)
        now_s = sim.call(fake.clock.now_s)
        paths = sim.call(lambda: [save_sub(fake.core, fake.album, "M 42", 10.0, now_s - 10.0 * i, raw)
                                  for i in range(3)])
        assert len(set(paths)) == 3
        assert sorted(sim.call(lambda: fake.album.listing("MyWorks/M 42_sub"))) == sorted(
            p.rsplit("/", 1)[1] for p in paths)
    finally:
        sim.stop()
