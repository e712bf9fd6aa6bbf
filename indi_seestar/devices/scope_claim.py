"""This process's claim on one real Seestar: by its address, then by its serial number.

Layer: devices. One scope, one session across processes: the injected `claim_scope` (cli.py
injects instances.ScopeLocks) takes a lock per key and returns its release; the session holds
the releases until it closes. Split off the session (devices/session.py), which owns when to claim.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import socket
from collections.abc import Callable
from typing import Protocol

from ..errors import ScopeHeld
from ..seestar.timeouts import Timeouts

log = logging.getLogger(__name__)


class ScopeClaim(Protocol):
    """Claims the Seestar at "host:port" for this process: its release, or ScopeHeld."""

    def __call__(self, address: str) -> Callable[[], None]: ...


class ScopeClaims:
    """The claims this process holds on the Seestar it drives, released together."""

    def __init__(self, claim_scope: ScopeClaim | None,
                 scope_holder: Callable[[str], str | None] | None) -> None:
        self._claim_scope = claim_scope
        self._scope_holder = scope_holder
        self._releases: list[Callable[[], None]] = []

    async def claim_address(self, host: str, control_port: int) -> None:
        """Claim the Seestar at host:port (by resolved address), dropping older claims; ScopeHeld."""
        if self._claim_scope is None:
            return
        self.release()
        await self._claim_key(f"{await resolved(host)}:{control_port}")

    async def claim_serial(self, serial: str, shown_as: str) -> None:
        """The same scope reached by another address: claim its serial number too (hashed)."""
        if self._claim_scope is None or not serial:
            return
        try:
            await self._claim_key("sn-" + hashlib.sha256(serial.encode()).hexdigest()[:16])
        except ScopeHeld as exc:
            raise ScopeHeld(f"{shown_as} (the same Seestar by its serial number)",
                            exc.holder) from None

    async def _claim_key(self, key: str) -> None:
        assert self._claim_scope is not None
        claiming = asyncio.ensure_future(asyncio.to_thread(self._claim_scope, key))
        try:
            self._releases.append(await asyncio.shield(claiming))
        except asyncio.CancelledError:  # the thread may still take the lock: give it back then
            claiming.add_done_callback(_release_when_claimed)
            raise

    async def held_elsewhere(self, host: str, control_port: int) -> str | None:
        """Who else (another process) drives the Seestar at host:port, or None."""
        if self._scope_holder is None:
            return None
        address = f"{await resolved(host)}:{control_port}"
        return await asyncio.to_thread(self._scope_holder, address)

    def release(self) -> None:
        """Give back every claim held (nothing if none)."""
        releases, self._releases = self._releases, []
        for release in releases:
            release()
        if releases:
            log.info("released the Seestar lock")


async def resolved(host: str) -> str:
    """`host` as its first IPv4/IPv6 address (one scope, one lock key), else as written."""
    loop = asyncio.get_running_loop()
    try:
        infos = await asyncio.wait_for(loop.getaddrinfo(host, None, type=socket.SOCK_STREAM),
                                       Timeouts().resolve_s)
    except (OSError, TimeoutError):
        return host.lower()
    return str(infos[0][4][0]) if infos else host.lower()


def _release_when_claimed(claiming: asyncio.Future[Callable[[], None]]) -> None:
    if not claiming.cancelled() and claiming.exception() is None:
        claiming.result()()
