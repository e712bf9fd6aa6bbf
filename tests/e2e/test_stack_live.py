"""The Seestar's own live stack through INDI: start, state, stacked FITS, stop (issue 11, 1-2)."""

from __future__ import annotations

import time

from tests.e2e.camera_helpers import point_high
from tests.e2e.stack_helpers import STACK, StackImages, stack_rig


def _state(rig, since: int = 0):  # noqa: ANN001, ANN202
    return rig.client.updates(STACK, "SEESTAR_STACK_STATE", event="set", since=since)


#: Scope seconds per real second: a 10 s sub takes 0.5 s (the claims count subs, not seconds).
TIME_FACTOR = 20.0
SUB_S = 10


def test_a_stack_counts_up_and_its_images_get_less_noisy(tmp_path):
    with stack_rig(tmp_path, time_factor=TIME_FACTOR) as rig:
        client = rig.client
        point_high(rig)
        since = client.mark()
        images = StackImages(rig, since)
        client.send_switch(STACK, "SEESTAR_STACK", ["STACK_NEW"])
        # within 3 subs (10 s each, 0.5 s real at time factor 20) the state counts up, Busy
        counted = client.wait(lambda u: u.device == STACK and u.name == "SEESTAR_STACK_STATE"
                              and u.state == "Busy" and u.values["STACKED"] >= 1, timeout_s=3 * SUB_S / TIME_FACTOR + 15,
                              since=since)
        assert counted.values["SUB_S"] == 10 and counted.values["INTEGRATION_S"] == 10 * counted.values["STACKED"]
        first = images.wait_for(lambda i: True, timeout_s=20)
        assert first.stacked <= 2
        assert first.shape == (3, 1920, 1080)
        h = first.header
        assert h["NAXIS"] == 3 and h["NAXIS3"] == 3 and h["BITPIX"] == 16
        assert h["EXPTIME"] == 10 * first.stacked and h["SUBEXP"] == 10
        assert "OBJCTRA" in h and "DATE-OBS" in h and "BAYERPAT" not in h
        later = images.wait_for(lambda i: i.stacked >= 16 * first.stacked, timeout_s=60)
        assert later.header["EXPTIME"] == 10 * later.stacked
        print(f"\nnoise after {first.stacked} sub(s): {first.noise:.2f} ADU, after {later.stacked}: {later.noise:.2f} ADU")
        assert later.noise < 0.35 * first.noise, (first.noise, later.noise)
        assert [i.stacked for i in images.images] == sorted(i.stacked for i in images.images)
        # stop: Ok, the final image arrives once, nothing more is sent
        stop_mark = client.mark()
        client.send_switch(STACK, "SEESTAR_STACK", ["STACK_STOP"])
        ok = rig.wait_state(STACK, "SEESTAR_STACK_STATE", "Ok", since=stop_mark, timeout_s=30)
        final_count = int(ok.values["STACKED"])
        images.poll()
        finals = [i for i in images.images if i.stacked == final_count]
        assert len(finals) == 1
        assert rig.fake_call(lambda: rig.fake.state.stack.stacked_frames) == final_count
        after_ok = client.mark()
        time.sleep(3 * SUB_S / TIME_FACTOR)  # three sub lengths: nothing more may come
        assert not client.updates(STACK, "CCD1", event="set", since=after_ok)
        assert all(u.state == "Ok" for u in _state(rig, after_ok))
