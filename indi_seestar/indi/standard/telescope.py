"""Standard mount properties (INDI::Telescope and the guider interface) (layer indi/).

Must not import protocol/, seestar/, devices/ or sim/.
"""

from __future__ import annotations

from collections.abc import Sequence

from indi_seestar.indi.model import NumberVector, Perm, Rule, SwitchVector, TextVector
from indi_seestar.indi.standard._build import (
    MAIN_CONTROL,
    MOTION,
    OPTIONS,
    SEXAGESIMAL,
    SITE,
    abort_button,
    choice,
    numbers,
    one_number,
    switches,
    texts,
)

DEFAULT_TRACK_MODES = (
    ("TRACK_SIDEREAL", "Sidereal"),
    ("TRACK_SOLAR", "Solar"),
    ("TRACK_LUNAR", "Lunar"),
)


def _ra_dec(
    device: str, name: str, label: str, group: str, ra_hours: float, dec_deg: float, perm: Perm
) -> NumberVector:
    members = [
        one_number("RA", "RA (hh:mm:ss)", SEXAGESIMAL, 0, 24, 0, ra_hours),
        one_number("DEC", "DEC (dd:mm:ss)", SEXAGESIMAL, -90, 90, 0, dec_deg),
    ]
    return numbers(device, name, label, group, members, perm=perm)


def equatorial_eod_coord(device: str, ra_hours: float = 0.0, dec_deg: float = 0.0) -> NumberVector:
    """EQUATORIAL_EOD_COORD (JNow): RA (h, 0..24), DEC (deg); its state is the mount status."""
    return _ra_dec(
        device, "EQUATORIAL_EOD_COORD", "Eq. Coordinates", MAIN_CONTROL, ra_hours, dec_deg, Perm.RW
    )


def target_eod_coord(device: str, ra_hours: float = 0.0, dec_deg: float = 0.0) -> NumberVector:
    """TARGET_EOD_COORD (ro): RA, DEC of the slew target."""
    return _ra_dec(device, "TARGET_EOD_COORD", "Slew Target", MOTION, ra_hours, dec_deg, Perm.RO)


def on_coord_set(
    device: str, *, slew: bool = True, sync: bool = True, flip: bool = False
) -> SwitchVector:
    """ON_COORD_SET: TRACK[, SLEW][, SYNC][, FLIP], TRACK On."""
    options = [("TRACK", "Track")]
    options += [("SLEW", "Slew")] if slew else []
    options += [("SYNC", "Sync")] if sync else []
    options += [("FLIP", "Flip")] if flip else []
    return choice(device, "ON_COORD_SET", "On Set", MAIN_CONTROL, options, 0)


def telescope_abort_motion(device: str) -> SwitchVector:
    """TELESCOPE_ABORT_MOTION (AtMostOne button): ABORT."""
    return abort_button(device, "TELESCOPE_ABORT_MOTION", "Abort Motion", MAIN_CONTROL)


def telescope_park(device: str, parked: bool | None = None) -> SwitchVector:
    """TELESCOPE_PARK: PARK, UNPARK (both Off while `parked` is None)."""
    members = [("PARK", "Park(ed)", parked is True), ("UNPARK", "UnPark(ed)", parked is False)]
    return switches(device, "TELESCOPE_PARK", "Parking", MAIN_CONTROL, Rule.ONE_OF_MANY, members)


def telescope_track_state(device: str, tracking: bool = False) -> SwitchVector:
    """TELESCOPE_TRACK_STATE: TRACK_ON, TRACK_OFF."""
    return choice(
        device,
        "TELESCOPE_TRACK_STATE",
        "Tracking",
        MAIN_CONTROL,
        [("TRACK_ON", "On"), ("TRACK_OFF", "Off")],
        0 if tracking else 1,
        timeout_s=0,
    )


def telescope_track_mode(
    device: str, modes: Sequence[tuple[str, str]] = DEFAULT_TRACK_MODES, current: int = 0
) -> SwitchVector:
    """TELESCOPE_TRACK_MODE: the given (name, label) modes (TRACK_SIDEREAL, ...), `current` On."""
    return choice(
        device, "TELESCOPE_TRACK_MODE", "Track Mode", MAIN_CONTROL, modes, current, timeout_s=0
    )


def telescope_motion_ns(device: str) -> SwitchVector:
    """TELESCOPE_MOTION_NS (AtMostOne): MOTION_NORTH, MOTION_SOUTH."""
    members = [("MOTION_NORTH", "North", False), ("MOTION_SOUTH", "South", False)]
    return switches(device, "TELESCOPE_MOTION_NS", "Motion N/S", MOTION, Rule.AT_MOST_ONE, members)


def telescope_motion_we(device: str) -> SwitchVector:
    """TELESCOPE_MOTION_WE (AtMostOne): MOTION_WEST, MOTION_EAST."""
    members = [("MOTION_WEST", "West", False), ("MOTION_EAST", "East", False)]
    return switches(device, "TELESCOPE_MOTION_WE", "Motion W/E", MOTION, Rule.AT_MOST_ONE, members)


def telescope_slew_rate(
    device: str, rates: Sequence[tuple[str, str]], current: int
) -> SwitchVector:
    """TELESCOPE_SLEW_RATE: the caller's (name, label) rates (>= 4, labels shown), `current` On."""
    return choice(device, "TELESCOPE_SLEW_RATE", "Slew Rate", MOTION, rates, current, timeout_s=0)


def _timed_guide(
    device: str, name: str, label: str, members: Sequence[tuple[str, str]], max_ms: float
) -> NumberVector:
    # A duration, not a count: libindi truncates a fractional pulse, so it is accepted here.
    items = [one_number(n, lab, "%.f", 0, max_ms, 100, 0, whole_numbers=False)
             for n, lab in members]
    return numbers(device, name, label, MOTION, items)


def telescope_timed_guide_ns(device: str, max_ms: float = 60000) -> NumberVector:
    """TELESCOPE_TIMED_GUIDE_NS: TIMED_GUIDE_N, TIMED_GUIDE_S (ms)."""
    return _timed_guide(
        device,
        "TELESCOPE_TIMED_GUIDE_NS",
        "Guide N/S",
        [("TIMED_GUIDE_N", "North (ms)"), ("TIMED_GUIDE_S", "South (ms)")],
        max_ms,
    )


def telescope_timed_guide_we(device: str, max_ms: float = 60000) -> NumberVector:
    """TELESCOPE_TIMED_GUIDE_WE: TIMED_GUIDE_W, TIMED_GUIDE_E (ms)."""
    return _timed_guide(
        device,
        "TELESCOPE_TIMED_GUIDE_WE",
        "Guide E/W",
        [("TIMED_GUIDE_W", "West (ms)"), ("TIMED_GUIDE_E", "East (ms)")],
        max_ms,
    )


def guide_rate(device: str, we_sidereal: float = 0.5, ns_sidereal: float = 0.5) -> NumberVector:
    """GUIDE_RATE: GUIDE_RATE_WE, GUIDE_RATE_NS (x sidereal, 0..1)."""
    members = [
        one_number("GUIDE_RATE_WE", "W/E Rate", "%g", 0, 1, 0.1, we_sidereal),
        one_number("GUIDE_RATE_NS", "N/S Rate", "%g", 0, 1, 0.1, ns_sidereal),
    ]
    return numbers(device, "GUIDE_RATE", "Guiding Rate", MOTION, members, timeout_s=0)


def geographic_coord(
    device: str, lat_deg: float = 0.0, long_deg_east: float = 0.0, elev_m: float = 0.0
) -> NumberVector:
    """GEOGRAPHIC_COORD: LAT (deg), LONG (deg east, 0..360), ELEV (m)."""
    members = [
        one_number("LAT", "Lat (dd:mm:ss.s)", "%012.8m", -90, 90, 0, lat_deg),
        one_number("LONG", "Lon (dd:mm:ss.s)", "%012.8m", 0, 360, 0, long_deg_east),
        one_number("ELEV", "Elevation (m)", "%g", -200, 10000, 0, elev_m),
    ]
    return numbers(device, "GEOGRAPHIC_COORD", "Scope Location", SITE, members)


def time_utc(device: str, utc: str = "", offset_hours: str = "") -> TextVector:
    """TIME_UTC: UTC (`YYYY-MM-DDTHH:MM:SS`), OFFSET (hours as text), in this order."""
    members = [("UTC", "UTC Time", utc), ("OFFSET", "UTC Offset", offset_hours)]
    return texts(device, "TIME_UTC", "UTC", SITE, members)


def horizontal_coord(device: str, *, perm: Perm = Perm.RO) -> NumberVector:
    """HORIZONTAL_COORD: AZ (deg 0..360), ALT (deg -90..90)."""
    members = [
        one_number("AZ", "Az D:M:S", "%10.6m", 0, 360, 0, 0),
        one_number("ALT", "Alt D:M:S", "%10.6m", -90, 90, 0, 0),
    ]
    return numbers(
        device,
        "HORIZONTAL_COORD",
        "Horizontal Coords",
        MAIN_CONTROL,
        members,
        perm=perm,
        timeout_s=120,
    )


def telescope_info(
    device: str,
    aperture_mm: float,
    focal_length_mm: float,
    guider_aperture_mm: float | None = None,
    guider_focal_length_mm: float | None = None,
) -> NumberVector:
    """TELESCOPE_INFO (legacy, mm): TELESCOPE_APERTURE, TELESCOPE_FOCAL_LENGTH, GUIDER_APERTURE,
    GUIDER_FOCAL_LENGTH.

    The guider values default to the main scope's (libindi's ranges start at 10 mm).
    """
    guider_aperture_mm = aperture_mm if guider_aperture_mm is None else guider_aperture_mm
    if guider_focal_length_mm is None:
        guider_focal_length_mm = focal_length_mm
    members = [
        one_number("TELESCOPE_APERTURE", "Aperture (mm)", "%g", 10, 5000, 0, aperture_mm),
        one_number(
            "TELESCOPE_FOCAL_LENGTH", "Focal Length (mm)", "%g", 10, 10000, 0, focal_length_mm
        ),
        one_number(
            "GUIDER_APERTURE", "Guider Aperture (mm)", "%g", 10, 5000, 0, guider_aperture_mm
        ),
        one_number(
            "GUIDER_FOCAL_LENGTH",
            "Guider Focal Length (mm)",
            "%g",
            10,
            10000,
            0,
            guider_focal_length_mm,
        ),
    ]
    return numbers(device, "TELESCOPE_INFO", "Scope Properties", OPTIONS, members)


def telescope_pier_side(device: str) -> SwitchVector:
    """TELESCOPE_PIER_SIDE (ro, AtMostOne): PIER_WEST, PIER_EAST (both Off = unknown)."""
    members = [
        ("PIER_WEST", "West (pointing east)", False),
        ("PIER_EAST", "East (pointing west)", False),
    ]
    return switches(
        device,
        "TELESCOPE_PIER_SIDE",
        "Pier Side",
        MAIN_CONTROL,
        Rule.AT_MOST_ONE,
        members,
        perm=Perm.RO,
    )


def telescope_mount_type(device: str, mount_type: str = "ALTAZ") -> SwitchVector:
    """TELESCOPE_MOUNT_TYPE (ro): ALTAZ, EQ_FORK, EQ_GEM with `mount_type` On."""
    types = (("ALTAZ", "ALTAZ"), ("EQ_FORK", "Fork (Eq)"), ("EQ_GEM", "GEM"))
    members = [(n, lab, n == mount_type) for n, lab in types]
    return switches(
        device,
        "TELESCOPE_MOUNT_TYPE",
        "Mount Type",
        MOTION,
        Rule.ONE_OF_MANY,
        members,
        perm=Perm.RO,
    )
