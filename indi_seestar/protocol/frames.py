"""Image channel (TCP 4800) codec: the 80-byte big-endian frame header and its payloads (§4).

Layer: protocol (sans-I/O). Must not import asyncio, sockets, seestar/, indi/, devices/ or sim/.
Two ways in: a zero-copy path (`parse_header` on 80 bytes, then the caller reads `size` payload
bytes into its own buffer) used by the engine, and the buffered `FrameDecoder.feed()` for any
split of the stream, which resynchronises on the magic 0x03C3 after garbage.
"""

from __future__ import annotations

import enum
import io
import struct
import zipfile
import zlib
from dataclasses import dataclass

import numpy as np

from ..errors import BadFrame, FrameTooLarge, LocalProtocolError

MAGIC = 0x03C3
HEADER_SIZE = 80
VERSION = 2
#: Largest payload accepted; drizzled 4K stacks are ~24 MB compressed, proxies refuse > 50 MB.
MAX_PAYLOAD_BYTES = 64 * 1024 * 1024
#: Largest stacked image we inflate: 7680 x 4320 RGB (a 2x-drizzled 3840 x 2160 stack, ~199 MB).
#: A 64 MiB deflate payload could otherwise inflate to the 25 GB a 65535 x 65535 header allows.
_MAX_STACK_RAW_BYTES = 7680 * 4320 * 3 * 2
_MAGIC_BYTES = struct.pack(">H", MAGIC)
_HEADER = struct.Struct(">HHHIHBBBBHHHHHHH50x")
_ZIP_SIGNATURE = b"PK\x03\x04"
_RAW_MEMBER = "raw_data"

try:  # zipfile uses lzma only when Python was built with it
    from lzma import LZMAError as _LZMAError
except ImportError:  # pragma: no cover
    class _LZMAError(Exception):  # type: ignore[no-redef]
        """Stand-in: never raised."""

#: What zipfile raises on a corrupted archive: its own errors, plus those of the decompressor
#: the (corruptible) method field selects: zlib.error, OSError (bz2), LZMAError.
_ZIP_ERRORS = (zipfile.BadZipFile, KeyError, EOFError, OSError, NotImplementedError, RuntimeError,
               ValueError, zlib.error, _LZMAError)


class ImageType(enum.IntEnum):
    """Header byte 13 (img_type)."""

    ACK = 0
    PREVIEW = 1
    STACKED = 5


class DataType(enum.IntEnum):
    """Header byte 14 (the "code" of ALP/PRX, data_type of SPY)."""

    STATUS = 0
    RAW = 2
    COMPRESSED = 3


class FrameKind(enum.Enum):
    """What a frame's payload holds."""

    ACK = "ack"  # status/heartbeat answer, zero-size acks
    RAW = "raw"  # 16-bit Bayer (the model's CFA), little-endian pixels, width x height
    BAYER_ZIP = "bayer_zip"  # a preview (img_type 1) as a ZIP: 16-bit Bayer, width x height
    STACK_ZIP = "stack_zip"  # ZIP with member raw_data: 16-bit interleaved RGB
    UNKNOWN = "unknown"


@dataclass(frozen=True, slots=True)
class FrameHeader:
    """The 80-byte header; bytes 30..79 are reserved and written as zeros."""

    size: int
    frame_id: int
    width: int
    height: int
    img_type: int = ImageType.PREVIEW
    data_type: int = DataType.RAW
    reserved10: int = 0
    is_big_endian: int = 0
    hfd_x: int = 0
    hfd_y: int = 0
    hfd: int = 0
    can_debayer: int = 0
    image_id: int = 0
    magic: int = MAGIC
    version: int = VERSION
    header_len: int = HEADER_SIZE

    def pack(self) -> bytes:
        """The header as 80 bytes."""
        try:
            return _HEADER.pack(
                self.magic, self.version, self.header_len, self.size, self.reserved10,
                self.is_big_endian, self.img_type, self.data_type, self.frame_id & 0xFF,
                self.width, self.height, self.hfd_x, self.hfd_y, self.hfd, self.can_debayer,
                self.image_id & 0xFFFF,
            )
        except struct.error as exc:
            raise LocalProtocolError(f"frame header field out of range: {exc}") from exc


@dataclass(frozen=True, slots=True)
class Frame:
    """One decoded frame: header plus its payload bytes."""

    header: FrameHeader
    payload: bytes | memoryview

    @property
    def kind(self) -> FrameKind:
        """Payload kind (see `classify`)."""
        return classify(self.header, self.payload[:4])


def parse_header(data: bytes | bytearray | memoryview, max_payload: int = MAX_PAYLOAD_BYTES) -> FrameHeader:
    """Decode 80 header bytes; BadFrame on a wrong magic/length, FrameTooLarge on an absurd size."""
    if len(data) < HEADER_SIZE:
        raise BadFrame(f"header needs {HEADER_SIZE} bytes, got {len(data)}")
    (magic, version, header_len, size, reserved10, big, img_type, data_type, frame_id,
     width, height, hfd_x, hfd_y, hfd, can_debayer, image_id) = _HEADER.unpack_from(data)
    if magic != MAGIC:
        raise BadFrame(f"bad magic 0x{magic:04X}")
    if header_len != HEADER_SIZE:
        raise BadFrame(f"header length {header_len}, expected {HEADER_SIZE}")
    if size > max_payload:
        raise FrameTooLarge(size, max_payload)
    return FrameHeader(
        size=size, frame_id=frame_id, width=width, height=height, img_type=img_type,
        data_type=data_type, reserved10=reserved10, is_big_endian=big, hfd_x=hfd_x, hfd_y=hfd_y,
        hfd=hfd, can_debayer=can_debayer, image_id=image_id, magic=magic, version=version,
        header_len=header_len,
    )


def classify(header: FrameHeader, payload_prefix: bytes | memoryview) -> FrameKind:
    """Decide the payload kind from the header and the payload's first bytes."""
    if header.width == 0 or header.height == 0 or header.size == 0:
        return FrameKind.ACK
    if bytes(payload_prefix[:4]) == _ZIP_SIGNATURE:
        # S30 family: previews may come ZIP-compressed, single-channel, data_type 3
        # (grapeot/seestarpy-s30 4ac531c, S30 Pro on 7.75); stacks are img_type 5.
        return FrameKind.BAYER_ZIP if header.img_type == ImageType.PREVIEW else FrameKind.STACK_ZIP
    if header.size == header.width * header.height * 2:
        return FrameKind.RAW
    return FrameKind.UNKNOWN


def encode_frame(header: FrameHeader, payload: bytes) -> bytes:
    """Header plus payload as one buffer (the fake uses it); `header.size` must match."""
    if header.size != len(payload):
        raise LocalProtocolError(f"header size {header.size} != payload length {len(payload)}")
    return header.pack() + payload


def decode_raw(payload: bytes | bytearray | memoryview, width: int, height: int) -> np.ndarray:
    """Raw Bayer payload as a (height, width) uint16 view (little-endian pixels), no copy."""
    expected = width * height * 2
    if len(payload) != expected:
        raise BadFrame(f"raw frame of {width}x{height} needs {expected} bytes, got {len(payload)}")
    return np.frombuffer(payload, dtype="<u2").reshape(height, width)


def encode_raw(pixels: np.ndarray) -> bytes:
    """(height, width) uint16 pixels as a little-endian raw payload."""
    if pixels.ndim != 2:
        raise LocalProtocolError("raw frames are 2-D")
    return np.ascontiguousarray(pixels, dtype="<u2").tobytes()


def decode_stack_zip(payload: bytes | memoryview, width: int, height: int) -> np.ndarray:
    """ZIP payload holding `raw_data` as a (height, width, 3) uint16 RGB array."""
    expected = width * height * 3 * 2
    if expected > _MAX_STACK_RAW_BYTES:
        raise FrameTooLarge(expected, _MAX_STACK_RAW_BYTES)
    try:
        with zipfile.ZipFile(io.BytesIO(payload)) as archive:
            info = archive.getinfo(_RAW_MEMBER)
            if info.file_size != expected:
                raise BadFrame(f"stacked image of {width}x{height} needs {expected} bytes, "
                               f"raw_data holds {info.file_size}")
            data = archive.read(info)
    except _ZIP_ERRORS as exc:
        if isinstance(exc, BadFrame):
            raise
        raise BadFrame(f"bad stacked-image ZIP: {str(exc)[:100]}") from exc
    return np.frombuffer(data, dtype="<u2").reshape(height, width, 3)


def encode_stack_zip(rgb: np.ndarray, compresslevel: int = 1) -> bytes:
    """(height, width, 3) uint16 RGB as the firmware's ZIP with one member `raw_data`."""
    if rgb.ndim != 3 or rgb.shape[2] != 3:
        raise LocalProtocolError("stacked images are (height, width, 3)")
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=compresslevel) as archive:
        archive.writestr(_RAW_MEMBER, np.ascontiguousarray(rgb, dtype="<u2").tobytes())
    return buf.getvalue()


def inflate_bayer_into(payload: bytes | bytearray | memoryview, out: memoryview) -> None:
    """Inflate a ZIP preview's single member into `out` (exactly width*height*2 bytes, no more).

    The member is read by its local header (the firmware streams it: sizes may be in a data
    descriptor), inflated in chunks straight into `out`; BadFrame if it is not a deflated
    member or its size is not exactly len(out).
    """
    view = memoryview(payload)
    if len(view) < 30 or bytes(view[:4]) != _ZIP_SIGNATURE:
        raise BadFrame("ZIP preview without a local file header")
    method, = struct.unpack_from("<H", view, 8)
    name_len, extra_len = struct.unpack_from("<HH", view, 26)
    start = 30 + name_len + extra_len
    if method != zipfile.ZIP_DEFLATED or start > len(view):
        raise BadFrame(f"ZIP preview member: method {method}, data at {start}")
    inflater = zlib.decompressobj(-15)
    filled, total = 0, len(out)
    pending: bytes | memoryview = view[start:]
    try:
        while pending and not inflater.eof:
            chunk = inflater.decompress(pending, total - filled + 1)
            if filled + len(chunk) > total:
                raise BadFrame(f"ZIP preview inflates past {total} bytes")
            out[filled:filled + len(chunk)] = chunk
            filled += len(chunk)
            pending = inflater.unconsumed_tail
    except zlib.error as exc:
        raise BadFrame(f"bad ZIP preview: {str(exc)[:100]}") from exc
    if filled != total:
        raise BadFrame(f"ZIP preview inflates to {filled} bytes, expected {total}")


def encode_bayer_zip(pixels: np.ndarray, compresslevel: int = 1) -> bytes:
    """(height, width) uint16 Bayer as a ZIP preview payload (one deflated member `raw_data`)."""
    if pixels.ndim != 2:
        raise LocalProtocolError("Bayer previews are 2-D")
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=compresslevel) as archive:
        archive.writestr(_RAW_MEMBER, np.ascontiguousarray(pixels, dtype="<u2").tobytes())
    return buf.getvalue()


def find_magic(data: bytes | bytearray, start: int = 0) -> int:
    """Index of the next plausible header start (magic and length 80) at or after `start`, or -1."""
    pos = start
    while True:
        pos = data.find(_MAGIC_BYTES, pos)
        if pos < 0 or pos + 6 > len(data):
            return pos
        if data[pos + 4:pos + 6] == b"\x00\x50":
            return pos
        pos += 1


class FrameDecoder:
    """Buffered decoder for any split of the stream: `feed(bytes) -> list[Frame]`.

    Garbage before a header is skipped (counted in `skipped_bytes`); a header that fails
    `parse_header` (say, an absurd size) is skipped too and kept in `last_error`. It never raises.
    Memory is bounded by one header plus one accepted payload.
    """

    def __init__(self, max_payload: int = MAX_PAYLOAD_BYTES) -> None:
        self._buf = bytearray()
        self._header: FrameHeader | None = None
        self._max = max_payload
        self.skipped_bytes = 0
        self.rejected_headers = 0
        self.last_error: BadFrame | FrameTooLarge | None = None

    @property
    def buffered_bytes(self) -> int:
        """Bytes held for an incomplete header or payload."""
        return len(self._buf)

    def feed(self, data: bytes | bytearray | memoryview) -> list[Frame]:
        """Decode every complete frame in the stream so far."""
        self._buf += data
        out: list[Frame] = []
        while True:
            if self._header is None:
                if not self._sync():
                    return out
                try:
                    self._header = parse_header(self._buf, self._max)
                except (BadFrame, FrameTooLarge) as exc:
                    del self._buf[:2]  # drop this magic; resync from the next byte
                    self.skipped_bytes += 2
                    self.rejected_headers += 1
                    self.last_error = exc
                    continue
                del self._buf[:HEADER_SIZE]
            size = self._header.size
            if len(self._buf) < size:
                return out
            payload = bytes(self._buf[:size])
            del self._buf[:size]
            out.append(Frame(self._header, payload))
            self._header = None

    def _sync(self) -> bool:
        """Drop bytes before the next plausible header; True when a whole header is buffered."""
        pos = find_magic(self._buf)
        if pos < 0:
            keep = 1 if self._buf[-1:] == _MAGIC_BYTES[:1] else 0
            self.skipped_bytes += len(self._buf) - keep
            del self._buf[: len(self._buf) - keep]
            return False
        if pos:
            self.skipped_bytes += pos
            del self._buf[:pos]
        return len(self._buf) >= HEADER_SIZE
