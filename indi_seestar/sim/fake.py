"""FakeSeestar: the whole fake scope on loopback (4700, 4800, UDP 4720), in-process or in a thread.

Layer: sim. Composition root: builds the clock, state, renderer, use cases, handlers and
servers, and exposes what tests need (`state`, `faults`, `clock`, ports). `SimThread` runs a
FakeSeestar on its own event loop in a background thread for synchronous code.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import logging
import threading
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any, Literal, TypeVar

from ..protocol.auth import load_public_key
from ..protocol.methods import Method
from .alpaca_server import DEFAULT_VERSION as ALPACA_DEFAULT_VERSION
from .alpaca_server import AlpacaServer
from .bus import EventBus
from .camera import Camera
from .clock import SimClock
from .core import SimCore
from .discovery import DiscoveryServer
from .files import Album, FileServer
from .handlers_devices import register as register_devices
from .handlers_state import register as register_state
from .image_server import ImageServer
from .profile import Profile
from .render import Renderer
from .rpc_server import ControlServer, Handler
from .scenarios import Faults
from .state import DEFAULT_LAT_DEG, DEFAULT_LON_DEG, SimState
from .trace import Trace
from .tycho import default_catalogue_path, open_sky
from .usecases_camera import ViewOps
from .usecases_batch import BatchOps, save_sub
from .usecases_batch import register as register_batch
from .usecases_extras import ExtrasOps
from .usecases_mount import MountOps
from .usecases_polar import PolarAlign
from .wide import SecondView
from .wiring import Ops

_log = logging.getLogger(__name__)
T = TypeVar("T")


class FakeSeestar:
    """A fake S50/S30/S50P/S30P speaking the real wire protocol; `await start()`, `await stop()`."""

    def __init__(
        self,
        model: str = "S50",
        firmware: str = "6.70",
        time_factor: float = 1.0,
        public_key_pem: bytes | str | None = None,
        host: str = "127.0.0.1",
        control_port: int = 0,
        image_port: int = 0,
        discovery_port: int = 0,
        seed: int = 1,
        *,
        wide_image_port: int = 0,
        parked: bool = True,
        equ_mode: bool = False,
        lat_deg: float = DEFAULT_LAT_DEG,
        lon_deg: float = DEFAULT_LON_DEG,
        sky_seed: int = 0,
        sky_catalogue: Path | None | Literal["default"] = "default",
        clock: SimClock | None = None,
        serial: str | None = None,
        idle_drop_s: float | None | str = "profile",
        alpaca_port: int | None = None,
        alpaca_discovery_port: int = 0,
        alpaca_version: str = ALPACA_DEFAULT_VERSION,
    ) -> None:
        self.profile = Profile.make(model, firmware)
        self.clock = clock or SimClock(time_factor)
        self.host = host
        self._ports = (control_port, image_port, discovery_port)
        self._wide_port = wide_image_port
        self.state = SimState.boot(self.profile, self.clock, seed=seed, parked=parked, equ_mode=equ_mode,
                                   lat_deg=lat_deg, lon_deg=lon_deg)
        if serial is not None:
            self.state.serial = serial
        self.bus = EventBus(self.clock)
        self.faults = Faults(self)
        if sky_catalogue == "default":
            sky_catalogue = default_catalogue_path()
        self.renderer = Renderer(self.profile, open_sky(sky_catalogue, sky_seed), self.state.best_focus_steps, seed)
        self.core = SimCore(self.state, self.bus, self.faults, self.renderer)
        self.camera = Camera(self.core)
        self.mount_ops = MountOps(self.core)
        self.view = ViewOps(self.core, self.camera, self.mount_ops)
        self.extras = ExtrasOps(self.core, self.view)
        handlers: dict[Method, Handler] = {}
        key = None
        if public_key_pem is not None:
            pem = public_key_pem.encode() if isinstance(public_key_pem, str) else public_key_pem
            key = load_public_key(pem)
        self.control = ControlServer(self.core, handlers, verify_key=key)
        self.polar = PolarAlign(self.core)
        if idle_drop_s != "profile":  # scope seconds; None = never (the profile's default otherwise)
            self.control.idle_drop_s = None if idle_drop_s is None else float(idle_drop_s)
        #: S30P: the wide camera's SecondView pipeline; its image server is `wide_image` (4804).
        self.second_view: SecondView | None = None
        if self.profile.wide_in_star_mode:
            self.second_view = SecondView(self.core, sky_seed=sky_seed, seed=seed)
        ops = Ops(self.core, self.camera, self.mount_ops, self.view, self.extras, self.control,
                  self.second_view, self.polar)
        register_state(handlers, ops)
        register_devices(handlers, ops)
        self.album = Album()
        self.files = FileServer(self.album)
        self.batch = BatchOps(self.core, self.album)
        register_batch(handlers, self.batch, handlers[Method.GET_APP_STATE])
        self.view.save_sub = lambda target, exposure_s, t_start_s, raw: save_sub(
            self.core, self.album, target, exposure_s, t_start_s, raw)
        self.image = ImageServer(self.core, self.camera, self.view,
                                 zip_previews=self.profile.zip_previews)
        self.discovery = DiscoveryServer(self.core, host)
        self.wide_image: ImageServer | None = None
        if self.second_view is not None:
            self.wide_image = ImageServer(self.core, self.second_view.camera, self.view,
                                          zip_previews=self.profile.zip_previews)
        #: ZWO's Alpaca server (HTTP 32323, UDP 32227) when `alpaca_port` is given (0 = free).
        self.alpaca: AlpacaServer | None = None
        self._alpaca_ports = (alpaca_port, alpaca_discovery_port)
        if alpaca_port is not None:
            self.alpaca = AlpacaServer(self.core, self.camera, self.mount_ops, self.extras, host,
                                       alpaca_version)
        self.loop: asyncio.AbstractEventLoop | None = None
        if self.profile.login_required and key is None:
            _log.warning("firmware %s requires login but no public key was given: nobody can log in",
                         self.profile.firmware)

    # --- life cycle ----------------------------------------------------------------------------

    async def start(self) -> None:
        """Bind the three ports and start the background activity."""
        self.loop = asyncio.get_running_loop()
        control_port, image_port, discovery_port = self._ports
        await self.control.start(self.host, control_port)
        await self.image.start(self.host, image_port)
        await self.discovery.start(discovery_port)
        if self.wide_image is not None and self.second_view is not None:
            await self.wide_image.start(self.host, self._wide_port)
            self.second_view.start()
        if self.alpaca is not None:
            await self.alpaca.start(self._alpaca_ports[0] or 0, self._alpaca_ports[1])
        await self.files.start(self.host, 0)  # the scope's HTTP file server (80 on a real one)
        self.core.spawn("pi_status", self.extras.pi_status_loop())

    async def stop(self) -> None:
        """Close every socket and cancel every task (a frozen link is thawed first)."""
        self.faults.gate.thaw()
        await self.control.stop()
        await self.image.stop()
        if self.wide_image is not None:
            await self.wide_image.stop()
        await self.discovery.stop()
        if self.alpaca is not None:
            await self.alpaca.stop()
        await self.files.stop()
        await self.core.close()
        if self.core.trace is not None:
            self.core.trace.close()

    def enable_trace(self, trace: Trace) -> None:
        """Record request/event/frame times to `trace` (benchmarks; see sim/trace.py)."""
        self.core.trace = trace
        self.bus.trace = trace

    async def __aenter__(self) -> FakeSeestar:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    @property
    def control_port(self) -> int:
        """TCP port of the control channel (4700 on a real scope)."""
        return self.control.port

    @property
    def image_port(self) -> int:
        """TCP port of the image channel (4800)."""
        return self.image.port

    @property
    def wide_image_port(self) -> int | None:
        """TCP port of the wide camera's image channel (4804), None without one."""
        return self.wide_image.port if self.wide_image is not None else None

    @property
    def files_port(self) -> int:
        """TCP port of the read-only HTTP file server (80 on a real scope)."""
        return self.files.port

    @property
    def discovery_port(self) -> int:
        """UDP port of discovery (4720)."""
        return self.discovery.port

    @property
    def alpaca_port(self) -> int | None:
        """HTTP port of the Alpaca server (32323), None without one."""
        return self.alpaca.port if self.alpaca is not None else None

    @property
    def alpaca_discovery_port(self) -> int | None:
        """UDP port of Alpaca discovery (32227), None without the server."""
        return self.alpaca.discovery_port if self.alpaca is not None else None

    # --- test helpers --------------------------------------------------------------------------

    def point_at(self, ra_hours: float, dec_deg: float, *, tracking: bool = True) -> None:
        """Put the true pointing at (ra, dec) at once, arm open (no events)."""
        self.state.mount.set_pointing(ra_hours, dec_deg, tracking=tracking)

    def turn_polar_knobs(self, d_alt_arcmin: float, d_az_arcmin: float) -> None:
        """The user turns the wedge's knobs: the polar misalignment changes by that much."""
        alt, az = self.state.polar_error_arcmin
        self.state.polar_error_arcmin = (alt + d_alt_arcmin, az + d_az_arcmin)

    def start_preview(self) -> None:
        """Start the star-mode live preview as iscope_start_view {"mode": "star"} would."""
        self.view.start_view("star", None, None)

    # --- fault targets (called on the loop by `Faults`) -----------------------------------------

    async def kill_servers(self) -> None:
        """Close the 4700 and 4800 listeners and connections (fault knob `kill`)."""
        self._ports = (self.control_port, self.image_port, self.discovery_port)
        await self.control.stop()
        await self.image.stop()

    async def restart_servers(self) -> None:
        """Listen on the same 4700 and 4800 ports again (fault knob `restart`)."""
        control_port, image_port, _ = self._ports
        await self.control.start(self.host, control_port)
        await self.image.start(self.host, image_port)

    def drop_control_connections(self) -> int:
        """Close every 4700 connection."""
        return self.control.drop_all()

    def drop_image_connections(self, mid_frame: bool) -> int:
        """Close every 4800 connection."""
        return self.image.drop_all(mid_frame)

    def send_control_bytes(self, data: bytes) -> int:
        """Raw bytes to every 4700 connection."""
        return self.control.broadcast_raw(data)

    def send_image_bytes(self, data: bytes) -> int:
        """Raw bytes to every 4800 connection."""
        return self.image.broadcast_raw(data)

    def send_truncated_frame(self) -> int:
        """Truncate the next raw frame on every 4800 connection."""
        return self.image.truncate_next_frame()

    def set_mount_drift(self, ra_arcsec_s: float, dec_arcsec_s: float) -> None:
        """Pointing drift while tracking."""
        self.state.mount.set_drift(ra_arcsec_s, dec_arcsec_s)


class SimThread:
    """Runs a FakeSeestar on its own loop in a daemon thread; use as a context manager."""

    def __init__(self, **kwargs: Any) -> None:
        self._kwargs = kwargs
        self.fake: FakeSeestar | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._ready = threading.Event()
        self._error: BaseException | None = None
        self._stop: asyncio.Event | None = None

    def start(self, timeout_s: float = 10.0) -> FakeSeestar:
        """Start the thread and wait until the ports are bound."""
        self._thread = threading.Thread(target=self._run, name="seestar-sim", daemon=True)
        self._thread.start()
        if not self._ready.wait(timeout_s):
            raise TimeoutError("the fake Seestar did not start")
        if self._error is not None:
            raise self._error
        assert self.fake is not None
        return self.fake

    def _run(self) -> None:
        loop = asyncio.new_event_loop()
        self._loop = loop
        asyncio.set_event_loop(loop)
        try:
            loop.run_until_complete(self._main())
        finally:
            loop.close()

    async def _main(self) -> None:
        try:
            self.fake = FakeSeestar(**self._kwargs)
            await self.fake.start()
            self._stop = asyncio.Event()
        except BaseException as exc:  # noqa: BLE001 - re-raised in the starting thread
            self._error = exc
            self._ready.set()
            return
        self._ready.set()
        await self._stop.wait()
        await self.fake.stop()

    def call(self, fn: Callable[..., T], *args: Any, timeout_s: float = 10.0) -> T:
        """Run `fn(*args)` on the fake's loop and return its result (thread-safe)."""
        assert self._loop is not None
        fut: concurrent.futures.Future[T] = concurrent.futures.Future()

        def run() -> None:
            try:
                fut.set_result(fn(*args))
            except BaseException as exc:  # noqa: BLE001 - handed to the calling thread
                fut.set_exception(exc)

        self._loop.call_soon_threadsafe(run)
        return fut.result(timeout_s)

    def run(self, coro: Coroutine[Any, Any, T], timeout_s: float = 30.0) -> T:
        """Run a coroutine on the fake's loop and return its result."""
        assert self._loop is not None
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result(timeout_s)

    def stop(self, timeout_s: float = 10.0) -> None:
        """Stop the fake and join the thread."""
        if self._loop is not None and self._stop is not None and not self._loop.is_closed():
            self._loop.call_soon_threadsafe(self._stop.set)
        if self._thread is not None:
            self._thread.join(timeout_s)

    def __enter__(self) -> FakeSeestar:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
