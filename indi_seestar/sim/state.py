"""State of the fake Seestar: what a real S50/S30 knows about itself, readable by tests.

Layer: sim (plain data plus the pure mount/focuser/wheel models; no asyncio, no sockets).
`SimState` is the single source of truth; the RPC handlers read it to build replies and the
long operations (usecases) change it while emitting events.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from . import sky
from .clock import SimClock
from .motors import Focuser, Wheel
from .mount import AxisAnchor, Mount, MountState, PARK_AXES, SkyAnchor
from .profile import Profile

#: Default site (lat, lon east) until set_user_location: a mid-latitude European site.
DEFAULT_LAT_DEG = 48.1
DEFAULT_LON_DEG = 11.6
DEFAULT_GAIN = 80


def default_settings(profile: Profile) -> dict[str, Any]:
    """The `setting` object as the recorded firmware reports it (S50 6.70 / S30 7.06 shapes)."""
    stack: dict[str, Any] = {
        "dbe": False, "star_correction": True, "airplane_line_removal": False, "drizzle2x": False,
        "wide_denoise": False, "cont_capt": False, "capt_type": "stack",
    }
    if profile.reports_3ppa_offsets:
        stack["goto"] = True
    stack.update({
        "save_discrete_frame": False, "save_discrete_ok_frame": True, "capt_num": 50,
        "light_duration_min": -1, "brightness": 0.0, "contrast": 0.0, "saturation": 0.0,
        "dbe_enable": False,
    })
    mosaic = {"scale": 1.0, "angle": 0.0, "estimated_hours": 0.258333, "star_map_angle": 361.0,
              "star_map_ratio": 1.0}
    s: dict[str, Any] = {
        "temp_unit": "C", "beep_volume": "close", "lang": "en", "center_xy": [540, 960],
        "stack_lenhance": False, "heater_enable": False, "expt_heater_enable": False,
        "auto_power_off": False, "auto_af": False, "frame_calib": True,
    }
    if profile.has_setting("auto_lenhance"):
        s["auto_lenhance"] = False  # 7.75+ (seestar_alp 294d709); its place in the object is a guess
    if profile.reports_3ppa_offsets:
        s["effect_offset_deg"] = [0.0, 0.0]
        s["offset_deg_3ppa"] = [0.0, 0.0]
    s.update({
        "calib_location": 2, "wide_cam": False,
        # Recorded: False on the S50 6.70 (ALP had switched it off), True on the S30 7.06.
        "stack_after_goto": profile.ver_int >= 2700,
        "wide_4k": True, "guest_mode": False, "user_stack_sim": False, "usb_en_eth": False,
        "dark_mode": False, "plan_target_af": False, "viewplan_gohome": True, "remote_joined": False,
        "auto_3ppa_calib": True, "expert_mode": profile.model == "S50", "wifi_country": "",
        "mosaic": dict(mosaic), "stack": stack, "ae_bri_percent": 50.0, "manual_exp": False,
        "isp_exp_ms": -999000.0, "isp_gain": -9990.0, "isp_range_gain": [0, 400],
        "isp_range_exp_us": [30, 1000000], "isp_range_exp_us_scenery": [30, 1000000],
        "focal_pos": profile.factory_focus_steps, "factory_focal_pos": profile.factory_focus_steps,
        "stack_dither": {"pix": 100, "interval": 5, "enable": True},
        "exp_ms": {"stack_l": 10000, "continuous": 500},
    })
    if profile.has_second_camera:
        s["second_camera"] = {
            "wide_cross_offset": [0, 0], "wide_cross_offset_show": [0, 0],
            "mosaic": dict(mosaic, estimated_hours=0.033333), "stack": copy.deepcopy(stack),
            "ae_bri_percent": 50.0, "manual_exp": False, "isp_exp_ms": -999000.0,
            "isp_gain": -9990.0, "isp_range_gain": [0, 400], "isp_range_exp_us": [30, 1000000],
            "isp_range_exp_us_scenery": [30, 1000000], "focal_pos": -1, "factory_focal_pos": -1,
            "stack_dither": {"pix": 200, "interval": 5, "enable": True},
            "exp_ms": {"stack_l": 10000, "continuous": 1000},
        }
    return s


@dataclass
class StageInfo:
    """One View stage (ContinuousExposure, AutoGoto, Stack, ...) as get_view_state shows it."""

    state: str
    t_start_s: float
    t_end_s: float | None = None
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass
class ViewInfo:
    """The View session (iscope_start_view / iscope_stop_view)."""

    state: str = "idle"  # boot value [unverified]; working / cancel / complete afterwards
    mode: str = "none"
    t_start_s: float = 0.0
    t_end_s: float | None = None
    target_ra_dec: list[float] | None = None
    target_name: str | None = None
    stage: str | None = None
    stages: dict[str, StageInfo] = field(default_factory=dict)

    @property
    def active(self) -> bool:
        """A star View is running."""
        return self.state == "working" and self.mode != "none"


@dataclass
class StackInfo:
    """Live stack: counters and the running RGB sum (float32, height x width x 3)."""

    running: bool = False
    t_start_s: float = 0.0
    stacked_frames: int = 0
    dropped_frames: int = 0
    total_frames: int = 0
    rgb_sum: np.ndarray | None = None
    target_name: str = "Stack"

    def has_image(self) -> bool:
        """True once one sub has been stacked."""
        return self.rgb_sum is not None and self.stacked_frames > 0


@dataclass
class ClientInfo:
    """One control connection as the scope knows it (for `client` and discovery)."""

    index: int
    name: str
    verified: bool = False
    is_master: bool = False


@dataclass
class SimState:
    """Everything the fake knows; tests read it (true pointing: `state.mount.radec()`)."""

    profile: Profile
    clock: SimClock
    mount: Mount
    focuser: Focuser
    wheel: Wheel
    settings: dict[str, Any]
    best_focus_steps: int
    gain: int = DEFAULT_GAIN
    heater_value: int = 0
    view: ViewInfo = field(default_factory=ViewInfo)
    stack: StackInfo = field(default_factory=StackInfo)
    last_solve: dict[str, Any] | None = None
    image_id: int = 0
    serial: str = "00000000"
    board_temp_c: float = 45.0
    battery_percent: int = 80
    #: Power and storage (sim/power.py): exact charge, charger plugged in, battery temperature.
    battery_level: float = 80.0
    charger_online: bool = False
    battery_temp_c: float = 25.0
    storage_total_mb: float = 51854.0
    storage_free_mb: float = 43862.0
    #: Polar misalignment of the wedge in EQ mode, (alt, az) arcmin (sim/usecases_polar.py).
    polar_error_arcmin: tuple[float, float] = (18.0, -27.0)
    clients: dict[int, ClientInfo] = field(default_factory=dict)

    @classmethod
    def boot(cls, profile: Profile, clock: SimClock, *, seed: int = 1, parked: bool = True,
             equ_mode: bool = False, lat_deg: float = DEFAULT_LAT_DEG,
             lon_deg: float = DEFAULT_LON_DEG) -> SimState:
        """A freshly booted scope: arm closed (parked) unless told otherwise, alt-az mode."""
        rng = np.random.default_rng(seed)
        focus = profile.factory_focus_steps

        def lst(t_s: float, lon: float) -> float:
            return sky.lst_deg(clock.utc_at(t_s), lon)

        anchor: SkyAnchor | AxisAnchor = AxisAnchor(*PARK_AXES)
        if not parked:
            anchor = AxisAnchor(180.0, 45.0) if not equ_mode else AxisAnchor(0.0, lat_deg - 45.0)
        mstate = MountState(anchor=anchor, equ_mode=equ_mode, tracking=False, parked=parked,
                            lat_deg=lat_deg, lon_deg=lon_deg)
        return cls(
            profile=profile, clock=clock, mount=Mount(clock.now_s, lst, mstate),
            focuser=Focuser(clock.now_s, focus), wheel=Wheel(1),
            settings=default_settings(profile),
            best_focus_steps=focus + int(rng.integers(-40, 41)),
        )

    # --- derived values used by several modules ------------------------------------------

    @property
    def continuous_exposure_ms(self) -> float:
        """Live-preview exposure length."""
        return float(self.settings["exp_ms"]["continuous"])

    @property
    def stack_exposure_ms(self) -> float:
        """Stack sub length."""
        return float(self.settings["exp_ms"]["stack_l"])

    @property
    def lp_filter(self) -> bool:
        """The LP filter is wanted (stack_lenhance)."""
        return bool(self.settings.get("stack_lenhance", False))

    def next_image_id(self) -> int:
        """A new image id (frames, solves)."""
        self.image_id += 1
        return self.image_id

    def master_index(self) -> int:
        """Index of the master connection, -1 when none."""
        return next((c.index for c in self.clients.values() if c.is_master), -1)
