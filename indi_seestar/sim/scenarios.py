"""Fault knobs and counters of the fake Seestar (what tests turn to make the scope misbehave).

Layer: sim. Every knob is safe to call from any thread: plain settings are guarded by a lock,
actions on sockets are handed to the fake's event loop and waited for.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import threading
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from ..protocol.methods import Method


class LinkGate:
    """Open unless the link is frozen: the servers wait on it before acting on what they read
    and before writing, and hold their control lines meanwhile (used on the fake's loop only)."""

    def __init__(self) -> None:
        self._open = asyncio.Event()
        self._open.set()
        self._on_thaw: list[Callable[[], None]] = []

    @property
    def frozen(self) -> bool:
        """True between freeze() and thaw()."""
        return not self._open.is_set()

    async def wait_open(self) -> None:
        """Return at once unless frozen; else once thawed."""
        if not self._open.is_set():
            await self._open.wait()

    def freeze(self) -> None:
        """Close the gate."""
        self._open.clear()

    def thaw(self) -> None:
        """Open the gate, then run the flushes registered while frozen (held lines)."""
        self._open.set()
        flushes, self._on_thaw = self._on_thaw, []
        for flush in flushes:
            flush()

    def on_thaw(self, flush: Callable[[], None]) -> None:
        """Run `flush` at the next thaw (once)."""
        self._on_thaw.append(flush)


class FaultTargets(Protocol):
    """What the knobs act on (implemented by FakeSeestar)."""

    loop: asyncio.AbstractEventLoop | None

    async def kill_servers(self) -> None: ...

    async def restart_servers(self) -> None: ...

    def drop_control_connections(self) -> int: ...

    def drop_image_connections(self, mid_frame: bool) -> int: ...

    def send_control_bytes(self, data: bytes) -> int: ...

    def send_image_bytes(self, data: bytes) -> int: ...

    def send_truncated_frame(self) -> int: ...

    def set_mount_drift(self, ra_arcsec_s: float, dec_arcsec_s: float) -> None: ...


@dataclass
class Counters:
    """What happened, for assertions: connections per port, requests per method, logins."""

    connections: Counter[str] = field(default_factory=Counter)  # "control" / "image" / "discovery"
    requests: Counter[str] = field(default_factory=Counter)  # method name -> count (both ports)
    login_attempts: int = 0
    login_successes: int = 0
    ignored_requests: int = 0  # dropped for a missing marker or missing login
    idle_drops: int = 0  # control connections closed for silence (fw 7.75+)
    garbage_lines: int = 0


@dataclass(frozen=True, slots=True)
class Failure:
    """A scripted error reply."""

    code: int
    text: str


class Faults:
    """One-shot reply faults (per method) plus connection-level actions."""

    def __init__(self, targets: FaultTargets) -> None:
        self._targets = targets
        self._lock = threading.Lock()
        self._delay_s: dict[Method, float] = {}
        self._lose: Counter[Method] = Counter()
        self._fail: dict[Method, Failure] = {}
        self._refuse = False
        self._frame_on_stop = False
        self.counters = Counters()
        #: Frozen by freeze(), opened by thaw(); the servers consult it on the fake's loop.
        self.gate = LinkGate()

    # --- reply faults (consumed by the RPC server) -----------------------------------------

    def delay_next_reply(self, method: Method | str, seconds: float) -> None:
        """Hold the next reply to `method` for `seconds` real seconds."""
        with self._lock:
            self._delay_s[Method(method)] = float(seconds)

    def lose_next_reply(self, method: Method | str) -> None:
        """Carry out the next `method` call but send no reply."""
        with self._lock:
            self._lose[Method(method)] += 1

    def fail_next(self, method: Method | str, code: int, text: str = "fail to operate") -> None:
        """Answer the next `method` call with error `code`/`text` instead of running it."""
        with self._lock:
            self._fail[Method(method)] = Failure(int(code), text)

    def take_failure(self, method: Method) -> Failure | None:
        """(server) The scripted failure for this call, if any; consumes it."""
        with self._lock:
            return self._fail.pop(method, None)

    def take_reply_fate(self, method: Method) -> tuple[bool, float]:
        """(server) (lose this reply?, delay in real seconds); consumes the knobs."""
        with self._lock:
            lose = self._lose[method] > 0
            if lose:
                self._lose[method] -= 1
            return lose, self._delay_s.pop(method, 0.0)

    def refuse_connections(self, refuse: bool = True) -> None:
        """Close new TCP connections (both ports) right after accepting them."""
        with self._lock:
            self._refuse = bool(refuse)

    @property
    def refusing(self) -> bool:
        """(server) Whether new connections are refused."""
        with self._lock:
            return self._refuse

    def push_frame_on_stop(self, enabled: bool = True) -> None:
        """Stopping the preview pushes the exposure under way, cut short (firmware: [U])."""
        with self._lock:
            self._frame_on_stop = bool(enabled)

    @property
    def frame_on_stop(self) -> bool:
        """(server) Whether a stopped preview exposure is pushed as a frame."""
        with self._lock:
            return self._frame_on_stop

    # --- actions ---------------------------------------------------------------------------

    def _fake_loop(self) -> tuple[asyncio.AbstractEventLoop, bool]:
        """The fake's loop, and whether the caller runs on it."""
        loop = self._targets.loop
        if loop is None:
            raise RuntimeError("the fake Seestar is not running")
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        return loop, running is loop

    def _on_loop(self, fn: Callable[[], Any]) -> Any:
        loop, on_it = self._fake_loop()
        if on_it:
            return fn()
        result: concurrent.futures.Future[Any] = concurrent.futures.Future()

        def call() -> None:
            try:
                result.set_result(fn())
            except BaseException as exc:  # noqa: BLE001 - handed to the calling thread
                result.set_exception(exc)

        loop.call_soon_threadsafe(call)
        return result.result(timeout=10.0)

    def _on_loop_async(self, make: Callable[[], Any], timeout_s: float = 10.0) -> Any:
        """Run the coroutine `make()` on the fake's loop from another thread and wait for it."""
        loop, on_it = self._fake_loop()
        if on_it:
            raise RuntimeError("on the fake's own loop, await its kill_servers()/restart_servers()")
        return asyncio.run_coroutine_threadsafe(make(), loop).result(timeout_s)

    def freeze(self) -> None:
        """Stop reading and answering on 4700 and 4800 while keeping every socket (as SIGSTOP
        would): requests stay unread, replies, events and frames are held. The scope itself
        goes on (a slew under way continues). thaw() carries out what had arrived meanwhile."""
        self._on_loop(self.gate.freeze)

    def thaw(self) -> None:
        """End a freeze: the held lines go out, then the requests received meanwhile run."""
        self._on_loop(self.gate.thaw)

    def kill(self) -> None:
        """Close both listeners and every connection, as a killed firmware process would;
        the scope's state (mount, focuser, wheel, camera) is kept for restart()."""
        self._on_loop_async(self._targets.kill_servers)

    def restart(self) -> None:
        """Listen again on the same ports after kill()."""
        self._on_loop_async(self._targets.restart_servers)

    def drop_control(self) -> int:
        """Close every 4700 connection now; returns how many."""
        return int(self._on_loop(self._targets.drop_control_connections))

    def drop_image(self, mid_frame: bool = True) -> int:
        """Close every 4800 connection, after writing half a frame when `mid_frame`."""
        return int(self._on_loop(lambda: self._targets.drop_image_connections(mid_frame)))

    def send_control_garbage(self, data: bytes = b"\x00\xff{not json\r\n") -> int:
        """Write raw bytes to every 4700 connection."""
        return int(self._on_loop(lambda: self._targets.send_control_bytes(bytes(data))))

    def send_image_garbage(self, data: bytes = b"\xde\xad\xbe\xef" * 16) -> int:
        """Write raw bytes to every 4800 connection (between frames)."""
        return int(self._on_loop(lambda: self._targets.send_image_bytes(bytes(data))))

    def send_truncated_frame(self) -> int:
        """Write a frame header announcing more payload than follows, then the next frames."""
        return int(self._on_loop(self._targets.send_truncated_frame))

    def set_drift(self, ra_arcsec_per_s: float, dec_arcsec_per_s: float) -> None:
        """Add a slow drift of the true pointing while tracking (axis arcsec per scope second)."""
        self._on_loop(lambda: self._targets.set_mount_drift(ra_arcsec_per_s, dec_arcsec_per_s))
