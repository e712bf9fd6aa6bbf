"""What the mount's split-off helpers may use of the mount, as narrow structural types.

Layer: devices. House rule: a helper split off a device never imports its owner. The goto/park
helpers (mount_slew.py), the motion/guiding helpers (mount_motion.py) and the link recovery
(mount_link.py) type the mount they are given with these Protocols only; telescope.Mount
satisfies them structurally, and only telescope.py imports the helpers.
"""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from typing import Any, Protocol, TypeVar

from ..errors import IndiSeestarError
from ..indi.model import NumberVector, State, SwitchVector, Vector
from ..seestar.client import SeestarClient
from .mount_site import Pointing, Site
from .mount_status import Activity
from .outcomes import Pending

V = TypeVar("V", bound=Vector)


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

    activity: Activity
    pending: Pending

    @property
    def scope_slewing(self) -> bool: ...

    def refresh(self, *, keep_alerts: bool = True) -> None: ...

    def reconcile_soon(self) -> None: ...

    def outcome_message(self, what: str, exc: IndiSeestarError) -> str: ...


class SlewHost(MountState, Protocol):
    """What SlewControl (mount_slew.py) uses: the pointing/park vectors and a motion stop."""

    eod: NumberVector
    coord_set: SwitchVector
    target: NumberVector
    abort: SwitchVector
    park: SwitchVector
    track_state: SwitchVector
    goto_mode: SwitchVector

    def set_pointing(self, ra_hours: float, dec_deg: float, *, force: bool = False) -> None: ...

    async def stop_motion(self, client: SeestarClient, reason: str, *,
                          always: bool = False) -> None: ...


class MotionHost(MountState, Protocol):
    """What MotionControl (mount_motion.py) uses: vector registration and the pointing/site."""

    def add(self, vector: V, *, connected_only: bool = False, on_new: Any = None,
            saved: bool = False) -> V: ...

    def load_saved(self, vector: Vector) -> bool: ...

    @property
    def pointing(self) -> Pointing | None: ...

    @property
    def site(self) -> Site | None: ...
