"""Dark and bias frames come from the wheel's dark slot, which is put back after (acceptance 4)."""

from __future__ import annotations

from indi_seestar.sim.plate_solve import star_count
from tests.e2e.camera_helpers import FakeFrames, camera_rig, expose, open_fits, point_high

SET_WHEEL = "set_wheel_position"


def stars(rig, spec) -> int:  # noqa: ANN001
    """Stars the fake's plate solver would detect in the frame of `spec`."""
    return int(rig.fake_call(star_count, rig.fake.core, spec))


def select(rig, name: str, member: str) -> None:  # noqa: ANN001
    """Send a OneOfMany switch and wait for its Ok."""
    since = rig.client.mark()
    rig.client.send_switch(rig.camera, name, [member])
    rig.client.wait(lambda u: u.name == name and u.state == "Ok", timeout_s=10, since=since)


def test_darks_and_biases_are_taken_on_the_dark_slot_and_the_wheel_goes_back(tmp_path):
    with camera_rig(tmp_path) as rig:
        client, fake = rig.client, rig.fake
        frames = FakeFrames(rig)
        point_high(rig)
        light = open_fits(expose(rig, 1.0).data)[0]  # on the IR-cut filter
        light_spec, _ = frames.source_of(light.data)
        since = client.mark()
        client.send_number(rig.wheel, "FILTER_SLOT", {"FILTER_SLOT_VALUE": 3})  # LP
        client.wait(lambda u: u.name == "FILTER_SLOT" and u.state == "Ok", timeout_s=20,
                    since=since)
        moves_before = fake.faults.counters.requests[SET_WHEEL]

        select(rig, "CCD_FRAME_TYPE", "FRAME_DARK")
        dark = open_fits(expose(rig, 1.0).data)[0]
        # The pixels are matched now (the bias's 1 ms frames push them out of the fake's record);
        # the rest is checked after the bias, so that it follows the dark as in an Ekos sequence,
        # well within the driver's 2 s hold of the dark slot (DARK_RESTORE_GRACE_S).
        spec, _ = frames.source_of(dark.data)

        select(rig, "CCD_FRAME_TYPE", "FRAME_BIAS")
        since = client.mark()
        bias = open_fits(expose(rig, 2.0).data)[0]  # libindi: a bias is the shortest exposure
        moves_in_series = fake.faults.counters.requests[SET_WHEEL]  # before the checks below

        assert spec.dark and spec.wheel_slot == 0 and spec.exposure_s == 1.0
        h = dark.header
        assert (h["FRAME"], h["IMAGETYP"], h["EXPTIME"], h["DARKTIME"]) == ("Dark", "Dark Frame",
                                                                           1.0, 1.0)
        assert h["FILTER"] == "Dark" and h["BAYERPAT"] == "GRBG"
        assert "OBJCTRA" not in h and "AIRMASS" not in h  # the mount block is for lights only
        # No stars, by the fake's own star detector (the light frame has some).
        assert stars(rig, spec) == 0 < stars(rig, light_spec)
        # 1 ms frames come every 10 ms, too fast to keep their pixels: every 1 ms frame the
        # fake made was on the dark slot, so the one delivered was.
        shortest = [s for s in frames.specs.values() if s.exposure_s == 0.001]
        assert shortest and all(s.dark and s.wheel_slot == 0 for s in shortest)
        assert bias.data.shape == (1920, 1080)
        assert (bias.header["FRAME"], bias.header["EXPTIME"]) == ("Bias", 0.001)
        assert client.updates(rig.camera, "CCD_EXPOSURE", since=since)[0].values == {
            "CCD_EXPOSURE_VALUE": 0.001}
        # The dark series moved the wheel once; it goes back to LP once the series is over.
        assert moves_in_series == moves_before + 1
        client.until(lambda: fake.state.wheel.position == 2 and not fake.state.wheel.is_moving(),
                     timeout_s=20)
        client.wait(lambda u: u.device == rig.wheel and u.name == "FILTER_SLOT" and u.state == "Ok"
                    and u.values["FILTER_SLOT_VALUE"] == 3, timeout_s=10, since=since)
        assert fake.faults.counters.requests[SET_WHEEL] == moves_before + 2
        frames.close()


def test_a_light_frame_right_after_a_dark_waits_for_the_wheel(tmp_path):
    with camera_rig(tmp_path) as rig:
        frames = FakeFrames(rig)
        point_high(rig)
        select(rig, "CCD_FRAME_TYPE", "FRAME_DARK")
        expose(rig, 0.5)
        select(rig, "CCD_FRAME_TYPE", "FRAME_FLAT")  # a flat is taken as a light
        flat = open_fits(expose(rig, 1.0).data)[0]
        spec, _ = frames.source_of(flat.data)
        assert not spec.dark and spec.wheel_slot == 1
        assert (flat.header["FRAME"], flat.header["FILTER"]) == ("Flat", "IR")
        frames.close()
