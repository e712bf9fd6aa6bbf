"""ASCOM Alpaca wire pieces shared by the driver and the fake (sans-I/O: bytes and dicts only).

Layer: protocol. ZWO's on-scope Alpaca server (seestar-protocol.md §8.10, competitors.md §2.0):
HTTP on 32323, UDP discovery on 32227 ("alpacadiscovery1" -> {"AlpacaPort": p}), device API
`/api/v1/{type}/{n}/{method}` answering JSON {Value, ErrorNumber, ErrorMessage,
ClientTransactionID, ServerTransactionID}, and `imagearray` as "application/imagebytes": a
44-byte header of eleven little-endian int32 then the pixels, column-major (x varies slowest,
so the data is the (NumX, NumY) array: transpose for rows of pixels; indilib/indi 92b9c1a).
The early builds of ZWO's server got that header wrong (competitors.md §2.0: dimensions in the
wrong fields, a wrong element type, a wrong data-start offset; a later build fixed one field
and the INDI-core workaround had to change). Which field each build got wrong is not
documented [U]: `ImageBytesQuirks.for_version` is our model of it, and `decode_imagebytes`
checks the payload size so a header that disagrees with its bytes is never taken at its word.
"""

from __future__ import annotations

import enum
import json
import re
import struct
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..errors import BadFrame

#: Default ports of ZWO's server and of Alpaca discovery.
ALPACA_PORT = 32323
DISCOVERY_PORT = 32227
DISCOVERY_MESSAGE = b"alpacadiscovery1"
API_VERSION = 1
IMAGEBYTES_MIME = "application/imagebytes"
IMAGEBYTES_HEADER_BYTES = 44
_HEADER = struct.Struct("<11i")


class AlpacaError(enum.IntEnum):
    """ErrorNumber values ZWO's server answers (ASCOM's reserved range 0x400..0x4FF)."""

    OK = 0
    NOT_IMPLEMENTED = 0x400  # 1024
    INVALID_VALUE = 0x401  # 1025
    VALUE_NOT_SET = 0x402
    NOT_CONNECTED = 0x407
    INVALID_OPERATION = 0x40B
    ACTION_NOT_IMPLEMENTED = 0x40C  # 1036: `action` (supportedactions is empty)
    INVALID_STATE = 0x4FF  # 1279: parked, tracking off, wheel already there


class GuideDirection(enum.IntEnum):
    """Telescope.PulseGuide directions (ASCOM GuideDirections)."""

    NORTH = 0
    SOUTH = 1
    EAST = 2
    WEST = 3


class CameraState(enum.IntEnum):
    """Camera.CameraState."""

    IDLE = 0
    WAITING = 1
    EXPOSING = 2
    READING = 3
    DOWNLOAD = 4
    ERROR = 5


class ElementType(enum.IntEnum):
    """ImageArrayElementTypes."""

    UNKNOWN = 0
    INT16 = 1
    INT32 = 2
    DOUBLE = 3
    SINGLE = 4
    UINT64 = 5
    BYTE = 6
    INT64 = 7
    UINT16 = 8
    UINT32 = 9


_DTYPES = {ElementType.INT16: "<i2", ElementType.INT32: "<i4", ElementType.UINT16: "<u2",
           ElementType.UINT32: "<u4", ElementType.BYTE: "u1", ElementType.DOUBLE: "<f8",
           ElementType.SINGLE: "<f4", ElementType.INT64: "<i8", ElementType.UINT64: "<u8"}


def parse_version(text: str) -> tuple[int, ...]:
    """"1.1.2-1" -> (1, 1, 2, 1); anything unparsable -> () (treated as the newest)."""
    parts = re.findall(r"\d+", text or "")
    return tuple(int(p) for p in parts[:4])


#: ZWO server versions (competitors.md §2.0): PulseGuide and Park/Unpark from 1.1.2-1
#: (2025-12-08); 1.2.0-3 (2026-01-13) is the newest seen.
PULSE_GUIDE_FROM = (1, 1, 2, 1)
HEADER_FIXED_FROM = (1, 2, 0, 3)
DATA_START_FIXED_FROM = (1, 1, 2, 1)


@dataclass(frozen=True, slots=True)
class ImageBytesQuirks:
    """How one server build fills the ImageBytes header (see the module docstring)."""

    dims_swapped: bool = False  # Dimension1 holds NumY and Dimension2 NumX
    claims_int32_transmission: bool = False  # TransmissionElementType says Int32, data is UInt16
    data_start_zero: bool = False  # DataStart is 0 although the data starts at byte 44

    @classmethod
    def for_version(cls, version: str) -> ImageBytesQuirks:
        """The mistakes of ZWO server build `version` (our model of them, [U])."""
        v = parse_version(version)
        if not v or v >= HEADER_FIXED_FROM:
            return cls()
        return cls(dims_swapped=True, claims_int32_transmission=True,
                   data_start_zero=v < DATA_START_FIXED_FROM)

    @property
    def any(self) -> bool:
        """This build gets something wrong."""
        return self.dims_swapped or self.claims_int32_transmission or self.data_start_zero


def encode_imagebytes(pixels_hw: np.ndarray, *, client_tid: int = 0, server_tid: int = 0,
                      quirks: ImageBytesQuirks = ImageBytesQuirks()) -> list[bytes | memoryview]:
    """(rows, columns) uint16 pixels -> ImageBytes parts (header, data) as `quirks` builds send."""
    num_y, num_x = pixels_hw.shape
    dims = (num_y, num_x) if quirks.dims_swapped else (num_x, num_y)
    transmission = ElementType.INT32 if quirks.claims_int32_transmission else ElementType.UINT16
    start = 0 if quirks.data_start_zero else IMAGEBYTES_HEADER_BYTES
    header = _HEADER.pack(1, 0, client_tid, server_tid, start, int(ElementType.INT32),
                          int(transmission), 2, dims[0], dims[1], 0)
    data = np.ascontiguousarray(pixels_hw.T, dtype="<u2")  # column-major: x slowest
    return [header, memoryview(data).cast("B")]


def encode_imagebytes_error(number: int, message: str, *, client_tid: int = 0,
                            server_tid: int = 0) -> bytes:
    """An ImageBytes error answer: the header with ErrorNumber, then the UTF-8 message."""
    return _HEADER.pack(1, number, client_tid, server_tid, IMAGEBYTES_HEADER_BYTES, 0, 0, 0, 0, 0,
                        0) + message.encode()


@dataclass(frozen=True, slots=True)
class ImageBytesHeader:
    """The eleven int32 of an ImageBytes header, as sent."""

    metadata_version: int
    error_number: int
    client_tid: int
    server_tid: int
    data_start: int
    image_element_type: int
    transmission_element_type: int
    rank: int
    dim1: int
    dim2: int
    dim3: int


def decode_imagebytes(body: bytes | memoryview, quirks: ImageBytesQuirks = ImageBytesQuirks(),
                      expected_xy: tuple[int, int] | None = None) -> np.ndarray:
    """ImageBytes -> (rows, columns) pixels (a view of `body`); BadFrame when it does not add up.

    `expected_xy` is (NumX, NumY) as the exposure asked; with it, swapped dimensions are
    recognised whatever the version says. The element size comes from the payload length
    when the header's type disagrees with it (early builds).
    """
    view = memoryview(body).cast("B")
    if len(view) < IMAGEBYTES_HEADER_BYTES:
        raise BadFrame(f"ImageBytes answer of {len(view)} bytes has no header")
    h = ImageBytesHeader(*_HEADER.unpack_from(view, 0))
    if h.error_number:
        text = bytes(view[IMAGEBYTES_HEADER_BYTES:]).decode(errors="replace")
        raise BadFrame(f"ImageBytes error {h.error_number}: {text}")
    if h.rank != 2:
        raise BadFrame(f"ImageBytes rank {h.rank} (a Bayer frame has rank 2)")
    start = h.data_start or IMAGEBYTES_HEADER_BYTES
    if quirks.data_start_zero or not IMAGEBYTES_HEADER_BYTES <= start <= len(view):
        start = IMAGEBYTES_HEADER_BYTES
    num_x, num_y = (h.dim2, h.dim1) if quirks.dims_swapped else (h.dim1, h.dim2)
    if expected_xy is not None and (num_x, num_y) != tuple(expected_xy):
        if (num_y, num_x) == tuple(expected_xy):
            num_x, num_y = num_y, num_x
        else:
            raise BadFrame(f"ImageBytes frame {h.dim1}x{h.dim2}, expected "
                           f"{expected_xy[0]}x{expected_xy[1]}")
    count = num_x * num_y
    payload = len(view) - start
    if count <= 0 or payload % count:
        raise BadFrame(f"ImageBytes payload of {payload} bytes is not {num_x}x{num_y} pixels")
    size = payload // count
    etype = ElementType.UINT16 if quirks.claims_int32_transmission else h.transmission_element_type
    try:
        dtype = np.dtype(_DTYPES[ElementType(etype)])
    except (KeyError, ValueError):
        raise BadFrame(f"ImageBytes element type {etype} is unknown") from None
    if dtype.itemsize != size:  # the header's type disagrees with the bytes: trust the bytes
        dtype = np.dtype({1: "u1", 2: "<u2", 4: "<i4"}.get(size, "V1"))
        if dtype.kind == "V":
            raise BadFrame(f"ImageBytes elements of {size} bytes")
    data = np.frombuffer(view, dtype=dtype, count=count, offset=start)
    return data.reshape(num_x, num_y).T


# --- JSON answers and discovery --------------------------------------------------------------

def response(value: Any = None, *, error: int = 0, message: str = "", client_tid: int = 0,
             server_tid: int = 0) -> bytes:
    """A device API JSON answer (Value omitted for methods and errors without one)."""
    body: dict[str, Any] = {"ClientTransactionID": client_tid, "ServerTransactionID": server_tid,
                            "ErrorNumber": int(error), "ErrorMessage": message}
    if value is not None or not error:
        body["Value"] = value
    return json.dumps(body, separators=(",", ":")).encode()


def discovery_reply(port: int) -> bytes:
    """What a server answers to DISCOVERY_MESSAGE."""
    return json.dumps({"AlpacaPort": int(port)}).encode()


def parse_discovery_reply(data: bytes) -> int | None:
    """The HTTP port in a discovery reply, or None when it is not one."""
    try:
        port = json.loads(data.decode())["AlpacaPort"]
    except (ValueError, KeyError, TypeError, UnicodeDecodeError):
        return None
    return int(port) if isinstance(port, int) and 1 <= port <= 65535 else None


def int_param(params: dict[str, str], name: str) -> int | None:
    """A case-insensitive integer parameter of a request, None when absent or not a number."""
    for key, value in params.items():
        if key.lower() == name.lower():
            try:
                return int(float(value))
            except ValueError:
                return None
    return None


def param(params: dict[str, str], name: str) -> str | None:
    """A case-insensitive parameter of a request."""
    for key, value in params.items():
        if key.lower() == name.lower():
            return value
    return None
