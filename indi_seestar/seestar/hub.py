"""Event fan-out and "wait for this event" expectations for the control channel.

Layer: seestar (asyncio engine). Must not import indi/, devices/ or sim/.
The hub outlives individual TCP sessions: subscribers and expectations survive reconnects.
A subscriber that raises is logged and never stops delivery to the others (nor the reader).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Collection
from types import TracebackType
from typing import Self

from ..errors import ConnectionLost, OperationFailed
from ..protocol.events import TERMINAL_STATES, StageState
from ..protocol.rpc import Event

log = logging.getLogger(__name__)

EventCallback = Callable[[Event], None]
EventPredicate = Callable[[Event], bool]

#: States that end an expectation with OperationFailed instead of returning the event.
_FAILING_STATES = frozenset({StageState.FAIL, StageState.CANCEL})


class EventHub:
    """Delivers every control event to subscribers and to pending expectations."""

    def __init__(self) -> None:
        self._subscribers: list[EventCallback] = []
        self._expectations: set[EventExpectation] = set()

    def subscribe(self, callback: EventCallback) -> Callable[[], None]:
        """Call `callback(event)` for every event until the returned function is called."""
        self._subscribers.append(callback)

        def unsubscribe() -> None:
            if callback in self._subscribers:
                self._subscribers.remove(callback)

        return unsubscribe

    def publish(self, event: Event) -> None:
        """Deliver one event; exceptions in subscribers are logged and swallowed."""
        for expectation in tuple(self._expectations):
            expectation.offer(event)
        for callback in tuple(self._subscribers):
            try:
                callback(event)
            except Exception:  # a subscriber bug must not stop the reader or the others
                log.exception("event subscriber %r failed on %s", callback, event.name)

    def connection_lost(self, exc: ConnectionLost) -> None:
        """Fail the expectations that asked to end when the session drops."""
        for expectation in tuple(self._expectations):
            if expectation.fail_on_disconnect:
                expectation.fail(ConnectionLost(exc.reason))

    def close(self, reason: str) -> None:
        """Fail every pending expectation (client closing)."""
        for expectation in tuple(self._expectations):
            expectation.fail(ConnectionLost(reason))

    def expect(self, name: str, *, timeout_s: float,
               states: Collection[str] = TERMINAL_STATES,
               predicate: EventPredicate | None = None,
               fail_on_disconnect: bool = True) -> EventExpectation:
        """Register now; `async with hub.expect(...) as done: <send>` then `await done.wait()`."""
        return EventExpectation(self, name, timeout_s=timeout_s, states=states,
                                predicate=predicate, fail_on_disconnect=fail_on_disconnect)

    def _add(self, expectation: EventExpectation) -> None:
        self._expectations.add(expectation)

    def _remove(self, expectation: EventExpectation) -> None:
        self._expectations.discard(expectation)


class EventExpectation:
    """The first event `name` in `states` (and matching `predicate`) after registration.

    Registered when created (before the command is sent, so no event can be missed); the
    `timeout_s` deadline runs from then. `wait()` returns the event, or raises
    OperationFailed when it carries a fail/cancel state or none came in time, or
    ConnectionLost. Leaving an `async with` block with an exception cancels it (the command
    failed, there is nothing to wait for); otherwise `wait()` may follow the block.
    An expectation never outlives its deadline, so one that is never awaited cannot leak.
    """

    def __init__(self, hub: EventHub, name: str, *, timeout_s: float, states: Collection[str],
                 predicate: EventPredicate | None, fail_on_disconnect: bool) -> None:
        self._hub, self.name, self.timeout_s = hub, name, timeout_s
        self._states = frozenset(states)
        self._predicate = predicate
        self.fail_on_disconnect = fail_on_disconnect
        loop = asyncio.get_running_loop()
        self._future: asyncio.Future[Event] = loop.create_future()
        self._timer = loop.call_later(timeout_s, self._expire)
        hub._add(self)

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                        tb: TracebackType | None) -> None:
        if exc_type is not None:
            self.cancel()

    @property
    def done(self) -> bool:
        """True once resolved (event, failure, expiry or cancel)."""
        return self._future.done()

    def offer(self, event: Event) -> None:
        """Resolve with `event` if it is the awaited one."""
        if self._future.done() or event.name != self.name:
            return
        if self._states and event.state not in self._states:
            return
        try:
            if self._predicate is not None and not self._predicate(event):
                return
        except Exception:
            log.exception("predicate of expectation %s failed", self.name)
            return
        self._future.set_result(event)
        self._finish()

    def fail(self, exc: BaseException) -> None:
        """Resolve with an error."""
        if not self._future.done():
            self._future.set_exception(exc)
            self._future.exception()  # retrieved: nobody awaiting it is not an error
        self._finish()

    def cancel(self) -> None:
        """Stop expecting (idempotent)."""
        if not self._future.done():
            self._future.cancel()
        self._finish()

    async def wait(self) -> Event:
        """The awaited event (see the class docstring for the errors)."""
        try:
            event = await self._future
        finally:
            self._finish()
        if event.state in _FAILING_STATES:
            code = event.get("code")
            reason = event.get("error") or f"ended in state {event.state}"
            raise OperationFailed(self.name, str(reason)[:200],
                                  code if isinstance(code, int) and not isinstance(code, bool) else None)
        return event

    def _expire(self) -> None:
        self.fail(OperationFailed(self.name, f"no end event within {self.timeout_s:g} s"))

    def _finish(self) -> None:
        self._timer.cancel()
        self._hub._remove(self)
