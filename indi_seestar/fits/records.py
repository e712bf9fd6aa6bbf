"""Custom header records from the client's FITS_HEADER property, typed as libindi does (pure)."""

from __future__ import annotations

import re
from dataclasses import dataclass

from ..errors import LocalProtocolError, ValueRejected
from .cards import MAX_STRING_CHARS, is_header_text

CLEAR_KEYWORD = "INDI_CLEAR"  # FITS_HEADER name that clears every record; the device handles it
RESERVED_KEYWORDS = frozenset(
    {"SIMPLE", "BITPIX", "NAXIS", "NAXIS1", "NAXIS2", "NAXIS3", "EXTEND", "BZERO", "BSCALE"}
    | {"END", "COMMENT", "HISTORY"}
)
_KEYWORD_RE = re.compile(r"[A-Z0-9_-]{1,8}")
# libindi's two patterns (INDI::CCD::ISNewText, FITS_HEADER), tried in this order.
_INTEGER_RE = re.compile(r"[-+]?[0-9]*")
_DOUBLE_RE = re.compile(r"[-+]?([0-9]*?[.,][0-9]+|[0-9]+)")
_INT64_LIMIT = 2**63


@dataclass(frozen=True, slots=True)
class FitsRecord:
    """One custom header record; value None makes a COMMENT card holding `comment`."""

    keyword: str
    value: int | float | str | None
    comment: str = ""

    @property
    def store_key(self) -> str:
        """Key under which a later record replaces this one (libindi: keyword, or comment text)."""
        return self.keyword if self.value is not None else self.comment


def _reject(reason: str) -> ValueRejected:
    return ValueRejected("FITS_HEADER", reason)


def _reject_unless_text(text: str) -> None:
    """Raise ValueRejected unless `text` can go into a header card."""
    if not is_header_text(text):
        raise _reject(f"{text!r} is not printable ASCII")


def is_settable_keyword(keyword: str) -> bool:
    """True for a standard 8-character keyword that is not structural (SIMPLE, NAXIS, BZERO...)."""
    return bool(_KEYWORD_RE.fullmatch(keyword)) and keyword not in RESERVED_KEYWORDS


def check_record(record: FitsRecord) -> None:
    """Raise LocalProtocolError unless `record` can be written as given."""
    if record.value is not None and not is_settable_keyword(record.keyword):
        raise LocalProtocolError(f"{record.keyword!r} is not a usable FITS keyword")


def client_record(name: str, value: str, comment: str) -> FitsRecord:
    """FITS_HEADER's (KEYWORD_NAME, KEYWORD_VALUE, KEYWORD_COMMENT) as a typed record.

    As libindi: the name is upper-cased; a value matching its integer pattern becomes an int,
    its decimal pattern a float, anything else a string; a comment alone makes a COMMENT card.
    Unlike libindi: a ',' decimal mark is honoured (std::stod stops there), '/' in strings is kept
    (libindi turns it into '\\'), and keywords cfitsio would write as HIERARCH are refused.
    Raises ValueRejected for anything that cannot go into a header.  INDI_CLEAR is the caller's.
    """
    keyword = name.strip().upper()
    if not (keyword or value or comment):
        raise _reject("cannot add an empty FITS record")
    if not value:
        if not comment:
            raise _reject(f"record {keyword} has neither a value nor a comment")
        _reject_unless_text(comment)
        return FitsRecord("COMMENT", None, comment)
    if not keyword:
        raise _reject("a value needs a keyword name")
    if not is_settable_keyword(keyword):
        raise _reject(f"{keyword!r} is not a usable FITS keyword")
    _reject_unless_text(comment)
    typed: int | float | str
    if _INTEGER_RE.fullmatch(value) and value not in ("+", "-"):
        typed = int(value)
        if abs(typed) >= _INT64_LIMIT:  # libindi's std::stol throws and it stores the text
            typed = value
    elif _DOUBLE_RE.fullmatch(value):
        typed = float(value.replace(",", "."))
    else:
        _reject_unless_text(value)
        if len(value.replace("'", "''")) > MAX_STRING_CHARS:
            raise _reject(f"{keyword} value longer than a FITS card holds")
        typed = value
    return FitsRecord(keyword, typed, comment)


def text_record(keyword: str, text: str, comment: str) -> FitsRecord:
    """A string record, as libindi 1.9 wrote FITS_OBSERVER / FITS_OBJECT (fits_update_key_str).

    Raises ValueRejected unless `text` fits in one card as printable ASCII.
    """
    _reject_unless_text(text)
    if len(text.replace("'", "''")) > MAX_STRING_CHARS:
        raise _reject(f"{keyword} value longer than a FITS card holds")
    return FitsRecord(keyword, text, comment)
