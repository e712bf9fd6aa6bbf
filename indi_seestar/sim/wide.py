"""The S30 Pro's wide-angle camera in the fake: the SecondView pipeline and its frames for 4804.

Layer: sim. As seestarpy-s30 (4ac531c, S30 Pro fw 7.75) drives it: with `wide_cam` set and the
star-mode View running, SecondView runs ContinuousExposure and its frames stream on 4804 in
the 4800 framing. The exposure is `second_camera.exp_ms.continuous` (1000 ms recorded on the
S30 7.06). The wide camera has its own renderer: the wide sensor, and short optics whose focal
length no reply reports (WIDE_FOCAL_MM is ours, for a plausible wide field).
"""

from __future__ import annotations

import asyncio
import dataclasses
from typing import Any

from .camera import Camera
from .core import SimCore
from .profile import Profile
from .render import Renderer
from .starfield import StarCatalogue

#: Render-only optics of the wide camera (not reported by the firmware) [assumed].
WIDE_FOCAL_MM, WIDE_F_NUMBER = 6.0, 2.0
#: How often the idle pipeline looks whether it should run (real seconds).
_IDLE_POLL_S = 0.05
_DEFAULT_EXPOSURE_MS = 1000


def wide_profile(profile: Profile) -> Profile:
    """The profile the wide renderer uses: the wide sensor and the wide optics."""
    assert profile.wide_sensor is not None
    return dataclasses.replace(profile, sensor=profile.wide_sensor, focal_length_mm=WIDE_FOCAL_MM,
                               f_number=WIDE_F_NUMBER, hot_pixel_count=0)


class SecondView:
    """The wide camera's preview loop; runs while `wide_cam` is set and the star view runs."""

    def __init__(self, core: SimCore, *, sky_seed: int, seed: int) -> None:
        self._core = core
        renderer = Renderer(wide_profile(core.state.profile), StarCatalogue(sky_seed),
                            core.state.best_focus_steps, seed + 1)
        self.camera = Camera(core, renderer)
        self._best_focus_steps = renderer.best_focus_steps
        self.working = False

    def start(self) -> None:
        """Run the pipeline for the fake's lifetime."""
        self._core.spawn("SecondView", self._run())

    def wanted(self) -> bool:
        """`wide_cam` is on and the View runs in star mode."""
        st = self._core.state
        return bool(st.settings.get("wide_cam")) and st.view.active and st.view.mode == "star"

    def exposure_s(self) -> float:
        """second_camera.exp_ms.continuous in seconds."""
        second: dict[str, Any] = self._core.state.settings.get("second_camera", {})
        exp_ms = second.get("exp_ms", {}).get("continuous", _DEFAULT_EXPOSURE_MS)
        return max(1, int(exp_ms)) / 1000.0

    def app_state(self) -> dict[str, Any]:
        """The SecondView section of iscope_get_app_state."""
        if not self.working:
            return {"state": "idle"}
        return {"state": "working", "stage": "ContinuousExposure",
                "ContinuousExposure": {"state": "working"}}

    async def _run(self) -> None:
        clock = self._core.clock
        while True:
            if not self.wanted():
                self.working = False
                await asyncio.sleep(_IDLE_POLL_S)
                continue
            self.working = True
            exposure_s = self.exposure_s()
            t0 = clock.now_s()
            await clock.sleep(exposure_s)
            if self.wanted():
                spec = self.camera.make_spec(t0, exposure_s)
                # Not behind the main camera's wheel and focuser: dark only with the arm closed.
                parked = self._core.state.mount.state().parked
                spec = dataclasses.replace(spec, wheel_slot=1, dark=parked,
                                           focus_steps=self._best_focus_steps)
                self.camera.complete(spec)
