"""`indi_seestar`: the driver process indiserver starts (no arguments; stdout is the INDI wire).

Layer: cli, the composition root: configuration -> device prefix (INDIDEV, indiserver's `-n`)
-> duplicate-start guard -> session (with the scope lock, or the built-in fake Seestar when
`seestar.host` is `simulator`) -> the four devices -> Driver.run(). No logic lives here; the
guards are in instances.py.
"""

from __future__ import annotations

import asyncio
import logging
import os
import sys
import zlib
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # the devices are imported only when the driver really runs
    from .devices.session import SeestarSession
    from .devices.session_sim import SimulatorFactory

from . import config as configuration
from .errors import ConfigError
from .instances import ScopeLocks, acquire_start_lock, start_lock_path

log = logging.getLogger("indi_seestar")

#: Closing the Seestar session once indiserver is gone; with the Driver's own shutdown bounds
#: (0.5 s devices + 0.2 s writer) the process is gone within 1 s of losing stdin.
EXIT_SESSION_CLOSE_S = 0.25
#: Set to a period in ms to log the event loop's worst timer lateness (loop_probe.py).
PROBE_ENV = "INDI_SEESTAR_LOOP_PROBE_MS"


def _wait_for_eof() -> None:
    """A duplicate start defines nothing and stays until indiserver closes our stdin."""
    while os.read(0, 65536):
        pass


def _simulator_factory(cfg: configuration.Config) -> SimulatorFactory:
    """Starts this instance's own fake (its serial number derived from the device prefix)."""
    from .devices.session_sim import SimulatorEndpoints

    def start() -> SimulatorEndpoints:
        from .sim import SimThread

        public_key = None
        if cfg.simulator.public_key_file:
            public_key = Path(cfg.simulator.public_key_file).expanduser().read_bytes()
        runner = SimThread(model=cfg.simulator.model, firmware=cfg.simulator.firmware,
                           time_factor=cfg.simulator.time_factor, public_key_pem=public_key,
                           seed=cfg.simulator.seed,
                           serial=f"{zlib.crc32(cfg.devices.prefix.encode()):08x}",
                           **({"alpaca_port": 0, "alpaca_version": cfg.simulator.alpaca_version}
                              if cfg.simulator.alpaca_version else {}))
        fake = runner.start()
        log.info("built-in fake Seestar %s firmware %s on 127.0.0.1:%d", cfg.simulator.model,
                 cfg.simulator.firmware, fake.control_port)
        return SimulatorEndpoints(fake.control_port, fake.image_port, fake.discovery_port,
                                  cfg.simulator.time_factor, runner.stop, fake.wide_image_port,
                                  fake.alpaca_port, fake.alpaca_discovery_port,
                                  files_port=fake.files_port)

    return start


def build_devices(cfg: configuration.Config,
                  config_error: ConfigError | None) -> tuple[SeestarSession, list[Any]]:
    """The session and the devices (four, the live stack, and the wide camera that shows only on
    an S30 Pro), wired together."""
    from .devices.camera import Camera
    from .devices.filter_wheel import FilterWheel
    from .devices.focuser import Focuser
    from .devices.power import Power
    from .devices.session import SeestarSession
    from .devices.stack import StackDevice
    from .devices.telescope import Mount
    from .devices.wide_camera import WideCamera

    prefix = cfg.devices.prefix
    locks = ScopeLocks.from_env(prefix)
    session = SeestarSession(cfg, simulator_factory=_simulator_factory(cfg),
                             config_error=config_error,
                             reload_config=lambda: configuration.load().for_scope(prefix),
                             config_file=str(configuration.default_path()),
                             claim_scope=locks.claim, scope_holder=locks.holder)
    mount = Mount(f"{prefix} Mount", session)
    camera = Camera(f"{prefix} Camera", session)
    focuser = Focuser(f"{prefix} Focuser", session)
    wheel = FilterWheel(f"{prefix} Filter Wheel", session)
    wide = WideCamera(f"{prefix} Wide Camera", session)
    stack = StackDevice(f"{prefix} Stack", session)  # the scope's own live stack (docs/stack.md)
    power = Power(f"{prefix} Power", session)  # AUX: dew heater, battery, storage (issue 12)
    session.register(mount=mount, camera=camera, focuser=focuser, wheel=wheel, wide=wide,
                     stack=stack, power=power)
    return session, [mount, camera, focuser, wheel, stack, wide, power]


async def _serve(cfg: configuration.Config, config_error: ConfigError | None) -> None:
    from .indi.driver import BLOB_AUTO, BLOB_TRANSPORTS, Driver

    session, devices = build_devices(cfg, config_error)
    transport = cfg.indi.blob_transport.lower()
    if transport not in BLOB_TRANSPORTS:
        log.error("indi.blob_transport %r is not one of %s; using auto", transport,
                  ", ".join(BLOB_TRANSPORTS))
        transport = BLOB_AUTO
    driver = Driver(devices, blob_transport=transport)
    probe: asyncio.Task[None] | None = None
    if PROBE_ENV in os.environ:  # benchmarks only (indi_seestar/loop_probe.py)
        from .loop_probe import period_from_env, run_probe

        period_s = period_from_env(os.environ)
        if period_s is not None:
            probe = asyncio.get_running_loop().create_task(run_probe(period_s))
    try:
        await driver.run()
    finally:
        if probe is not None:
            probe.cancel()
        try:
            await asyncio.wait_for(session.close(), timeout=EXIT_SESSION_CLOSE_S)
        except Exception:  # noqa: BLE001 - exiting anyway; indiserver is gone (TimeoutError too)
            log.warning("session did not close cleanly at exit")


def main() -> int:
    """Entry point of the `indi_seestar` executable."""
    from .indi.log import setup_logging

    setup_logging()
    config_error: ConfigError | None = None
    try:
        cfg = configuration.load()
    except ConfigError as exc:
        log.error("configuration error: %s; the devices stay up, CONNECT fails until it is "
                  "fixed", exc)
        cfg, config_error = configuration.Config(), exc
    cfg = cfg.for_scope(configuration.instance_prefix(os.environ, cfg.devices.prefix))
    logging.getLogger().setLevel(cfg.log_level.upper() if cfg.log_level else "INFO")
    prefix = cfg.devices.prefix
    lock = acquire_start_lock(start_lock_path(prefix, os.getppid()))
    if lock is None:
        log.warning("another indi_seestar already serves the %r devices for this indiserver "
                    "(pid %d); this copy stays idle (one set of devices)", prefix,
                    os.getppid())
        _wait_for_eof()
        return 0
    # Not asyncio.run(): its teardown (cancelling leftover tasks, joining the default
    # executor) has no bound, and _serve has already closed what matters within its own.
    loop = asyncio.new_event_loop()
    try:
        loop.run_until_complete(_serve(cfg, config_error))
    except KeyboardInterrupt:
        pass
    # Daemon threads (stdin reader, image reader, built-in fake) must not delay the exit.
    os._exit(0)


if __name__ == "__main__":
    sys.exit(main())
