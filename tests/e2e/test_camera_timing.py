"""The delivered frame started after the request and has the requested length (acceptance 2)."""

from __future__ import annotations

import time

from tests.e2e.camera_helpers import FakeFrames, camera_rig, expose, open_fits, point_high


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
