"""The link dropping mid-stack: the state shows it, and once back shows the scope's real stack (issue 11, 6)."""

from __future__ import annotations

from tests.e2e.camera_helpers import point_high
from tests.e2e.stack_helpers import STACK, stack_rig


def test_the_scope_stacks_on_without_us_and_we_show_its_real_state_when_back(tmp_path):
    with stack_rig(tmp_path, time_factor=20.0, config={"seestar": {"reconnect_give_up_s": 60}}) as rig:
        client = rig.client
        point_high(rig)
        since = client.mark()
        client.send_switch(STACK, "SEESTAR_STACK", ["STACK_NEW"])
        client.wait(lambda u: u.device == STACK and u.name == "SEESTAR_STACK_STATE"
                    and u.values["STACKED"] >= 1, timeout_s=30, since=since)
        since = client.mark()
        rig.fake.faults.refuse_connections(True)
        rig.fake.faults.drop_control()
        lost = rig.wait_state(STACK, "SEESTAR_STACK_STATE", "Alert", since=since, timeout_s=20)
        assert any("link to the Seestar dropped" in m for m in rig.messages(STACK, since))
        at_drop = int(lost.values["STACKED"])
        # the scope goes on stacking while we are away (0.5 s per sub at time factor 20)
        client.until(lambda: rig.fake_call(lambda: rig.fake.state.stack.stacked_frames) >= at_drop + 3, 20)
        assert rig.states(STACK, "SEESTAR_STACK_STATE", since)[-1] == "Alert"
        back = client.mark()
        rig.fake.faults.refuse_connections(False)
        shown = client.wait(lambda u: u.device == STACK and u.name == "SEESTAR_STACK_STATE" and u.event == "set"
                            and u.state == "Busy" and u.values["STACKED"] >= at_drop + 3, timeout_s=40,
                            since=back)
        assert rig.fake_call(lambda: rig.fake.state.stack.stacked_frames) >= shown.values["STACKED"]
        client.until(lambda: any("it is stacking" in m for m in rig.messages(STACK, back)), 10)
        # and it goes on following the scope's counts, and the stop still works
        since = client.mark()
        client.send_switch(STACK, "SEESTAR_STACK", ["STACK_STOP"])
        ok = rig.wait_state(STACK, "SEESTAR_STACK_STATE", "Ok", since=since, timeout_s=30)
        assert ok.values["STACKED"] == rig.fake_call(lambda: rig.fake.state.stack.stacked_frames)
