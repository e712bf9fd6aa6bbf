"""The session's Alpaca paths against the fake (issue 14): found, used, lost, and without alpyca."""

from __future__ import annotations

import dataclasses
import subprocess
import sys

import pytest

pytest.importorskip("alpaca.switch")

from indi_seestar.devices.alpaca_paths import AlpacaPaths, set_dew_heater  # noqa: E402
from indi_seestar.seestar.client import SeestarClient  # noqa: E402
from tests.seestar.conftest import FAST, config_for, running_fake  # noqa: E402


async def test_dew_heater_through_the_switch_then_the_private_path_when_the_server_dies():
    with running_fake(alpaca_port=0, parked=False) as (sim, fake):
        notices: list[tuple[str, str]] = []
        paths = AlpacaPaths(lambda text, level: notices.append((text, level)))
        cfg = dataclasses.replace(config_for(fake), alpaca="auto", alpaca_port=fake.alpaca_port)
        client = SeestarClient(cfg, timeouts=FAST)
        await client.connect()
        try:
            await paths.open(cfg)
            assert paths.paths()["DEW_HEATER"] == "Alpaca Switch"
            assert await set_dew_heater(paths, client, 60) == "alpaca"
            assert fake.state.heater_value == 60
            assert "PUT switch/setswitchvalue" in fake.alpaca.calls
            sim.call(fake.alpaca.set_gone, True)
            assert await set_dew_heater(paths, client, 20) == "private"
            assert fake.state.heater_value == 20
            assert paths.link is None and paths.paths()["DEW_HEATER"] == "private protocol"
            assert any("stopped answering" in text and level == "WARNING"
                       for text, level in notices)
        finally:
            await client.close()


async def test_off_never_asks_the_server():
    with running_fake(alpaca_port=0) as (_sim, fake):
        paths = AlpacaPaths(lambda text, level: None)
        cfg = dataclasses.replace(config_for(fake), alpaca="off", alpaca_port=fake.alpaca_port)
        await paths.open(cfg)
        assert paths.link is None and fake.alpaca.calls == []
        assert paths.paths()["EXPOSURES"].startswith("private")


def test_without_alpyca_auto_is_off_with_a_log_line():
    code = """
import asyncio, logging, sys
sys.modules['alpaca'] = None  # as on Debian: no python3-alpyca
logging.basicConfig(level=logging.INFO, stream=sys.stdout, format='%(message)s')
from indi_seestar.config import SeestarConfig
from indi_seestar.devices.alpaca_paths import AlpacaPaths
notes = []
paths = AlpacaPaths(lambda t, l: notes.append(t))
asyncio.run(paths.open(SeestarConfig(host='127.0.0.1', alpaca='auto')))
print('STATUS', paths.status, paths.link, notes)
"""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert "alpyca package is not installed" in out.stdout
    assert "STATUS unavailable (alpyca not installed) None []" in out.stdout


@pytest.mark.parametrize("version", ["1.0.9", "1.1.2-1", "1.2.0-3"])
async def test_each_server_build_gives_the_fakes_pixels(version):
    """The fake's server sends its build's ImageBytes header mistakes; the link undoes them."""
    from indi_seestar.seestar.alpaca import AlpacaLink

    with running_fake(alpaca_port=0, parked=False, alpaca_version=version) as (sim, fake):
        link = await AlpacaLink.probe("127.0.0.1", fake.alpaca_port)
        assert link.version == version and link.quirks.any == (version != "1.2.0-3")
        for roi in ((100, 300, 64, 40), (0, 0, 1080, 1920)):
            frame = await link.expose(0.05, True, roi, 80)
            sent = sim.call(lambda: fake.alpaca.camera.exposure.pixels.copy())
            assert frame.pixels.shape == (roi[3], roi[2]) == sent.shape
            assert (frame.pixels == sent).all()
