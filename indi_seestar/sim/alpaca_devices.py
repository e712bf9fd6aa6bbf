"""The devices of the fake's Alpaca server, as ZWO's firmware server behaves (§8.10).

Layer: sim. Device number 0 of each: Telescope (sim/alpaca_telescope.py), Camera, FilterWheel,
Focuser, Switch (the dew heater). They act on the same `SimCore` as the private protocol (one
scope): an exposure renders the same sky, the Switch is the heater that `pi_output_set2` sets.
The firmware's limits and errors (competitors.md §2.0): 1024 for what it does not implement
(alt-az slews, side of pier, percent completed ...), 1025 for a value out of range (a relative
focuser move included), 1279 for a state that forbids the call (parked, tracking off, the
wheel already there). Exposures are timed on the fake's clock and rendered once ready.
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..protocol.alpaca import AlpacaError, CameraState, int_param, param
from .camera import Camera
from .core import SimCore
from .usecases_extras import ExtrasOps
#: Exposure range of the firmware's Camera (30 us - 2000 s) and its gain range.
EXPOSURE_MIN_S = 30e-6
EXPOSURE_MAX_S = 2000.0
GAIN_MAX = 400
#: Readout after the exposure before ImageReady (scope seconds) [U: not measured].
READOUT_S = 0.05
FOCUSER_MAX_STEPS = 2600
WHEEL_NAMES = ["Dark", "IR", "LP"]


class AlpacaFault(Exception):
    """A call the server answers with an Alpaca ErrorNumber."""

    def __init__(self, number: int, message: str) -> None:
        super().__init__(message)
        self.number = int(number)
        self.message = message


def not_implemented(what: str) -> AlpacaFault:
    """Error 1024."""
    return AlpacaFault(AlpacaError.NOT_IMPLEMENTED, f"{what} is not implemented")


def invalid_value(what: str) -> AlpacaFault:
    """Error 1025."""
    return AlpacaFault(AlpacaError.INVALID_VALUE, f"invalid value: {what}")


def invalid_state(what: str) -> AlpacaFault:
    """Error 1279."""
    return AlpacaFault(AlpacaError.INVALID_STATE, f"invalid operation: {what}")


def need_int(params: dict[str, str], name: str) -> int:
    value = int_param(params, name)
    if value is None:
        raise invalid_value(f"{name} missing or not a number")
    return value


def need_float(params: dict[str, str], name: str) -> float:
    text = param(params, name)
    try:
        value = float(text) if text is not None else math.nan
    except ValueError:
        value = math.nan
    if not math.isfinite(value):
        raise invalid_value(f"{name} missing or not a number")
    return value


def need_bool(params: dict[str, str], name: str) -> bool:
    text = (param(params, name) or "").strip().lower()
    if text not in ("true", "false"):
        raise invalid_value(f"{name} must be True or False")
    return text == "true"


Getter = Callable[[], Any]
Putter = Callable[[dict[str, str]], Any]


class FakeAlpacaDevice:
    """Common members; subclasses fill `gets` and `puts` (lower-case method names)."""

    device_type = ""
    name = ""

    def __init__(self, core: SimCore, version: Callable[[], str]) -> None:
        self._core = core
        self._version = version
        self.connected = False
        self.gets: dict[str, Getter] = {
            "connected": lambda: self.connected, "name": lambda: self.name,
            "description": lambda: f"ZWO {self.name}", "driverinfo": lambda: "Seestar Alpaca",
            "driverversion": self._version, "interfaceversion": lambda: 3,
            "supportedactions": lambda: [], "connecting": lambda: False,
        }
        self.puts: dict[str, Putter] = {"connected": self._put_connected,
                                        "connect": lambda p: self._set_connected(True),
                                        "disconnect": lambda p: self._set_connected(False)}

    def _put_connected(self, params: dict[str, str]) -> None:
        self._set_connected(need_bool(params, "Connected"))

    def _set_connected(self, on: bool) -> None:
        self.connected = on

    async def call(self, verb: str, method: str, params: dict[str, str]) -> Any:
        """Run one device API call; AlpacaFault for the firmware's errors."""
        table = self.gets if verb == "GET" else self.puts
        fn = table.get(method)
        if fn is None:
            if method == "action":
                raise AlpacaFault(AlpacaError.ACTION_NOT_IMPLEMENTED, "action is not implemented")
            raise not_implemented(method)
        result = fn() if verb == "GET" else fn(params)  # type: ignore[call-arg]
        if asyncio.iscoroutine(result):
            result = await result
        return result


@dataclass
class _Exposure:
    t0_s: float
    duration_s: float
    light: bool
    roi: tuple[int, int, int, int]  # x, y, num_x, num_y
    task: asyncio.Task[None] | None = None
    pixels: np.ndarray | None = None  # (rows, columns) of the ROI once ready


class FakeCamera(FakeAlpacaDevice):
    """Single exposures of the main camera, 30 us - 2000 s, ROI, gain 0-400, no binning."""

    device_type, name = "camera", "Seestar Camera"

    def __init__(self, core: SimCore, version: Callable[[], str], camera: Camera) -> None:
        super().__init__(core, version)
        self._camera = camera
        w, h = camera.width_px, camera.height_px
        self.roi = [0, 0, w, h]
        self.exposure: _Exposure | None = None
        self.last_duration_s: float | None = None
        self.exposures_started = 0
        p = core.renderer.profile
        self.gets.update({
            "cameraxsize": lambda: w, "cameraysize": lambda: h, "maxbinx": lambda: 1,
            "maxbiny": lambda: 1, "binx": lambda: 1, "biny": lambda: 1,
            "startx": lambda: self.roi[0], "starty": lambda: self.roi[1],
            "numx": lambda: self.roi[2], "numy": lambda: self.roi[3],
            "sensortype": lambda: 2, "bayeroffsetx": lambda: 1, "bayeroffsety": lambda: 0,
            "pixelsizex": lambda: p.sensor.pixel_size_um,
            "pixelsizey": lambda: p.sensor.pixel_size_um,
            "gain": lambda: core.state.gain, "gainmin": lambda: 0, "gainmax": lambda: GAIN_MAX,
            "exposuremin": lambda: EXPOSURE_MIN_S, "exposuremax": lambda: EXPOSURE_MAX_S,
            "exposureresolution": lambda: 1e-6, "maxadu": lambda: 65535,
            "camerastate": self._state, "imageready": self._ready,
            "lastexposureduration": self._last_duration, "canabortexposure": lambda: True,
            "canstopexposure": lambda: False, "canasymmetricbin": lambda: False,
            "canfastreadout": lambda: False, "cangetcoolerpower": lambda: False,
            "cansetccdtemperature": lambda: False, "canpulseguide": lambda: False,
            "hasshutter": lambda: False, "cooleron": lambda: False,
            "readoutmodes": lambda: ["Normal"], "readoutmode": lambda: 0,
            "sensorname": lambda: "IMX462" if p.sensor.width_px == 1080 else "IMX585",
        })
        self.puts.update({
            "startexposure": self._start, "abortexposure": lambda p: self._abort(),
            "gain": self._put_gain, "binx": self._put_bin, "biny": self._put_bin,
            "startx": lambda p: self._put_roi(0, p, "StartX"),
            "starty": lambda p: self._put_roi(1, p, "StartY"),
            "numx": lambda p: self._put_roi(2, p, "NumX"),
            "numy": lambda p: self._put_roi(3, p, "NumY"),
        })

    def _state(self) -> int:
        e = self.exposure
        if e is None or e.pixels is not None:
            return int(CameraState.IDLE)
        if self._core.clock.now_s() < e.t0_s + e.duration_s:
            return int(CameraState.EXPOSING)
        return int(CameraState.READING)

    def _ready(self) -> bool:
        return self.exposure is not None and self.exposure.pixels is not None

    def _last_duration(self) -> float:
        if self.last_duration_s is None:
            raise AlpacaFault(AlpacaError.VALUE_NOT_SET, "no exposure taken yet")
        return self.last_duration_s

    def _put_gain(self, params: dict[str, str]) -> None:
        gain = need_int(params, "Gain")
        if not 0 <= gain <= GAIN_MAX:
            raise invalid_value(f"Gain {gain}")
        self._core.state.gain = gain

    def _put_bin(self, params: dict[str, str]) -> None:
        value = int_param(params, "BinX") or int_param(params, "BinY")
        if value != 1:
            raise invalid_value("binning is not supported")

    def _put_roi(self, i: int, params: dict[str, str], name: str) -> None:
        self.roi[i] = need_int(params, name)

    def _start(self, params: dict[str, str]) -> None:
        duration = need_float(params, "Duration")
        light = need_bool(params, "Light")
        if not EXPOSURE_MIN_S <= duration <= EXPOSURE_MAX_S:
            raise invalid_value(f"Duration {duration}")
        x, y, nx, ny = self.roi
        w, h = self._camera.width_px, self._camera.height_px
        if x < 0 or y < 0 or nx < 1 or ny < 1 or x + nx > w or y + ny > h:
            raise invalid_value(f"region {x},{y} {nx}x{ny}")
        if self.exposure is not None and self.exposure.pixels is None:
            raise invalid_state("an exposure is under way")
        t0 = self._core.clock.now_s()
        exp = _Exposure(t0, duration, light, (x, y, nx, ny))
        exp.task = self._core.spawn_loose(self._expose(exp))
        self.exposure = exp
        self.exposures_started += 1
        if self._core.trace is not None:
            self._core.trace.record("alpaca_exposure", exposure_s=duration, light=light,
                                    roi=[x, y, nx, ny])

    async def _expose(self, exp: _Exposure) -> None:
        await self._core.clock.sleep_until(exp.t0_s + exp.duration_s)
        spec = self._camera.make_spec(exp.t0_s, exp.duration_s)
        full = await self._camera.pixels(spec)
        await self._core.clock.sleep_until(exp.t0_s + exp.duration_s + READOUT_S)
        x, y, nx, ny = exp.roi
        exp.pixels = full[y:y + ny, x:x + nx]
        self.last_duration_s = exp.duration_s

    def _abort(self) -> None:
        exp, self.exposure = self.exposure, None
        if exp is not None and exp.task is not None:
            exp.task.cancel()

    def image(self) -> np.ndarray:
        """The ready image (rows, columns); AlpacaFault when there is none."""
        if self.exposure is None or self.exposure.pixels is None:
            raise invalid_state("no image is ready")
        return self.exposure.pixels


class FakeFocuser(FakeAlpacaDevice):
    """Absolute 0-2600; relative moves refused (1025)."""

    device_type, name = "focuser", "Seestar Focuser"

    def __init__(self, core: SimCore, version: Callable[[], str], extras: ExtrasOps) -> None:
        super().__init__(core, version)
        foc = core.state.focuser
        self.gets.update({
            "absolute": lambda: True, "maxstep": lambda: FOCUSER_MAX_STEPS,
            "maxincrement": lambda: FOCUSER_MAX_STEPS, "position": lambda: foc.position_steps(),
            "ismoving": foc.is_moving, "tempcomp": lambda: False,
            "tempcompavailable": lambda: False, "stepsize": lambda: 1.0,
        })
        self.puts.update({"move": self._move, "halt": lambda p: extras.stop_focuser()})
        self._extras = extras

    def _move(self, params: dict[str, str]) -> None:
        target = need_int(params, "Position")
        if not 0 <= target <= FOCUSER_MAX_STEPS:  # a relative step count lands here
            raise invalid_value(f"Position {target} (absolute 0..{FOCUSER_MAX_STEPS} only)")
        self._extras.move_focuser(target)


class FakeFilterWheel(FakeAlpacaDevice):
    """Dark / IR / LP; moving to the slot it is on is 1279."""

    device_type, name = "filterwheel", "Seestar Filter Wheel"

    def __init__(self, core: SimCore, version: Callable[[], str], extras: ExtrasOps) -> None:
        super().__init__(core, version)
        wheel = core.state.wheel
        self.gets.update({"names": lambda: WHEEL_NAMES, "focusoffsets": lambda: [0, 0, 0],
                          "position": lambda: -1 if wheel.is_moving() else wheel.position})
        self.puts.update({"position": self._move})
        self._extras = extras

    def _move(self, params: dict[str, str]) -> None:
        slot = need_int(params, "Position")
        if slot not in (0, 1, 2):
            raise invalid_value(f"Position {slot}")
        if slot == self._core.state.wheel.position and not self._core.state.wheel.is_moving():
            raise invalid_state(f"the wheel is at {WHEEL_NAMES[slot]} already")
        self._extras.set_wheel(slot)


class FakeSwitch(FakeAlpacaDevice):
    """One switch: the dew heater, 0-100 %."""

    device_type, name = "switch", "Seestar Switch"

    def __init__(self, core: SimCore, version: Callable[[], str]) -> None:
        super().__init__(core, version)
        st = core.state
        self.gets.update({"maxswitch": lambda: 1})
        for method, fn in {
            "getswitchname": lambda: "Dew Heater",
            "getswitchdescription": lambda: "Dew heater power",
            "getswitch": lambda: st.heater_value > 0,
            "getswitchvalue": lambda: float(st.heater_value),
            "minswitchvalue": lambda: 0.0, "maxswitchvalue": lambda: 100.0,
            "switchstep": lambda: 1.0, "canwrite": lambda: True,
        }.items():
            self.gets[method] = fn
        self.puts.update({"setswitch": self._set, "setswitchvalue": self._set_value})

    async def call(self, verb: str, method: str, params: dict[str, str]) -> Any:
        """As the base, with the switch Id checked: only switch 0 exists."""
        if method.startswith(("getswitch", "setswitch", "canwrite", "minswitch", "maxswitchvalue",
                              "switchstep")) and int_param(params, "Id") != 0:
            raise invalid_value(f"switch Id {param(params, 'Id')}")
        return await super().call(verb, method, params)

    def _set(self, params: dict[str, str]) -> None:
        on = need_bool(params, "State")
        self._core.state.heater_value = 100 if on else 0

    def _set_value(self, params: dict[str, str]) -> None:
        value = need_float(params, "Value")
        if not 0.0 <= value <= 100.0:
            raise invalid_value(f"Value {value}")
        self._core.state.heater_value = int(round(value))
