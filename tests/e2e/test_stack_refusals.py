"""Refused stack settings and firmware failure codes: Alert + message, the scope's stack as it was (issue 11, 3)."""

from __future__ import annotations

import pytest

from tests.e2e.camera_helpers import point_high
from tests.e2e.stack_helpers import STACK, stack_rig


def _fake(rig, fn):  # noqa: ANN001, ANN202
    return rig.fake_call(fn)


def _stacked(rig) -> int:  # noqa: ANN001
    return _fake(rig, lambda: rig.fake.state.stack.stacked_frames)


def _alert_with(rig, name: str, since: int, text: str):  # noqa: ANN001, ANN202
    update = rig.wait_state(STACK, name, "Alert", since=since, timeout_s=20)
    rig.client.until(lambda: any(text in m for m in rig.messages(STACK, since)), 10)
    return update


def _start(rig) -> None:  # noqa: ANN001
    since = rig.client.mark()
    rig.client.send_switch(STACK, "SEESTAR_STACK", ["STACK_NEW"])
    rig.client.wait(lambda u: u.device == STACK and u.name == "SEESTAR_STACK_STATE" and u.state == "Busy"
                    and u.values["STACKED"] >= 1, timeout_s=30, since=since)


def test_refused_settings_change_nothing_and_leave_the_stack_running(tmp_path):
    with stack_rig(tmp_path) as rig:
        client = rig.client
        point_high(rig)
        _start(rig)
        before = _stacked(rig)
        settings = _fake(rig, lambda: {"stack_l": rig.fake.state.settings["exp_ms"]["stack_l"],
                                       "dither": dict(rig.fake.state.settings["stack_dither"])})
        # while the scope stacks: every setting is refused, the scope's settings stay
        for name, send in (("SEESTAR_STACK_SUB", lambda: client.send_switch(STACK, "SEESTAR_STACK_SUB", ["SUB_20S"])),
                           ("SEESTAR_STACK_OPTIONS", lambda: client.send_switch(STACK, "SEESTAR_STACK_OPTIONS",
                                                                                 ["DRIZZLE_2X"])),
                           ("SEESTAR_STACK_DITHER", lambda: client.send_number(STACK, "SEESTAR_STACK_DITHER",
                                                                               {"PIXELS": 50}))):
            since = client.mark()
            send()
            _alert_with(rig, name, since, "cannot change while the scope stacks")
        # a second start: refused, the running stack is not restarted
        since = client.mark()
        client.send_switch(STACK, "SEESTAR_STACK", ["STACK_NEW"])
        _alert_with(rig, "SEESTAR_STACK", since, "already stacking")
        client.until(lambda: _stacked(rig) > before + 1, 20)
        assert _fake(rig, lambda: rig.fake.state.stack.running)
        assert _fake(rig, lambda: {"stack_l": rig.fake.state.settings["exp_ms"]["stack_l"],
                                   "dither": dict(rig.fake.state.settings["stack_dither"])}) == settings
        # stopped: the firmware refuses a dither it does not take (207): Alert with its code
        since = client.mark()
        client.send_switch(STACK, "SEESTAR_STACK", ["STACK_STOP"])
        rig.wait_state(STACK, "SEESTAR_STACK_STATE", "Ok", since=since, timeout_s=30)
        since = client.mark()
        client.send_number(STACK, "SEESTAR_STACK_DITHER", {"PIXELS": 600})
        refused = _alert_with(rig, "SEESTAR_STACK_DITHER", since, "code 207")
        assert refused.values["PIXELS"] == settings["dither"]["pix"]
        assert _fake(rig, lambda: rig.fake.state.settings["stack_dither"]["pix"]) == settings["dither"]["pix"]
        # an accepted one reaches the scope
        since = client.mark()
        client.send_switch(STACK, "SEESTAR_STACK_SUB", ["SUB_20S"])
        rig.wait_state(STACK, "SEESTAR_STACK_SUB", "Ok", since=since)
        assert _fake(rig, lambda: rig.fake.state.settings["exp_ms"]["stack_l"]) == 20000
        # without expert mode, 2 s subs are refused by the driver before anything is sent
        rig.fake_call(lambda: rig.fake.state.settings.update(expert_mode=False))
        client.disconnectDevice(STACK)
        rig.wait_state(STACK, "CONNECTION", "Idle", since=since)
        client.connect_device(STACK, timeout_s=30)
        since = client.mark()
        client.send_switch(STACK, "SEESTAR_STACK_SUB", ["SUB_2S"])
        _alert_with(rig, "SEESTAR_STACK_SUB", since, "expert mode")
        assert _fake(rig, lambda: rig.fake.state.settings["exp_ms"]["stack_l"]) == 20000


@pytest.mark.parametrize("code", [263, 264, 530])
def test_a_stack_failure_is_an_alert_with_the_firmware_code(tmp_path, code):
    with stack_rig(tmp_path) as rig:
        point_high(rig)
        _start(rig)
        done = _stacked(rig)

        def arm() -> None:
            rig.fake.view.stack_knobs.fail_code = code
            rig.fake.view.stack_knobs.fail_after_subs = rig.fake.state.stack.total_frames + 1
        since = rig.client.mark()
        rig.fake_call(arm)
        failed = _alert_with(rig, "SEESTAR_STACK_STATE", since, f"code {code}")
        assert failed.values["STACKED"] >= done
        assert not _fake(rig, lambda: rig.fake.state.stack.running)
        # the next stack starts normally
        _start(rig)


def test_a_stacked_image_cut_short_is_reported_and_the_next_one_arrives(tmp_path):
    from tests.e2e.stack_helpers import StackImages

    with stack_rig(tmp_path) as rig:
        point_high(rig)
        _start(rig)
        since = rig.client.mark()
        images = StackImages(rig, since)
        rig.fake_call(lambda: setattr(rig.fake.view.stack_knobs, "truncate_next_image", True))
        rig.client.until(lambda: any("stacked image could not be delivered" in m
                                     for m in rig.messages(STACK, since)), 30)
        later = images.wait_for(lambda i: True, timeout_s=40)  # the image link came back
        assert later.shape == (3, 1920, 1080)
        assert rig.states(STACK, "SEESTAR_STACK_STATE", since)[-1] == "Busy"
