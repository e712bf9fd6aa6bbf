"""Standard INDI properties: one factory per property, libindi names and element order (layer indi/).

Use as `from indi_seestar.indi import standard as std; std.abs_focus_position(name, ...)`.
Must not import protocol/, seestar/, devices/ or sim/.
"""

from indi_seestar.indi.standard._build import (
    CONNECTION_GROUP,
    FILTER_WHEEL,
    GENERAL_INFO,
    IMAGE_INFO,
    IMAGE_SETTINGS,
    MAIN_CONTROL,
    MOTION,
    OPTIONS,
    SITE,
    Interface,
)
from indi_seestar.indi.standard.ccd import (
    FRAME_TYPES,
    ccd1,
    ccd_abort_exposure,
    ccd_binning,
    ccd_capture_format,
    ccd_cfa,
    ccd_exposure,
    ccd_file_path,
    ccd_frame,
    ccd_frame_reset,
    ccd_frame_type,
    ccd_gain,
    ccd_info,
    ccd_temperature,
    ccd_transfer_format,
    fits_header,
    scope_info,
    upload_mode,
    upload_settings,
)
from indi_seestar.indi.standard.common import (
    active_devices,
    config_process,
    connection,
    debug,
    device_address,
    driver_info,
    polling_period,
    simulation,
)
from indi_seestar.indi.standard.focuser import (
    abs_focus_position,
    filter_name,
    filter_slot,
    focus_abort_motion,
    focus_max,
    focus_motion,
    rel_focus_position,
)
from indi_seestar.indi.standard.telescope import (
    DEFAULT_TRACK_MODES,
    equatorial_eod_coord,
    geographic_coord,
    guide_rate,
    horizontal_coord,
    on_coord_set,
    target_eod_coord,
    telescope_abort_motion,
    telescope_info,
    telescope_motion_ns,
    telescope_motion_we,
    telescope_mount_type,
    telescope_park,
    telescope_pier_side,
    telescope_slew_rate,
    telescope_timed_guide_ns,
    telescope_timed_guide_we,
    telescope_track_mode,
    telescope_track_state,
    time_utc,
)

__all__ = [
    "CONNECTION_GROUP", "FILTER_WHEEL", "GENERAL_INFO", "IMAGE_INFO", "IMAGE_SETTINGS",
    "MAIN_CONTROL", "MOTION", "OPTIONS", "SITE", "Interface", "FRAME_TYPES", "DEFAULT_TRACK_MODES",
    "ccd1", "ccd_abort_exposure", "ccd_binning", "ccd_capture_format", "ccd_cfa", "ccd_exposure",
    "ccd_file_path", "ccd_frame", "ccd_frame_reset", "ccd_frame_type", "ccd_gain", "ccd_info",
    "ccd_temperature", "ccd_transfer_format", "fits_header", "scope_info", "upload_mode",
    "upload_settings", "active_devices", "config_process", "connection", "debug", "device_address",
    "driver_info", "polling_period", "simulation", "abs_focus_position", "filter_name",
    "filter_slot", "focus_abort_motion", "focus_max", "focus_motion", "rel_focus_position",
    "equatorial_eod_coord", "geographic_coord", "guide_rate", "horizontal_coord", "on_coord_set",
    "target_eod_coord", "telescope_abort_motion", "telescope_info", "telescope_motion_ns",
    "telescope_motion_we", "telescope_mount_type", "telescope_park", "telescope_pier_side",
    "telescope_slew_rate", "telescope_timed_guide_ns", "telescope_timed_guide_we",
    "telescope_track_mode", "telescope_track_state", "time_utc",
]
