"""FITS header cards as bytes: values, commentary cards, libindi's text forms (pure: numpy only)."""

from __future__ import annotations

import math
from datetime import UTC, datetime

import numpy as np

from ..errors import LocalProtocolError

BLOCK_BYTES = 2880
CARD_BYTES = 80
MAX_STRING_CHARS = 68  # 80 - len("KEYWORD = ''"), counted after quote doubling

CardValue = bool | int | float | str


def is_header_text(text: str) -> bool:
    """True when every character is printable ASCII, all a FITS header may hold."""
    return text.isascii() and text.isprintable()


def _check_text(keyword: str, text: str) -> None:
    """Raise LocalProtocolError unless `text` can go into a header card."""
    if not is_header_text(text):
        raise LocalProtocolError(f"{keyword}: {text!r} is not printable ASCII")


def format_float(value: float) -> str:
    """Shortest text that reads back to the same double, with '.' and an upper-case 'E'."""
    if not math.isfinite(value):
        raise LocalProtocolError(f"FITS cannot hold the float {value!r}")
    text = repr(float(value))
    if "e" in text:
        mantissa, exponent = text.split("e")
        if "." not in mantissa:
            mantissa += ".0"
        text = f"{mantissa}E{exponent}"
    return text


def format_card(keyword: str, value: CardValue, comment: str = "") -> bytes:
    """One 80-byte value card: fixed format, strings quoted and left-justified, numbers to col 30.

    A comment that does not fit is cut at column 80 (as cfitsio does); a value that does not
    fit raises LocalProtocolError.  Floats longer than 20 characters run past column 30, which
    the FITS free format allows.
    """
    if isinstance(value, str):
        _check_text(keyword, value)
        quoted = value.replace("'", "''")
        if len(quoted) > MAX_STRING_CHARS:
            raise LocalProtocolError(f"{keyword}: string value longer than a FITS card holds")
        # An empty string is written as 8 blanks (equal to '' in FITS: trailing blanks do not
        # count): astropy 6 reads a bare '' followed by a comment holding a quote as a string
        # running to that quote.
        field_text = f"'{quoted:<8}'".ljust(20)
    elif isinstance(value, (bool, np.bool_)):
        field_text = ("T" if value else "F").rjust(20)
    elif isinstance(value, (int, np.integer)):
        field_text = str(int(value)).rjust(20)
    elif isinstance(value, (float, np.floating)):
        field_text = format_float(float(value)).rjust(20)
    else:
        raise LocalProtocolError(f"{keyword}: cannot write a {type(value).__name__} value")
    card = f"{keyword:<8}= {field_text}"
    if comment:
        _check_text(keyword, comment)
        card = f"{card} / {comment}"[:CARD_BYTES]
    return card.ljust(CARD_BYTES).encode("ascii")


def format_comment_cards(text: str, keyword: str = "COMMENT") -> list[bytes]:
    """Commentary cards holding `text`, split over as many 72-character cards as needed."""
    _check_text(keyword, text)
    width = CARD_BYTES - 8
    chunks = [text[i : i + width] for i in range(0, len(text), width)] or [""]
    return [f"{keyword:<8}{chunk}".ljust(CARD_BYTES).encode("ascii") for chunk in chunks]


def sexagesimal(value: float) -> str:
    """libindi's fs_sexa(value, 2, 360000) with ':' made ' ': ' 5 30 00.00', '-0 30 00.00'."""
    negative = value < 0
    n = int(abs(value) * 360000 + 0.5)
    whole, frac = divmod(n, 360000)
    minutes, centis = divmod(frac, 6000)
    head = "-0" if negative and whole == 0 else f"{-whole if negative else whole:2d}"
    return f"{head} {minutes:02d} {centis // 100:02d}.{centis % 100:02d}"


def date_obs(utc: datetime) -> str:
    """DATE-OBS text YYYY-MM-DDTHH:MM:SS.mmm in UTC, ms truncated (as libindi); naive = UTC."""
    t = utc.astimezone(UTC) if utc.tzinfo is not None else utc
    return (
        f"{t.year:04d}-{t.month:02d}-{t.day:02d}T{t.hour:02d}:{t.minute:02d}:{t.second:02d}"
        f".{t.microsecond // 1000:03d}"
    )
