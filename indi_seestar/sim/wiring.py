"""The use-case objects of one fake Seestar, bundled for the RPC handlers.

Layer: sim.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from .camera import Camera
from .core import SimCore
from .usecases_camera import ViewOps
from .usecases_extras import ExtrasOps
from .usecases_mount import MountOps
from .usecases_polar import PolarAlign

if TYPE_CHECKING:
    from .rpc_server import ControlServer
    from .wide import SecondView


@dataclass
class Ops:
    """Core, servers and use cases the handlers call."""

    core: SimCore
    camera: Camera
    mount: MountOps
    view: ViewOps
    extras: ExtrasOps
    control: ControlServer
    second_view: SecondView | None = None  # S30P's wide camera
    polar: PolarAlign | None = None  # EQ-mode 3-point polar alignment
