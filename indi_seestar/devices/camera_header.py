"""What clients of both libindi generations write into the camera's FITS files (issue 13).

Layer: devices (helpers the camera owns; they get values, never the camera).
- `HeaderRecords`: FITS_HEADER as libindi >= 2.0.1 defines it (KEYWORD_NAME / KEYWORD_VALUE /
  KEYWORD_COMMENT, one record per message, INDI_CLEAR clears) and as libindi 1.9 did
  (FITS_OBSERVER, FITS_OBJECT, which KStars 3.6 fills by name), both in one vector: each part
  is applied when filled, and a message with everything empty (KStars 3.6 sends the three
  2.x elements empty with its own) is ignored quietly.
- `OpticsCheck`: SCOPE_INFO set by a client is kept, as libindi keeps it, but a value other
  than the scope's own optics gets one warning naming them (Ekos's optical train defaults
  to a sample scope).
"""

from __future__ import annotations

from collections.abc import Mapping

from ..fits import CLEAR_KEYWORD, FitsRecord, client_record, text_record

#: The 2.x elements, in the order clients write them by index.
KEYWORD_ELEMENTS = ("KEYWORD_NAME", "KEYWORD_VALUE", "KEYWORD_COMMENT")
#: libindi 1.9's elements: (element, keyword, comment), as its CCD::addFITSKeywords wrote them.
LEGACY_ELEMENTS = (("FITS_OBSERVER", "OBSERVER", "Observer name"),
                   ("FITS_OBJECT", "OBJECT", "Object name"))
#: Within this (mm), a client's SCOPE_INFO is taken to be the scope's own optics.
OPTICS_TOLERANCE_MM = 1.0


class HeaderRecords:
    """The custom header records in force, in the order they were first given."""

    def __init__(self) -> None:
        self._records: dict[str, FitsRecord] = {}

    def records(self) -> tuple[FitsRecord, ...]:
        """The records, oldest first (a replaced record moves to the end)."""
        return tuple(self._records.values())

    def apply(self, values: Mapping[str, str]) -> str | None:
        """Apply one FITS_HEADER message; an INFO text to send, or None.

        The 2.x record first, then the 1.9 elements. ValueRejected (nothing changed) when a
        filled part cannot go into a header.
        """
        name, value, comment = (values.get(e, "").strip() for e in KEYWORD_ELEMENTS)
        clear = name.upper() == CLEAR_KEYWORD
        new: list[FitsRecord] = []
        if (name or value or comment) and not clear:
            new.append(client_record(name, value, comment))
        for element, keyword, card_comment in LEGACY_ELEMENTS:
            text = values.get(element, "").strip()
            if text:
                new.append(text_record(keyword, text, card_comment))
        if clear:
            self._records.clear()
        for record in new:
            self._records.pop(record.store_key, None)
            self._records[record.store_key] = record
        return "Custom FITS headers cleared." if clear else None


class OpticsCheck:
    """Warns once per distinct SCOPE_INFO that differs from the scope's own optics."""

    def __init__(self) -> None:
        self._warned: set[tuple[float, float, str]] = set()

    def warning(self, focal_mm: float, aperture_mm: float, *, scope_focal_mm: float,
                scope_aperture_mm: float, model: str) -> str | None:
        """The warning for a client's (focal, aperture), or None (matching, unknown, or told)."""
        if scope_focal_mm <= 0 or (focal_mm <= 0 and aperture_mm <= 0):
            return None  # the scope's optics unknown, or the client's unset (libindi: 0)
        off = (abs(focal_mm - scope_focal_mm) > OPTICS_TOLERANCE_MM
               or abs(aperture_mm - scope_aperture_mm) > OPTICS_TOLERANCE_MM)
        key = (round(focal_mm, 1), round(aperture_mm, 1), model)
        if not off or key in self._warned:
            return None
        self._warned.add(key)
        scope = model or "this Seestar"
        ratio = f" (f/{scope_focal_mm / scope_aperture_mm:.1f})" if scope_aperture_mm > 0 else ""
        return (f"SCOPE_INFO set to focal length {focal_mm:g} mm, aperture {aperture_mm:g} mm, "
                f"but {scope} has {scope_focal_mm:g} mm, {scope_aperture_mm:g} mm{ratio}; "
                f"FOCALLEN, APTDIA and SCALE "
                f"in the FITS header follow SCOPE_INFO. In Ekos, set the optical train's "
                f"scope to {scope_focal_mm:g} mm / {scope_aperture_mm:g} mm.")
