"""Tasks and timers owned by one device, cancelled together on disconnect (layer indi/).

Runs on the driver's asyncio loop. Must not import protocol/, seestar/, devices/ or sim/.
"""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Callable, Coroutine
from typing import Any


class DeviceTasks:
    """Spawned tasks and call_later timers; a failure is handed to `on_error`, never lost."""

    def __init__(self, on_error: Callable[[BaseException], None]) -> None:
        self._on_error = on_error
        self._tasks: set[asyncio.Task[Any]] = set()
        self._timers: set[asyncio.TimerHandle] = set()

    def spawn(self, coro: Coroutine[Any, Any, Any]) -> asyncio.Task[Any]:
        """Run `coro` on the running loop as an owned task."""
        task = asyncio.get_running_loop().create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._task_done)
        return task

    def call_later(self, delay_s: float, fn: Callable[..., Any], *args: Any) -> asyncio.TimerHandle:
        """Call fn(*args) after delay_s; a coroutine it returns is spawned."""
        handles: list[asyncio.TimerHandle] = []

        def fire() -> None:
            self._timers.discard(handles[0])
            try:
                result = fn(*args)
            except Exception as exc:  # noqa: BLE001 - reported, the loop keeps running
                self._on_error(exc)
                return
            if inspect.iscoroutine(result):
                self.spawn(result)

        handle = asyncio.get_running_loop().call_later(delay_s, fire)
        handles.append(handle)
        self._timers.add(handle)
        return handle

    def cancel_all(self) -> None:
        """Cancel every owned task (except the one calling) and every pending timer."""
        current = asyncio.current_task()
        for task in list(self._tasks):
            if task is not current:
                task.cancel()
        for handle in list(self._timers):
            handle.cancel()
        self._timers.clear()

    def __len__(self) -> int:
        return len(self._tasks) + len(self._timers)

    def _task_done(self, task: asyncio.Task[Any]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            self._on_error(task.exception())  # type: ignore[arg-type]
