"""Model and firmware profiles of the fake Seestar (S50 / S30 / S50P / S30P; firmware 6.70 ...
7.75, 8.46).

Layer: sim. Pure data. The model (`Sensor`, optics, wide camera) and the firmware number are
separate knobs. The firmware number drives the protocol rules of seestar-protocol.md §2.7 and
§6 and of docs/firmware.md (2026 firmware): firmware_ver_int = 2000 + 100*major + minor. Where
each model fact comes from (and how sure it is) is in docs/models.md.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

from ..errors import ConfigError
from ..protocol import firmware as fw
from ..protocol.methods import Method

#: S50 / S30 main camera (get_device_state.camera in the S50 6.70 and S30 7.06 recordings).
CHIP_WIDTH_PX = 1080
CHIP_HEIGHT_PX = 1920
PIXEL_SIZE_UM = 2.9
FOCUSER_MAX_STEPS = 2600
WHEEL_SLOT_NAMES = ("Dark", "IR", "LP")


@dataclass(frozen=True, slots=True)
class Sensor:
    """One camera as get_device_state reports it: chip_size [width, height], pixel_size_um, CFA."""

    width_px: int
    height_px: int
    pixel_size_um: float
    debayer_pattern: str  # the firmware's two letters: "GR" = GRBG, "RG" = RGGB

    def section(self, hot_pixels: int) -> dict[str, object]:
        """The `camera` / `second_camera` section of get_device_state, in the recorded key order."""
        return {"chip_size": [self.width_px, self.height_px], "pixel_size_um": self.pixel_size_um,
                "debayer_pattern": self.debayer_pattern, "hpc_num": hot_pixels}


#: IMX462 (S50) / IMX662 (S30), read portrait: recorded.
SMALL_SENSOR = Sensor(CHIP_WIDTH_PX, CHIP_HEIGHT_PX, PIXEL_SIZE_UM, "GR")
#: IMX585 (S50P / S30P) at 3856 x 2180 (seestar_alp emulator notes); portrait like the others and
#: GR like the IMX462 read the same way [inferred: no Pro get_device_state recorded].
LARGE_SENSOR = Sensor(2180, 3856, 2.9, "GR")
#: The S30's wide camera (second_camera in the S30 7.06 recording); assumed the same on the S30P.
WIDE_SENSOR = Sensor(1920, 1080, 2.7, "RG")

_MODELS = {
    # model: (product_model, focal length mm, f-number, factory focus steps, hot pixels, sensor,
    #         wide camera, wide camera streams in star mode (can_star_mode_sel_cam))
    "S50": ("Seestar S50", 250.0, 5.0, 1580, 7379, SMALL_SENSOR, None, False),
    "S30": ("Seestar S30", 150.0, 5.0, 1253, 48943, SMALL_SENSOR, WIDE_SENSOR, False),
    # Pro optics: vendor figures (S50 Pro 260 mm f/5.2, S30 Pro 160 mm f/5.3); product_model
    # "Seestar S30P" as the emulator notes show it, "Seestar S50P" by analogy [inferred].
    "S50P": ("Seestar S50P", 260.0, 5.2, 1580, 20000, LARGE_SENSOR, None, False),
    "S30P": ("Seestar S30P", 160.0, 5.3, 1253, 20000, LARGE_SENSOR, WIDE_SENSOR, True),
}
MODEL_NAMES = tuple(_MODELS)


def firmware_ver_int(firmware: str) -> int:
    """'6.70' -> 2670, '7.06' -> 2706, '7.32' -> 2732."""
    match = re.fullmatch(r"(\d+)\.(\d{1,2})", firmware.strip())
    if not match:
        raise ConfigError(f"firmware must look like 6.70, got {firmware!r}", key="firmware")
    return 2000 + 100 * int(match.group(1)) + int(match.group(2))


@dataclass(frozen=True, slots=True)
class Profile:
    """One model on one firmware."""

    model: str
    firmware: str
    product_model: str
    focal_length_mm: float
    f_number: float
    factory_focus_steps: int
    hot_pixel_count: int
    sensor: Sensor = SMALL_SENSOR
    wide_sensor: Sensor | None = None
    wide_in_star_mode: bool = False

    @classmethod
    def make(cls, model: str = "S50", firmware: str = "6.70") -> Profile:
        """Profile for a model name (S50/S30/S50P/S30P) and a firmware string; ConfigError if unknown."""
        key = model.strip().upper().replace("SEESTAR", "").replace(" PRO", "P").strip()
        if key not in _MODELS:
            raise ConfigError(f"unknown model {model!r} ({', '.join(_MODELS)})", key="model")
        firmware_ver_int(firmware)
        product, focal, fnum, focus, hpc, sensor, wide, wide_star = _MODELS[key]
        return cls(key, firmware.strip(), product, focal, fnum, focus, hpc, sensor, wide, wide_star)

    @property
    def ver_int(self) -> int:
        """firmware_ver_int."""
        return firmware_ver_int(self.firmware)

    @property
    def ver_string(self) -> str:
        """firmware_ver_string."""
        return self.firmware

    @property
    def needs_marker(self) -> bool:
        """fw > 2582: requests without the verify marker are silently dropped (§2.7)."""
        return self.ver_int > 2582

    @property
    def refuses_wrapped_object(self) -> bool:
        """fw >= 2706: `[object, "verify"]` for an object method answers 107 (recorded on 7.06)."""
        return self.ver_int >= 2706

    @property
    def has_login(self) -> bool:
        """fw >= 2718: get_verify_str / verify_client exist (§6.1)."""
        return self.ver_int >= 2718

    @property
    def login_required(self) -> bool:
        """fw >= 2732: nothing but the login methods is answered before verify_client (§6.1)."""
        return self.ver_int >= 2732

    @property
    def firmware_2026(self) -> bool:
        """fw >= 2775 (7.75, app 3.2.0, May 2026) and later (8.46): docs/firmware.md facts 1-4."""
        return self.ver_int >= fw.KEYED_COORDS_FROM

    @property
    def refuses_nested_arrays(self) -> bool:
        """`[[...], "verify"]` answers 107 (object methods) / 108 (float methods): 7.75+ (#748, #758)."""
        return self.firmware_2026

    @property
    def keyed_coords(self) -> bool:
        """scope_goto / scope_sync take `{"ra", "dec"}` (7.75+, PR #767); older: 108 [unverified]."""
        return fw.keyed_coords(self.ver_int)

    @property
    def withholds_verify_probe(self) -> bool:
        """pi_is_verified unanswered before login too (seestar_alp d6c401b, #759): 7.75+."""
        return self.firmware_2026 and self.login_required

    @property
    def busy_login_stall_s(self) -> float:
        """get_verify_str answers this late while the scope images (seestar_alp #753): 7.75+."""
        return 10.0 if self.firmware_2026 and self.has_login else 0.0

    @property
    def idle_drop_s(self) -> float | None:
        """A silent control connection is dropped after this long (ALP emulator notes): 7.75+."""
        return fw.CONTROL_IDLE_DROP_S if self.firmware_2026 else None

    def has_method(self, method: Method) -> bool:
        """False for the methods this firmware does not have yet (the 7.75 additions)."""
        return fw.has_method(self.ver_int, method)

    def has_setting(self, key: str) -> bool:
        """False for settings keys this firmware does not know yet (auto_lenhance before 7.75)."""
        return fw.has_setting(self.ver_int, key)

    @property
    def has_guest_mode(self) -> bool:
        """fw >= 2400: several clients, one master (ALP)."""
        return self.ver_int >= 2400

    @property
    def reports_3ppa_offsets(self) -> bool:
        """Settings carry effect_offset_deg / offset_deg_3ppa / stack.goto.

        Seen on the S30 7.06 recording and not on the S50 6.70 ones; we guess the firmware
        version (>= 7.00) decides, not the model [unverified].
        """
        return self.ver_int >= 2700

    @property
    def has_second_camera(self) -> bool:
        """S30 family: the wide-angle camera (second_camera sections)."""
        return self.wide_sensor is not None

    @property
    def zip_previews(self) -> bool:
        """S30 family: preview frames are ZIP-compressed Bayer, data_type 3 (seestarpy-s30 4ac531c)."""
        return self.model.startswith("S30")

    @property
    def width_px(self) -> int:
        """Main camera columns."""
        return self.sensor.width_px

    @property
    def height_px(self) -> int:
        """Main camera rows."""
        return self.sensor.height_px

    @property
    def aperture_mm(self) -> float:
        """Entrance pupil diameter."""
        return self.focal_length_mm / self.f_number

    @property
    def plate_scale_arcsec_px(self) -> float:
        """Arcseconds per pixel: S50 2.39, S30 3.99, S50P 2.30, S30P 3.74."""
        return 206.264806 * self.sensor.pixel_size_um / self.focal_length_mm

    @property
    def fov_deg(self) -> tuple[float, float]:
        """Field of view (width, height) in degrees, as PlateSolve reports it."""
        scale = self.plate_scale_arcsec_px / 3600.0
        return self.sensor.width_px * scale, self.sensor.height_px * scale

    @property
    def field_radius_deg(self) -> float:
        """Half diagonal of the field."""
        w, h = self.fov_deg
        return 0.5 * math.hypot(w, h)
