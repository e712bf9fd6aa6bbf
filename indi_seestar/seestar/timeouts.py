"""Every network wait of the Seestar engine, named, with its reason (house style rule 9).

Layer: seestar (asyncio engine). Imports nothing of ours; must not import indi/, devices/ or sim/.
`Timeouts` is a frozen dataclass so tests and configuration override values with
`dataclasses.replace` instead of patching constants.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class Timeouts:
    """Named waits (seconds) and retry parameters of the engine."""

    #: TCP connect to 4700/4800; ALP's default network timeout.
    connect_s: float = 5.0
    #: Resolving the Seestar's host name to key its session lock; past it the name is the key.
    resolve_s: float = 5.0
    #: Default wait for a reply; a busy scope (mid-stack) takes ~10 s for some calls (ALP PR #753).
    request_s: float = 10.0
    #: `pi_is_verified` at first contact; new firmware answers at once even unauthenticated,
    #: old firmware may ignore it, and then we simply go on.
    verify_probe_s: float = 3.0
    #: Without a key: how long we wait for `get_device_state` before concluding that the
    #: firmware withholds replies until login (7.32+, §10 quirk 3). Keeps LoginRequired fast.
    login_probe_s: float = 3.0
    #: Each login step; `get_verify_str` stalls ~10 s while the scope is imaging (§6.3).
    login_step_s: float = 15.0
    #: Pause before asking the challenge again after `get_verify_str` went unanswered, on the
    #: same socket (ALP PR #753 throttles its retries to 10 s); a keepalive goes out meanwhile.
    login_retry_s: float = 10.0
    #: `get_verify_str` attempts per connection before the login is given up.
    login_attempts: int = 3
    #: `get_device_state`; it can be slow while imaging (§10 quirk 13).
    device_state_s: float = 10.0
    #: Master claim and driver settings after login; failures there are tolerated.
    setup_s: float = 5.0
    #: Control heartbeat (`test_connection`) period; clients use 3-5 s (§2.6). Never more
    #: than a quarter of the scope's idle limit (`control_idle_limit_s`) in our seconds.
    heartbeat_interval_s: float = 4.0
    #: Scope seconds of silence after which the scope drops the control connection (~16 s
    #: on 2026 firmware, docs/firmware.md fact 3).
    control_idle_limit_s: float = 16.0
    #: Wait for one heartbeat reply (any other reply meanwhile also proves the scope alive).
    heartbeat_reply_s: float = 3.0
    #: Consecutive unanswered heartbeats after which the session is declared dead.
    heartbeat_misses: int = 2
    #: First reconnect delay; then x`reconnect_factor` up to `reconnect_max_s`, with jitter.
    reconnect_initial_s: float = 0.5
    reconnect_max_s: float = 30.0
    reconnect_factor: float = 2.0
    #: Fraction of each delay that is randomised (spreads reconnects of several drivers).
    reconnect_jitter: float = 0.25
    #: Image-port heartbeat period: the app sends `test_connection` on 4800 every 4 s (§4.4).
    image_heartbeat_interval_s: float = 4.0
    #: Image thread socket timeout: how often a blocked read wakes to notice close() and
    #: heartbeats. Small, so close() returns promptly.
    image_poll_s: float = 0.2
    #: No byte at all on 4800 for this long (heartbeats are answered) = the socket is dead.
    image_silence_s: float = 12.0
    #: After `get_stacked_img` was answered by an empty ack, how long we still wait for the
    #: ZIP frame before deciding there is no live stack (§10 quirks 7 and 8).
    stacked_after_ack_s: float = 3.0
    #: Bound on joining the image thread at close().
    thread_join_s: float = 3.0
    #: UDP discovery listening window.
    discovery_window_s: float = 2.0

    def heartbeat_period_s(self, time_factor: float = 1.0) -> float:
        """The control heartbeat period: the configured one, within a quarter of the idle limit."""
        return min(self.heartbeat_interval_s, self.control_idle_limit_s / time_factor / 4.0)

    def replace(self, **changes: Any) -> Timeouts:
        """A copy with some values changed."""
        return dataclasses.replace(self, **changes)
