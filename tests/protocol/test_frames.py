"""Image channel (TCP 4800): the 80-byte header, FrameDecoder under any split and after garbage,
payload kinds, raw Bayer views and stacked-image ZIPs (§4.2, §4.3)."""

from __future__ import annotations

import io
import random
import struct
import tracemalloc
import zipfile
from typing import Any

import numpy as np
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from indi_seestar.errors import BadFrame, FrameTooLarge, LocalProtocolError
from indi_seestar.protocol import frames
from indi_seestar.protocol.frames import HEADER_SIZE, MAX_PAYLOAD_BYTES, FrameHeader, FrameKind

from .support import FAST, chunks

u8, u16 = st.integers(0, 0xFF), st.integers(0, 0xFFFF)


def frame(header: FrameHeader, payload: bytes) -> bytes:
    return frames.encode_frame(header, payload)


# A small but realistic stream: heartbeat ack, raw 4x3 Bayer, stacked ZIP, zero-size ack.
RAW_PIXELS = (np.arange(12, dtype=np.uint16).reshape(3, 4) * 4099).astype(np.uint16)
RGB = (np.arange(3 * 2 * 3, dtype=np.uint16).reshape(3, 2, 3) * 3001).astype(np.uint16)
ACK = (FrameHeader(size=17, frame_id=2, width=0, height=0, img_type=0, data_type=0), b"server connected!")
RAW = (FrameHeader(size=24, frame_id=21, width=4, height=3, can_debayer=1, image_id=7),
       frames.encode_raw(RAW_PIXELS))
_ZIP = frames.encode_stack_zip(RGB)
STACK = (FrameHeader(size=len(_ZIP), frame_id=23, width=2, height=3, img_type=5, data_type=3), _ZIP)
EMPTY = (FrameHeader(size=0, frame_id=23, width=0, height=0, img_type=0, data_type=0), b"")
FRAMES = [ACK, RAW, STACK, EMPTY]
STREAM = b"".join(frame(h, p) for h, p in FRAMES)
EXPECTED = [frames.Frame(h, p) for h, p in FRAMES]


def plausible_header_at(data: bytes, i: int) -> bool:
    """The spec's resync rule, written independently: magic 0x03C3 and header length 80."""
    return data[i:i + 2] == b"\x03\xc3" and data[i + 4:i + 6] == b"\x00\x50"


# --- header ------------------------------------------------------------------------------

def test_header_layout_matches_the_spec_offsets() -> None:
    header = FrameHeader(size=0x01020304, frame_id=0x1F5 & 0xFF, width=1080, height=1920, img_type=1,
                         data_type=2, reserved10=0x7321, is_big_endian=0, hfd_x=11, hfd_y=12, hfd=13,
                         can_debayer=1, image_id=0xBEEF)
    data = header.pack()
    assert len(data) == HEADER_SIZE == 80
    assert data[0:2] == b"\x03\xc3"  # magic 963
    assert data[2:4] == b"\x00\x02"  # version 2
    assert data[4:6] == b"\x00\x50"  # header length 80
    assert data[6:10] == b"\x01\x02\x03\x04"  # payload size, big-endian
    assert data[10:12] == b"\x73\x21"
    assert data[12:16] == bytes([0, 1, 2, 0xF5])  # is_big_endian, img_type, data_type, id
    assert struct.unpack(">HH", data[16:20]) == (1080, 1920)
    assert struct.unpack(">HHHHH", data[20:30]) == (11, 12, 13, 1, 0xBEEF)
    assert data[30:] == bytes(50)


@FAST
@given(size=st.integers(0, MAX_PAYLOAD_BYTES), frame_id=u8, width=u16, height=u16, img_type=u8,
       data_type=u8, reserved10=u16, is_big_endian=u8, hfd_x=u16, hfd_y=u16, hfd=u16,
       can_debayer=u16, image_id=u16, version=u16)
def test_header_pack_parse_round_trip(**fields: int) -> None:
    header = FrameHeader(**fields)
    data = header.pack()
    assert len(data) == HEADER_SIZE
    assert frames.parse_header(data) == header
    assert frames.parse_header(memoryview(data + b"payload")) == header
    assert frames.parse_header(bytearray(data)) == header


def test_id_and_image_id_keep_their_low_bits() -> None:
    header = FrameHeader(size=0, frame_id=10021, width=0, height=0, image_id=0x12345)
    parsed = frames.parse_header(header.pack())
    assert (parsed.frame_id, parsed.image_id) == (10021 & 0xFF, 0x2345)


@pytest.mark.parametrize("field, value", [("width", -1), ("height", 0x10000), ("size", 2**32),
                                          ("img_type", 256), ("hfd", -5)])
def test_out_of_range_fields_cannot_be_packed(field: str, value: int) -> None:
    fields = {"size": 0, "frame_id": 1, "width": 0, "height": 0, field: value}
    with pytest.raises(LocalProtocolError):
        FrameHeader(**fields).pack()


def test_bad_magic_wrong_length_and_short_headers_are_bad_frames() -> None:
    good = bytearray(ACK[0].pack())
    with pytest.raises(BadFrame, match="bad magic 0x03C4"):
        frames.parse_header(b"\x03\xc4" + good[2:])
    with pytest.raises(BadFrame, match="header length 34"):
        frames.parse_header(good[:4] + b"\x00\x22" + good[6:])  # SPY's 34-byte reading
    with pytest.raises(BadFrame, match="header needs 80 bytes, got 79"):
        frames.parse_header(good[:79])
    with pytest.raises(BadFrame):
        frames.parse_header(b"")


def test_absurd_size_is_frame_too_large_without_allocating() -> None:
    data = FrameHeader(size=0xFFFFFFFF, frame_id=1, width=1080, height=1920).pack()
    tracemalloc.start()
    try:
        with pytest.raises(FrameTooLarge) as info:
            frames.parse_header(data)
        decoder = frames.FrameDecoder()
        assert decoder.feed(data + b"\x00" * 100) == []
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert (info.value.size, info.value.limit) == (0xFFFFFFFF, MAX_PAYLOAD_BYTES)
    assert isinstance(decoder.last_error, FrameTooLarge) and decoder.rejected_headers == 1
    assert decoder.buffered_bytes < HEADER_SIZE
    assert peak < 1 << 20


def test_a_large_accepted_size_is_not_preallocated() -> None:
    decoder = frames.FrameDecoder()
    tracemalloc.start()
    try:
        decoder.feed(FrameHeader(size=MAX_PAYLOAD_BYTES, frame_id=1, width=1, height=1).pack() + b"x" * 10)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert decoder.buffered_bytes == 10
    assert peak < 1 << 20


def test_max_payload_is_configurable() -> None:
    data = FrameHeader(size=101, frame_id=1, width=0, height=0).pack()
    assert frames.parse_header(data, max_payload=101).size == 101
    with pytest.raises(FrameTooLarge):
        frames.parse_header(data, max_payload=100)


# --- FrameDecoder ----------------------------------------------------------------------------

def test_one_feed_decodes_every_frame() -> None:
    decoder = frames.FrameDecoder()
    assert decoder.feed(STREAM) == EXPECTED
    assert decoder.buffered_bytes == 0
    assert (decoder.skipped_bytes, decoder.rejected_headers, decoder.last_error) == (0, 0, None)


def test_every_single_split_point() -> None:
    for cut in range(len(STREAM) + 1):
        decoder = frames.FrameDecoder()
        out = decoder.feed(STREAM[:cut]) + decoder.feed(STREAM[cut:])
        assert out == EXPECTED, cut
        assert decoder.buffered_bytes == 0 and decoder.skipped_bytes == 0


def test_byte_by_byte() -> None:
    decoder = frames.FrameDecoder()
    out = [f for i in range(len(STREAM)) for f in decoder.feed(STREAM[i:i + 1])]
    assert out == EXPECTED


@FAST
@given(st.lists(st.integers(0, len(STREAM)), max_size=30))
def test_any_chunking(cuts: list[int]) -> None:
    decoder = frames.FrameDecoder()
    out = [f for part in chunks(STREAM, cuts) for f in decoder.feed(memoryview(part))]
    assert out == EXPECTED
    assert decoder.buffered_bytes == 0


garbage_pieces = st.one_of(
    st.binary(max_size=40),
    st.sampled_from([b"\x03", b"\x03\xc3", b"\x03\xc3\x00", b"\x03\xc3\x00\x02", b"\x03\xc3\x00\x02\x00",
                     b"\xc3", b"\x00\x50", b"\x03\x03\xc3", b"PK\x03\x04"]),
)


@FAST
@given(st.lists(garbage_pieces, max_size=12), st.lists(st.integers(0, 600), max_size=12))
def test_resync_after_garbage_with_partial_magic(pieces: list[bytes], cuts: list[int]) -> None:
    garbage = b"".join(pieces)
    data = garbage + STREAM
    assume(not any(plausible_header_at(data, i) for i in range(len(garbage))))
    decoder = frames.FrameDecoder()
    out = [f for part in chunks(data, cuts) for f in decoder.feed(part)]
    assert out == EXPECTED
    assert decoder.skipped_bytes == len(garbage)
    assert decoder.buffered_bytes == 0 and decoder.rejected_headers == 0


def test_garbage_between_frames_is_skipped_and_counted() -> None:
    junk = b"\x03\xc3\x00\x02\x00\x51" + b"\x03" + b"{\"id\":2}\r\n"  # wrong length, lone 0x03, JSON
    data = frame(*ACK) + junk + frame(*RAW) + junk + frame(*STACK)
    decoder = frames.FrameDecoder()
    assert decoder.feed(data) == EXPECTED[:3]
    assert decoder.skipped_bytes == 2 * len(junk)


def test_header_with_absurd_size_is_skipped_and_the_next_frame_decodes() -> None:
    bad = FrameHeader(size=MAX_PAYLOAD_BYTES + 1, frame_id=9, width=1080, height=1920).pack()
    decoder = frames.FrameDecoder()
    assert decoder.feed(bad + frame(*RAW)) == [EXPECTED[1]]
    assert decoder.rejected_headers == 1
    assert isinstance(decoder.last_error, FrameTooLarge)
    assert decoder.last_error.size == MAX_PAYLOAD_BYTES + 1
    assert decoder.skipped_bytes == HEADER_SIZE


@pytest.mark.parametrize("seed", range(3))
def test_memory_stays_bounded_when_fed_endless_garbage(seed: int) -> None:
    limit = 4096
    rng = random.Random(seed)
    decoder = frames.FrameDecoder(max_payload=limit)
    plausible = b"\x03\xc3\x00\x02\x00\x50"
    for i in range(3000):
        chunk = bytearray(rng.randbytes(rng.randint(1, 3000)))
        if i % 3 == 0:  # salt with header-looking bytes so that some garbage is taken for headers
            pos = rng.randrange(len(chunk))
            chunk[pos:pos] = plausible + rng.randbytes(4)
        for f in decoder.feed(bytes(chunk)):
            assert f.header.size <= limit
        assert decoder.buffered_bytes <= HEADER_SIZE + limit
    assert decoder.skipped_bytes > 0
    assert decoder.rejected_headers > 0


def test_find_magic() -> None:
    assert frames.find_magic(b"") == -1
    assert frames.find_magic(b"xx\x03\xc3\x00\x02\x00\x50") == 2
    assert frames.find_magic(b"\x03\xc3\x00\x02\x00\x51\x03\xc3\x00\x02\x00\x50") == 6
    assert frames.find_magic(b"zz\x03\xc3\x00") == 2  # too short to judge: keep waiting
    assert frames.find_magic(b"\x03\xc3\x00\x02\x00\x50", start=1) == -1


# --- payload kinds ---------------------------------------------------------------------------

@pytest.mark.parametrize("header, prefix, kind", [
    (ACK[0], b"serv", FrameKind.ACK),
    (EMPTY[0], b"", FrameKind.ACK),
    (FrameHeader(size=8, frame_id=1, width=2, height=0), b"\x00" * 4, FrameKind.ACK),
    (FrameHeader(size=0, frame_id=21, width=1080, height=1920), b"", FrameKind.ACK),
    (FrameHeader(size=1080 * 1920 * 2, frame_id=21, width=1080, height=1920), b"\x10\x00\x11\x00",
     FrameKind.RAW),
    (FrameHeader(size=1_800_000, frame_id=23, width=1080, height=1920, img_type=5, data_type=3),
     b"PK\x03\x04", FrameKind.STACK_ZIP),
    (FrameHeader(size=1_800_000, frame_id=20, width=1080, height=1920, data_type=3), b"\x00\x01\x02\x03",
     FrameKind.UNKNOWN),
])
def test_classify(header: FrameHeader, prefix: bytes, kind: FrameKind) -> None:
    assert frames.classify(header, prefix) is kind


def test_frame_kind_property() -> None:
    assert [f.kind for f in EXPECTED] == [FrameKind.ACK, FrameKind.RAW, FrameKind.STACK_ZIP, FrameKind.ACK]


def test_encode_frame_checks_the_size() -> None:
    with pytest.raises(LocalProtocolError):
        frames.encode_frame(FrameHeader(size=3, frame_id=1, width=0, height=0), b"ab")


# --- raw Bayer -------------------------------------------------------------------------------

def test_raw_decode_is_a_zero_copy_little_endian_view() -> None:
    payload = bytearray(b"\x01\x02\x03\x04\x05\x06\x07\x08\x09\x0a\x0b\x0c")
    pixels = frames.decode_raw(payload, width=3, height=2)
    assert pixels.shape == (2, 3) and pixels.dtype == np.dtype("<u2")
    assert pixels.tolist() == [[0x0201, 0x0403, 0x0605], [0x0807, 0x0A09, 0x0C0B]]
    assert np.shares_memory(pixels, np.frombuffer(payload, dtype=np.uint8))
    payload[0] = 0xFF  # a view, not a copy
    assert pixels[0, 0] == 0x02FF


def test_raw_decode_of_a_slice_of_a_reused_buffer_shares_that_buffer() -> None:
    pool = bytearray(1080 * 1920 * 2 + 100)
    view = memoryview(pool)[:1080 * 1920 * 2]
    pixels = frames.decode_raw(view, 1080, 1920)
    assert pixels.shape == (1920, 1080)
    assert np.shares_memory(pixels, np.frombuffer(pool, dtype=np.uint8))


def test_decoded_frame_payload_gives_a_view_of_that_payload() -> None:
    (decoded,) = frames.FrameDecoder().feed(frame(*RAW))
    pixels = frames.decode_raw(decoded.payload, decoded.header.width, decoded.header.height)
    assert np.array_equal(pixels, RAW_PIXELS)
    assert np.shares_memory(pixels, np.frombuffer(decoded.payload, dtype=np.uint8))


def test_raw_round_trip_from_any_byte_order() -> None:
    big_endian = RAW_PIXELS.astype(">u2")
    payload = frames.encode_raw(big_endian)
    assert payload == RAW_PIXELS.astype("<u2").tobytes()
    assert np.array_equal(frames.decode_raw(payload, 4, 3), RAW_PIXELS)


def test_raw_size_mismatch_and_wrong_shapes() -> None:
    with pytest.raises(BadFrame, match="needs 24 bytes, got 23"):
        frames.decode_raw(b"\x00" * 23, 4, 3)
    with pytest.raises(LocalProtocolError):
        frames.encode_raw(np.zeros((2, 2, 3), dtype=np.uint16))


# --- stacked ZIP -----------------------------------------------------------------------------

@FAST
@given(st.integers(1, 9), st.integers(1, 9), st.integers(0, 2**32 - 1))
def test_stack_zip_round_trip(width: int, height: int, seed: int) -> None:
    rgb = np.random.default_rng(seed).integers(0, 65536, size=(height, width, 3), dtype=np.uint16)
    payload = frames.encode_stack_zip(rgb)
    assert payload[:4] == b"PK\x03\x04"
    with zipfile.ZipFile(io.BytesIO(payload)) as archive:
        assert archive.namelist() == ["raw_data"]
        assert archive.getinfo("raw_data").compress_type == zipfile.ZIP_DEFLATED
        assert archive.read("raw_data") == rgb.astype("<u2").tobytes()  # interleaved R,G,B words
    assert np.array_equal(frames.decode_stack_zip(payload, width, height), rgb)
    assert np.array_equal(frames.decode_stack_zip(memoryview(payload), width, height), rgb)


class _Unseekable(io.RawIOBase):
    """A write-only stream, as a socket is: zipfile must stream with data descriptors."""

    def __init__(self) -> None:
        self.data = bytearray()

    def writable(self) -> bool:
        return True

    def write(self, b: Any) -> int:
        self.data += b
        return len(b)


def test_streamed_zip64_stack_as_the_firmware_writes_it() -> None:
    """§4.3: deflate, streaming/ZIP64-style local header (sizes in a trailing data descriptor)."""
    rgb = np.random.default_rng(9).integers(0, 65536, size=(6, 10, 3), dtype=np.uint16)
    out = _Unseekable()
    data = rgb.astype("<u2").tobytes()
    with (zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as archive,
          archive.open("raw_data", "w", force_zip64=True) as member):
        member.write(data[:100])
        member.write(data[100:])
    payload = bytes(out.data)
    flags, = struct.unpack("<H", payload[6:8])
    assert flags & 0x08  # sizes follow the data (data descriptor)
    assert struct.unpack("<II", payload[18:26]) == (0xFFFFFFFF, 0xFFFFFFFF)  # sizes: see ZIP64 extra
    assert np.array_equal(frames.decode_stack_zip(payload, 10, 6), rgb)


def test_stack_zip_with_the_wrong_dimensions_is_a_bad_frame() -> None:
    with pytest.raises(BadFrame, match="raw_data holds 36"):
        frames.decode_stack_zip(_ZIP, 3, 3)


def test_stack_zip_without_raw_data_member() -> None:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as archive:
        archive.writestr("other", b"\x00" * 36)
    with pytest.raises(BadFrame, match="bad stacked-image ZIP"):
        frames.decode_stack_zip(buf.getvalue(), 2, 3)


# Named ids: _ZIP holds the time it was made, and xdist workers must collect the same names.
@pytest.mark.parametrize("payload", [b"", b"PK\x03\x04", b"not a zip at all", _ZIP[:-10], _ZIP[:40],
                                     _ZIP[:30] + b"\x00" * (len(_ZIP) - 30)],
                         ids=["empty", "magic-only", "not-a-zip", "last-10-cut", "first-40",
                              "zeroed-after-30"])
def test_not_a_zip_or_truncated_is_a_bad_frame(payload: bytes) -> None:
    with pytest.raises(BadFrame):
        frames.decode_stack_zip(payload, 2, 3)


def test_every_corrupted_byte_gives_the_image_or_a_bad_frame() -> None:
    """Flip each byte of a real-size-structured ZIP in turn: the CRC or the parser must catch it."""
    rgb = np.random.default_rng(5).integers(0, 65536, size=(12, 16, 3), dtype=np.uint16)
    payload = frames.encode_stack_zip(rgb)
    for i in range(len(payload)):
        for flip in (0x01, 0xFF):
            corrupted = bytearray(payload)
            corrupted[i] ^= flip
            try:
                decoded = frames.decode_stack_zip(bytes(corrupted), 16, 12)
            except BadFrame:
                continue
            assert np.array_equal(decoded, rgb), (i, flip)


@pytest.mark.parametrize("method", [zipfile.ZIP_STORED, zipfile.ZIP_BZIP2, zipfile.ZIP_LZMA, 99])
def test_compression_method_rewritten_in_the_headers(method: int) -> None:
    """A corrupted method field makes zipfile use another decompressor on deflate data."""
    payload = bytearray(_ZIP)
    payload[8:10] = struct.pack("<H", method)  # local file header
    cd = payload.rfind(b"PK\x01\x02")
    payload[cd + 10:cd + 12] = struct.pack("<H", method)  # central directory
    with pytest.raises(BadFrame):
        frames.decode_stack_zip(bytes(payload), 2, 3)


def test_lzma_method_with_invalid_properties() -> None:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_STORED) as archive:
        # zip LZMA header: version, properties size 5, then a properties byte > 224 (invalid)
        archive.writestr("raw_data", b"\x09\x14\x05\x00\xff\x00\x00\x01\x00" + bytes(27))
    payload = bytearray(buf.getvalue())
    payload[8:10] = struct.pack("<H", zipfile.ZIP_LZMA)
    cd = payload.rfind(b"PK\x01\x02")
    payload[cd + 10:cd + 12] = struct.pack("<H", zipfile.ZIP_LZMA)
    with pytest.raises(BadFrame):
        frames.decode_stack_zip(bytes(payload), 2, 3)


@pytest.fixture(scope="module")
def zip_bomb() -> tuple[bytes, int, int]:
    """~200 kB of ZIP that inflates to 8192 x 4320 x 3 x 2 bytes (212 MB) of zeros."""
    width, height = 8192, 4320
    buf = io.BytesIO()
    block, left = bytes(1 << 20), width * height * 6
    with (zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=9) as archive,
          archive.open("raw_data", "w", force_zip64=True) as member):
        while left:
            member.write(block[:min(left, len(block))])
            left -= min(left, len(block))
    return buf.getvalue(), width, height


def test_stack_zip_bomb_is_refused_before_inflating(zip_bomb: tuple[bytes, int, int]) -> None:
    payload, width, height = zip_bomb
    assert len(payload) < 1 << 20
    tracemalloc.start()
    try:
        with pytest.raises(FrameTooLarge):
            frames.decode_stack_zip(payload, width, height)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 16 << 20


@pytest.mark.parametrize("width, height", [(1080, 1920), (3840, 2160), (2160, 3840), (7680, 4320)])
def test_known_stack_sizes_pass_the_size_guard(width: int, height: int) -> None:
    """1080x1920, 4K and 2x-drizzled 4K stacks get past the guard (here to fail on their content)."""
    payload = frames.encode_stack_zip(np.zeros((2, 2, 3), dtype=np.uint16))
    with pytest.raises(BadFrame, match="raw_data holds 24"):
        frames.decode_stack_zip(payload, width, height)


def test_stack_larger_than_the_guard_is_refused() -> None:
    with pytest.raises(FrameTooLarge) as info:
        frames.decode_stack_zip(b"PK\x03\x04", 7681, 4320)
    assert info.value.size == 7681 * 4320 * 6
