"""get_stacked_image against a scripted 4800 peer: empty ack first, ZIP late, or no stack at all."""

from __future__ import annotations

import time
from typing import Any

import numpy as np
import pytest

from indi_seestar.config import SeestarConfig
from indi_seestar.errors import OperationFailed
from indi_seestar.protocol.frames import (
    DataType,
    FrameHeader,
    ImageType,
    encode_stack_zip,
)
from indi_seestar.protocol.rpc import Reply, VerifyPolicy
from indi_seestar.seestar.imaging import Imaging
from indi_seestar.seestar.state import ScopeState

from .conftest import FAST
from .helpers import ScriptedImagePeer

W, H = 32, 16


def ack(frame_id: int) -> bytes:
    return FrameHeader(size=0, frame_id=frame_id, width=0, height=0, img_type=ImageType.ACK,
                       data_type=DataType.STATUS).pack()


def stack_zip(frame_id: int) -> tuple[bytes, bytes]:
    rgb = np.arange(W * H * 3, dtype=np.uint16).reshape(H, W, 3)
    payload = encode_stack_zip(rgb)
    header = FrameHeader(size=len(payload), frame_id=frame_id, width=W, height=H,
                         img_type=ImageType.STACKED, data_type=DataType.COMPRESSED).pack()
    return header, payload


async def never_called(call: Any) -> Reply:
    raise AssertionError("no control command expected")


async def with_peer(respond: Any) -> tuple[Imaging, ScriptedImagePeer]:
    peer = ScriptedImagePeer(lambda i: [], respond)
    config = SeestarConfig(host="127.0.0.1", image_port=peer.port)
    imaging = Imaging(config, FAST, send=never_called, get_state=ScopeState,
                      update_state=lambda **kw: None)
    imaging.start(VerifyPolicy.MARKER)
    return imaging, peer


async def test_an_ack_before_a_late_zip_still_yields_the_image() -> None:
    def respond(request: dict[str, Any]) -> list[bytes | float]:
        if request["method"] != "get_stacked_img":
            return []
        header, payload = stack_zip(request["id"])
        # ack first (§10 quirk 7), then the header, then a payload slower than the grace period
        return [ack(request["id"]), 0.2, header, FAST.stacked_after_ack_s + 0.5, payload]

    imaging, peer = await with_peer(respond)
    try:
        image = await imaging.get_stacked_image(timeout_s=10)
        assert image.rgb.shape == (H, W, 3) and int(image.rgb[0, 0, 1]) == 1
    finally:
        await imaging.close()
        peer.stop()


async def test_only_an_ack_means_no_live_stack() -> None:
    imaging, peer = await with_peer(
        lambda r: [ack(r["id"])] if r["method"] == "get_stacked_img" else [])
    try:
        started = time.monotonic()
        with pytest.raises(OperationFailed):
            await imaging.get_stacked_image(timeout_s=10)
        assert time.monotonic() - started < FAST.stacked_after_ack_s + 1.0
    finally:
        await imaging.close()
        peer.stop()
