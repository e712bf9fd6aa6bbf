"""Pure parts of the engine: backoff, ScopeState folding, redaction."""

from __future__ import annotations

import random

import pytest

from indi_seestar.protocol.results import parse_device_state
from indi_seestar.protocol.rpc import Event
from indi_seestar.seestar.backoff import Backoff
from indi_seestar.seestar.redact import redact
from indi_seestar.seestar.state import ScopeState, apply_event, evolve, from_device_state


def test_backoff_grows_to_the_cap_and_resets() -> None:
    backoff = Backoff(0.5, 4.0, 2.0, jitter=0.0)
    assert [backoff.next_delay_s() for _ in range(6)] == [0.5, 1.0, 2.0, 4.0, 4.0, 4.0]
    backoff.reset()
    assert backoff.next_delay_s() == 0.5


def test_backoff_jitter_stays_within_its_fraction() -> None:
    backoff = Backoff(1.0, 1.0, 2.0, jitter=0.25, rng=random.Random(7))
    delays = [backoff.next_delay_s() for _ in range(200)]
    assert all(0.75 <= d <= 1.25 for d in delays)
    assert len(set(delays)) > 100


def test_backoff_rejects_nonsense() -> None:
    with pytest.raises(ValueError):
        Backoff(2.0, 1.0)


def ev(name: str, **fields: object) -> Event:
    return Event(name, "1.0", dict(fields))


def test_events_update_the_snapshot() -> None:
    s = ScopeState()
    s = apply_event(s, ev("ScopeGoto", state="working", cur_ra_dec=[5.5, 22.0]))
    assert (s.slewing, s.ra_hours, s.dec_deg) == (True, 5.5, 22.0)
    s = apply_event(s, ev("ScopeGoto", state="complete", cur_ra_dec=[5.6, 22.1]))
    assert not s.slewing and s.ra_hours == 5.6
    s = apply_event(s, ev("ScopeTrack", state="on", tracking=True))
    assert s.tracking
    s = apply_event(s, ev("ScopeHome", state="complete", close=True))
    assert s.parked
    s = apply_event(s, ev("ScopeMoveToHorizon", state="complete", close=False))
    assert not s.parked
    s = apply_event(s, ev("FocuserMove", state="working", position=1500))
    assert s.focuser_moving and s.focuser_position_steps == 1500
    s = apply_event(s, ev("FocuserMove", state="complete", position=1600))
    assert not s.focuser_moving and s.focuser_position_steps == 1600
    s = apply_event(s, ev("WheelMove", state="start"))
    assert s.wheel_moving
    s = apply_event(s, ev("WheelMove", state="complete", position=2))
    assert (s.wheel_moving, s.wheel_slot) == (False, 2)
    s = apply_event(s, ev("PiStatus", temp=31.5, battery_capacity=80))
    assert (s.temperature_c, s.battery_percent) == (31.5, 80)
    s = apply_event(s, ev("MountMode", equ_mode=True))
    assert s.equ_mode
    s = apply_event(s, ev("Setting", exp_ms={"continuous": 2000}))
    assert s.continuous_exposure_ms == 2000
    s = apply_event(s, ev("ContinuousExposure", state="working"))
    assert s.preview_active
    s = apply_event(s, ev("View", state="cancel"))
    assert s.preview_active is False


def test_unknown_or_empty_events_return_the_same_object() -> None:
    s = ScopeState()
    assert apply_event(s, ev("SomethingNew", state="working")) is s
    assert apply_event(s, ev("PiStatus")) is s
    assert evolve(s, tracking=False) is s


def test_device_state_fills_optics_and_mount() -> None:
    device = parse_device_state({
        "device": {"product_model": "Seestar S50", "firmware_ver_int": 2670,
                   "firmware_ver_string": "6.70", "focal_len": 250, "fnumber": 5},
        "camera": {"chip_size": [1080, 1920], "pixel_size_um": 2.9, "debayer_pattern": "GR"},
        "focuser": {"max_step": 2600, "step": 1580, "state": "idle"},
        "mount": {"move_type": "none", "close": True, "tracking": False, "equ_mode": False},
        "setting": {"exp_ms": {"continuous": 500}},
    })
    s = from_device_state(ScopeState(), device)
    assert (s.model, s.firmware, s.aperture_mm, s.parked) == ("Seestar S50", "6.70", 50.0, True)
    assert (s.focuser_position_steps, s.continuous_exposure_ms, s.cfa) == (1580, 500, "GRBG")


def test_redact_masks_secrets_and_truncates() -> None:
    text = redact(b'{"method":"verify_client","params":{"sign":"AAAA","data":"chal"},"sn":"123"}')
    assert "AAAA" not in text and "chal" not in text and "123" not in text
    assert len(redact("x" * 5000)) < 400
