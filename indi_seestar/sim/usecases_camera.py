"""View, live preview, live stack and AutoGoto of the fake Seestar, with the firmware's events.

Layer: sim. Shapes and order follow the recordings (S50 6.70 start/stop view; S30 7.06 AutoGoto
and Stack) and seestar-protocol.md §3.4. ContinuousExposure emits no per-frame events (as the
real firmware): only ContinuousExposure working/cancel with fps.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import numpy as np

from ..protocol.codes import ErrorCode
from ..protocol.events import EventName
from . import power, sky
from .camera import Camera
from .core import SimCommandError, SimCore, lapse_ms
from .plate_solve import solve_now
from .render import debayer_half
from .state import StageInfo
from .usecases_mount import MountOps
from .usecases_stack import StackKnobs, drizzled

CE = "ContinuousExposure"
STACK = "Stack"
AUTOGOTO = "AutoGoto"
#: Delay between iscope_start_view and ContinuousExposure working (recorded ~0.36 s on 6.70,
#: s50_fw670_a, View started after a whole-View stop). Also applied when start_view resumes a
#: preview whose stage alone was stopped (not recorded: we assume the camera's start-up costs
#: the same), so that a client restarting the preview pays what it would on a real scope.
CE_START_DELAY_S = 0.36
#: Fastest live preview in *real* seconds per frame, so a 0 ms preview cannot spin the CPU.
MIN_REAL_FRAME_S = 0.01
AUTOGOTO_EXPOSURE_S = 2.0
#: AutoGoto re-centres when the solved position is further than this from the target.
CENTRE_TOLERANCE_DEG = 0.05
MAX_GOTO_ATTEMPTS = 3



class ViewOps:
    """The View session and its stages."""

    def __init__(self, core: SimCore, camera: Camera, mount_ops: MountOps) -> None:
        self._core = core
        self._camera = camera
        self._mount = mount_ops
        self._ce_restart = asyncio.Event()
        self._ce_t0_s: float | None = None  # start of the preview exposure under way
        self._sub_t0_s = 0.0  # start of the running stack sub (for Exposure fail 514)
        self.stack_knobs = StackKnobs()
        #: Stores a stacked sub in the album (target, exposure_s, raw) when saving subs is on.
        self.save_sub: Callable[[str, float, float, np.ndarray], object] | None = None

    @property
    def _st(self):  # type: ignore[no-untyped-def]
        return self._core.state

    def _now(self) -> float:
        return self._core.clock.now_s()

    def fps(self) -> float:
        """Preview frame rate as ContinuousExposure reports it (2.02 at 500 ms)."""
        return round(min(30.0, 1012.5 / max(1.0, self._st.continuous_exposure_ms)), 6)

    def _view_fields(self, state: str, mode: str | None = None) -> dict[str, object]:
        v = self._st.view
        end = v.t_end_s if v.t_end_s is not None else self._now()
        fields: dict[str, object] = {"state": state, "lapse_ms": lapse_ms(end - v.t_start_s),
                                     "mode": mode or v.mode, "cam_id": 0}
        if v.target_ra_dec is not None:
            fields["target_ra_dec"] = [round(x, 6) for x in v.target_ra_dec]
            fields["target_name"] = v.target_name or ""
        fields.update(lp_filter=self._st.lp_filter, gain=self._st.gain, route=[])
        return fields

    def _set_stage(self, name: str, state: str, **extra: object) -> StageInfo:
        info = StageInfo(state, self._now(), extra=dict(extra))
        self._st.view.stages[name] = info
        self._st.view.stage = name
        return info

    def _end_stage(self, name: str, state: str) -> None:
        info = self._st.view.stages.get(name)
        if info is not None and info.state not in ("cancel", "complete", "fail"):
            info.state, info.t_end_s = state, self._now()

    # --- View --------------------------------------------------------------------------------

    def start_view(self, mode: str, target: tuple[float, float] | None, target_name: str | None) -> None:
        """iscope_start_view: star mode runs the preview, with a target an AutoGoto first."""
        v = self._st.view
        if target is not None:
            if not self._st.mount.state().parked:
                self._mount.check_goto(*target)
            self._stop_stages(emit=True)
        elif v.active and v.mode == mode:
            if mode == "star" and not any(self._core.running(s) for s in (CE, STACK, AUTOGOTO)):
                self.resume_preview(CE_START_DELAY_S)  # the stage was stopped alone: start it again
            return
        v.state, v.mode, v.t_start_s, v.t_end_s = "working", mode, self._now(), None
        v.target_ra_dec = list(target) if target is not None else None
        v.target_name = target_name if target is not None else None
        v.stage, v.stages = None, {}
        self._core.bus.emit(EventName.VIEW, **self._view_fields("working"))
        if mode != "star":
            return
        if target is not None:
            self._core.spawn(AUTOGOTO, self._autogoto(target, target_name or ""))
        else:
            self._core.spawn(CE, self._continuous(CE_START_DELAY_S))

    def stop_view(self, stage: str | None) -> None:
        """iscope_stop_view: one stage, or the whole View (events before the reply, as on 6.70)."""
        st, bus = self._st, self._core.bus
        if stage == CE:
            self._stop_ce(emit=True)
        elif stage == STACK:
            if self._core.running(STACK):
                self._stop_stack()
                self.resume_preview()
        elif stage == AUTOGOTO:
            if self._core.running(AUTOGOTO):
                self._core.cancel(AUTOGOTO)
                self._mount.abort()
                self._autogoto_cancelled()
                self.resume_preview()
        elif stage == "ScopeGoto":
            self._mount.abort()
        elif stage is None:
            if not st.view.active:
                return
            self._stop_stages(emit=True)
            bus.emit(EventName.VIEW, **self._view_fields("cancel"))
            bus.emit(EventName.SETTING, wide_cam=False,
                     stack={k: st.settings["stack"][k] for k in ("brightness", "contrast", "saturation", "dbe_enable")})
            st.view.state, st.view.t_end_s = "cancel", self._now()
            bus.emit(EventName.VIEW, **self._view_fields("cancel", mode="none"))
            st.view.mode = "none"

    def _stop_stages(self, emit: bool) -> None:
        if self._core.running(AUTOGOTO):
            self._core.cancel(AUTOGOTO)
            self._mount.abort()
            if emit:
                self._autogoto_cancelled()
        if self._core.running(STACK):
            self._stop_stack()
        self._stop_ce(emit=emit)

    def resume_preview(self, delay_s: float = 0.0) -> None:
        """Back to ContinuousExposure (after a stack, an AutoGoto, a dark library...)."""
        if self._st.view.active and self._st.view.mode == "star":
            self._core.spawn(CE, self._continuous(delay_s))

    # --- ContinuousExposure ------------------------------------------------------------------

    def restart_exposure(self) -> None:
        """exp_ms.continuous changed: abandon the current preview exposure, start a new one."""
        self._ce_restart.set()

    def _stop_ce(self, emit: bool) -> None:
        cut_short_t0, self._ce_t0_s = self._ce_t0_s, None
        if cut_short_t0 is not None and self._core.faults.frame_on_stop:
            self._camera.complete(self._camera.make_spec(cut_short_t0, self._now() - cut_short_t0))
        if self._core.cancel(CE) or self._st.view.stages.get(CE, StageInfo("", 0)).state == "working":
            self._end_stage(CE, "cancel")
            info = self._st.view.stages.get(CE)
            if emit and info is not None:  # None: cancelled in its start-up delay, before working
                self._core.bus.emit(EventName.CONTINUOUS_EXPOSURE, state="cancel",
                                    lapse_ms=lapse_ms(self._now() - info.t_start_s), fps=info.extra.get("fps", self.fps()),
                                    route=["View"])

    async def _continuous(self, delay_s: float) -> None:
        core, clock = self._core, self._core.clock
        if delay_s:
            await clock.sleep(delay_s)
        self._set_stage(CE, "working", fps=self.fps())
        core.bus.emit(EventName.CONTINUOUS_EXPOSURE, state="working", lapse_ms=0, fps=self.fps(), route=["View"])
        loop = asyncio.get_running_loop()
        while True:
            self._ce_restart.clear()
            exposure_s = self._st.continuous_exposure_ms / 1000.0
            self._st.view.stages[CE].extra["fps"] = self.fps()
            t0, real0 = clock.now_s(), loop.time()
            self._ce_t0_s = t0
            wait_real = max(clock.real_s(exposure_s), MIN_REAL_FRAME_S)
            try:
                await asyncio.wait_for(self._ce_restart.wait(), timeout=wait_real)
                continue  # exposure length changed: this exposure is abandoned
            except TimeoutError:
                pass
            self._ce_t0_s = None
            spec = self._camera.make_spec(t0, exposure_s)
            self._camera.complete(spec)
            if loop.time() - real0 < MIN_REAL_FRAME_S:
                await asyncio.sleep(0)

    # --- Stack -------------------------------------------------------------------------------

    def start_stack(self, restart: bool) -> None:
        """iscope_start_stack: 259 when one already runs."""
        st = self._st
        if self._core.running(STACK):
            raise SimCommandError.of(ErrorCode.STACK_ALREADY_RUNNING)
        if not st.view.active:
            st.view.state, st.view.mode, st.view.t_start_s, st.view.t_end_s = "working", "star", self._now(), None
            self._core.bus.emit(EventName.VIEW, **self._view_fields("working"))
        self._stop_ce(emit=True)
        if restart or not st.stack.has_image():
            st.stack.stacked_frames = st.stack.dropped_frames = st.stack.total_frames = 0
            st.stack.rgb_sum = None
        st.stack.running, st.stack.t_start_s = True, self._now()
        st.stack.target_name = st.view.target_name or "Stack"
        self._core.spawn(STACK, self._stack())

    def _stack_counts(self) -> dict[str, int]:
        s = self._st.stack
        return {"stacked_frame": s.stacked_frames, "dropped_frame": s.dropped_frames}

    async def _stack(self) -> None:
        core, st, bus = self._core, self._st, self._core.bus
        self._set_stage(STACK, "working", **self._stack_counts(), total_frame=st.stack.total_frames)
        bus.emit(EventName.STACK, state="working", lapse_ms=0, frame_errcode=-1, **self._stack_counts(),
                 can_annotate=False, route=["View"])
        bus.emit(EventName.STACK, state="start")
        r = ["View", STACK]
        while True:
            exp_ms = st.stack_exposure_ms
            t0 = core.clock.now_s()
            self._sub_t0_s = t0
            bus.emit(EventName.EXPOSURE, state="working", lapse_ms=0, exp_ms=float(exp_ms), port=4700, route=r)
            bus.emit(EventName.EXPOSURE, page="stack", state="start", exp_us=int(exp_ms * 1000), gain=st.gain)
            await core.clock.sleep(exp_ms / 1000.0)
            bus.emit(EventName.EXPOSURE, page="stack", state="downloading")
            bus.emit(EventName.EXPOSURE, page="stack", state="complete")
            bus.emit(EventName.EXPOSURE, state="complete", lapse_ms=lapse_ms(core.clock.now_s() - t0),
                     exp_ms=float(exp_ms), port=4700, route=r)
            spec = self._camera.make_spec(t0, exp_ms / 1000.0)
            self._camera.complete(spec, stream=False)
            core.spawn_loose(self._stack_sub(spec))

    async def _stack_sub(self, spec) -> None:  # type: ignore[no-untyped-def]
        """Debayer and add one sub; dark or trailed subs are dropped (263 too few stars)."""
        core, st = self._core, self._st
        t0 = core.clock.now_s()
        errcode = 0
        if spec.dark or self.stack_knobs.take_cloud():
            errcode = int(ErrorCode.TOO_FEW_STARS)
        else:
            raw = await self._camera.pixels(spec)
            rgb = await core.in_worker(debayer_half, raw)
            if not st.stack.running:
                return
            if self.save_sub is not None and st.settings["stack"].get("save_discrete_frame"):
                self.save_sub(st.stack.target_name, spec.exposure_s, spec.t_start_s, raw)
            st.stack.rgb_sum = rgb if st.stack.rgb_sum is None else st.stack.rgb_sum + rgb
        if not st.stack.running:
            return
        st.stack.total_frames += 1
        if errcode:
            st.stack.dropped_frames += 1
        else:
            st.stack.stacked_frames += 1
        info = st.view.stages.get(STACK)
        if info is not None:
            info.extra.update(self._stack_counts(), total_frame=st.stack.total_frames)
        core.bus.emit(EventName.STACK, state="working", lapse_ms=lapse_ms(core.clock.now_s() - st.stack.t_start_s),
                      frame_errcode=errcode, **self._stack_counts(), can_annotate=True, route=["View"])
        core.bus.emit(EventName.STACK, state="frame_complete", frame_type="light", **self._stack_counts(),
                      total_frame=st.stack.total_frames, error="no error" if not errcode else "too few stars",
                      lapse_ms=lapse_ms(core.clock.now_s() - t0), code=errcode)
        if not errcode and st.settings["stack"].get("save_discrete_ok_frame") and power.store_file(st):
            core.bus.emit(EventName.DISK_SPACE, used_percent=power.used_percent(st))
        failure = self.stack_knobs.take_failure(st.stack.total_frames)
        if failure is not None and core.running(STACK):
            self._fail_stack(*failure)

    def _fail_stack(self, code: int, text: str) -> None:
        """The stack ends on its own with a firmware error: Alert, Stack fail, back to the preview."""
        core, st, bus = self._core, self._st, self._core.bus
        core.cancel(STACK)
        st.stack.running = False
        bus.emit(EventName.ALERT, error=text, code=code)
        bus.emit(EventName.STACK, state="fail", lapse_ms=lapse_ms(core.clock.now_s() - st.stack.t_start_s),
                 frame_errcode=code, **self._stack_counts(), error=text, code=code, route=["View"])
        self._end_stage(STACK, "fail")
        self.resume_preview()

    def _stop_stack(self) -> None:
        """Exposure fail 514, Stack cancel with jpg_name, SaveImage (§3.4)."""
        core, st, bus = self._core, self._st, self._core.bus
        info = st.view.stages.get(STACK)
        core.cancel(STACK)
        st.stack.running = False
        exp_t0 = self._sub_t0_s if info else core.clock.now_s()
        bus.emit(EventName.EXPOSURE, state="fail", error="interrupt", code=int(ErrorCode.INTERRUPT),
                 lapse_ms=lapse_ms(core.clock.now_s() - exp_t0), exp_ms=float(st.stack_exposure_ms), port=4700,
                 route=["View", STACK])
        stamp = st.clock.utc().strftime("%Y%m%d-%H%M%S")
        name = f"Stacked_{st.stack.stacked_frames}_{st.stack.target_name}_{int(st.stack_exposure_ms / 1000)}.0s_IRCUT_{stamp}"
        bus.emit(EventName.STACK, state="cancel", lapse_ms=lapse_ms(core.clock.now_s() - st.stack.t_start_s),
                 frame_errcode=0, **self._stack_counts(), can_annotate=True, jpg_name=f"{name}.jpg", route=["View"])
        self._end_stage(STACK, "cancel")
        bus.emit(EventName.SAVE_IMAGE, state="complete", filename=f"{name}.fit",
                 fullname=f"MyWorks/{st.stack.target_name}/{name}.fit")

    def stacked_rgb(self) -> np.ndarray | None:
        """The live stack as (height, width, 3) uint16 (average of the subs; 2x with drizzle2x), or None."""
        s = self._st.stack
        if not s.has_image() or s.rgb_sum is None:
            return None
        avg = np.clip(s.rgb_sum / float(s.stacked_frames), 0, 65535).astype(np.uint16)
        return drizzled(avg, bool(self._st.settings["stack"].get("drizzle2x")))

    # --- AutoGoto ----------------------------------------------------------------------------

    def _autogoto_cancelled(self) -> None:
        info = self._st.view.stages.get(AUTOGOTO)
        t0 = info.t_start_s if info else self._now()
        self._end_stage(AUTOGOTO, "cancel")
        self._core.bus.emit(EventName.AUTO_GOTO, state="cancel", lapse_ms=lapse_ms(self._now() - t0),
                            count=int(info.extra.get("count", 0)) if info else 0, hint=False, error="aborted",
                            code=int(ErrorCode.ABORTED), route=["View"])

    async def _autogoto(self, target: tuple[float, float], name: str) -> None:
        core, st, bus = self._core, self._st, self._core.bus
        info = self._set_stage(AUTOGOTO, "working", count=0)
        t0 = info.t_start_s
        bus.emit(EventName.AUTO_GOTO, state="working", lapse_ms=0, count=0, hint=False, route=["View"])
        bus.emit(EventName.AUTO_GOTO, page="preview", tag="Exposure", func="goto_ra_dec", state="start",
                 target_ra_dec=[round(target[0], 6), round(target[1], 6)], target_name=name)
        if st.mount.state().parked:
            await self._mount.open_arm()
            self._mount.check_goto(*target)
        route = ["View", AUTOGOTO]
        for count in range(1, MAX_GOTO_ATTEMPTS + 1):
            info.extra["count"] = count
            bus.emit(EventName.AUTO_GOTO, state="working", lapse_ms=lapse_ms(self._now() - t0), count=count, hint=False,
                     route=["View"])
            bus.emit(EventName.AUTO_GOTO, page="preview", tag="Exposure", func="goto_ra_dec", state="working",
                     count=count)
            await self._mount.slew(target[0], target[1], route)
            spec = await self.exposure(AUTOGOTO_EXPOSURE_S, route, tag="Exposure-AutoGoto", ac_count=count)
            solved = await solve_now(core, spec, route, tag="Exposure-AutoGoto", ac_count=count)
            if solved is None:
                self._end_stage(AUTOGOTO, "fail")
                bus.emit(EventName.AUTO_GOTO, state="fail", lapse_ms=lapse_ms(self._now() - t0), count=count, hint=False,
                         error="solve failed", code=int(ErrorCode.SOLVE_FAILED), route=["View"])
                self.resume_preview()
                return
            st.mount.sync(*solved)
            if sky.separation_deg(*solved, *target) <= CENTRE_TOLERANCE_DEG:
                break
        bus.emit(EventName.AUTO_GOTO, page="preview", tag="Exposure", func="goto_ra_dec", state="complete")
        self._end_stage(AUTOGOTO, "complete")
        bus.emit(EventName.AUTO_GOTO, state="complete", lapse_ms=lapse_ms(self._now() - t0),
                 count=int(info.extra["count"]), hint=False, route=["View"])
        if st.settings.get("stack_after_goto"):
            self.start_stack(restart=True)
        else:
            self.resume_preview()

    async def exposure(self, exposure_s: float, route: list[str], *, tag: str, ac_count: int = 1):  # type: ignore[no-untyped-def]
        """One exposure with the two Exposure event flavours; returns its FrameSpec."""
        core, bus = self._core, self._core.bus
        t0 = core.clock.now_s()
        bus.emit(EventName.EXPOSURE, state="working", lapse_ms=0, exp_ms=float(exposure_s * 1000), port=4700,
                 route=route)
        bus.emit(EventName.EXPOSURE, page="preview", tag=tag, ac_count=ac_count, state="start",
                 exp_us=int(round(exposure_s * 1e6)), gain=self._st.gain)
        await core.clock.sleep(exposure_s)
        bus.emit(EventName.EXPOSURE, page="preview", tag=tag, ac_count=ac_count, state="downloading")
        spec = self._camera.make_spec(t0, exposure_s)
        self._camera.complete(spec, stream=False)
        bus.emit(EventName.EXPOSURE, page="preview", tag=tag, ac_count=ac_count, state="complete")
        bus.emit(EventName.EXPOSURE, state="complete", lapse_ms=lapse_ms(core.clock.now_s() - t0),
                 exp_ms=float(exposure_s * 1000), port=4700, route=route)
        return spec
