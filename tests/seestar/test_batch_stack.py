"""Batch stacking through the engine on 6.70 and 7.75 (§8.9): the firmware's file names (bare,
then full paths from 7.75), the HTTP file server, and the state reset (clear_batch_stack on
7.75, clear_app_state before)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from indi_seestar.protocol import builders_imaging
from indi_seestar.protocol.codes import ErrorCode
from indi_seestar.protocol.events import EventName
from indi_seestar.protocol.methods import Method
from indi_seestar.protocol.scope_files import read_fits, write_fits
from indi_seestar.seestar.scope_http import NotFound

from .conftest import KeyPair, LoopWatch, config_for, running_fake
from .test_acceptance import Clients

FACTOR = 20.0


def _store_subs(fake, count: int) -> list[str]:  # noqa: ANN001
    names = []
    for i in range(count):
        name = f"Light_M 42_10.0s_IRCUT_20260101-0000{i:02d}.fit"
        raw = np.full((1920, 1080), 1000 + 100 * i, dtype=np.uint16)
        fake.album.put(f"MyWorks/M 42_sub/{name}", write_fits(raw, {"EXPTIME": 10.0}))
        names.append(name)
    return names


@pytest.mark.parametrize("firmware", ["6.70", "7.75"])
async def test_batch_stack_names_files_as_the_firmware_wants(firmware, keypair: KeyPair, key_file: Path,
                                                             clients: Clients, loop_watch: LoopWatch) -> None:
    login = firmware == "7.75"
    with running_fake(firmware=firmware, time_factor=FACTOR, parked=False,
                      public_key_pem=keypair.public_pem if login else None) as (sim, fake):
        names = sim.call(_store_subs, fake, 4)
        client = clients(config_for(fake, key_file=key_file if login else None, time_factor=FACTOR))
        await client.connect()
        assert await client.list_subs("M 42") == sorted(names)
        with pytest.raises(NotFound):
            await client.list_subs("M 31")
        async with client.expect(EventName.BATCH_STACK, timeout_s=30, states={"complete"}) as done:
            await client.start_batch_stack("M 42", names[1:])
        event = await done.wait()
        sent = [f["name"] for f in fake.control.last_params[Method.SET_BATCH_STACK_SETTING]["files"]]
        assert sent == ([f"MyWorks/M 42_sub/{n}" for n in names[1:]] if login else names[1:])
        out = event.get("output_file")
        data = await client.read_scope_file(f"{out['path']}/{out['files'][0]['name']}")
        _, pixels = read_fits(data)
        assert pixels.shape == (3, 1920, 1080)
        assert int(np.median(pixels[1])) == 1200  # mean of 1100, 1200, 1300
        await client.clear_batch_stack()
        cleared = Method.CLEAR_BATCH_STACK if login else Method.CLEAR_APP_STATE
        assert cleared in fake.control.last_params
        assert sim.call(lambda: fake.batch.state) is None
        if login:  # 7.75 with bare names: BatchStack fail 267 "no image"
            await client._send(builders_imaging.set_batch_stack_setting("MyWorks/M 42_sub", names[:1]))
            async with client.expect(EventName.BATCH_STACK, timeout_s=30, states={"fail"}) as failed:
                await client._send(builders_imaging.start_batch_stack())
            with pytest.raises(Exception) as info:
                await failed.wait()
            assert str(int(ErrorCode.NO_IMAGE)) in str(info.value)
    assert loop_watch.errors == []
