"""Imaging: the loop-side half of the image pipeline (raw-frame requests, live-stack fetches).

Layer: seestar (asyncio engine). Must not import indi/, devices/ or sim/.
Owns the ImageStream thread and the FrameRouter; the client facade delegates to it.
Commands on the control port go through the `send` function it is given (which raises
CommandFailed on a non-zero code); scope state is read and updated through callbacks.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from ..config import SeestarConfig
from ..errors import CommandFailed, ConnectionLost, OperationFailed, RequestTimeout
from ..protocol import builders_imaging, builders_mount, builders_session
from ..protocol.events import TERMINAL_STATES
from ..protocol.methods import Call, Method, Stage
from ..protocol.results import parse_view_state
from ..protocol.rpc import Reply, VerifyPolicy
from .images import ImageItem, ImageRequestId, ImageStream
from .pool import FrameStarted, RawFrame, StackedImage, StackedPayload
from .router import FrameRequest, FrameRouter
from .sockets import ImageStats
from .state import ScopeState
from .timeouts import Timeouts

log = logging.getLogger(__name__)

Send = Callable[[Call], Awaitable[Reply]]
#: View stages during which we refuse to start the preview ourselves (it would disturb them).
_BUSY_STAGES = frozenset({Stage.STACK, Stage.AUTO_GOTO, Stage.AUTO_FOCUS, Stage.DARK_LIBRARY})


@dataclass(eq=False)
class _StackRequest:
    """One pending `get_stacked_image`."""

    future: asyncio.Future[StackedPayload]
    give_up: asyncio.TimerHandle | None = None


class Imaging:
    """Raw frames by exposure start, live-stack images, and the 4800 thread's life cycle."""

    def __init__(self, config: SeestarConfig, timeouts: Timeouts, *, send: Send,
                 get_state: Callable[[], ScopeState],
                 update_state: Callable[..., None]) -> None:
        self._config, self._t = config, timeouts
        self._send, self._get_state, self._update_state = send, get_state, update_state
        self.router = FrameRouter(time_factor=config.time_factor,
                                  readout_margin_s=config.readout_margin_s)
        self._stream: ImageStream | None = None
        self._link_up = asyncio.Event()
        self._stack_requests: list[_StackRequest] = []
        self._lock = asyncio.Lock()  # one stream reconfiguration at a time

    # --- life cycle -------------------------------------------------------------

    def start(self, policy: VerifyPolicy) -> None:
        """Start the 4800 thread."""
        self._stream = ImageStream(self._config.host, self._config.image_port,
                                   loop=asyncio.get_running_loop(), timeouts=self._t,
                                   on_item=self._on_item, on_link=self._on_link)
        self._stream.policy = policy
        self._stream.start()

    def set_policy(self, policy: VerifyPolicy) -> None:
        """Verify-marker placement for 4800 requests (follows the control session)."""
        if self._stream is not None:
            self._stream.policy = policy

    def sync_exposure(self, exposure_ms: int | None) -> None:
        """The scope reports its continuous exposure (poll or Setting event)."""
        if exposure_ms is not None and exposure_ms != self.router.exposure_ms:
            drain = self._drain_s(self.router.exposure_ms)
            self.router.new_generation(exposure_ms=exposure_ms, ack_monotonic_s=time.monotonic(),
                                       drain_s=drain)

    def link_lost(self, exc: ConnectionLost) -> None:
        """The control session dropped: every pending frame wait fails now, naming the cause."""
        self.router.fail_all(ConnectionLost(f"lost the link to the Seestar ({exc.reason})"))

    async def close(self) -> None:
        """Fail pending requests and stop the thread."""
        lost = ConnectionLost("the client is closed")
        self.router.fail_all(lost)
        for request in self._stack_requests:
            if not request.future.done():
                request.future.set_exception(ConnectionLost(lost.reason))
        if self._stream is not None:
            await self._stream.close()

    @property
    def thread_alive(self) -> bool:
        """True while the 4800 thread runs."""
        return self._stream is not None and self._stream.is_alive

    def stats(self) -> ImageStats | None:
        """4800 counters, once started."""
        return self._stream.stats() if self._stream is not None else None

    # --- raw frames -------------------------------------------------------------

    async def next_raw_frame(self, *, started_after_s: float, exposure_s: float,
                             timeout_s: float, restart_exposure: bool = False) -> RawFrame:
        """See SeestarClient.next_raw_frame."""
        exposure_ms = round(exposure_s * 1000)
        if exposure_ms <= 0:
            raise ValueError(f"exposure_s must be positive, got {exposure_s}")
        request = self.router.add(started_after_s, exposure_ms)
        self._refresh_wanted()
        setup = asyncio.ensure_future(self._prepare(request, exposure_ms, restart_exposure))
        try:
            async with asyncio.timeout(timeout_s):
                # A request failed meanwhile (link lost) ends the wait without the setup.
                await asyncio.wait({setup, request.future}, return_when=asyncio.FIRST_COMPLETED)
                failed = (request.future.done() and not request.future.cancelled()
                          and request.future.exception())
                if failed:
                    raise failed
                await setup
                frame = await request.future
            request.taken = True
            return frame
        except RequestTimeout:
            raise
        except TimeoutError:
            raise RequestTimeout("next_raw_frame", timeout_s) from None
        finally:
            if not setup.done():
                setup.cancel()
            self.router.remove(request)
            self._refresh_wanted()

    async def _prepare(self, request: FrameRequest, exposure_ms: int,
                       restart_exposure: bool) -> None:
        """Exposure length, preview and streaming in place for `request`."""
        async with self._lock:
            running = await self._preview_running()
            if (running and restart_exposure and self._restart_pays(exposure_ms)
                    and not request.future.done()):
                await self._restart_preview(exposure_ms)
            else:
                await self._ensure_exposure(exposure_ms)
                if not running:
                    await self._start_preview()
            self._refresh_wanted()
            await self._ensure_streaming()

    async def set_continuous_exposure_ms(self, exposure_ms: int) -> None:
        """Set the preview exposure; frames of the old length are never handed out afterwards."""
        if exposure_ms <= 0:
            raise ValueError(f"exposure_ms must be positive, got {exposure_ms}")
        async with self._lock:
            await self._apply_exposure(exposure_ms)

    async def start_preview(self) -> None:
        """`iscope_start_view {"mode":"star"}`: opens a parked arm on a real scope."""
        async with self._lock:
            await self._start_preview()

    async def ensure_preview(self) -> None:
        """Start the star preview unless it runs (OperationFailed while a busy stage runs)."""
        async with self._lock:
            if not await self._preview_running():
                await self._start_preview()

    async def stop_preview(self) -> None:
        """Stop the ContinuousExposure stage (camera idle; the view mode stays)."""
        await self._send(builders_mount.stop_view(Stage.CONTINUOUS_EXPOSURE))
        self._update_state(preview_active=False)

    async def stop_streaming(self) -> None:
        """Stop the 4800 preview pushes unless a request waits; next_raw_frame resumes them."""
        async with self._lock:
            stream = self._stream
            if stream is not None and stream.streaming_wanted and not self.router.pending:
                await stream.set_streaming(False)

    async def _ensure_exposure(self, exposure_ms: int) -> None:
        if self.router.exposure_ms != exposure_ms:
            await self._apply_exposure(exposure_ms)

    async def _apply_exposure(self, exposure_ms: int) -> None:
        old = self.router.exposure_ms
        await self._send(builders_session.set_continuous_exposure_ms(exposure_ms))
        self.router.new_generation(exposure_ms=exposure_ms, ack_monotonic_s=time.monotonic(),
                                   drain_s=self._drain_s(old))
        self._update_state(continuous_exposure_ms=exposure_ms)

    def _drain_s(self, old_exposure_ms: int | None) -> float:
        """How long an exposure of the old length may still deliver (0 if no preview runs)."""
        if old_exposure_ms is None or self._get_state().preview_active is False:
            return 0.0
        return self.router.exposure_real_s(old_exposure_ms) + self.router.readout_margin_s

    async def _preview_running(self) -> bool:
        """Whether ContinuousExposure runs; OperationFailed if a stage we must not disturb runs."""
        if self._get_state().preview_active:
            return True
        try:
            view = parse_view_state((await self._send(builders_session.get_view_state())).result)
        except CommandFailed as exc:
            log.debug("get_view_state failed (%s); starting the preview", exc)
            return False
        # The stage's own state: after stop_view(ContinuousExposure) the View still works.
        if (view.stage == Stage.CONTINUOUS_EXPOSURE and view.state != "cancel"
                and view.stage_state not in TERMINAL_STATES):
            self._update_state(preview_active=True)
            return True
        if view.stage in _BUSY_STAGES and view.stage_state not in ("complete", "fail", "cancel"):
            raise OperationFailed("next_raw_frame",
                                  f"the scope is busy with {view.stage}; stop it first")
        return False

    def _restart_pays(self, exposure_ms: int) -> bool:
        """A restarted exposure's frame is sure to come after the stop + margin barrier.

        Otherwise (exposures no longer than the readout margin) it could be taken for a
        frame of the stopped exposure and dropped, and the restart would cost an exposure.
        """
        return self.router.exposure_real_s(exposure_ms) > self.router.readout_margin_s

    async def _restart_preview(self, exposure_ms: int) -> None:
        """Abandon the preview exposure under way: stop the stage, start afresh with `exposure_ms`.

        The same commands as stopping and starting the star view by hand (§8.1); the new
        exposure begins ~0.4 s after the request on a real scope (seestar-sessions s50_fw670_a:
        ContinuousExposure working 0.36 s after iscope_start_view). See
        FrameRouter.preview_stopped.
        """
        await self.stop_preview()
        self.router.preview_stopped(time.monotonic())
        if self.router.exposure_ms != exposure_ms:
            await self._apply_exposure(exposure_ms)  # while stopped: no old-length frame follows
        await self._send(builders_mount.start_view_star())
        self._update_state(preview_active=True)

    async def _start_preview(self) -> None:
        await self._send(builders_mount.start_view_star())
        if self.router.exposure_ms is not None:  # a fresh session: nothing before now is ours
            self.router.new_generation(exposure_ms=self.router.exposure_ms,
                                       ack_monotonic_s=time.monotonic(), drain_s=0.0)
        self._update_state(preview_active=True)

    async def _ensure_streaming(self) -> None:
        stream = self._require_stream()
        if not stream.streaming_wanted:
            await stream.set_streaming(True)

    # --- live stack -------------------------------------------------------------

    async def start_stack(self, restart: bool) -> None:
        """`iscope_start_stack`."""
        await self._send(builders_imaging.start_stack(restart))

    async def stop_stack(self) -> None:
        """Stop the Stack stage (the preview goes on)."""
        await self._send(builders_mount.stop_view(Stage.STACK))

    async def get_stacked_image(self, timeout_s: float) -> StackedImage:
        """See SeestarClient.get_stacked_image."""
        stream = self._require_stream()
        request = _StackRequest(asyncio.get_running_loop().create_future())
        self._stack_requests.append(request)
        payload: StackedPayload | None = None
        try:
            async with asyncio.timeout(timeout_s):
                while not await stream.request(builders_imaging.get_stacked_img(),
                                               ImageRequestId.GET_STACKED):
                    await self._link_up.wait()  # 4800 is reconnecting
                payload = await request.future
        except TimeoutError:
            raise RequestTimeout(str(builders_imaging.get_stacked_img().method), timeout_s) from None
        finally:
            self._forget(request, taken=payload is not None)
        return await asyncio.to_thread(payload.decode)

    def _forget(self, request: _StackRequest, *, taken: bool) -> None:
        if request in self._stack_requests:
            self._stack_requests.remove(request)
        if request.give_up is not None:
            request.give_up.cancel()
        future = request.future
        if not future.done():
            future.cancel()
        elif not taken and not future.cancelled() and future.exception() is None:
            future.result().release()  # assigned while the caller was being cancelled

    # --- items from the thread ----------------------------------------------------

    def _on_item(self, item: ImageItem) -> None:
        if isinstance(item, RawFrame):
            self.router.feed(item)
            self._refresh_wanted()
            return
        if item.header.frame_id != ImageRequestId.GET_STACKED:
            item.release()
            return
        request = next((r for r in self._stack_requests if not r.future.done()), None)
        if request is None:
            item.release()
            return
        if isinstance(item, StackedPayload):
            if request.give_up is not None:
                request.give_up.cancel()
            request.future.set_result(item)
        elif isinstance(item, FrameStarted):
            if request.give_up is not None:  # the ZIP is on its way: no more giving up
                request.give_up.cancel()
                request.give_up = None
        elif request.give_up is None:
            # §10 quirks 7/8: an empty ack may precede the ZIP, or be all we get without a stack.
            request.give_up = asyncio.get_running_loop().call_later(
                self._t.stacked_after_ack_s, _fail_no_stack, request.future)

    def _refresh_wanted(self) -> None:
        """Tell the image thread which streamed frames it may drop unread (router.wanted_after_s)."""
        if self._stream is not None:
            self._stream.frames_wanted_after_s = self.router.wanted_after_s()

    def _on_link(self, up: bool) -> None:
        if up:
            self._link_up.set()
        else:
            self._link_up.clear()
            # a stacked image cut short by the drop never comes: fail its request now, not at
            # its timeout (issue 11; the caller asks again on the new link)
            for request in self._stack_requests:
                if not request.future.done():
                    request.future.set_exception(ConnectionLost("the image link dropped before the "
                                                                "stacked image was complete"))

    def _require_stream(self) -> ImageStream:
        if self._stream is None:
            raise ConnectionLost("the image stream is not running (connect() first)")
        return self._stream


def _fail_no_stack(future: asyncio.Future[StackedPayload]) -> None:
    if not future.done():
        future.set_exception(OperationFailed(
            str(Method.GET_STACKED_IMG), "no live stack: the scope answered with an empty frame"))
