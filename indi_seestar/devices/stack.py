"""The Seestar's own live stack as a fifth INDI device, "Seestar Stack", with the CCD interface.

Layer: devices. Controls (stack_props): SEESTAR_STACK (start new / continue / stop),
SEESTAR_STACK_STATE (counters; Busy while stacking, Ok stopped, Alert with the firmware's code
on failure), SEESTAR_STACK_TARGET, the settings the firmware lets the app set (sub length,
dithering, options; refused while a stack runs), and how stacked images go out
(SEESTAR_STACK_IMAGES, SEESTAR_STACK_INTERVAL, SEESTAR_STACK_FETCH). Images are 16-bit RGB
FITS cubes (stack_image) sent on CCD1 and/or saved (UPLOAD_MODE / UPLOAD_SETTINGS).
CCD_EXPOSURE of N s stacks for N s on the scope and answers with the stacked image, as Ekos
Capture expects of a camera (stack_exposure); no other image is sent while it runs.
Design and reasons: docs/stack.md.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import numpy as np

from ..errors import CommandFailed, IndiSeestarError, ValueRejected
from ..indi import standard as std
from ..indi.model import State
from ..protocol.codes import ErrorCode
from ..protocol.events import EventName
from ..protocol.rpc import Event
from ..protocol.stacking import StackSettings
from ..seestar.client import SeestarClient
from ..seestar.connection import ConnectionState
from . import stack_props as props
from .base import SeestarDevice
from .camera_upload import save_frame
from .stack_batch_run import BatchPorts, BatchStack
from .stack_exposure import ExposurePorts, StackExposure
from .stack_image import StackFacts, stack_fits
from .stack_live import Change, StackTracker
from .stack_output import DEFAULT_PIXEL_UM, Deliveries, camera_context
from .upload_props import UploadProperties

#: The stacked image is 1080 x 1920 (2160 x 3840 drizzled) RGB, 16-bit words (§4.3).
SENSOR_WIDTH_PX, SENSOR_HEIGHT_PX, PIXEL_UM = 1080, 1920, DEFAULT_PIXEL_UM
#: Fetching one stacked image: the ZIP is ~6 MB (24 MB drizzled) over WiFi, and the scope
#: answers between subs.
STACK_IMAGE_TIMEOUT_S = 60.0


class StackDevice(SeestarDevice):
    """The live-stack device; see the module docstring."""

    interface = 2

    def init_properties(self) -> None:
        """Stack controls and settings, and the CCD vectors Ekos needs (connected-only)."""
        super().init_properties()
        n, s = self.name, StackSettings()
        self.settings = s
        self.control = self.add(props.stack_control(n), connected_only=True, on_new=self._on_control)
        self.state_vector = self.add(props.stack_state(n), connected_only=True)
        self.target = self.add(props.stack_target(n), connected_only=True)
        self.sub = self.add(props.stack_sub(n, s), connected_only=True, on_new=self._on_sub)
        self.dither = self.add(props.stack_dither(n, s), connected_only=True, on_new=self._on_dither)
        self.options = self.add(props.stack_options(n, s), connected_only=True, on_new=self._on_options)
        self.images = self.add(props.stack_images(n), connected_only=True, saved=True)
        self.interval = self.add(props.stack_interval(n), connected_only=True, saved=True)
        self.fetch = self.add(props.stack_fetch(n), connected_only=True, on_new=self._on_fetch)
        self.exposure = self.add(std.ccd_exposure(n, min_s=1, max_s=36000, value_s=60),
                                 connected_only=True, on_new=self._on_exposure)
        self.abort = self.add(std.ccd_abort_exposure(n), connected_only=True, on_new=self._on_abort)
        self.info = self.add(std.ccd_info(n, SENSOR_WIDTH_PX, SENSOR_HEIGHT_PX, PIXEL_UM, 16),
                             connected_only=True)
        self.frame = self.add(std.ccd_frame(n, SENSOR_WIDTH_PX, SENSOR_HEIGHT_PX), connected_only=True,
                              on_new=self._on_fixed("CCD_FRAME", "the stack is always the whole field"))
        self.binning = self.add(std.ccd_binning(n, 1), connected_only=True)
        self.frame_type = self.add(std.ccd_frame_type(n), connected_only=True, on_new=self._on_frame_type)
        self.capture_format = self.add(std.ccd_capture_format(n, [("INDI_RGB", "RGB")]), connected_only=True)
        self.transfer_format = self.add(std.ccd_transfer_format(n, native=False), connected_only=True)
        self.ccd1 = self.add(std.ccd1(n), connected_only=True)
        self.upload = UploadProperties(n, add=self.add, remove=self.remove, publish=self.publish,
                                       message=self.message, prefix="STACK_XXX",
                                       saved_text="Stacked image saved to")
        self.batch = BatchStack(
            BatchPorts(client=lambda: self.client, publish=self.publish, redefine=self.redefine,
                       spawn=self.spawn, deliver=self.publish_image),
            self.add(props.batch_selection(n), connected_only=True, saved=True),
            self.add(props.batch_control(n), connected_only=True, on_new=lambda v: self.batch.on_control(v)),
            self.add(props.batch_subs(n, []), connected_only=True),
            self.add(props.batch_progress(n), connected_only=True))
        self.tracker = StackTracker()
        self.stack_exposure = StackExposure(ExposurePorts(
            start_stack=lambda: self.start_stack(restart=True), stop_stack=self.stop_stack,
            show=self._show_exposure, sub_s=lambda: self.tracker.sub_s,
            time_factor=lambda: self.client.time_factor, spawn=self.spawn))
        self.deliveries = Deliveries(self._deliver_now, lambda: float(self.interval["MIN_INTERVAL_S"]))
        self._last_sent: tuple[int, int] | None = None  # (stacked, rejected) of the last image out
        self._worker: asyncio.Task[None] | None = None
        self._link_lost = False
        self._shown: tuple[object, ...] | None = None  # what SEESTAR_STACK_STATE last showed

    # --- session -----------------------------------------------------------------------------

    async def on_session(self, client: SeestarClient) -> None:
        """Read the scope's settings and its stack (it may be stacking without us)."""
        self.settings = await client.get_stack_settings()
        self._show_settings()
        await self._adopt_scope_stack(client)
        self.keep_until_session_end(client.subscribe(self._on_event),
                                    client.on_connection_state(self._on_link))
        self.upload.sync_file_path()
        self._worker = self.spawn(self.deliveries.loop())

    async def on_session_end(self, client: SeestarClient) -> None:
        """Nothing runs on our side any more (the scope's stack goes on)."""
        self.stack_exposure.abort()
        if self._worker is not None:
            self._worker.cancel()
            self._worker = None

    async def _adopt_scope_stack(self, client: SeestarClient) -> None:
        scope = await client.get_scope_stack()
        t = self.tracker
        t.adopt(running=scope.running, stacked=scope.stacked, rejected=scope.dropped,
                lapse_ms=scope.lapse_ms, target=scope.target_name, now_utc=datetime.now(UTC))
        self._show_state(State.BUSY if t.running else (State.OK if t.stacked else State.IDLE))

    def _on_link(self, connection_state: ConnectionState) -> None:
        if connection_state is ConnectionState.READY and self._link_lost:
            self._link_lost = False
            self.spawn(self._readopt())
        elif connection_state is ConnectionState.RECONNECTING and not self._link_lost:
            self._link_lost = True
            self._show_state(State.ALERT, "[WARNING] the link to the Seestar dropped; the scope's stack "
                             "goes on without us, its state is shown again once we are back")

    async def _readopt(self) -> None:
        try:
            await self._adopt_scope_stack(self.client)
        except IndiSeestarError as exc:
            self._show_state(State.ALERT, f"[ERROR] cannot read the scope's stack: {exc}")
            return
        t = self.tracker
        self.message(f"back on the Seestar: it {'is stacking' if t.running else 'is not stacking'}, "
                     f"{t.stacked} subs stacked")

    # --- what the scope says --------------------------------------------------------------------

    def _on_event(self, event: Event) -> None:
        if event.name == EventName.ALERT and isinstance(event.get("code"), int):
            self.message(f"the Seestar reports code {event.get('code')}: {event.get('error', '')}", "WARNING")
        self.batch.on_event(event)
        change = self.tracker.apply(event)
        if change is Change.NONE:
            return
        t = self.tracker
        if change is Change.FAILED:
            self._show_state(State.ALERT, f"[ERROR] the stack failed: {t.failure}")
            self.stack_exposure.stack_ended(t.failure)
            return
        if change is Change.STOPPED:
            self._show_state(State.BUSY)  # Ok once the final image is out
            self.deliveries.want("final")
            self.stack_exposure.stack_ended(None)
            return
        self._show_state(State.BUSY)
        if change is Change.NEW_SUB:
            self.stack_exposure.sub_stacked()
            if not self.stack_exposure.running and self.images.on_names() == ["IMAGES_EACH"]:
                self.deliveries.want("each")

    def _show_state(self, state: State, message: str | None = None) -> None:
        t = self.tracker
        values = {"STACKED": t.stacked, "REJECTED": t.rejected, "INTEGRATION_S": t.integration_s,
                  "SUB_S": t.sub_s, "ELAPSED_S": round(t.elapsed_s)}
        shown = (state, tuple(values.values()), t.running)
        if shown == self._shown and message is None:
            return
        self._shown = shown
        self.state_vector.update(values)
        self.publish(self.state_vector, state=state, message=message)
        if self.target["TARGET"] != t.target:
            self.target["TARGET"] = t.target
            self.publish(self.target, state=State.OK)
        self.control.reset()
        self.control["STACK_NEW" if t.running else "STACK_STOP"] = True
        self.publish(self.control, state=state)

    # --- handlers ------------------------------------------------------------------------------

    def _on_control(self, values: dict[str, bool]) -> None:
        wanted = next((k for k, v in values.items() if v), None)
        if wanted is None:
            return
        if wanted == "STACK_STOP":
            if self.stack_exposure.running:
                raise ValueRejected("SEESTAR_STACK", "a CCD_EXPOSURE runs this stack: abort the exposure")
            self.spawn(self._stop())
        else:
            self.start_stack(restart=wanted == "STACK_NEW")
        self._show_state(State.BUSY)

    def start_stack(self, *, restart: bool) -> None:
        """Start (or continue) a stack on the scope; refused while one runs."""
        t = self.tracker
        if t.running:
            raise ValueRejected("SEESTAR_STACK", f"the scope is already stacking ({t.stacked} subs); "
                                "stop it first")
        t.started(datetime.now(UTC), keep_counts=not restart)
        self._last_sent = None
        self.spawn(self._start(restart))

    async def _start(self, restart: bool) -> None:
        client = self.client
        try:
            if not client.state.preview_active:
                await client.start_preview()
            await client.start_stack(restart)
        except CommandFailed as exc:
            if exc.code != ErrorCode.STACK_ALREADY_RUNNING:
                self._start_failed(exc)
                return
            # the scope started one by itself (stack_after_goto, the app): follow that one
            self.message("the Seestar was already stacking: following its stack", "WARNING")
            await self._adopt_scope_stack(client)
        except IndiSeestarError as exc:
            self._start_failed(exc)

    def _start_failed(self, exc: IndiSeestarError) -> None:
        self.tracker.running = False
        self.tracker.failure = str(exc)
        self._show_state(State.ALERT, f"[ERROR] the stack did not start: {exc}")
        self.stack_exposure.stack_ended(str(exc))

    async def stop_stack(self) -> None:
        """Stop the scope's stack (its Stack cancel brings the final image)."""
        await self.client.stop_stack()

    async def _stop(self) -> None:
        try:
            await self.stop_stack()
        except IndiSeestarError as exc:
            self._show_state(State.ALERT, f"[ERROR] the stack did not stop: {exc}")

    def _refuse_while_stacking(self, prop: str) -> None:
        if self.tracker.running:
            raise ValueRejected(prop, "stack settings cannot change while the scope stacks; stop the stack first")

    async def _apply(self, prop: str, new: StackSettings) -> None:
        self._refuse_while_stacking(prop)
        await self.client.apply_stack_settings(self.settings, new)
        self.settings = new
        self._show_settings()

    async def _on_sub(self, values: dict[str, bool]) -> None:
        name = next((k for k, v in values.items() if v), "")
        seconds = int(name.removeprefix("SUB_").removesuffix("S") or 0)
        if seconds not in self.settings.allowed_subs_s():
            raise ValueRejected("SEESTAR_STACK_SUB", f"{seconds} s subs need the firmware's expert mode "
                                f"(this scope takes {', '.join(map(str, self.settings.allowed_subs_s()))} s)")
        await self._apply("SEESTAR_STACK_SUB", self.settings.replace(sub_s=seconds))

    async def _on_dither(self, values: dict[str, float]) -> None:
        merged = {**self.dither.values(), **values}
        await self._apply("SEESTAR_STACK_DITHER", self.settings.replace(
            dither_pix=round(float(merged["PIXELS"])), dither_every=round(float(merged["EVERY"]))))

    async def _on_options(self, values: dict[str, bool]) -> None:
        merged = {**props.option_values(self.settings), **values}
        await self._apply("SEESTAR_STACK_OPTIONS", props.with_options(self.settings, merged))

    def _show_settings(self) -> None:
        s = self.settings
        self.sub.reset()
        if f"SUB_{s.sub_s}S" in self.sub:
            self.sub[f"SUB_{s.sub_s}S"] = True
        self.dither.update({"PIXELS": s.dither_pix, "EVERY": s.dither_every})
        self.options.update(dict(props.option_values(s)))
        for vector in (self.sub, self.dither, self.options):
            self.publish(vector, state=State.OK)

    def _on_fetch(self, values: dict[str, bool]) -> None:
        self.fetch.reset()
        if self.stack_exposure.running:
            raise ValueRejected("SEESTAR_STACK_FETCH", "a CCD_EXPOSURE runs the stack: its image comes at its end")
        self.deliveries.want("demand")
        self.publish(self.fetch, state=State.BUSY)

    def _on_fixed(self, prop: str, reason: str):  # type: ignore[no-untyped-def]
        def handler(values: dict[str, float]) -> None:
            vector = self.frame
            wanted = {**vector.values(), **values}
            if wanted != vector.values():
                raise ValueRejected(prop, reason)
        return handler

    def _on_frame_type(self, values: dict[str, bool]) -> None:
        if not values.get("FRAME_LIGHT", False):
            raise ValueRejected("CCD_FRAME_TYPE", "the Seestar stacks light frames only")

    def _on_exposure(self, values: dict[str, float]) -> None:
        self.stack_exposure.start(values["CCD_EXPOSURE_VALUE"])

    def _show_exposure(self, state: State, seconds_left: float, message: str | None) -> None:
        self.exposure["CCD_EXPOSURE_VALUE"] = round(seconds_left, 3)
        self.publish(self.exposure, state=state, message=message)

    def _on_abort(self, values: dict[str, bool]) -> None:
        self.abort.reset()
        if self.stack_exposure.abort():
            self.message("Exposure aborted: the stack is stopped.")
            self.spawn(self._stop())
        self.exposure["CCD_EXPOSURE_VALUE"] = 0
        self.publish(self.exposure, state=State.IDLE)
        self.publish(self.abort, state=State.OK)

    # --- images --------------------------------------------------------------------------------

    async def _deliver_now(self, kind: str) -> None:
        t = self.tracker
        counts = (t.stacked, t.rejected)
        final = kind == "final"
        try:
            if not (final and self._last_sent == counts and t.stacked) and (t.stacked or kind == "demand"):
                await self.deliver(kind)
        except IndiSeestarError as exc:
            self.message(f"the stacked image could not be delivered: {exc}", "ERROR")
            if kind == "demand":
                self.publish(self.fetch, state=State.ALERT)
            if final:
                self._show_state(State.ALERT, f"[ERROR] the final stacked image could not be read: {exc}")
                self.stack_exposure.image_failed(str(exc))
            return
        except OSError as exc:
            self.message(f"cannot save the stacked image: {exc}", "ERROR")
            self.stack_exposure.image_failed(str(exc))
            return
        if kind == "demand":
            self.publish(self.fetch, state=State.OK)
        if final:
            self._show_state(State.OK if t.failure is None else State.ALERT,
                             f"[INFO] stack stopped: {t.stacked} subs, {t.integration_s:g} s")
            self.stack_exposure.image_delivered()

    async def deliver(self, kind: str) -> None:
        """Fetch the scope's stack now, make it FITS, send and/or save it."""
        client, t = self.client, self.tracker
        counts = (t.stacked, t.rejected)
        image = await client.get_stacked_image(STACK_IMAGE_TIMEOUT_S)
        facts = StackFacts(stacked=counts[0], rejected=counts[1], sub_s=t.sub_s,
                           first_sub_utc=t.first_sub_utc or t.started_utc or datetime.now(UTC),
                           target=t.target, gain=None)
        await self.publish_image(image.rgb, facts)
        self._last_sent = counts

    async def publish_image(self, rgb: np.ndarray, facts: StackFacts) -> None:
        """An (H, W, 3) uint16 stack as FITS, sent on CCD1 and/or saved (UPLOAD_MODE)."""
        optics, around, records = await camera_context(self.session.peers.get("camera"), self.client.state,
                                                       facts.first_sub_utc)
        parts = await asyncio.to_thread(stack_fits, rgb, facts, device_name=self.name, optics=optics,
                                        around=around, records=records, sensor_width_px=SENSOR_WIDTH_PX)
        plan = self.upload.plan()
        if plan.mode.saves:
            path = await asyncio.to_thread(save_frame, plan, parts)
            self.upload.show_file_path(str(path))
        if plan.mode.sends:
            await self.publish_blob(self.ccd1, "CCD1", parts)
