"""The scope's own files (sans-I/O): its FITS subs and batch results, and its HTTP folder listings.

Layer: protocol. The Seestar saves 16-bit FITS files under MyWorks (subs as 2-D Bayer frames,
stacks as RGB cubes) and serves them read-only over HTTP on port 80 (seestar-protocol.md §1,
§8.3 B); a folder URL answers an HTML index of links [U: the real index format is not
recorded; nginx's autoindex shape is assumed]. These helpers read and write the minimal FITS
the scope uses (one HDU, BITPIX 16 with BZERO 32768) and pull file names out of an index.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from urllib.parse import quote, unquote

import numpy as np

from ..errors import RemoteProtocolError

_CARD, _BLOCK = 80, 2880
_HREF = re.compile(r'href="([^"?#]+)"', re.IGNORECASE)


def _card(key: str, value: object) -> bytes:
    if isinstance(value, bool):
        text = "T" if value else "F"
    elif isinstance(value, (int, float)):
        text = repr(value)
    else:
        text = "'" + str(value).replace("'", "''") + "'"
    return f"{key:<8}= {text:>20}".ljust(_CARD).encode("ascii")[:_CARD]


def write_fits(pixels: np.ndarray, cards: Mapping[str, object] | None = None) -> bytes:
    """A one-HDU FITS file of (H, W) or (3, H, W) uint16 pixels with extra `cards`."""
    shape = pixels.shape
    head = [_card("SIMPLE", True), _card("BITPIX", 16), _card("NAXIS", len(shape))]
    head += [_card(f"NAXIS{i}", n) for i, n in enumerate(reversed(shape), 1)]
    head += [_card("BZERO", 32768), _card("BSCALE", 1)]
    head += [_card(k, v) for k, v in (cards or {}).items()]
    head.append(b"END".ljust(_CARD))
    header = b"".join(head)
    header += b" " * (-len(header) % _BLOCK)
    data = (pixels.astype(np.uint16) ^ np.uint16(0x8000)).astype(">u2").tobytes()
    return header + data + bytes(-len(data) % _BLOCK)


def read_fits(data: bytes | memoryview) -> tuple[dict[str, object], np.ndarray]:
    """(header values, uint16 pixels (H, W) or (3, H, W)) of a one-HDU 16-bit FITS file."""
    view = memoryview(data)
    header: dict[str, object] = {}
    offset = 0
    while True:
        if offset + _CARD > len(view):
            raise RemoteProtocolError("FITS header without END")
        card = bytes(view[offset:offset + _CARD]).decode("ascii", "replace")
        offset += _CARD
        key = card[:8].strip()
        if key == "END":
            break
        if card[8:10] == "= ":
            header[key] = _value(card[10:])
    offset += -offset % _BLOCK
    if header.get("BITPIX") != 16:
        raise RemoteProtocolError(f"FITS BITPIX {header.get('BITPIX')} is not 16")
    naxis = int(header.get("NAXIS", 0))  # type: ignore[call-overload]
    shape = tuple(int(header[f"NAXIS{i}"]) for i in range(naxis, 0, -1))  # type: ignore[call-overload]
    count = int(np.prod(shape)) if shape else 0
    if offset + 2 * count > len(view):
        raise RemoteProtocolError("FITS data cut short")
    raw = np.frombuffer(view[offset:offset + 2 * count], dtype=">i2").reshape(shape)
    bzero = int(header.get("BZERO", 0))  # type: ignore[call-overload]
    return header, (raw.astype(np.int32) + bzero).astype(np.uint16)


def _value(text: str) -> object:
    text = text.split(" /")[0].strip() if not text.strip().startswith("'") else text.strip()
    if text.startswith("'"):
        end = text.find("'", 1)
        while end != -1 and text[end + 1:end + 2] == "'":
            end = text.find("'", end + 2)
        return text[1:end].replace("''", "'").rstrip()
    if text in ("T", "F"):
        return text == "T"
    try:
        return int(text)
    except ValueError:
        try:
            return float(text)
        except ValueError:
            return text


def index_names(html: str) -> list[str]:
    """File and folder names linked from an HTML folder index (no parent link, no query links)."""
    names = []
    for href in _HREF.findall(html):
        name = unquote(href)
        if name in ("../", "./", "/") or name.startswith(("/", "http:", "https:")):
            continue
        names.append(name)
    return names


def index_html(names: list[str]) -> str:
    """An nginx-autoindex-like page linking `names` (the fake's listing)."""
    links = "".join(f'<a href="{quote(n)}">{n}</a>\n' for n in names)
    return f'<html><body><pre><a href="../">../</a>\n{links}</pre></body></html>\n'


def url_path(path: str) -> str:
    """The URL path of a file under the scope's root (spaces and all quoted)."""
    return "/" + quote(path.strip("/"))
