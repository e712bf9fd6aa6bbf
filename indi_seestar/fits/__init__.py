"""FITS files for the camera's CCD1 BLOB (pure: numpy only; never imports indi/, seestar/, sim/).

    fits_parts(pixels, meta) -> [header, pixels, tail]   the hot path, nothing joined
    fits_bytes(pixels, meta) -> bytes                      the same, joined (tests, files)
    FrameMeta, FrameType, PierSide                         what the header says (keywords.TABLE)
    client_record(name, value, comment) -> FitsRecord      one FITS_HEADER record, typed

Modules: cards (80-byte cards), records (FITS_HEADER), keywords (FrameMeta + TABLE),
writer (the file), compress (`.fits.fz`, CCD_COMPRESSION; imported by its users, not here).
Only compress uses astropy, and only on its first frame; the tests read the results with it.
"""

from __future__ import annotations

from .cards import date_obs, format_card, format_float, sexagesimal
from .keywords import (
    ARCSEC_PER_UM_PER_MM,
    GENERATED_BY,
    TABLE,
    FrameMeta,
    FrameType,
    KeywordSpec,
    PierSide,
)
from .records import CLEAR_KEYWORD, RESERVED_KEYWORDS, FitsRecord, client_record, text_record
from .writer import fits_bytes, fits_parts, header_block, image_axes

__all__ = [
    "ARCSEC_PER_UM_PER_MM",
    "CLEAR_KEYWORD",
    "GENERATED_BY",
    "RESERVED_KEYWORDS",
    "TABLE",
    "FitsRecord",
    "FrameMeta",
    "FrameType",
    "KeywordSpec",
    "PierSide",
    "client_record",
    "date_obs",
    "fits_bytes",
    "fits_parts",
    "format_card",
    "format_float",
    "header_block",
    "image_axes",
    "sexagesimal",
    "text_record",
]
