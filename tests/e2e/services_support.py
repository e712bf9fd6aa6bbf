"""Shared steps of the scope-services tests (test_services_*.py)."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

from indi_seestar.protocol import builders_imaging, builders_mount
from indi_seestar.protocol.methods import Method, Stage
from tests.support.app import AppConnection
from tests.support.indi_harness import until
from tests.support.rig import Rig


@contextlib.contextmanager
def app_stacking(rig: Rig) -> Iterator[AppConnection]:
    """The phone app runs a live stack on the fake for the duration of the block."""
    with AppConnection(rig.fake.control_port) as app:
        assert app.call(builders_mount.start_view_star()).ok
        # the fake refuses a stack until the preview it just started runs: ask until it takes it
        until(lambda: app.call(builders_imaging.start_stack()).ok, 10, what="the stack to start")
        try:
            until(lambda: rig.fake_call(lambda: rig.fake.state.stack.running), 10, what="the stack")
            yield app
        finally:
            app.call(builders_mount.stop_view(Stage.STACK))
            app.call(builders_mount.stop_view())


def assert_refused_while_stacking(rig: Rig, device: str, prop: str, member: str, method: Method) -> None:
    """`prop.member` is answered with Alert naming the stack, and `method` never reaches the fake."""
    with app_stacking(rig):
        requests = rig.fake.faults.counters.requests[method]

        def refused() -> bool:
            since = rig.client.mark()
            rig.client.send_switch(device, prop, [member])
            update = rig.client.wait(lambda u: u.device == device and u.name == prop and u.event == "set",
                                     timeout_s=10, since=since)
            return update.state == "Alert"

        until(refused, 10, what="the driver to know the scope stacks")
        assert any("stacking" in m for m in rig.messages(device))
        assert rig.fake.faults.counters.requests[method] == requests
