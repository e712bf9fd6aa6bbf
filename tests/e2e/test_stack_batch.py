"""Batch stacking on the scope: subs saved while stacking, listed over its HTTP file server,
re-stacked on board with progress, the result delivered as FITS (issue 11, 5)."""

from __future__ import annotations

from tests.e2e.camera_helpers import open_fits, point_high
from tests.e2e.stack_helpers import STACK, stack_rig


def test_a_batch_stack_of_ten_stored_subs(tmp_path):
    with stack_rig(tmp_path, time_factor=40.0) as rig:  # a 10 s sub takes 0.25 s
        client = rig.client
        point_high(rig)
        since = client.mark()
        client.send_switch(STACK, "SEESTAR_STACK_OPTIONS", ["STAR_CORRECTION", "DITHER", "SAVE_SUBS"])
        rig.wait_state(STACK, "SEESTAR_STACK_OPTIONS", "Ok", since=since)
        assert rig.fake_call(lambda: rig.fake.state.settings["stack"]["save_discrete_frame"])
        since = client.mark()
        client.send_switch(STACK, "SEESTAR_STACK", ["STACK_NEW"])
        client.wait(lambda u: u.device == STACK and u.name == "SEESTAR_STACK_STATE"
                    and u.values["STACKED"] >= 12, timeout_s=60, since=since)
        since = client.mark()
        client.send_switch(STACK, "SEESTAR_STACK", ["STACK_STOP"])
        rig.wait_state(STACK, "SEESTAR_STACK_STATE", "Ok", since=since, timeout_s=30)
        target = rig.fake_call(lambda: rig.fake.state.stack.target_name)
        # list what the scope stored
        since = client.mark()
        client.send_text(STACK, "SEESTAR_BATCH_TARGET", {"TARGET": target, "SELECT": "2-11"})
        rig.wait_state(STACK, "SEESTAR_BATCH_TARGET", "Ok", since=since)
        since = client.mark()
        client.send_switch(STACK, "SEESTAR_BATCH", ["LIST"])
        rig.wait_state(STACK, "SEESTAR_BATCH", "Ok", since=since, timeout_s=20)
        listed = client.wait(lambda u: u.device == STACK and u.name == "SEESTAR_BATCH_SUBS" and u.event == "def",
                             timeout_s=10, since=since)
        assert len(listed.values) >= 12
        assert all(v.startswith(f"Light_{target}_10.0s_") and v.endswith(".fit") for v in listed.values.values())
        assert rig.fake_call(lambda: rig.fake.files.requests) >= 1
        # re-stack ten of them on the scope
        since = client.mark()
        client.send_switch(STACK, "SEESTAR_BATCH", ["START"])
        blob = client.wait(lambda u: u.device == STACK and u.name == "CCD1" and u.event == "set",
                           timeout_s=60, since=since)
        progress = client.updates(STACK, "SEESTAR_BATCH_PROGRESS", event="set", since=since)
        assert any(0 < u.values["PERCENT"] < 100 and u.state == "Busy" for u in progress)
        assert any(u.values["TOTAL"] == 10 and 0 < u.values["DONE"] < 10 for u in progress)
        done = rig.wait_state(STACK, "SEESTAR_BATCH_PROGRESS", "Ok", since=since, timeout_s=30)
        assert done.values["DONE"] == 10 and done.values["PERCENT"] == 100
        header = open_fits(client.last_blobs(1)[0])[0].header
        assert header["STACKCNT"] == 10 and header["NAXIS3"] == 3 and header["EXPTIME"] == 100
        assert header["OBJECT"] == target
        assert blob.t_monotonic <= done.t_monotonic
        chosen = rig.fake_call(lambda: [f["name"] for f in rig.fake.batch.setting()["files"]])
        assert [c.rsplit("/", 1)[-1] for c in chosen] == list(listed.values.values())[1:11]
        assert rig.fake_call(lambda: rig.fake.batch.state) is None  # cleared after the result
