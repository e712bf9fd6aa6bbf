"""ImageBytes decoding, including the header mistakes of ZWO's early server builds (issue 14, 3).

The early-build answers are built byte by byte here (not with our encoder), as such a build
sends them: dimensions swapped, TransmissionElementType Int32 over 16-bit data, DataStart 0.
"""

from __future__ import annotations

import struct

import numpy as np
import pytest

from indi_seestar.errors import BadFrame
from indi_seestar.protocol.alpaca import (ImageBytesQuirks, decode_imagebytes, encode_imagebytes,
                                          parse_discovery_reply, discovery_reply)


def _image(rows: int = 6, cols: int = 4) -> np.ndarray:
    return (np.arange(rows * cols, dtype=np.uint16) * 997 % 65535).reshape(rows, cols)


def _answer(img: np.ndarray, *, dims_swapped: bool, transmission: int, data_start: int) -> bytes:
    rows, cols = img.shape
    d1, d2 = (rows, cols) if dims_swapped else (cols, rows)
    header = struct.pack("<11i", 1, 0, 7, 9, data_start, 2, transmission, 2, d1, d2, 0)
    return header + img.T.astype("<u2").tobytes()  # x slowest (column-major)


@pytest.mark.parametrize("version,swapped,start", [("1.0.9", True, 0), ("1.1.2-1", True, 44),
                                                   ("1.2.0-3", False, 44)])
def test_each_build_decodes_to_the_image(version, swapped, start):
    img = _image()
    fixed = version == "1.2.0-3"
    body = _answer(img, dims_swapped=swapped, transmission=8 if fixed else 2, data_start=start)
    out = decode_imagebytes(body, ImageBytesQuirks.for_version(version))
    assert out.shape == img.shape and np.array_equal(out, img)


def test_early_build_read_at_its_word_would_be_wrong():
    img = _image()
    body = _answer(img, dims_swapped=True, transmission=2, data_start=0)
    out = decode_imagebytes(body, ImageBytesQuirks())  # as if the header were right
    assert out.shape != img.shape or not np.array_equal(out, img)


def test_swapped_dims_recognised_from_the_region_asked_whatever_the_version():
    img = _image()
    body = _answer(img, dims_swapped=True, transmission=8, data_start=44)
    out = decode_imagebytes(body, ImageBytesQuirks(), expected_xy=(4, 6))
    assert np.array_equal(out, img)


def test_square_subframe_and_round_trip_of_our_encoder():
    img = _image(32, 32)
    for version in ("1.0.9", "1.1.2-1", "1.2.0-3"):
        quirks = ImageBytesQuirks.for_version(version)
        body = b"".join(bytes(p) for p in encode_imagebytes(img, quirks=quirks))
        assert np.array_equal(decode_imagebytes(body, quirks, expected_xy=(32, 32)), img)


def test_bad_answers_are_bad_frames():
    with pytest.raises(BadFrame):
        decode_imagebytes(b"\x01\x00")
    img = _image()
    body = _answer(img, dims_swapped=False, transmission=8, data_start=44)
    with pytest.raises(BadFrame):
        decode_imagebytes(body[:-3])
    with pytest.raises(BadFrame):
        decode_imagebytes(body, expected_xy=(5, 5))
    err = struct.pack("<11i", 1, 1279, 0, 0, 44, 0, 0, 0, 0, 0, 0) + b"no image"
    with pytest.raises(BadFrame, match="1279"):
        decode_imagebytes(err)


def test_discovery_reply():
    assert parse_discovery_reply(discovery_reply(32323)) == 32323
    assert parse_discovery_reply(b"{nonsense") is None
    assert parse_discovery_reply(b'{"AlpacaPort": 70000}') is None
