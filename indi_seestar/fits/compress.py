"""Tile-compressed FITS (`.fits.fz`), what libindi sends when CCD_COMPRESSION is Enabled.

Layer: fits (pure: numpy and astropy; never imports indi/, seestar/, sim/).
libindi runs fpack on the FITS file (indiccd.cpp, `fp_pack_data_to_data` with fpack's
defaults: lossless RICE_1 for integer images) and sends it with the format ".fits.fz". The
result is the same file layout: an empty primary HDU, then the image as a compressed
BINTABLE (ZIMAGE = T) carrying our header cards; cfitsio (KStars, funpack) and astropy open
it as an image with the same pixels. Tiles are TILE_ROWS rows (fpack's default is one row):
with astropy's writer a tile costs ~13 us of Python, so 1-row tiles took ~50 ms per 1080x1920
frame here and 16-row tiles ~24 ms (the Rice coding itself ~18 ms) for the same size
(0.465 x raw on the fake's noisy frames; issue 13).
astropy is imported on first use, not at import time.
"""

from __future__ import annotations

import importlib.util
import io
from collections.abc import Sequence

import numpy as np

from ..errors import LocalProtocolError
from .cards import CARD_BYTES
from .writer import image_axes

#: Rows per compression tile (see the module docstring for the measurements).
TILE_ROWS = 16
#: The BLOB format of a compressed FITS file, as libindi names it.
FZ_FORMAT = ".fits.fz"


def compressor_installed() -> bool:
    """Whether astropy, which writes the compressed file, can be imported (optional at run time)."""
    return importlib.util.find_spec("astropy") is not None


def fz_bytes(pixels: np.ndarray, header: bytes) -> bytes:
    """The `.fits.fz` file of `pixels` (uint16, (H, W) or (3, H, W)) with the cards of `header`.

    `header` is our primary header (`header_block`); its structural cards are rewritten for
    the compressed HDU by astropy, every other card is kept in order. Lossless.
    """
    from astropy.io import fits  # import cost paid by the first compressed frame only

    naxes = image_axes(pixels)
    cards = fits.Header.fromstring(header.decode("ascii"))
    if tuple(cards.get(f"NAXIS{i}") for i in range(1, len(naxes) + 1)) != naxes:
        raise LocalProtocolError("header and pixels disagree on the image shape")
    tile = (1,) * (pixels.ndim - 2) + (min(TILE_ROWS, pixels.shape[-2]), pixels.shape[-1])
    out = io.BytesIO()
    try:
        hdu = fits.CompImageHDU(data=np.ascontiguousarray(pixels), header=cards,
                                compression_type="RICE_1", tile_shape=tile)
        fits.HDUList([fits.PrimaryHDU(), hdu]).writeto(out, output_verify="silentfix")
    except (ValueError, TypeError, KeyError) as exc:  # astropy's complaints: a frame, not a crash
        raise LocalProtocolError(f"cannot compress the FITS file: {exc}") from None
    return out.getvalue()


def fz_from_parts(parts: Sequence[bytes | memoryview]) -> bytes:
    """`fz_bytes` of a plain FITS file given as `fits_parts` buffers (header, pixels, tail)."""
    header = bytes(parts[0])
    axes = _axes(header)
    count = int(np.prod(axes))
    data = b"".join(parts[1:])
    if len(data) < count * 2:
        raise LocalProtocolError("FITS data shorter than its header says")
    # stored as big-endian int16 with BZERO 32768: flipping the sign bit gives the uint16 back
    pixels = np.bitwise_xor(np.frombuffer(data, dtype=">u2", count=count), np.uint16(0x8000))
    return fz_bytes(pixels.astype(np.uint16).reshape(tuple(reversed(axes))), header)


def _axes(header: bytes) -> list[int]:
    """NAXIS1.. of one of our headers (fixed-format integer cards)."""
    cards = {header[i:i + 8].strip(): header[i + 10:i + 30]
             for i in range(0, len(header), CARD_BYTES)}
    try:
        return [int(cards[f"NAXIS{i}".encode()]) for i in range(1, int(cards[b"NAXIS"]) + 1)]
    except (KeyError, ValueError):
        raise LocalProtocolError("not one of our FITS headers (no NAXIS cards)") from None
