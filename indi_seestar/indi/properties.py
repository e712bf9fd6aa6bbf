"""PropertyHost: a device's vectors, their definition on the clients and their handlers (layer indi/).

Runs on the driver's asyncio loop only. Output goes to an Outbox (the Driver's writer thread, or
a test recorder). Must not import protocol/, seestar/, devices/ or sim/. `Device` (device.py)
builds the CONNECTION life cycle and the base vectors on top; see docs/architecture.md.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
import time
from collections.abc import Awaitable, Callable, Coroutine, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from indi_seestar.errors import IndiSeestarError, ValueRejected
from indi_seestar.indi import encode
from indi_seestar.indi.model import BlobVector, State, Vector
from indi_seestar.indi.tasks import DeviceTasks
from indi_seestar.indi.validate import coerce_new_values, shown_name
from indi_seestar.indi.wire import NewVector
from indi_seestar.indi.writer import Outbox

Handler = Callable[[dict[str, Any]], Awaitable[None] | None]
V = TypeVar("V", bound=Vector)


@dataclass(eq=False)
class _Entry:
    vector: Vector
    connected_only: bool
    on_new: Handler | None
    saved: bool
    published: int = 0  # set* count, to see whether a handler published its vector


class PropertyHost:
    """Owns one device's vectors and tasks; defines, publishes and deletes them, runs handlers."""

    def __init__(self, name: str, *, clock: Callable[[], float] = time.time) -> None:
        self.name = name
        self.log = logging.getLogger(f"indi_seestar.device.{name}")
        self._clock = clock
        self._entries: dict[str, _Entry] = {}
        self._outbox: Outbox | None = None
        self._initialised = False
        self._work = DeviceTasks(self._work_failed)

    # --- what subclasses implement ----------------------------------------------------------

    def init_properties(self) -> None:
        """Add the device's own vectors; called once, when the driver starts."""

    @property
    def is_connected(self) -> bool:
        """Whether connected-only vectors are defined now (the subclass's connection decides)."""
        return False

    # --- what subclasses call ---------------------------------------------------------------

    def add(
        self,
        vector: V,
        *,
        connected_only: bool = False,
        on_new: Handler | None = None,
        saved: bool = False,
    ) -> V:
        """Register `vector`; `saved` puts it in CONFIG_SAVE; on_new(values) is sync or async."""
        if vector.device != self.name:
            raise ValueError(f"{vector.name} belongs to {vector.device!r}, not {self.name!r}")
        if vector.name in self._entries:
            raise ValueError(f"{self.name}: {vector.name} added twice")
        entry = _Entry(vector, connected_only, on_new, saved)
        self._entries[vector.name] = entry
        if self._initialised and self._is_live(entry):
            self._send(encode.def_vector(vector, timestamp=self._timestamp()))
        return vector

    def remove(self, vector: Vector) -> None:
        """Unregister `vector`, deleting it on the clients if it was defined."""
        entry = self._entries.pop(vector.name)
        if self._is_live(entry):
            self._send(encode.del_property(self.name, vector.name, timestamp=self._timestamp()))

    def publish(
        self, vector: Vector, *, state: State | None = None, message: str | None = None
    ) -> None:
        """Send setXVector with every member (and `state` if given) to the clients."""
        entry = self._entry(vector)
        if state is not None:
            vector.state = state
        entry.published += 1
        if self._is_live(entry):
            self._send(encode.set_vector(vector, timestamp=self._timestamp(), message=message))

    def publish_blob(
        self,
        vector: BlobVector,
        member: str,
        parts: Sequence[Any],
        fmt: str = ".fits",
        state: State = State.OK,
        message: str | None = None,
    ) -> asyncio.Future[None]:
        """Send one BLOB whose payload is the concatenation of `parts` (not copied).

        The returned future completes once the writer has written it (or failed); keep the
        buffers unchanged until then, and await it before the next frame to avoid queueing
        frames ahead. Nothing is sent while the vector is not defined (connected-only vectors
        of a disconnected device).
        """
        entry = self._entry(vector)
        vector.state = state
        entry.published += 1
        if self._outbox is None or not self._is_live(entry):
            done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
            done.set_result(None)
            return done
        parts = tuple(parts)
        prefix, suffix = encode.blob_envelope(
            vector,
            member,
            size=encode.payload_size(parts),
            fmt=fmt,
            timestamp=self._timestamp(),
            message=message,
        )
        return asyncio.wrap_future(self._outbox.send_blob(prefix, parts, suffix))

    def message(self, text: str, level: str = "INFO") -> None:
        """Send a device message in libindi style: `[INFO] text`, `[WARNING] ...`, `[ERROR] ...`."""
        level = level.upper()
        self.log.log(logging.getLevelNamesMapping().get(level, logging.INFO), "%s", text)
        self._send(encode.message(self.name, f"[{level}] {text}", timestamp=self._timestamp()))

    def redefine(self, vector: Vector) -> None:
        """delProperty + defXVector, for when the member list or limits changed."""
        if self._is_live(self._entry(vector)):
            self._send(encode.del_property(self.name, vector.name, timestamp=self._timestamp()))
            self._send(encode.def_vector(vector, timestamp=self._timestamp()))

    def spawn(self, coro: Coroutine[Any, Any, Any]) -> asyncio.Task[Any]:
        """Run `coro` as a device task; cancelled on disconnect; errors become messages or logs."""
        return self._work.spawn(coro)

    def call_later(self, delay_s: float, fn: Callable[..., Any], *args: Any) -> asyncio.TimerHandle:
        """Call fn(*args) after delay_s (a coroutine result is spawned); cancelled on disconnect."""
        return self._work.call_later(delay_s, fn, *args)

    # --- what the Driver calls --------------------------------------------------------------

    def attach(self, outbox: Outbox) -> None:
        """Connect to the driver's output; runs init_properties() the first time."""
        self._outbox = outbox
        if not self._initialised:
            self.init_properties()
            self._initialised = True

    def handle_get_properties(self, name: str | None = None) -> int:
        """Define every live vector (or only `name`) with its current values; how many."""
        sent = 0
        for entry in list(self._entries.values()):
            if self._is_live(entry) and name in (None, entry.vector.name):
                self._send(encode.def_vector(entry.vector, timestamp=self._timestamp()))
                sent += 1
        return sent

    def handle_new(self, msg: NewVector) -> None:
        """Validate a client's new* and run the handler; the vector always gets a set* back."""
        entry = self._entries.get(msg.name)
        if entry is None or not self._is_live(entry):
            self.message(f"{shown_name(msg.name)}: no such property", "WARNING")
            return
        vector = entry.vector
        try:
            if msg.kind is not vector.kind:
                raise ValueRejected(msg.name, f"expected new{vector.kind.value}Vector")
            values = coerce_new_values(vector, msg.values)
        except ValueRejected as exc:
            self.publish(vector, state=State.ALERT, message=f"[ERROR] {exc}")
            return
        self._run_handler(entry, values)

    # --- internals --------------------------------------------------------------------------

    def _entry(self, vector: Vector) -> _Entry:
        entry = self._entries.get(vector.name)
        if entry is None or entry.vector is not vector:
            raise KeyError(f"{self.name}: {vector.name} was not added to this device")
        return entry

    def _is_live(self, entry: _Entry) -> bool:
        return self._initialised and (not entry.connected_only or self.is_connected)

    def _timestamp(self) -> str:
        return encode.format_timestamp(self._clock())

    def _send(self, data: bytes) -> None:
        if self._outbox is not None:
            self._outbox.send(data)

    def _announce_connected_only(self, *, define: bool) -> None:
        for entry in list(self._entries.values()):
            if entry.connected_only:
                ts, vector = self._timestamp(), entry.vector
                self._send(
                    encode.def_vector(vector, timestamp=ts)
                    if define
                    else encode.del_property(self.name, vector.name, timestamp=ts)
                )

    def _run_handler(self, entry: _Entry, values: dict[str, Any]) -> None:
        seq = entry.published
        if entry.on_new is None:
            self._handler_done(entry, seq, values)
            return
        try:
            result = entry.on_new(values)
        except Exception as exc:  # noqa: BLE001 - IndiSeestarError or a bug: Alert, keep running
            self._handler_failed(entry, exc)
            return
        if inspect.isawaitable(result):
            self.spawn(self._finish_async(entry, seq, values, result))
        else:
            self._handler_done(entry, seq, values)

    async def _finish_async(
        self, entry: _Entry, seq: int, values: dict[str, Any], pending: Awaitable[None]
    ) -> None:
        try:
            await pending
        except asyncio.CancelledError:
            if entry.published == seq:
                self.publish(entry.vector, state=State.ALERT)
            raise
        except Exception as exc:  # noqa: BLE001 - as in _run_handler
            self._handler_failed(entry, exc)
        else:
            self._handler_done(entry, seq, values)

    def _handler_done(self, entry: _Entry, seq: int, values: dict[str, Any]) -> None:
        if entry.published == seq:  # the handler did not answer: accept the values
            entry.vector.update(values)
            self.publish(entry.vector, state=State.OK)

    def _handler_failed(self, entry: _Entry, exc: Exception) -> None:
        if isinstance(exc, IndiSeestarError):
            text = str(exc)
            self.log.warning("%s refused: %s", entry.vector.name, text)
        else:
            text = f"internal error in {entry.vector.name}: {type(exc).__name__}: {exc}"
            self.log.error("%s handler failed", entry.vector.name, exc_info=exc)
        self.publish(entry.vector, state=State.ALERT, message=f"[ERROR] {text}")

    def _work_failed(self, exc: BaseException) -> None:
        if isinstance(exc, IndiSeestarError):
            self.message(str(exc), "ERROR")
        else:
            self.log.error("device task or timer failed", exc_info=exc)
