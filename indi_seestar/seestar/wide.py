"""WideFrames: the S30 Pro's wide-angle camera, its frames read from its own image port (4804).

Layer: seestar (asyncio engine). Must not import indi/, devices/ or sim/.
The wide camera runs as the `SecondView` pipeline while `wide_cam` is set and the star view
runs, and streams on 4804 in the 4800 framing (seestarpy-s30 4ac531c `wide.py`, S30 Pro fw
7.75). Its exposure is the scope's (`second_camera.exp_ms.continuous`); we do not set it.
A second ImageStream thread reads 4804 only while a frame is wanted: `begin_streaming` at the
first request, `stop_streaming` once no request waits.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass

from ..config import SeestarConfig
from ..errors import ConnectionLost, RequestTimeout
from ..protocol.rpc import VerifyPolicy
from .images import ImageItem, ImageStream
from .pool import RawFrame
from .timeouts import Timeouts

log = logging.getLogger(__name__)


@dataclass(eq=False)
class _Wait:
    """One pending `next_frame`."""

    started_after_s: float
    exposure_s: float
    future: asyncio.Future[RawFrame]


class WideFrames:
    """Frames of the wide camera by exposure start (see the module docstring)."""

    def __init__(self, config: SeestarConfig, timeouts: Timeouts) -> None:
        self._config, self._t = config, timeouts
        self._stream: ImageStream | None = None
        self._waits: list[_Wait] = []
        self._closed = False

    async def next_frame(self, *, started_after_s: float, exposure_s: float, timeout_s: float,
                         policy: VerifyPolicy) -> RawFrame:
        """The first frame whose exposure (`exposure_s`, the scope's) began after `started_after_s`.

        `started_after_s` is `time.monotonic()`. RequestTimeout after `timeout_s`; the caller
        owns the frame (`with frame:`).
        """
        if self._closed:
            raise ConnectionLost("the client is closed")
        wait = _Wait(started_after_s, exposure_s, asyncio.get_running_loop().create_future())
        self._waits.append(wait)
        try:
            stream = self._ensure_stream(policy)
            await stream.set_streaming(True)
            async with asyncio.timeout(timeout_s):
                return await wait.future
        except TimeoutError:
            raise RequestTimeout("wide camera frame (4804)", timeout_s) from None
        finally:
            if wait in self._waits:
                self._waits.remove(wait)
            if not self._waits and self._stream is not None and not self._closed:
                await self._stream.set_streaming(False)

    async def close(self) -> None:
        """Fail the waits and stop the thread."""
        self._closed = True
        for wait in self._waits:
            if not wait.future.done():
                wait.future.set_exception(ConnectionLost("the client is closed"))
        if self._stream is not None:
            await self._stream.close()

    def _ensure_stream(self, policy: VerifyPolicy) -> ImageStream:
        if self._stream is None:
            self._stream = ImageStream(self._config.host, self._config.wide_image_port,
                                       loop=asyncio.get_running_loop(), timeouts=self._t,
                                       on_item=self._on_item)
            self._stream.start()
        self._stream.policy = policy
        return self._stream

    def _on_item(self, item: ImageItem) -> None:
        """On the loop: hand a frame to the first wait it satisfies, else release it."""
        if isinstance(item, RawFrame):
            cfg = self._config
            for wait in self._waits:
                started_s = (item.first_byte_monotonic_s - wait.exposure_s / cfg.time_factor
                             - cfg.readout_margin_s)
                if not wait.future.done() and started_s >= wait.started_after_s:
                    wait.future.set_result(item)
                    return
        item.release()
