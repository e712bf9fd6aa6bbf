"""Core of the fake Seestar: state, clock, event bus, faults, renderer and the named tasks.

Layer: sim. The use-case modules (usecases_*.py) hang off `SimCore`; the servers call them.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Coroutine
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from ..errors import IndiSeestarError
from ..protocol.codes import ErrorCode, describe
from .bus import EventBus
from .clock import SimClock
from .render import Renderer
from .scenarios import Faults
from .state import SimState
from .trace import Trace

_log = logging.getLogger(__name__)


class SimCommandError(IndiSeestarError):
    """A request the fake answers with a non-zero code (the firmware's error reply)."""

    def __init__(self, code: int, text: str | None = None) -> None:
        self.code = int(code)
        self.text = text if text is not None else describe(code)
        super().__init__(f"{self.code}: {self.text}")

    @classmethod
    def of(cls, code: ErrorCode) -> SimCommandError:
        """The error with the firmware's text for `code`."""
        return cls(int(code))


def lapse_ms(seconds: float) -> int:
    """A `lapse_ms` field: elapsed scope seconds as whole milliseconds (never negative)."""
    return max(0, int(round(seconds * 1000.0)))


class SimCore:
    """Shared services; owns every background task of the fake (by name, one per name)."""

    def __init__(self, state: SimState, bus: EventBus, faults: Faults, renderer: Renderer) -> None:
        self.state = state
        self.clock: SimClock = state.clock
        self.bus = bus
        self.faults = faults
        self.renderer = renderer
        #: Timing trace for the benchmarks (sim/trace.py); None = off.
        self.trace: Trace | None = None
        self._tasks: dict[str, asyncio.Task[Any]] = {}
        self._loose: set[asyncio.Task[Any]] = set()
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="seestar-sim-render")

    def spawn(self, name: str, coro: Coroutine[Any, Any, Any]) -> asyncio.Task[Any]:
        """Run `coro` as the task `name`, cancelling a previous task of that name."""
        self.cancel(name)
        task = asyncio.get_running_loop().create_task(coro, name=f"sim:{name}")
        self._tasks[name] = task
        task.add_done_callback(lambda t, n=name: self._finished(n, t))
        return task

    def spawn_loose(self, coro: Coroutine[Any, Any, Any]) -> asyncio.Task[Any]:
        """Run an anonymous helper task (kept referenced until it ends)."""
        task = asyncio.get_running_loop().create_task(coro)
        self.adopt(task)
        return task

    def adopt(self, task: asyncio.Task[Any]) -> None:
        """Own a task started elsewhere (a server's connection handler): close() ends it too."""
        self._loose.add(task)
        task.add_done_callback(self._loose_done)

    def _loose_done(self, task: asyncio.Task[Any]) -> None:
        self._loose.discard(task)
        self._log_failure("helper", task)

    def _finished(self, name: str, task: asyncio.Task[Any]) -> None:
        if self._tasks.get(name) is task:
            del self._tasks[name]
        self._log_failure(name, task)

    @staticmethod
    def _log_failure(name: str, task: asyncio.Task[Any]) -> None:
        if not task.cancelled() and task.exception() is not None:
            _log.error("sim task %s failed", name, exc_info=task.exception())

    def cancel(self, name: str) -> bool:
        """Cancel the task `name`; True if one was running."""
        task = self._tasks.pop(name, None)
        if task is None or task.done():
            return False
        if task is asyncio.current_task():
            self._tasks[name] = task
            return False
        task.cancel()
        return True

    def running(self, name: str) -> bool:
        """True while the task `name` runs."""
        task = self._tasks.get(name)
        return task is not None and not task.done()

    async def in_worker(self, fn: Any, *args: Any) -> Any:
        """Run a CPU-heavy function (rendering, compression) in the worker thread."""
        return await asyncio.get_running_loop().run_in_executor(self._executor, fn, *args)

    async def close(self) -> None:
        """Cancel every task and stop the worker thread."""
        tasks = [t for t in [*self._tasks.values(), *self._loose] if not t.done()]
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.gather(*tasks, return_exceptions=True)
        self._tasks.clear()
        self._executor.shutdown(wait=False, cancel_futures=True)
