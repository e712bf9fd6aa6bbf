"""Standard properties: names, element order (clients index some of them), perms, rules, labels."""

from __future__ import annotations

import pytest

from indi_seestar.indi import standard as std
from indi_seestar.indi.model import Kind, Perm, Rule, SwitchVector, Vector

D = "Dev"

ALL: list[Vector] = [
    std.connection(D),
    std.driver_info(D, name="n", exec_name="e", version="1", interface=5),
    std.debug(D),
    std.simulation(D),
    std.config_process(D),
    std.polling_period(D),
    std.device_address(D, "10.0.0.1", "4700"),
    std.active_devices(
        D,
        {
            "ACTIVE_TELESCOPE": "M",
            "ACTIVE_ROTATOR": "",
            "ACTIVE_FOCUSER": "F",
            "ACTIVE_FILTER": "W",
            "ACTIVE_SKYQUALITY": "",
        },
    ),
    std.equatorial_eod_coord(D),
    std.target_eod_coord(D),
    std.on_coord_set(D),
    std.telescope_abort_motion(D),
    std.telescope_park(D),
    std.telescope_track_state(D),
    std.telescope_track_mode(D),
    std.telescope_motion_ns(D),
    std.telescope_motion_we(D),
    std.telescope_slew_rate(
        D, [("1x", "Guide"), ("2x", "Centering"), ("3x", "Find"), ("4x", "Max")], 1
    ),
    std.telescope_timed_guide_ns(D),
    std.telescope_timed_guide_we(D),
    std.guide_rate(D),
    std.geographic_coord(D),
    std.time_utc(D),
    std.horizontal_coord(D),
    std.telescope_info(D, 50, 250),
    std.telescope_pier_side(D),
    std.telescope_mount_type(D),
    std.ccd_exposure(D),
    std.ccd_abort_exposure(D),
    std.ccd1(D),
    std.ccd_info(D, 1080, 1920, 2.9, 16),
    std.ccd_frame(D, 1080, 1920),
    std.ccd_binning(D),
    std.ccd_frame_type(D),
    std.ccd_frame_reset(D),
    std.ccd_cfa(D, "GRBG"),
    std.ccd_temperature(D),
    std.ccd_gain(D, 0, 120, 1, 80),
    std.ccd_controls_gain(D, 0, 120, 1, 80),
    std.ccd_compression(D),
    std.ccd_capture_format(D, [("INDI_RAW", "RAW 16")]),
    std.ccd_transfer_format(D),
    std.upload_mode(D),
    std.upload_settings(D),
    std.ccd_file_path(D),
    std.fits_header(D),
    std.scope_info(D, 250, 50),
    std.abs_focus_position(D, max_steps=2600),
    std.rel_focus_position(D),
    std.focus_motion(D),
    std.focus_abort_motion(D),
    std.focus_max(D, 2600),
    std.filter_slot(D, 3),
    std.filter_name(D, ["Dark", "IR cut", "LP"]),
]

# name -> (kind, perm, rule or None, members in order); the order is what clients index
EXPECTED = {
    "CONNECTION": (Kind.SWITCH, Perm.RW, Rule.ONE_OF_MANY, ["CONNECT", "DISCONNECT"]),
    "DRIVER_INFO": (
        Kind.TEXT,
        Perm.RO,
        None,
        ["DRIVER_NAME", "DRIVER_EXEC", "DRIVER_VERSION", "DRIVER_INTERFACE"],
    ),
    "DEBUG": (Kind.SWITCH, Perm.RW, Rule.ONE_OF_MANY, ["ENABLE", "DISABLE"]),
    "SIMULATION": (Kind.SWITCH, Perm.RW, Rule.ONE_OF_MANY, ["ENABLE", "DISABLE"]),
    "CONFIG_PROCESS": (
        Kind.SWITCH,
        Perm.RW,
        Rule.AT_MOST_ONE,
        ["CONFIG_LOAD", "CONFIG_SAVE", "CONFIG_DEFAULT", "CONFIG_PURGE"],
    ),
    "POLLING_PERIOD": (Kind.NUMBER, Perm.RW, None, ["PERIOD_MS"]),
    "DEVICE_ADDRESS": (Kind.TEXT, Perm.RW, None, ["ADDRESS", "PORT"]),
    "ACTIVE_DEVICES": (
        Kind.TEXT,
        Perm.RW,
        None,
        [
            "ACTIVE_TELESCOPE",
            "ACTIVE_ROTATOR",
            "ACTIVE_FOCUSER",
            "ACTIVE_FILTER",
            "ACTIVE_SKYQUALITY",
        ],
    ),
    "EQUATORIAL_EOD_COORD": (Kind.NUMBER, Perm.RW, None, ["RA", "DEC"]),
    "TARGET_EOD_COORD": (Kind.NUMBER, Perm.RO, None, ["RA", "DEC"]),
    "ON_COORD_SET": (Kind.SWITCH, Perm.RW, Rule.ONE_OF_MANY, ["TRACK", "SLEW", "SYNC"]),
    "TELESCOPE_ABORT_MOTION": (Kind.SWITCH, Perm.RW, Rule.AT_MOST_ONE, ["ABORT"]),
    "TELESCOPE_PARK": (Kind.SWITCH, Perm.RW, Rule.ONE_OF_MANY, ["PARK", "UNPARK"]),
    "TELESCOPE_TRACK_STATE": (Kind.SWITCH, Perm.RW, Rule.ONE_OF_MANY, ["TRACK_ON", "TRACK_OFF"]),
    "TELESCOPE_TRACK_MODE": (
        Kind.SWITCH,
        Perm.RW,
        Rule.ONE_OF_MANY,
        ["TRACK_SIDEREAL", "TRACK_SOLAR", "TRACK_LUNAR"],
    ),
    "TELESCOPE_MOTION_NS": (
        Kind.SWITCH,
        Perm.RW,
        Rule.AT_MOST_ONE,
        ["MOTION_NORTH", "MOTION_SOUTH"],
    ),
    "TELESCOPE_MOTION_WE": (Kind.SWITCH, Perm.RW, Rule.AT_MOST_ONE, ["MOTION_WEST", "MOTION_EAST"]),
    "TELESCOPE_SLEW_RATE": (Kind.SWITCH, Perm.RW, Rule.ONE_OF_MANY, ["1x", "2x", "3x", "4x"]),
    "TELESCOPE_TIMED_GUIDE_NS": (Kind.NUMBER, Perm.RW, None, ["TIMED_GUIDE_N", "TIMED_GUIDE_S"]),
    "TELESCOPE_TIMED_GUIDE_WE": (Kind.NUMBER, Perm.RW, None, ["TIMED_GUIDE_W", "TIMED_GUIDE_E"]),
    "GUIDE_RATE": (Kind.NUMBER, Perm.RW, None, ["GUIDE_RATE_WE", "GUIDE_RATE_NS"]),
    "GEOGRAPHIC_COORD": (Kind.NUMBER, Perm.RW, None, ["LAT", "LONG", "ELEV"]),
    "TIME_UTC": (Kind.TEXT, Perm.RW, None, ["UTC", "OFFSET"]),
    "HORIZONTAL_COORD": (Kind.NUMBER, Perm.RO, None, ["AZ", "ALT"]),
    "TELESCOPE_INFO": (
        Kind.NUMBER,
        Perm.RW,
        None,
        ["TELESCOPE_APERTURE", "TELESCOPE_FOCAL_LENGTH", "GUIDER_APERTURE", "GUIDER_FOCAL_LENGTH"],
    ),
    "TELESCOPE_PIER_SIDE": (Kind.SWITCH, Perm.RO, Rule.AT_MOST_ONE, ["PIER_WEST", "PIER_EAST"]),
    "TELESCOPE_MOUNT_TYPE": (
        Kind.SWITCH,
        Perm.RO,
        Rule.ONE_OF_MANY,
        ["ALTAZ", "EQ_FORK", "EQ_GEM"],
    ),
    "CCD_EXPOSURE": (Kind.NUMBER, Perm.RW, None, ["CCD_EXPOSURE_VALUE"]),
    "CCD_ABORT_EXPOSURE": (Kind.SWITCH, Perm.RW, Rule.AT_MOST_ONE, ["ABORT"]),
    "CCD1": (Kind.BLOB, Perm.RO, None, ["CCD1"]),
    "CCD_INFO": (
        Kind.NUMBER,
        Perm.RO,
        None,
        [
            "CCD_MAX_X",
            "CCD_MAX_Y",
            "CCD_PIXEL_SIZE",
            "CCD_PIXEL_SIZE_X",
            "CCD_PIXEL_SIZE_Y",
            "CCD_BITSPERPIXEL",
        ],
    ),
    "CCD_FRAME": (Kind.NUMBER, Perm.RW, None, ["X", "Y", "WIDTH", "HEIGHT"]),
    "CCD_BINNING": (Kind.NUMBER, Perm.RW, None, ["HOR_BIN", "VER_BIN"]),
    "CCD_FRAME_TYPE": (
        Kind.SWITCH,
        Perm.RW,
        Rule.ONE_OF_MANY,
        ["FRAME_LIGHT", "FRAME_BIAS", "FRAME_DARK", "FRAME_FLAT"],
    ),
    "CCD_FRAME_RESET": (Kind.SWITCH, Perm.WO, Rule.ONE_OF_MANY, ["RESET"]),
    "CCD_CFA": (Kind.TEXT, Perm.RW, None, ["CFA_OFFSET_X", "CFA_OFFSET_Y", "CFA_TYPE"]),
    "CCD_TEMPERATURE": (Kind.NUMBER, Perm.RO, None, ["CCD_TEMPERATURE_VALUE"]),
    "CCD_GAIN": (Kind.NUMBER, Perm.RW, None, ["GAIN"]),
    "CCD_CAPTURE_FORMAT": (Kind.SWITCH, Perm.RW, Rule.ONE_OF_MANY, ["INDI_RAW"]),
    "CCD_TRANSFER_FORMAT": (
        Kind.SWITCH,
        Perm.RW,
        Rule.ONE_OF_MANY,
        ["FORMAT_FITS", "FORMAT_NATIVE"],
    ),
    "UPLOAD_MODE": (
        Kind.SWITCH,
        Perm.RW,
        Rule.ONE_OF_MANY,
        ["UPLOAD_CLIENT", "UPLOAD_LOCAL", "UPLOAD_BOTH"],
    ),
    "UPLOAD_SETTINGS": (Kind.TEXT, Perm.RW, None, ["UPLOAD_DIR", "UPLOAD_PREFIX"]),
    "CCD_FILE_PATH": (Kind.TEXT, Perm.RO, None, ["FILE_PATH"]),
    "FITS_HEADER": (
        Kind.TEXT,
        Perm.WO,
        None,
        ["KEYWORD_NAME", "KEYWORD_VALUE", "KEYWORD_COMMENT", "FITS_OBSERVER", "FITS_OBJECT"],
    ),
    "SCOPE_INFO": (Kind.NUMBER, Perm.RW, None, ["FOCAL_LENGTH", "APERTURE"]),
    "CCD_CONTROLS": (Kind.NUMBER, Perm.RW, None, ["Gain"]),
    "CCD_COMPRESSION": (Kind.SWITCH, Perm.RW, Rule.ONE_OF_MANY, ["INDI_ENABLED", "INDI_DISABLED"]),
    "ABS_FOCUS_POSITION": (Kind.NUMBER, Perm.RW, None, ["FOCUS_ABSOLUTE_POSITION"]),
    "REL_FOCUS_POSITION": (Kind.NUMBER, Perm.RW, None, ["FOCUS_RELATIVE_POSITION"]),
    "FOCUS_MOTION": (Kind.SWITCH, Perm.RW, Rule.ONE_OF_MANY, ["FOCUS_INWARD", "FOCUS_OUTWARD"]),
    "FOCUS_ABORT_MOTION": (Kind.SWITCH, Perm.RW, Rule.AT_MOST_ONE, ["ABORT"]),
    "FOCUS_MAX": (Kind.NUMBER, Perm.RW, None, ["FOCUS_MAX_VALUE"]),
    "FILTER_SLOT": (Kind.NUMBER, Perm.RW, None, ["FILTER_SLOT_VALUE"]),
    "FILTER_NAME": (
        Kind.TEXT,
        Perm.RW,
        None,
        ["FILTER_SLOT_NAME_1", "FILTER_SLOT_NAME_2", "FILTER_SLOT_NAME_3"],
    ),
}


def test_every_factory_is_checked_once() -> None:
    assert sorted(v.name for v in ALL) == sorted(EXPECTED)


@pytest.mark.parametrize("vector", ALL, ids=lambda v: v.name)
def test_name_kind_perm_rule_and_element_order(vector: Vector) -> None:
    kind, perm, rule, members = EXPECTED[vector.name]
    assert (vector.kind, vector.perm, list(vector)) == (kind, perm, members)
    assert vector.device == D and vector.label and vector.group
    assert getattr(vector, "rule", None) == rule


@pytest.mark.parametrize(
    "vector", [v for v in ALL if isinstance(v, SwitchVector)], ids=lambda v: v.name
)
def test_one_of_many_switches_start_valid(vector: SwitchVector) -> None:
    on = vector.on_names()
    if vector.rule is Rule.ONE_OF_MANY and vector.name not in ("TELESCOPE_PARK", "CCD_FRAME_RESET"):
        assert len(on) == 1
    elif vector.rule is Rule.AT_MOST_ONE:
        assert len(on) <= 1


@pytest.mark.parametrize("vector", [v for v in ALL if v.kind is Kind.NUMBER], ids=lambda v: v.name)
def test_number_defaults_lie_within_their_ranges(vector: Vector) -> None:
    for m in vector.members:
        assert m.min <= m.max
        assert m.min == m.max or m.min <= m.value <= m.max, m.name


def test_driver_interface_is_decimal_bits() -> None:
    info = std.driver_info(
        D,
        name="Seestar",
        exec_name="indi_seestar",
        version="0.1",
        interface=std.Interface.TELESCOPE | std.Interface.GUIDER,
    )
    assert info["DRIVER_INTERFACE"] == "5"


def test_labels_clients_select_by() -> None:
    assert [m.label for m in std.ccd_transfer_format(D).members] == ["FITS", "Native"]
    assert std.ccd_exposure(D).member("CCD_EXPOSURE_VALUE").label == "Duration (s)"
    assert std.equatorial_eod_coord(D).member("RA").format == "%010.6m"
    assert std.ccd1(D).members[0].name == "CCD1"


def test_optional_coord_set_members_keep_their_order() -> None:
    assert list(std.on_coord_set(D, slew=False, flip=True)) == ["TRACK", "SYNC", "FLIP"]


def test_filter_names_and_slot_range_agree() -> None:
    names = ["Dark", "IR", "LP"]
    slot, labels = std.filter_slot(D, len(names)), std.filter_name(D, names)
    assert slot.member("FILTER_SLOT_VALUE").max == len(labels) == 3
    assert [m.label for m in labels.members] == ["Filter#1", "Filter#2", "Filter#3"]
