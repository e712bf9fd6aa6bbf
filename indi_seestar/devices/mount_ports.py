"""What the mount's split-off helpers may use of the mount: values and narrow callbacks.

Layer: devices. House rule: a helper split off a device never imports its owner, and gets
values and narrow callbacks rather than the owner itself. The goto/park helpers (mount_slew.py)
get SlewPorts, the motion/guiding helpers (mount_motion.py) MotionPorts and the link recovery
(mount_link.py) LinkPorts, all built by telescope.py, the only module importing the helpers.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass
from typing import Any

from ..errors import AlpacaUnavailable, IndiSeestarError
from ..indi.model import NumberVector, SwitchVector, Vector
from ..seestar.alpaca import AlpacaLink
from ..seestar.client import SeestarClient
from .mount_site import Pointing, Site
from .mount_status import Activity
from .outcomes import Pending


@dataclass(frozen=True, slots=True)
class LinkPorts:
    """What LinkRecovery (mount_link.py) may use of the mount: values and narrow callbacks."""

    target: NumberVector
    publish: Callable[..., None]  # (vector, *, state, message)
    message: Callable[..., None]  # (text[, level])
    spawn: Callable[[Coroutine[Any, Any, Any]], asyncio.Task[Any]]  # a device task
    is_connected: Callable[[], bool]
    pending: Pending  # the mount's record of unconfirmed commands
    refresh: Callable[..., None]  # derive and publish the mount's status: (*, keep_alerts)
    activity: Callable[[], Activity]  # the mount's own operation under way
    pointing: Callable[[], Pointing | None]
    set_pointing: Callable[..., None]  # (ra_hours, dec_deg, *, force)
    stop_motion: Callable[..., Awaitable[None]]  # (client, reason, *, always): manual moves
    forget_scope_motion: Callable[[], None]  # what the scope said it was moving is stale
    show_motion_idle: Callable[[], None]  # motion/guide vectors left by the drop become Idle


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
