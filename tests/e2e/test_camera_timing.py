"""The delivered frame started after the request and has the requested length (acceptance 2)."""

from __future__ import annotations

import time

import pytest

from indi_seestar.devices.camera_exposure import RESTART_PREVIEW_MIN_S
from tests.e2e.camera_helpers import FakeFrames, camera_rig, expose, open_fits, point_high
from tests.support.indi_harness import until


#: 1 s frames against the 1.5 s readout margin: a frame the fake renders and sends more than
#: 1.5 s late passes for a new one. At the run's start beside two CPU hogs (2026-12-03) the
#: fake's render was that late (the driver took a frame begun 0.667 s before the request); the
#: busy realtime lane runs it at a higher priority, as a user's machine would run the driver.
@pytest.mark.realtime_busy
def test_a_scene_changed_just_before_the_request_is_what_the_image_shows(tmp_path):
    with camera_rig(tmp_path) as rig:
        frames = FakeFrames(rig)
        scenes = [point_high(rig, 50.0, 150.0), point_high(rig, 62.0, 210.0)]
        expose(rig, 1.0)  # the preview now runs at 1 s: each request meets a frame under way
        for i in range(4):
            ra, dec = scenes[i % 2]
            rig.fake_call(rig.fake.point_at, ra, dec)
            requested = time.monotonic()
            shot = expose(rig, 1.0)
            image = open_fits(shot.data)[0].data
            spec, _ = frames.source_of(image)
            started = rig.fake.clock.real_monotonic_at(spec.t_start_s)
            assert started >= requested, f"exposure {i} began {requested - started:.3f} s early"
            assert spec.exposure_s == 1.0
            assert all(abs(p.ra_hours - ra) < 1e-6 and abs(p.dec_deg - dec) < 1e-6
                       for p in spec.pointings), f"exposure {i} shows the previous scene"
        frames.close()


def test_a_long_exposure_is_not_delivered_before_it_has_run(tmp_path):
    factor = 10.0
    with camera_rig(tmp_path, time_factor=factor) as rig:
        frames = FakeFrames(rig)
        point_high(rig)
        expose(rig, 0.5)  # the preview runs with another length first
        requested_scope_s = rig.fake_call(rig.fake.clock.now_s)
        shot = expose(rig, 5.0)
        delivered_scope_s = rig.fake_call(rig.fake.clock.now_s)
        assert delivered_scope_s - requested_scope_s >= 5.0
        header = open_fits(shot.data)[0].header
        assert header["EXPTIME"] == 5.0
        specs = [s for s in frames.specs.values()
                 if s.t_start_s >= requested_scope_s and s.exposure_s == 5.0]
        assert specs and specs[0].t_start_s + 5.0 <= delivered_scope_s
        frames.close()


def _stop_views(rig) -> int:
    return rig.fake.faults.counters.requests["iscope_stop_view"]


def test_a_long_exposure_restarts_the_preview_and_arrives_in_about_one_exposure(tmp_path):
    exposure_s = 2.0
    with camera_rig(tmp_path) as rig:
        frames = FakeFrames(rig)
        point_high(rig)
        first = expose(rig, exposure_s)  # the preview now runs at 2 s, back to back
        spec, _ = frames.source_of(open_fits(first.data)[0].data)
        # Half-way through the preview exposure that followed the frame just delivered.
        mid_s = spec.t_start_s + 1.5 * exposure_s
        until(lambda: rig.fake_call(rig.fake.clock.now_s) >= mid_s, 10)
        stops = _stop_views(rig)
        requested_scope_s = rig.fake_call(rig.fake.clock.now_s)
        shot = expose(rig, exposure_s)
        delivered_scope_s = rig.fake_call(rig.fake.clock.now_s)
        spec, _ = frames.source_of(open_fits(shot.data)[0].data)
        assert _stop_views(rig) == stops + 1
        assert spec.exposure_s == exposure_s
        assert spec.t_start_s >= requested_scope_s, "the frame began before the request"
        # The exposure began with the restart (0.36 s in the fake), not when the preview's
        # exposure under way ended (1 s after the request) or the one after it (3 s).
        assert spec.t_start_s - requested_scope_s < 0.9
        assert delivered_scope_s - requested_scope_s < 2 * exposure_s
        frames.close()


def test_short_exposures_keep_the_preview_running(tmp_path):
    exposure_s = 0.9  # below RESTART_PREVIEW_MIN_S
    assert exposure_s < RESTART_PREVIEW_MIN_S
    # A margin below the exposure, or the engine would not restart even if asked (it restarts
    # only when the new frame must come after stop + margin).
    with camera_rig(tmp_path, readout_margin_s=0.8) as rig:
        frames = FakeFrames(rig)
        point_high(rig)
        expose(rig, exposure_s)
        stops = _stop_views(rig)
        stage_started_s = rig.fake_call(
            lambda: rig.fake.state.view.stages["ContinuousExposure"].t_start_s)
        for _ in range(3):
            requested_scope_s = rig.fake_call(rig.fake.clock.now_s)
            shot = expose(rig, exposure_s)
            spec, _ = frames.source_of(open_fits(shot.data)[0].data)
            assert spec.t_start_s >= requested_scope_s and spec.exposure_s == exposure_s
        assert _stop_views(rig) == stops
        assert rig.fake_call(
            lambda: rig.fake.state.view.stages["ContinuousExposure"].t_start_s) == stage_started_s
        frames.close()
