"""What the mount's split-off helpers may use of the mount, as narrow structural types.

Layer: devices. House rule: a helper split off a device never imports its owner, and gets
values and narrow callbacks rather than the owner itself. The goto/park helpers (mount_slew.py)
get SlewPorts and the motion/guiding helpers (mount_motion.py) MotionPorts; the link recovery
(mount_link.py) still types the mount it is given with the LinkPorts Protocol (telescope.Mount
satisfies it structurally). Only telescope.py imports the helpers.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass
from typing import Any, Protocol

from ..errors import AlpacaUnavailable, IndiSeestarError
from ..indi.model import NumberVector, State, SwitchVector, Vector
from ..seestar.alpaca import AlpacaLink
from ..seestar.client import SeestarClient
from .mount_site import Pointing, Site
from .mount_status import Activity
from .outcomes import Pending

class Publisher(Protocol):
    """Publishing on the mount device: vectors, messages, tasks."""

    name: str

    @property
    def client(self) -> SeestarClient: ...

    @property
    def is_connected(self) -> bool: ...

    def publish(self, vector: Vector, *, state: State | None = None,
                message: str | None = None) -> None: ...

    def message(self, text: str, level: str = "INFO") -> None: ...

    def spawn(self, coro: Coroutine[Any, Any, Any]) -> asyncio.Task[Any]: ...


class MountState(Publisher, Protocol):
    """The mount's derived status and its record of unconfirmed commands."""

    pending: Pending

    @property
    def activity(self) -> Activity: ...

    @property
    def scope_slewing(self) -> bool: ...

    def refresh(self, *, keep_alerts: bool = True) -> None: ...

    def reconcile_soon(self) -> None: ...

    def outcome_message(self, what: str, exc: IndiSeestarError) -> str: ...


class LinkPorts(MountState, Protocol):
    """What LinkRecovery (mount_link.py) uses: the target, the pointing and a motion stop."""

    target: NumberVector

    @property
    def pointing(self) -> Pointing | None: ...

    def set_pointing(self, ra_hours: float, dec_deg: float, *, force: bool = False) -> None: ...

    async def stop_motion(self, client: SeestarClient, reason: str, *,
                          always: bool = False) -> None: ...

    def forget_scope_motion(self) -> None: ...

    def show_motion_idle(self) -> None: ...


@dataclass(frozen=True, slots=True)
class SlewPorts:
    """What SlewControl (mount_slew.py) may use of the mount: its vectors and narrow callbacks."""

    eod: NumberVector
    coord_set: SwitchVector
    target: NumberVector
    abort: SwitchVector
    park: SwitchVector
    track_state: SwitchVector
    publish: Callable[..., None]  # (vector, *, state, message)
    message: Callable[..., None]  # (text[, level])
    spawn: Callable[[Coroutine[Any, Any, Any]], asyncio.Task[Any]]  # a device task
    client: Callable[[], SeestarClient]  # the open Seestar session
    pending: Pending  # the mount's record of unconfirmed commands
    refresh: Callable[..., None]  # derive and publish the mount's status: (*, keep_alerts)
    reconcile_soon: Callable[[], None]  # poll the scope soon (after an unknown outcome)
    outcome_message: Callable[[str, IndiSeestarError], str]  # "what failed/unknown" text
    scope_slewing: Callable[[], bool]  # the scope moves on its own (a slew not ours)
    centered: Callable[[], bool]  # SEESTAR_GOTO_MODE: plate-solve-centred gotos
    set_pointing: Callable[..., None]  # (ra_hours, dec_deg, *, force)
    stop_motion: Callable[..., Awaitable[None]]  # (client, reason, *, always): manual moves


@dataclass(frozen=True, slots=True)
class MotionPorts:
    """What MotionControl (mount_motion.py) may use of the mount: values and narrow callbacks."""

    name: str  # the mount device's name
    add: Callable[..., Any]  # register a vector: (vector, *, connected_only, on_new, saved)
    load_saved: Callable[[Vector], bool]  # apply a CONFIG_SAVE value
    publish: Callable[..., None]  # (vector, *, state, message)
    message: Callable[..., None]  # (text[, level])
    spawn: Callable[[Coroutine[Any, Any, Any]], asyncio.Task[Any]]  # a device task
    client: Callable[[], SeestarClient]  # the open Seestar session
    is_connected: Callable[[], bool]
    pending: Pending  # the mount's record of unconfirmed commands
    refresh: Callable[[], None]  # derive and publish the mount's status again
    reconcile_soon: Callable[[], None]  # poll the scope soon (after an unknown outcome)
    slewing: Callable[[], bool]  # a goto/park of ours or the scope's own is under way
    pointing: Callable[[], Pointing | None]
    site: Callable[[], Site | None]
    alpaca_guide: Callable[[], AlpacaLink | None]  # the Alpaca Telescope when it guides
    alpaca_lost: Callable[[AlpacaUnavailable], None]  # it stopped answering: go private
