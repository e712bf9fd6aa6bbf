"""The batch stack as the Seestar Stack device runs it (list, start, follow, stop, deliver).

Layer: devices. Gets its four vectors and narrow ports from the device, not the device.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import numpy as np

from ..errors import IndiSeestarError, ValueRejected
from ..indi.model import NumberVector, State, SwitchVector, TextVector, Vector
from ..protocol.rpc import Event
from ..protocol.scope_files import read_fits
from ..protocol.stacking import failure_text
from ..seestar.client import SeestarClient
from .stack_batch import BatchProgress, parse_selection
from .stack_image import StackFacts
from .stack_props import batch_subs


@dataclass(frozen=True, slots=True)
class BatchPorts:
    """What the batch stack needs from its device."""

    client: Callable[[], SeestarClient]
    publish: Callable[..., None]  # publish(vector, state=..., message=...)
    redefine: Callable[[Vector], None]
    spawn: Callable[[Coroutine[Any, Any, Any]], asyncio.Task[Any]]
    deliver: Callable[[np.ndarray, StackFacts], Awaitable[None]]  # (H, W, 3) uint16


class BatchStack:
    """SEESTAR_BATCH_TARGET / SEESTAR_BATCH / SEESTAR_BATCH_SUBS / SEESTAR_BATCH_PROGRESS."""

    def __init__(self, ports: BatchPorts, selection: TextVector, control: SwitchVector,
                 subs: TextVector, progress: NumberVector) -> None:
        self._ports = ports
        self.selection, self.control, self.subs, self.progress = selection, control, subs, progress
        self._names: list[str] = []
        self._listed_for = ""
        self._chosen: list[str] = []
        self._state = BatchProgress()
        self._running = False

    def on_control(self, values: dict[str, bool]) -> None:
        """LIST / START / STOP."""
        wanted = next((k for k, v in values.items() if v), None)
        self.control.reset()
        if wanted == "LIST":
            self._ports.spawn(self._list(self._target()))
        elif wanted == "START":
            self._start()
        elif wanted == "STOP":
            if not self._running:
                raise ValueRejected("SEESTAR_BATCH", "no batch stack runs")
            self._ports.spawn(self._call(lambda c: c.stop_batch_stack(), "stop"))
        self._ports.publish(self.control, state=State.BUSY if wanted != "STOP" else State.OK)

    def _target(self) -> str:
        target = str(self.selection["TARGET"]).strip()
        if not target:
            raise ValueRejected("SEESTAR_BATCH", "name the target first (SEESTAR_BATCH_TARGET)")
        return target

    async def _list(self, target: str) -> None:
        try:
            names = await self._ports.client().list_subs(target)
        except IndiSeestarError as exc:
            self._ports.publish(self.control, state=State.ALERT, message=f"[ERROR] cannot list the subs of "
                                f"{target!r}: {exc}")
            return
        self._names, self._listed_for = names, target
        self.subs.replace_members(batch_subs(self.subs.device, names).members)
        self._ports.redefine(self.subs)
        self._ports.publish(self.control, state=State.OK, message=f"[INFO] {len(names)} subs stored for {target}")

    def _start(self) -> None:
        target = self._target()
        if self._running:
            raise ValueRejected("SEESTAR_BATCH", "a batch stack already runs")
        if self._listed_for != target or not self._names:
            raise ValueRejected("SEESTAR_BATCH", f"list the subs of {target!r} first (none listed)")
        indices = parse_selection(str(self.selection["SELECT"]), len(self._names))
        self._chosen = [self._names[i] for i in indices]
        self._running = True
        self._state = BatchProgress(state="working", total=len(self._chosen))
        self._show(State.BUSY)
        self._ports.spawn(self._call(lambda c: c.start_batch_stack(target, self._chosen), "start"))

    async def _call(self, fn: Callable[[SeestarClient], Awaitable[None]], what: str) -> None:
        try:
            await fn(self._ports.client())
        except IndiSeestarError as exc:
            if what == "start":
                self._running = False
            self._ports.publish(self.progress, state=State.ALERT,
                                message=f"[ERROR] the batch stack did not {what}: {exc}")

    def _show(self, state: State, message: str | None = None) -> None:
        s = self._state
        self.progress.update({"PERCENT": s.percent, "DONE": s.done, "TOTAL": s.total, "REMAINING_S": s.remaining_s})
        self._ports.publish(self.progress, state=state, message=message)

    def on_event(self, event: Event) -> None:
        """BatchStack events: progress, then the result (or the failure)."""
        if not self._state.apply(event):
            return
        s = self._state
        if s.state in ("start", "working"):
            self._show(State.BUSY)
        elif s.state == "complete":
            self._show(State.BUSY, "[INFO] batch stack done on the Seestar; fetching the result")
            self._ports.spawn(self._finish(list(s.output_paths), s.done))
        elif s.state in ("fail", "cancel"):
            self._running = False
            text = "stopped" if s.state == "cancel" else f"failed: {failure_text(s.code, s.error)}"
            self._show(State.ALERT if s.state == "fail" else State.IDLE, f"[{'ERROR' if s.state == 'fail' else 'INFO'}] "
                       f"batch stack {text}")
            self._ports.spawn(self._clear())

    async def _finish(self, paths: list[str], stacked: int) -> None:
        client = self._ports.client()
        try:
            if not paths:
                raise ValueRejected("SEESTAR_BATCH", "the Seestar named no result file")
            data = await client.read_scope_file(paths[0])
            header, pixels = await asyncio.to_thread(read_fits, data)
            rgb = np.moveaxis(pixels, 0, -1) if pixels.ndim == 3 else np.repeat(pixels[..., None], 3, axis=-1)
            sub_s = _sub_s_from_name(self._chosen) or float(header.get("EXPTIME", 0) or 0)  # type: ignore[arg-type]
            facts = StackFacts(stacked=stacked, rejected=0, sub_s=sub_s,
                               first_sub_utc=datetime.now(UTC), target=self._listed_for)
            await self._ports.deliver(rgb, facts)
        except (IndiSeestarError, OSError) as exc:
            self._show(State.ALERT, f"[ERROR] the batch stack's result could not be delivered: {exc}")
        else:
            self._show(State.OK, f"[INFO] batch stack of {stacked} subs delivered ({paths[0]})")
        finally:
            self._running = False
            await self._clear()

    async def _clear(self) -> None:
        try:
            await self._ports.client().clear_batch_stack()
        except IndiSeestarError as exc:  # harmless: the next set_batch_stack_setting replaces it
            self._ports.publish(self.control, state=State.OK, message=f"[WARNING] batch state not cleared: {exc}")


def _sub_s_from_name(names: list[str]) -> float:
    """The sub length in the firmware's file names (Light_<t>_<exp>s_...), 0 if none says."""
    for name in names:
        for part in name.split("_"):
            if part.endswith("s"):
                try:
                    return float(part[:-1])
                except ValueError:
                    continue
    return 0.0
