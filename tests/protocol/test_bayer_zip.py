"""ZIP-compressed Bayer previews (S30 family, data_type 3): classified, inflated into a buffer."""

from __future__ import annotations

import numpy as np
import pytest

from indi_seestar.errors import BadFrame
from indi_seestar.protocol import frames
from indi_seestar.protocol.frames import DataType, FrameHeader, FrameKind, ImageType


def _pixels(width: int = 64, height: int = 48) -> np.ndarray:
    return np.random.default_rng(3).integers(0, 65535, (height, width), dtype=np.uint16)


def test_a_zip_preview_is_bayer_and_a_zip_stack_is_rgb():
    payload = frames.encode_bayer_zip(_pixels())
    preview = FrameHeader(size=len(payload), frame_id=21, width=64, height=48,
                          img_type=ImageType.PREVIEW, data_type=DataType.COMPRESSED)
    stacked = FrameHeader(size=len(payload), frame_id=23, width=64, height=48,
                          img_type=ImageType.STACKED, data_type=DataType.COMPRESSED)
    assert frames.classify(preview, payload[:4]) is FrameKind.BAYER_ZIP
    assert frames.classify(stacked, payload[:4]) is FrameKind.STACK_ZIP


def test_inflate_fills_exactly_the_buffer():
    pixels = _pixels()
    out = bytearray(pixels.nbytes + 10)
    frames.inflate_bayer_into(frames.encode_bayer_zip(pixels), memoryview(out)[:pixels.nbytes])
    assert np.array_equal(frames.decode_raw(memoryview(out)[:pixels.nbytes], 64, 48), pixels)
    assert out[pixels.nbytes:] == bytes(10)  # nothing written past the frame


@pytest.mark.parametrize("delta", [-2, 2])
def test_a_member_of_the_wrong_size_is_refused(delta):
    pixels = _pixels()
    with pytest.raises(BadFrame):
        frames.inflate_bayer_into(frames.encode_bayer_zip(pixels), memoryview(bytearray(pixels.nbytes + delta)))


@pytest.mark.parametrize("cut", [0, 10, 40, -200])
def test_broken_zip_previews_raise_bad_frame(cut):
    payload = frames.encode_bayer_zip(_pixels())
    broken = payload[:cut] if cut else b"PK\x03\x04" + bytes(40)
    with pytest.raises(BadFrame):
        frames.inflate_bayer_into(broken, memoryview(bytearray(64 * 48 * 2)))
