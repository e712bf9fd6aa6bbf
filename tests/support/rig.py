"""The end-to-end rig: fake Seestar + real indiserver + the real `indi_seestar` + a libindi client.

- `Rig.start(tmp_path, **fake_kwargs)`: a FakeSeestar in a thread of the test process (so tests
  can read its true state and pull its fault knobs), a YAML configuration pointing the driver at
  it, `indiserver` on a free loopback port running `indi_seestar` from this virtualenv, with
  HOME, the lock directory and the INDI config directory inside `tmp_path`, and a connected
  RecordingClient (libindi's own parser).
- Device names: `rig.mount`, `rig.camera`, `rig.focuser`, `rig.wheel`.

Only 127.0.0.1 is used. Example:

    with Rig.start(tmp_path) as rig:
        rig.connect_all()
        rig.client.send_number(rig.focuser, "ABS_FOCUS_POSITION", {"FOCUS_ABSOLUTE_POSITION": 1600})
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from indi_seestar.sim import FakeSeestar, SimThread

from .indi_harness import IndiServer, Update, free_port, recording_client_class, until

DRIVER = "indi_seestar"
PREFIX = "Seestar"


def venv_bin() -> Path:
    """The directory holding this interpreter and the `indi_seestar` console script."""
    return Path(sys.executable).parent


def write_config(path: Path, fake: FakeSeestar, *, time_factor: float = 1.0,
                 extra: Mapping[str, Any] | None = None) -> Path:
    """A driver configuration pointing at `fake` on loopback."""
    data: dict[str, Any] = {
        "seestar": {
            "host": "127.0.0.1",
            "control_port": fake.control_port,
            "image_port": fake.image_port,
            "discovery_port": fake.discovery_port,
            "files_port": fake.files_port,
            "discovery_address": "127.0.0.1",
            "time_factor": time_factor,
            **({"wide_image_port": fake.wide_image_port} if fake.wide_image_port else {}),
            # the fake's Alpaca server when it runs one (issue 14), else a port nothing answers
            **({"alpaca_port": fake.alpaca_port,
                "alpaca_discovery_port": fake.alpaca_discovery_port}
               if getattr(fake, "alpaca_port", None) else {}),
        },
        "devices": {"prefix": PREFIX},
    }
    for section, values in (extra or {}).items():
        if isinstance(values, Mapping):
            data.setdefault(section, {}).update(values)
        else:
            data[section] = values
    path.write_text(yaml.safe_dump(data))
    return path


def driver_env(tmp_path: Path, config_path: Path) -> dict[str, str]:
    """Environment isolating the driver in `tmp_path` (HOME, ~/.indi, lock dirs)."""
    home = tmp_path / "home"
    home.mkdir(parents=True, exist_ok=True)
    return {
        "HOME": str(home),
        "INDI_SEESTAR_CONFIG": str(config_path),
        "INDI_SEESTAR_LOCK_DIR": str(tmp_path),
        # the system-wide scope locks too (instances.py), so parallel tests never meet there
        "INDI_SEESTAR_SYSTEM_LOCK_DIR": str(tmp_path / "system-locks"),
    }


@dataclass
class Rig:
    """A running fake, indiserver with the driver, and a connected libindi client."""

    tmp_path: Path
    sim: SimThread
    fake: FakeSeestar
    server: IndiServer
    client: Any
    config_path: Path
    env: dict[str, str] = field(default_factory=dict)

    mount: str = f"{PREFIX} Mount"
    camera: str = f"{PREFIX} Camera"
    focuser: str = f"{PREFIX} Focuser"
    wheel: str = f"{PREFIX} Filter Wheel"
    power: str = f"{PREFIX} Power"
    stack: str = f"{PREFIX} Stack"

    @property
    def devices(self) -> list[str]:
        """The device names (the four imaging devices and the AUX power device)."""
        return [self.mount, self.camera, self.focuser, self.wheel, self.power]

    @property
    def all_devices(self) -> list[str]:
        """Every device defined at start-up: `devices` and the live-stack device."""
        return [*self.devices, self.stack]

    @classmethod
    @contextlib.contextmanager
    def start(cls, tmp_path: Path, *, time_factor: float = 1.0, config: Mapping[str, Any] | None = None,
              verbose: bool = False, **fake_kwargs: Any) -> Iterator[Rig]:
        """Bring everything up; tear it all down on exit."""
        fake_kwargs.setdefault("parked", False)
        sim = SimThread(time_factor=time_factor, **fake_kwargs)
        fake = sim.start()
        try:
            config_path = write_config(tmp_path / "config.yaml", fake, time_factor=time_factor,
                                       extra=config)
            env = driver_env(tmp_path, config_path)
            with serve_driver(tmp_path, env, verbose=verbose) as (server, client):
                rig = cls(tmp_path, sim, fake, server, client, config_path, env)
                rig.wait_defined(timeout_s=15)
                yield rig
        finally:
            sim.stop()

    def wait_defined(self, timeout_s: float = 15) -> None:
        """Until the client has DRIVER_INFO of every device."""
        until(lambda: all(self.client.updates(device=d, name="DRIVER_INFO") for d in self.devices),
              timeout_s, what="the devices' DRIVER_INFO")

    def connect_all(self, timeout_s: float = 30) -> None:
        """CONNECT every device and wait for CONNECTION Ok on each."""
        for device in self.devices:
            self.client.connect_device(device, timeout_s=timeout_s)

    def fake_call(self, fn: Any, *args: Any) -> Any:
        """Run fn(*args) on the fake's loop thread and return its result."""
        return self.sim.call(fn, *args)

    def driver_pids(self) -> list[int]:
        """PIDs of the driver processes indiserver runs."""
        return [p.pid for p in self.server.driver_processes()]

    def stderr_text(self) -> str:
        """indiserver's stderr (the driver's log lines come through it)."""
        return b"\n".join(self.server.stderr_lines()).decode(errors="replace")

    def messages(self, device: str | None = None, since: int = 0) -> list[str]:
        """Texts of the INDI messages the client received (from <message> and set*/def*)."""
        return [u.message for u in self.client.updates(device=device, event="message", since=since)]

    def latest(self, device: str, name: str, timeout_s: float = 10) -> Any:
        """The client's last update of `device`'s `name`, waiting for a first one (right after
        connecting, a definition may still be on its way)."""
        return until(lambda: self.client.updates(device, name), timeout_s,
                     what=f"{device}.{name}")[-1]

    def wait_state(self, device: str, name: str, state: str, *, since: int,
                   timeout_s: float = 20) -> Update:
        """The first set* of `device.name` with `state` from `since` on, waiting for it."""
        return self.client.wait(lambda u: (u.device == device and u.name == name and u.event == "set"
                                           and u.state == state), timeout_s=timeout_s, since=since)

    def outcome(self, device: str, name: str, *, since: int, timeout_s: float = 20) -> Update:
        """The answer to a command sent after `since`: the first Ok or Alert set* of `device.name`
        after its first Busy (a poll's update published before the driver read the command may
        come before the Busy)."""
        def found() -> Update | None:
            sets = self.client.updates(device, name, event="set", since=since)
            busy = next((i for i, u in enumerate(sets) if u.state == "Busy"), None)
            return None if busy is None else next(
                (u for u in sets[busy + 1:] if u.state in ("Ok", "Alert")), None)
        return until(found, timeout_s, what=f"{device}.{name} Busy, then Ok or Alert")

    def states(self, device: str, name: str, since: int) -> list[str]:
        """States of the set* of `device.name` from `since` on, in order."""
        return [u.state for u in self.client.updates(device, name, event="set", since=since)]

    def restart_driver(self, timeout_s: float = 20) -> int:
        """Stop the driver through indiserver's FIFO (SIGKILL), start it again, wait for the devices.

        Returns the client mark where the new driver's messages begin: its other definitions may
        still be on the way (DRIVER_INFO comes first), and the old driver's remain recorded.
        """
        since = self.client.mark()
        self.server.stop_driver(DRIVER)
        until(lambda: all(self.client.updates(device=d, event="del", since=since) for d in self.devices),
              timeout_s, what="the devices to be deleted")
        since = self.client.mark()
        self.server.start_driver(DRIVER)
        until(lambda: all(self.client.updates(device=d, name="DRIVER_INFO", since=since)
                          for d in self.devices), timeout_s, what="the devices to come back")
        return since


@contextlib.contextmanager
def serve_driver(tmp_path: Path, env: Mapping[str, str], *,
                 verbose: bool = False) -> Iterator[tuple[IndiServer, Any]]:
    """indiserver on a free loopback port running `indi_seestar` with `env`, and a RecordingClient."""
    server = IndiServer(free_port(), workdir=tmp_path / "indiserver", path_dirs=[venv_bin()],
                        env=env, verbose=verbose)
    try:
        server.start([DRIVER])
        client = recording_client_class().connected(server.port)
        try:
            yield server, client
        finally:
            # Close while indiserver is up: close() waits for libindi's thread to end, so the
            # client is never freed under a callback (see tests/support/client_lifetime.py).
            client.close()
    finally:
        with contextlib.suppress(Exception):
            server.stop()


def env_with(base: Mapping[str, str], **changes: str) -> dict[str, str]:
    """os.environ plus `base` plus `changes`."""
    return {**os.environ, **base, **changes}
