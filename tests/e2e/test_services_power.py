"""The AUX device "Seestar Power" (issue 12, acceptance 4 and 6): dew heater at 60 % is what the
fake reports, battery/charger/storage readings follow the fake, LEDs (dark mode), and reboot /
shut down only after the confirmation switch."""

from __future__ import annotations

import pytest

from indi_seestar.protocol.methods import Method
from tests.support.indi_harness import until
from tests.support.rig import Rig

pytestmark = pytest.mark.e2e

TF = 20.0


@pytest.fixture(scope="module")
def rig(tmp_path_factory):
    with Rig.start(tmp_path_factory.mktemp("power"), time_factor=TF) as rig:
        rig.client.connect_device(rig.power)
        yield rig


def _last(rig: Rig, name: str):
    return rig.client.updates(rig.power, name, event="set")[-1]


def test_power_is_an_aux_device(rig):
    info = rig.client.updates(device=rig.power, name="DRIVER_INFO")[-1].values
    assert info["DRIVER_INTERFACE"] == "32768"


def test_dew_heater_at_60_percent_is_what_the_fake_reports(rig):
    since = rig.client.mark()
    rig.client.send_number(rig.power, "DEW_DUTY_CYCLES", {"DEW_CHANNEL_1": 60})
    # Busy, then Ok (a poll's update published before the request was read may come first:
    # under a CPU hog plus make bench it did, 2026-12-02)
    done = rig.outcome(rig.power, "DEW_DUTY_CYCLES", since=since)
    assert done.state == "Ok" and done.values["DEW_CHANNEL_1"] == 60
    assert rig.fake_call(lambda: rig.fake.state.heater_value) == 60
    assert rig.wait_state(rig.power, "DEW_CHANNELS", "Ok", since=since).values["DEW_CHANNEL_1"] is True
    # off through the channel switch; the duty cycle shows what the scope reports (0)
    since = rig.client.mark()
    rig.client.send_switch(rig.power, "DEW_CHANNELS", [])
    rig.wait_state(rig.power, "DEW_CHANNELS", "Ok", since=since)
    assert rig.fake_call(lambda: rig.fake.state.heater_value) == 0
    assert _last(rig, "DEW_DUTY_CYCLES").values["DEW_CHANNEL_1"] == 0


def test_an_out_of_range_heater_power_is_an_alert_and_changes_nothing(rig):
    before = rig.fake_call(lambda: rig.fake.state.heater_value)
    requests = rig.fake.faults.counters.requests[Method.PI_OUTPUT_SET2]
    since = rig.client.mark()
    rig.client.send_number(rig.power, "DEW_DUTY_CYCLES", {"DEW_CHANNEL_1": 150})
    rig.wait_state(rig.power, "DEW_DUTY_CYCLES", "Alert", since=since)
    assert rig.fake_call(lambda: rig.fake.state.heater_value) == before
    assert rig.fake.faults.counters.requests[Method.PI_OUTPUT_SET2] == requests


def test_battery_and_charger_follow_the_fake(rig):
    def plug(online: bool, level: float) -> None:
        st = rig.fake.state
        st.charger_online, st.battery_level, st.battery_percent = online, level, int(level)
    since = rig.client.mark()
    rig.fake_call(plug, True, 50.4)
    rig.client.wait(lambda u: u.device == rig.power and u.name == "SEESTAR_CHARGER" and u.event == "set"
                    and u.values["CHARGER_STATUS"] == "Charging", timeout_s=20, since=since)
    first = rig.client.wait(lambda u: u.device == rig.power and u.name == "SEESTAR_BATTERY"
                            and u.event == "set" and u.values["BATTERY_CHARGING"] == 1
                            and u.values["BATTERY_PERCENT"] >= 50, timeout_s=20, since=since)
    # charging at 40 %/h x 20: a percent about every 4.5 real seconds
    rig.client.wait(lambda u: u.device == rig.power and u.name == "SEESTAR_BATTERY" and u.event == "set"
                    and u.values["BATTERY_PERCENT"] > first.values["BATTERY_PERCENT"], timeout_s=30,
                    since=since)
    assert abs(_last(rig, "SEESTAR_BATTERY").values["BATTERY_PERCENT"]
               - rig.fake_call(lambda: rig.fake.state.battery_percent)) <= 1
    since = rig.client.mark()
    rig.fake_call(plug, False, 30.2)
    rig.client.wait(lambda u: u.device == rig.power and u.name == "SEESTAR_CHARGER" and u.event == "set"
                    and u.values["CHARGER_STATUS"] == "Discharging", timeout_s=30, since=since)
    battery = _last(rig, "SEESTAR_BATTERY").values
    assert battery["BATTERY_CHARGING"] == 0 and battery["BATTERY_PERCENT"] <= 30
    assert battery["BOARD_TEMP_C"] > 0


def test_storage_follows_the_saved_subs(rig):
    free = _last(rig, "SEESTAR_STORAGE").values if rig.client.updates(
        rig.power, "SEESTAR_STORAGE", event="set") else None
    start = rig.fake_call(lambda: rig.fake.state.storage_free_mb)
    # many subs saved: the fake's free space shrinks and it reports the new percentage
    since = rig.client.mark()
    rig.fake_call(lambda: setattr(rig.fake.state, "storage_free_mb", start - 6000.0))
    rig.client.wait(lambda u: u.device == rig.power and u.name == "SEESTAR_STORAGE" and u.event == "set"
                    and u.values["STORAGE_FREE_MB"] <= start - 6000.0, timeout_s=30, since=since)
    assert free is None or free["STORAGE_FREE_MB"] > start - 6000.0


def test_leds_off_is_the_scopes_dark_mode(rig):
    since = rig.client.mark()
    rig.client.send_switch(rig.power, "LED_CONTROL", ["INDI_DISABLED"])
    done = rig.outcome(rig.power, "LED_CONTROL", since=since)
    assert done.state == "Ok" and done.values == {"INDI_ENABLED": False, "INDI_DISABLED": True}
    assert rig.fake_call(lambda: rig.fake.state.settings["dark_mode"]) is True
    since = rig.client.mark()
    rig.client.send_switch(rig.power, "LED_CONTROL", ["INDI_ENABLED"])
    assert rig.outcome(rig.power, "LED_CONTROL", since=since).state == "Ok"
    assert rig.fake_call(lambda: rig.fake.state.settings["dark_mode"]) is False


def test_reboot_needs_the_confirmation_switch(rig):
    reboots = rig.fake.faults.counters.requests[Method.PI_REBOOT]
    # a confirmation with nothing armed: Alert, nothing sent
    since = rig.client.mark()
    rig.client.send_switch(rig.power, "SEESTAR_SYSTEM_CONFIRM", ["CONFIRM"])
    rig.wait_state(rig.power, "SEESTAR_SYSTEM_CONFIRM", "Alert", since=since)
    assert any("nothing to confirm" in m for m in rig.messages(rig.power, since))
    # REBOOT alone only arms it
    since = rig.client.mark()
    rig.client.send_switch(rig.power, "SEESTAR_SYSTEM", ["REBOOT"])
    rig.wait_state(rig.power, "SEESTAR_SYSTEM", "Busy", since=since)
    assert any("Confirm with SEESTAR_SYSTEM_CONFIRM" in m for m in rig.messages(rig.power, since))
    assert rig.fake.faults.counters.requests[Method.PI_REBOOT] == reboots
    # cancelled: still nothing
    rig.client.send_switch(rig.power, "SEESTAR_SYSTEM_CONFIRM", ["CANCEL"])
    rig.wait_state(rig.power, "SEESTAR_SYSTEM", "Idle", since=since)
    # the answer to CANCEL must be in before the next send: libindi's client copies an update
    # arriving mid-send over the switches it is about to send
    done = rig.wait_state(rig.power, "SEESTAR_SYSTEM_CONFIRM", "Ok", since=since)
    assert done.values == {"CONFIRM": False, "CANCEL": False}
    since = rig.client.mark()
    rig.client.send_switch(rig.power, "SEESTAR_SYSTEM_CONFIRM", ["CONFIRM"])
    try:  # once seen timing out under heavy load (not reproduced): say what came instead
        rig.wait_state(rig.power, "SEESTAR_SYSTEM_CONFIRM", "Alert", since=since)
    except AssertionError as exc:
        seen = [(u.name, u.event, u.state, u.values, u.message)
                for u in rig.client.updates(rig.power, since=max(0, since - 6))]
        raise AssertionError(f"{exc}; power updates around it: {seen}") from None
    assert rig.fake.faults.counters.requests[Method.PI_REBOOT] == reboots
    # armed and confirmed: the scope is told
    since = rig.client.mark()
    rig.client.send_switch(rig.power, "SEESTAR_SYSTEM", ["REBOOT"])
    rig.wait_state(rig.power, "SEESTAR_SYSTEM", "Busy", since=since)
    rig.client.send_switch(rig.power, "SEESTAR_SYSTEM_CONFIRM", ["CONFIRM"])
    rig.wait_state(rig.power, "SEESTAR_SYSTEM_CONFIRM", "Ok", since=since)
    until(lambda: rig.fake.faults.counters.requests[Method.PI_REBOOT] == reboots + 1, 5,
          what="the reboot request")
    assert rig.fake.faults.counters.requests[Method.PI_SHUTDOWN] == 0


def test_a_heater_change_the_firmware_refuses_is_an_alert(rig):
    before = rig.fake_call(lambda: rig.fake.state.heater_value)
    rig.fake.faults.fail_next(Method.PI_OUTPUT_SET2, 207)
    since = rig.client.mark()
    rig.client.send_number(rig.power, "DEW_DUTY_CYCLES", {"DEW_CHANNEL_1": 40})
    alert = rig.wait_state(rig.power, "DEW_DUTY_CYCLES", "Alert", since=since)
    assert alert.values["DEW_CHANNEL_1"] == before  # what the scope has, not what was asked
    assert any("dew heater to 40 % failed" in m for m in rig.messages(rig.power, since))
    assert rig.fake_call(lambda: rig.fake.state.heater_value) == before


def test_with_the_alpaca_path_the_heater_goes_through_the_alpaca_switch(tmp_path):
    """Issue 14: `seestar.alpaca: auto` and a scope with ZWO's Alpaca server: DEW_DUTY_CYCLES
    reaches the fake as the Switch's SetSwitchValue, not as pi_output_set2."""
    with Rig.start(tmp_path, alpaca_port=0, config={"seestar": {"alpaca": "auto"}}) as rig:
        rig.connect_all()
        until(lambda: (u := rig.client.updates(rig.camera, "SEESTAR_PATHS"))
              and "Alpaca" in " ".join(map(str, u[-1].values.values())), 15,
              what="the Alpaca path")
        calls = len(rig.fake.alpaca.calls)
        since = rig.client.mark()
        rig.client.send_number(rig.power, "DEW_DUTY_CYCLES", {"DEW_CHANNEL_1": 60})
        rig.wait_state(rig.power, "DEW_DUTY_CYCLES", "Ok", since=since)
        assert rig.fake_call(lambda: rig.fake.state.heater_value) == 60
        assert "PUT switch/setswitchvalue" in rig.fake.alpaca.calls[calls:]
