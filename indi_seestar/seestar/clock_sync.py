"""ClockSync: set the scope's clock (and site) at every (re)connect, as the app does.

Layer: seestar (asyncio engine). Must not import indi/, devices/ or sim/.
A scope whose clock was never set cannot compute a slew: the mount does not move and 3-point
polar alignment fails (seestar_alp #748, docs/firmware.md fact 1), and the clock does not
survive a power cycle. So every session starts with `pi_set_time` from this machine's UTC,
shifted by whatever offset a client chose through TIME_UTC (a client's setting keeps winning
over reconnects), then `set_user_location` when a site is known. Both replies are checked;
a refusal is logged and kept in `last_error`, never fatal to the session.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta

from ..errors import RequestTimeout
from ..protocol import builders_session
from ..protocol.codes import describe
from ..protocol.methods import Call
from ..protocol.rpc import Reply

log = logging.getLogger(__name__)

Caller = Callable[[Call, float], Awaitable[Reply]]


class ClockSync:
    """The clock offset and site a session starts with, and how the last start went."""

    def __init__(self, now: Callable[[], datetime] = lambda: datetime.now(UTC)) -> None:
        self._now = now
        #: Seconds a client's TIME_UTC was ahead of this machine's clock (0 until one is set).
        self.offset_s = 0.0
        #: (lat_deg, lon_deg east -180..180) last set, re-sent on every connect.
        self.site: tuple[float, float] | None = None
        #: None when the last connect set everything; else what the scope refused.
        self.last_error: str | None = None
        #: The UTC the last connect sent (None before the first).
        self.sent_utc: datetime | None = None

    def scope_utc(self) -> datetime:
        """The UTC the scope should show now."""
        return self._now() + timedelta(seconds=self.offset_s)

    def client_set_time(self, utc: datetime) -> None:
        """A client set the clock to `utc` (aware) just now: keep its offset for reconnects."""
        self.offset_s = (utc.astimezone(UTC) - self._now()).total_seconds()

    async def apply(self, caller: Caller, timeout_s: float) -> None:
        """Send the clock, then the site if known; record refusals in `last_error`."""
        errors: list[str] = []
        self.sent_utc = self.scope_utc()
        await _checked(caller, builders_session.pi_set_time(self.sent_utc, "UTC"), timeout_s, errors)
        if self.site is not None:
            await _checked(caller, builders_session.set_user_location(*self.site), timeout_s, errors)
        self.last_error = "; ".join(errors) or None
        if self.last_error:
            log.warning("setting the scope's clock/site at connect failed (%s); a scope without "
                        "a valid clock does not slew", self.last_error)
        else:
            log.info("scope clock set to %s UTC%s", self.sent_utc.strftime("%Y-%m-%dT%H:%M:%S"),
                     "" if self.site is None else " and site to %.4f, %.4f" % self.site)


async def _checked(caller: Caller, call: Call, timeout_s: float, errors: list[str]) -> None:
    try:
        reply = await caller(call, timeout_s)
    except RequestTimeout:
        errors.append(f"{call.method} unanswered within {timeout_s:g} s")
        return
    if not reply.ok:
        errors.append(f"{call.method} refused: code {reply.code} ({reply.error or describe(reply.code)})")
