"""The built-in fake Seestar behind the host `simulator`: started on demand, stopped with the session.

Layer: devices. cli.py injects the factory (devices never import sim/); this module turns the
endpoints it returns into the SeestarConfig the session opens. Split off devices/session.py.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from ..config import SeestarConfig
from ..errors import ConfigError


@dataclass(frozen=True)
class SimulatorEndpoints:
    """Where a built-in fake Seestar listens, and how to stop it."""

    control_port: int
    image_port: int
    discovery_port: int
    time_factor: float
    stop: Callable[[], None]
    wide_image_port: int | None = None  # the S30P's wide camera (4804)
    alpaca_port: int | None = None  # ZWO's Alpaca server (32323), None without one
    alpaca_discovery_port: int | None = None  # its UDP discovery (32227)
    files_port: int = 80  # its HTTP file server


class SimulatorFactory(Protocol):
    """Starts a fake Seestar on loopback (injected by cli.py; devices never import sim/)."""

    def __call__(self) -> SimulatorEndpoints: ...


class BuiltInSimulator:
    """At most one running fake Seestar from the injected factory (None: this process has none)."""

    def __init__(self, factory: SimulatorFactory | None) -> None:
        self._factory = factory
        self._running: SimulatorEndpoints | None = None

    def config_for(self, base: SeestarConfig) -> SeestarConfig:
        """`base` pointed at the fake (started if not running); ConfigError without a factory."""
        if self._factory is None:
            raise ConfigError("no built-in simulator in this process; set seestar.host")
        if self._running is None:
            self._running = self._factory()
        sim = self._running
        return dataclasses.replace(base, host="127.0.0.1", control_port=sim.control_port,
                                   image_port=sim.image_port, discovery_port=sim.discovery_port,
                                   wide_image_port=sim.wide_image_port or base.wide_image_port,
                                   discovery_address="127.0.0.1", time_factor=sim.time_factor,
                                   alpaca=base.alpaca if sim.alpaca_port else "off",
                                   alpaca_port=sim.alpaca_port or base.alpaca_port,
                                   alpaca_discovery_port=(sim.alpaca_discovery_port
                                                          or base.alpaca_discovery_port),
                                   files_port=sim.files_port)

    def stop(self) -> None:
        """Stop the fake if one runs."""
        sim, self._running = self._running, None
        if sim is not None:
            sim.stop()
