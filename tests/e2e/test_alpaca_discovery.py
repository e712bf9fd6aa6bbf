"""Alpaca discovery beside 4720's in "Find Seestar" (issue 14), on loopback only."""

from __future__ import annotations

import pytest

pytest.importorskip("alpaca.camera")

from tests.support.indi_harness import free_port, until  # noqa: E402
from tests.support.rig import Rig  # noqa: E402


def test_find_seestar_reports_and_uses_the_alpaca_server(tmp_path):
    wrong = free_port()  # the configured HTTP port answers nothing: only discovery can find it
    with Rig.start(tmp_path, alpaca_port=0,
                   config={"seestar": {"alpaca": "auto", "alpaca_port": wrong}}) as rig:
        fake = rig.fake
        since = rig.client.mark()
        rig.client.send_switch(rig.wheel, "SEESTAR_DISCOVER", ["DISCOVER"])
        done = rig.client.wait(lambda u: u.name == "SEESTAR_DISCOVER"
                               and u.state in ("Ok", "Alert"), timeout_s=20, since=since)
        assert done.state == "Ok"
        text = f"found Seestar S50 at 127.0.0.1 (Alpaca server on port {fake.alpaca_port})"
        got = rig.messages(rig.wheel, since)
        assert any(text in m for m in got), got
        assert fake.alpaca.discovery_probes >= 1
        rig.client.connect_device(rig.camera)
        until(lambda: (u := rig.client.updates(rig.camera, "SEESTAR_PATHS"))
              and u[-1].values["ALPACA_SERVER"].endswith(f"127.0.0.1:{fake.alpaca_port}"), 10,
              what="the session using the discovered Alpaca server")
