"""Image channel (TCP 4800) of the fake Seestar: raw preview frames, live-stack ZIPs, heartbeats.

Layer: sim. Requests are CRLF JSON lines (verify marker optional here: undocumented, §4.1).
Every connection is independent and has one sender task; a streaming connection holds at most
one pending preview frame (the newest wins), so a slow reader drops frames instead of growing
a buffer. Frames follow `protocol.frames`: 80-byte big-endian header, byte 15 = the low byte of
the request id (begin_streaming's id for pushed frames), little-endian pixels.
* begin_streaming: zero-size ack, then every completed live-preview frame (img_type 1,
  data_type 2, the model's width x height, can_debayer 1, image_id = frame sequence); on the S30
  family a ZIP with the same Bayer pixels, data_type 3 (seestarpy-s30 4ac531c).
* stop_streaming: ack, no more pushed frames.
* get_current_img: the latest completed frame, or a zero-size ack when there is none.
* get_stacked_img: ZIP with `raw_data` RGB (img_type 5, data_type 3), or a zero-size ack.
* test_connection: status frame (width = height = 0) with payload b"server connected!".
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from typing import Any

import numpy as np

from ..protocol.frames import DataType, FrameHeader, ImageType, encode_bayer_zip, encode_stack_zip
from .usecases_stack import StackKnobs
from ..protocol.methods import Method
from ..protocol.rpc import Request, RpcDecoder
from .camera import Camera
from .core import SimCore
from .listener import Listener
from .render import FrameSpec
from .trace import fingerprint
from .usecases_camera import ViewOps

_log = logging.getLogger(__name__)

STATUS_TEXT = b"server connected!"
MAX_QUEUED_REQUESTS = 16
MAX_IMAGE_CLIENTS = 8


def ack_header(frame_id: int, size: int = 0) -> bytes:
    """Header of a zero-size ack or a small status frame."""
    return FrameHeader(size=size, frame_id=frame_id, width=0, height=0, img_type=ImageType.ACK,
                       data_type=DataType.STATUS).pack()


class ImageConnection:
    """One 4800 client: its requests, its streaming state and its sender task."""

    def __init__(self, server: ImageServer, writer: asyncio.StreamWriter) -> None:
        self._server = server
        self.writer = writer
        self.stream_id: int | None = None
        self.pending: FrameSpec | None = None
        self.requests: deque[Request] = deque()
        self.wake = asyncio.Event()
        self.truncate_next = False
        self.frames_sent = 0
        self.frames_dropped = 0

    def offer(self, spec: FrameSpec) -> None:
        """A new preview frame: keep only the newest unsent one."""
        if self.pending is not None:
            self.frames_dropped += 1
        self.pending = spec
        self.wake.set()

    async def run_sender(self) -> None:
        """Answer queued requests in order, then push the pending preview frame."""
        while True:
            await self.wake.wait()
            self.wake.clear()
            while self.requests or self.pending is not None:
                if self.requests:
                    await self._answer(self.requests.popleft())
                else:
                    spec, self.pending = self.pending, None
                    if spec is not None and self.stream_id is not None:
                        await self.send_frame(spec, self.stream_id)

    async def _answer(self, req: Request) -> None:
        frame_id = req.id if isinstance(req.id, int) else 0
        srv = self._server
        try:
            method = Method(req.method)
        except ValueError:
            return
        if method is Method.TEST_CONNECTION:
            await self.write(ack_header(frame_id, len(STATUS_TEXT)), STATUS_TEXT)
        elif method is Method.BEGIN_STREAMING:
            self.stream_id = frame_id
            await self.write(ack_header(frame_id))
        elif method is Method.STOP_STREAMING:
            self.stream_id, self.pending = None, None
            await self.write(ack_header(frame_id))
        elif method is Method.GET_CURRENT_IMG:
            latest = srv.camera.latest
            if latest is None:
                await self.write(ack_header(frame_id))
            else:
                await self.send_frame(latest, frame_id)
        elif method is Method.GET_STACKED_IMG:
            stacked = await srv.stacked_zip()
            if stacked is None:
                await self.write(ack_header(frame_id))
            else:
                payload, (height, width) = stacked
                header = FrameHeader(size=len(payload), frame_id=frame_id, width=width,
                                     height=height, img_type=ImageType.STACKED,
                                     data_type=DataType.COMPRESSED, image_id=srv.core.state.stack.stacked_frames)
                knobs = srv.stack_knobs
                if knobs is not None and knobs.truncate_next_image:  # fault: cut short, then drop
                    knobs.truncate_next_image = False
                    await self.write(header.pack(), payload[: len(payload) // 2])
                    self.writer.transport.abort()
                    return
                trace = srv.core.trace
                if trace is not None:  # benchmarks (B8): stamp when the last byte is in the kernel
                    self.writer.transport.set_write_buffer_limits(high=0)
                await self.write(header.pack(), payload)
                if trace is not None:
                    trace.record("stacked", image_id=header.image_id, bytes=len(payload))

    async def send_frame(self, spec: FrameSpec, frame_id: int) -> None:
        """Render (if needed) and write one raw frame."""
        srv = self._server
        pixels = await srv.camera.pixels(spec)
        data_type = DataType.RAW
        if srv.zip_previews:
            payload = memoryview(await srv.core.in_worker(encode_bayer_zip, pixels))
            data_type = DataType.COMPRESSED
        else:
            payload = memoryview(np.ascontiguousarray(pixels, dtype="<u2")).cast("B")
        height, width = pixels.shape
        header = FrameHeader(size=len(payload), frame_id=frame_id, width=width, height=height,
                             img_type=ImageType.PREVIEW, data_type=data_type, can_debayer=1,
                             image_id=spec.image_id).pack()
        if self.truncate_next:
            self.truncate_next = False
            await self.write(header, payload[: len(payload) // 2])
            return
        trace = self._server.core.trace
        if trace is None:
            await self.write(header, payload)
        else:  # benchmarks: stamp when the last byte is in the kernel, not at the low-water mark
            self.writer.transport.set_write_buffer_limits(high=0)
            await self.write(header, payload)
            trace.record("frame", image_id=spec.image_id, fp=fingerprint(pixels))
        self.frames_sent += 1

    async def write(self, *parts: Any) -> None:
        """Write buffers and wait until the socket takes them (not while the link is frozen)."""
        await self._server.core.faults.gate.wait_open()
        for part in parts:
            self.writer.write(part)
        await self.writer.drain()


class ImageServer(Listener):
    """The 4800 listener."""

    max_clients = MAX_IMAGE_CLIENTS

    def __init__(self, core: SimCore, camera: Camera, view: ViewOps, *,
                 zip_previews: bool = False) -> None:
        super().__init__()
        self.core = core
        self.camera = camera
        self._view = view
        #: Previews as ZIP-compressed Bayer, data_type 3 (the S30 family).
        self.zip_previews = zip_previews
        self.connections: dict[int, ImageConnection] = {}
        self._next = 0
        self._zip_cache: tuple[tuple[int, bool, int], tuple[bytes, tuple[int, int]]] | None = None

    def _close_connection(self, conn: ImageConnection) -> None:
        conn.writer.transport.abort()

    @property
    def size_px(self) -> tuple[int, int]:
        """(width, height) of this camera's frames."""
        return self.camera.width_px, self.camera.height_px

    @property
    def stack_knobs(self) -> StackKnobs | None:
        """The live stack's fault knobs (the view's)."""
        return getattr(self._view, "stack_knobs", None)

    async def stacked_zip(self) -> tuple[bytes, tuple[int, int]] | None:
        """The live stack as the firmware's ZIP and its (height, width), cached per count and size."""
        stack = self.core.state.stack
        key = (stack.stacked_frames, bool(self.core.state.settings["stack"].get("drizzle2x")), id(stack.rgb_sum))
        if self._zip_cache is not None and self._zip_cache[0] == key and stack.has_image():
            return self._zip_cache[1]
        rgb = await self.core.in_worker(self._view.stacked_rgb)
        if rgb is None:
            return None
        payload: bytes = await self.core.in_worker(encode_stack_zip, rgb)
        result = (payload, (int(rgb.shape[0]), int(rgb.shape[1])))
        self._zip_cache = (key, result)
        return result

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        core = self.core
        if not await self._accept(core, "image", writer):
            return
        key = self._next
        self._next += 1
        conn = ImageConnection(self, writer)
        self.connections[key] = conn
        self.camera.subscribe(key, lambda spec: conn.offer(spec) if conn.stream_id is not None else None)
        sender = asyncio.get_running_loop().create_task(conn.run_sender())
        decoder = RpcDecoder()
        try:
            while not sender.done():
                data = await reader.read(65536)
                await core.faults.gate.wait_open()
                if not data:
                    break
                for msg in decoder.feed(data):
                    if isinstance(msg, Request):
                        core.faults.counters.requests[msg.method] += 1
                        if len(conn.requests) < MAX_QUEUED_REQUESTS:
                            conn.requests.append(msg)
                            conn.wake.set()
                    else:
                        core.faults.counters.garbage_lines += 1
        except (ConnectionError, OSError):
            pass
        finally:
            self.camera.unsubscribe(key)
            self.connections.pop(key, None)
            sender.cancel()
            try:
                await sender
            except (asyncio.CancelledError, ConnectionError, OSError):
                pass
            except Exception:  # noqa: BLE001 - a sender bug must not kill the server
                _log.exception("image sender failed")
            writer.transport.abort()

    # --- fault knobs -------------------------------------------------------------------------

    def drop_all(self, mid_frame: bool) -> int:
        """Close every connection, first writing half a frame header+payload when `mid_frame`."""
        conns = list(self.connections.values())
        for conn in conns:
            if mid_frame:
                width, height = self.size_px
                header = FrameHeader(size=width * height * 2, frame_id=conn.stream_id or 0,
                                     width=width, height=height, img_type=ImageType.PREVIEW,
                                     data_type=DataType.RAW, can_debayer=1).pack()
                conn.writer.write(header + bytes(width * height))
            if mid_frame:
                conn.writer.transport.close()  # flushes what was written, then closes
            else:
                conn.writer.transport.abort()
        return len(conns)

    def broadcast_raw(self, data: bytes) -> int:
        """Write raw bytes to every connection (between frames: the sender is idle or queued)."""
        for conn in self.connections.values():
            conn.writer.write(data)
        return len(self.connections)

    def truncate_next_frame(self) -> int:
        """The next raw frame on every connection carries only half its announced payload."""
        for conn in self.connections.values():
            conn.truncate_next = True
        return len(self.connections)
